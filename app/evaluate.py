"""Evaluation: hit@1, hit@5 and MRR@10 of the search, per question language and per signal.

A question file has one `{"id", "lang", "query", "evidence": [...]}` per line. Gold is given
as short verbatim evidence strings, not chunk ids, so it survives re-chunking: a hit counts
when its text contains one of them (compared on letters and digits only, so punctuation and
spacing differences between near-duplicate copies do not matter). Questions with no evidence
are off-topic: the right outcome for them is to abstain.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .neardup import normalise
from .search import SIGNALS, EmptyQuestion, Hit, SearchResult, Searcher

DEPTH = 10


@dataclass(frozen=True)
class Question:
    """A question with its gold: evidence strings, or (for public benchmarks) relevant documents."""

    id: str
    lang: str
    query: str
    evidence: tuple[str, ...] = ()
    relevant_docs: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        return bool(self.evidence or self.relevant_docs)

    def is_relevant(self, hit: Hit) -> bool:
        if self.relevant_docs:
            return hit.doc in self.relevant_docs or any(a["doc"] in self.relevant_docs for a in hit.also_in)
        compact = normalise(hit.text)
        return any(needle and needle in compact for needle in (normalise(e) for e in self.evidence))


def read_questions(path: Path) -> list[Question]:
    questions = []
    for line in path.read_text("utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            questions.append(Question(row["id"], row.get("lang", "?"), row["query"], tuple(row.get("evidence", ()))))
    return questions


def first_relevant_rank(hits: Iterable[Hit], question: Question) -> int | None:
    """1-based rank of the first relevant hit, or None."""
    for rank, hit in enumerate(hits, 1):
        if question.is_relevant(hit):
            return rank
    return None


@dataclass
class Tally:
    """Running metrics of one (signal, language) cell."""

    questions: int = 0
    hit1: int = 0
    hit5: int = 0
    reciprocal: float = 0.0
    abstained: int = 0

    def add(self, rank: int | None, abstained: bool) -> None:
        self.questions += 1
        self.abstained += abstained
        if rank is not None and not abstained:
            self.hit1 += rank == 1
            self.hit5 += rank <= 5
            self.reciprocal += 1.0 / rank

    def row(self) -> dict:
        n = max(self.questions, 1)
        return {"n": self.questions, "hit@1": self.hit1 / n, "hit@5": self.hit5 / n,
                "mrr@10": self.reciprocal / n, "abstained": self.abstained / n}


def evaluate(searcher: Searcher, questions: list[Question], signals: Iterable[str] = SIGNALS) -> dict:
    """{signal: {language or "all" or "off-topic": metrics}} and the misses of the hybrid search."""
    table: dict[str, dict[str, Tally]] = {}
    misses = []
    for signal in signals:
        cells = table.setdefault(signal, {})
        for question in questions:
            try:
                result = searcher.search(question.query, DEPTH, signals=signal)
            except EmptyQuestion:  # a question of punctuation only: nothing to find
                result = SearchResult(question.query, question.query)
            if not question.answerable:
                cells.setdefault("off-topic", Tally()).add(None, result.abstained)
                continue
            rank = first_relevant_rank(result.hits, question)
            for key in (question.lang, "all"):
                cells.setdefault(key, Tally()).add(rank, result.abstained)
            if signal == "hybrid" and (rank is None or rank > 5 or result.abstained):
                misses.append({"id": question.id, "query": question.query, "rank": rank,
                               "abstained": result.abstained, "expanded_query": result.expanded_query})
    return {"metrics": {s: {k: t.row() for k, t in cells.items()} for s, cells in table.items()},
            "misses": misses}


def format_table(report: dict) -> str:
    lines = [f"{'signal':<8} {'questions':<10} {'n':>4} {'hit@1':>7} {'hit@5':>7} {'MRR@10':>7} {'abstain':>8}"]
    for signal, cells in report["metrics"].items():
        for key in sorted(cells, key=lambda k: (k in ("all", "off-topic"), k)):
            row = cells[key]
            lines.append(f"{signal:<8} {key:<10} {row['n']:>4} {row['hit@1']:>7.3f} {row['hit@5']:>7.3f} "
                         f"{row['mrr@10']:>7.3f} {row['abstained']:>8.2f}")
    return "\n".join(lines)
