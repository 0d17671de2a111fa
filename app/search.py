"""Search: fuse dense and lexical evidence into cited passages.

The `Searcher` serves the generation CURRENT points at and picks up a new one between
requests, so a rebuild never interrupts answering. A question is embedded once
(`query: ` prompt) and the dense store (`app/stores.py`) returns its best chunks by their own
and their best sentence window's closeness; the lexical store returns the chunks its jieba
terms match in BM25; both apply the filters themselves. The union of the two candidate lists is
fused with weights that depend on the question, and near-duplicate passages collapse into one
hit that lists where else the text appears.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from . import furniture
from .chunks import Chunk
from .confidence import ConfidenceModel, Evidence
from .config import Settings
from .documents import Document, load
from .folding import fold, simplified
from .formats import page_picture
from .index import Generation, IndexCorrupt, current_name, load_generation, readings_folder
from .model import Embedder
from .query import QueryPlan, analyse, clean_question
from .stores import DenseCandidates, DenseStore, Filters, LexicalStore, embedded_stores

log = logging.getLogger(__name__)

CONFIDENCE_DEPTH = 5  # the result's level is read from this many best passages, whatever k is
REACH = 4  # the coverage bonus reads the REACH × depth best passages BM25 matched


@dataclass(frozen=True)
class Ranking:
    """Which evidence orders the passages, and who judges the result. The product is `hybrid`
    (both stores fused, the confidence model's level); `dense` and `lexical` alone exist for
    evaluation, and every result they find reads `high`."""

    name: str
    dense: bool
    lexical: bool

    def fused(self, searcher: "Searcher", plan: QueryPlan, dense: np.ndarray, lexical_scores: np.ndarray) -> np.ndarray:
        if not self.lexical:
            return dense
        if not self.dense:
            return lexical_scores
        return fuse(dense, lexical_scores, searcher.lexical_weight(plan), searcher.fusion.dense_width)

    def level(self, model: ConfidenceModel, evidence: list[Evidence]) -> str:
        if self.dense and self.lexical:
            return model.level(evidence[:CONFIDENCE_DEPTH])
        return "high" if evidence else "none"


RANKINGS = {r.name: r for r in (Ranking("hybrid", True, True), Ranking("dense", True, False),
                                Ranking("lexical", False, True))}
SIGNALS = tuple(RANKINGS)


class Retriever(Protocol):
    """What evaluation and the benches need of a search: `Searcher`, or a baseline."""

    def search(self, question: str, k: int = 5, signals: str = "hybrid",
               documents: Collection[str] = (), articles: Collection[str] = ()) -> "SearchResult": ...


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


def _agreement(row: int, dense: DenseCandidates | None, lexical_score: float, lexical_scores: np.ndarray) -> float:
    """The mean of the reciprocal ranks of `row` by dense score and by BM25 alone (no BM25
    match: 0; no dense search: 1, as every chunk then ties)."""
    by_dense = 1.0 / dense.rank(row) if dense is not None else 1.0
    by_lexical = 1.0 / (int((lexical_scores > lexical_score).sum()) + 1) if lexical_score > 0 else 0.0
    return (by_dense + by_lexical) / 2


@dataclass(frozen=True)
class Hit(Chunk):
    """A cited passage (a chunk: `text` is `document[start:end]` up to whitespace and removed
    noise) as one question found it."""

    score: float = 0.0  # the fused ranking score: orders the hits of one question only
    also_in: tuple[dict, ...] = ()
    relevance: float = 0.0  # calibrated probability that the passage answers the question
    confidence: str = "high"  # the result's level (app/confidence.py): high or weak

    @classmethod
    def of(cls, chunk: Chunk, **found) -> "Hit":
        """`chunk` as a hit, with what the search found (score, relevance, …)."""
        return cls(**{f.name: getattr(chunk, f.name) for f in dataclasses.fields(Chunk)}, **found)

    def to_json(self) -> dict:
        return dict(super().to_json(), score=round(self.score, 6), relevance=round(self.relevance, 4),
                    confidence=self.confidence, also_in=list(self.also_in))


@dataclass(frozen=True)
class SearchResult:
    question: str
    expanded_query: str
    hits: list[Hit] = field(default_factory=list)
    confidence: str = "none"  # high: an answer; weak: possibly related passages; none: nothing reliable
    terms: tuple[str, ...] = ()  # the question's words and their translations, for highlighting
    evidence: tuple[Evidence, ...] = ()  # what each hit's relevance was computed from, hit by hit

    @property
    def abstained(self) -> bool:
        return self.confidence == "none"

    def to_json(self) -> dict:
        return {
            "question": self.question, "expanded_query": self.expanded_query,
            "confidence": self.confidence, "hits": [h.to_json() for h in self.hits],
        }


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

    def __init__(self, settings: Settings, embedder: Embedder | None = None,
                 confidence: ConfidenceModel | None = None):
        self.settings = settings
        self.fusion = settings.fusion
        self._embedder = embedder
        self._generation: Generation | None = None
        self._background: np.ndarray | None = None
        self._confidence = confidence
        self._folded_texts: tuple[str, dict[int, str]] = ("", {})
        self._stores: tuple[tuple, DenseStore | None, LexicalStore | None] = ((), None, None)
        self._lock = threading.Lock()
        self._background_lock = threading.Lock()
        self._serving = False  # set by `warm`: every generation switched to is made ready before it answers

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = Embedder(self.settings.model, precision=self.settings.passage_precision)
            return self._embedder

    @property
    def generation(self) -> Generation:
        """The served generation, reloaded when a build has switched CURRENT."""
        name = current_name(self.settings.index)
        with self._lock:
            if self._generation is None or (name and name != self._generation.name):
                try:
                    self._generation = load_generation(self.settings.index)
                    if self._serving:
                        self._generation.translations.warm()
                except IndexCorrupt:
                    if self._generation is None:
                        raise
                    log.exception("new index generation %s unreadable; still serving %s",
                                  name, self._generation.name)
            return self._generation

    def warm(self) -> "Searcher":
        """Get ready to serve: load the model, the index and the English reading (simplemma's
        dictionary, the phrase and typo indexes, about a second) now, not in a visitor's first
        question, and do the same for every generation a rebuild switches to."""
        self._serving = True
        self.search("how did hospitals handle 院务公开?", 1)
        self.generation.translations.warm()
        return self

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
        """An indexed document's source and its chunks; only documents of the index open. The
        document is cleaned as the build cleaned it, so its `clean_slice` at a chunk's offsets is
        the chunk's text."""
        chunks = [c for c in self.generation.chunks if c.doc == doc]
        if not chunks:
            raise KeyError(doc)
        document = load(self.settings.seeds / doc, self.settings.seeds, readings_folder(self.settings.index))
        return furniture.strip(document, self.generation.furniture), chunks

    def page_picture(self, doc: str, page: int) -> bytes | None:
        """Page `page` of an indexed PDF or scan as a JPEG, for the viewer (None: no picture)."""
        if not any(c.doc == doc for c in self.generation.chunks):
            return None
        path = self.settings.seeds / doc
        try:
            return page_picture(path.read_bytes(), path.suffix, page)
        except OSError:
            return None

    def plan(self, text: str, generation: Generation) -> QueryPlan:
        """How `text` is searched in `generation` (app/query.py)."""
        return analyse(text, generation.lexical, generation.translations, self.fusion.translation_weight)

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
        ranking = RANKINGS[signals]
        generation = self.generation
        dense_store, lexical_store = self.stores(generation)
        filters = Filters.of(documents, articles)
        plan = self.plan(text, generation)
        query, own_vector = self.query_vectors(plan) if ranking.dense else (None, None)
        dense = dense_store.search(query, plan.cjk_share, filters) if query is not None else None
        lexical_rows, lexical_found = (lexical_store.search(plan.terms, filters) if ranking.lexical
                                       else (np.zeros(0, np.int64), np.zeros(0, np.float32)))
        rows = np.union1d(dense.rows if dense is not None else [], lexical_rows).astype(np.int64)
        scores, _, sentences = dense.values(rows) if dense is not None else (np.zeros(len(rows), np.float32),) * 3
        lexical_scores = np.zeros(len(rows), np.float32)
        lexical_scores[np.searchsorted(rows, lexical_rows)] = lexical_found
        fused = ranking.fused(self, plan, scores, lexical_scores)
        if ranking.dense and ranking.lexical:
            fused = fused + self.coverage_bonus(plan, generation, rows, lexical_scores, fused, max(k, CONFIDENCE_DEPTH))
        ranked = self._ranked(generation, rows, fused, max(k, CONFIDENCE_DEPTH))
        margin = self.background_margin(own_vector, dense_store) if own_vector is not None else 0.0
        evidence = [self._evidence(plan, self._folded(generation, int(rows[i])), float(scores[i]), float(sentences[i]),
                                   margin, _agreement(int(rows[i]), dense, float(lexical_scores[i]), lexical_found))
                    for i in ranked]
        relevance = [self.confidence_model.relevance(e) for e in evidence]
        level = ranking.level(self.confidence_model, evidence)
        hits = [] if level == "none" else [
            self._hit(generation, int(rows[i]), float(fused[i]), r, level) for i, r in zip(ranked[:k], relevance)]
        terms = tuple(t for t in plan.terms if not t.startswith("§"))
        return SearchResult(question=text, expanded_query=plan.expanded_query, hits=hits, confidence=level,
                            terms=terms, evidence=tuple(evidence[:k]))

    def stores(self, generation: Generation) -> tuple[DenseStore, LexicalStore]:
        """The dense and lexical stores over `generation`, made once per generation and window
        setting (app/stores.py `embedded_stores`)."""
        key = (generation.name, self.fusion.window_share, self.fusion.window_bias)
        with self._lock:
            if self._stores[0] != key:
                self._stores = (key, *embedded_stores(generation, self.fusion.window_share, self.fusion.window_bias))
            return self._stores[1], self._stores[2]

    def _folded(self, generation: Generation, row: int) -> str:
        """Chunk `row`'s heading path and text, folded (app/folding.py); computed once per generation."""
        if self._folded_texts[0] != generation.name:
            self._folded_texts = (generation.name, {})
        texts = self._folded_texts[1]
        if row not in texts:
            texts[row] = fold(generation.chunks[row].indexed_text)
        return texts[row]

    @property
    def confidence_model(self) -> ConfidenceModel:
        with self._background_lock:
            if self._confidence is None:
                self._confidence = ConfidenceModel.load()
            return self._confidence

    @staticmethod
    def _evidence(plan: QueryPlan, folded: str, dense: float, sentence: float, background_margin: float,
                  agreement: float) -> Evidence:
        return Evidence(
            dense=dense, sentence=sentence, agreement=agreement, coverage=plan.covered_share(folded),
            missing=plan.missing_weight(folded), known=plan.known_share,
            background=background_margin, translated=1.0 - plan.own_share, unstated=plan.unstated(folded),
        )

    def query_vectors(self, plan: QueryPlan) -> tuple[np.ndarray, np.ndarray]:
        """The question's search vector and its own vector (each 1 × dimension), in Simplified
        script. A question with English words is also embedded followed by their Chinese terms,
        and the search vector averages the two: e5 then sees the corpus's own words too (casual
        English MRR +0.05, xquad_en2zh +0.02 on the tune halves); that second text reads the
        question's slang in plain English and its typos corrected (`QueryPlan.plain`: right
        answers read as answers more often, 454 → 459 of 872 tune-half questions and 305 → 312
        of 647 fitting-only ones, no rank moved). The
        question's own vector, as typed, is what the general-text test compares."""
        texts = [simplified(plan.text)]
        if plan.expansions:
            texts.append(simplified(plan.plain or plan.text) + " " + " ".join(plan.expansions))
        vectors = self.embedder.encode_queries(texts)
        mean = vectors.sum(axis=0)
        return (mean / np.linalg.norm(mean)).astype(np.float32)[None, :], vectors[:1]

    def dense_scores(self, generation: Generation, query: np.ndarray,
                     cjk: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For benches that tune over whole arrays: the dense store's score, own cosine and best
        sentence of every chunk (the floor for chunks that are no candidates)."""
        candidates = self.stores(generation)[0].search(query, cjk)
        return candidates.values(np.arange(len(generation.chunks)))

    def coverage_bonus(self, plan: QueryPlan, generation: Generation, rows: np.ndarray,
                       lexical_scores: np.ndarray, fused: np.ndarray, depth: int) -> np.ndarray:
        """What a translated question adds to each passage's fused score for holding its words:
        `coverage` × the IDF-weighted share of the question's content words (their Chinese terms)
        that one sentence of the passage holds (its best), × the question's translated share.
        e5 reads a casual English question with several parts by one part ("who looks after the
        union's money, is there a separate account" finds accounting rules), and BM25's sum lets
        one word's translations outweigh the rest; the share rewards the sentence that holds them
        all (工会经费 … 并设专户). Only passages BM25 matched are read (one with none of the terms
        holds no share), and of those the REACH × `depth` best by fused score: a fixed handful
        per question, not BM25's thousand, whose folding and sentence split cost ~0.02 ms each
        (on 100k chunks, reading every passage within the bonus of the 20th score made p50
        53 ms, against 32 ms without the bonus)."""
        bonus = np.zeros(len(rows), np.float32)
        weight = self.fusion.coverage * (1 - plan.own_share)
        matched = np.flatnonzero(lexical_scores > 0)
        if not weight or not plan.expansions or not len(matched):
            return bonus
        for i in matched[np.argsort(-fused[matched], kind="stable")[:REACH * depth]]:
            bonus[i] = weight * plan.best_sentence_share(self._folded(generation, int(rows[i])))
        return bonus

    def lexical_weight(self, plan: QueryPlan) -> float:
        """How far to trust BM25 for this question: much for Chinese, little for translations."""
        own = self.fusion.lexical_zh * plan.own_share
        translated = self.fusion.lexical_en * (1 - plan.own_share) * bool(plan.expansions)
        return own + translated

    def background_margin(self, query: np.ndarray, store: DenseStore) -> float:
        """How much closer the question (its own vector, 1 × dimension) is to general text
        (weather, sport, cooking, …) than to the best passage of the corpus; positive when
        general text wins."""
        background = self.background
        if not background.size or not store.count:
            return 0.0
        return float((background @ query[0]).max() - store.best_cosine(query))

    @staticmethod
    def _ranked(generation: Generation, rows: np.ndarray, fused: np.ndarray, k: int) -> list[int]:
        """Positions in `rows` (ascending chunk rows) of the k best chunks by `fused`, ties by
        row, one per near-duplicate group."""
        ranked: list[int] = []
        seen_groups: set[int] = set()
        for position in _best_first(fused):
            if len(ranked) == k:
                break
            group = generation.duplicate_of[int(rows[position])]
            if group not in seen_groups:
                seen_groups.add(group)
                ranked.append(position)
        return ranked

    @staticmethod
    def _hit(generation: Generation, row: int, score: float, relevance: float, confidence: str) -> Hit:
        """Chunk `row` as a hit that lists its other copies."""
        chunk = generation.chunks[row]
        also_in = tuple(
            {"doc": other.doc, "line_start": other.line_start, "line_end": other.line_end}
            for other in (generation.chunks[r] for r in generation.near_duplicates(row))
        )
        return Hit.of(chunk, score=score, also_in=also_in, relevance=relevance, confidence=confidence)
