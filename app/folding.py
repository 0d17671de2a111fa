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

Citations never use folded text: passages are shown, quoted and cited in their own script.
"""

from __future__ import annotations

import threading
import unicodedata

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
    mainland = _converter("tw2sp").convert(width_folded)
    return [folded] if mainland == folded else [folded, mainland]
