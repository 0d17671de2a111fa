"""Evaluation: hit@1, hit@5 and MRR@10 of the search, per way of asking and per signal.

A question file has one `{"id", "lang", "query", "evidence": [...]}` per line, and optionally
`"style"` (the way of asking: traditional, keywords, draft, casual_en, figures, unanswerable,
offtopic, …). Gold is given as short verbatim evidence strings, not chunk ids, so it survives
re-chunking: a hit counts when its text contains one of them (compared on letters and digits
only, so punctuation and spacing differences between near-duplicate copies do not matter).
Questions with no evidence have no answer in the documents: the right outcome for them is a
`none` confidence (general off-topic questions) or at least not a `high` one (in-domain
questions the documents do not answer).

Tuning discipline: every question belongs to one half, fixed by its id (`half_of`); weights are
tuned on the `tune` half and figures are reported on the `report` half.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .neardup import normalise
from .query import EmptyQuestion
from .search import SIGNALS, Hit, Retriever, SearchResult

DEPTH = 10
HALVES = ("tune", "report")


def half_of(question_id: str) -> str:
    """The half a question belongs to, fixed by its id alone (SHA-256 parity)."""
    return HALVES[hashlib.sha256(question_id.encode("utf-8")).digest()[0] & 1]


@dataclass(frozen=True)
class Question:
    """A question with its gold: evidence strings, or (for public benchmarks) relevant documents."""

    id: str
    lang: str
    query: str
    evidence: tuple[str, ...] = ()
    relevant_docs: tuple[str, ...] = ()
    style: str = ""

    @property
    def answerable(self) -> bool:
        return bool(self.evidence or self.relevant_docs)

    def is_relevant(self, hit: Hit) -> bool:
        if self.relevant_docs:
            return hit.doc in self.relevant_docs or any(a["doc"] in self.relevant_docs for a in hit.also_in)
        compact = normalise(hit.text)
        return any(needle and needle in compact for needle in (normalise(e) for e in self.evidence))


def character_error_rate(reference: str, read: str) -> float:
    """OCR's measure: the edit distance between the characters of `read` and of `reference`
    (whitespace removed) over the reference's length."""
    reference, read = "".join(reference.split()), "".join(read.split())
    previous = list(range(len(read) + 1))
    for i, char in enumerate(reference, 1):
        current = [i]
        for j, other in enumerate(read, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other)))
        previous = current
    return previous[-1] / max(len(reference), 1)


def read_questions(path: Path, half: str = "all") -> list[Question]:
    """The questions of a JSONL file; with `half` "tune" or "report", only that half."""
    questions = []
    for line in path.read_text("utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            if half in HALVES and half_of(row["id"]) != half:
                continue
            questions.append(Question(row["id"], row.get("lang", "?"), row["query"],
                                      tuple(row.get("evidence", ())), style=row.get("style", "")))
    return questions


def first_relevant_rank(hits: Iterable[Hit], question: Question) -> int | None:
    """1-based rank of the first relevant hit, or None."""
    for rank, hit in enumerate(hits, 1):
        if question.is_relevant(hit):
            return rank
    return None


@dataclass
class Tally:
    """Running metrics of one (signal, group) cell; `none` and `weak` count confidence levels."""

    questions: int = 0
    hit1: int = 0
    hit5: int = 0
    reciprocal: float = 0.0
    none: int = 0
    weak: int = 0

    def add(self, rank: int | None, confidence: str) -> None:
        self.questions += 1
        self.none += confidence == "none"
        self.weak += confidence == "weak"
        if rank is not None and confidence != "none":
            self.hit1 += rank == 1
            self.hit5 += rank <= 5
            self.reciprocal += 1.0 / rank

    def row(self) -> dict:
        n = max(self.questions, 1)
        return {"n": self.questions, "hit@1": self.hit1 / n, "hit@5": self.hit5 / n,
                "mrr@10": self.reciprocal / n, "none": self.none / n, "weak": self.weak / n}


def _groups(question: Question) -> list[str]:
    """The table rows a question counts in: its style (or language), and all answerable ones."""
    own = question.style or question.lang
    if not question.answerable:
        return [own if question.style else "off-topic"]
    return [own, "all"]


def evaluate(searcher: Retriever, questions: list[Question], signals: Iterable[str] = SIGNALS) -> dict:
    """{signal: {style or language, "all", "off-topic": metrics}} and the misses of the hybrid search."""
    table: dict[str, dict[str, Tally]] = {}
    misses = []
    for signal in signals:
        cells = table.setdefault(signal, {})
        for question in questions:
            try:
                result = searcher.search(question.query, DEPTH, signals=signal)
            except EmptyQuestion:  # a question of punctuation only: nothing to find
                result = SearchResult(question.query, question.query)
            rank = first_relevant_rank(result.hits, question) if question.answerable else None
            for key in _groups(question):
                cells.setdefault(key, Tally()).add(rank, result.confidence)
            wrong = (rank is None or rank > 5 or result.confidence == "none") if question.answerable \
                else result.confidence == "high"
            if signal == "hybrid" and wrong:
                misses.append({"id": question.id, "style": question.style or question.lang,
                               "query": question.query, "rank": rank, "confidence": result.confidence,
                               "expanded_query": result.expanded_query,
                               "top": result.hits[0].text[:60] if result.hits else ""})
    return {"metrics": {s: {k: t.row() for k, t in cells.items()} for s, cells in table.items()},
            "misses": misses}


def format_table(report: dict) -> str:
    lines = [f"{'signal':<8} {'questions':<13} {'n':>4} {'hit@1':>7} {'hit@5':>7} {'MRR@10':>7} "
             f"{'none':>6} {'weak':>6}"]
    for signal, cells in report["metrics"].items():
        for key in sorted(cells, key=lambda k: (k == "all", not cells[k]["hit@5"] and k != "all", k)):
            row = cells[key]
            lines.append(f"{signal:<8} {key:<13} {row['n']:>4} {row['hit@1']:>7.3f} {row['hit@5']:>7.3f} "
                         f"{row['mrr@10']:>7.3f} {row['none']:>6.2f} {row['weak']:>6.2f}")
    return "\n".join(lines)
