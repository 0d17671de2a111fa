"""Chunking along each document's own outline, on the real seeds."""

from __future__ import annotations

import re

import pytest

from app.chunks import HARD_MAX, chunk_document
from app.documents import discover, load

from .conftest import SEEDS


@pytest.fixture(scope="module")
def seed_chunks():
    return {path.name: (load(path, SEEDS), chunk_document(load(path, SEEDS))) for path in discover(SEEDS)}


def all_chunks(seed_chunks):
    return [c for _, chunks in seed_chunks.values() for c in chunks]


def test_yuanwu_gongkai_chunk_sits_under_its_heading(seed_chunks):
    [chunk] = [c for c in all_chunks(seed_chunks) if "我们坚持院务公开制度" in c.text]
    assert chunk.section[-1] == "五、实行院务公开制度,建立健全医院的管理。"
    assert chunk.section[0] == "医院工会工作总结"
    assert chunk.doc == "001_824a9c74254aab94.txt" and chunk.line_start == 183


def test_article_headings_open_the_section_path(seed_chunks):
    sections = {c.section[0] for c in seed_chunks["000_7a85babb3cd5d70b.txt"][1] if c.section}
    assert {f"医务人员教育整顿心得体会篇{n}" for n in "一二三四五"} <= sections
    sections = {c.section[0] for c in seed_chunks["002_7ff70c88164fe4bb.txt"][1] if c.section}
    assert "有关医院的年度工作总结(精选篇3)" in sections


def test_nested_levels_are_inferred_from_marker_order(seed_chunks):
    chunk = next(c for c in all_chunks(seed_chunks) if "成立以院长为组长,各科室主任为成员的活动领导小组" in c.text)
    assert chunk.section == ("医院工会工作总结", "二、加强医疗质量管理,服务水平稳步提升",
                             "一是深入开展“两好一满意”活动,提高卫生行业形象。")


def test_short_item_list_stays_with_its_heading(seed_chunks):
    chunk = next(c for c in all_chunks(seed_chunks) if "1、无火灾、爆炸事故" in c.text)
    for item in ("2、无环境污染事故", "3、无大型设备运行安全事故", "4、无安全责任事故。"):
        assert item in chunk.text


def test_chunk_text_is_the_source_slice_up_to_whitespace_and_noise(seed_chunks):
    for document, chunks in seed_chunks.values():
        for chunk in chunks:
            source = document.text[chunk.start:chunk.end]
            text = re.sub(r"\s", "", chunk.text)
            assert text[0] == re.sub(r"\s", "", source)[0] and text[-1] == re.sub(r"\s", "", source)[-1]
            position = 0
            for char in text:  # every chunk character appears, in order, in the source slice
                position = source.index(char, position) + 1
            assert document.line_of(chunk.start) == chunk.line_start
            assert document.line_of(chunk.end - 1) == chunk.line_end


def test_no_boilerplate_no_stubs_no_giants(seed_chunks):
    chunks = all_chunks(seed_chunks)
    assert 150 <= len(chunks) <= 260
    for chunk in chunks:
        assert not re.search(r"Copyright|欢迎来到|ICP备", chunk.text)
        assert 15 <= len(chunk.text) <= HARD_MAX + 20
    assert any("审批规定" in c.text for c in chunks)


def test_heading_path_is_embedded_but_not_quoted(seed_chunks):
    chunk = next(c for c in all_chunks(seed_chunks) if "我们坚持院务公开制度" in c.text)
    assert chunk.indexed_text.startswith("医院工会工作总结 › 五、实行院务公开制度")
    assert not chunk.text.startswith("五、实行院务公开制度")


def test_a_file_without_headings_is_chunked_by_length(tmp_path):
    sentence = "医院坚持以病人为中心，不断改进服务流程，提高群众满意度。"
    (tmp_path / "plain.txt").write_text("\n\n".join(sentence * 4 for _ in range(6)), "utf-8")
    chunks = chunk_document(load(tmp_path / "plain.txt", tmp_path))
    assert len(chunks) >= 2 and all(c.section == () for c in chunks)
    assert all(len(c.text) <= HARD_MAX for c in chunks)
    assert chunks[0].title == "plain"


def test_a_file_of_only_headings_keeps_its_outline_as_content(tmp_path):
    outline = "一、加强医疗质量管理\n二、推行院务公开\n三、做好职工体检\n四、开展文体活动\n"
    (tmp_path / "outline.txt").write_text(outline, "utf-8")
    chunks = chunk_document(load(tmp_path / "outline.txt", tmp_path))
    assert len(chunks) == 1
    assert chunks[0].text == outline.strip() and (chunks[0].line_start, chunks[0].line_end) == (1, 4)


def test_sentence_windows_cover_each_sentence_once_and_join_short_ones():
    from app.chunks import sentence_windows, window_text

    text = ("一、总体情况。\n全年门诊量达到十二万人次，比上年增长百分之八，住院病人四千余人。短句。另一句也不长！"
            "最后一句话在这里，讲的是今年的设备采购情况和培训。")
    spans = sentence_windows(text, min_chars=20)
    assert [window_text(text, s) for s in spans] == [
        "一、总体情况。全年门诊量达到十二万人次，比上年增长百分之八，住院病人四千余人。",
        "短句。另一句也不长！最后一句话在这里，讲的是今年的设备采购情况和培训。",
    ]
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))


def test_windows_of_the_seed_chunks_cover_their_text(seed_chunks):
    from app.chunks import sentence_windows

    counts = []
    for chunk in all_chunks(seed_chunks):
        spans = sentence_windows(chunk.text)
        assert all(0 <= start < end <= len(chunk.text) for start, end in spans)
        uncovered = "".join(ch for i, ch in enumerate(chunk.text) if not any(s <= i < e for s, e in spans))
        assert not uncovered.strip()
        counts.append(len(spans))
    assert sum(counts) == 689 and max(counts) >= 8
