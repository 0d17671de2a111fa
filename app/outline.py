"""Outline markers of Chinese summaries (篇, 一、, （一）, 1、…), shared by the readers of each
format (a Word list number written out, a PDF line that opens an item) and by the chunker."""

import re

CHINESE_NUMERALS = "一二三四五六七八九十"

#: Markers that open an outline item; a line starting with one is never a continuation.
OUTLINE_MARKER = re.compile(
    r"^(#{1,6}\s|[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[）)]|\d+[、.．)）]|"
    r"[①-⑳]|[一二三四五六七八九十]+是|第[一二三四五六七八九十]+[，,、：:]|[-*+]\s)"
)
#: An article heading: "…篇一", "(精选篇2)", "篇3".
ARTICLE_HEADING = re.compile(r"(篇[一二三四五六七八九十\d]+|精选篇\s*\d+)[)）]?\s*$")


def numeral(n: int) -> str:
    """1 → 一, 12 → 十二, 21 → 二十一 (outline numbers rarely go further)."""
    if n <= 10:
        return CHINESE_NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    return (CHINESE_NUMERALS[tens - 1] if tens > 1 else "") + "十" + (CHINESE_NUMERALS[ones - 1] if ones else "")
