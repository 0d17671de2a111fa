"""English → Chinese corpus terms from CC-CEDICT, restricted to the corpus vocabulary."""

from __future__ import annotations

import pytest

from app.translate import Dictionary, lemmas


@pytest.fixture(scope="module")
def dictionary(searcher):
    return searcher.generation.translations


def terms(dictionary, text):
    return [term for term, _ in dictionary.translate(text)]


def test_domain_words_translate_to_corpus_terms(dictionary):
    assert "救护车" in terms(dictionary, "What did the hospital do about ambulance response?")
    assert {"乙肝", "疫苗"} <= set(terms(dictionary, "hepatitis B vaccination for workers"))
    assert {"财务", "公开"} <= set(terms(dictionary, "how did hospitals handle financial disclosure"))
    assert "工会" in terms(dictionary, "What does the union do?")


def test_phrases_win_over_their_words(dictionary):
    assert terms(dictionary, "infection control")[:2] == ["院感", "感染"]


def test_chinese_only_questions_translate_to_nothing(dictionary):
    assert dictionary.translate("医院如何推行院务公开") == []


def test_only_corpus_words_survive():
    restricted = Dictionary.from_cedict(["救护车"])
    found = terms(restricted, "ambulance bicycle")
    assert "救护车" in found and "自行车" not in found


def test_lemmas_cover_plurals_and_inflections():
    assert "patient" in lemmas("patients") and "policy" in lemmas("policies")
    assert "train" in lemmas("training") and "discharge" in lemmas("discharged")


def test_a_typo_is_never_read_as_a_word_that_translates_to_nothing(dictionary):
    """"weather" has an empty curated entry; "weathr" used to be corrected to it and crash."""
    assert dictionary.correction("weathr") != "weather"
    assert dictionary.translate("weathr tomorrow") == dictionary.translate("tomorrow")
