"""English → Chinese corpus terms from CC-CEDICT, restricted to the corpus vocabulary."""

from __future__ import annotations

import pytest

from app.lexical import STOP_WORDS
from app.translate import (
    Dictionary,
    american_spellings,
    casual_paraphrases,
    domain_terms,
    english_words,
    lemmas,
    read_domain_terms,
    read_paraphrases,
)


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
    # -es is an ending only after s, x, z, ch, sh and o: states is state, never "stat" (immediately)
    assert "box" in lemmas("boxes") and "theme" in lemmas("themes") and "stat" not in lemmas("states")


def test_a_typo_is_never_read_as_a_word_that_translates_to_nothing(dictionary):
    """"weather" has an empty curated entry; "weathr" used to be corrected to it and crash."""
    assert dictionary.correction("weathr") != "weather"
    assert dictionary.translate("weathr tomorrow") == dictionary.translate("tomorrow")


def test_irregular_forms_read_as_their_base_word():
    assert "catch" in lemmas("caught") and "woman" in lemmas("women") and "child" in lemmas("children")


def test_possessives_and_contractions_are_the_word(dictionary):
    assert english_words("the party secretary's talk, the folks' flats, how'd it go") == [
        "the", "party", "secretary", "talk", "the", "folks", "flats", "how", "it", "go"]
    assert "书记" in terms(dictionary, "the party secretary's pep talk")


def test_a_typo_of_an_inflected_word_is_corrected_through_its_base(dictionary):
    assert dictionary.translate_spans("docters")[0][0] == "doctor"  # not "doctors", a weak gloss
    assert dictionary.translate_spans("extinguishrs")[0][0] == "extinguisher"
    # simplemma reads "directer" as direct; a word CC-CEDICT never uses is corrected instead.
    assert dictionary.translate_spans("talk to the directer")[-1][0] == "director"


def test_a_compound_the_dictionary_lacks_reads_as_its_words(dictionary):
    assert [key for key, _ in dictionary.translate_spans("the be-an-owner campaign")] == ["owner", "campaign"]
    assert [key for key, _ in dictionary.translate_spans("a check-up")] == ["check-up"]  # a known compound stays


def test_a_phrase_is_found_whichever_of_its_words_is_inflected(dictionary):
    # The key is "missed charge" (漏收): the question's "miss charges" inflects both words otherwise.
    assert dictionary.translate_spans("imaging admitting they miss charges")[-1] == ("missed charge", [("漏收", 1.0)])
    assert dictionary.translate_spans("who took over the ward")[0][0] == "take over"
    table = Dictionary({"sign in": [("签到", 1.0)], "sign": [("标志", 1.0)], "in": []}, english=frozenset({"sign"}))
    assert table.translate("nurses signed in late") == [("签到", 1.0)]
    assert table.translate("she signs in at eight") == [("签到", 1.0)]  # a first word in its -s form as well
    assert Dictionary({"sign in": [("签到", 1.0)]}).translate("signing of the contract in") == []  # not adjacent


def test_a_word_written_closed_reads_as_the_phrase_the_table_holds(dictionary):
    # "lookaround" has no entry of its own: it is the key "look around" (参观), plural or not.
    assert dictionary.translate_spans("after the lookarounds")[-1][0] == "look around"
    table = Dictionary({"sit-down": [("座谈", 1.0)], "be among": [("名列", 1.0)], "take over": [("托管", 1.0)]},
                       english=frozenset({"sit", "down", "be", "among", "beaming", "take", "over", "takeover"}))
    assert table.translate("after the takeovers") == [("托管", 1.0)]
    assert table.translate("monthly sitdowns") == [("座谈", 1.0)]  # a hyphenated key as well
    assert table.translate("beaming") == []  # parts are never corrected: "aming" is no "among"


def test_a_phrasal_verb_holding_its_object_reads_as_the_phrase(dictionary):
    # "handed it over" was hand → 人手 and over → nothing; now it is the key "hand over".
    assert [key for key, _ in dictionary.translate_spans("after they handed it over to an outside firm")][1] == "hand over"
    assert dictionary.translate_spans("did the union sort them out")[-1][0] == "sort out"
    table = Dictionary({"hand over": [("移交", 1.0)], "hand": [("人手", 1.0)], "it": []},
                       english=frozenset({"hand", "over", "it", "keep"}))
    assert table.translate("they handed it over") == [("移交", 1.0)]
    assert table.translate("a hand it") == [("人手", 1.0)]  # no particle: no phrasal verb
    assert table.translate("keep it over") == []  # no such phrase: the words as they are


def test_a_typo_in_an_ending_is_read_as_the_inflected_word(dictionary):
    # The typo is in the ending, so no base form is one edit away: the inflections of the table's words are.
    assert dictionary.correction("cooperatng") == "cooperate" and dictionary.correction("complainng") == "complain"
    assert dictionary.correction("meetigns") == "meeting"  # a key itself before a key through its inflection
    assert dictionary.translate_spans("teams competing but still cooperatng?")[-1][0] == "cooperate"


def test_a_typo_is_read_as_the_likelier_slip(dictionary):
    # A letter left out before a letter wrong: "leters" was "later", and the banners question got nothing.
    assert dictionary.correction("leters") == "letters" and dictionary.correction("radation") == "radiation"
    assert "锦旗" in terms(dictionary, "how many thank-you leters and banners?")
    # The first letter is rarely the slip: "visting" was "listing", "biking" was "hiking", "bigest" "digest".
    assert dictionary.correction("visting") == "visit" and dictionary.correction("bigest") is None
    assert dictionary.correction("biking") is None


def test_warming_makes_the_phrase_and_typo_indexes_before_a_question_needs_them():
    table = Dictionary({"take over": [("托管", 1.0)], "meeting": [("会议", 1.0)]},
                       english=frozenset({"take", "over", "meeting"}))
    assert table._phrases is None and table._neighbours is None  # made lazily …
    assert table.warm() is table and table._phrases is not None and table._neighbours is not None  # … or now
    assert ("meetings", "meeting") in table._neighbours["meetngs"]  # an inflection's deletion variant
    assert table.correction("meetngs") == "meeting" and table.translate("it takes over") == [("托管", 1.0)]


def test_a_hyphenated_key_matches_its_words_written_apart(dictionary):
    spans = dictionary.translate_spans("quality management, they use three level management?")
    assert ("three-level management", [("三级", 1.0), ("管理制度", 0.9), ("管理", 0.8)]) in spans
    assert "how-to" not in [key for key, _ in dictionary.translate_spans("how to make dumplings")]  # all stop words


def test_a_misspelt_word_of_a_phrase_is_read_as_its_correction(dictionary):
    assert dictionary.translate_spans("is there a seperate account")[-1] == ("separate account", [("专户", 1.0)])


def test_pronouns_and_determiners_translate_to_nothing(dictionary):
    # CC-CEDICT reads he as 人家, one as 之一, every as 一切: noise in the searched query.
    assert dictionary.translate_spans("did he get one each or not, every other one") == []
    assert [key for key, _ in dictionary.translate_spans("other hospitals")] == ["other hospital"]  # a phrase stays


def test_general_words_take_the_sense_questions_mean(dictionary):
    assert terms(dictionary, "do they publish the spending")[0] == "公布"  # not 刊登 only
    assert dictionary.translate_spans("the institute")[-1] == ("institute", [("所", 1.0)])  # not 确立, "to institute"
    assert terms(dictionary, "sign the contract")[0] == "签订"  # not 指标
    assert "专户" in terms(dictionary, "a separate bank account")
    # Senses no staff question means: keep was 喂养 ("to feed"), bad 交代, best 尖端, ops 运营.
    assert dictionary.translate_spans("keep")[0] == ("keep", [("保持", 1.0), ("坚持", 0.9)])
    assert terms(dictionary, "how bad was it")[0] == "差" and terms(dictionary, "the best")[0] == "最好"
    assert dictionary.translate_spans("cataract ops")[-1][1][0][0] == "手术"
    assert dictionary.translate("I think it's right") == []  # chat words frame the question
    # thirteenth session: a field of medicine, a needle as the syringe the documents name
    assert "医学" in terms(dictionary, "what kind of medicine") and "注射器" in terms(dictionary, "used needles")
    assert terms(dictionary, "what did they drum into the cashiers")[0] == "强调"
    assert "增长" in terms(dictionary, "revenue more than doubled") and "双簧" not in terms(dictionary, "it doubled")
    assert terms(dictionary, "what was this place before")[:2] == ["医院", "我院"]  # not 位置, 地位
    assert terms(dictionary, "they go down to the countryside")[0] == "下乡"  # not 下降


def test_a_compound_with_a_plural_first_word_reads_as_its_singular():
    table = Dictionary({"mother-in-law": [("婆婆", 1.0)], "check-up": [("体检", 1.0)]})
    assert table.translate("my mothers-in-law") == [("婆婆", 1.0)]
    assert table.translate("two check-ups") == [("体检", 1.0)]  # the last word's plural, as before
    assert table.translate("mothers in law") == []  # no compound: its words, which this table lacks


def test_british_spellings_read_as_the_american_ones_cedict_uses(dictionary):
    assert american_spellings("theatre") == ["theater"] and american_spellings("colour") == ["color"]
    assert american_spellings("paediatrics") == ["pediatrics"] and american_spellings("travelled") == ["traveled"]
    assert american_spellings("hour") == [] and american_spellings("analyser") == ["analyzer"]
    assert dictionary.words("the theatre nurses' colour") == ["the", "theater", "nurses", "color"]
    assert terms(dictionary, "do the operating theatre nurses use a fresh needle")[0] == "手术室"
    assert dictionary.translate("organised") == dictionary.translate("organized") != []


def test_curated_terms_choose_the_hospital_sense(dictionary):
    found = terms(dictionary, "do they charge for the ambulance")
    assert {"救护车", "收费"} <= set(found[:2]) and "冲锋" not in found  # not a military charge
    assert "逐项" in terms(dictionary, "they checked it item by item")
    assert "放射科" in terms(dictionary, "someone in imaging")
    assert {"手术室", "下乡", "义诊"} <= set(terms(dictionary, "theatre staff went to the countryside for a free check-up"))
    # admitting a fault is owning up, admitting a patient is 收治; paying by card is the pos machine
    assert terms(dictionary, "radiology admits it's short of staff")[:1] != ["收治"]
    assert "检讨" in terms(dictionary, "radiology admits it's short of staff")
    assert "收治" in terms(dictionary, "how many patients did they admit")
    assert "pos" in terms(dictionary, "can I pay by card")
    # Ward abbreviations as staff type them: OT is the operating theatre (or overtime), ED the emergency department.
    assert {"手术室", "加班"} <= set(terms(dictionary, "after the OT use the syringes"))
    assert "急诊" in terms(dictionary, "how busy was ED")


def test_a_curated_entry_the_corpus_cannot_use_leaves_cedicts_translation():
    assert domain_terms()["midwife"] == ("助产",)
    restricted = Dictionary.from_cedict(["助产士"])  # the curated 助产 is not in this corpus
    assert terms(restricted, "midwife") == ["助产士"]


def test_a_duplicate_curated_entry_is_an_error(tmp_path):
    table = tmp_path / "terms.tsv"
    table.write_text("# comment\nward\t病区 病房\nhow much\t\n", "utf-8")
    assert read_domain_terms(table) == {"ward": ("病区", "病房"), "how much": ()}
    table.write_text("ward\t病区\nWard\t病房\n", "utf-8")
    with pytest.raises(ValueError, match="line 2"):
        read_domain_terms(table)
    table.write_text("go to the villages\t下基层\n", "utf-8")  # longer than a phrase is ever read
    with pytest.raises(ValueError, match="line 1"):
        read_domain_terms(table)
    table.write_text("top 10\t十佳\n", "utf-8")  # reads as "top": every top would be 十佳
    with pytest.raises(ValueError, match="line 1"):
        read_domain_terms(table)


def test_slang_reads_as_the_plain_english_it_stands_for(dictionary):
    """app/data/casual_en.tsv: "pull a sickie" is sick leave, a rota is a duty roster; the plain
    wording's terms are the slang's, inflected as any key is ("pulled a sickie")."""
    assert casual_paraphrases()["pull a sickie"] == "sick leave"
    assert terms(dictionary, "who pulled a sickie") == terms(dictionary, "sick leave") == ["请假"]
    assert terms(dictionary, "the night rota") == ["值夜班", "排班"]
    # A filler is no content word; a curated hospital entry keeps its own terms (gaffer is 主管).
    assert dictionary.is_framing("kinda") and dictionary.translate("kinda") == []
    assert casual_paraphrases()["gaffer"] == "supervisor" and terms(dictionary, "gaffer") == ["主管"]
    # Slang of more varieties (thirteenth session), written from the language alone.
    assert terms(dictionary, "what are they planning going forward")[-3:] == ["今后", "以后", "将来"]
    assert terms(dictionary, "who took mc yesterday")[0] == "请假"  # Singapore: a medical certificate
    assert {"故障", "损坏"} <= set(terms(dictionary, "the fridge is banjaxed"))  # Irish: broken
    assert dictionary.is_framing("bloke") and dictionary.translate("the bloke") == []
    # And of more varieties still (fourteenth session): Nigerian, Chinese speakers', Scottish, Philippine.
    assert terms(dictionary, "the oga said so")[0] == "领导" and terms(dictionary, "when they take light") == ["停电"]
    assert "输液" in terms(dictionary, "patients who hang water")
    assert terms(dictionary, "the janny") == ["后勤人员"] and terms(dictionary, "brownout on the ward")[0] == "停电"
    assert "小便" not in terms(dictionary, "a wee figure will do")  # Scottish and Irish: small


def test_particles_and_greetings_are_no_content_words(searcher):
    """Singaporean and Malaysian particles, greetings and forms of address mean nothing a passage
    could hold; read as words the documents lack they cost a question its coverage: "can anyhow
    throw away or must burn leh?" had three such words and got nothing."""
    for word in ("leh", "lor", "eh", "ah", "hey", "bro", "anyhow"):
        assert searcher.generation.translations.is_framing(word), word
    plan = searcher.plan("eh bro, the disposable syringes, must burn leh?", searcher.generation)
    assert plan.units == (("注射器", "一次性"), ("一定", "务必", "必须"), ("焚烧",))
    # So are framing, hedges and intensifiers ("his" in lower case; the HIS system is written in capitals).
    assert searcher.plan("what did the new director do on his first day", searcher.generation).units[-1] == ("当天",)
    assert ("his",) in searcher.plan("what went wrong with the HIS", searcher.generation).units
    for word in ("supposed", "roughly", "whoever", "pretty", "mention", "versus"):
        assert searcher.generation.translations.is_framing(word), word
    # The words of a framing phrase too: "how often" asks for a frequency and names nothing.
    plan = searcher.plan("how often are departments supposed to do their own hazard self-checks?", searcher.generation)
    assert plan.units == (("科室",), ("隐患",), ("自查", "自查自纠"))
    assert searcher.plan("they go out often?", searcher.generation).units[-1] == ("频繁",)


def test_e5_reads_slang_in_plain_english_and_typos_corrected(dictionary):
    """`plain_reading` is what the embedded expansion says: the casual table's plain English for
    its slang and a misspelt word corrected, all else as typed."""
    assert dictionary.plain_reading("Who's the new big cheese in charge?") == "Who's the new leader in charge?"
    assert dictionary.plain_reading("so I remeber the billing people") == "so I remember the billing people"
    # What only looks like a typo or like slang stays as typed: a name, a real word, an inflection.
    for text in ("Who lost to the Broncos?", "the newer theory", "What body has stated that", "what work did he do"):
        assert dictionary.plain_reading(text) == text
    # Positions are those of the text as typed, whatever lower-casing does to its length (İ is two code points lower).
    assert dictionary.plain_reading("İstanbul: so I remeber the big cheese") == "İstanbul: so I remember the leader"
    assert dictionary.plain_reading("how did hospitals handle 院务公开?") == "how did hospitals handle 院务公开?"


def test_a_duplicate_or_long_slang_entry_is_an_error(tmp_path):
    table = tmp_path / "casual.tsv"
    table.write_text("# comment\nbig cheese\tleader\nkinda\t\n", "utf-8")
    assert read_paraphrases(table) == {"big cheese": "leader", "kinda": ""}
    table.write_text("dosh\tmoney\nDosh\tcash\n", "utf-8")
    with pytest.raises(ValueError, match="line 2"):
        read_paraphrases(table)
    table.write_text("elephant in the room\tignored problem\n", "utf-8")  # four words are never read as one key
    with pytest.raises(ValueError, match="line 1"):
        read_paraphrases(table)


def test_framing_words_are_no_content_but_an_untranslatable_word_is(searcher, dictionary):
    """"back" and "around" only frame a question: a passage without them lacks nothing. The
    documents have no term for "weather": it translates to nothing, and every passage lacks it."""
    assert dictionary.is_framing("back") and dictionary.is_framing("around") and not dictionary.is_framing("weather")
    assert dictionary.translate("back around weather") == [] and dictionary.is_translatable("weather")
    generation = searcher.generation
    assert searcher.plan("the ambulance, back around", generation).units == (("救护车", "急救"),)
    assert () in searcher.plan("ambulance weather", generation).units


def test_an_inflected_stop_word_is_no_content_either(searcher, dictionary):
    """"give" and "come" are stop words, so "giving" and "coming" are too: CC-CEDICT would read
    them as 予以 and 未来, which a bilingual reader of the searched query would find absurd."""
    assert dictionary.is_stop("giving") and dictionary.is_stop("coming") and dictionary.is_stop("told")
    assert not dictionary.is_stop("nurses") and not dictionary.is_stop("findings")
    assert [english for english, _ in dictionary.translate_spans("what's coming next year")] == ["next year"]
    assert terms(dictionary, "were they giving leaflets") == ["传单", "册子", "宣传材料"]  # not 予以
    plan = searcher.plan("have people been coming round to see the ambulance", searcher.generation)
    assert "coming" not in plan.expanded_query.split("（")[1] and "救护车" in plan.expanded_query


def test_an_acronym_the_documents_lack_is_a_content_word_a_name_is_not(searcher):
    """IVF names a treatment no passage holds; a passage without it lacks the question's point.
    A person's name (Kuechly) is not looked for: the documents write names in Chinese."""
    generation = searcher.generation
    assert () in searcher.plan("Does the hospital offer IVF?", generation).units
    assert () not in searcher.plan("Does the hospital offer Kuechly?", generation).units
    assert ("pacs",) in searcher.plan("PACS", generation).units


def test_a_thing_the_documents_never_name_is_one_content_word_of_its_own(searcher, dictionary):
    # "interest rate" is not 利益 and 率: the phrase consumes its words and translates to nothing.
    assert dictionary.translate_spans("the interest rate on the loan") == [
        ("interest rate", []), ("loan", [("贷款", 1.0)])]
    plan = searcher.plan("the interest rate on the loan", searcher.generation)
    assert plan.units == ((), ("贷款",)) and plan.names_absent
    assert not searcher.plan("the interest on the loan", searcher.generation).names_absent


def test_chat_words_translate_to_nothing(dictionary):
    # now → 如今/现在/眼前 and reckons → nothing useful: the searched query carries only the content.
    assert [key for key, _ in dictionary.translate_spans("bloke who reckons he took no day off, apparently")] == ["day off"]
    assert [key for key, _ in dictionary.translate_spans("what's the bonus based on now")] == ["bonus", "based on"]
    assert "still" not in STOP_WORDS  # "still a problem" asks whether it persists: 仍然
