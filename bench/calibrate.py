"""Fit the confidence model (app/confidence.py) on the tune half, and show it on both halves.

    python bench/calibrate.py [--write] [--index DIR]

Every tune-half question (bench/eval/styles and the later held-out sets bench/eval/fresh,
fresh2, fresh3 and fresh4, plus the older bench/eval sets and the questions written for
fitting only, bench/eval/train) is one example:
the evidence of its result (app/confidence.py `question_evidence`). `about` is fitted to tell
in-domain questions (answerable, or about hospital work the documents do not answer) from
general ones (with a sample of the public sets' tune halves, each against its own corpus:
being about the documents is not being about hospitals); `answers`, on in-domain questions, to
tell those whose top five hold the answer.
The thresholds encode the goals on the tune half, each with a margin: the general-text rule
may hide 0.5 % of answerable questions; `about_at` gives `none` to 95 %
of general questions unless that would leave more than 1 % of answerable ones with nothing;
`high_at` keeps 92 % of unanswerable in-domain questions from reading as answers. `--write`
stores the model in app/data/confidence.json. The report half is printed and never used for
fitting.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


from app.confidence import FEATURES, MODEL_FILE, ConfidenceModel, Logistic, question_evidence  # noqa: E402
from app.config import Settings  # noqa: E402
from app.evaluate import first_relevant_rank, half_of, read_questions  # noqa: E402
from app.search import CONFIDENCE_DEPTH, Searcher  # noqa: E402

STYLES = ROOT / "bench" / "eval" / "styles"
# The held-out sets written later: their tune halves are fitted on too, their report halves never.
FRESH = [ROOT / "bench" / "eval" / name for name in ("fresh", "fresh2", "fresh3", "fresh4")]
OLDER = [ROOT / "bench" / "eval" / name for name in ("seeds_questions.jsonl", "offtopic_questions.jsonl")]
TRAINING = sorted((ROOT / "bench" / "eval" / "train").glob("*.jsonl"))  # for fitting only, never reported
PUBLIC_SAMPLE = 60  # tune-half questions of each public set: questions about other documents are "about" theirs
_FLAT = Logistic(mean=(0.0,) * len(FEATURES), scale=(1.0,) * len(FEATURES), weights=(0.0,) * len(FEATURES), bias=0.0)
NEUTRAL = ConfidenceModel(_FLAT, _FLAT, about_at=0.0, high_at=0.0)  # shows everything: the evidence is what counts
OFFTOPIC_NONE = 0.95  # the goal (90 %) with a margin: no need to hide more than this takes
ANSWERABLE_NONE = 0.01  # at most this share of answerable tune questions may get nothing
# The goal (80 %) with a margin: on the fresh sets' tune halves, never fitted on, 0.88 read 75 % and 0.92 read 81 %.
UNANSWERABLE_NOT_HIGH = 0.92
GENERAL_SHARE = 0.005  # the general-text rule may hide this share of answerable tune questions (half the budget)


def collect(searcher: Searcher, questions) -> list[dict]:
    """Per question: its style, whether answerable, its result's evidence, and its top-5 rank."""
    rows = []
    for q in questions:
        result = searcher.search(q.query, 10)
        rank = first_relevant_rank(result.hits, q) if q.answerable else None
        rows.append({"style": q.style or ("offtopic" if not q.answerable else q.lang),
                     "answerable": q.answerable, "in_domain": q.answerable or q.style == "unanswerable",
                     "answered": bool(rank and rank <= 5),
                     "passages": list(result.evidence[:CONFIDENCE_DEPTH]),
                     "whole": question_evidence(list(result.evidence[:CONFIDENCE_DEPTH]))})
    return [r for r in rows if r["passages"]]


def public_tune_rows(settings: Settings) -> list[dict]:
    """A fixed sample of the public sets' tune halves, each against its own corpus (bench/public_bench.py)."""
    import public_bench

    rows = []
    for name in public_bench.SETS[:3]:
        folder = public_bench.CACHE / name
        if not (folder / "index" / "CURRENT").exists():
            print(f"({name} not built: run bench/public_bench.py once; fitting without it)")
            continue
        searcher = Searcher(replace(settings, seeds=public_bench.corpus_folder(name), index=folder / "index"),
                            confidence=NEUTRAL)
        chosen = [q for q in public_bench.questions(name, None) if half_of(q.id) == "tune"][:PUBLIC_SAMPLE]
        rows += collect(searcher, chosen)
    return rows


def general_threshold(rows: list[dict]) -> float:
    """The general-text margin above which at most 0.5 % of answerable tune questions lie: the
    rule spends half of the 1 % budget of answerable questions that may get nothing."""
    margins = sorted((r["whole"].background for r in rows if r["answerable"]), reverse=True)
    return round(margins[int(GENERAL_SHARE * len(margins))] + 1e-4, 4)


def choose_thresholds(about: Logistic, answers: Logistic, rows: list[dict],
                      everything: list[dict], general_at: float) -> tuple[float, float]:
    """`high_at`: the lowest that keeps UNANSWERABLE_NOT_HIGH of in-domain questions the documents
    do not answer from reading as answers (those asking for a figure their passage does not state
    never do); `about_at`: the lowest that gives `none` (with the general-text rule) to 95 % of
    the tune half's general off-topic questions, but never so high that more than 1 % of
    answerable ones get nothing. A result whose best passage reads as an answer, or whose passages
    hold most of the question's words, is shown whatever `about` says (ConfidenceModel.shown_anyway),
    so only the others count for `about_at`."""
    unanswerable = [r for r in rows if r["style"] == "unanswerable"]
    stated = sorted(answers.probability(r["whole"]) for r in unanswerable if not r["whole"].unstated)
    never_high = len(unanswerable) - len(stated)
    needed = math.ceil(UNANSWERABLE_NOT_HIGH * len(unanswerable)) - never_high
    high_at = stated[min(len(stated) - 1, needed - 1)] + 1e-6 if needed > 0 and stated else 0.5
    # Its relevance applies the rules; with about_at 0, only the general-text rule gives none.
    provisional = ConfidenceModel(about, answers, about_at=0.0, high_at=high_at, general_at=general_at)
    hidable = [r for r in rows if not provisional.shown_anyway(r["whole"])]
    general = sorted(about.probability(r["whole"]) for r in hidable if not r["in_domain"])
    ruled_out = [r for r in everything if provisional.level([r["whole"]]) == "none"]
    already = sum(not r["in_domain"] for r in ruled_out)
    offtopic = already + sum(not r["in_domain"] for r in rows)
    needed = math.ceil(OFFTOPIC_NONE * offtopic) - already
    enough = general[min(len(general) - 1, max(needed, 1) - 1)] + 1e-6 if needed > 0 and general else 0.0
    answerable = sorted(about.probability(r["whole"]) for r in hidable if r["answerable"])
    total = sum(r["answerable"] for r in everything)
    allowed = int(ANSWERABLE_NONE * total) - sum(r["answerable"] for r in ruled_out)
    cap = answerable[max(allowed, 0)] - 1e-6 if len(answerable) > max(allowed, 0) else 1.0
    about_at = min(enough, cap)
    return float(about_at), float(high_at)


def table(model: ConfidenceModel, rows: list[dict], title: str) -> None:
    print(f"## {title}")
    print(f"{'style':<14} {'n':>4} {'none':>6} {'weak':>6} {'high':>6}")
    for style in sorted({r["style"] for r in rows}):
        group = [r for r in rows if r["style"] == style]
        levels = [model.level(r["passages"]) for r in group]
        shares = " ".join(f"{levels.count(x) / len(group):>6.2f}" for x in ("none", "weak", "high"))
        print(f"{style:<14} {len(group):>4} {shares}")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"store the model in {MODEL_FILE.relative_to(ROOT)}")
    parser.add_argument("--index")
    args = parser.parse_args()
    settings = Settings(**({"index": Path(args.index)} if args.index else {}))
    searcher = Searcher(settings, confidence=NEUTRAL)
    set_files = sorted(f for folder in [STYLES, *FRESH] for f in folder.glob("*.jsonl"))
    tune = [q for f in set_files for q in read_questions(f, "tune")] + [q for f in OLDER + TRAINING for q in read_questions(f)]
    report = [q for f in set_files for q in read_questions(f, "report")]
    tune_rows, report_rows = collect(searcher, tune), collect(searcher, report)
    general_at = general_threshold(tune_rows)
    for row in tune_rows:
        row["general"] = row["whole"].background > general_at
    public_rows = [r for r in public_tune_rows(settings) if r["whole"].background <= general_at]
    shown = [r for r in tune_rows if not r["general"]]  # what reaches the models
    about = Logistic.fit([r["whole"] for r in shown + public_rows],
                         [r["in_domain"] for r in shown] + [True] * len(public_rows))
    in_domain = [r for r in shown if r["in_domain"]]
    answers = Logistic.fit([r["whole"] for r in in_domain], [r["answered"] for r in in_domain])
    about_at, high_at = choose_thresholds(about, answers, shown, tune_rows, general_at)
    model = ConfidenceModel(about, answers, round(about_at, 4), round(high_at, 4), general_at)
    for name, part in (("about", about), ("answers", answers)):
        print(f"{name}:", {f: round(w, 3) for f, w in zip(FEATURES, part.weights)}, "bias", round(part.bias, 3))
    print(f"general_at {general_at}, about_at {model.about_at}, high_at {model.high_at}; fitted on {len(shown)} questions of "
          f"{len(tune_rows)} (the rest got none from the general-text rule) and {len(public_rows)} public ones\n")
    table(model, tune_rows, "tune half (fitted on)")
    table(model, report_rows, "report half (never fitted on)")
    if args.write:
        MODEL_FILE.write_text(json.dumps(model.to_json(), indent=1) + "\n", "utf-8")
        print(f"written {MODEL_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
