"""Performance benchmark: query latency, embedding throughput against this CPU's limit, cold
start, memory, latency at 10k / 100k / 1M chunks, and the baselines a user would otherwise pick.

    python bench/run.py [--quick] [--json] [--scales 10000 100000 1000000]

Prints one table per part; `--json` ends with one JSON line of every figure. `--quick` skips
the 1M-chunk index and the baselines and runs fewer rounds (under two minutes once the model
is converted). Method, limits and results: docs/PERFORMANCE.md.

Seed figures run on an index of the seeds built in .cache/bench/seeds-index (the repository's
index/ is left alone). Larger scales are synthetic, in memory: chunk n is a copy of a random
seed chunk (its text, citation and BM25 row); its vector is that chunk's vector plus up to
half of each of two other random seed vectors, normalised, plus Gaussian noise of norm 0.3,
so vectors spread continuously between the seed passages instead of piling onto 187 points,
and every BM25 posting list grows with n, as common words' lists do in a real corpus. Its
sentence windows are those of its seed chunk, each window vector moved by the same kind of
noise and its bias columns recomputed from the probes (~3.7 windows a chunk, as in the seeds).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from app import lexical  # noqa: E402
from app.config import Settings  # noqa: E402
from app.convert import ensure_model  # noqa: E402
from app.evaluate import evaluate, read_questions  # noqa: E402
from app.index import Generation, build, dense_index, probe_questions, window_probes, with_bias  # noqa: E402
from app.model import Embedder  # noqa: E402
from app.query import cjk_share  # noqa: E402
from app.search import Retriever, Searcher  # noqa: E402
from app.stores import SEARCH_DEPTH, window_query  # noqa: E402

CACHE = ROOT / ".cache" / "bench"
PARTS = ["latency", "embedding", "start", "scale", "baselines"]
EVAL = ROOT / "bench" / "eval"
PYTHON = sys.executable


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def table(title: str, header: tuple[str, ...], rows: list[tuple]) -> None:
    print(f"\n## {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")


def questions() -> list[str]:
    return [q.query for name in ("seeds_questions.jsonl", "offtopic_questions.jsonl")
            for q in read_questions(EVAL / name)]


def latency(searcher: Retriever, texts: list[str], rounds: int) -> dict:
    """Warm hybrid search end to end (clean, plan, encode, FAISS, BM25, fuse, cite), in ms."""
    searcher.search(texts[0], 5)
    timings = []
    for _ in range(rounds):
        for text in texts:
            began = time.perf_counter()
            searcher.search(text, 5)
            timings.append((time.perf_counter() - began) * 1000)
    return {"queries": len(timings), "p50_ms": round(statistics.median(timings), 1),
            "p95_ms": round(percentile(timings, 0.95), 1), "max_ms": round(max(timings), 1)}


def stage_latency(searcher: Searcher, texts: list[str]) -> dict:
    """Median ms of each stage of a search: question encoding, the dense store (FAISS over chunks
    and windows), the lexical store (question analysis and BM25)."""
    generation = searcher.generation
    dense_store, lexical_store = searcher.stores(generation)
    encode, dense, bm25 = [], [], []
    for text in texts:
        t0 = time.perf_counter()
        vector = searcher.embedder.encode_queries([text])
        t1 = time.perf_counter()
        dense_store.search(vector, cjk_share(text))
        t2 = time.perf_counter()
        lexical_store.search(searcher.plan(text, generation).terms)
        t3 = time.perf_counter()
        encode.append(t1 - t0), dense.append(t2 - t1), bm25.append(t3 - t2)
    return {name: round(statistics.median(v) * 1000, 2) for name, v in
            (("encode_ms", encode), ("faiss_ms", dense), ("bm25_ms", bm25))}


# ------------------------------------------------------------------ the arithmetic limit


def cpu() -> dict:
    """The CPU's name and the vector extensions the encoder's arithmetic depends on: the
    machines this runs on differ between sessions (AVX2 only, or AVX-512 with bf16)."""
    try:
        info = Path("/proc/cpuinfo").read_text().split("\n\n")[0]
    except OSError:
        return {}
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    flags = set(fields.get("flags", "").split())
    return {"cpu": f"{fields.get('model name', '?')} (family {fields.get('cpu family', '?')}, model {fields.get('model', '?')})",
            "cpu_extensions": [f for f in ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16") if f in flags]}


def gemm_gflops(trials: int = 8, precision: str = "f32") -> float:
    """This CPU's matrix-multiply rate (GFLOP/s) in `precision` (f32, or bf16 products with f32
    sums) on the encoder's own shapes (a batch of 8 passages of 200 tokens), all threads, best
    of `trials`: the limit, not a typical run."""
    import torch

    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    tokens, hidden, ffn = 8 * 200, 384, 1536
    shapes = [(tokens, hidden, hidden), (tokens, hidden, ffn), (tokens, ffn, hidden)]
    weights = [4 * hidden * hidden, hidden * ffn, ffn * hidden]  # per token: Q, K, V, O; FFN up; down
    rates = []
    for m, k, n in shapes:
        a, b = torch.randn(m, k).to(dtype), torch.randn(k, n).to(dtype)
        best = float("inf")
        for _ in range(trials):
            began = time.perf_counter()
            for _ in range(10):
                a @ b
            best = min(best, (time.perf_counter() - began) / 10)
        rates.append(2 * m * k * n / best / 1e9)
    # the FLOP-weighted harmonic mean: the encoder spends its FLOPs in these proportions
    return sum(weights) / sum(w / r for w, r in zip(weights, rates))


def passage_gflop(tokens: int, layers: int = 12, hidden: int = 384, ffn: int = 1536) -> float:
    """Multiply-adds ×2 of one passage through the encoder: projections, FFN, attention."""
    per_layer = tokens * (8 * hidden * hidden + 4 * hidden * ffn) + 4 * tokens * tokens * hidden
    return layers * per_layer / 1e9


def embedding(embedder: Embedder, texts: list[str], rounds: int = 2) -> tuple[dict, list[tuple]]:
    """Passages/s of the build's encoder on real seed chunks against the fp32 FLOP limit (and,
    in bf16, against the bf16 one), beside the f32 engine a CPU without bf16 gets.

    Each engine's best of `rounds`; each limit the best GEMM rate of two measurements, one
    before and one after the engines ran, so a busy moment on a shared machine lowers neither."""
    lengths = embedder.passage_tokens(texts).tolist()
    flop = sum(passage_gflop(n) for n in lengths)
    engines = [embedder] + ([Embedder(embedder.folder, precision="f32")] if embedder.passage_precision != "f32" else [])
    precisions = sorted({"f32", embedder.passage_precision})
    rates = {p: gemm_gflops(precision=p) for p in precisions}
    measured = []
    for engine in engines:
        engine.encode_passages(texts[:8])  # compiled and warm
        seconds = float("inf")
        for _ in range(rounds):
            began = time.perf_counter()
            engine.encode_passages(texts)
            seconds = min(seconds, time.perf_counter() - began)
        measured.append(len(texts) / seconds)
    rates = {p: max(rate, gemm_gflops(precision=p)) for p, rate in rates.items()}
    limit = {p: len(texts) / (flop / rate) for p, rate in rates.items()}
    rows = [{"engine": engine.passage_engine, "passages": len(texts), "mean_tokens": round(statistics.mean(lengths)),
             "gflop_per_passage": round(flop / len(texts), 2), "gemm_gflops": round(rates[engine.passage_precision], 1),
             "limit_passages_per_s": round(limit[engine.passage_precision], 1), "embed_passages_per_s": round(speed, 1),
             "share_of_own_limit": round(speed / limit[engine.passage_precision], 3),
             "share_of_limit": round(speed / limit["f32"], 3)}  # the fp32 limit
            for engine, speed in zip(engines, measured)]
    builds, *others = rows  # the build's engine first
    figures = {k: v for k, v in builds.items() if k != "share_of_own_limit"}
    figures.update(gemm_gflops=round(rates["f32"], 1), limit_passages_per_s=round(limit["f32"], 1))
    if others:  # the build ran in bf16; the f32 engine beside it
        figures.update(bf16_gemm_gflops=builds["gemm_gflops"], bf16_limit_passages_per_s=builds["limit_passages_per_s"],
                       share_of_bf16_limit=builds["share_of_own_limit"],
                       embed_passages_per_s_f32=others[0]["embed_passages_per_s"], share_of_limit_f32=others[0]["share_of_limit"])
    return figures, [tuple(row.values()) for row in rows]


# ------------------------------------------------------------------ cold start and memory


def cold_start(index: Path, runs: int) -> dict:
    """Seconds from a new process to the first printed answer (CLI), median of `runs`."""
    command = [PYTHON, "-m", "app", "search", "院务公开的做法", "--json", "--index", str(index)]
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
        timings.append(time.perf_counter() - began)
        assert json.loads(done.stdout), "the cold-start question found nothing"
    return {"cold_start_s": round(statistics.median(timings), 2)}


def serving_memory(index: Path, texts: list[str]) -> dict:
    """RSS of the web app after it has answered every evaluation question over HTTP."""
    from gradio_client import Client

    port = 7000 + os.getpid() % 900
    server = subprocess.Popen(
        [PYTHON, "-m", "app", "serve", "--port", str(port), "--index", str(index)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        began = time.perf_counter()
        client = None
        while client is None:
            if server.poll() is not None or time.perf_counter() - began > 180:
                raise RuntimeError("the app did not start")
            try:
                client = Client(f"http://127.0.0.1:{port}/", verbose=False)
            except Exception:  # not listening yet
                time.sleep(0.2)
        client.predict(texts[0], 5, api_name="/search")
        first_answer = time.perf_counter() - began
        for text in texts:
            client.predict(text, 5, api_name="/search")
        status = Path(f"/proc/{server.pid}/status").read_text()
        field = {line.split(":")[0]: line.split()[1] for line in status.splitlines() if line.startswith("Vm")}
        return {"serve_first_answer_s": round(first_answer, 2), "rss_mb": round(int(field["VmRSS"]) / 1024),
                "peak_rss_mb": round(int(field["VmHWM"]) / 1024)}
    finally:
        server.terminate()
        server.wait(30)


# ------------------------------------------------------------------ scale


def synthetic_windows(seed: Generation, picks: np.ndarray, rng, probes: np.ndarray) -> tuple:
    """The windows of the synthetic chunks: their seed chunk's, vectors moved by noise."""
    seed_windows = seed.windows.reconstruct_n(0, seed.windows.ntotal)[:, :-2]
    order = np.argsort(seed.window_chunk, kind="stable")
    first = np.searchsorted(seed.window_chunk[order], np.arange(len(seed.chunks)))
    per_chunk = np.bincount(seed.window_chunk, minlength=len(seed.chunks))
    counts = per_chunk[picks]
    window_chunk = np.repeat(np.arange(len(picks)), counts)
    offsets = np.arange(len(window_chunk)) - np.repeat(np.cumsum(counts) - counts, counts)
    sources = order[np.repeat(first[picks], counts) + offsets]
    vectors = np.empty((len(sources), seed_windows.shape[1] + 2), np.float32)
    for start in range(0, len(sources), 200_000):
        part = seed_windows[sources[start:start + 200_000]].copy()
        part += rng.standard_normal(part.shape, dtype=np.float32) * (0.3 / np.sqrt(part.shape[1]))
        part /= np.linalg.norm(part, axis=1, keepdims=True)
        vectors[start:start + len(part)] = with_bias(part, probes)
    return window_chunk, vectors


def synthetic_generation(seed: Generation, count: int, seed_vectors: np.ndarray, rng, probes: np.ndarray) -> Generation:
    """`count` chunks resampled from the seed generation (see the module docstring)."""
    picks = rng.integers(0, len(seed.chunks), count)
    vectors = np.empty((count, seed_vectors.shape[1]), np.float32)
    for start in range(0, count, 100_000):
        own = picks[start:start + 100_000]
        others = rng.integers(0, len(seed.chunks), (len(own), 2))
        mix = rng.uniform(0, 0.5, (len(own), 2, 1)).astype(np.float32)
        part = seed_vectors[own] + (mix * seed_vectors[others]).sum(axis=1)
        part /= np.linalg.norm(part, axis=1, keepdims=True)
        part += rng.standard_normal(part.shape, dtype=np.float32) * (0.3 / np.sqrt(part.shape[1]))
        vectors[start:start + len(part)] = part / np.linalg.norm(part, axis=1, keepdims=True)
    began = time.perf_counter()
    dense, info = dense_index(vectors, probes)
    window_chunk, window_vectors = synthetic_windows(seed, picks, rng, probes)
    windows, window_info = dense_index(window_vectors, window_probes(probes))
    info["index_build_s"] = round(time.perf_counter() - began, 1)
    weights = seed.lexical.weights.tocsr()[picks]
    chunks = [replace(seed.chunks[p], doc=f"synthetic-{i // 200:05d}.txt") for i, p in enumerate(picks.tolist())]
    generation = Generation(
        name=f"synthetic-{count}", folder=seed.folder,
        manifest={**seed.manifest, "dense_index": info, "window_index": dict(window_info, windows=len(window_chunk))},
        chunks=chunks, keys=[str(i) for i in range(count)], dense=dense,
        lexical=lexical.LexicalIndex(seed.lexical.vocabulary, weights), translations=seed.translations,
        duplicate_of=list(range(count)), windows=windows, window_chunk=window_chunk,
    )
    generation.vectors, generation.window_vectors = vectors, window_vectors  # for the recall check
    return generation


def real_recall(index, vectors: np.ndarray, query_vectors: np.ndarray) -> float:
    """Recall@10 of a served FAISS index against exact search, on the evaluation questions."""
    exact = np.concatenate([np.argpartition(-(block @ vectors.T), 10, axis=1)[:, :10]
                            for block in np.array_split(query_vectors, 8)])
    _, found = index.search(query_vectors, SEARCH_DEPTH)
    return float(np.mean([len(set(e) & set(f[:10])) / 10 for e, f in zip(exact, found)]))


def scale(settings: Settings, embedder: Embedder, seed: Generation, counts: list[int], texts: list[str]) -> list[dict]:
    rows = []
    seed_vectors = np.load(seed.folder / "vectors.npy")
    query_vectors = embedder.encode_queries(texts)
    probes = probe_questions(embedder)
    rng = np.random.default_rng(1)
    for count in counts:
        rss_before = _rss_mb()
        generation = synthetic_generation(seed, count, seed_vectors, rng, probes)
        empty = Path(tempfile.mkdtemp())
        searcher = Searcher(replace(settings, index=empty), embedder=embedder)
        searcher._generation = generation  # an in-memory generation: nothing on disk to switch to
        info, window_info = generation.manifest["dense_index"], generation.manifest["window_index"]
        window_questions = np.concatenate([window_query(query_vectors[[i]], cjk_share(t), searcher.fusion.window_bias)
                                           for i, t in enumerate(texts)])
        probes = f"{info['nprobe']}/{info['lists']}" if "nprobe" in info else "-"
        row = {"chunks": count, "dense_index": info["type"], "nprobe": probes,
               "probe_recall@10": info.get("recall_at_10", 1.0),
               "question_recall@10": round(real_recall(generation.dense, generation.vectors, query_vectors), 4),
               "windows": window_info["windows"], "window_index": window_info["type"],
               "window_nprobe": f"{window_info['nprobe']}/{window_info['lists']}" if "nprobe" in window_info else "-",
               "window_question_recall@10": round(
                   real_recall(generation.windows, generation.window_vectors, window_questions), 4),
               "index_build_s": info["index_build_s"],
               **latency(searcher, texts, rounds=1), **stage_latency(searcher, texts[:40]),
               "added_rss_mb": round(_rss_mb() - rss_before)}
        row["bytes_per_chunk"] = round(row["added_rss_mb"] * 2**20 / count)
        rows.append(row)
        print(f"  {count} chunks: p50 {row['p50_ms']} ms, {info['type']}", file=sys.stderr)
        del generation, searcher
        shutil.rmtree(empty, ignore_errors=True)
    return rows


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ------------------------------------------------------------------ baselines


class FixedChunkDense:
    """The usual recipe: 500-character windows (50 overlapping) of each decoded file, dense
    search only: no cleaning, no outline, no lexical signal."""

    size, overlap = 500, 50

    def __init__(self, seeds: Path, embedder: Embedder):
        import faiss

        from app.documents import discover, load
        from app.search import Hit

        self.embedder, self.hits = embedder, []
        for path in discover(seeds):
            document = load(path, seeds)
            text = document.text
            for start in range(0, max(len(text) - self.overlap, 1), self.size - self.overlap):
                piece = text[start:start + self.size]
                self.hits.append(Hit(doc=document.path, title="", section=(), text=piece, start=start,
                                     end=start + len(piece), line_start=0, line_end=0, score=0.0))
        self.index = faiss.IndexFlatIP(embedder.dimension)
        self.index.add(embedder.encode_passages([h.text for h in self.hits]))

    def search(self, question: str, k: int = 5, signals: str = "hybrid", documents=(), articles=()):
        """A `Retriever`: the k nearest windows (document filters honoured, articles unknown)."""
        from app.search import SearchResult

        scores, rows = self.index.search(self.embedder.encode_queries([question]), len(self.hits) if documents else k)
        hits = [replace(self.hits[r], score=float(s)) for s, r in zip(scores[0], rows[0])
                if r >= 0 and (not documents or self.hits[r].doc in documents)]
        return SearchResult(question, question, hits[:k], confidence="high" if hits else "none")


class PlainBM25(Searcher):
    """BM25 over our chunks with jieba words and bigrams only: no dense signal, no dictionary."""

    def plan(self, text, generation):
        plan = super().plan(text, generation)
        return replace(plan, terms=dict.fromkeys(lexical.terms(text), 1.0), glosses=())

    def search(self, question, k=5, signals="hybrid", documents=(), articles=()):
        """A `Retriever` whatever the signals asked: BM25 alone."""
        return super().search(question, k, signals="lexical", documents=documents, articles=articles)


def baselines(settings: Settings, seeds_index: Path, embedder: Embedder, searcher: Searcher) -> list[dict]:
    evaluation = read_questions(EVAL / "seeds_questions.jsonl")
    texts = [q.query for q in evaluation]
    systems: dict[str, Retriever] = {
        "this product (hybrid, outline chunks)": searcher,
        "BM25 only (jieba, our chunks)": PlainBM25(replace(settings, index=seeds_index), embedder=embedder),
        "dense only, fixed 500-char chunks": FixedChunkDense(settings.seeds, embedder),
    }
    rows = []
    for name, system in systems.items():
        cells = evaluate(system, evaluation, ["hybrid"])["metrics"]["hybrid"]
        timed = latency(system, texts, rounds=1)
        rows.append({"system": name, **{f"{lang} hit@5": round(cells[lang]["hit@5"], 3) for lang in ("zh", "en", "mixed")},
                     "hit@5": round(cells["all"]["hit@5"], 3), "hit@1": round(cells["all"]["hit@1"], 3),
                     "mrr@10": round(cells["all"]["mrr@10"], 3), "p50_ms": timed["p50_ms"], "p95_ms": timed["p95_ms"]})
    return rows


# ------------------------------------------------------------------ main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the subset that runs in under two minutes")
    parser.add_argument("--json", action="store_true", help="also print every figure as one JSON line")
    parser.add_argument("--scales", type=int, nargs="+", help="synthetic chunk counts (default 10k 100k, and 1M without --quick)")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=PARTS, help="run only these parts")
    args = parser.parse_args()
    parts = set(args.parts) - ({"baselines"} if args.quick else set())
    counts = args.scales or ([10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000])
    began = {"setup": time.perf_counter()}  # when each part began
    settings = Settings()
    model_dir = ensure_model(settings.model)
    embedder = Embedder(model_dir)
    index = CACHE / "seeds-index"
    build(settings.seeds, index, model_dir, embedder=embedder)
    searcher = Searcher(replace(settings, index=index), embedder=embedder)
    texts = questions()
    figures: dict = {"threads": os.cpu_count(), **cpu(), "load_average_at_start": round(os.getloadavg()[0], 2)}

    print(f"CPU: {figures.get('cpu', '?')}, {os.cpu_count()} threads, {' '.join(figures.get('cpu_extensions', []))}")
    generation = searcher.generation
    began["latency"] = time.perf_counter()
    if "latency" in parts:
        seed_latency(searcher, texts, 1 if args.quick else 3, figures)
    began["embedding"] = time.perf_counter()
    if "embedding" in parts:
        passages = [c.indexed_text for c in generation.chunks]
        throughput, rows = embedding(embedder, passages[:96] if args.quick else passages, 1 if args.quick else 3)
        figures.update(throughput)
        table("Embedding throughput against the limit (real seed chunks, the build's batches; first row: the build)",
              ("engine", "passages", "mean tokens", "GFLOP/passage", "GEMM GFLOP/s (its arithmetic)",
               "limit p/s (its arithmetic)", "measured p/s", "share of its limit", "share of fp32 limit"), rows)
    began["start"] = time.perf_counter()
    if "start" in parts:
        figures.update(cold_start(index, runs=1 if args.quick else 3))
        figures.update(serving_memory(index, texts))
        table("Start and memory", ("cold start to first answer s (CLI)", "web app start to first answer s",
                                   "serving RSS MB", "peak RSS MB"),
              [(figures["cold_start_s"], figures["serve_first_answer_s"], figures["rss_mb"], figures["peak_rss_mb"])])
    began["scale"] = time.perf_counter()
    if "scale" in parts:
        rows = scale(settings, embedder, generation, counts, texts)
        figures["scale"] = {str(r["chunks"]): r for r in rows}
        for row in rows:
            figures[f"query_p50_ms_{row['chunks']}"] = row["p50_ms"]
            figures[f"query_p95_ms_{row['chunks']}"] = row["p95_ms"]
            figures[f"rss_bytes_per_chunk_{row['chunks']}"] = row["bytes_per_chunk"]
        table("Latency at scale (synthetic chunks and their sentence windows, hybrid, k=5)",
              ("chunks", "dense index", "lists searched", "recall@10 probes", "recall@10 questions", "windows",
               "window lists searched", "window recall@10 questions", "index build s",
               "p50 ms", "p95 ms", "encode ms", "FAISS ms", "BM25 ms", "added RSS MB", "bytes/chunk"),
              [(r["chunks"], r["dense_index"], r["nprobe"], r["probe_recall@10"], r["question_recall@10"], r["windows"],
                r["window_nprobe"], r["window_question_recall@10"], r["index_build_s"], r["p50_ms"], r["p95_ms"],
                r["encode_ms"], r["faiss_ms"], r["bm25_ms"], r["added_rss_mb"], r["bytes_per_chunk"]) for r in rows])
    began["baselines"] = time.perf_counter()
    if "baselines" in parts:
        compared = baselines(settings, index, embedder, searcher)
        figures["baselines"] = compared
        table("Against the baselines (bench/eval/seeds_questions.jsonl, 90 questions)",
              tuple(compared[0]), [tuple(r.values()) for r in compared])
    figures["part_seconds"] = _durations(began, time.perf_counter())
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
    return 0


def _durations(began: dict[str, float], end: float) -> dict[str, float]:
    """Seconds of each part, from when it began to when the next one (or the run) ended it."""
    ends = [*list(began.values())[1:], end]
    return {part: round(stop - start, 1) for (part, start), stop in zip(began.items(), ends)}


def seed_latency(searcher: Searcher, texts: list[str], rounds: int, figures: dict) -> None:
    searcher.warm()  # as the app does before its first visitor (app/service.py)
    seed = latency(searcher, texts, rounds)
    stages = stage_latency(searcher, texts)
    generation = searcher.generation
    folder_bytes = sum(p.stat().st_size for p in generation.folder.iterdir())
    figures.update({"query_p50_ms": seed["p50_ms"], "query_p95_ms": seed["p95_ms"], "query_max_ms": seed["max_ms"],
                    **stages, "seed_chunks": len(generation.chunks),
                    "index_bytes_per_chunk": round(folder_bytes / len(generation.chunks))})
    table("Query latency on the seeds (warm, in-process, hybrid, k=5)",
          ("chunks", "queries", "p50 ms", "p95 ms", "max ms", "encode ms", "FAISS ms", "BM25 ms", "index bytes/chunk"),
          [(len(generation.chunks), seed["queries"], seed["p50_ms"], seed["p95_ms"], seed["max_ms"],
            stages["encode_ms"], stages["faiss_ms"], stages["bm25_ms"], figures["index_bytes_per_chunk"])])


if __name__ == "__main__":
    sys.exit(main())
