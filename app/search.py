"""Search: fuse dense and lexical evidence into cited passages.

The `Searcher` serves the generation CURRENT points at and picks up a new one between
requests, so a rebuild never interrupts answering. A question is embedded once
(`query: ` prompt) and scored by FAISS against every chunk and every sentence window of a
chunk (a chunk's dense score is mostly its best sentence's); its jieba terms are scored by
BM25; the two are fused with weights that depend on the question, and near-duplicate
passages collapse into one hit that lists where else the text appears.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field

import numpy as np

from . import lexical
from .chunks import Chunk
from .config import Settings
from .documents import Document, load
from .index import SEARCH_DEPTH, WINDOW_DEPTH, Generation, IndexCorrupt, current_name, load_generation, window_query
from .model import Embedder
from .translate import english_words

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000
SIGNALS = ("hybrid", "dense", "lexical")
ENGLISH = re.compile(r"[A-Za-z][A-Za-z'-]*")
ABSTAIN_DEPTH = 3  # passages whose word coverage can vouch for an answer


def _best_first(scores: np.ndarray, head: int = 256) -> Iterator[int]:
    """Row numbers by descending score (ties by row): the best `head` found by partial
    selection, the rest sorted only if a caller reads past them."""
    if len(scores) <= head:
        yield from np.argsort(-scores, kind="stable").tolist()
        return
    threshold = scores[np.argpartition(-scores, head - 1)[:head]].min()
    above = np.flatnonzero(scores > threshold)  # fewer than `head`; ties filled lowest row first
    top = np.concatenate([above, np.flatnonzero(scores == threshold)[: head - len(above)]])
    top = top[np.lexsort((top, -scores[top]))]
    yield from top.tolist()
    taken = set(top.tolist())
    yield from (row for row in np.argsort(-scores, kind="stable").tolist() if row not in taken)


def _best_per_row(index, query: np.ndarray, depth: int, count: int, owner: np.ndarray | None = None) -> np.ndarray:
    """For each of `count` rows (chunks), the best inner product of the question with its
    vectors among the `depth` FAISS candidates of `index` — the chunk's own vector, or, through
    `owner` (vector -> chunk row), its windows'. Rows without a candidate get the lowest
    candidate's value: at most that, and far below the top, where `fuse` ignores dense
    differences anyway."""
    scores = np.zeros(count, np.float32)
    if index.ntotal:
        values, found = index.search(query, min(depth, index.ntotal))
        valid = found[0] >= 0
        if valid.any():
            values, found = values[0][valid], found[0][valid]
            scores[:] = values.min()
            np.maximum.at(scores, found if owner is None else owner[found], values)
    return scores


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
    terms: tuple[str, ...] = ()  # the question's words and their translations, for highlighting

    @property
    def confidence(self) -> str:
        return "none" if self.abstained else "high"

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


@dataclass(frozen=True)
class QueryPlan:
    """How a question is searched: its own terms, and Chinese terms for its English words."""

    text: str
    cjk_share: float
    terms: dict[str, float]  # lexical term -> weight
    expansions: tuple[str, ...]
    # One entry per content word of the question: the Chinese terms that stand for it in the
    # corpus (the word itself, or an English word's translations); empty when the corpus has none.
    units: tuple[tuple[str, ...], ...] = ()

    @property
    def known_share(self) -> float:
        """Share of the question's content words the corpus knows at all."""
        return sum(bool(u) for u in self.units) / len(self.units) if self.units else 0.0

    def covered_share(self, text: str) -> float:
        """Share of the question's content words that a passage contains."""
        return sum(any(t in text for t in u) for u in self.units) / len(self.units) if self.units else 0.0

    @property
    def expanded_query(self) -> str:
        return " ".join((self.text,) + self.expansions) if self.expansions else self.text


def fuse(dense: np.ndarray, lexical_scores: np.ndarray, lexical_weight: float, dense_width: float) -> np.ndarray:
    """Convex combination of dense and BM25 scores, each scaled to [0, 1] for this query.

    Dense cosines of e5 are compressed (0.75–0.9), so they are stretched over a fixed window
    `dense_width` below the best one; BM25 is divided by its best score.
    """
    top = float(dense.max()) if dense.size else 0.0
    dense_part = np.clip((dense - (top - dense_width)) / dense_width, 0, None)
    top_lexical = float(lexical_scores.max()) if lexical_scores.size else 0.0
    lexical_part = lexical_scores / top_lexical if top_lexical > 0 else lexical_scores
    return (1 - lexical_weight) * dense_part + lexical_weight * lexical_part


class Searcher:
    """Answers questions from the current index generation of `settings.index`."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None):
        self.settings = settings
        self.fusion = settings.fusion
        self._embedder = embedder
        self._generation: Generation | None = None
        self._background: np.ndarray | None = None
        self._lock = threading.Lock()
        self._background_lock = threading.Lock()

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

    @property
    def background(self) -> np.ndarray:
        """Vectors of app/data/background.txt: general text about anything but hospital work."""
        with self._background_lock:
            if self._background is None:
                self._background = self.embedder.reference_vectors("background.txt", as_questions=False)
            return self._background

    def catalogue(self) -> dict[str, list[str]]:
        """Every indexed document with its articles (first headings), in reading order."""
        catalogue: dict[str, list[str]] = {}
        for chunk in self.generation.chunks:
            articles = catalogue.setdefault(chunk.doc, [])
            if chunk.section and chunk.section[0] not in articles:
                articles.append(chunk.section[0])
        return catalogue

    def open_document(self, doc: str) -> tuple[Document, list[Chunk]]:
        """An indexed document's source and its chunks; only documents of the index open."""
        chunks = [c for c in self.generation.chunks if c.doc == doc]
        if not chunks:
            raise KeyError(doc)
        return load(self.settings.seeds / doc, self.settings.seeds), chunks

    def plan(self, text: str, generation: Generation) -> QueryPlan:
        """The question's own lexical terms, plus weighted Chinese terms for its English words."""
        terms = dict.fromkeys(lexical.terms(text), 1.0)
        expansions = []
        for term, weight in generation.translations.translate(text):
            if term in terms:
                continue
            expansions.append(term)
            terms[term] = weight * self.fusion.translation_weight
            for bigram in lexical.terms(term):  # the translation's own sub-terms, weaker
                terms.setdefault(bigram, weight * self.fusion.translation_weight * 0.5)
        vocabulary = generation.lexical.vocabulary
        units = [(word,) if word in vocabulary else () for word in lexical.words(ENGLISH.sub(" ", text))]
        units += [tuple(t for t, _ in generation.translations.translate(word))
                  for word in english_words(text)
                  if word not in lexical.STOP_WORDS and generation.translations.is_translatable(word)]
        return QueryPlan(text, cjk_share(text), terms, tuple(expansions), tuple(units))

    def search(
        self, question: str, k: int = 5, signals: str = "hybrid",
        documents: Collection[str] = (), articles: Collection[str] = (),
    ) -> SearchResult:
        """The k best passages for `question`; raises EmptyQuestion for a blank one.

        `signals` is "hybrid" (the product), or "dense" / "lexical" alone (for evaluation);
        `documents` and `articles` (first heading of the path), when given, restrict the search.
        """
        text = clean_question(question)
        k = max(1, min(int(k), 50))
        generation = self.generation
        plan = self.plan(text, generation)
        n = len(generation.chunks)
        query = self.embedder.encode_queries([text]) if signals != "lexical" else None
        dense, chunk_cosines = (self.dense_scores(generation, query, plan.cjk_share) if query is not None
                                else (np.zeros(n, np.float32),) * 2)
        lexical_scores = generation.lexical.scores(plan.terms) if signals != "dense" else np.zeros(n, np.float32)
        if signals == "dense":
            fused = dense
        elif signals == "lexical":
            fused = lexical_scores
        else:
            fused = fuse(dense, lexical_scores, self.lexical_weight(plan), self.fusion.dense_width)
        if documents or articles:
            fused = np.where(self._allowed(generation, set(documents), set(articles)), fused, -np.inf)
        hits = self._hits(generation, fused, k)
        abstained = signals == "hybrid" and self._should_abstain(
            plan, hits, self.background_margin(query[0], chunk_cosines))
        if abstained:
            hits = []
        terms = tuple(t for t in plan.terms if not t.startswith("§"))
        return SearchResult(question=text, expanded_query=plan.expanded_query, hits=hits,
                            abstained=abstained, terms=terms)

    @staticmethod
    def _allowed(generation: Generation, documents: set[str], articles: set[str]) -> np.ndarray:
        return np.array([
            (not documents or c.doc in documents) and (not articles or (c.section[:1] or ("",))[0] in articles)
            for c in generation.chunks
        ], dtype=bool)

    def dense_scores(self, generation: Generation, query: np.ndarray, cjk: float) -> tuple[np.ndarray, np.ndarray]:
        """Dense score of every chunk, and its own cosine with the question.

        The score mixes the chunk's cosine with the corrected cosine of its best sentence
        window (`window_share` of it; see app/index.py for the correction).
        """
        count = generation.dense.ntotal
        cosines = _best_per_row(generation.dense, query, SEARCH_DEPTH, count)
        if generation.windows is None or not self.fusion.window_share:
            return cosines, cosines
        best = _best_per_row(generation.windows, window_query(query, cjk, self.fusion.window_bias),
                             WINDOW_DEPTH, count, generation.window_chunk)
        share = self.fusion.window_share
        return (1 - share) * cosines + share * best, cosines

    def lexical_weight(self, plan: QueryPlan) -> float:
        """How far to trust BM25 for this question: much for Chinese, little for translations."""
        own = self.fusion.lexical_zh * plan.cjk_share
        translated = self.fusion.lexical_en * (1 - plan.cjk_share) * bool(plan.expansions)
        return own + translated

    def background_margin(self, query: np.ndarray, dense: np.ndarray) -> float:
        """How much closer the question is to general text (weather, sport, cooking, …) than
        to the best passage of the corpus; positive when general text wins."""
        background = self.background
        if not background.size or not dense.size:
            return 0.0
        return float((background @ query).max() - dense.max())

    def _should_abstain(self, plan: QueryPlan, hits: list[Hit], background_margin: float = 0.0) -> bool:
        """No reliable passage. Any question: it is clearly closer to general text (weather,
        sport, cooking, …) than to every passage — the absolute dense similarity cannot tell,
        e5 scores "天气预报" as close to these documents as a real question. A Chinese question,
        also: the corpus knows none of its words, or few, and the best passages hold almost
        none of them. An English one reaches the corpus only through a dictionary that misses
        names and rare words, so unknown words alone decide nothing: only when general text is
        also closer than the corpus."""
        if background_margin > self.fusion.abstain_background_margin:
            return True
        if plan.cjk_share < 0.5:
            return plan.known_share == 0 and background_margin > 0
        if plan.known_share == 0:
            return True
        coverage = max((plan.covered_share(hit.text) for hit in hits[:ABSTAIN_DEPTH]), default=0.0)
        return plan.known_share < self.fusion.abstain_known and coverage < self.fusion.abstain_covered

    @staticmethod
    def _hits(generation: Generation, fused: np.ndarray, k: int) -> list[Hit]:
        """The k best chunks, one per near-duplicate group, each listing its other copies."""
        hits: list[Hit] = []
        seen_groups: set[int] = set()
        for row in _best_first(fused):
            if len(hits) == k or fused[row] == -np.inf:
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
