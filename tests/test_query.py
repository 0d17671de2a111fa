"""Question analysis (app/query.py): the content words the confidence model weighs, on the real seeds' index."""

from __future__ import annotations


def test_question_words_are_no_content_words(searcher):
    generation = searcher.generation
    framed = searcher.plan("医院在哪里组织职工旅游？", generation)
    bare = searcher.plan("医院组织职工旅游", generation)
    assert framed.units == bare.units
    assert () not in searcher.plan("谁负责院务公开？什么时候开始的？", generation).units


def test_a_word_joined_with_a_particle_reads_as_its_stem(searcher):
    generation = searcher.generation
    units = searcher.plan("護理師們有沒有辦過員工旅遊？", generation).units
    assert ("办",) in units and ("员工",) in units and ("旅游",) in units
    assert () not in units  # 辦過 and 師們 are not words the corpus lacks
    assert searcher.plan("护士们组织过旅游", generation).known_share == 1.0


def test_a_word_the_corpus_lacks_stays_a_missing_content_word(searcher):
    plan = searcher.plan("医院的日间手术中心开展了哪些手术？", searcher.generation)
    assert () in plan.units and plan.known_share < 1.0
    assert plan.missing_weight("医院开展了手术。") > 0


def test_his_in_an_english_sentence_is_the_pronoun_and_his_in_chinese_the_system(searcher):
    generation = searcher.generation
    assert "his" not in searcher.plan("the new boss on his very first afternoon", generation).terms
    assert "his" in searcher.plan("HIS系统 财务报表", generation).terms
    assert "his" in searcher.plan("his系统的报表", generation).terms
    assert "his" in searcher.plan("what does the HIS do", generation).terms
    hits = searcher.search("what did the new director do on his first day", 5).hits
    assert not any("his" in hit.text.lower() for hit in hits[:3])  # no HIS-system passage first


def test_english_amounts_read_as_the_documents_write_them():
    from app.outline import numeral as chinese_numeral
    from app.query import magnitudes

    assert [chinese_numeral(n) for n in (10, 15, 20, 108, 200, 1010)] == ["十", "十五", "二十", "一百零八", "二百", "一千零一十"]
    text, spans = magnitudes("which machines did the 200k-odd get us?")
    assert spans == [("200k-odd", [("20万", 1.0), ("二十余万", 1.0)])] and "200" not in text
    assert magnitudes("the 2 million dollar loan")[1] == [("2 million", [("200万", 1.0), ("二百余万", 1.0)])]
    assert magnitudes("a 100,000 yuan ambulance")[1] == [("100,000", [("100000", 1.0), ("10万", 1.0)])]
    assert magnitudes("the 15,258 outpatient visits")[1] == [("15,258", [("15258", 1.0)])]  # a count as written
    assert magnitudes("ten grand on speakers")[1] == [("ten grand", [("1万", 1.0)])]
    assert magnitudes("2 lakh for the fridge")[1] == [("2 lakh", [("20万", 1.0), ("二十余万", 1.0)])]  # Indian English
    assert magnitudes("a grand opening") == ("a grand opening", [])  # no amount
    assert magnitudes("tens of thousands of numbers")[1] == []


def test_an_amount_in_english_finds_the_sentence_that_states_it_in_wan(searcher):
    plan = searcher.plan("which machines did the 200k-odd get us?", searcher.generation)
    assert ("20万", "二十余万") in plan.units and ("200",) not in plan.units
    assert plan.missing_weight("年内先后投资二十余万元购进了乳腺检查治疗仪") < 1.0
    hits = searcher.search("which machines did the 200k-odd get us?", 5).hits
    assert "二十余万元购进了乳腺检查治疗仪" in hits[0].text  # was 10th: the digits 200 matched 200万美元
