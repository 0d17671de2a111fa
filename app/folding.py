"""Folding: the one form in which question and passage text are compared.

Staff type Traditional script (Hong Kong, Taiwan), full-width Latin letters and digits, and any
case; the documents are mostly Simplified, but a Traditional (Big5) summary must be found by a
Simplified question too. Matching therefore happens on folded text: NFKC (full-width →
half-width), lower case, and Traditional → Simplified with OpenCC's dictionaries (the PyPI
package `opencc`, Apache-2.0).

Two OpenCC conversions are used, because neither is enough alone:
- `t2s` (characters and Traditional phrases) is safe on any text: on Simplified text it changes
  nothing, so it is applied everywhere.
- `tw2sp` also maps Taiwan vocabulary to mainland words (資訊 → 信息, 軟體 → 软件, 品質 → 品质), but
  on text that is already Simplified it rewrites common words (建立 → 创建, 核心 → 内核, 工作列 →
  任务栏). It is applied only to text that is Traditional, and only as an additional reading.

Taiwan and Hong Kong hospital words OpenCC keeps (病患, 看護, 剖腹產, 志工, 健保) are then read as the
mainland words the documents use (病人, 护理, 剖宫产, 志愿者, 医保), from `app/data/regional_zh.tsv`.

Citations never use folded text: passages are shown, quoted and cited in their own script.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata

from .config import DATA

_converters: dict[str, object] = {}
_lock = threading.Lock()


def _converter(config: str):
    with _lock:
        if config not in _converters:
            import opencc

            _converters[config] = opencc.OpenCC(config)
        return _converters[config]


def simplified(text: str) -> str:
    """`text` in Simplified characters (OpenCC t2s); Simplified text comes back unchanged."""
    return _converter("t2s").convert(text) if text else text


def is_traditional(text: str) -> bool:
    """Whether `text` contains characters that exist only in Traditional script."""
    return simplified(text) != text


def fold(text: str) -> str:
    """The matching form of `text`: half-width, lower case, Simplified characters."""
    return simplified(unicodedata.normalize("NFKC", text)).lower()


def readings(text: str) -> list[str]:
    """The forms `text` is segmented in, half-width and Simplified but in its own case (jieba's
    dictionary knows B超, not b超): `fold(text)` before lower-casing, and for Traditional text
    also its mainland-vocabulary reading (資訊科技 → 信息技术), when that differs."""
    width_folded = unicodedata.normalize("NFKC", text)
    folded = simplified(width_folded)
    if folded == width_folded:
        return [folded]
    mainland = mainland_words(_converter("tw2sp").convert(width_folded))
    return [folded] if mainland == folded else [folded, mainland]


def mainland_words(text: str) -> str:
    """`text` (Simplified characters) with its Taiwan and Hong Kong hospital words replaced by
    the mainland ones (病患 → 病人), longest first."""
    pattern, table = _regional()
    return pattern.sub(lambda match: table[match.group(0)], text)


@functools.cache
def _regional() -> tuple[re.Pattern, dict[str, str]]:
    table = {}
    for line in (DATA / "regional_zh.tsv").read_text("utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            regional, mainland = line.split("\t")
            table[regional] = mainland
    return re.compile("|".join(sorted(map(re.escape, table), key=len, reverse=True))), table
