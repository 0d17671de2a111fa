"""Folding: Traditional → Simplified, full-width → half-width, lower case; citations untouched."""

from __future__ import annotations

from app.folding import fold, is_traditional, mainland_words, readings, simplified


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


def test_taiwan_and_hong_kong_hospital_words_are_read_as_the_mainland_ones():
    assert readings("住院病患的剖腹產率") == ["住院病患的剖腹产率", "住院病人的剖宫产率"]
    assert readings("志工與長者") == ["志工与长者", "志愿者与老人"]
    assert readings("病患与长者") == ["病患与长者"]  # Simplified text is never rewritten
    assert mainland_words("影像科的图像") == "影像科的影像"  # tw2sp's 影像 → 图像 undone
    assert readings("護理長宣導感染管制") == ["护理长宣导感染管制", "护士长宣传院感"]
    assert readings("醫院添購了哪些設備")[1] == "医院购置了哪些设备"
    assert readings("吊鹽水") == ["吊盐水", "输液"] and readings("飯堂的伙食")[1] == "食堂的伙食"  # Hong Kong
    assert readings("計算機的紀錄")[1] == "电脑的记录" and readings("出糧")[1] == "工资"


def test_written_cantonese_is_read_in_mandarin_words():
    """Hong Kong staff write as they speak: 屋企 is 家, 過身 去世, 唔 不, 佢哋 他们; 食, 識 and 仲 stay
    (食堂, 知识, 仲裁)."""
    assert readings("同事屋企有人過身，工會會唔會派人去？")[1] == "同事家有人去世,工会会不会派人去?"
    assert readings("佢哋邊個負責醫保嘅嘢？")[1] == "他们谁负责医保的东西?"
    assert readings("職工食堂嘅知識講座")[1] == "职工食堂的知识讲座"


def test_a_cantonese_question_finds_its_passage(searcher):
    result = searcher.search("同事屋企有人過身，工會會唔會派人去？", 5)
    assert any("吊唁去世的职工及职工家属" in hit.text for hit in result.hits)


def test_a_traditional_question_in_taiwan_words_finds_the_mainland_passage(searcher):
    result = searcher.search("醫院的剖腹產率下降了嗎？", 5)
    assert "剖宫产率" in result.hits[0].text and result.confidence == "high"
