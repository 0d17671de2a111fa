"""Where search gets its candidates: a dense store and a lexical store behind small protocols.

Search asks each store for its best candidates with the filters already applied — the way a
server-side store answers (PostgreSQL + pgvector with a WHERE clause, OpenSearch with a
filter) — and fuses only the union of what came back (`app/search.py`). Nothing outside this
module touches FAISS or the BM25 matrix.

- `DenseStore`: `search(query, cjk_share, filters) -> DenseCandidates`, `best_cosine(query)`,
  `count`. `FaissDenseStore` is the embedded default: FAISS over the chunk vectors and over
  their sentence windows, with the windows' hub correction (`window_query`; the build writes
  the bias columns) kept inside, since only this store needs it. `NumpyDenseStore` does the
  same by brute force over the stored vectors; it is the reference the tests compare FAISS with.
- `LexicalStore`: `search(terms, filters, depth) -> (rows, scores)`. `Bm25Store` wraps the
  in-process BM25 index.
- `Filters`: documents and articles (first heading of a section path); each store turns them
  into what it filters on (row ids for FAISS and BM25; a WHERE clause for a database).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .chunks import Chunk

SEARCH_DEPTH = 100  # chunk vectors a dense search reads
WINDOW_DEPTH = 400  # window vectors a dense search reads (a chunk has ~4 windows)
LEXICAL_DEPTH = 1000  # BM25 candidates: on the seeds every matching chunk, so fusion is exact


@dataclass(frozen=True)
class Filters:
    """Restrict a search to some documents and/or articles; empty means everything."""

    documents: frozenset[str] = frozenset()
    articles: frozenset[str] = frozenset()

    @classmethod
    def of(cls, documents: Collection[str] = (), articles: Collection[str] = ()) -> "Filters":
        return cls(frozenset(documents or ()), frozenset(articles or ()))

    def __bool__(self) -> bool:
        return bool(self.documents or self.articles)

    def allows(self, chunk: Chunk) -> bool:
        return (not self.documents or chunk.doc in self.documents) and \
            (not self.articles or (chunk.section[:1] or ("",))[0] in self.articles)

    def rows(self, chunks: Sequence[Chunk]) -> np.ndarray | None:
        """The chunk rows these filters allow, ascending (None: all)."""
        if not self:
            return None
        return np.asarray([row for row, chunk in enumerate(chunks) if self.allows(chunk)], np.int64)


class ChunkRows:
    """The chunks the embedded stores share, and the rows each filter allows, worked out once
    per filter however many stores ask (a filtered search asks the dense and the lexical one)."""

    CACHED = 64

    def __init__(self, chunks: Sequence[Chunk]):
        self.chunks = chunks
        self._allowed: dict[Filters, np.ndarray | None] = {}
        self._lock = threading.Lock()  # searches run in several threads

    @classmethod
    def of(cls, chunks: "Sequence[Chunk] | ChunkRows") -> "ChunkRows":
        return chunks if isinstance(chunks, ChunkRows) else cls(chunks)

    def allowed(self, filters: Filters) -> np.ndarray | None:
        if not filters:
            return None
        with self._lock:
            if filters not in self._allowed:
                if len(self._allowed) >= self.CACHED:
                    self._allowed.pop(next(iter(self._allowed)))
                self._allowed[filters] = filters.rows(self.chunks)
            return self._allowed[filters]


@dataclass(frozen=True)
class DenseCandidates:
    """A dense search's candidate chunks, best first. A chunk's score mixes its own cosine with
    its best sentence window's corrected cosine. A chunk that is no candidate counts as the
    floor: the lowest values the search read (at most that, and far below the top, where fusion
    ignores dense differences anyway)."""

    rows: np.ndarray  # chunk rows, by descending score (ties by row)
    score: np.ndarray
    cosine: np.ndarray
    sentence: np.ndarray
    floor: tuple[float, float, float] = (0.0, 0.0, 0.0)  # (score, cosine, sentence) of a non-candidate

    @functools.cached_property
    def _position(self) -> dict[int, int]:
        return {int(r): i for i, r in enumerate(self.rows)}

    def values(self, rows: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(score, cosine, sentence) of any chunk rows, the floor for non-candidates."""
        found = np.asarray([self._position.get(int(r), -1) for r in rows], np.int64)
        out = []
        for values, floor in zip((self.score, self.cosine, self.sentence), self.floor):
            column = np.full(len(found), floor, np.float32)
            column[found >= 0] = values[found[found >= 0]]
            out.append(column)
        return out[0], out[1], out[2]

    def rank(self, row: int) -> int:
        """1 + the number of chunks that score higher than `row` (every such chunk is a candidate)."""
        score = self.values([row])[0][0]
        return int((self.score > score).sum()) + 1


class DenseStore(Protocol):
    def search(self, query: np.ndarray, cjk_share: float, filters: Filters = Filters()) -> DenseCandidates: ...

    def best_cosine(self, query: np.ndarray) -> float: ...

    @property
    def count(self) -> int: ...


class LexicalStore(Protocol):
    def search(self, terms: dict[str, float], filters: Filters = Filters(),
               depth: int = LEXICAL_DEPTH) -> tuple[np.ndarray, np.ndarray]: ...


def _mix(cosine_rows: np.ndarray, cosines: np.ndarray, window_chunks: np.ndarray, window_values: np.ndarray,
         share: float) -> DenseCandidates:
    """Candidates from the chunk hits (row, cosine) and window hits (owning row, corrected cosine)."""
    cos_floor = float(cosines.min()) if len(cosines) else 0.0
    win_floor = float(window_values.min()) if len(window_values) else cos_floor
    if not len(window_chunks):  # no windows: the chunk's own cosine is its sentence score too
        window_chunks, window_values, win_floor = cosine_rows, cosines, cos_floor
    rows = np.union1d(cosine_rows, window_chunks).astype(np.int64)
    cosine = np.full(len(rows), cos_floor, np.float32)
    np.maximum.at(cosine, np.searchsorted(rows, cosine_rows), cosines)
    sentence = np.full(len(rows), win_floor, np.float32)
    np.maximum.at(sentence, np.searchsorted(rows, window_chunks), window_values)
    score = ((1 - share) * cosine + share * sentence).astype(np.float32)
    order = np.lexsort((rows, -score))
    floor = (float((1 - share) * cos_floor + share * win_floor), cos_floor, win_floor)
    return DenseCandidates(rows[order], score[order], cosine[order], sentence[order], floor)


class _ChunksAndWindows:
    """A dense search over chunk vectors and sentence-window vectors; the subclasses say how
    the best allowed vectors of each are found."""

    def __init__(self, chunks, window_chunk: np.ndarray | None, has_windows: bool,
                 window_share: float, window_bias: float):
        self.rows = ChunkRows.of(chunks)
        self.window_chunk = window_chunk if window_chunk is not None else np.zeros(0, np.int64)
        self.has_windows = bool(has_windows and window_share)
        self.share = window_share if self.has_windows else 0.0
        self.bias = window_bias

    def search(self, query: np.ndarray, cjk_share: float, filters: Filters = Filters()) -> DenseCandidates:
        allowed = self.rows.allowed(filters)
        rows, cosines = self._top_chunks(query, SEARCH_DEPTH, allowed)
        owners, values = np.zeros(0, np.int64), np.zeros(0, np.float32)
        if self.has_windows:
            windows = None if allowed is None else np.flatnonzero(np.isin(self.window_chunk, allowed))
            found, values = self._top_windows(window_query(query, cjk_share, self.bias), WINDOW_DEPTH, windows)
            owners = self.window_chunk[found]
        return _mix(rows, cosines, owners, values, self.share)

    def _top_chunks(self, query, depth, allowed) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _top_windows(self, query, depth, allowed) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


class FaissDenseStore(_ChunksAndWindows):
    """FAISS over chunk vectors and sentence-window vectors (the embedded default). Filters
    become FAISS ID selectors, so the candidates are the best allowed ones, not the best ones
    with the disallowed removed afterwards."""

    def __init__(self, chunks, dense, windows=None, window_chunk: np.ndarray | None = None,
                 window_share: float = 0.65, window_bias: float = 0.5):
        super().__init__(chunks, window_chunk, windows is not None and windows.ntotal, window_share, window_bias)
        self.dense = dense
        self.windows = windows

    @property
    def count(self) -> int:
        return int(self.dense.ntotal)

    def best_cosine(self, query: np.ndarray) -> float:
        values, _ = self.dense.search(query, 1)
        return float(values[0][0])

    def _top_chunks(self, query, depth, allowed):
        return self._search(self.dense, query, depth, allowed)

    def _top_windows(self, query, depth, allowed):
        return self._search(self.windows, query, depth, allowed)

    @staticmethod
    def _search(index, query: np.ndarray, depth: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        if not index.ntotal or (allowed is not None and not len(allowed)):
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        params = None
        if allowed is not None:
            selector = faiss.IDSelectorBatch(allowed)
            params = (faiss.SearchParametersIVF(sel=selector, nprobe=index.nprobe) if hasattr(index, "nprobe")
                      else faiss.SearchParameters(sel=selector))
        values, found = index.search(query, min(depth, index.ntotal), params=params)
        valid = found[0] >= 0
        return found[0][valid].astype(np.int64), values[0][valid].astype(np.float32)


class NumpyDenseStore(_ChunksAndWindows):
    """The same search by brute force over the vectors: the reference for the FAISS store."""

    def __init__(self, chunks, vectors: np.ndarray, window_vectors: np.ndarray | None = None,
                 window_chunk: np.ndarray | None = None, window_share: float = 0.65, window_bias: float = 0.5):
        super().__init__(chunks, window_chunk, window_vectors is not None and len(window_vectors),
                         window_share, window_bias)
        self.vectors = vectors
        self.window_vectors = window_vectors

    @property
    def count(self) -> int:
        return len(self.vectors)

    def best_cosine(self, query: np.ndarray) -> float:
        return float((self.vectors @ query[0]).max())

    def _top_chunks(self, query, depth, allowed):
        return self._top(self.vectors @ query[0], depth, allowed)

    def _top_windows(self, query, depth, allowed):
        return self._top(self.window_vectors @ query[0], depth, allowed)

    @staticmethod
    def _top(scores: np.ndarray, depth: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        ids = np.arange(len(scores)) if allowed is None else allowed
        order = ids[np.lexsort((ids, -scores[ids]))][:depth]
        return order.astype(np.int64), scores[order].astype(np.float32)


def window_query(query: np.ndarray, cjk_share: float, bias_weight: float) -> np.ndarray:
    """Question vectors (n, dim) extended so that their inner product with `with_bias` vectors
    is the cosine minus `bias_weight` times the window's closeness to questions of the
    question's language (English and Chinese mixed by the question's share of CJK)."""
    columns = np.tile(np.array([[-bias_weight * (1 - cjk_share), -bias_weight * cjk_share]], np.float32), (len(query), 1))
    return np.ascontiguousarray(np.hstack([query.astype(np.float32), columns]))


def embedded_stores(generation, window_share: float, window_bias: float) -> tuple[DenseStore, LexicalStore]:
    """The stores of an index generation on this machine: FAISS and in-process BM25. A
    server-side store (PostgreSQL + pgvector) would be opened here instead."""
    rows = ChunkRows(generation.chunks)
    dense = FaissDenseStore(rows, generation.dense, generation.windows, generation.window_chunk,
                            window_share, window_bias)
    return dense, Bm25Store(rows, generation.lexical)


class Bm25Store:
    """The in-process BM25 index; filters restrict the rows it ranks."""

    def __init__(self, chunks, index):
        self.rows = ChunkRows.of(chunks)
        self.index = index

    def search(self, terms: dict[str, float], filters: Filters = Filters(),
               depth: int = LEXICAL_DEPTH) -> tuple[np.ndarray, np.ndarray]:
        """Rows with a positive BM25 score, best first (ties by row), at most `depth`, and their scores."""
        scores = self.index.scores(terms)
        allowed = self.rows.allowed(filters)
        rows = np.flatnonzero(scores > 0)
        if allowed is not None:
            rows = np.intersect1d(rows, allowed)
        rows = rows[np.lexsort((rows, -scores[rows]))][:depth]
        return rows.astype(np.int64), scores[rows].astype(np.float32)
