"""Tune the fusion weights on the evaluation questions (grid search, reported, not automatic).

    python bench/tune_fusion.py [--queries FILE ...] [--half tune]

By default it reads the tune half of bench/eval/styles, all of bench/eval/seeds_questions.jsonl and
the answerable questions written for tuning only (bench/eval/train); the report half is for
reporting, never for choosing weights.

Dense and BM25 scores are computed once per question (window scores once per bias weight);
every weight combination is then a cheap re-fusion. Prints the best combinations by overall MRR@10 with per-language hit@5, so
the values written into `FusionWeights` (app/config.py) can be chosen and justified.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import lexical  # noqa: E402
from app.config import Settings  # noqa: E402
from app.evaluate import read_questions  # noqa: E402
from app.search import Searcher, fuse  # noqa: E402

BIASES = (0.0, 0.5, 1.0)
COVERAGES = (0.0, 0.2)  # Searcher.coverage_bonus: without it, and as the product has it


def ranks_for(searcher, cached, lexical_zh, lexical_en, translation_weight, dense_width, window_share, window_bias,
              coverage=0.0):
    generation = searcher.generation
    searcher.fusion = replace(searcher.fusion, lexical_zh=lexical_zh, lexical_en=lexical_en)
    out = []
    for question, plan, cosines, windows, own, translated, covered, relevant in cached:
        dense = (1 - window_share) * cosines + window_share * windows[window_bias]
        fused = fuse(dense, own + translation_weight * translated, searcher.lexical_weight(plan), dense_width)
        if plan.expansions:  # as Searcher.coverage_bonus (which reads only the passages within its reach)
            fused = fused + coverage * (1 - plan.own_share) * covered
        rank = None
        seen = set()
        position = 0
        for row in np.argsort(-fused, kind="stable"):
            group = generation.duplicate_of[row]
            if group in seen:
                continue
            seen.add(group)
            position += 1
            if relevant[row]:
                rank = position
                break
            if position == 10:
                break
        out.append((question.style or question.lang, rank))
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", nargs="+")
    parser.add_argument("--half", choices=["all", "tune", "report"], default="tune")
    args = parser.parse_args()
    if args.queries:
        questions = [q for path in args.queries for q in read_questions(Path(path), args.half)]
    else:
        questions = [q for path in sorted((ROOT / "bench" / "eval" / "styles").glob("*.jsonl"))
                     for q in read_questions(path, args.half) if q.answerable]
        questions += read_questions(ROOT / "bench" / "eval" / "seeds_questions.jsonl")
        questions += [q for path in sorted((ROOT / "bench" / "eval" / "train").glob("*.jsonl"))
                      for q in read_questions(path) if q.answerable]
    searcher = Searcher(Settings())
    generation = searcher.generation
    unit = replace(searcher.fusion, translation_weight=1.0, window_share=1.0)
    cached = []
    for question in questions:
        searcher.fusion = unit
        plan = searcher.plan(question.query, generation)
        query, _ = searcher.query_vectors(plan)
        windows = {}
        for bias in BIASES:
            searcher.fusion = replace(unit, window_bias=bias)
            windows[bias], cosines, _ = searcher.dense_scores(generation, query, plan.cjk_share)
        own_terms = dict.fromkeys(lexical.terms(plan.text), 1.0)
        translated_terms = {t: w for t, w in plan.terms.items() if t not in own_terms}
        own = generation.lexical.scores(own_terms)
        translated = generation.lexical.scores(translated_terms)
        relevant = np.array([question.is_relevant(c) for c in generation.chunks])
        matched = (own + translated) > 0
        covered = np.array([plan.best_sentence_share(searcher._folded(generation, row)) if matched[row] else 0.0
                            for row in range(len(generation.chunks))], np.float32)
        cached.append((question, plan, cosines, windows, own, translated, covered, relevant))
    rows = []
    grid = np.round(np.arange(0.2, 0.81, 0.1), 2)
    for lexical_zh, lexical_en, width, share, bias, coverage in itertools.product(
            grid, grid, (0.05, 0.1, 0.2), (0.0, 0.5, 0.65, 0.8), BIASES, COVERAGES):
        ranks = ranks_for(searcher, cached, lexical_zh, lexical_en, 1.0, width, share, bias, coverage)
        groups = sorted({style for style, _ in ranks}) + ["all"]
        metrics = {}
        for group in groups:
            selected = [r for style, r in ranks if group in (style, "all")]
            metrics[group] = (np.mean([r is not None and r <= 5 for r in selected]),
                              np.mean([1 / r if r else 0 for r in selected]))
        rows.append((metrics["all"][1], lexical_zh, lexical_en, width, share, bias, coverage, metrics))
    rows.sort(key=lambda r: -r[0])
    print("lexical_zh lexical_en dense_width window_share window_bias coverage | hit@5 " + " ".join(groups)
          + " | MRR@10 all")
    for mrr, zh, en, width, share, bias, coverage, m in rows[:15]:
        print(f"{zh:10.1f} {en:10.1f} {width:11.2f} {share:12.2f} {bias:11.1f} {coverage:8.1f} | "
              + " ".join(f"{m[g][0]:.3f}" for g in groups) + f" | {mrr:.3f}")
    current = searcher.settings.fusion
    for row in rows:
        mrr, zh, en, width, share, bias, coverage, m = row
        if (zh, en, width, share, bias, coverage) == (current.lexical_zh, current.lexical_en, current.dense_width,
                                                      current.window_share, current.window_bias, current.coverage):
            print(f"current: rank {rows.index(row) + 1} of {len(rows)}, "
                  f"hit@5 all {m['all'][0]:.3f}, MRR@10 {mrr:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
