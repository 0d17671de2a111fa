"""Lexical terms: folded on both sides, Latin runs and their parts; BM25's inverse document frequency."""

from __future__ import annotations

import math

from scipy import sparse

from app import lexical
from app.lexical import LexicalIndex


def test_a_latin_run_inside_chinese_is_a_term_and_so_are_its_parts():
    terms = lexical.terms("影像设备的联网RadiologyPACS系统")
    assert {"radiologypacs", "radiology", "pacs", "系统"} <= set(terms)
    assert {"iso9000", "iso", "9000"} <= set(lexical.terms("通过ISO9000质量认证"))


def test_question_and_passage_meet_in_any_script_width_and_case():
    assert set(lexical.terms("ＰＡＣＳ")) == set(lexical.terms("pacs")) == {"pacs"}
    assert lexical.terms("B超") == lexical.terms("b超") == ["b超"]
    assert set(lexical.terms("醫院院務公開")) == set(lexical.terms("医院院务公开"))


def test_a_traditional_question_also_searches_mainland_words():
    words = lexical.words("財務資訊系統")
    assert {"财务", "资讯", "信息", "信息系统"} <= set(words)
    assert lexical.reading_words("財務資訊系統") == [["财务", "资讯", "系统"], ["财务", "信息", "系统", "信息系统"]]


def test_stop_words_and_framing_words_are_dropped():
    assert lexical.words("how did the hospital handle it") == ["hospital"]


def test_idf_follows_document_frequency():
    index = LexicalIndex.build([["a", "b"], ["a"], ["c"]])
    assert math.isclose(index.idf("a"), math.log(1 + (3 - 2 + 0.5) / (2 + 0.5)), rel_tol=1e-6)
    assert math.isclose(index.idf("unknown"), math.log(1 + 3.5 / 0.5), rel_tol=1e-6)
    assert index.idf("c") > index.idf("a")
    assert isinstance(index.weights, sparse.csc_matrix)


def test_bm25_scores_are_those_of_a_reference_implementation_on_the_seeds_tokens(searcher):
    """Our BM25 against bm25s (MIT) with Lucene's formula on the same tokens: bm25s leaves out
    the constant factor k1 + 1, and our bigram terms (§…) count half."""
    import bm25s
    import numpy as np

    from app.lexical import BIGRAM_WEIGHT, K1, B

    generation = searcher.generation
    term_lists = [lexical.terms(chunk.indexed_text) for chunk in generation.chunks]
    ours = LexicalIndex.build(term_lists)
    reference = bm25s.BM25(method="lucene", k1=K1, b=B)
    reference.index(term_lists, show_progress=False)
    bigram = next(t for t in lexical.terms("院务公开") if t.startswith("§"))
    for query in (["院务公开"], ["护理", "质量", "培训"], ["radiology", "pacs"], ["工会", bigram]):
        expected = sum((BIGRAM_WEIGHT if term.startswith("§") else 1.0) * (K1 + 1)
                       * reference.get_scores([term]) for term in query)
        assert np.allclose(ours.scores(dict.fromkeys(query, 1.0)), expected, rtol=1e-4, atol=1e-5), query
        assert expected.max() > 0
    assert np.allclose(ours.weights.toarray(), generation.lexical.weights.toarray())  # what the build stored
