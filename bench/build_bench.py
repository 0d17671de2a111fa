"""Index lifecycle benchmark: full build, no-op rebuild, one-document update.

    python bench/build_bench.py [--scale 10] [--json]

Runs on the seeds, then on a corpus about `--scale` times larger: the Chinese passages of
../shared/benchmarks (CMRC 2018 and XQuAD, ten passages a document) plus the seeds'
paragraphs regrouped into new documents, so every chunk is new text that must be embedded.
Each build runs in a fresh index folder (no embedding cache carried over).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.config import Settings  # noqa: E402
from app.convert import ensure_model  # noqa: E402
from app.documents import discover, load  # noqa: E402
from app.index import build  # noqa: E402
from app.model import Embedder  # noqa: E402

BENCHMARKS = ROOT.parent / "shared" / "benchmarks"
UPDATE = "一、新增工作\n\n本月完成了病房改造，新增床位二十张，护理人员培训三次，患者满意度调查显示满意率提高到百分之九十六。\n"


def larger_corpus(seeds: Path, target: Path, scale: int) -> Path:
    """Write a corpus of roughly `scale` times the seeds' text into `target`."""
    target.mkdir(parents=True)
    for path in discover(seeds):
        shutil.copy(path, target / path.name)
    seed_chars = sum(len(load(p, seeds).text) for p in discover(seeds))
    written = seed_chars
    passages = []
    for name in ("cmrc2018_trial", "xquad_zh"):
        corpus = BENCHMARKS / name / "corpus.jsonl"
        if corpus.exists():
            passages += [json.loads(line)["text"] for line in corpus.read_text("utf-8").splitlines()]
    for number in range(0, len(passages), 10):
        text = f"资料汇编{number // 10 + 1}\n\n" + "\n\n".join(passages[number:number + 10]) + "\n"
        (target / f"bench-{number // 10:03d}.txt").write_text(text, "utf-8")
        written += len(text)
    paragraphs = [p.text for path in discover(seeds) for p in load(path, seeds).paragraphs if len(p.text) > 40]
    rng = random.Random(7)
    volume = 0
    while written < scale * seed_chars:
        volume += 1
        rng.shuffle(paragraphs)
        text = f"第{volume}卷 工作总结汇编\n\n" + "\n\n".join(f"（{volume}）{p}" for p in paragraphs[:40]) + "\n"
        (target / f"volume-{volume:03d}.txt").write_text(text, "utf-8")
        written += len(text)
    return target


def measure(corpus: Path, model_dir: Path, embedder: Embedder) -> dict:
    with tempfile.TemporaryDirectory() as work:
        index = Path(work) / "index"
        full = build(corpus, index, model_dir, embedder=embedder)
        noop = build(corpus, index, model_dir, embedder=embedder)
        extra = corpus / "zz-update.txt"
        extra.write_text(UPDATE, "utf-8")
        try:
            began = time.perf_counter()
            update = build(corpus, index, model_dir, embedder=embedder)
            update_seconds = time.perf_counter() - began
        finally:
            extra.unlink()
    return {
        "documents": full.documents, "chunks": full.chunks,
        "full_build_s": round(full.seconds, 2),
        "passages_per_s": round(full.embedded_chunks / full.seconds, 1),
        "noop_rebuild_s": round(noop.seconds, 3), "noop_embedded": noop.embedded_chunks,
        "one_doc_update_s": round(update_seconds, 2), "one_doc_embedded": update.embedded_chunks,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    settings = Settings()
    model_dir = ensure_model(settings.model)
    embedder = Embedder(model_dir)
    rows = {}
    with tempfile.TemporaryDirectory() as work:
        seeds = Path(work) / "seeds"
        shutil.copytree(settings.seeds, seeds)
        rows["seeds"] = measure(seeds, model_dir, embedder)
        rows[f"{args.scale}x"] = measure(larger_corpus(settings.seeds, Path(work) / "large", args.scale),
                                         model_dir, embedder)
    header = ("corpus", "docs", "chunks", "full build s", "passages/s", "no-op s", "1-doc update s", "1-doc embedded")
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for name, row in rows.items():
        print(" | ".join(str(v) for v in (name, row["documents"], row["chunks"], row["full_build_s"],
                                          row["passages_per_s"], row["noop_rebuild_s"], row["one_doc_update_s"],
                                          row["one_doc_embedded"])))
    if args.json:
        print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
