"""Warm, in-process query latency of the hybrid search on the seeds (p50 / p95 / max).

    python bench/query_latency.py [--rounds 3]

Uses the questions of bench/eval (Chinese, English, mixed and off-topic), after one warm-up
query that loads the model and the index.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.config import Settings  # noqa: E402
from app.evaluate import read_questions  # noqa: E402
from app.search import Searcher  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    questions = [q.query for name in ("seeds_questions.jsonl", "offtopic_questions.jsonl")
                 for q in read_questions(ROOT / "bench" / "eval" / name)]
    searcher = Searcher(Settings())
    began = time.perf_counter()
    searcher.search("院务公开", 5)
    warm_up = time.perf_counter() - began
    timings = []
    for _ in range(args.rounds):
        for question in questions:
            began = time.perf_counter()
            searcher.search(question, 5)
            timings.append((time.perf_counter() - began) * 1000)
    timings.sort()
    p95 = timings[int(0.95 * len(timings)) - 1]
    print("queries | first query (loads model + index) s | p50 ms | p95 ms | max ms")
    print("--- | --- | --- | --- | ---")
    print(f"{len(timings)} | {warm_up:.2f} | {statistics.median(timings):.1f} | {p95:.1f} | {timings[-1]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
