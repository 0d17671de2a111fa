"""Search: fuse dense and lexical evidence into cited passages.

The `Searcher` serves the generation CURRENT points at and picks up a new one between
requests, so a rebuild never interrupts answering. A question is embedded once
(`query: ` prompt) and scored against every chunk by FAISS; its jieba terms are scored by
BM25; the two are fused with weights that depend on the question, and near-duplicate
passages collapse into one hit that lists where else the text appears.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field

import numpy as np

from . import lexical
from .config import Settings
from .index import Generation, IndexCorrupt, current_name, load_generation
from .model import Embedder

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000
DENSE_CANDIDATES = 100


class EmptyQuestion(ValueError):
    """The question has no searchable content."""


@dataclass(frozen=True)
class Hit:
    """A cited passage: `text` is `document[start:end]` up to whitespace and removed noise."""

    doc: str
    title: str
    section: tuple[str, ...]
    text: str
    start: int
    end: int
    line_start: int
    line_end: int
    score: float
    also_in: tuple[dict, ...] = ()

    def to_json(self) -> dict:
        return {
            "doc": self.doc, "title": self.title, "section": list(self.section), "text": self.text,
            "start": self.start, "end": self.end, "line_start": self.line_start,
            "line_end": self.line_end, "score": round(self.score, 6),
            "also_in": list(self.also_in),
        }


@dataclass(frozen=True)
class SearchResult:
    question: str
    expanded_query: str
    hits: list[Hit] = field(default_factory=list)
    abstained: bool = False

    def to_json(self) -> dict:
        return {
            "question": self.question, "expanded_query": self.expanded_query,
            "abstained": self.abstained, "hits": [h.to_json() for h in self.hits],
        }


def clean_question(question: str) -> str:
    """The question without control characters and lone surrogates; raises EmptyQuestion."""
    text = "".join(
        " " if ch.isspace() else ch for ch in str(question)
        if not (0xD800 <= ord(ch) <= 0xDFFF) and (ch.isprintable() or ch.isspace())
    )
    text = re.sub(r"\s+", " ", text).strip()[:MAX_QUESTION_CHARS]
    if not re.search(r"\w", text):
        raise EmptyQuestion("问题为空：请输入要查找的内容。")
    return text


def cjk_share(text: str) -> float:
    letters = [ch for ch in text if ch.isalnum()]
    return sum(bool(lexical.CJK.match(ch)) for ch in letters) / len(letters) if letters else 0.0


class Searcher:
    """Answers questions from the current index generation of `settings.index`."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None):
        self.settings = settings
        self._embedder = embedder
        self._generation: Generation | None = None
        self._lock = threading.Lock()

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = Embedder(self.settings.model)
            return self._embedder

    @property
    def generation(self) -> Generation:
        """The served generation, reloaded when a build has switched CURRENT."""
        name = current_name(self.settings.index)
        with self._lock:
            if self._generation is None or (name and name != self._generation.name):
                try:
                    self._generation = load_generation(self.settings.index)
                except IndexCorrupt:
                    if self._generation is None:
                        raise
                    log.exception("new index generation %s unreadable; still serving %s",
                                  name, self._generation.name)
            return self._generation

    def search(self, question: str, k: int = 5) -> SearchResult:
        """The k best passages for `question`; raises EmptyQuestion for a blank one."""
        text = clean_question(question)
        k = max(1, min(int(k), 50))
        generation = self.generation
        query_vector = self.embedder.encode_queries([text])
        dense = self._dense_scores(generation, query_vector)
        lexical_scores = generation.lexical.scores(lexical.terms(text))
        fused = self._fuse(text, dense, lexical_scores)
        return SearchResult(question=text, expanded_query=text, hits=self._hits(generation, fused, k))

    @staticmethod
    def _dense_scores(generation: Generation, query_vector: np.ndarray) -> np.ndarray:
        """Cosine similarity of every chunk (-1 for chunks outside the FAISS candidates)."""
        n = generation.dense.ntotal
        scores = np.full(n, -1.0, np.float32)
        if n:
            values, rows = generation.dense.search(query_vector, min(DENSE_CANDIDATES, n))
            valid = rows[0] >= 0
            scores[rows[0][valid]] = values[0][valid]
        return scores

    @staticmethod
    def _fuse(text: str, dense: np.ndarray, lexical_scores: np.ndarray) -> np.ndarray:
        lexical_weight = 0.5 * cjk_share(text)
        top = float(lexical_scores.max()) if lexical_scores.size else 0.0
        lexical_part = lexical_scores / top if top > 0 else lexical_scores
        return (1 - lexical_weight) * dense + lexical_weight * lexical_part

    @staticmethod
    def _hits(generation: Generation, fused: np.ndarray, k: int) -> list[Hit]:
        """The k best chunks, one per near-duplicate group, each listing its other copies."""
        hits: list[Hit] = []
        seen_groups: set[int] = set()
        for row in np.argsort(-fused, kind="stable"):
            if len(hits) == k:
                break
            group = generation.duplicate_of[row]
            if group in seen_groups:
                continue
            seen_groups.add(group)
            chunk = generation.chunks[row]
            also_in = tuple(
                {"doc": other.doc, "line_start": other.line_start, "line_end": other.line_end}
                for other in (generation.chunks[r] for r in generation.near_duplicates(row))
            )
            hits.append(Hit(
                doc=chunk.doc, title=chunk.title, section=chunk.section, text=chunk.text,
                start=chunk.start, end=chunk.end, line_start=chunk.line_start,
                line_end=chunk.line_end, score=float(fused[row]), also_in=also_in,
            ))
        return hits
