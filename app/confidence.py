"""Confidence: how likely the passages answer the question, on one scale for every question.

A fused score ranks the passages of one question, but says nothing across questions: the
first hit of "日间手术开展了哪些" (day surgery, which the documents never mention) scores as high
as the first hit of a real question. What does carry across questions is evidence a reader
would weigh too: how close the passage is to the question in meaning (dense score), how much of
the question's rarer words it contains (IDF-weighted coverage), whether the corpus knows the
question's words at all, and whether the question is closer to general text than to the corpus.

Two logistic models read the evidence, because two different questions are asked of it:
- `about`: is the question about what these documents cover at all? Below `about_at` nothing
  is shown (`none`): weather, sport and shopping questions. So too, by a plain rule, when
  general text (weather, sport, cooking, … in app/data/background.txt) is more than
  `general_at` closer to the question than any passage. A passage that reads as an answer
  (below) is shown all the same: a casual English question sounds like general chat ("lab got
  new machine for sugar blood test?" sits closer to general text than to the corpus), and its
  passage is the better witness.
- `answers`: does this passage answer it? This probability is the relevance shown with each
  passage; when the best passage reaches `high_at` the result is an answer (`high`), otherwise
  the passages are shown under a notice that no direct answer was found (`weak`).

Both are fitted on the tune half of the evaluation sets by `bench/calibrate.py` and kept in
`app/data/confidence.json`.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from .config import DATA

MODEL_FILE = DATA / "confidence.json"
# A result whose passages hold this much of the question's content words (IDF-weighted) is about
# the documents whatever the models say: no off-topic question of the fitting data comes near
# (none of 181 above 0.7), while a casual question e5 finds close to general chat can.
COVERED = 0.75
# The share of its probability a passage that cannot answer (a figure it does not state, a thing
# the documents never mention) shows as its relevance.
UNSTATED_SHARE = 0.5


@dataclass(frozen=True)
class Evidence:
    """What speaks for one passage answering one question; every field is comparable across questions."""

    dense: float  # the passage's dense score (its own and its best sentence's cosine)
    sentence: float  # its best sentence's (corrected) cosine alone: a reworded sentence sits close to its source
    coverage: float  # IDF-weighted share of the question's words (or translations) in the passage
    missing: float  # the IDF of the most specific question word the passage lacks, over an unknown word's
    agreement: float  # how high both signals rank it on their own: the mean of 1/rank by dense and by BM25
    known: float  # IDF-weighted share of the question's words the corpus knows at all
    background: float  # how much closer the question is to general text than to the corpus
    translated: float  # share of the question that reaches the corpus only through the dictionary
    # Not weighed by the models but a rule: 1 when the question asks for a figure and the passage's
    # sentence closest to it states none; such a passage is no answer (ConfidenceModel.relevance).
    unstated: float = 0.0

    def vector(self) -> list[float]:
        return [getattr(self, name) for name in FEATURES]


FEATURES = tuple(name for name in Evidence.__dataclass_fields__ if name != "unstated")  # what the models weigh


def question_evidence(passages: list[Evidence]) -> Evidence | None:
    """The evidence of a result as a whole: its best passage's, with the best coverage, sentence,
    agreement and fewest missing words of any (whether it states a figure asked for is the best
    passage's own)."""
    if not passages:
        return None
    return replace(passages[0], coverage=max(p.coverage for p in passages),
                   sentence=max(p.sentence for p in passages), missing=min(p.missing for p in passages),
                   agreement=max(p.agreement for p in passages))


@dataclass(frozen=True)
class Logistic:
    """A logistic model over standardised `Evidence`."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float

    def probability(self, evidence: Evidence) -> float:
        z = (np.asarray(evidence.vector()) - np.asarray(self.mean)) / np.asarray(self.scale)
        return float(1.0 / (1.0 + math.exp(-(float(z @ np.asarray(self.weights)) + self.bias))))

    @classmethod
    def fit(cls, rows: list[Evidence], labels: list[bool], l2: float = 1.0, steps: int = 50) -> "Logistic":
        """L2-regularised logistic regression by Newton's method, classes weighted equally."""
        x = np.asarray([r.vector() for r in rows], np.float64)
        y = np.asarray(labels, np.float64)
        mean, scale = x.mean(axis=0), x.std(axis=0)
        scale[scale < 1e-9] = 1.0
        z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
        positives = max(y.sum(), 1.0)
        negatives = max(len(y) - y.sum(), 1.0)
        sample = np.where(y > 0, len(y) / (2 * positives), len(y) / (2 * negatives))
        beta = np.zeros(z.shape[1])
        penalty = np.eye(z.shape[1]) * l2
        penalty[-1, -1] = 0.0  # the bias is not shrunk
        for _ in range(steps):
            p = 1.0 / (1.0 + np.exp(-(z @ beta)))
            gradient = z.T @ (sample * (p - y)) + penalty @ beta
            hessian = (z * (sample * p * (1 - p))[:, None]).T @ z + penalty
            step = np.linalg.solve(hessian, gradient)
            beta -= step
            if np.abs(step).max() < 1e-8:
                break
        return cls(tuple(mean.tolist()), tuple(scale.tolist()), tuple(beta[:-1].tolist()), float(beta[-1]))


@dataclass(frozen=True)
class ConfidenceModel:
    """Whether a question is about the corpus, whether a passage answers it, and the thresholds."""

    about: Logistic
    answers: Logistic
    about_at: float  # below this, the question is about something else: nothing is shown
    high_at: float  # from this on, the best passage is presented as an answer
    general_at: float = float("inf")  # general text this much closer than any passage: nothing is shown

    def relevance(self, evidence: Evidence) -> float:
        """The probability that this passage answers the question; below `high_at` when the question
        asks for a figure the passage does not state (how long the outpatient wait is, where the
        documents only say the wait was cut: 8 of the 15 tune-half unanswerable questions that read
        as answered, for 3 of 150 answered ones shown as weak), or names a thing the documents never
        mention. Such a passage shows half its probability: just under `high_at` (65 %) read as
        nearly an answer for a passage that cannot be one."""
        probability = self.answers.probability(evidence)
        return min(probability * UNSTATED_SHARE, self.high_at * 0.999) if evidence.unstated else probability

    def level(self, passages: list[Evidence]) -> str:
        """`none`, `weak` or `high` for a result whose best passages have this evidence."""
        whole = question_evidence(passages)
        if whole is None:
            return "none"
        answer = self.relevance(whole) >= self.high_at
        # Signs of another subject: general text is closer, or `about` is low. One yields to an
        # answer-looking passage, both only to passages that hold most of the question's words.
        signs = (whole.background > self.general_at) + (self.about.probability(whole) < self.about_at)
        if signs and whole.coverage < COVERED and (signs == 2 or not answer):
            return "none"
        return "high" if answer else "weak"

    def shown_anyway(self, whole: Evidence) -> bool:
        """Whether a result is shown when one sign says the question is about something else
        (general text is closer, or `about` is low), as `level` decides: its best passage reads as
        an answer, or its passages hold most of the question's words. When both signs say so, only
        the second counts: "What's the weather tomorrow?" read as answered by the slogan passage (relevance
        0.67, `about` 0.02)."""
        return self.relevance(whole) >= self.high_at or whole.coverage >= COVERED

    def to_json(self) -> dict:
        return {"features": list(FEATURES), "about": asdict(self.about), "answers": asdict(self.answers),
                "about_at": self.about_at, "high_at": self.high_at, "general_at": self.general_at}

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> "ConfidenceModel":
        payload = json.loads(path.read_text("utf-8"))
        if payload.get("features") != list(FEATURES):
            raise ValueError(f"{path} was fitted for other features: run bench/calibrate.py --write")
        logistic = lambda part: Logistic(**{k: tuple(v) if isinstance(v, list) else v for k, v in part.items()})  # noqa: E731
        return cls(logistic(payload["about"]), logistic(payload["answers"]), payload["about_at"], payload["high_at"],
                   payload["general_at"])
