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
