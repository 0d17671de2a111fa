"""Search on the real seeds: the hit contract, citations that verify, ranking sanity."""

from __future__ import annotations

import re

import numpy as np
import pytest

from app.documents import load
from app.query import EmptyQuestion, clean_question

from .conftest import SEEDS

QUESTIONS = [
    "how did hospitals handle 院务公开?",
    "医院怎样让职工了解每月的开支情况",
    "What did the union do about hepatitis B vaccination for workers?",
    "结核病防治项目县的病人如何治疗",
]
HIT_FIELDS = {"doc", "title", "section", "text", "start", "end", "line_start", "line_end", "page_start", "page_end",
              "score", "relevance", "confidence", "also_in"}


def _compact(text: str) -> str:
    return re.sub(r"\s", "", text)


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_hit_cites_its_source_exactly(searcher, question):
    result = searcher.search(question, 5)
    assert len(result.hits) == 5
    scores = [h.score for h in result.hits]
    assert scores == sorted(scores, reverse=True)
    for hit in result.hits:
        payload = hit.to_json()
        assert set(payload) == HIT_FIELDS
        assert isinstance(payload["section"], list) and isinstance(payload["score"], float)
        document = load(SEEDS / hit.doc, SEEDS)
        source = document.text[hit.start:hit.end]
        assert _compact(hit.text)[:10] == _compact(source)[:10]
        assert _compact(hit.text)[-10:] == _compact(source)[-10:]
        assert document.line_of(hit.start) == hit.line_start
        assert document.line_of(hit.end - 1) == hit.line_end
        assert document.text.splitlines()[hit.line_start - 1].strip()  # the cited line has text


def test_yuanwu_gongkai_question_finds_the_disclosure_passages(searcher):
    hits = searcher.search("how did hospitals handle 院务公开?", 5).hits
    assert sum("院务公开" in h.text for h in hits[:3]) >= 2
    assert any("我们坚持院务公开制度" in h.text for h in hits)


def test_no_two_hits_share_a_text(searcher):
    for question in QUESTIONS:
        texts = [_compact(h.text) for h in searcher.search(question, 10).hits]
        assert len(texts) == len(set(texts))


def test_dense_ranking_agrees_with_brute_force(searcher, embedder):
    """FAISS inner product equals a plain numpy cosine over the stored vectors."""
    generation = searcher.generation
    vectors = np.load(generation.folder / "vectors.npy")
    query = embedder.encode_queries(["放射科的防护培训"])
    brute = np.argsort(-(vectors @ query[0]))[:10]
    _, faiss_rows = generation.dense.search(query, 10)
    assert list(faiss_rows[0]) == list(brute)


@pytest.mark.parametrize("question", ["", "   ", "\t\n", "？！。", "\x00\x01"])
def test_blank_questions_are_refused(searcher, question):
    with pytest.raises(EmptyQuestion, match="问题为空"):
        searcher.search(question, 5)


def test_hostile_questions_are_answered_not_crashed(searcher):
    for question in ["<script>alert(1)</script> 院务公开", "\ud800院务公开", "院务公开" * 5000, "💉 疫苗接种 🏥"]:
        assert clean_question(question)
        assert searcher.search(question, 3).hits


def test_near_duplicate_copies_collapse_into_one_hit_with_also_in(searcher):
    hits = searcher.search("结核病项目县对病人实行药费减免和不住院化疗", 5).hits
    top = hits[0]
    assert "药费减免" in top.text and top.also_in
    other = {"001_824a9c74254aab94.txt": "003_f010cc3f28f611c8.txt",
             "003_f010cc3f28f611c8.txt": "001_824a9c74254aab94.txt"}[top.doc]
    assert top.also_in[0]["doc"] == other
    assert all("药费减免" not in h.text for h in hits[1:])


@pytest.mark.parametrize("question, evidence, dense_with", [
    ("What rules govern expense reimbursement approval?", "健全了费用报销制度及审批规", 4),
    ("What did the new director do on his first day?", "当天下午就召开了全院职工大会", 1),
    ("放射科一年检查了多少病人？", "本年度我科完成总诊疗病人44342人次", 1),
])
def test_a_question_about_one_sentence_of_a_long_chunk_finds_it_through_its_window(
        searcher, question, evidence, dense_with):
    """The answer is one sentence of a long chunk about several things: the chunk's own vector
    ranks it low (eighth or worse, or not in the top 10); its best sentence window ranks it high."""
    from dataclasses import replace

    def rank(fusion, signals):
        searcher.fusion = fusion
        try:
            hits = searcher.search(question, 10, signals=signals).hits
        finally:
            searcher.fusion = searcher.settings.fusion
        return next((n for n, h in enumerate(hits, 1) if evidence in h.text), None)

    assert rank(searcher.settings.fusion, "hybrid") <= 2
    assert rank(searcher.settings.fusion, "dense") == dense_with
    without = rank(replace(searcher.settings.fusion, window_share=0.0), "dense")
    assert without is None or without >= 8


def test_english_question_is_expanded_and_reaches_the_ambulance_passage(searcher):
    result = searcher.search("When did the hospital buy an ambulance?", 5)
    assert "救护车" in result.expanded_query
    assert any("购进救护车一辆" in h.text for h in result.hits[:3])


@pytest.mark.parametrize("question", ["明天的天气预报怎么样", "你好", "How do I bake sourdough bread?",
                                      "The quick brown fox jumps over the lazy dog", "红烧肉怎么做", "hello 你好 早上好"])
def test_off_topic_questions_abstain(searcher, question):
    result = searcher.search(question, 5)
    assert result.abstained and result.hits == []


@pytest.mark.parametrize("question", ["What is the capital of France?", "What's the weather tomorrow?",
                                      "Who won the football match last night?", "iPhone 价格 多少",
                                      "How do I install Python on Windows?"])
def test_questions_closer_to_general_text_than_to_any_passage_abstain(searcher, question):
    """Their words do translate into corpus terms (capital → 省会, weather → 天道), so only the
    comparison with general text (app/data/background.txt) can tell they are off-topic."""
    result = searcher.search(question, 5)
    assert result.abstained and result.hits == []


def test_background_margin_separates_a_real_question_from_an_off_topic_one(searcher):
    def margin(question):
        query = searcher.embedder.encode_queries([question])
        return searcher.background_margin(query, searcher.stores(searcher.generation)[0])

    assert searcher.background.shape == (64, 384)
    assert margin("What is the capital of France?") > 0.045
    assert margin("How was the hospital's financial management strengthened?") < 0.0


def test_no_question_of_the_evaluation_set_abstains_and_fusion_beats_each_signal(searcher):
    from app.config import PROJECT_ROOT
    from app.evaluate import evaluate, read_questions

    questions = read_questions(PROJECT_ROOT / "bench" / "eval" / "seeds_questions.jsonl")
    assert len(questions) >= 90
    metrics = evaluate(searcher, questions)["metrics"]
    for lang in ("zh", "en", "mixed"):  # 30 questions each: one rank moves MRR by up to 0.017
        assert metrics["hybrid"][lang]["none"] == 0
        assert metrics["hybrid"][lang]["mrr@10"] > metrics["dense"][lang]["mrr@10"] - 0.01
        assert metrics["hybrid"][lang]["mrr@10"] > metrics["lexical"][lang]["mrr@10"] - 0.01
    for signal in ("dense", "lexical"):
        assert metrics["hybrid"]["all"]["mrr@10"] > metrics[signal]["all"]["mrr@10"] + 0.05
    # the goals of the retrieval issue (docs/RETRIEVAL.md)
    assert metrics["hybrid"]["all"]["hit@5"] >= 0.95 and metrics["hybrid"]["en"]["hit@5"] >= 0.9
    assert metrics["hybrid"]["all"]["mrr@10"] >= 0.85


def test_nine_in_ten_off_topic_questions_abstain(searcher):
    from app.config import PROJECT_ROOT
    from app.evaluate import evaluate, read_questions

    questions = read_questions(PROJECT_ROOT / "bench" / "eval" / "offtopic_questions.jsonl")
    assert len(questions) == 20
    assert evaluate(searcher, questions, ["hybrid"])["metrics"]["hybrid"]["off-topic"]["none"] >= 0.9


def test_partial_ranking_matches_a_full_sort():
    """Hits are read best-first from a partial selection; the order must equal a full stable sort,
    ties included, also past the selected head."""
    from app.search import _best_first

    scores = np.random.default_rng(3).integers(0, 50, 2000).astype(np.float32)
    scores[::7] = -np.inf
    assert list(_best_first(scores, head=64)) == np.argsort(-scores, kind="stable").tolist()


# ---------------------------------------------------------------- however staff ask (issue 16)


@pytest.mark.parametrize("question, evidence", [
    ("醫院有沒有提供免費的看護員照顧住院長者，讓家屬不用請假陪床？", "护理员为普通病人提供免费的陪护服务"),
    ("職工醫院的住房困難是怎麼解決的？", "为公司职工建筑经济适用房"),
    ("院務公開", "院务公开"),
])
def test_traditional_script_questions_find_simplified_passages(searcher, question, evidence):
    result = searcher.search(question, 5)
    assert result.confidence != "none"
    assert any(evidence in hit.text for hit in result.hits[:3])


@pytest.mark.parametrize("question", ["PACS", "pacs", "ＰＡＣＳ", "RadiologyPACS 系统"])
def test_an_acronym_inside_a_longer_name_is_found_in_any_case_and_width(searcher, question):
    hits = searcher.search(question, 5).hits
    assert "RadiologyPACS" in hits[0].text


def test_iso_9000_written_apart_finds_iso9000(searcher):
    assert "iso9000" in searcher.search("ISO 9000", 5).hits[0].text  # the seed writes it in lower case


def test_a_pasted_paraphrase_finds_the_sentence_it_rewords(searcher):
    """45 characters rewording one sentence of a 326-character chunk (one needle, one syringe per
    patient; disposables disinfected, destroyed, burnt): no word-coverage test may hide it."""
    result = searcher.search("给病人打针时坚持每人单独一副针头针管，一次性用品用后统一消毒、毁形再焚烧处理", 5)
    assert result.confidence != "none"
    assert "一人一针一管一巾一带" in result.hits[0].text


@pytest.mark.parametrize("question", ["what's the backup plan if the power suddenly goes out on the ward?",
                                      "what do the nurses do when the electricty cuts out"])
def test_lay_english_reaches_the_power_cut_passage(searcher, question):
    result = searcher.search(question, 5)
    assert "停电" in result.expanded_query
    assert any("突发停电" in hit.text for hit in result.hits[:3])


def test_the_searched_query_reads_as_sensible_to_a_bilingual_reader(searcher):
    assert searcher.search("how did hospitals handle 院务公开?", 5).expanded_query == \
        "how did hospitals handle 院务公开?（hospital → 医院）"
    typo = searcher.search("is there a vacine for hepatitis b for staff", 5).expanded_query
    assert "vaccine → 疫苗" in typo and "hepatitis b → 乙肝" in typo


TRADITIONAL_SUMMARY = """某某醫院2024年資訊化建設工作總結

一、門診自助服務
今年本院在門診大廳安裝了十二台自助掛號繳費機，病患可以用健保卡自行掛號、繳費和列印檢驗報告，平均候診時間縮短了二十分鐘。資訊室每週巡檢一次，發現故障當天排除。

二、醫院資訊系統
全院完成了電子病歷軟體的升級，醫護人員透過行動護理車在床邊記錄生命徵象，護理紀錄的品質明顯提昇。
"""


def test_a_traditional_big5_summary_is_found_by_simplified_questions_and_cited_in_its_own_script(
        corpus, model_dir, embedder, tmp_path):
    from app.config import Settings
    from app.index import build
    from app.search import Searcher

    (corpus / "資訊化總結.txt").write_bytes(TRADITIONAL_SUMMARY.encode("big5"))
    build(corpus, tmp_path / "index", model_dir, embedder=embedder)
    searcher = Searcher(Settings(seeds=corpus, index=tmp_path / "index", model=model_dir), embedder=embedder)
    for question in ("门诊安装了多少台自助挂号缴费机？", "医院信息系统和电子病历软件升级"):
        hit = searcher.search(question, 5).hits[0]
        assert hit.doc == "資訊化總結.txt"
        document = load(corpus / hit.doc, corpus)
        assert _compact(document.text[hit.start:hit.end]) == _compact(hit.text)
        assert "掛號" in hit.text or "軟體" in hit.text  # shown in its own script


def test_a_translated_question_ranks_the_passage_that_holds_all_its_words(searcher):
    """e5 reads a casual English question by one of its parts (accounting rules for "who keeps
    the union's money"); the share of the question's words one sentence holds brings up the
    sentence with 工会, 经费 and 专户 together, and 考勤 and 卫生 announced monthly."""
    from dataclasses import replace

    union = "who keeps the union's money and does it have its own account?"
    monthly = "do departments get their workload and attendance announced every month?"

    def rank(question, needle):
        hits = searcher.search(question, 10).hits
        return next((i for i, hit in enumerate(hits, 1) if needle in hit.text), None)

    assert rank(union, "并设专户") <= 2 and rank(monthly, "考勤、卫生等情况在全院内通报") <= 3
    plan = searcher.plan(union, searcher.generation)
    rows = np.arange(len(searcher.generation.chunks))
    ones = np.ones(len(rows), np.float32)
    bonus = searcher.coverage_bonus(plan, searcher.generation, rows, ones, ones, len(rows))  # every passage in reach
    best = int(np.argmax(bonus))
    sentence = "积极筹措工会经费,委托医院财务科协同收支管理,并设专户,严格审批使用程序"
    assert "并设专户" in searcher.generation.chunks[best].text and bonus[best] == pytest.approx(
        searcher.fusion.coverage * plan.covered_share(sentence))  # its best sentence's share
    chinese = searcher.plan("工会经费有没有专户", searcher.generation)
    assert not searcher.coverage_bonus(chinese, searcher.generation, rows, ones, ones, len(rows)).any()
    # out of reach: a passage outside the 4 × 5 best that BM25 matched (by fused score) is not read
    low = np.where(np.arange(len(rows)) == best, 0.0, 1.0).astype(np.float32)
    assert searcher.coverage_bonus(plan, searcher.generation, rows, ones, low, 5)[best] == 0
    weights = searcher.fusion
    try:
        searcher.fusion = replace(weights, coverage=0.0)
        assert (rank(monthly, "考勤、卫生等情况在全院内通报") or 99) > 5  # without it, beyond the top 5
    finally:
        searcher.fusion = weights
