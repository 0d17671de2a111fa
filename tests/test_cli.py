"""The command-line contract: build_index.py and python -m app, as a user runs them."""

from __future__ import annotations

import json

from .conftest import run_cli


def test_build_index_json_summary_is_the_last_line(seed_index, tmp_path):
    result = run_cli("build_index.py", "--index", str(seed_index.index), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"documents", "chunks", "embedded_chunks", "reused_chunks", "skipped", "seconds",
            "added", "changed", "removed"} <= set(summary)
    assert summary["documents"] == 5 and summary["embedded_chunks"] == 0
    assert summary["reused_chunks"] == summary["chunks"] and summary["skipped"] == []


def test_check_mode_exits_1_when_stale(seed_index, tmp_path):
    assert run_cli("build_index.py", "--index", str(seed_index.index), "--check").returncode == 0
    stale = run_cli("build_index.py", "--index", str(tmp_path / "none"), "--check")
    assert stale.returncode == 1 and "索引不存在" in stale.stdout


def test_search_json_lists_cited_hits(seed_index):
    result = run_cli("-m", "app", "search", "how did hospitals handle 院务公开?", "-k", "3", "--json",
                     "--index", str(seed_index.index))
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert len(hits) == 3 and "院务公开" in hits[0]["text"]
    assert hits[0]["doc"].endswith(".txt") and hits[0]["line_start"] <= hits[0]["line_end"]


def test_search_human_output_shows_citations(seed_index):
    result = run_cli("-m", "app", "search", "院务公开", "--index", str(seed_index.index))
    assert result.returncode == 0
    assert "[1]" in result.stdout and "行" in result.stdout and "Traceback" not in result.stderr


def test_empty_question_is_a_usage_error(seed_index):
    for question in ("", "   "):
        result = run_cli("-m", "app", "search", question, "--index", str(seed_index.index))
        assert result.returncode == 2 and "问题为空" in result.stderr
        assert "Traceback" not in result.stderr


def test_missing_index_is_explained(tmp_path):
    result = run_cli("-m", "app", "search", "院务公开", "--index", str(tmp_path / "none"))
    assert result.returncode == 1 and "build_index.py" in result.stderr
    assert "Traceback" not in result.stderr


def test_batch_queries_file(seed_index, tmp_path):
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"id": "a", "query": "院务公开"}\n{"id": "b", "query": "ambulance"}\n'
                       '{"id": "c", "query": "明天的天气预报怎么样"}\n', "utf-8")
    result = run_cli("-m", "app", "search", "--queries", str(queries), "-k", "4",
                     "--index", str(seed_index.index))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["id"] for line in lines] == ["a", "b", "c"]
    assert all(set(line) == {"id", "query", "confidence", "hits"} for line in lines)
    assert [line["confidence"] for line in lines] == ["high", "high", "none"]
    assert [len(line["hits"]) for line in lines] == [4, 4, 0]
    assert all(hit["confidence"] == "high" and 0 <= hit["relevance"] <= 1 for hit in lines[0]["hits"])


def test_a_weak_result_says_so_before_its_passages(seed_index):
    result = run_cli("-m", "app", "search", "医院的日间手术中心开展了哪些手术？", "--index", str(seed_index.index))
    assert result.returncode == 0
    assert result.stdout.startswith("未找到直接回答，以下段落可能相关") and "[1]" in result.stdout


def test_chunks_json_lists_every_chunk(seed_index):
    from app.index import load_generation

    result = run_cli("-m", "app", "chunks", "--json", "--index", str(seed_index.index))
    assert result.returncode == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == len(load_generation(seed_index.index).chunks)
    assert set(rows[0]) == {"doc", "title", "section", "text", "start", "end", "line_start", "line_end", "page_start",
                            "page_end"}
    assert rows[0]["page_start"] == rows[0]["page_end"] == 0  # a .txt has no pages
