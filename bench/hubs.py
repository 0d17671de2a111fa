"""Hub passages: how often each chunk of the seeds lands in the top 5, over a large pool of questions.

    python bench/hubs.py [--signals hybrid dense] [--top 10]

The pool is every question of the public sets (xquad_en2zh, xquad_zh, cmrc2018_trial: 3,382,
none of them about these documents) plus the evaluation sets of bench/eval, all asked against
the seeds' index. A passage that comes back for a large share of unrelated questions is a hub
(e5 has sentences close to every question of a language). Prints, per signal, the most frequent
passages with their share of the pool and how many times the uniform share (5 / chunks) that is.
For the hybrid search, only what is shown counts: a question answered `none` shows nothing.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from public_bench import SETS, TRADITIONAL  # noqa: E402
from public_bench import questions as public_questions  # noqa: E402

from app.config import Settings  # noqa: E402
from app.evaluate import read_questions  # noqa: E402
from app.query import EmptyQuestion  # noqa: E402
from app.search import Searcher  # noqa: E402


def pool() -> list[tuple[str, str]]:
    """(group, question) for every public question and every question of bench/eval."""
    questions = []
    for name in (s for s in SETS if not s.endswith(TRADITIONAL)):
        group = "public-en" if name.endswith("en2zh") else "public-zh"
        questions += [(group, q.query) for q in public_questions(name, None)]
    for path in sorted((ROOT / "bench" / "eval").rglob("*.jsonl")):
        questions += [("own", q.query) for q in read_questions(path)]
    return questions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", nargs="+", default=["hybrid", "dense", "lexical"])
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args()
    searcher = Searcher(Settings())
    chunks = searcher.generation.chunks
    questions = pool()
    uniform = 5 / len(chunks)
    for signal in args.signals:
        counts: dict[str, Counter] = {}
        for group, question in questions:
            try:
                result = searcher.search(question, 5, signals=signal)
            except EmptyQuestion:
                continue
            for hit in result.hits:
                counts.setdefault(group, Counter())[(hit.doc, hit.line_start)] += 1
        sizes = Counter(group for group, _ in questions)
        total = sum(counts.values(), Counter())
        print(f"## {signal}: {len(questions)} questions ({dict(sizes)}), {len(chunks)} passages, uniform share {uniform:.1%}")
        print(f"{'passage':<40} {'all':>6} {'× uniform':>9} " + " ".join(f"{g:>10}" for g in sorted(sizes)))
        for (doc, line), count in total.most_common(args.top):
            text = next(c.text for c in chunks if c.doc == doc and c.line_start == line)[:16].replace("\n", " ")
            share = count / len(questions)
            print(f"{doc[:8]}:{line:<5} {text:<25} {share:>6.1%} {share / uniform:>9.1f} "
                  + " ".join(f"{counts.get(g, Counter())[(doc, line)] / sizes[g]:>10.1%}" for g in sorted(sizes)))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
