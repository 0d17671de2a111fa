"""Evaluation: the fixed tune/report split, per-style rows, confidence levels counted."""

from __future__ import annotations

import json

from app.config import PROJECT_ROOT
from app.evaluate import evaluate, format_table, half_of, read_questions
from app.neardup import normalise

STYLES = PROJECT_ROOT / "bench" / "eval" / "styles"


def test_the_half_of_a_question_depends_on_its_id_alone():
    assert [half_of(i) for i in ("trad-01", "trad-06", "en-08", "en-12", "draft-05")] == \
        ["report", "tune", "report", "tune", "tune"]


def test_each_style_file_has_at_least_25_questions_split_into_two_halves():
    for path in sorted(STYLES.glob("*.jsonl")):
        rows = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
        assert len(rows) >= 25, path.name
        tune, report = read_questions(path, "tune"), read_questions(path, "report")
        assert len(tune) + len(report) == len(rows) and tune and report
        assert not {q.id for q in tune} & {q.id for q in report}


def test_every_evidence_string_of_every_set_is_in_a_chunk_of_the_seeds(searcher):
    """Gold is verbatim text: a set whose evidence no chunk holds any more (a seed edited, a
    cleaning rule changed) would count its questions as misses without anyone noticing."""
    texts = [normalise(chunk.text) for chunk in searcher.generation.chunks]
    sets = [p for p in sorted((PROJECT_ROOT / "bench" / "eval").rglob("*.jsonl")) if p.name != "formats.jsonl"]
    folders = {"styles", "named", "train", "train3", "fresh", *(f"fresh{n}" for n in range(2, 13))}
    assert {p.parent.name for p in sets} >= folders
    orphans = [(p.name, q.id, e) for p in sets for q in read_questions(p) for e in q.evidence
               if not any(normalise(e) in text for text in texts)]
    assert orphans == []


def test_the_table_has_a_row_per_style_and_counts_levels(searcher):
    questions = read_questions(STYLES / "traditional.jsonl", "report")[:4] + \
        read_questions(STYLES / "offtopic.jsonl", "report")[:4]
    report = evaluate(searcher, questions, ["hybrid"])
    cells = report["metrics"]["hybrid"]
    assert set(cells) == {"traditional", "all", "offtopic"}
    assert cells["offtopic"]["none"] == 1.0 and cells["traditional"]["none"] == 0.0
    assert cells["traditional"]["hit@5"] == 1.0
    assert "traditional" in format_table(report) and "weak" in format_table(report)


def test_character_error_rate_counts_edits_over_the_reference_without_whitespace():
    from app.evaluate import character_error_rate

    assert character_error_rate("门诊部 工作", "内诊部\n工作") == 1 / 5
    assert character_error_rate("门诊部", "门诊部门") == 1 / 3 and character_error_rate("门诊部", "") == 1.0


def test_the_held_out_bench_pools_sets_per_way_of_asking_and_marks_the_goals(searcher):
    import importlib.util

    spec = importlib.util.spec_from_file_location("heldout", PROJECT_ROOT / "bench" / "heldout.py")
    heldout = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(heldout)
    sets = heldout.held_out_sets()
    assert sets[:3] == ["styles", "fresh", "fresh2"] and sets[-1] == "named" and "train" not in sets
    # the tune half: a test that pinned report-half figures would show them at every change
    questions = [("styles", q) for name in ("casual_en", "offtopic")
                 for q in read_questions(STYLES / f"{name}.jsonl", "tune")]
    styles, casual = heldout.measure(searcher, questions)
    assert (styles["casual_en"].n, styles["casual_en"].hit5) == (15, 15)
    assert styles["answerable"].n == 15 and casual["styles"].n == 15
    assert styles["offtopic"].none == styles["offtopic"].n == 16
    assert heldout.verdict("offtopic", styles["offtopic"]) == ("none 16/16 = 1.000 (≥ 0.9)", True)
    short = heldout.Row()
    for rank in (1, 2, None, 9):
        short.add(rank, "weak")
    assert heldout.verdict("keywords", short) == ("hit@5 2/4 = 0.500 (≥ 0.95)", False)
    assert heldout.main(["--sets", "no-such-set"]) == 2
