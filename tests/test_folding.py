"""Folding: Traditional → Simplified, full-width → half-width, lower case; citations untouched."""

from __future__ import annotations

from app.folding import fold, is_traditional, readings, simplified


def test_traditional_characters_become_simplified():
    assert simplified("醫院有沒有提供免費的看護員") == "医院有没有提供免费的看护员"
    assert is_traditional("院務公開") and not is_traditional("院务公开")


def test_simplified_text_is_left_exactly_as_it_is():
    """Taiwan-vocabulary conversion would rewrite 建立, 核心, 工作列 and 程序 here: it is never applied."""
    text = "医院建立了核心制度,工作列入计划,程序整合"
    assert simplified(text) == text and readings(text) == [text]


def test_width_and_case_fold():
    assert fold("ＰＡＣＳ系統，ISO９０００") == "pacs系统,iso9000"


def test_traditional_text_is_also_read_in_mainland_vocabulary():
    assert readings("資訊化建設") == ["资讯化建设", "信息化建设"]
    assert readings("軟體") == ["软体", "软件"]
