"""The index: chunks, their embeddings in FAISS and their BM25 terms, built in generations.

Layout of an index folder:

    index/CURRENT                 name of the generation being served (a pointer file)
    index/gen-<time>-<id>/        one complete, immutable generation
        manifest.json             documents, model identity, chunking version, file checksums
        chunks.jsonl              one chunk a line (hit-shaped, plus its text key)
        vectors.npy, dense.faiss  embeddings and the FAISS index over them
        windows.npy, windows.faiss  sentence windows of the chunks (chunk row, start, end) and
                                  their FAISS index (vectors plus two columns of bias, below)
        lexical_*.json/npz        the BM25 index
    index/cache/<model>/          embeddings by text hash, shared by every generation
    index/.lock                   held by the build that is running

A build writes a whole new generation beside the served one and switches by renaming a new
CURRENT over the old one, after everything is flushed; a build killed at any moment leaves
the previous generation serving. Only chunks and windows whose text is new are embedded.

Window vectors carry two more columns: how close the window is on average to the probe
questions (app/data/probe_questions.txt) in English and in Chinese. Some sentences are close to
every question of a language (e5's "hubs": a sentence with Latin names or numbers to English
questions, say); a search subtracts a share of that closeness by extending the question vector
with `window_query`, so FAISS ranks by the corrected score, exactly, at any scale.
"""

from __future__ import annotations

import errno
import fcntl
import functools
import hashlib
import json
import os
import shutil
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import lexical, neardup
from .chunks import CHUNKING_VERSION, WINDOW_MIN_CHARS, Chunk, chunk_document, sentence_windows, window_text
from .config import FusionWeights, data_lines
from .documents import SkippedFile, discover, load
from .folding import simplified
from .model import Embedder, model_identity
from .stores import SEARCH_DEPTH, window_query
from .translate import Dictionary

if TYPE_CHECKING:
    import faiss

MANIFEST_VERSION = 4
KEEP_GENERATIONS = 2
BYTES_PER_CHUNK = 30_000  # a generation per chunk when none exists yet to measure (seeds: 22.5 kB)
SPACE_MARGIN = 1.5  # the embedding cache grows by about a third of a generation
MB = 1024 * 1024
EMBED_STEP = 128  # passages embedded between progress reports and cache writes
# Exact inner-product search up to this many chunks; above it an inverted file, searched
# deep enough that its top 10 agree with exact search on RECALL_TARGET of probe questions.
EXACT_SEARCH_UP_TO = 50_000
RECALL_TARGET = 0.995  # on the probes: a margin for questions unlike them (the goal is 0.99)

Progress = Callable[[str, int, int], None]


class IndexProblem(Exception):
    """A problem with the index a user can act on; the message says what to do."""


class IndexMissing(IndexProblem):
    pass


class IndexCorrupt(IndexProblem):
    pass


class IndexLocked(IndexProblem):
    pass


class IndexNoSpace(IndexProblem):
    pass


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durably(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------- embedding cache


def cache_folder(index_dir: Path, identity: dict) -> Path:
    """Where the embeddings of one model (`identity`) in one arithmetic (its `precision`) are
    kept: an index's vectors all come from one of them (f32 keeps the folder it always had)."""
    precision = identity["precision"]
    name = identity["fingerprint"] if precision == "f32" else f"{identity['fingerprint']}-{precision}"
    return index_dir / "cache" / name


class EmbeddingCache:
    """Embeddings by text key for one model, as append-only shards written atomically."""

    def __init__(self, folder: Path, dimension: int):
        self.folder = folder
        self.dimension = dimension
        self._vectors: dict[str, np.ndarray] = {}
        for shard in sorted(folder.glob("shard-*.npz")) if folder.exists() else []:
            try:
                with np.load(shard) as data:
                    self._vectors.update(zip(data["keys"].tolist(), data["vectors"]))
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
                shard.unlink(missing_ok=True)  # a shard is only a cache: drop what is unreadable

    def get(self, key: str) -> np.ndarray | None:
        return self._vectors.get(key)

    def add(self, keys: list[str], vectors: np.ndarray) -> None:
        if not keys:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"shard-{time.time_ns()}-{uuid.uuid4().hex[:6]}.npz"
        temporary = self.folder / (name + ".tmp")
        with open(temporary, "wb") as handle:
            np.savez(handle, keys=np.asarray(keys), vectors=vectors.astype(np.float32))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.folder / name)
        self._vectors.update(zip(keys, vectors))


# ---------------------------------------------------------------- generations


@dataclass
class Generation:
    """One loaded, complete index generation."""

    name: str
    folder: Path
    manifest: dict
    chunks: list[Chunk]
    keys: list[str]
    dense: "faiss.Index"
    lexical: lexical.LexicalIndex
    translations: Dictionary
    duplicate_of: list[int] = field(default_factory=list)  # chunk row -> row of its group's first
    windows: "faiss.Index | None" = None  # sentence windows, searched with `window_query` vectors
    window_chunk: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # window -> chunk row

    def __post_init__(self):
        self._members: dict[int, list[int]] = {}
        for row, first in enumerate(self.duplicate_of):
            self._members.setdefault(first, []).append(row)

    def near_duplicates(self, row: int) -> list[int]:
        """The other rows whose text is a near-duplicate of `row`'s."""
        return [r for r in self._members.get(self.duplicate_of[row], []) if r != row]

    @property
    def model_fingerprint(self) -> str:
        return self.manifest["model"]["fingerprint"]


def current_name(index_dir: Path) -> str | None:
    pointer = index_dir / "CURRENT"
    try:
        name = pointer.read_text("utf-8").strip()
    except FileNotFoundError:
        return None
    return name or None


def load_generation(index_dir: Path) -> Generation:
    """The generation CURRENT points at, verified against its manifest's checksums."""
    import faiss

    name = current_name(index_dir)
    if name is None:
        raise IndexMissing(f"索引不存在：{index_dir}。请先运行 python build_index.py 构建索引。")
    folder = index_dir / name
    try:
        manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
        for file_name, expected in manifest["files"].items():
            if _sha256_file(folder / file_name) != expected:
                raise IndexCorrupt(f"索引文件已损坏：{folder / file_name}（校验和不符）。"
                                   "请运行 python build_index.py --full 重建索引。")
        rows = [json.loads(line) for line in (folder / "chunks.jsonl").read_text("utf-8").splitlines()]
        dense = faiss.read_index(str(folder / "dense.faiss"))
        lexical_index = lexical.LexicalIndex.load(folder)
        translations = Dictionary.load(folder)
        windows = faiss.read_index(str(folder / "windows.faiss"))
        window_rows = np.load(folder / "windows.npy")
    except IndexCorrupt:
        raise
    except (OSError, ValueError, KeyError, RuntimeError) as error:
        raise IndexCorrupt(f"索引无法读取：{folder}（{error}）。请运行 python build_index.py --full 重建索引。") from error
    chunks = [_chunk_from_row(row) for row in rows]
    if dense.ntotal != len(chunks) or lexical_index.weights.shape[0] != len(chunks) \
            or windows.ntotal != len(window_rows) or (len(window_rows) and window_rows[:, 0].max() >= len(chunks)):
        raise IndexCorrupt(f"索引各部分的条目数不一致：{folder}。请运行 python build_index.py --full 重建索引。")
    return Generation(
        name=name, folder=folder, manifest=manifest, chunks=chunks,
        keys=[row["key"] for row in rows], dense=dense, lexical=lexical_index, translations=translations,
        duplicate_of=[row.get("duplicate_of", i) for i, row in enumerate(rows)],
        windows=windows, window_chunk=window_rows[:, 0].astype(np.int64),
    )


def _chunk_from_row(row: dict) -> Chunk:
    return Chunk(
        doc=row["doc"], title=row["title"], section=tuple(row["section"]), text=row["text"],
        start=row["start"], end=row["end"], line_start=row["line_start"], line_end=row["line_end"],
    )


# ---------------------------------------------------------------- building


@dataclass
class BuildReport:
    """What a build did; `to_json()` is the `build_index.py --json` contract."""

    documents: int = 0
    chunks: int = 0
    embedded_chunks: int = 0
    reused_chunks: int = 0
    windows: int = 0
    embedded_windows: int = 0
    reused_windows: int = 0
    skipped: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    generation: str | None = None
    unchanged: bool = False

    def to_json(self) -> dict:
        return dict(self.__dict__, seconds=round(self.seconds, 3))


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Held for the whole build; a second build refuses at once with a clear message."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise IndexLocked("另一个索引构建正在进行，请等它完成后再试。") from error
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def load_manifest(index_dir: Path) -> dict | None:
    """The manifest of the served generation, or None when there is none (or it is unreadable)."""
    name = current_name(index_dir)
    if name is None:
        return None
    try:
        return json.loads((index_dir / name / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None


def _previous_chunks(folder: Path) -> dict[str, list[dict]]:
    by_doc: dict[str, list[dict]] = {}
    try:
        lines = (folder / "chunks.jsonl").read_text("utf-8").splitlines()
    except OSError:
        return by_doc
    for line in lines:
        row = json.loads(line)
        by_doc.setdefault(row["doc"], []).append(row)
    return by_doc


@dataclass(frozen=True)
class _Scan:
    """The seeds folder now: documents by path with their content hash, and what is unusable."""

    files: dict[str, tuple[Path, str, int]]  # path -> (absolute path, sha256, size)
    skipped: list[dict]


def _scan(seeds: Path) -> _Scan:
    files, skipped = {}, []
    if not seeds.is_dir():
        raise IndexProblem(f"文档目录不存在：{seeds}")
    for path in discover(seeds):
        name = path.relative_to(seeds).as_posix()
        try:
            raw = path.read_bytes()
        except OSError as error:
            skipped.append({"file": name, "reason": f"无法读取文件（{error.strerror}）"})
            continue
        files[name] = (path, hashlib.sha256(raw).hexdigest(), len(raw))
    return _Scan(files, skipped)


def incompatibility(manifest: dict, identity: dict) -> str | None:
    """Why the chunks and vectors of an index cannot be reused with this model and chunking
    (None when they can)."""
    if manifest.get("version") != MANIFEST_VERSION:
        return "索引格式已更新"
    if manifest["model"]["fingerprint"] != identity["fingerprint"]:
        return "模型已更换"
    if manifest["chunking_version"] != CHUNKING_VERSION:
        return "分段规则已更新"
    return None


def outdated(manifest: dict, identity: dict) -> str | None:
    """Why an index cannot answer correctly as it is, whatever the documents (None when it can):
    its vectors cannot be reused, or its terms were cut by another tokeniser."""
    reason = incompatibility(manifest, identity)
    if reason is None and manifest.get("lexical_version") != lexical.LEXICAL_VERSION:
        reason = "词项切分规则已更新"
    return reason


def is_stale(seeds: Path, index_dir: Path, model_dir: Path) -> tuple[bool, str]:
    """Whether the served index differs from seeds/, the model or the chunking; and why."""
    manifest = load_manifest(index_dir)
    if manifest is None:
        return True, "索引不存在"
    reason = outdated(manifest, model_identity(model_dir))
    if reason:
        return True, reason
    scan = _scan(seeds)
    known = {d["path"]: d["sha256"] for d in manifest["documents"]}
    known.update({s["file"]: "skipped" for s in manifest.get("skipped", [])})
    current = {name: sha for name, (_, sha, _) in scan.files.items()}
    for name, sha in current.items():
        if name not in known:
            return True, f"新增文档：{name}"
        if known[name] not in (sha, "skipped"):
            return True, f"文档已修改：{name}"
    for name in known:
        if name not in current:
            return True, f"文档已删除：{name}"
    return False, "索引是最新的"


def build(
    seeds: Path, index_dir: Path, model_dir: Path, *, full: bool = False,
    progress: Progress | None = None, embedder: Embedder | None = None,
) -> BuildReport:
    """Bring the index in `index_dir` up to date with `seeds`; returns what was done."""
    began = time.perf_counter()
    progress = progress or (lambda stage, done, total: None)
    with build_lock(index_dir):
        try:
            report = _build_locked(seeds, index_dir, model_dir, full, progress, embedder)
        except OSError as error:
            if error.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            _drop_unfinished(index_dir)  # at once: a half-written generation would keep the disk full
            free = shutil.disk_usage(index_dir).free
            raise IndexNoSpace(f"磁盘已满：写入索引时 {index_dir} 所在磁盘空间用尽（现剩余 {free / MB:.1f} MB）。"
                               "未完成的部分已删除，正在使用的索引不受影响；请清理磁盘后重新构建。") from error
    report.seconds = time.perf_counter() - began
    return report


def _drop_unfinished(index_dir: Path) -> None:
    """Remove half-written generations and embedding-cache shards."""
    for leftover in index_dir.glob("gen-*.tmp"):
        shutil.rmtree(leftover, ignore_errors=True)
    for leftover in index_dir.glob("cache/*/*.tmp"):
        leftover.unlink(missing_ok=True)


def _check_space(index_dir: Path, chunks: int) -> None:
    """Refuse before writing when the disk cannot hold the new generation: its size is read from
    the served one (per chunk), or estimated from the seeds' figure when there is none."""
    name = current_name(index_dir)
    per_chunk = BYTES_PER_CHUNK
    if name and (manifest := load_manifest(index_dir)) and manifest.get("chunks"):
        used = sum(p.stat().st_size for p in (index_dir / name).iterdir() if p.is_file())
        per_chunk = used / manifest["chunks"]
    needed = int(per_chunk * chunks * SPACE_MARGIN)
    free = shutil.disk_usage(index_dir).free
    if free < needed:
        raise IndexNoSpace(f"磁盘空间不足：{index_dir} 所在磁盘剩余 {free / MB:.1f} MB，本次构建约需 "
                           f"{needed / MB:.1f} MB。请清理磁盘后重新构建；正在使用的索引不受影响。")


def _build_locked(seeds, index_dir, model_dir, full, progress, embedder) -> BuildReport:
    identity = model_identity(model_dir)
    manifest = None if full else load_manifest(index_dir)
    previous_folder = index_dir / current_name(index_dir) if manifest else None
    compatible = manifest is not None and incompatibility(manifest, identity) is None
    previous_docs = {d["path"]: d for d in manifest["documents"]} if manifest else {}
    previous_rows = _previous_chunks(previous_folder) if compatible else {}

    scan = _scan(seeds)
    report = BuildReport(skipped=list(scan.skipped))
    documents, chunk_rows = [], []
    for number, (name, (path, sha, size)) in enumerate(sorted(scan.files.items()), 1):
        progress("documents", number, len(scan.files))
        before = previous_docs.get(name)
        if before is None:
            report.added.append(name)
        elif before["sha256"] != sha:
            report.changed.append(name)
        if compatible and before and before["sha256"] == sha and name in previous_rows:
            rows = previous_rows[name]
            encoding = before["encoding"]
        else:
            try:
                document = load(path, seeds)
            except SkippedFile as skipped:
                report.skipped.append({"file": skipped.path, "reason": skipped.reason})
                if name in report.added:
                    report.added.remove(name)
                continue
            rows = [dict(c.to_json(), key=text_key(c.indexed_text)) for c in chunk_document(document)]
            encoding = document.encoding
        documents.append({"path": name, "sha256": sha, "size": size, "encoding": encoding,
                          "chunks": len(rows)})
        chunk_rows.extend(rows)
    report.removed = sorted(set(previous_docs) - {d["path"] for d in documents})
    report.documents, report.chunks = len(documents), len(chunk_rows)

    if compatible and not (report.added or report.changed or report.removed) \
            and _same_skips(manifest, report.skipped) and outdated(manifest, identity) is None:
        report.reused_chunks = report.chunks
        report.windows = report.reused_windows = manifest["window_index"]["windows"]
        report.unchanged = True
        report.generation = current_name(index_dir)
        return report

    _check_space(index_dir, len(chunk_rows))
    embedder = embedder or Embedder(model_dir)  # loads the model only when something is embedded
    identity = dict(identity, precision=embedder.passage_precision)  # every vector in one arithmetic
    cache = EmbeddingCache(cache_folder(index_dir, identity), identity["dimension"])
    vectors, report.embedded_chunks = _embed(
        [_embedding_item(_chunk_from_row(row).indexed_text) for row in chunk_rows], cache, embedder, progress,
        "embedding")
    report.reused_chunks = len(chunk_rows) - report.embedded_chunks
    windows = [(number, start, end) for number, row in enumerate(chunk_rows)
               for start, end in sentence_windows(row["text"])]
    texts = [window_text(chunk_rows[number]["text"], (start, end)) for number, start, end in windows]
    window_vectors, report.embedded_windows = _embed(
        [_embedding_item(text) for text in texts], cache, embedder, progress, "windows")
    report.windows, report.reused_windows = len(windows), len(windows) - report.embedded_windows
    _mark_duplicates(chunk_rows)
    probes = probe_questions(embedder)
    report.generation = _write_generation(
        index_dir, chunk_rows, vectors, identity, documents, report.skipped, progress, probes,
        (np.array(windows, np.int64).reshape(-1, 3), with_bias(window_vectors, probes)),
    )
    return report


def _embedding_item(text: str) -> tuple[str, str]:
    """(cache key, text to embed): passages are embedded in Simplified script, as questions are
    (app/folding.py), so a Traditional summary and a Simplified question meet; Simplified text,
    and so its cached vector, is unchanged."""
    embedded = simplified(text)
    return text_key(embedded), embedded


def _same_skips(manifest: dict, skipped: list[dict]) -> bool:
    return sorted(s["file"] for s in manifest.get("skipped", [])) == sorted(s["file"] for s in skipped)


def _embed(items: list[tuple[str, str]], cache: EmbeddingCache, embedder: Embedder,
           progress: Progress, stage: str) -> tuple[np.ndarray, int]:
    """Vectors of `items` (text key, text), from the cache or embedded now (and cached);
    with how many items were embedded."""
    vectors = np.zeros((len(items), cache.dimension), np.float32)
    missing: dict[str, list[int]] = {}
    texts: dict[str, str] = {}
    for number, (key, text) in enumerate(items):
        cached = cache.get(key)
        if cached is None:
            missing.setdefault(key, []).append(number)
            texts[key] = text
        else:
            vectors[number] = cached
    if not missing:
        return vectors, 0
    keys = list(missing)
    progress(stage, 0, len(keys))
    for start in range(0, len(keys), EMBED_STEP):
        batch = keys[start : start + EMBED_STEP]
        embedded = embedder.encode_passages([texts[k] for k in batch])
        cache.add(batch, embedded)  # saved as it goes: a killed build loses at most one batch
        for key, vector in zip(batch, embedded):
            vectors[missing[key]] = vector
        progress(stage, min(start + EMBED_STEP, len(keys)), len(keys))
    return vectors, sum(len(numbers) for numbers in missing.values())


@functools.cache
def _english_probes() -> np.ndarray:
    """Which probe questions (app/data/probe_questions.txt, in order) are all English."""
    return np.array([not lexical.CJK.search(line) for line in data_lines("probe_questions.txt")], dtype=bool)


def with_bias(vectors: np.ndarray, probes: np.ndarray) -> np.ndarray:
    """Window vectors with two more columns: their mean cosine to the English probe questions
    and to the Chinese (and mixed) ones."""
    english = _english_probes()
    bias = np.stack([(probes[english] @ vectors.T).mean(axis=0), (probes[~english] @ vectors.T).mean(axis=0)], axis=1)
    return np.ascontiguousarray(np.hstack([vectors, bias.astype(np.float32)]))


def _mark_duplicates(rows: list[dict]) -> None:
    """Near-duplicate chunks share `duplicate_of`: the row number of their group's first chunk."""
    for row, first in zip(rows, neardup.groups([row["text"] for row in rows])):
        row["duplicate_of"] = first


def _write_generation(index_dir, rows, vectors, identity, documents, skipped, progress, probes, windows) -> str:
    import faiss

    progress("writing", 0, 1)
    name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
    work = index_dir / (name + ".tmp")
    work.mkdir(parents=True)
    (work / "chunks.jsonl").write_text(
        "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), "utf-8"
    )
    np.save(work / "vectors.npy", vectors)
    dense, dense_info = dense_index(vectors, probes)
    faiss.write_index(dense, str(work / "dense.faiss"))
    window_rows, window_vectors = windows
    np.save(work / "windows.npy", window_rows)
    window_index, window_info = dense_index(window_vectors, window_probes(probes))
    faiss.write_index(window_index, str(work / "windows.faiss"))
    known = _previous_terms(index_dir)
    terms = [known.get(row["key"]) or lexical.terms(_chunk_from_row(row).indexed_text) for row in rows]
    (work / "lexical_terms.json").write_text(json.dumps(
        {"version": lexical.LEXICAL_VERSION, "terms": {row["key"]: t for row, t in zip(rows, terms)}},
        ensure_ascii=False, separators=(",", ":")), "utf-8")
    lexical_index = lexical.LexicalIndex.build(terms)
    lexical_index.save(work)
    Dictionary.from_cedict(t for t in lexical_index.vocabulary if not t.startswith("§")).save(work)
    files = {p.name: _sha256_file(p) for p in sorted(work.iterdir())}
    manifest = {
        "version": MANIFEST_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "model": {k: identity[k] for k in ("name", "dimension", "fingerprint", "precision")},
        "chunking_version": CHUNKING_VERSION,
        "lexical_version": lexical.LEXICAL_VERSION,
        "dense_index": dense_info,
        "window_index": dict(window_info, windows=len(window_rows), min_chars=WINDOW_MIN_CHARS),
        "documents": documents,
        "skipped": skipped,
        "chunks": len(rows),
        "files": files,
    }
    _write_durably(work / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode())
    for path in work.iterdir():
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())
    _fsync_dir(work)
    os.replace(work, index_dir / name)
    _fsync_dir(index_dir)
    pointer = index_dir / "CURRENT.tmp"
    _write_durably(pointer, name.encode())
    os.replace(pointer, index_dir / "CURRENT")
    _fsync_dir(index_dir)
    _prune(index_dir, keep=name)
    progress("writing", 1, 1)
    return name


def dense_index(vectors: np.ndarray, probes: np.ndarray | None = None) -> tuple["faiss.Index", dict]:
    """The inner-product FAISS index for `vectors` (embeddings, or window vectors with their
    bias columns) and its description for the manifest.

    Exact search up to EXACT_SEARCH_UP_TO vectors. Above, an inverted file (IVF-Flat, 4·√n
    lists): its recall against exact search is measured on `probes`, question vectors (the
    questions of app/data/probe_questions.txt), at the depth searches use, and the number of
    lists searched grows by half until recall@10 reaches RECALL_TARGET. (HNSW was tried first:
    on e5's crowded vectors it stayed near 0.9 recall for questions even at efSearch 512.)
    """
    import faiss

    count, dimension = vectors.shape
    if count <= EXACT_SEARCH_UP_TO or probes is None or not len(probes):
        flat = faiss.IndexFlatIP(dimension)
        flat.add(vectors)
        return flat, {"type": "IndexFlatIP", "exact": True}
    began = time.perf_counter()
    lists = int(4 * np.sqrt(count))
    quantiser = faiss.IndexFlatIP(dimension)
    inverted = faiss.IndexIVFFlat(quantiser, dimension, lists, faiss.METRIC_INNER_PRODUCT)
    sample = np.random.default_rng(0).choice(count, min(count, 64 * lists), replace=False)
    inverted.train(vectors[np.sort(sample)])
    inverted.add(vectors)
    exact = np.concatenate([
        np.argpartition(-(block @ vectors.T), 10, axis=1)[:, :10] for block in np.array_split(probes, 8)
    ])
    recall, searched = 0.0, 8
    while True:
        inverted.nprobe = min(searched, lists)
        _, found = inverted.search(probes, SEARCH_DEPTH)
        recall = float(np.mean([len(set(e) & set(f[:10])) / 10 for e, f in zip(exact, found)]))
        if recall >= RECALL_TARGET or searched >= lists:
            break
        searched = searched * 3 // 2
    return inverted, {
        "type": "IndexIVFFlat", "exact": False, "lists": lists, "nprobe": inverted.nprobe,
        "recall_at_10": round(recall, 4), "recall_probes": len(probes),
        "build_seconds": round(time.perf_counter() - began, 1),
    }


def probe_questions(embedder: Embedder) -> np.ndarray:
    """The probes: questions of the kind staff ask, encoded as questions are."""
    return embedder.reference_vectors("probe_questions.txt", as_questions=True)


def window_probes(probes: np.ndarray) -> np.ndarray:
    """The probes as a search asks the window index, with the default bias weight."""
    english = _english_probes()
    weight = FusionWeights().window_bias
    return np.concatenate([window_query(probes[english], 0.0, weight), window_query(probes[~english], 1.0, weight)])


def _previous_terms(index_dir: Path) -> dict[str, list[str]]:
    """The served generation's jieba terms by chunk text key, so only new text is tokenised."""
    name = current_name(index_dir)
    try:
        cached = json.loads((index_dir / name / "lexical_terms.json").read_text("utf-8")) if name else {}
    except (OSError, ValueError):
        return {}
    return cached.get("terms", {}) if cached.get("version") == lexical.LEXICAL_VERSION else {}


def _prune(index_dir: Path, keep: str) -> None:
    """Drop unfinished work and all but the newest KEEP_GENERATIONS generations."""
    _drop_unfinished(index_dir)
    others = sorted(p for p in index_dir.glob("gen-*") if p.is_dir() and p.name != keep)
    for old in others[: max(0, len(others) - (KEEP_GENERATIONS - 1))]:
        shutil.rmtree(old, ignore_errors=True)
