"""Extractive answers, citations and highlighting."""

from __future__ import annotations

from app.answer import citation, extract, highlight_spans, matched_terms, quote
from app.search import Hit, SearchResult

DISCLOSURE = Hit(
    doc="001_824a9c74254aab94.txt", title="医院工会工作总结(4篇)",
    section=("医院工会工作总结", "五、实行院务公开制度,建立健全医院的管理。"),
    text="我们坚持院务公开制度,医院每月各项支出明细向职工公开,亮化医院的管理。亮化考核目标,成立医院督导小组。",
    start=100, end=150, line_start=183, line_end=185, score=0.9,
)
NURSING = Hit(
    doc="004_40e0627687e65461.txt", title="平安医院年度工作计划", section=("平安医院年度工作计划篇二",),
    text="加强服务意识教育，提高人性化主动服务的理念。主管护士真诚接待病人。", start=0, end=40,
    line_start=38, line_end=38, score=0.5,
)


def result(*hits, terms=("院务公开", "公开", "职工")):
    return SearchResult(question="医院如何公开开支", expanded_query="医院如何公开开支", hits=list(hits), terms=terms)


def test_citation_names_article_heading_file_and_lines():
    assert citation(DISCLOSURE) == ("《医院工会工作总结》五、实行院务公开制度,建立健全医院的管理，"
                                    "001_824a9c74254aab94.txt 第183–185行")
    assert citation(NURSING) == "《平安医院年度工作计划篇二》，004_40e0627687e65461.txt 第38行"


def test_quote_is_ready_to_paste():
    assert quote(DISCLOSURE).startswith("“我们坚持院务公开制度,医院每月各项支出明细向职工公开")
    assert quote(DISCLOSURE).endswith("”（《医院工会工作总结》五、实行院务公开制度,建立健全医院的管理，"
                                      "001_824a9c74254aab94.txt 第183–185行）")


def test_answer_sentences_come_from_the_sources_with_their_numbers():
    sentences = extract(result(DISCLOSURE, NURSING))
    assert sentences[0].text == "我们坚持院务公开制度,医院每月各项支出明细向职工公开,亮化医院的管理。"
    assert sentences[0].source == 1
    for sentence in sentences:
        assert sentence.text in (DISCLOSURE.text, NURSING.text)[sentence.source - 1]


def test_highlighting_marks_longest_terms_without_overlap():
    terms = matched_terms(result(DISCLOSURE), DISCLOSURE)
    assert terms[0] == "院务公开"
    spans = highlight_spans(DISCLOSURE.text, terms)
    assert DISCLOSURE.text[spans[0][0]:spans[0][1]] == "院务公开"
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:]))
