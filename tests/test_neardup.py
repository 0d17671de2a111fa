"""Near-duplicate detection: the tuberculosis-institute report posted twice is grouped."""

from __future__ import annotations

from collections import defaultdict

from app.chunks import chunk_document
from app.documents import discover, load
from app.neardup import groups, normalise

from .conftest import SEEDS


def seed_groups():
    chunks = [c for path in discover(SEEDS) for c in chunk_document(load(path, SEEDS))]
    members = defaultdict(list)
    for chunk, first in zip(chunks, groups([c.text for c in chunks])):
        members[first].append(chunk)
    return [g for g in members.values() if len(g) > 1]


def test_punctuation_and_width_do_not_matter():
    assert normalise("一、以目标合同为基础,抓好全省结防工作。") == normalise("一、以目标合同为基础，抓好全省结防工作。")


def test_the_two_copies_of_the_tuberculosis_report_are_grouped():
    cross = [g for g in seed_groups() if {c.doc for c in g} == {"001_824a9c74254aab94.txt", "003_f010cc3f28f611c8.txt"}]
    assert len(cross) == 8
    texts = ["".join(c.text for c in g) for g in cross]
    assert any("项目县对项目管理病人实行药费减免" in t for t in texts)


def test_unrelated_passages_are_not_grouped():
    for group in seed_groups():
        docs = {c.doc for c in group}
        assert docs <= {"001_824a9c74254aab94.txt", "003_f010cc3f28f611c8.txt"} or docs == {"004_40e0627687e65461.txt"}
    assert groups(["医院开展院务公开工作，向职工公开财务收支。" * 3, "放射科全体人员参加防护知识培训并考核合格。" * 3]) == [0, 1]


def test_a_short_copy_inside_a_longer_passage_is_found():
    long = "全省结防工作以目标合同为基础，所长与厅长签订目标合同，支部工作目标合同是完成各项任务的保证。" * 2
    short = "所长与厅长签订目标合同，支部工作目标合同是完成各项任务的保证"
    assert groups([long + "此外还开展了培训和督导。", short]) == [0, 0]
