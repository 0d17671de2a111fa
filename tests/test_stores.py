"""The stores search delegates to (app/stores.py): FAISS against brute force, filters pushed
into the stores, BM25 candidates, and the floor a non-candidate counts as."""

from __future__ import annotations

import numpy as np
import pytest

from app.stores import SEARCH_DEPTH, Bm25Store, FaissDenseStore, Filters, NumpyDenseStore, _mix

QUESTIONS = ("how did hospitals handle 院务公开?", "结核病防治项目县的病人如何治疗", "醫院有沒有提供免費的看護員",
             "消防安全检查", "工会为职工做了哪些实事")


@pytest.fixture(scope="module")
def stores(searcher):
    generation = searcher.generation
    faiss_store, bm25 = searcher.stores(generation)
    numpy_store = NumpyDenseStore(
        generation.chunks, generation.dense.reconstruct_n(0, generation.dense.ntotal),
        generation.windows.reconstruct_n(0, generation.windows.ntotal), generation.window_chunk,
        searcher.fusion.window_share, searcher.fusion.window_bias)
    return searcher, generation, faiss_store, numpy_store, bm25


def test_the_faiss_store_finds_what_brute_force_finds_with_and_without_filters(stores):
    searcher, generation, faiss_store, numpy_store, _ = stores
    assert isinstance(faiss_store, FaissDenseStore) and faiss_store.count == numpy_store.count == 187
    first_doc = generation.chunks[0].doc
    for question in QUESTIONS:
        plan = searcher.plan(question, generation)
        query, _ = searcher.query_vectors(plan)
        for filters in (Filters(), Filters.of([first_doc]), Filters.of(articles=[generation.chunks[0].section[0]])):
            fast, slow = faiss_store.search(query, plan.cjk_share, filters), numpy_store.search(query, plan.cjk_share, filters)
            assert fast.rows[:20].tolist() == slow.rows[:20].tolist()
            assert np.allclose(fast.score[:20], slow.score[:20], atol=1e-5)
            assert np.allclose(fast.floor, slow.floor, atol=1e-5)
            assert all(filters.allows(generation.chunks[r]) for r in fast.rows)
        assert abs(faiss_store.best_cosine(query) - numpy_store.best_cosine(query)) < 1e-5


def test_filters_choose_the_best_allowed_chunks_not_what_survives_of_the_best_ones(stores):
    """The dense store reads its 100 best chunks among the allowed ones: a document whose
    chunks are all outside the overall 100 best still gets real candidates."""
    searcher, generation, faiss_store, numpy_store, _ = stores
    plan = searcher.plan("消防安全检查", generation)
    query, _ = searcher.query_vectors(plan)
    everywhere = set(faiss_store.search(query, plan.cjk_share).rows.tolist())
    by_doc = {}
    for row, chunk in enumerate(generation.chunks):
        by_doc.setdefault(chunk.doc, []).append(row)
    doc = min(by_doc, key=lambda d: len(everywhere & set(by_doc[d])) / len(by_doc[d]))
    assert len(by_doc[doc]) <= SEARCH_DEPTH and not set(by_doc[doc]) <= everywhere
    only = faiss_store.search(query, plan.cjk_share, Filters.of([doc]))
    assert set(only.rows.tolist()) == set(by_doc[doc])  # every allowed chunk is read, none other
    hits = searcher.search("消防安全", 5, documents=[doc]).hits
    assert hits and {h.doc for h in hits} == {doc} and all(h.score > 0 for h in hits[:3])


def test_bm25_candidates_are_the_matching_rows_best_first_within_the_filters(stores):
    _, generation, _, _, bm25 = stores
    assert isinstance(bm25, Bm25Store)
    terms = {"院务公开": 1.0, "公开": 1.0}
    everything = generation.lexical.scores(terms)
    rows, scores = bm25.search(terms)
    assert rows.tolist() == sorted(np.flatnonzero(everything > 0).tolist(), key=lambda r: (-everything[r], r))
    assert np.allclose(scores, everything[rows])
    doc = generation.chunks[int(rows[0])].doc
    within, _ = bm25.search(terms, Filters.of([doc]), depth=3)
    assert len(within) == 3 and all(generation.chunks[r].doc == doc for r in within)
    assert bm25.search({"不存在的词语": 1.0})[0].tolist() == []


def test_a_chunk_that_is_no_candidate_counts_as_the_lowest_values_read():
    candidates = _mix(np.array([4, 1]), np.array([0.9, 0.7], np.float32),
                      np.array([1, 1, 7]), np.array([0.8, 0.6, 0.5], np.float32), share=0.5)
    # 1: (0.7 + 0.8) / 2; 4: (0.9 + the window floor 0.5) / 2; 7: (the cosine floor 0.7 + 0.5) / 2
    assert candidates.rows.tolist() == [1, 4, 7] and np.allclose(candidates.score, [0.75, 0.7, 0.6])
    assert np.allclose(candidates.values([4, 1, 7, 9])[0], [0.7, 0.75, 0.6, 0.6])
    assert candidates.floor == pytest.approx((0.6, 0.7, 0.5))
    assert [candidates.rank(r) for r in (1, 4, 7, 9)] == [1, 2, 3, 3]
