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
    """A whole number from 1 to 9,999 in Chinese numerals, as the documents write one: 1 → 一,
    12 → 十二, 21 → 二十一, 108 → 一百零八, 200 → 二百 (outline numbers; amounts in 万: 二十余万)."""
    out, gap = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit, n = divmod(n, value)
        if digit:
            out += ("零" if gap else "") + CHINESE_NUMERALS[digit - 1] + unit
            gap = False
        elif out:
            gap = True
    return out[1:] if out.startswith("一十") else out
