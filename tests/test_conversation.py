"""Follow-up questions keep the previous topic."""

from __future__ import annotations

import pytest

from app.conversation import effective_query, follow_up_focus


@pytest.mark.parametrize("question, focus", [
    ("那护理方面呢？", "护理"),
    ("那么放射科呢", "放射科"),
    ("护理呢？", "护理"),
    ("还有工会吗？", "工会"),
    ("what about nursing?", "nursing"),
    ("And for the radiology department?", "the radiology department"),
])
def test_follow_ups_are_recognised(question, focus):
    assert follow_up_focus(question) == focus


@pytest.mark.parametrize("question", [
    "医院如何推行院务公开？", "how did hospitals handle 院务公开?", "护理质量管理有哪些措施", "院务公开如何开展",
])
def test_ordinary_questions_are_not_follow_ups(question):
    assert follow_up_focus(question) is None


def test_effective_query_reuses_the_topic():
    assert effective_query("那护理方面呢？", "医院如何推行院务公开") == "医院如何推行院务公开 护理"
    assert effective_query("那护理方面呢？", None) == "那护理方面呢？"
    assert effective_query("放射科做了哪些工作", "医院如何推行院务公开") == "放射科做了哪些工作"
