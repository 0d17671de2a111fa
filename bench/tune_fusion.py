"""Tune the fusion weights on the evaluation questions (grid search, reported, not automatic).

    python bench/tune_fusion.py [--queries bench/eval/seeds_questions.jsonl]

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


def ranks_for(searcher, cached, lexical_zh, lexical_en, translation_weight, dense_width, window_share, window_bias):
    generation = searcher.generation
    searcher.fusion = replace(searcher.fusion, lexical_zh=lexical_zh, lexical_en=lexical_en)
    out = []
    for question, plan, cosines, windows, own, translated, relevant in cached:
        dense = (1 - window_share) * cosines + window_share * windows[window_bias]
        fused = fuse(dense, own + translation_weight * translated, searcher.lexical_weight(plan), dense_width)
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
        out.append((question.lang, rank))
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", default=str(ROOT / "bench" / "eval" / "seeds_questions.jsonl"))
    args = parser.parse_args()
    searcher = Searcher(Settings())
    generation = searcher.generation
    unit = replace(searcher.fusion, translation_weight=1.0, window_share=1.0)
    cached = []
    for question in read_questions(Path(args.queries)):
        searcher.fusion = unit
        plan = searcher.plan(question.query, generation)
        query = searcher.embedder.encode_queries([plan.text])
        windows = {}
        for bias in BIASES:
            searcher.fusion = replace(unit, window_bias=bias)
            windows[bias], cosines = searcher.dense_scores(generation, query, plan.cjk_share)
        own_terms = dict.fromkeys(lexical.terms(plan.text), 1.0)
        translated_terms = {t: w for t, w in plan.terms.items() if t not in own_terms}
        own = generation.lexical.scores(own_terms)
        translated = generation.lexical.scores(translated_terms)
        relevant = np.array([question.is_relevant(c) for c in generation.chunks])
        cached.append((question, plan, cosines, windows, own, translated, relevant))
    rows = []
    grid = np.round(np.arange(0.2, 0.81, 0.1), 2)
    for lexical_zh, lexical_en, width, share, bias in itertools.product(
            grid, grid, (0.05, 0.1, 0.2), (0.0, 0.5, 0.65, 0.8), BIASES):
        ranks = ranks_for(searcher, cached, lexical_zh, lexical_en, 1.0, width, share, bias)
        metrics = {}
        for lang in ("zh", "en", "mixed", "all"):
            selected = [r for l, r in ranks if lang in (l, "all")]
            metrics[lang] = (np.mean([r is not None and r <= 5 for r in selected]),
                             np.mean([1 / r if r else 0 for r in selected]))
        rows.append((metrics["all"][1], lexical_zh, lexical_en, width, share, bias, metrics))
    rows.sort(key=lambda r: -r[0])
    print("lexical_zh lexical_en dense_width window_share window_bias | hit@5 zh  en  mixed all | MRR@10 all")
    for mrr, zh, en, width, share, bias, m in rows[:15]:
        print(f"{zh:10.1f} {en:10.1f} {width:11.2f} {share:12.2f} {bias:11.1f} | {m['zh'][0]:.3f} {m['en'][0]:.3f} "
              f"{m['mixed'][0]:.3f} {m['all'][0]:.3f} | {mrr:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
