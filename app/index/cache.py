"""The embedding cache: vectors by text hash, per model and arithmetic, shared by every
generation, so only text never seen before is embedded."""

from __future__ import annotations

import os
import time
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..folding import simplified
from ..model import Embedder
from .files import text_key

EMBED_STEP = 128  # passages embedded between progress reports and cache writes

Progress = Callable[[str, int, int], None]


def cache_folder(index_dir: Path, identity: dict) -> Path:
    """Where the embeddings of one model (`identity`) in one arithmetic (its `precision`) are
    kept: an index's vectors all come from one of them (f32 keeps the folder it always had)."""
    precision = identity["precision"]
    name = identity["fingerprint"] if precision == "f32" else f"{identity['fingerprint']}-{precision}"
    return index_dir / "cache" / name


def readings_folder(index_dir: Path) -> Path:
    """Where slow readings of files (OCR, conversions) are kept, by file hash (app/formats)."""
    return index_dir / "cache" / "readings"


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


def embedding_item(text: str) -> tuple[str, str]:
    """(cache key, text to embed): passages are embedded in Simplified script, as questions are
    (app/folding.py), so a Traditional summary and a Simplified question meet; Simplified text,
    and so its cached vector, is unchanged."""
    embedded = simplified(text)
    return text_key(embedded), embedded


def embed(items: list[tuple[str, str]], cache: EmbeddingCache, embedder: Embedder,
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

