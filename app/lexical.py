"""Lexical retrieval: jieba terms plus character bigrams, scored with BM25.

jieba's search mode finds words and their sub-words (院务公开 → 院务, 公开, 院务公开); a user
dictionary of hospital administration terms (kept as data in `app/data/`) keeps domain terms
whole; character bigrams let terms jieba does not know still match. Bigrams live in their own
namespace (prefixed "§") so they never inflate the statistics of real words.

Text is folded first (`app/folding.py`: Traditional → Simplified, full-width → half-width, lower
case), on both sides, so 醫院 finds 医院 and ＰＡＣＳ finds PACS. A Latin or digit run inside
Chinese text is a term of its own and so are its parts (RadiologyPACS → radiologypacs,
radiology, pacs; ISO9000 → iso9000, iso, 9000), so an acronym is found inside a longer name.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import threading
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np
from scipy import sparse

from .config import DATA
from .folding import readings

#: Bumped whenever tokenisation code changes (folding, Latin parts, bigrams), so indexes redo
#: their terms; the data it reads is in `lexical_identity` by content. The English table has its
#: own identity (app/translate.py `table_identity`): an index built from another one serves until rebuilt.
LEXICAL_VERSION = 13
#: The data files tokenisation reads: an edited stop-word list or term list makes every index's
#: terms stale, bumped or not.
LEXICAL_DATA = ("stopwords_zh.txt", "stopwords_en.txt", "hospital_terms.txt", "regional_zh.tsv")
K1 = 1.2
B = 0.75
BIGRAM_WEIGHT = 0.5  # a bigram match is weaker evidence than a whole-word match
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]{2,}")
WORD = re.compile(r"[\w\u3400-\u9fff]", re.UNICODE)
LATIN_RUN = re.compile(r"[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*")
# The parts of a Latin run: an upper-case acronym before a capitalised word, words, acronyms, numbers.
LATIN_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")

_jieba_lock = threading.Lock()
_jieba = None


@functools.cache
def lexical_identity() -> str:
    """The tokeniser's identity in the manifest and the terms cache: its version and a digest of
    the data files it reads, "13:1f2e…"."""
    digest = hashlib.sha256()
    for name in LEXICAL_DATA:
        digest.update(name.encode() + b"\0" + (DATA / name).read_bytes())
    return f"{LEXICAL_VERSION}:{digest.hexdigest()[:16]}"


def _load_words(name: str) -> frozenset[str]:
    return frozenset(line.strip().lower() for line in (DATA / name).read_text("utf-8").splitlines() if line.strip())


STOP_WORDS = _load_words("stopwords_zh.txt") | _load_words("stopwords_en.txt")


def _segmenter():
    """jieba, initialised once per process with the hospital terms dictionary."""
    global _jieba
    with _jieba_lock:
        if _jieba is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            tokenizer.load_userdict(str(DATA / "hospital_terms.txt"))
            # Questions are typed in any case: b超 is the word B超 too.
            for word, count in [(w, c) for w, c in tokenizer.FREQ.items() if c and w != w.lower()]:
                tokenizer.add_word(word.lower(), count)
            _jieba = tokenizer
    return _jieba


def _segment(folded: str) -> list[str]:
    return [
        w for w in (token.strip().lower() for token in _segmenter().lcut_for_search(folded))
        if w and WORD.search(w) and w not in STOP_WORDS
    ]


def latin_parts(text: str) -> list[str]:
    """The parts of each mixed Latin/digit run of `text` (RadiologyPACS → radiology, pacs), lower-cased;
    a run that is one part already has none."""
    parts = []
    for run in LATIN_RUN.findall(unicodedata.normalize("NFKC", text)):
        pieces = LATIN_PART.findall(run)
        if len(pieces) > 1:
            parts += [p.lower() for p in pieces if (len(p) > 1 or p.isdigit()) and p.lower() not in STOP_WORDS]
    return parts


def reading_words(text: str) -> list[list[str]]:
    """jieba search-mode words of each folded reading of `text` (app/folding.py `readings`)."""
    return [_segment(reading) for reading in readings(text)]


def _first_reading_then_new(per_reading: list[list[str]]) -> list[str]:
    """The first reading's items as they are (repeats count in BM25), then each further
    reading's items that are not there yet."""
    found: list[str] = []
    for items in per_reading:
        seen = set(found)
        found += [item for item in items if item not in seen]
    return found


def _words(forms: list[str], text: str) -> list[str]:
    return _first_reading_then_new([_segment(form) for form in forms]) + latin_parts(text)


def words(text: str) -> list[str]:
    """jieba search-mode words of `text`'s folded readings, without stop words and punctuation,
    then the parts of its mixed Latin runs."""
    return _words(readings(text), text)


def terms(text: str) -> list[str]:
    """Every lexical term of `text`: words, then "§"-prefixed CJK character bigrams."""
    forms = readings(text)
    bigrams = _first_reading_then_new([["§" + run[i : i + 2] for run in CJK_RUN.findall(form)
                                        for i in range(len(run) - 1)] for form in forms])
    return _words(forms, text) + bigrams


class LexicalIndex:
    """BM25 over a fixed set of chunks; rows of `weights` are chunks, columns terms."""

    def __init__(self, vocabulary: dict[str, int], weights: sparse.csr_matrix):
        self.vocabulary = vocabulary
        self.weights = weights.tocsc()  # column slices are what a query needs

    @classmethod
    def build(cls, term_lists: list[list[str]]) -> "LexicalIndex":
        vocabulary: dict[str, int] = {}
        rows, cols, counts = [], [], []
        for row, chunk_terms in enumerate(term_lists):
            for term, count in Counter(chunk_terms).items():
                rows.append(row)
                cols.append(vocabulary.setdefault(term, len(vocabulary)))
                counts.append(count)
        n_docs = max(len(term_lists), 1)
        tf = sparse.csr_matrix(
            (np.asarray(counts, np.float32), (rows, cols)), shape=(len(term_lists), len(vocabulary))
        )
        lengths = np.asarray([len(t) for t in term_lists], np.float32)
        average = float(lengths.mean()) if len(lengths) else 1.0
        df = np.bincount(np.asarray(cols, np.int64), minlength=len(vocabulary))
        idf = np.log(1.0 + (n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        boost = np.asarray([BIGRAM_WEIGHT if t.startswith("§") else 1.0 for t in vocabulary], np.float32)
        tf = tf.tocoo()
        norm = K1 * (1 - B + B * lengths[tf.row] / max(average, 1e-9))
        data = idf[tf.col] * boost[tf.col] * tf.data * (K1 + 1) / (tf.data + norm)
        weights = sparse.csr_matrix((data.astype(np.float32), (tf.row, tf.col)), shape=tf.shape)
        return cls(vocabulary, weights)

    def idf(self, term: str) -> float:
        """BM25's inverse document frequency of `term` (as for a term no chunk contains when unknown)."""
        count = self.weights.shape[0]
        column = self.vocabulary.get(term)
        df = 0 if column is None else int(self.weights.indptr[column + 1] - self.weights.indptr[column])
        return float(np.log(1.0 + (count - df + 0.5) / (df + 0.5)))

    def scores(self, query_terms: dict[str, float]) -> np.ndarray:
        """BM25 score of every chunk for the weighted query terms (0 where nothing matches)."""
        known = {self.vocabulary[t]: w for t, w in query_terms.items() if t in self.vocabulary}
        if not known:
            return np.zeros(self.weights.shape[0], np.float32)
        ids = sorted(known)
        return np.asarray(self.weights[:, ids] @ np.asarray([known[i] for i in ids], np.float32)).ravel()

    def save(self, folder: Path) -> list[Path]:
        vocabulary_path = folder / "lexical_vocabulary.json"
        weights_path = folder / "lexical_weights.npz"
        vocabulary_path.write_text(json.dumps(self.vocabulary, ensure_ascii=False), "utf-8")
        sparse.save_npz(weights_path, self.weights.tocsr(), compressed=False)
        return [vocabulary_path, weights_path]

    @classmethod
    def load(cls, folder: Path) -> "LexicalIndex":
        vocabulary = json.loads((folder / "lexical_vocabulary.json").read_text("utf-8"))
        return cls(vocabulary, sparse.load_npz(folder / "lexical_weights.npz"))
