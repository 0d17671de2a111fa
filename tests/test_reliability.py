"""Reliability and security (issue 7): try to break the app and check that it holds.

Bad files in seeds/, hostile questions (fuzzed with hypothesis), hostile upload names, damaged
index files, builds killed at every step, and the app's network behaviour. Everything runs on
the real seeds and the real model; docs/RELIABILITY.md maps each threat to the test here.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import io
import ipaddress
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import cli
from app.admin import UploadRejected, store_upload
from app.config import PROJECT_ROOT, Settings
from app.documents import load
from app.index import IndexCorrupt, build, current_name, is_stale, load_generation
from app.search import Hit, SearchResult, Searcher
from app.ui import NO_ANSWER, build_app, highlighted, inert, render_answer, render_document

from .conftest import SEEDS, run_cli
from .test_ui import free_port, wait_for_port

FUZZ = settings(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
#: The only tags the app itself writes into chat messages; anything else would be injected.
OWN_TAGS = re.compile(r"</?(details|summary|b|blockquote|mark|em)>|<br>")


def tree(root: Path) -> dict[str, tuple]:
    """Every path below `root` with what identifies its content: bytes hash, mtime, link target."""
    entries = {}
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if path.is_symlink():
            entries[name] = ("link", os.readlink(path))
        elif path.is_dir():
            entries[name] = ("dir",)
        else:
            entries[name] = ("file", hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
    return entries


def copy_index(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".lock"))
    return target


# ---------------------------------------------------------------- bad input files

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"
ONE_LINE_SENTENCE = "营养科坚持每日巡视病区，为住院病人制定个性化膳食方案。"
INJECTION_DOCUMENT = (
    "# 信息科工作总结\n\n## 一、网站安全\n\n"
    "全年拦截跨站脚本攻击一百二十次，例如 <script>window.__pwned=1</script> 和 "
    "<img src=x onerror=\"window.__pwned=2\"> 以及 <svg/onload=window.__pwned=3> 这类代码。"
    "**粗体** [链接](javascript:alert(1)) `代码` $$x^2$$ </details> | 表格 | ---\n"
)
#: name -> (bytes, expected encoding) of files that must be indexed.
GOOD_FILES = {
    "药剂科总结-gb18030.txt": ("药剂科工作总结\n\n一、合理用药\n\n全年开展处方点评一万二千张，抗菌药物使用率下降到百分之三十五。\n"
                          .encode("gb18030"), "gb18030"),
    "檢驗科總結-big5.txt": ("檢驗科工作總結\n\n一、質量控制\n\n全年參加室間質評四十項，合格率達到百分之百。\n".encode("big5"), "big5"),
    "放射科总结-utf16.txt": ("放射科工作总结\n\n一、影像检查\n\n全年完成核磁共振检查八千人次，报告及时率达到百分之九十八。\n"
                         .encode("utf-16"), "utf-16"),
    "超声科总结-bom.txt": ("超声科工作总结\n\n一、超声检查\n\n全年完成床旁超声检查五千人次，危急值全部及时报告。\n"
                       .encode("utf-8-sig"), "utf-8-sig"),
    "麻醉科总结-crlf.txt": ("麻醉科工作总结\r\n\r\n一、手术麻醉\r\n\r\n全年完成无痛分娩一千五百例，麻醉并发症零发生。\r\n"
                        .encode(), "utf-8"),
    "病案 室 总结（2024 年）.md": ("# 病案室工作总结\n\n## 一、病案质量\n\n全年归档病历三万份，甲级病案率达到百分之九十六。\n"
                              .encode(), "utf-8"),
    "一行.txt": ((ONE_LINE_SENTENCE * 40_000)[: 1_048_576 // 3].encode(), "utf-8"),
    "只有标题.txt": ("后勤保障部工作总结\n一、设备维修\n二、物资采购\n".encode(), "utf-8"),
    "网页粘贴.md": (INJECTION_DOCUMENT.encode(), "utf-8"),
}
#: name -> the reason (a part of it) the index gives for skipping the file.
SKIPPED_FILES = {
    "空文件.txt": "没有可索引的正文",
    "图片.txt": "不是文本文件",
    "只有模板.txt": "没有可索引的正文",
    "假文档.docx": "不是有效的 Word 文档",
    "巨大.txt": "文件太大（50.3 MB，上限 20 MB）",
    "外部链接.txt": "指向文档目录之外",
}


def write_bad_corpus(corpus: Path, outside: Path) -> None:
    for name, (raw, _) in GOOD_FILES.items():
        (corpus / name).write_bytes(raw)
    (corpus / "空文件.txt").write_bytes(b"")
    (corpus / "图片.txt").write_bytes(PNG)
    (corpus / "只有模板.txt").write_bytes("您好,欢迎来到世旅网。\nCopyright © 2019\n12345\n".encode())
    with zipfile.ZipFile(corpus / "假文档.docx", "w") as junk:
        junk.writestr("junk.bin", os.urandom(256))
        junk.writestr("[Content_Types].xml", b"<not really>")
    line = "".join(f"第{i}行：医院信息系统运行日志，记录每一次访问与操作。\n" for i in range(10_000)).encode()
    with open(corpus / "巨大.txt", "wb") as huge:
        for _ in range(66):  # 66 × 0.76 MB = 50.3 MB of real text
            huge.write(line)
    outside.mkdir()
    (outside / "院长信箱.txt").write_text("院长信箱来信摘要：不应被索引的院外文件，院务公开。\n", "utf-8")
    (corpus / "外部链接.txt").symlink_to(outside / "院长信箱.txt")


@pytest.fixture(scope="module")
def bad_corpus(tmp_path_factory, seed_index, model_dir, embedder):
    """The seeds plus every kind of bad file, indexed once: (corpus, index, report, trees)."""
    work = tmp_path_factory.mktemp("bad-files")
    corpus = work / "seeds"
    shutil.copytree(SEEDS, corpus)
    write_bad_corpus(corpus, work / "outside")
    before = tree(work / "outside") | tree(corpus), tree(SEEDS)
    index = copy_index(seed_index.index, work / "index")
    report = build(corpus, index, model_dir, embedder=embedder)
    after = tree(work / "outside") | tree(corpus), tree(SEEDS)
    searcher = Searcher(Settings(seeds=corpus, index=index, model=model_dir), embedder=embedder)
    return corpus, index, report, searcher, before, after


def test_bad_files_are_skipped_by_name_with_the_reason(bad_corpus):
    corpus, index, report, _, _, _ = bad_corpus
    skipped = {s["file"]: s["reason"] for s in report.skipped}
    assert sorted(skipped) == sorted(SKIPPED_FILES)
    for name, reason in SKIPPED_FILES.items():
        assert reason in skipped[name], (name, skipped[name])
    assert sorted(report.added) == sorted(GOOD_FILES)
    assert report.documents == 5 + len(GOOD_FILES)
    assert is_stale(corpus, index, Settings().model) == (False, "索引是最新的")  # no rebuild loop


def test_good_files_in_every_encoding_are_indexed_and_cited_exactly(bad_corpus):
    corpus, index, _, searcher, _, _ = bad_corpus
    encodings = {d["path"]: d["encoding"] for d in load_generation(index).manifest["documents"]}
    assert {name: encodings[name] for name in GOOD_FILES} == {n: e for n, (_, e) in GOOD_FILES.items()}
    for question, doc, phrase, section, line in [
        ("处方点评", "药剂科总结-gb18030.txt", "全年开展处方点评一万二千张", ("药剂科工作总结", "一、合理用药"), 5),
        ("室間質評", "檢驗科總結-big5.txt", "全年參加室間質評四十項", ("檢驗科工作總結", "一、質量控制"), 5),
        ("核磁共振检查", "放射科总结-utf16.txt", "全年完成核磁共振检查八千人次", ("放射科工作总结", "一、影像检查"), 5),
        ("床旁超声检查", "超声科总结-bom.txt", "全年完成床旁超声检查五千人次", ("超声科工作总结", "一、超声检查"), 5),
        ("无痛分娩", "麻醉科总结-crlf.txt", "全年完成无痛分娩一千五百例", ("麻醉科工作总结", "一、手术麻醉"), 5),
        ("甲级病案率", "病案 室 总结（2024 年）.md", "甲级病案率达到百分之九十六", ("病案室工作总结", "一、病案质量"), 5),
        ("个性化膳食方案", "一行.txt", ONE_LINE_SENTENCE, (), 1),
        ("设备维修和物资采购", "只有标题.txt", "一、设备维修\n二、物资采购", ("后勤保障部工作总结",), 2),
    ]:
        hit = searcher.search(question, 3).hits[0]
        assert (hit.doc, hit.section, hit.line_start) == (doc, section, line), question
        assert phrase in hit.text
        document = load(corpus / doc, corpus)
        assert phrase.split("\n")[0] in document.text[hit.start:hit.end]  # offsets point into the source
    assert searcher.search("院务公开", 1).hits[0].doc == "001_824a9c74254aab94.txt"  # the rest still works


def test_indexing_changes_nothing_in_seeds_nor_behind_a_link(bad_corpus):
    _, _, _, searcher, before, after = bad_corpus
    assert before == after
    assert all(hit.doc != "外部链接.txt" for hit in searcher.search("院长信箱来信摘要", 5).hits)


def test_html_and_markdown_in_a_document_render_as_text(bad_corpus):
    _, _, _, searcher, _, _ = bad_corpus
    result = searcher.search("拦截跨站脚本攻击", 1)
    assert result.hits[0].doc == "网页粘贴.md"
    assert "<svg/onload=window.__pwned=3>" in result.hits[0].text  # kept by cleaning, so shown…
    message = OWN_TAGS.sub("", render_answer(result))
    assert "<" not in message and "&lt;svg/onload=window.__pwned=3&gt;" in message  # …as text
    page = render_document(searcher, result.hits[0].to_json())
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page and "<script" not in page
    assert "&lt;img src=x onerror=&quot;window.__pwned=2&quot;&gt;" in page and "<img" not in page
