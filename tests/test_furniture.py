"""Site furniture found by repetition (app/furniture.py), on three summaries saved from one
template site (tests/data/furniture: UTF-8 .txt, .md, GB18030 .txt) whose banner and footer no
pattern knows, and on a Word copy of one of them made with python-docx."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from app import furniture
from app.config import Settings
from app.documents import discover, load
from app.index import build
from app.search import Searcher

from .making import write_word

DATA = Path(__file__).parent / "data" / "furniture"
BANNER = "杏林文档网 · 医院管理频道"
FOOTER = "好范文就在身边，每日更新上千篇实用文档"
IN_TWO = "在新的一年里，我们将再接再厉。"  # the pharmacy and logistics summaries only: not furniture


def corpus(folder: Path) -> Path:
    """The three summaries and a Word copy of the pharmacy one."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in DATA.iterdir():
        shutil.copyfile(path, folder / path.name)
    lines = (DATA / "pharmacy_2024.txt").read_text("utf-8").splitlines()
    write_word(folder / "pharmacy_2024_copy.docx", lines[1], [lines[0]] + lines[2:], head="药剂科")
    return folder


def fingerprints(folder: Path) -> dict[str, furniture.Lines]:
    return {p.name: furniture.Lines.of(load(p, folder)) for p in discover(folder)}


def test_lines_of_three_distinct_documents_are_furniture_and_copies_count_once(tmp_path):
    found = furniture.repeated(fingerprints(corpus(tmp_path / "corpus")))
    assert found == {furniture.line_key(BANNER), furniture.line_key(FOOTER)}
    # The pharmacy summary, its copy and the logistics one hold IN_TWO: two documents, not three.
    assert furniture.line_key(IN_TWO) not in found
    # Width and spacing do not make another line.
    assert furniture.line_key("杏林文档网　·　医院管理频道") == furniture.line_key(BANNER)


def test_one_text_in_many_copies_drops_nothing(tmp_path):
    folder = tmp_path / "copies"
    folder.mkdir()
    for suffix in (".txt", ".md", ".htm.txt"):
        shutil.copyfile(DATA / "pharmacy_2024.txt", folder / f"pharmacy{suffix}")
    assert furniture.repeated(fingerprints(folder)) == frozenset()


def test_headings_and_outline_items_never_count():
    for line in ["一、主要工作", "（一）加强处方点评。", "医院年度工作总结（精选篇2）", "医院工作总结篇三", "一是强化责任落实"]:
        assert not furniture.may_be_furniture(line), line
    assert furniture.may_be_furniture(FOOTER)
    assert not furniture.may_be_furniture("好" * (furniture.MAX_CHARS + 1))


@pytest.fixture(scope="module")
def furnished(tmp_path_factory, model_dir, embedder):
    folder = corpus(tmp_path_factory.mktemp("furnished"))
    index = tmp_path_factory.mktemp("furnished-index")
    report = build(folder, index, model_dir, embedder=embedder)
    return Searcher(Settings(seeds=folder, index=index, model=model_dir), embedder=embedder), report


def test_the_build_drops_furniture_from_chunks_and_keeps_it_in_the_source(furnished):
    searcher, report = furnished
    assert [(line["text"], line["documents"]) for line in report.furniture] == [(FOOTER, 4), (BANNER, 4)]
    chunks = searcher.generation.chunks
    assert not [c for c in chunks if BANNER in c.text or FOOTER in c.text]
    assert any(IN_TWO in c.text for c in chunks if c.doc == "logistics_2024.md")
    assert {c.title for c in chunks if c.doc == "pharmacy_2024.txt"} == {"药剂科2024年工作总结"}
    # Unstripped, the banner was every chunk's title and the head of its section path.
    assert ("2025年医院信息科工作计划", "一、主要工作") in {c.section[:2] for c in chunks
                                                  if c.doc == "information_plan_2025.txt"}
    source = (searcher.settings.seeds / "information_plan_2025.txt").read_bytes().decode("gb18030")
    assert BANNER in source and FOOTER in source


def test_citations_verify_against_the_document_as_the_viewer_opens_it(furnished):
    searcher, _ = furnished
    hits = searcher.search("停电应急演练搞了几次", 5).hits
    assert hits[0].doc == "logistics_2024.md" and "全年组织停电应急演练2次" in hits[0].text
    for hit in hits:
        document, _ = searcher.open_document(hit.doc)
        assert document.clean_slice(hit.start, hit.end) == hit.text
        assert FOOTER in document.text


def test_the_admin_status_lists_the_furniture_lines(furnished):
    from app.admin import index_status
    from app.render import render_status

    searcher, _ = furnished
    shown = render_status(index_status(searcher.settings))
    assert "多个文档重复的模板行" in shown and "好范文就在身边，每日更新上千篇实用文档（4 个文档）" in shown


def test_when_a_line_stops_repeating_the_documents_holding_it_are_chunked_again(tmp_path, model_dir, embedder):
    folder, index = corpus(tmp_path / "corpus"), tmp_path / "index"
    build(folder, index, model_dir, embedder=embedder)
    (folder / "information_plan_2025.txt").unlink()  # two distinct documents are left with the lines
    report = build(folder, index, model_dir, embedder=embedder)
    assert report.furniture == [] and report.removed == ["information_plan_2025.txt"]
    searcher = Searcher(Settings(seeds=folder, index=index, model=model_dir), embedder=embedder)
    assert {c.doc for c in searcher.generation.chunks if FOOTER in c.text} == {
        "logistics_2024.md", "pharmacy_2024.txt", "pharmacy_2024_copy.docx"}
    again = build(folder, index, model_dir, embedder=embedder)
    assert again.unchanged and again.embedded_chunks == 0


def test_the_viewer_shows_furniture_lines_struck_out_in_the_source(furnished):
    from app.render import render_document

    searcher, _ = furnished
    hit = searcher.search("处方点评了多少张", 5).hits[0]
    assert hit.doc == "pharmacy_2024.txt"
    page = render_document(searcher, hit.to_json())
    banner = f'<div class="ln furniture" id="L1" title="多个文档重复的模板行，未编入段落"><span class="no">1</span><span>{BANNER}'
    assert banner in page
    assert page.count('class="ln furniture"') + page.count('class="ln hl furniture"') == 2  # banner and footer
    assert re.search(r'<div class="ln( hl)?" id="L10"><span class="no">10</span><span>在新的一年里', page)  # IN_TWO


def test_an_index_built_before_furniture_was_counted_is_stale_but_serves(tmp_path, model_dir, embedder):
    import json

    from app.index import current_name, is_stale, outdated
    from app.model import model_identity

    folder, index = corpus(tmp_path / "corpus"), tmp_path / "index"
    build(folder, index, model_dir, embedder=embedder)
    manifest_path = index / current_name(index) / "manifest.json"
    manifest = json.loads(manifest_path.read_text("utf-8"))
    del manifest["furniture_version"]
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
    assert is_stale(folder, index, model_dir) == (True, "模板行识别规则已更新")
    assert outdated(manifest, model_identity(model_dir)) is None  # served as it is while a build runs
    report = build(folder, index, model_dir, embedder=embedder)
    assert not report.unchanged and report.embedded_chunks == 0
    assert is_stale(folder, index, model_dir) == (False, "索引是最新的")
