"""Follow-up questions without an LLM: "那护理方面呢？" after a question keeps its topic.

A follow-up is recognised by its shape (那…呢, 还有…吗, what about …, and …?); its new focus
is added to the previous question, and the result is the query actually searched.
"""

from __future__ import annotations

import re

FOLLOW_UP = (
    re.compile(r"^(?:那么?|那在)\s*(?P<focus>.{1,16}?)\s*(?:方面|这块)?(?:呢|怎么样|如何|又如何)\s*[？?]?$"),
    re.compile(r"^(?P<focus>.{1,10}?)\s*(?:方面|这块)?呢\s*[？?]?$"),
    re.compile(r"^还有\s*(?P<focus>.{1,16}?)\s*(?:吗|么)?\s*[？?]?$"),
    re.compile(r"^(?:and\s+)?(?:what|how)\s+about\s+(?P<focus>.{1,60}?)\s*\??$", re.IGNORECASE),
    re.compile(r"^and\s+(?:in\s+|for\s+)?(?P<focus>.{1,60}?)\s*\?$", re.IGNORECASE),
)


def follow_up_focus(question: str) -> str | None:
    """The new focus of a follow-up question ("护理" for "那护理方面呢？"), else None."""
    text = question.strip()
    for pattern in FOLLOW_UP:
        match = pattern.match(text)
        if match and match.group("focus").strip():
            return match.group("focus").strip()
    return None


def effective_query(question: str, previous: str | None) -> str:
    """What to search for: the question itself, or the previous topic plus a follow-up's focus."""
    focus = follow_up_focus(question)
    if not previous or focus is None:
        return question.strip()
    return f"{previous} {focus}"
