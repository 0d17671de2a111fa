"""The FAISS side of a build: the indexes written for chunk and window vectors (exact, or an
inverted file tuned on probe questions above EXACT_SEARCH_UP_TO), the windows' bias columns,
and reading the indexes back. Searching them is `app/stores.py`'s job."""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import lexical
from ..config import FusionWeights, data_lines
from ..model import Embedder
from ..stores import SEARCH_DEPTH, window_query

if TYPE_CHECKING:
    import faiss

# Exact inner-product search up to this many chunks; above it an inverted file, searched
# deep enough that its top 10 agree with exact search on RECALL_TARGET of probe questions.
EXACT_SEARCH_UP_TO = 50_000
RECALL_TARGET = 0.995  # on the probes: a margin for questions unlike them (the goal is 0.99)


CHUNK_INDEX = "dense.faiss"  # file names inside a generation folder
WINDOW_INDEX = "windows.faiss"


def read_indexes(folder: Path) -> tuple["faiss.Index", "faiss.Index"]:
    """The chunk and window indexes of a generation folder."""
    import faiss

    return faiss.read_index(str(folder / CHUNK_INDEX)), faiss.read_index(str(folder / WINDOW_INDEX))


def write_indexes(folder: Path, chunks: "faiss.Index", windows: "faiss.Index") -> None:
    import faiss

    faiss.write_index(chunks, str(folder / CHUNK_INDEX))
    faiss.write_index(windows, str(folder / WINDOW_INDEX))


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

