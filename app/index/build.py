"""Building: scan the seeds, reuse what is unchanged, embed the rest, write a new generation
beside the served one and switch to it atomically; refuse early when the disk cannot hold it."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import furniture, lexical, neardup
from ..chunks import CHUNKING_VERSION, WINDOW_MIN_CHARS, chunk_document, sentence_windows, window_text
from ..documents import SkippedFile, discover, load
from ..model import Embedder, file_sha256, model_identity
from ..translate import Dictionary, table_identity
from .cache import EmbeddingCache, Progress, cache_folder, embed, embedding_item, readings_folder
from .dense import dense_index, probe_questions, window_probes, with_bias, write_indexes
from .files import MB, IndexLocked, IndexNoSpace, IndexProblem, fsync_dir, text_key, write_durably
from .generation import MANIFEST_VERSION, chunk_from_row, current_name, incompatibility, load_manifest, outdated

KEEP_GENERATIONS = 2
BYTES_PER_CHUNK = 30_000  # a generation per chunk when none exists yet to measure (seeds: 22.5 kB)
SPACE_MARGIN = 1.5  # the embedding cache grows by about a third of a generation


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
    # How each file read in this build was read, beyond plain text: converter, pages, OCR'd pages,
    # mean OCR confidence, tables, and what was left out (app/formats Extracted.summary).
    readings: dict[str, dict] = field(default_factory=dict)
    # Lines found to be site furniture by repetition (app/furniture.py): text and how many documents hold it.
    furniture: list[dict] = field(default_factory=list)

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


def _rules_changed(manifest: dict) -> str | None:
    """Why an index that still answers (its vectors and terms fit) should be built again: the
    furniture rule or the English table it was made with changed. None when neither did."""
    if manifest.get("furniture_version") != furniture.FURNITURE_VERSION:
        return "模板行识别规则已更新"
    if manifest.get("translations") != table_identity():
        return "英文检索词表已更新"
    return None


def is_stale(seeds: Path, index_dir: Path, model_dir: Path) -> tuple[bool, str]:
    """Whether the served index differs from seeds/, the model or the chunking; and why."""
    manifest = load_manifest(index_dir)
    if manifest is None:
        return True, "索引不存在"
    reason = outdated(manifest, model_identity(model_dir))
    if reason:
        return True, reason
    reason = _rules_changed(manifest)
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
    progress: Progress | None = None, embedder: Embedder | None = None, precision: str | None = None,
) -> BuildReport:
    """Bring the index in `index_dir` up to date with `seeds`; returns what was done. Passages
    are embedded by `embedder`, else by one made here in `precision` (see model.passage_precision)."""
    began = time.perf_counter()
    progress = progress or (lambda stage, done, total: None)
    with build_lock(index_dir):
        try:
            report = _build_locked(seeds, index_dir, model_dir, full, progress, embedder, precision)
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


def _build_locked(seeds, index_dir, model_dir, full, progress, embedder, precision) -> BuildReport:
    identity = model_identity(model_dir)
    manifest = None if full else load_manifest(index_dir)
    previous_folder = index_dir / current_name(index_dir) if manifest else None
    compatible = manifest is not None and incompatibility(manifest, identity) is None
    previous_docs = {d["path"]: d for d in manifest["documents"]} if manifest else {}
    previous_rows = _previous_chunks(previous_folder) if compatible else {}

    scan = _scan(seeds)
    report = BuildReport(skipped=list(scan.skipped))
    previous_lines = _previous_lines(previous_folder) if manifest else {}
    documents, chunk_rows, lines = _read_documents(seeds, scan, previous_docs, previous_rows, report, progress,
                                                   readings_folder(index_dir), previous_lines)
    report.removed = sorted(set(previous_docs) - {d["path"] for d in documents})
    report.documents, report.chunks = len(documents), len(chunk_rows)

    if compatible and not (report.added or report.changed or report.removed) \
            and _same_skips(manifest, report.skipped) and outdated(manifest, identity) is None \
            and _rules_changed(manifest) is None and _same_lines(previous_lines, lines):
        report.reused_chunks = report.chunks
        report.windows = report.reused_windows = manifest["window_index"]["windows"]
        report.unchanged = True
        report.generation = current_name(index_dir)
        return report

    _check_space(index_dir, len(chunk_rows))
    embedder = embedder or Embedder(model_dir, precision)  # loads the model only when something is embedded
    identity = dict(identity, precision=embedder.passage_precision)  # every vector in one arithmetic
    cache = EmbeddingCache(cache_folder(index_dir, identity), identity["dimension"])
    vectors, report.embedded_chunks = embed(
        [embedding_item(chunk_from_row(row).indexed_text) for row in chunk_rows], cache, embedder, progress,
        "embedding")
    report.reused_chunks = len(chunk_rows) - report.embedded_chunks
    windows = [(number, start, end) for number, row in enumerate(chunk_rows)
               for start, end in sentence_windows(row["text"])]
    texts = [window_text(chunk_rows[number]["text"], (start, end)) for number, start, end in windows]
    window_vectors, report.embedded_windows = embed(
        [embedding_item(text) for text in texts], cache, embedder, progress, "windows")
    report.windows, report.reused_windows = len(windows), len(windows) - report.embedded_windows
    _mark_duplicates(chunk_rows)
    probes = probe_questions(embedder)
    report.generation = _write_generation(
        index_dir, chunk_rows, vectors, identity, documents, report, progress, probes,
        (np.array(windows, np.int64).reshape(-1, 3), with_bias(window_vectors, probes)), lines,
    )
    return report


def _read_documents(seeds: Path, scan: _Scan, previous_docs: dict[str, dict], previous_rows: dict[str, list[dict]],
                    report: BuildReport, progress: Progress, readings: Path,
                    previous_lines: dict) -> tuple[list[dict], list[dict], dict]:
    """Each usable document's manifest entry and chunk rows, and the corpus's furniture lines
    (app/furniture.py) for the next build. An unchanged document's rows are reused
    (`previous_rows`, empty when they cannot be) unless the lines found to be furniture changed
    among its own; the others are read and chunked. Records added, changed and unusable files in
    `report`."""
    before_furniture = frozenset(previous_lines.get("repeated", {}))
    known_texts = dict(previous_lines.get("repeated", {}))
    reused_lines = previous_lines.get("documents", {})
    documents, rows_of, fingerprints = {}, {}, {}
    for number, (name, (path, sha, size)) in enumerate(sorted(scan.files.items()), 1):
        progress("documents", number, len(scan.files))
        before = previous_docs.get(name)
        if before is None:
            report.added.append(name)
        elif before["sha256"] != sha:
            report.changed.append(name)
        if before and before["sha256"] == sha and name in previous_rows and name in reused_lines:
            rows_of[name], fingerprints[name] = previous_rows[name], furniture.Lines.from_json(reused_lines[name])
            documents[name] = before
            continue
        try:
            document = load(path, seeds, readings)
        except SkippedFile as skipped:
            report.skipped.append({"file": skipped.path, "reason": skipped.reason})
            if name in report.added:
                report.added.remove(name)
            continue
        fingerprints[name] = furniture.Lines.of(document)
        rows_of[name] = _chunk_rows(document, before_furniture)
        reading = document.extracted.summary() if document.extracted.converter != "text" else None
        if reading:
            report.readings[name] = reading
        documents[name] = {"path": name, "sha256": sha, "size": size, "encoding": document.encoding,
                           **({"reading": reading} if reading else {})}
    found = furniture.repeated(fingerprints)
    _chunk_again(seeds, scan, readings, fingerprints, found, before_furniture, rows_of, known_texts)
    report.furniture = _furniture_report(found, fingerprints, known_texts)
    entries = [{k: v for k, v in entry.items() if k != "chunks"} | {"chunks": len(rows_of[name])}
               for name, entry in documents.items()]
    lines = {"version": furniture.FURNITURE_VERSION, "repeated": {k: known_texts.get(k, "") for k in sorted(found)},
             "documents": {name: fingerprint.to_json() for name, fingerprint in fingerprints.items()}}
    return entries, [row for name in documents for row in rows_of[name]], lines


def _chunk_again(seeds: Path, scan: _Scan, readings: Path, fingerprints: dict[str, furniture.Lines],
                 found: frozenset[str], before: frozenset[str], rows_of: dict[str, list[dict]],
                 known_texts: dict[str, str]) -> None:
    """Chunk again (into `rows_of`) every document whose own lines gained or lost furniture since
    `before`, reading it once more (slow readings come from the cache); every new furniture
    line's text is read here, into `known_texts`."""
    for name in sorted(n for n, lines in fingerprints.items() if lines.short & (found ^ before)):
        try:
            document = load(scan.files[name][0], seeds, readings)
        except SkippedFile:
            continue  # changed under the build: its rows as read stay, the next build reads it again
        known_texts.update(furniture.texts(document, found))
        rows_of[name] = _chunk_rows(document, found)


def _chunk_rows(document, found: frozenset[str]) -> list[dict]:
    return [dict(c.to_json(), key=text_key(c.indexed_text)) for c in chunk_document(furniture.strip(document, found))]


def _furniture_report(found: frozenset[str], fingerprints: dict, known_texts: dict[str, str]) -> list[dict]:
    holders = {key: sum(key in lines.short for lines in fingerprints.values()) for key in found}
    return [{"key": key, "text": known_texts.get(key, ""), "documents": holders[key]}
            for key in sorted(found, key=lambda k: (-holders[k], known_texts.get(k, "")))]


def _previous_lines(folder: Path) -> dict:
    """The served generation's furniture lines and fingerprints; empty when there are none to trust."""
    try:
        lines = json.loads((folder / "lines.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return lines if lines.get("version") == furniture.FURNITURE_VERSION else {}


def _same_lines(before: dict, now: dict) -> bool:
    """Whether the served generation already holds these fingerprints and furniture lines."""
    return (set(before.get("documents", {})) == set(now["documents"])
            and set(before.get("repeated", {})) == set(now["repeated"]))


def _same_skips(manifest: dict, skipped: list[dict]) -> bool:
    return sorted(s["file"] for s in manifest.get("skipped", [])) == sorted(s["file"] for s in skipped)


def _mark_duplicates(rows: list[dict]) -> None:
    """Near-duplicate chunks share `duplicate_of`: the row number of their group's first chunk."""
    for row, first in zip(rows, neardup.groups([row["text"] for row in rows])):
        row["duplicate_of"] = first


def _write_generation(index_dir, rows, vectors, identity, documents, report, progress, probes, windows,
                      lines) -> str:
    progress("writing", 0, 1)
    name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
    work = index_dir / (name + ".tmp")
    work.mkdir(parents=True)
    (work / "chunks.jsonl").write_text(
        "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), "utf-8"
    )
    np.save(work / "vectors.npy", vectors)
    (work / "lines.json").write_text(json.dumps(lines, ensure_ascii=False, separators=(",", ":")), "utf-8")
    dense, dense_info = dense_index(vectors, probes)
    window_rows, window_vectors = windows
    np.save(work / "windows.npy", window_rows)
    window_index, window_info = dense_index(window_vectors, window_probes(probes))
    write_indexes(work, dense, window_index)
    known = _previous_terms(index_dir)
    terms = [known.get(row["key"]) or lexical.terms(chunk_from_row(row).indexed_text) for row in rows]
    (work / "lexical_terms.json").write_text(json.dumps(
        {"version": lexical.lexical_identity(), "terms": {row["key"]: t for row, t in zip(rows, terms)}},
        ensure_ascii=False, separators=(",", ":")), "utf-8")
    lexical_index = lexical.LexicalIndex.build(terms)
    lexical_index.save(work)
    Dictionary.from_cedict(t for t in lexical_index.vocabulary if not t.startswith("§")).save(work)
    files = {p.name: file_sha256(p) for p in sorted(work.iterdir())}
    manifest = {
        "version": MANIFEST_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "model": {k: identity[k] for k in ("name", "dimension", "fingerprint", "precision")},
        "chunking_version": CHUNKING_VERSION,
        "lexical_version": lexical.lexical_identity(),
        "furniture_version": furniture.FURNITURE_VERSION,
        "translations": table_identity(),
        "dense_index": dense_info,
        "window_index": dict(window_info, windows=len(window_rows), min_chars=WINDOW_MIN_CHARS),
        "documents": documents,
        "skipped": report.skipped,
        "furniture": report.furniture,
        "chunks": len(rows),
        "files": files,
    }
    write_durably(work / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode())
    for path in work.iterdir():
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())
    fsync_dir(work)
    os.replace(work, index_dir / name)
    fsync_dir(index_dir)
    pointer = index_dir / "CURRENT.tmp"
    write_durably(pointer, name.encode())
    os.replace(pointer, index_dir / "CURRENT")
    fsync_dir(index_dir)
    _prune(index_dir, keep=name)
    progress("writing", 1, 1)
    return name


def _previous_terms(index_dir: Path) -> dict[str, list[str]]:
    """The served generation's jieba terms by chunk text key, so only new text is tokenised."""
    name = current_name(index_dir)
    try:
        cached = json.loads((index_dir / name / "lexical_terms.json").read_text("utf-8")) if name else {}
    except (OSError, ValueError):
        return {}
    return cached.get("terms", {}) if cached.get("version") == lexical.lexical_identity() else {}


def _prune(index_dir: Path, keep: str) -> None:
    """Drop unfinished work and all but the newest KEEP_GENERATIONS generations."""
    _drop_unfinished(index_dir)
    others = sorted(p for p in index_dir.glob("gen-*") if p.is_dir() and p.name != keep)
    for old in others[: max(0, len(others) - (KEEP_GENERATIONS - 1))]:
        shutil.rmtree(old, ignore_errors=True)

