"""A built generation: loading and verifying it, its manifest, and whether it can be reused."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import lexical
from ..chunks import CHUNKING_VERSION, Chunk
from ..model import file_sha256
from ..translate import Dictionary
from . import dense as dense_files
from .files import IndexCorrupt, IndexMissing

MANIFEST_VERSION = 4


@dataclass
class Generation:
    """One loaded, complete index generation."""

    name: str
    folder: Path
    manifest: dict
    chunks: list[Chunk]
    keys: list[str]
    dense: Any  # the chunk vectors' index (app/index/dense.py writes it, app/stores.py searches it)
    lexical: lexical.LexicalIndex
    translations: Dictionary
    duplicate_of: list[int] = field(default_factory=list)  # chunk row -> row of its group's first
    windows: Any = None  # the sentence windows' index, searched with `window_query` vectors
    window_chunk: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # window -> chunk row

    def __post_init__(self):
        self._members: dict[int, list[int]] = {}
        for row, first in enumerate(self.duplicate_of):
            self._members.setdefault(first, []).append(row)

    def near_duplicates(self, row: int) -> list[int]:
        """The other rows whose text is a near-duplicate of `row`'s."""
        return [r for r in self._members.get(self.duplicate_of[row], []) if r != row]

    @functools.cached_property
    def furniture(self) -> frozenset[str]:
        """Keys of the lines found to be site furniture by repetition (app/furniture.py)."""
        return frozenset(line["key"] for line in self.manifest.get("furniture", []))

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
    name = current_name(index_dir)
    if name is None:
        raise IndexMissing(f"索引不存在：{index_dir}。请先运行 python build_index.py 构建索引。")
    folder = index_dir / name
    try:
        manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
        for file_name, expected in manifest["files"].items():
            if file_sha256(folder / file_name) != expected:
                raise IndexCorrupt(f"索引文件已损坏：{folder / file_name}（校验和不符）。"
                                   "请运行 python build_index.py --full 重建索引。")
        rows = [json.loads(line) for line in (folder / "chunks.jsonl").read_text("utf-8").splitlines()]
        dense, windows = dense_files.read_indexes(folder)
        lexical_index = lexical.LexicalIndex.load(folder)
        translations = Dictionary.load(folder)
        window_rows = np.load(folder / "windows.npy")
    except IndexCorrupt:
        raise
    except (OSError, ValueError, KeyError, RuntimeError) as error:
        raise IndexCorrupt(f"索引无法读取：{folder}（{error}）。请运行 python build_index.py --full 重建索引。") from error
    chunks = [chunk_from_row(row) for row in rows]
    if dense.ntotal != len(chunks) or lexical_index.weights.shape[0] != len(chunks) \
            or windows.ntotal != len(window_rows) or (len(window_rows) and window_rows[:, 0].max() >= len(chunks)):
        raise IndexCorrupt(f"索引各部分的条目数不一致：{folder}。请运行 python build_index.py --full 重建索引。")
    return Generation(
        name=name, folder=folder, manifest=manifest, chunks=chunks,
        keys=[row["key"] for row in rows], dense=dense, lexical=lexical_index, translations=translations,
        duplicate_of=[row.get("duplicate_of", i) for i, row in enumerate(rows)],
        windows=windows, window_chunk=window_rows[:, 0].astype(np.int64),
    )


def chunk_from_row(row: dict) -> Chunk:
    return Chunk(
        doc=row["doc"], title=row["title"], section=tuple(row["section"]), text=row["text"],
        start=row["start"], end=row["end"], line_start=row["line_start"], line_end=row["line_end"],
        page_start=row.get("page_start", 0), page_end=row.get("page_end", 0),
    )


def load_manifest(index_dir: Path) -> dict | None:
    """The manifest of the served generation, or None when there is none (or it is unreadable)."""
    name = current_name(index_dir)
    if name is None:
        return None
    try:
        return json.loads((index_dir / name / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None


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
    if reason is None and manifest.get("lexical_version") != lexical.lexical_identity():
        reason = "词项切分规则已更新"
    return reason

