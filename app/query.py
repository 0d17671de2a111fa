"""Question analysis: what a question is made of before any store is asked.

Cleaning (control characters out, capped length, a blank question refused), its share of
Chinese script, its lexical terms in every reading (app/lexical.py: folding, jieba, Latin runs,
the bigram marker §), Chinese terms for its English words (app/translate.py), and the content
words the confidence model weighs. The result, a `QueryPlan`, is all that search, the shown
"searched query" and the confidence features read of the question's text.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import cached_property

from . import lexical
from .lexical import LexicalIndex
from .outline import numeral
from .translate import Dictionary, english_words, lemmas, strongest

MAX_QUESTION_CHARS = 1000
ENGLISH = re.compile(r"[A-Za-z][A-Za-z'-]*")
ACRONYM = re.compile(r"(?<![A-Za-z])[A-Z]{2,6}s?(?![A-Za-z])")
#: A question that asks for a figure: an amount, a count, a share, a rate, an average, a length of time.
QUANTITY = re.compile(r"\bhow (?:much|many|long|often)\b|\bwhat(?:'s| is| was)? (?:the )?(?:\w+ ){0,2}"
                      r"(?:percentage|percent|proportion|share|rate|ratio)\b|\baverage\b|\bper ?cent\b|%|"
                      r"多少|几[个次天年月人名项台张元万%成倍岁]|比例|百分|平均|多久|多长", re.IGNORECASE)
#: A figure stated in a sentence: digits, or a Chinese numeral counting something (××× is none).
FIGURE = re.compile(r"[0-9]|[一二两三四五六七八九十百千万]+(?:个|项|次|人|元|名|台|张|年|月|天|倍|成|岁|分|所|家|条|例)")
#: A question that asks for a date or a time ("when did", "what date", 什么时候): its answer states
#: one. "When" alone is no such question: "when the quake hit, what did staff do?" asks what.
TIME_ASKED = re.compile(r"\bwhen(?:'s|'d|'re| did| was| is| will| do| does| were| are| has| have| had| exactly)\b|"
                        r"\b(?:what|which) (?:date|day|month|year)\b|\bwhat time\b|\bsince when\b|"
                        r"什么时候|啥时候|何时|几时|哪天|哪一天|几月|几号|几点|哪年|哪一年|哪个月|什么时间", re.IGNORECASE)
#: A date or time stated: a number of years, months, days or hours (a placeholder xx月 too), a part
#: of the day or year, a named day.
TIME = re.compile(r"[0-9x×_]+\s*(?:年|月|日|号|点|时)|[一二两三四五六七八九十]+(?:年|月|日|号|点)|[上下中]午|晚上|晚间|"
                  r"早上|早晨|凌晨|夜间|年初|年底|年末|年中|年终|上半年|下半年|季度|月份|月底|月初|月末|春节|元旦|"
                  r"今年|明年|去年|上年|当年|当天|当日|每天|每日|每周|每月|每年|每季|周[一二三四五六日末]|星期|年内|以来")
#: A question about an amount of money: its answer is a sum, not any figure ("how much did the
#: new building cost" is not answered by the sentence that counts its floors).
MONEY_ASKED = re.compile(r"\bhow much\b(?!\s+(?:time|longer))[^?？]*?\b(?:cost|spend|spent|pay|paid|price|money|budget|"
                         r"rais|donat|charg|fee|salar|wage|dollar|yuan|rmb|fund|invest|borrow|loan|income|revenue|"
                         r"earn|profit|bonus|subsid|allowance|dosh|cash|fork|shell)|"
                         r"多少钱|多少元|多少万|花了多少|(?:费用|价格|金额|价钱|经费|资金|成本|投资|捐款|收入)(?:是|为|有|达)?多少",
                         re.IGNORECASE)
#: A question about a length of time or how often ("how long was the course", 多久一次, 多长时间):
#: its answer is a duration or a frequency (or, "how long a stretch", a length), not any figure:
#: 20余人次 does not say how long a course ran.
DURATION_ASKED = re.compile(r"\bhow (?:long\b(?! ago)|often\b)|\bhow many (?:days|weeks|months|years|hours|minutes)\b|"
                            r"多久|多长时间|多长时|几天|几个月|几年|几周|几个星期|几小时|几个小时", re.IGNORECASE)
#: A duration, a frequency or a length stated: a number of days, weeks, months, years, hours,
#: minutes or metres, half a day or year, 每季度, 定期, 多年.
DURATION = re.compile(r"(?:[0-9]+|[一二两三四五六七八九十百半几数]+)\s*(?:余|多)?(?:个)?"
                      r"(?:天|日|周|星期|月|季度|年|小时|钟头|分钟|米|延长米|公里)|半天|半年|全天|多年|长期|以来|每[一二两三四五六七八九十半]?个?(?:天|日|周|星期|月|季度?|年)|季度|定期")
#: A sum stated: a number with a currency unit, an amount written to the cent (1310.00), or a currency sign.
MONEY = re.compile(r"[0-9]+\.[0-9]{2}(?![0-9])|[0-9][0-9.,]*\s*(?:余|多)?(?:元|万|亿|美元|块|千元)|"
                   r"[一二两三四五六七八九十百千万亿]+(?:余|多)?(?:元|万元|亿元|美元)|[¥$￥]")
#: An English amount with its size (200k, 2 million, ten grand, 1.5m, Indian English's 2 lakh) or
#: written with thousands separators (100,000; 15,258). The documents write amounts in 万 (20万元,
#: 200万美元, 二十余万元) and counts as plain digits (15258人次): as typed, "200k" searches for 200.
MAGNITUDE = re.compile(
    r"(?<![\w.,])(?:(\d+(?:\.\d+)?)\s*(k|m|mn|bn)(?![a-z])|"
    r"(\d+(?:\.\d+)?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|twenty|fifty|a hundred)"
    r"\s+(thousand|grand|lakh|million|crore|billion)s?\b|(\d{1,3}(?:,\d{3})+)(?![\d,]))(?:-?(?:odd|ish)\b)?",
    re.IGNORECASE)
NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9, "ten": 10, "twenty": 20, "fifty": 50, "a hundred": 100}
SIZES = {"k": 1e3, "thousand": 1e3, "grand": 1e3, "lakh": 1e5, "m": 1e6, "mn": 1e6, "million": 1e6, "crore": 1e7,
         "bn": 1e9, "billion": 1e9}
SENTENCE = re.compile(r"[^。！？；!?;\n]+")
# English function words that are also acronyms of the corpus (HIS, the hospital information
# system): typed in lower case as a word of an English sentence, they are the English word.
HOMOGRAPH = re.compile(r"(?<![\w-])his(?![\w-])")
PARTICLES = "过了们着"  # aspect particles and the plural suffix, which jieba may join to the word before


class EmptyQuestion(ValueError):
    """The question has no searchable content."""




def clean_question(question: str) -> str:
    """The question without control characters and lone surrogates; raises EmptyQuestion."""
    text = "".join(
        " " if ch.isspace() else ch for ch in str(question)
        if not (0xD800 <= ord(ch) <= 0xDFFF) and (ch.isprintable() or ch.isspace())
    )
    text = re.sub(r"\s+", " ", text).strip()[:MAX_QUESTION_CHARS]
    if not re.search(r"\w", text):
        raise EmptyQuestion("问题为空：请输入要查找的内容。")
    return text


def cjk_share(text: str) -> float:
    letters = [ch for ch in text if ch.isalnum()]
    return sum(bool(lexical.CJK.match(ch)) for ch in letters) / len(letters) if letters else 0.0


def matched_latin_share(text: str, vocabulary: Collection[str]) -> float:
    """Share of the question's letters in Latin words the corpus itself contains (PACS, HIS, CT):
    evidence BM25 matches directly, like Chinese words, not through a dictionary."""
    letters = sum(ch.isalnum() for ch in text)
    matched = sum(len(word) for word in english_words(text) if word in vocabulary)
    return matched / letters if letters else 0.0


@dataclass(frozen=True)
class QueryPlan:
    """How a question is searched: its own terms, and Chinese terms for its English words."""

    text: str
    cjk_share: float
    terms: dict[str, float]  # lexical term -> weight
    # Each translated English word or phrase (as read, a typo corrected) with its Chinese terms.
    glosses: tuple[tuple[str, tuple[str, ...]], ...]
    # One entry per content word of the question: the Chinese terms that stand for it in the
    # corpus (the word itself, or an English word's translations); empty when the corpus has none.
    units: tuple[tuple[str, ...], ...] = ()
    own_share: float = 0.0  # share of the question BM25 can match as it is: Chinese, and Latin words of the corpus
    unit_weights: tuple[float, ...] = ()  # each unit's IDF: its rarest corpus term's, an unknown word's the most
    unknown_weight: float = 0.0  # the IDF of a word no passage contains
    plain: str = ""  # the question with its slang in plain English and its typos corrected (for e5)

    @property
    def known_share(self) -> float:
        """IDF-weighted share of the question's content words the corpus knows at all."""
        total = sum(self.unit_weights)
        return sum(w for u, w in zip(self.units, self.unit_weights) if u) / total if total else 0.0

    def covered_share(self, folded: str) -> float:
        """IDF-weighted share of the question's content words that a passage (folded text) contains."""
        total = sum(self.unit_weights)
        if not total:
            return 0.0
        return sum(w for u, w in zip(self.units, self.unit_weights) if any(t in folded for t in u)) / total

    @property
    def asks_figure(self) -> bool:
        """Whether the question asks for an amount, a count, a share or a length of time."""
        return bool(QUANTITY.search(self.text))

    @property
    def names_absent(self) -> bool:
        """Whether the question names a thing the documents never mention in any wording (a
        curated "-" entry: interest rate, maternity leave, wifi)."""
        return any(not chinese for _, chinese in self.glosses)

    @cached_property
    def stated_by(self) -> tuple[re.Pattern, int] | None:
        """What a sentence must state to answer the question, and how many sentences before it may
        state it: a figure when it asks for one (a sum when about money, a duration or a frequency
        when it asks how long or how often); a date or time when it
        asks when ("年内…。投资10万元购进救护车一辆": a date may open the sentence before); None when
        any sentence may answer."""
        if self.asks_figure:
            if MONEY_ASKED.search(self.text):
                return MONEY, 0
            return (DURATION if DURATION_ASKED.search(self.text) else FIGURE), 0
        if TIME_ASKED.search(self.text):
            return TIME, 1
        return None

    def unstated(self, folded: str) -> float:
        """1 when the passage cannot state what the question asks: the question names a thing the
        documents never mention, or no sentence of the passage holding most of the question's
        words (a heading may tie with its sentence), nor the sentence allowed before it, states
        what `stated_by` asks for; else 0: the documents name the waiting time or the building's
        cost without the number, count the DR unit radiology asks for, not its price, or plan the
        new building without saying when it opens."""
        if self.names_absent:
            return 1.0
        if self.stated_by is None:
            return 0.0
        pattern, before = self.stated_by
        shares = self.sentence_shares(folded)
        most = max(share for _, share in shares)
        return 0.0 if any(pattern.search(shares[j][0]) for i, (_, share) in enumerate(shares) if share >= most - 1e-9
                          for j in range(max(0, i - before), i + 1)) else 1.0

    def sentence_shares(self, folded: str) -> list[tuple[str, float]]:
        """Each sentence of a passage (folded text) with the share of the question's words it holds."""
        return [(sentence, self.covered_share(sentence)) for sentence in SENTENCE.findall(folded) or [folded]]

    def best_sentence_share(self, folded: str) -> float:
        """The largest share of the question's words one sentence of a passage holds."""
        return max(share for _, share in self.sentence_shares(folded))

    def missing_weight(self, folded: str) -> float:
        """How specific the most specific question word a passage (folded text) lacks is: its IDF
        over an unknown word's (0 when the passage has them all)."""
        missing = [w for u, w in zip(self.units, self.unit_weights) if not any(t in folded for t in u)]
        return max(missing, default=0.0) / self.unknown_weight if self.unknown_weight else 0.0

    @property
    def expansions(self) -> tuple[str, ...]:
        """The Chinese terms searched for the question's English words."""
        return tuple(dict.fromkeys(t for _, chinese in self.glosses for t in chinese))

    @property
    def expanded_query(self) -> str:
        """The question as searched, for a bilingual reader: each English word with its Chinese
        terms, "how did hospitals handle 院务公开?（hospital → 医院）", and a dash for a thing the
        documents never name ("interest rate → —")."""
        if not self.glosses:
            return self.text
        glosses = "；".join(f"{english} → {'/'.join(chinese) or '—'}" for english, chinese in self.glosses)
        return f"{self.text}（{glosses}）"


def _content_unit(word: str, vocabulary: Collection[str]) -> tuple[str, ...] | None:
    """The corpus term a question word stands for: itself, or, for a word the corpus lacks that
    jieba joined with a particle (办过, 师们, 去了), its stem; None when that stem is no content
    word, () when the corpus knows neither."""
    if word in vocabulary:
        return (word,)
    if len(word) > 1 and word[-1] in PARTICLES:
        stem = word[:-1]
        if stem in lexical.STOP_WORDS:
            return None
        if stem in vocabulary:
            return (stem,)
    return ()


def _decimal(value: float) -> str:
    """A number as the documents write one: 20, 1.5, 1745.87 (no trailing zeros)."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def magnitudes(text: str) -> tuple[str, list[tuple[str, list[tuple[str, float]]]]]:
    """The question without its English amounts, and each amount (as typed) with the forms the
    documents would write it in: 200k → 20万 and 二十余万 (a round amount may be written "more
    than": 二十余万元), 2 million → 200万, 100,000 → 100000 and 10万, 15,258 → 15258 (a count
    as written); an amount below 10,000 is its digits (5k → 5000)."""
    spans = []

    def read(match: re.Match) -> str:
        number, size = (match[1], match[2]) if match[1] else (match[3], match[4])
        if match[5]:
            value = float(match[5].replace(",", ""))
        elif size.lower() == "grand" and number.lower() in ("a", "an"):  # a grand opening
            return match[0]
        else:
            base = NUMBER_WORDS.get(number.lower()) or float(number)
            value = base * SIZES[size.lower()]
        exact = bool(match[5])  # 15,258 is a count as written; 200k is a round amount
        forms = [_decimal(value)] if value < 10_000 or exact else []
        wan = value / 10_000
        if value >= 10_000 and (not exact or value % 100 == 0):
            forms.append(_decimal(wan) + "万")
        if not exact and wan == int(wan) and 10 <= wan <= 1000:
            forms.append(numeral(int(wan)) + "余万")
        spans.append((match[0], [(form, 1.0) for form in forms]))
        return " "

    return MAGNITUDE.sub(read, text), spans


def analyse(text: str, index: LexicalIndex, dictionary: Dictionary, translation_weight: float = 1.0) -> QueryPlan:
    """The question's own lexical terms, plus weighted Chinese terms for its English words, and
    the content words the confidence model weighs (`index` gives their IDF)."""
    text_read, amounts = magnitudes(text)
    spans = dictionary.translate_spans(text_read) + amounts
    typed = HOMOGRAPH.sub(" ", text_read)  # "on his first day" is no question about the HIS system
    terms = dict.fromkeys(lexical.terms(typed), 1.0)
    for term, weight in strongest(spans):
        if term in terms:
            continue
        terms[term] = weight * translation_weight
        for bigram in lexical.terms(term):  # the translation's own sub-terms, weaker
            terms.setdefault(bigram, weight * translation_weight * 0.5)
    glosses = tuple((english, tuple(t for t, _ in found)) for english, found in spans)
    vocabulary = index.vocabulary
    readings = [[unit for unit in (_content_unit(word, vocabulary) for word in words) if unit is not None]
                for words in lexical.reading_words(ENGLISH.sub(" ", text_read))]
    units = max(readings, key=lambda r: sum(index.idf(u[0]) for u in r if u) - sum(not u for u in r))
    latin = [w for w in english_words(typed) if w in vocabulary]  # PACS, POS: the corpus's own words
    acronyms = {w.lower() for w in ACRONYM.findall(text)}  # JCI, IVF: a name of a thing, where a name of a person is not
    units += [(word,) for word in dict.fromkeys(latin)]
    units += [chinese for _, chinese in glosses]
    translated = {word for english, _ in spans for word in english.split()} | set(latin)
    translated |= dictionary.framed(text_read)  # "how long" names nothing
    units += [() for word in dictionary.words(text_read)
              if not dictionary.is_stop(word) and word not in translated and not dictionary.is_framing(word)
              and (dictionary.is_translatable(word) or word in acronyms)
              and not any(f in translated for f in lemmas(word))]
    unknown = index.idf("")
    weights = tuple(max(index.idf(t) for t in unit) if unit else unknown for unit in units)
    cjk = cjk_share(text)
    return QueryPlan(text, cjk, terms, glosses, tuple(units),
                     own_share=min(1.0, cjk + matched_latin_share(typed, vocabulary)),
                     unit_weights=weights, unknown_weight=unknown,
                     plain=dictionary.plain_reading(text) if glosses else text)
