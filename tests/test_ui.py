"""The Gradio app as other clients see it: the `/search` API through gradio_client."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from app.answer import WEAK_NOTICE
from app.config import PROJECT_ROOT
from app.render import NO_ANSWER, inert, render_answer
from app.search import SearchResult


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(process: subprocess.Popen, port: int, seconds: float = 180) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited: {process.stderr.read() if process.stderr else process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail("server did not start")


@contextmanager
def serving(*arguments: str, env: dict[str, str] | None = None, launcher: tuple[str, ...] = ("-m", "app"),
            log: Path | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """`python -m app serve --port P *arguments` on a free loopback port, as a user starts it;
    yields its URL and process, and stops it afterwards. Its output goes to `log` when given."""
    port = free_port()
    with open(log or os.devnull, "w") as output:
        process = subprocess.Popen(
            [sys.executable, *launcher, "serve", "--port", str(port), *arguments], cwd=PROJECT_ROOT,
            stdout=output, stderr=subprocess.STDOUT if log else subprocess.PIPE, text=True,
            env=env or {**os.environ, "PYTHONIOENCODING": "utf-8"},
        )
        try:
            wait_for_port(process, port)
            yield f"http://127.0.0.1:{port}/", process
        finally:
            process.terminate()
            process.wait(timeout=30)


@pytest.fixture(scope="module")
def server(seed_index):
    """The app on the seed index."""
    with serving("--index", str(seed_index.index)) as (url, _):
        yield url


def test_search_endpoint_returns_hits(server):
    from gradio_client import Client

    hits = Client(server, verbose=False).predict("how did hospitals handle 院务公开?", 3, api_name="/search")
    assert isinstance(hits, list) and len(hits) == 3
    assert {"doc", "title", "section", "text", "start", "end", "line_start", "line_end", "score"} <= set(hits[0])
    assert any("院务公开" in h["text"] for h in hits)


def test_search_endpoint_refuses_a_blank_question_with_a_message(server):
    from gradio_client import Client

    with pytest.raises(Exception, match="问题为空"):
        Client(server, verbose=False).predict("   ", 3, api_name="/search")


def test_search_endpoint_refuses_a_bad_k_with_a_message(server):
    from gradio_client import Client

    client = Client(server, verbose=False)
    for k in ("abc", None):
        with pytest.raises(Exception, match="段落数 k 必须是整数"):
            client.predict("院务公开", k, api_name="/search")
    assert len(client.predict("院务公开", 10**9, api_name="/search")) == 50  # clamped, not refused


def test_server_binds_loopback_only(server):
    assert server.startswith("http://127.0.0.1:")


def test_passage_text_renders_inert():
    assert inert("<script>alert(1)</script>") == "&lt;script&gt;alert\\(1\\)&lt;/script&gt;"
    assert inert("**粗体** [链接](http://x)") == "\\*\\*粗体\\*\\* \\[链接\\]\\(http://x\\)"


def test_no_hits_says_so_plainly():
    assert render_answer(SearchResult(question="天气预报", expanded_query="天气预报")) == NO_ANSWER


def test_a_weak_result_shows_the_notice_instead_of_an_answer_and_relevance_as_a_percentage(searcher):
    weak = render_answer(searcher.search("医院的日间手术中心开展了哪些手术？", 5))
    assert weak.startswith(f"**{WEAK_NOTICE}**") and "**回答**" not in weak
    strong = render_answer(searcher.search("医院每月各项支出明细向职工公开吗", 5))
    assert strong.startswith("**回答**（摘自原文）：")
    assert re.search(r"相关度 \d{1,3}%", strong)


def test_search_endpoint_returns_nothing_for_an_off_topic_question(server):
    from gradio_client import Client

    assert Client(server, verbose=False).predict("明天的天气预报怎么样", 5, api_name="/search") == []


def test_every_response_forbids_framing_and_sniffing_and_unused_routes_are_closed(server):
    """Issue 17, findings 8 and 14: Gradio's monitoring dashboard and deep links are not used by
    the app and answer 404; the admin tab cannot be framed by another page."""
    import urllib.error
    import urllib.request

    with urllib.request.urlopen(server, timeout=30) as page:
        assert page.headers["X-Frame-Options"] == "DENY"
        assert page.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
        assert page.headers["X-Content-Type-Options"] == "nosniff"
    for route in ("monitoring", "monitoring/summary", "gradio_api/monitoring", "gradio_api/deep_link"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(server + route, timeout=30)
        assert refused.value.code == 404, route
        assert refused.value.headers["X-Frame-Options"] == "DENY"


def test_basket_exports_are_written_once_per_basket_and_leave_no_temporary_folders(tmp_path, monkeypatch):
    """Issue 17, finding 11: 51 clicks used to leave 102 `quotes-*` folders behind."""
    import tempfile

    from app import answer

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    basket = [{"quote": "“医院每月各项支出明细向职工公开”（《篇目》，a.txt 第3行）"}]
    paths = {answer.export_basket(basket, kind) for _ in range(51) for kind in ("md", "docx")}
    assert len(paths) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"qa-quotes-{os.getuid()}"]
    assert len(list(answer.export_folder().iterdir())) == 2
    md = next(p for p in paths if p.endswith(".md"))
    assert Path(md).read_text("utf-8").startswith("# 引文\n\n1. “医院每月各项支出明细向职工公开”")
    stale = answer.export_folder() / "引文-old.md"
    stale.write_text("x", "utf-8")
    os.utime(stale, (0, 0))
    answer.export_basket(basket + basket, "md")
    assert not stale.exists()
