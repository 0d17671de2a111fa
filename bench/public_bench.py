"""Retrieval on the public benchmarks: xquad_en2zh, xquad_zh, cmrc2018_trial, and the two
Chinese sets with their questions in Traditional script.

    python bench/public_bench.py [--sets xquad_en2zh ...] [--limit N] [--json]

Each benchmark passage becomes one document of a corpus indexed exactly as the seeds are
(outline chunking, embeddings, BM25); a question is answered when a hit comes from its
relevant passage. Prints hit@1, hit@5 and MRR@10 for the hybrid search and each signal alone.
`xquad_zh_hant` and `cmrc2018_trial_hant` are the same questions converted to Traditional
script with Taiwan vocabulary by OpenCC (s2twp), against the same Simplified passages: text
nobody here wrote. Indexes are kept in .cache/bench/ so a second run only searches.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.config import Settings  # noqa: E402
from app.convert import ensure_model  # noqa: E402
from app.evaluate import Question, evaluate, format_table, half_of  # noqa: E402
from app.index import build  # noqa: E402
from app.model import Embedder  # noqa: E402
from app.search import Searcher  # noqa: E402

BENCHMARKS = ROOT.parent / "shared" / "benchmarks"
SETS = ("xquad_en2zh", "xquad_zh", "cmrc2018_trial", "xquad_zh_hant", "cmrc2018_trial_hant")
TRADITIONAL = "_hant"
CACHE = ROOT / ".cache" / "bench"


def corpus_folder(name: str) -> Path:
    """The benchmark's passages as one .txt document each (title line, then the passage)."""
    folder = CACHE / name / "seeds"
    folder.mkdir(parents=True, exist_ok=True)
    for line in (BENCHMARKS / name / "corpus.jsonl").read_text("utf-8").splitlines():
        row = json.loads(line)
        path = folder / f"{row['id']}.txt"
        text = f"{row['title'].replace('_', ' ')}\n\n{row['text']}\n"
        if not path.exists() or path.read_text("utf-8") != text:
            path.write_text(text, "utf-8")
    return folder


def questions(name: str, limit: int | None) -> list[Question]:
    lang = "en" if name.endswith("en2zh") else "zh"
    source = name.removesuffix(TRADITIONAL)
    rows = [json.loads(line) for line in (BENCHMARKS / source / "queries.jsonl").read_text("utf-8").splitlines()]
    convert = _traditional if name.endswith(TRADITIONAL) else str
    return [Question(r["id"], lang, convert(r["query"]), relevant_docs=tuple(f"{i}.txt" for i in r["relevant_ids"]))
            for r in rows[:limit]]


def _traditional(text: str) -> str:
    return _s2twp().convert(text)


@lru_cache(maxsize=1)
def _s2twp():
    import opencc

    return opencc.OpenCC("s2twp")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    parser.add_argument("--limit", type=int, help="only the first N questions of each set")
    parser.add_argument("--half", choices=["all", "tune", "report"], default="all",
                        help="only the questions of one half, split by id as bench/eval is")
    parser.add_argument("--signals", nargs="+", default=["hybrid", "dense", "lexical"])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    settings = Settings()
    model_dir = ensure_model(settings.model)
    embedder = Embedder(model_dir)
    results = {}
    for name in args.sets:
        corpus = name.removesuffix(TRADITIONAL)
        seeds = corpus_folder(corpus)
        index = CACHE / corpus / "index"
        build(seeds, index, model_dir, embedder=embedder)
        searcher = Searcher(replace(settings, seeds=seeds, index=index), embedder=embedder)
        chosen = [q for q in questions(name, args.limit) if args.half == "all" or half_of(q.id) == args.half]
        report = evaluate(searcher, chosen, args.signals)
        results[name] = {signal: cells["all"] for signal, cells in report["metrics"].items()}
        print(f"## {name}")
        print(format_table(report))
        print()
    if args.json:
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
