"""Issue 16's goals on the held-out sets, pooled: one row per way of asking, one per set.

    python bench/heldout.py [--half report|tune|all] [--sets styles fresh ...] [--json]

The held-out sets are the folders of bench/eval that were written for measuring, never for
fitting: `styles`, `named` and every `fresh*` (the `train*` folders are fitting-only, and the
older single files are bench/eval's own table). By default only their report halves are read,
the half no weight, threshold or table entry was chosen on (app/evaluate.py `half_of`).

The first table pools every set's questions per way of asking and marks each row against the
issue's goal: hit@5 ≥ 0.95 in every style, MRR@10 ≥ 0.85 and at most 2 % `none` over all
answerable questions, at least 80 % of in-domain unanswerable questions `weak` or `none`, at
least 90 % of off-topic questions `none`. Counts are printed beside the rates, since a set's
half holds 5–60 questions of a style and one question moves a small row by several points.
The second table gives casual English per set: new sets written blind read lower than the ones
that have been looked at, and that spread is the honest error bar of the pooled figure.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.config import Settings  # noqa: E402
from app.evaluate import DEPTH, Question, Tally, first_relevant_rank, read_questions  # noqa: E402
from app.search import Searcher  # noqa: E402

EVAL = ROOT / "bench" / "eval"
STYLE_GOAL = 0.95
MRR_GOAL, NONE_GOAL, UNANSWERABLE_GOAL, OFFTOPIC_GOAL = 0.85, 0.02, 0.80, 0.90


def held_out_sets() -> list[str]:
    """The measuring folders, in the order they were written."""
    fresh = sorted((p.name for p in EVAL.glob("fresh*") if p.is_dir()),
                   key=lambda name: int(name[5:] or 1))
    return ["styles", *fresh, "named"]


class Row(Tally):
    """The evaluation's counts (app/evaluate.py `Tally`) of one way of asking, or of one set's
    casual English, read as counts against the goals."""

    @property
    def n(self) -> int:
        return self.questions

    @property
    def high(self) -> int:
        return self.questions - self.none - self.weak

    def share(self, count: int) -> float:
        return count / self.n if self.n else 0.0


def measure(searcher: Searcher, questions: list[tuple[str, Question]]) -> tuple[dict[str, Row], dict[str, Row]]:
    """Per style (with "answerable" over all answerable styles) and per set (casual English)."""
    styles: dict[str, Row] = defaultdict(Row)
    casual: dict[str, Row] = defaultdict(Row)
    for folder, question in questions:
        result = searcher.search(question.query, DEPTH)
        rank = first_relevant_rank(result.hits, question) if question.answerable else None
        styles[question.style].add(rank, result.confidence)
        if question.answerable:
            styles["answerable"].add(rank, result.confidence)
        if question.style == "casual_en":
            casual[folder].add(rank, result.confidence)
    return styles, casual


def verdict(style: str, row: Row) -> tuple[str, bool]:
    """The row's headline figure against its goal, and whether it meets it."""
    if style == "offtopic":
        return f"none {row.none}/{row.n} = {row.share(row.none):.3f} (≥ {OFFTOPIC_GOAL})", \
            row.share(row.none) >= OFFTOPIC_GOAL
    if style == "unanswerable":
        shown = row.n - row.high
        return f"weak/none {shown}/{row.n} = {row.share(shown):.3f} (≥ {UNANSWERABLE_GOAL})", \
            row.share(shown) >= UNANSWERABLE_GOAL
    text = f"hit@5 {row.hit5}/{row.n} = {row.share(row.hit5):.3f}"
    if style == "answerable":
        mrr, none = row.reciprocal / row.n, row.share(row.none)
        return f"{text}, MRR@10 {mrr:.3f} (≥ {MRR_GOAL}), none {row.none} = {none:.3f} (≤ {NONE_GOAL})", \
            mrr >= MRR_GOAL and none <= NONE_GOAL
    return f"{text} (≥ {STYLE_GOAL})", row.share(row.hit5) >= STYLE_GOAL


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=["report", "tune", "all"], default="report")
    parser.add_argument("--sets", nargs="+", help="folders of bench/eval (default: every held-out one)")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the counts")
    args = parser.parse_args(argv)
    sets = args.sets or held_out_sets()
    missing = [name for name in sets if not (EVAL / name).is_dir()]
    if missing:
        print(f"no such set in bench/eval: {', '.join(missing)}", file=sys.stderr)
        return 2
    questions = [(name, q) for name in sets for path in sorted((EVAL / name).glob("*.jsonl"))
                 for q in read_questions(path, args.half)]
    styles, casual = measure(Searcher(Settings()).warm(), questions)

    print(f"held-out sets ({args.half} half): {' '.join(sets)}; {len(questions)} questions")
    print(f"{'way of asking':<14} {'n':>4} {'MRR@10':>7} {'weak':>6}  goal")
    order = sorted(styles, key=lambda s: (s in ("answerable", "unanswerable", "offtopic"), s == "offtopic", s))
    for style in order:
        row = styles[style]
        figure, met = verdict(style, row)
        mrr = f"{row.reciprocal / row.n:7.3f}" if style not in ("unanswerable", "offtopic") else f"{'':>7}"
        print(f"{style:<14} {row.n:>4} {mrr} {row.share(row.weak):6.2f}  {'met ' if met else 'MISS'} {figure}")
    print()
    print(f"{'casual English':<14} {'n':>4} {'hit@5':>7} {'MRR@10':>7} {'none':>5}")
    for name in sets:
        if name in casual:
            row = casual[name]
            print(f"{name:<14} {row.n:>4} {row.share(row.hit5):7.3f} {row.reciprocal / row.n:7.3f} {row.none:>5}")
    if args.json:
        print(json.dumps({"half": args.half, "sets": sets,
                          "styles": {s: vars(r) for s, r in styles.items()},
                          "casual_en": {s: vars(r) for s, r in casual.items()}}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
