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

from app import cli, web
from app.admin import UploadRejected, store_upload
from app.answer import WEAK_NOTICE
from app.config import PROJECT_ROOT, Settings
from app.documents import load
from app.handlers import Chat
from app.index import IndexCorrupt, build, current_name, is_stale, load_generation
from app.render import NO_ANSWER, highlighted, inert, render_answer, render_document
from app.search import Hit, Searcher, SearchResult

from .conftest import SEEDS, run_cli
from .test_ui import free_port, serving

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
    "药剂科总结-gb18030.txt": ("药剂科工作总结\n\n一、合理用药\n\n"
                              "全年开展处方点评一万二千张，抗菌药物使用率下降到百分之三十五。\n"
                          .encode("gb18030"), "gb18030"),
    "檢驗科總結-big5.txt": ("檢驗科工作總結\n\n一、質量控制\n\n全年參加室間質評四十項，合格率達到百分之百。\n"
                            .encode("big5"), "big5"),
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


# ---------------------------------------------------------------- bad questions

NASTY_QUESTIONS = [
    "", " ", "\t\n\r\x0b\x0c", "\u3000\u00a0", "\x00", "\x00\x01\x02院务公开\x7f", "\x1b[31m院务公开\x1b[0m",
    "\ud800", "\udcff院务公开", "院务\udfff公开", "😀🎉", "院务公开😀👍", "？？？！！！", "\u200b\u200d",
    "<script>alert(1)</script>", '<img src=x onerror="alert(1)">院务公开', "<svg/onload=alert(1)>",
    "**粗体** [链接](javascript:alert(1))", "```\n院务公开\n```", "| a | b |\n|---|---|", "$$x^2$$",
    "# 标题\n> 引用\n- 列表", "</details></blockquote><script>x</script>", "院务公开\u202e反转\u202c",
    "\ufeff院务公开", "%s%n{0}${x}", "'; DROP TABLE chunks; --", "../../etc/passwd", "院" * 100_000,
    "a" * 100_000, "how did hospitals handle 院务公开?" * 3000,
]
QUESTIONS = st.one_of(
    st.sampled_from(NASTY_QUESTIONS),
    st.text(max_size=80),
    st.text(st.characters(exclude_categories=()), max_size=40),  # lone surrogates included
    st.builds(str.__add__, st.sampled_from(NASTY_QUESTIONS), st.text(st.characters(exclude_categories=()), max_size=30)),
)
SEARCHABLE = re.compile(r"[0-9A-Za-z\u4e00-\u9fff]")


def cli_main(argv: list[str]) -> tuple[int, str, str]:
    """`python -m app …` in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as exit_:
            code = exit_.code
    return code, out.getvalue(), err.getvalue()


@settings(FUZZ, max_examples=30)
@given(question=QUESTIONS, as_json=st.booleans())
def test_cli_answers_any_question_or_exits_2_in_chinese(question, as_json, searcher, monkeypatch):
    # The real Searcher with the real model, loaded once instead of once per example.
    monkeypatch.setattr("app.search.Searcher", lambda settings: searcher)
    code, out, err = cli_main(["search", "-k", "3", "--index", str(searcher.settings.index)]
                              + ["--json"] * as_json + ["--", question])
    assert "Traceback" not in out + err
    if SEARCHABLE.search(question[:1000]):
        assert code == 0, err
    assert code in (0, 2)
    if code == 2:
        assert err.startswith("问题为空") and out == ""
    elif as_json:
        hits = json.loads(out)
        assert len(hits) <= 3 and all(set(h) >= {"doc", "text", "line_start"} for h in hits)
    else:
        assert out.startswith(("[1] ", "没有找到可靠的段落", "未找到直接回答"))


def test_cli_usage_errors_are_explained_in_chinese(seed_index):
    for argv in (["search", "-k", "abc", "院务公开"], ["search", "--unknown", "院务公开"], ["search", "-院务公开"],
                 ["frobnicate"]):
        code, out, err = cli_main(argv + ["--index", str(seed_index.index)])
        assert code == 2 and "参数错误：" in err and "Traceback" not in err, argv


def test_cli_reads_an_argument_that_is_not_utf8(searcher, monkeypatch):
    monkeypatch.setattr("app.search.Searcher", lambda settings: searcher)
    undecodable = os.fsdecode(b"\xff\xfe" + "院务公开".encode())  # what Python puts in sys.argv for such bytes
    code, out, err = cli_main(["search", "--json", "--index", str(searcher.settings.index), undecodable])
    assert code == 0 and json.loads(out)[0]["doc"] == "001_824a9c74254aab94.txt"


def test_cli_batch_of_extreme_questions_as_a_user_runs_it(seed_index, tmp_path):
    index = str(seed_index.index)
    queries = tmp_path / "q.jsonl"
    lines = [{"id": n, "query": q} for n, q in enumerate(
        ["院务公开" * 25_000, "\ud800院务公开", "\x00\x1b[2J院务公开", "😀", "", "<script>alert(1)</script>院务公开"])]
    queries.write_text("".join(json.dumps(line) + "\n" for line in lines), "utf-8")
    batch = run_cli("-m", "app", "search", "--queries", str(queries), "-k", "2", "--index", index)
    assert batch.returncode == 0 and "Traceback" not in batch.stderr
    answers = [json.loads(line) for line in batch.stdout.splitlines()]
    assert [a["query"] for a in answers] == [line["query"] for line in lines]  # echoed exactly
    assert [len(a["hits"]) for a in answers] == [2, 2, 2, 0, 0, 2]

    queries.write_text('{"id": 1, "query": "院务公开"}\n[1, 2]\n', "utf-8")
    broken = run_cli("-m", "app", "search", "--queries", str(queries), "--index", index)
    assert broken.returncode == 2 and broken.stdout == "" and "Traceback" not in broken.stderr
    assert "第 2 行" in broken.stderr


def test_output_cut_short_by_a_closed_pipe_is_quiet(seed_index):
    process = subprocess.Popen([sys.executable, "-m", "app", "chunks", "--json", "--index", str(seed_index.index)],
                               cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert json.loads(process.stdout.readline())["doc"].endswith(".txt")
    process.stdout.close()  # as `| head -1` does
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 1 and stderr == ""


@pytest.fixture(scope="module")
def chat(searcher):
    """The chat handler of the Gradio app, called as Gradio calls it."""
    return Chat(searcher).respond


def test_a_long_chat_keeps_only_its_last_forty_messages(chat):
    """Issue 17, finding 3: input values were kept with no bound; the chat sends its whole history back."""
    old = [{"role": role, "content": f"第{n}条"} for n in range(60) for role in ("user", "assistant")]
    _, history, *_ = chat("医院如何推行院务公开", old, 3, [], [], None)
    assert len(history) == 40 and history[0]["content"] == "第41条" and history[-2]["content"] == "医院如何推行院务公开"


@settings(FUZZ, max_examples=20)
@given(question=QUESTIONS)
def test_chat_answers_any_question_without_injecting_markup(question, chat):
    cleared, history, effective, _, hits, _ = chat(question, [], 3, [], [], None)
    if not question.strip():
        assert history == [] and hits == []
        return
    asked, reply = history
    assert asked == {"role": "user", "content": inert(question)} and cleared == ""
    assert reply["content"].startswith(("**回答**", NO_ANSWER, f"**{WEAK_NOTICE}**", "问题为空"))
    for message in (asked["content"], reply["content"], effective):
        assert "<" not in OWN_TAGS.sub("", message)


PASSAGE_TEXT = st.one_of(st.text(min_size=1, max_size=300),
                         st.builds(str.__add__, st.sampled_from(NASTY_QUESTIONS[14:25]), st.text(max_size=50)))


@settings(FUZZ, max_examples=300)
@given(text=PASSAGE_TEXT, title=PASSAGE_TEXT, section=st.lists(PASSAGE_TEXT, max_size=3), doc=PASSAGE_TEXT,
       terms=st.lists(st.text(min_size=1, max_size=4), max_size=4))
def test_any_passage_renders_inert_and_reads_back_exactly(text, title, section, doc, terms):
    hit = Hit(doc=doc, title=title, section=tuple(section), text=text, start=0, end=len(text),
              line_start=1, line_end=1, score=0.5, also_in=({"doc": doc, "line_start": 2, "line_end": 3},))
    message = render_answer(SearchResult(question="q", expanded_query="q", hits=[hit], terms=tuple(terms)))
    assert "<" not in OWN_TAGS.sub("", message)
    marked = highlighted(text, terms)
    assert html.unescape(re.sub(r"</?mark>", "", marked).replace("<br>", "\n")) == text
    assert "<" not in OWN_TAGS.sub("", marked)


# ---------------------------------------------------------------- uploads

SUMMARY = "急诊科年度工作总结\n\n一、院前急救\n\n全年救护车出车一千二百次，平均出车时间缩短到三分钟以内。\n"
HOSTILE_NAMES = [
    "../../outside.txt", "../index/CURRENT", "../index/manifest.json", "/etc/cron.d/backdoor.txt",
    "..\\..\\windows.txt", "seeds/../../index/CURRENT.txt", "CURRENT", "manifest.json", ".lock", "dense.faiss",
    "000.txt", ".hidden.txt", "...", ".", "..", "", " .txt", "a/b/c.md", "\x00.txt", "x.txt\x00.py", "x.TXT",
    "%2e%2e%2fpasswd.txt", "．．／全角.txt", "\u202etxt.exe", "名 字 有 空 格（2024）.md", "院" * 300 + ".txt",
    "a" * 400 + ".txt", "CON.txt", "报告.docx", "~/.bashrc.md", "trap.txt",
]


def upload_sandbox(root: Path) -> tuple[Path, Path]:
    """seeds/ with a document and a link leading out, an index beside it, a file outside both."""
    seeds, index = root / "seeds", root / "index"
    for folder in (seeds, index / "gen-1", root / "incoming"):
        folder.mkdir(parents=True)
    (seeds / "000.txt").write_text(SUMMARY, "utf-8")
    (index / "CURRENT").write_text("gen-1", "utf-8")
    (index / "gen-1" / "manifest.json").write_text("{}", "utf-8")
    (root / "outside.txt").write_text("院外文件", "utf-8")
    (seeds / "trap.txt").symlink_to(root / "outside.txt")
    upload = root / "incoming" / "upload.bin"
    upload.write_text(SUMMARY.replace("急诊", "儿科"), "utf-8")
    return seeds, upload


@settings(FUZZ, max_examples=300)
@given(name=st.one_of(st.sampled_from(HOSTILE_NAMES), st.text(max_size=300),
                      st.builds(str.__add__, st.text(max_size=200), st.sampled_from([".txt", ".md", ".docx", "/x.txt"]))),
       overwrite=st.booleans())
def test_no_upload_name_writes_anywhere_but_one_new_file_in_seeds(name, overwrite):
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        seeds, upload = upload_sandbox(root)
        before = tree(root)
        try:
            stored = store_upload(seeds, upload, name, overwrite=overwrite)
        except UploadRejected as rejected:
            assert re.search(r"[\u4e00-\u9fff]", str(rejected))  # told why, in Chinese
            assert tree(root) == before
            return
        after = tree(root)
        changed = {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}
        assert changed == {f"seeds/{stored}"}
        assert "/" not in stored and not stored.startswith(".") and len(stored.encode()) <= 255
        assert stored.endswith((".txt", ".md")) and (seeds / stored).read_bytes() == upload.read_bytes()


def test_an_upload_never_writes_through_a_link_out_of_seeds(tmp_path):
    seeds, upload = upload_sandbox(tmp_path)
    with pytest.raises(UploadRejected, match="文件名无效"):
        store_upload(seeds, upload, "trap.txt", overwrite=True)
    assert (tmp_path / "outside.txt").read_text("utf-8") == "院外文件"


def test_a_long_chinese_name_is_shortened_to_what_the_file_system_allows(tmp_path):
    seeds, upload = upload_sandbox(tmp_path)
    stored = store_upload(seeds, upload, "关于进一步加强医院院务公开工作的年度总结报告" * 10 + ".txt")
    assert stored == ("关于进一步加强医院院务公开工作的年度总结报告" * 10)[:78] + ".txt"
    assert (seeds / stored).read_text("utf-8") == upload.read_text("utf-8")


@pytest.mark.parametrize("name, content, reason", [
    ("截图.txt", PNG, "不是文本文件"),
    ("假文档.docx", b"PK\x03\x04" + os.urandom(64), "不是有效的 Word 文档"),
    ("网页.md", "您好,欢迎来到世旅网。\nCopyright © 2019\n".encode(), "没有可索引的正文"),
])
def test_uploads_that_are_not_summaries_are_refused_with_the_reason(tmp_path, name, content, reason):
    seeds, upload = upload_sandbox(tmp_path)
    upload.write_bytes(content)
    before = tree(tmp_path)
    with pytest.raises(UploadRejected, match=reason):
        store_upload(seeds, upload, name)
    assert tree(tmp_path) == before  # the checked copy is gone too


def test_uploaded_gb18030_and_docx_are_kept_byte_for_byte(tmp_path):
    from .test_documents import WORD_SUMMARY, make_docx

    seeds, upload = upload_sandbox(tmp_path)
    upload.write_bytes(SUMMARY.encode("gb18030"))
    assert store_upload(seeds, upload, "急诊科-gbk.txt") == "急诊科-gbk.txt"
    assert (seeds / "急诊科-gbk.txt").read_bytes() == SUMMARY.encode("gb18030")
    make_docx(upload, WORD_SUMMARY)
    assert store_upload(seeds, upload, "急诊科.docx") == "急诊科.docx"
    assert (seeds / "急诊科.docx").read_bytes() == upload.read_bytes()


# ---------------------------------------------------------------- index integrity

GENERATION_FILES = ["chunks.jsonl", "vectors.npy", "dense.faiss", "windows.npy", "windows.faiss", "lexical_terms.json",
                    "lexical_vocabulary.json", "lexical_weights.npz", "translations.json", "lines.json", "manifest.json"]
DAMAGE = {
    "one byte flipped": lambda raw: raw[: len(raw) // 2] + bytes([raw[len(raw) // 2] ^ 0xFF]) + raw[len(raw) // 2 + 1:],
    "cut in half": lambda raw: raw[: len(raw) // 2],
    "emptied": lambda raw: b"",
    "deleted": None,
}


def served_copy(seed_index: Settings, target: Path) -> Path:
    """A copy of the served generation and its CURRENT pointer (no cache)."""
    name = current_name(seed_index.index)
    target.mkdir()
    shutil.copy(seed_index.index / "CURRENT", target / "CURRENT")
    shutil.copytree(seed_index.index / name, target / name)
    return target / name


def test_manifest_holds_a_checksum_of_every_index_file(seed_index):
    folder = seed_index.index / current_name(seed_index.index)
    assert sorted(p.name for p in folder.iterdir()) == sorted(GENERATION_FILES)
    checksums = json.loads((folder / "manifest.json").read_text("utf-8"))["files"]
    assert sorted(checksums) == sorted(set(GENERATION_FILES) - {"manifest.json"})
    for name, expected in checksums.items():
        assert expected == hashlib.sha256((folder / name).read_bytes()).hexdigest()


@pytest.mark.parametrize("damage", DAMAGE)
@pytest.mark.parametrize("file_name", GENERATION_FILES)
def test_a_damaged_index_file_is_detected_at_load_with_a_rebuild_hint(seed_index, tmp_path, file_name, damage):
    folder = served_copy(seed_index, tmp_path / "index")
    target = folder / file_name
    if DAMAGE[damage] is None:
        target.unlink()
    else:
        target.write_bytes(DAMAGE[damage](target.read_bytes()))
    with pytest.raises(IndexCorrupt, match=r"索引.*(已损坏|无法读取).*请运行 python build_index.py --full 重建索引"):
        load_generation(tmp_path / "index")


def test_a_pointer_to_a_missing_generation_is_reported(seed_index, tmp_path):
    served_copy(seed_index, tmp_path / "index")
    (tmp_path / "index" / "CURRENT").write_text("gen-never-built", "utf-8")
    with pytest.raises(IndexCorrupt, match="build_index.py --full"):
        load_generation(tmp_path / "index")


def test_corrupt_index_stops_search_and_serve_with_a_message_until_rebuilt(seed_index, tmp_path, model_dir, embedder):
    index = copy_index(seed_index.index, tmp_path / "index")  # with the embedding cache: rebuilt in seconds
    dense = index / current_name(index) / "dense.faiss"
    dense.write_bytes(DAMAGE["one byte flipped"](dense.read_bytes()))
    search = run_cli("-m", "app", "search", "院务公开", "--index", str(index))
    serve = run_cli("-m", "app", "serve", "--port", str(free_port()), "--index", str(index), timeout=300)
    for result in (search, serve):
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert "索引文件已损坏" in result.stderr and "dense.faiss" in result.stderr
        assert "请运行 python build_index.py --full 重建索引" in result.stderr
    assert run_cli("build_index.py", "--index", str(index), "--full").returncode == 0
    repaired = Searcher(Settings(index=index, model=model_dir), embedder=embedder)
    assert repaired.search("院务公开", 1).hits[0].doc == "001_824a9c74254aab94.txt"


def test_a_corrupt_new_generation_is_never_served(corpus, seed_index, tmp_path, model_dir, embedder):
    index = copy_index(seed_index.index, tmp_path / "index")
    searcher = Searcher(Settings(seeds=corpus, index=index, model=model_dir), embedder=embedder)
    served = searcher.generation.name
    (corpus / "急诊.txt").write_text(SUMMARY, "utf-8")
    new = build(corpus, index, model_dir, embedder=embedder).generation
    lexical = index / new / "lexical_weights.npz"
    lexical.write_bytes(DAMAGE["cut in half"](lexical.read_bytes()))
    assert searcher.search("救护车出车", 1).hits[0].doc != "急诊.txt"  # still the previous generation
    assert searcher.generation.name == served
    build(corpus, index, model_dir, full=True, embedder=embedder)
    assert searcher.search("救护车出车", 1).hits[0].doc == "急诊.txt"


def test_a_corrupt_embedding_cache_is_dropped_and_recomputed(tmp_path, model_dir, embedder):
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    (seeds / "急诊.txt").write_text(SUMMARY, "utf-8")
    first = build(seeds, index, model_dir, embedder=embedder)
    shards = list((index / "cache").rglob("shard-*.npz"))
    assert len(shards) == 2 and (first.embedded_chunks, first.embedded_windows) == (1, 1)  # a shard each
    for shard in shards:
        shard.write_bytes(DAMAGE["one byte flipped"](shard.read_bytes()))
    again = build(seeds, index, model_dir, full=True, embedder=embedder)
    assert (again.embedded_chunks, again.reused_chunks, again.embedded_windows) == (1, 0, 1)
    assert not any(shard.exists() for shard in shards)
    searcher = Searcher(Settings(seeds=seeds, index=index, model=model_dir), embedder=embedder)
    assert searcher.search("救护车出车", 1).hits[0].doc == "急诊.txt"


# ---------------------------------------------------------------- crash safety

#: A build that SIGKILLs itself just before its N-th change to the index folder (N = argv[1];
#: 0 = never); it prints how many changes it made when it survives.
KILL_AT_STEP = """
import os, signal, sys
from pathlib import Path

target, seeds, index = int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
root, steps = os.path.realpath(index), []

def inside(path):
    try:
        return os.path.realpath(os.fsdecode(path)).startswith(root)
    except TypeError:
        return False

def hook(event, args):
    if event == "open":
        if not args[2] & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) or not inside(args[0]):
            return
    elif event not in ("os.rename", "os.mkdir", "os.remove", "os.rmdir", "shutil.rmtree") or not inside(args[0]):
        return
    steps.append(event)
    if len(steps) == target:
        os.kill(os.getpid(), signal.SIGKILL)

sys.addaudithook(hook)
from app.config import Settings
from app.index import build

build(seeds, index, Settings().model, full=True)
print(len(steps))
"""


def test_builds_killed_at_every_step_and_at_random_moments_never_break_the_served_index(
        corpus, seed_index, tmp_path, model_dir, embedder):
    index = copy_index(seed_index.index, tmp_path / "index")  # embeddings cached: no model needed
    build(corpus, index, model_dir, full=True, embedder=embedder)  # two generations, so builds also prune
    old_documents = {p.name for p in corpus.iterdir()}
    shutil.copy(corpus / "000_7a85babb3cd5d70b.txt", corpus / "新增 总结.txt")
    (corpus / "004_40e0627687e65461.txt").unlink()
    new_documents = {p.name for p in corpus.iterdir()}
    searcher = Searcher(Settings(seeds=corpus, index=index, model=model_dir), embedder=embedder)

    def assert_served_index_is_whole(moment: str) -> None:
        generation = load_generation(index)  # checksums verified
        assert {d["path"] for d in generation.manifest["documents"]} in (old_documents, new_documents), moment
        assert Searcher(searcher.settings, embedder=embedder).search("院务公开", 1).hits, moment  # a restarted app
        assert searcher.search("院务公开制度", 1).hits, moment  # the running app

    def run(*args: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, *args], cwd=PROJECT_ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    pristine = copy_index(index, tmp_path / "pristine")
    for step in range(1, 100):  # each kill from the same start, so step N is the same change every time
        shutil.rmtree(index)
        copy_index(pristine, index)
        output, _ = (process := run("-c", KILL_AT_STEP, str(step), str(corpus), str(index))).communicate(timeout=300)
        assert_served_index_is_whole(f"killed before change {step}")
        if process.returncode == 0:  # the build made fewer changes than `step`: every one was tried
            break
        assert process.returncode == -signal.SIGKILL
    assert int(output) == step - 1 >= 12  # lock, work folder, each file, manifest, switch, pointer, pruning

    moments = random.Random(7)  # seeded: the same moments on every run
    for run_number in range(3):
        process = run("build_index.py", "--seeds", str(corpus), "--index", str(index), "--full")
        delay = moments.uniform(0.2, 3.0)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=300)
        assert_served_index_is_whole(f"random kill {run_number} after {delay:.2f} s (exit {process.returncode})")

    finished = build(corpus, index, model_dir, full=True, embedder=embedder)
    assert {d["path"] for d in load_generation(index).manifest["documents"]} == new_documents
    assert finished.embedded_chunks == 0 and not list(index.glob("*.tmp"))
    assert len(list(index.glob("gen-*"))) == 2
    assert searcher.search("院务公开制度", 1).hits and is_stale(corpus, index, model_dir)[0] is False


# ---------------------------------------------------------------- defaults and the network

PASSWORD = "管理-口令-7"
#: Set by the tests' own process (conftest, app.ui): the app under test must not inherit them,
#: so what is checked here is its own behaviour.
OFFLINE_SWITCHES = ("GRADIO_ANALYTICS_ENABLED", "HF_HUB_OFFLINE", "HF_HUB_DISABLE_TELEMETRY", "TRANSFORMERS_OFFLINE")


def app_environment(**extra: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in OFFLINE_SWITCHES} | {"PYTHONIOENCODING": "utf-8"} | extra


#: Runs `python -m app …` with an audit hook that logs every socket the process resolves,
#: binds, connects or sends to (Python raises these events for all socket use, library or not).
AUDITED_APP = """
import json, os, runpy, sys

log = open(os.environ["QA_SOCKET_LOG"], "a", buffering=1)
def hook(event, args):
    if event in ("socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg"):
        log.write(json.dumps({"event": event, "family": int(args[0].family), "address": repr(args[1])}) + "\\n")
    elif event == "socket.getaddrinfo":
        log.write(json.dumps({"event": event, "host": repr(args[0])}) + "\\n")
sys.addaudithook(hook)
sys.argv[0] = "app"
runpy.run_module("app", run_name="__main__", alter_sys=True)
"""


@pytest.fixture(scope="module")
def guarded_app(seed_index, tmp_path_factory):
    """The app with an admin password, on copies of the seeds and index, every socket logged."""
    work = tmp_path_factory.mktemp("guarded")
    shutil.copytree(seed_index.seeds, work / "seeds")
    copy_index(seed_index.index, work / "index")
    with serving("--index", str(work / "index"), "--seeds", str(work / "seeds"), launcher=("-c", AUDITED_APP),
                 env=app_environment(QA_ADMIN_PASSWORD=PASSWORD, QA_SOCKET_LOG=str(work / "sockets.jsonl"),
                                     QA_TEMP_DIR=str(work / "tmp")),
                 log=work / "server.log") as (url, process):
        yield url, work, process


def client_at(address: str, **options):
    """An HTTP client whose requests come from `address` (any 127.x.y.z is this machine's loopback),
    so that tests can be several clients, as the app tells clients apart by address."""
    import httpx

    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=300, **options)


def join(url: str, api_name: str, data: list, session: str, client=None):
    """Join the queue for one event handler as the page does; returns the HTTP response."""
    import httpx

    client = client or httpx.Client(timeout=60)
    dependencies = client.get(url + "config").json()["dependencies"]
    fn_index = next(i for i, d in enumerate(dependencies) if d.get("api_name") == api_name)
    return client.post(url + "gradio_api/queue/join", json={
        "data": data, "fn_index": fn_index, "session_hash": session, "trigger_id": None, "event_data": None})


def gradio_call(url: str, api_name: str, data: list, session: str, client=None) -> dict:
    """Call one event handler of the app as its page does (queue/join, then the event stream);
    returns the final message: {"output": {"data": …}} or {"output": {"error": …}}."""
    import httpx

    client = client or httpx.Client(timeout=300)
    joined = join(url, api_name, data, session, client)
    joined.raise_for_status()
    with client.stream("GET", url + "gradio_api/queue/data", params={"session_hash": session}) as events:
        for line in events.iter_lines():
            if line.startswith("data:") and (message := json.loads(line[5:]))["msg"] == "process_completed":
                return message
    raise AssertionError(f"{api_name}: the event stream ended without a result")


def sign_in(url: str, password: str, client):
    """POST /admin/login as the page's script does; returns the response (the cookie lands in `client`)."""
    return client.post(url + "admin/login", json={"password": password})


def test_the_app_listens_on_loopback_only(guarded_app):
    import psutil

    _, _, process = guarded_app
    listening = [c.laddr for c in psutil.Process(process.pid).net_connections(kind="inet") if c.status == "LISTEN"]
    assert listening and all(address.ip == "127.0.0.1" for address in listening)


def test_admin_actions_need_a_signed_in_cookie_and_a_replayed_session_hash_is_nothing(guarded_app):
    """Issue 17, finding 4: replaying an unlocked session's hash from another client, without
    cookies, gave admin rights. Now admin rights are an HttpOnly cookie from /admin/login."""
    url, work, _ = guarded_app
    before = tree(work / "seeds"), (work / "index" / "CURRENT").read_text()
    session = uuid.uuid4().hex
    with client_at("127.0.0.21") as stranger:
        for api_name, data in (("rebuild", []), ("upload", [None, True])):
            refused = join(url, api_name, data, session, stranger)
            assert (refused.status_code, refused.text) == (403, "需要管理员登录。")
        wrong = sign_in(url, "wrong", stranger)
        assert (wrong.status_code, wrong.json()["message"], "set-cookie" in wrong.headers) == (403, "密码错误。", False)
    assert (tree(work / "seeds"), (work / "index" / "CURRENT").read_text()) == before

    with client_at("127.0.0.22") as admin:
        signed = sign_in(url, PASSWORD, admin)
        assert signed.status_code == 200 and signed.json() == {"ok": True, "message": "已进入管理。"}
        cookie = signed.headers["set-cookie"]
        token = admin.cookies["qa_admin"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and len(token) >= 40
        assert token not in signed.text and PASSWORD not in signed.text
        entered = gradio_call(url, "enter_admin", ["已进入管理。"], session, admin)["output"]["data"]
        assert entered[2].startswith("**索引状态**") and entered[3] == ""
        rebuilt = gradio_call(url, "rebuild", [], session, admin)["output"]["data"][0]
        assert rebuilt.startswith("重建完成：5 个文档")
    with client_at("127.0.0.21") as replayer:  # the admin's session hash, from elsewhere, without the cookie
        assert join(url, "rebuild", [], session, replayer).status_code == 403
        assert gradio_call(url, "enter_admin", ["已进入管理。"], session, replayer)["output"]["data"][1] == {
            "visible": False, "__type__": "update"}
    with client_at("127.0.0.22") as admin:
        admin.cookies.set("qa_admin", token)
        assert admin.post(url + "admin/logout").json()["message"] == "已退出管理。"
        admin.cookies.set("qa_admin", token)  # the old token, kept by the client, is dead
        assert join(url, "rebuild", [], session, admin).status_code == 403
    log = (work / "server.log").read_text("utf-8", errors="replace")
    assert token not in log and PASSWORD not in log


def test_a_flood_from_one_client_is_refused_and_another_clients_question_gets_through(guarded_app):
    """Issue 17, finding 1: one client queued 400 long searches and a normal question waited 112 s."""
    import asyncio

    import httpx

    url, work, _ = guarded_app
    dependencies = httpx.get(url + "config", timeout=30).json()["dependencies"]
    search = next(i for i, d in enumerate(dependencies) if d.get("api_name") == "search")
    long_question = "医院如何推行院务公开，加强民主管理，" * 100

    async def flood() -> list[httpx.Response]:
        transport = httpx.AsyncHTTPTransport(local_address="127.0.0.31")
        async with httpx.AsyncClient(transport=transport, timeout=120) as attacker:
            session = uuid.uuid4().hex
            return await asyncio.gather(*[attacker.post(url + "gradio_api/queue/join", json={
                "data": [long_question, 50], "fn_index": search, "session_hash": session}) for _ in range(400)])

    def asked(question: str, k: int, address: str) -> tuple[float, list]:
        with client_at(address) as user:
            start = time.monotonic()
            event = user.post(url + "gradio_api/call/search", json={"data": [question, k]}).json()["event_id"]
            with user.stream("GET", url + f"gradio_api/call/search/{event}") as stream:
                lines = [line for line in stream.iter_lines() if line.startswith("data:")]
            return time.monotonic() - start, json.loads(lines[-1][5:])

    def normal_question() -> tuple[float, list]:
        return asked("院务公开", 3, "127.0.0.32")

    # What one of the attacker's searches costs on this machine, measured in this run: the
    # question may wait for the attacker's share in flight, never for the flood (112 s before).
    one_long_search = min(asked(long_question, 50, "127.0.0.33")[0] for _ in range(2))

    async def both():
        attack = asyncio.create_task(flood())
        await asyncio.sleep(0.3)
        answered = await asyncio.to_thread(normal_question)
        return await attack, answered

    responses, (seconds, hits) = asyncio.run(both())
    refused = [r for r in responses if r.status_code == 429]
    assert len(refused) >= 300 and len(responses) - len(refused) <= 60
    assert refused[0].text.startswith("您的请求过多") and refused[0].headers["retry-after"] == "2"
    assert {r.status_code for r in responses} <= {200, 429}
    assert seconds < (web.PER_CLIENT + 1) * one_long_search + 1.0, (seconds, one_long_search)
    assert "院务公开" in hits[0][0]["text"]


def test_an_upload_without_the_admin_cookie_is_refused_before_a_byte_is_written(guarded_app):
    """Issue 17, finding 2: anyone could POST 1,000 files of 20 MB to /gradio_api/upload."""
    url, work, _ = guarded_app
    temp, big = work / "tmp", os.urandom(15 * 1048576)
    before = tree(temp), tree(work / "seeds")
    with client_at("127.0.0.41") as stranger:
        refused = stranger.post(url + "gradio_api/upload", files=[("files", ("a.txt", big)), ("files", ("b.txt", big))])
    assert (refused.status_code, refused.text) == (403, "需要管理员登录后才能上传。")
    with client_at("127.0.0.42") as admin:
        assert sign_in(url, PASSWORD, admin).status_code == 200
        too_much = admin.post(url + "gradio_api/upload", files=[("files", (f"{n}.txt", big)) for n in range(7)])
        assert too_much.status_code == 413 and too_much.text.startswith("上传过大")
        assert (tree(temp), tree(work / "seeds")) == before
        kept = admin.post(url + "gradio_api/upload", files=[("files", ("总结.txt", "一、工作\n内容".encode()))])
    assert kept.status_code == 200 and Path(kept.json()[0]).is_relative_to(temp)  # the app's own folder


#: Values a hostile client sends to each handler the page uses (position, value), from the attack
#: that found 43 tracebacks: wrong types, out-of-range numbers, labels that are not choices.
HOSTILE_INPUTS = [
    ("respond", ["院务公开", "不是对话", 3, [], [], None]), ("respond", ["院务公开", [{"role": "x"}], 3, [], [], None]),
    ("respond", ["院务公开", [], "abc", [], [], None]), ("respond", ["院务公开", [], 1e308, [], [], None]),
    ("respond", [123, [], 3, [], [], None]), ("respond", ["院务公开", [], 3, ["不存在.txt"], [], None]),
    ("respond", ["院务公开", [], 3, "x", {"a": 1}, None]), ("pick_source", [{"a": 1}, None]),
    ("add_to_basket", ["[1] 伪造", None, None]), ("view_source", [[1, 2], None]), ("remove", [None, "0. x"]),
    ("lambda", [None, 12345]), ("refresh_filters", [["伪造.txt"]]), ("enter_admin", [{"a": 1}]),
]


def test_hostile_requests_get_short_chinese_refusals_and_leave_no_traceback(guarded_app):
    """Issue 17, findings 9 and 10: crafted inputs printed tracebacks, /run/search failed when k
    was left out (the API description gives it a default) and answered a blank question with 500;
    messages named server paths."""
    import httpx

    url, work, _ = guarded_app
    for api_name, data in HOSTILE_INPUTS:
        refused = join(url, api_name, data, uuid.uuid4().hex)
        assert refused.status_code == 422, (api_name, data, refused.text)
        assert refused.text.startswith("输入无效：第"), refused.text
    run = url + "gradio_api/run/search"
    assert [h["doc"] for h in httpx.post(run, json={"data": ["院务公开"]}, timeout=60).json()["data"][0]][:1]
    assert len(httpx.post(run, json={"data": ["院务公开"]}, timeout=60).json()["data"][0]) == 5  # the default k
    blank = httpx.post(run, json={"data": ["   ", 3]}, timeout=60)
    assert (blank.status_code, blank.json()["error"]) == (400, "问题为空：请输入要查找的内容。")
    outside = join(url, "upload", [[{"path": str(PROJECT_ROOT / "README.md"), "meta": {"_type": "gradio.FileData"}}],
                                   True], uuid.uuid4().hex)  # "Cannot move <the project folder>/…" before
    assert outside.status_code == 403 and str(PROJECT_ROOT) not in outside.text
    with client_at("127.0.0.52") as admin:  # even signed in, a file input names an uploaded file only
        assert sign_in(url, PASSWORD, admin).status_code == 200
        for path in (PROJECT_ROOT / "README.md", work / "tmp" / ".." / "seeds" / "000_7a85babb3cd5d70b.txt"):
            crafted = join(url, "upload", [[{"path": str(path), "meta": {"_type": "gradio.FileData"}}], True],
                           uuid.uuid4().hex, admin)
            assert crafted.status_code == 422 and crafted.text.endswith("不是上传的文件。"), crafted.text
            assert str(PROJECT_ROOT) not in crafted.text
    log = (work / "server.log").read_text("utf-8", errors="replace")
    assert "Traceback" not in log


def test_refused_requests_leave_no_traceback_in_the_server_log(guarded_app):
    from gradio_client import Client

    url, work, _ = guarded_app
    client = Client(url, verbose=False)
    for question, k, message in (("   ", 3, "问题为空"), ("院务公开", "abc", "段落数 k 必须是整数")):
        with pytest.raises(Exception, match=message):
            client.predict(question, k, api_name="/search")
    assert join(url, "rebuild", [], uuid.uuid4().hex).text == "需要管理员登录。"
    assert "Traceback" not in (work / "server.log").read_text("utf-8")


def test_the_app_makes_no_connection_beyond_loopback(guarded_app):
    from gradio_client import Client

    url, work, _ = guarded_app
    import httpx

    assert "医院工作总结问答" in httpx.get(url, timeout=30).text
    assert Client(url, verbose=False).predict("how did hospitals handle 院务公开?", 3, api_name="/search")
    reply = gradio_call(url, "respond", ["医院如何推行院务公开", [], 3, [], [], None], uuid.uuid4().hex)
    assert "院务公开" in reply["output"]["data"][1][-1]["content"][0]["text"]
    events = [json.loads(line) for line in (work / "sockets.jsonl").read_text("utf-8").splitlines()]
    assert any(e["event"] == "socket.bind" for e in events)  # the log really sees the server's sockets
    for event in events:
        if event["event"] == "socket.getaddrinfo":
            host = eval(event["host"])  # noqa: S307 - our own repr() of a str/bytes/None
            assert host in (None, "localhost", b"localhost") or ipaddress.ip_address(host).is_loopback, event
        elif event["family"] in (socket.AF_INET, socket.AF_INET6):
            host = eval(event["address"])[0]  # noqa: S307
            assert host == "localhost" or ipaddress.ip_address(host).is_loopback, event


#: Inside a fresh network namespace (nothing but a loopback device): bring loopback up, start
#: the app, ask it a question through its API, print what it answered and which devices exist.
OFFLINE_RUN = """
import fcntl, json, os, socket, struct, subprocess, sys, time

with socket.socket() as probe:  # `ip link set lo up`, without needing iproute2
    fcntl.ioctl(probe, 0x8914, struct.pack("16sH14s", b"lo", 0x1 | 0x8 | 0x40, b""))  # SIOCSIFFLAGS UP|LOOPBACK|RUNNING
server = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", "7860", *sys.argv[1:]],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
try:
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", 7860), timeout=1).close()
            break
        except OSError:
            if server.poll() is not None:
                sys.exit("server exited: " + server.stderr.read())
            time.sleep(0.5)
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # for this client only: the app was started without it
    from gradio_client import Client
    hits = Client("http://127.0.0.1:7860/", verbose=False).predict("院务公开", 3, api_name="/search")
    print(json.dumps({"devices": [name for _, name in socket.if_nameindex()], "docs": [h["doc"] for h in hits]}))
finally:
    server.terminate()
    server.wait(timeout=30)
"""


def test_the_app_works_with_networking_disabled(seed_index, tmp_path):
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode:
        pytest.skip("no network namespaces here (unshare -n); the socket audit above still applies")
    copy_index(seed_index.index, tmp_path / "index")
    result = subprocess.run(
        ["unshare", "-n", sys.executable, "-c", OFFLINE_RUN, "--index", str(tmp_path / "index")],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600, env=app_environment())
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["devices"] == ["lo"]  # really offline: no other network device
    assert answer["docs"][0] == "001_824a9c74254aab94.txt"


def test_no_library_collects_anything_while_building_and_searching(tmp_path):
    """ONNX Runtime 1.31 writes a device id and a telemetry queue under ~/.cache/Microsoft on its
    first session unless ORT_DISABLE_TELEMETRY is set before it starts (app/__init__.py)."""
    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ORT_", "XDG_"))}
    env.update(HOME=str(home), PYTHONIOENCODING="utf-8")
    for command in (["build_index.py", "--index", str(tmp_path / "index")],
                    ["-m", "app", "search", "院务公开", "--index", str(tmp_path / "index")]):
        result = subprocess.run([sys.executable, *command], cwd=PROJECT_ROOT, env=env, capture_output=True,
                                text=True, timeout=600)
        assert result.returncode == 0, result.stderr
    assert not (home / ".cache" / "Microsoft").exists()
    assert sorted(p.relative_to(home).as_posix() for p in home.rglob("*") if p.is_file()) == []


def _in_small_filesystem(script: str, options: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """Run a shell `script` in a private mount namespace where $DISK is a fresh tmpfs mounted
    with `options`; the mount disappears with the namespace."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    disk = tmp_path / "disk"
    disk.mkdir()
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", f'mount -t tmpfs -o {options} tmpfs "$DISK" && {script}'],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900,
        env={**os.environ, "DISK": str(disk), "PY": sys.executable, "SEEDS": str(tmp_path / "seeds"),
             "PYTHONIOENCODING": "utf-8"},
    )


def test_a_build_that_would_not_fit_is_refused_before_writing_and_the_old_index_serves(tmp_path):
    """Issue 17, finding 13: on a 12 MB file system a second generation does not fit. The build
    says so in Chinese before writing anything; the served index keeps answering."""
    shutil.copytree(SEEDS, tmp_path / "seeds")
    script = ('$PY build_index.py --seeds "$SEEDS" --index "$DISK/index" >/dev/null || exit 10; '
              'cat "$DISK/index/CURRENT"; echo; cp "$SEEDS/002_7ff70c88164fe4bb.txt" "$SEEDS/new.txt"; '
              '$PY build_index.py --seeds "$SEEDS" --index "$DISK/index"; echo "exit=$?"; '
              'cat "$DISK/index/CURRENT"; echo; ls "$DISK/index"; '
              '$PY -m app search 院务公开 --json --index "$DISK/index" | head -c 300')
    result = _in_small_filesystem(script, "size=12m", tmp_path)
    if "mount" in result.stderr and "permission" in result.stderr.lower():
        pytest.skip("mounting a tmpfs is not permitted here")
    lines = result.stdout.splitlines()
    assert result.returncode == 0 and "exit=1" in lines, result.stdout + result.stderr
    assert "磁盘空间不足" in result.stderr and "约需" in result.stderr and "Traceback" not in result.stderr
    assert lines[0] == lines[lines.index("exit=1") + 1]  # CURRENT unchanged
    assert not any(line.endswith(".tmp") for line in lines)
    assert '"text"' in lines[-1] and "院务公开" in lines[-1]  # still answering


def test_a_disk_that_fills_up_mid_build_leaves_nothing_half_written(tmp_path):
    """The estimate passes (plenty of bytes) but the file system runs out of inodes while the
    generation is written: the half-written generation is removed at once, the message is the
    same kind, and no traceback is shown."""
    shutil.copytree(SEEDS, tmp_path / "seeds")
    script = ('$PY build_index.py --seeds "$SEEDS" --index "$DISK/index"; echo "exit=$?"; '
              'find "$DISK" -name "*.tmp" | wc -l; ls "$DISK/index"')
    result = _in_small_filesystem(script, "size=64m,nr_inodes=9", tmp_path)
    if "mount" in result.stderr and "permission" in result.stderr.lower():
        pytest.skip("mounting a tmpfs is not permitted here")
    lines = result.stdout.splitlines()
    assert "exit=1" in lines, result.stdout + result.stderr
    assert "磁盘已满" in result.stderr and "Traceback" not in result.stderr
    assert lines[lines.index("exit=1") + 1] == "0"  # nothing half-written is left
    assert "CURRENT" not in lines


def test_a_restart_with_a_large_pending_document_serves_the_old_index_first(seed_index, tmp_path):
    """Issue 17, finding 5: with a 1.4 MB upload pending, a restart refused connections for
    234 s while it built. Now the port answers from the index on disk while the pending 5 MB
    document is still being built in the background, and the status panel says so."""
    import urllib.request

    from gradio_client import Client



    corpus, index = tmp_path / "seeds", tmp_path / "index"
    shutil.copytree(SEEDS, corpus)
    shutil.copytree(seed_index.index, index)
    base = (SEEDS / "000_7a85babb3cd5d70b.txt").read_text("utf-8")
    large = "\n".join(base.replace("。", f"（第{i}份）。") for i in range(170))
    (corpus / "大文档.txt").write_text(large, "utf-8")
    assert len(large.encode()) > 5 << 20
    before = current_name(index)
    with serving("--index", str(index), "--seeds", str(corpus)) as (url, _):
        assert current_name(index) == before  # answering before the build has switched
        with urllib.request.urlopen(url + "config", timeout=60) as page:
            assert "后台构建中" in page.read().decode("utf-8")
        hits = Client(url, verbose=False).predict("how did hospitals handle 院务公开?", 3, api_name="/search")
        assert len(hits) == 3 and all(hit["doc"] != "大文档.txt" for hit in hits)
        assert current_name(index) == before


def test_password_guessing_is_slowed_down_per_client_and_logged_without_the_password(guarded_app):
    """Issue 17, finding 7: about 100 guesses a second went through the unlock handler. After
    three wrong passwords a client must wait before its next attempt is checked — even the right
    one — and every wrong password is logged with the client, never with the password. Another
    client is not slowed down by it."""
    url, work, _ = guarded_app
    guesses = [f"猜测-{n}" for n in range(5)]
    with client_at("127.0.0.61") as guesser:
        replies = [sign_in(url, guess, guesser).json()["message"] for guess in guesses[:4]]
        assert replies == ["密码错误。"] * 4  # three free, the fourth starts a one-second wait
        assert sign_in(url, guesses[4], guesser).json()["message"].startswith("密码错误次数过多")
        locked_out = sign_in(url, PASSWORD, guesser)
        assert locked_out.status_code == 403 and locked_out.json()["message"].startswith("密码错误次数过多")
        with client_at("127.0.0.62") as colleague:
            assert sign_in(url, PASSWORD, colleague).status_code == 200
        time.sleep(1.2)
        assert sign_in(url, PASSWORD, guesser).status_code == 200
    log = (work / "server.log").read_text("utf-8", errors="replace")
    assert "管理员密码错误：客户端 127.0.0.61 第 4 次" in log
    assert not any(guess in log for guess in guesses) and PASSWORD not in log

def test_session_state_is_capped_and_the_oldest_session_goes_first(seed_index, tmp_path):
    """Issue 17, finding 3: every new session hash kept its state for ever (92 KB each)."""
    with serving("--index", str(seed_index.index), env=app_environment(QA_SESSION_CAPACITY="3"),
                 log=tmp_path / "server.log") as (url, _):
        def ask(session: str) -> str:
            reply = gradio_call(url, "respond", ["医院如何推行院务公开", [], 3, [], [], None], session)
            return reply["output"]["data"][3]["choices"][0][0]

        first = uuid.uuid4().hex
        label = ask(first)
        kept = gradio_call(url, "add_to_basket", [label, None, None], first)["output"]["data"]
        assert kept[1].startswith("1. ")
        for _ in range(4):
            ask(uuid.uuid4().hex)
        forgotten = join(url, "add_to_basket", [label, None, None], first)  # its sources are gone with it
        assert (forgotten.status_code, forgotten.text.startswith("输入无效")) == (422, True)
        assert "Traceback" not in (tmp_path / "server.log").read_text("utf-8")


def test_served_beyond_loopback_without_a_password_there_is_no_admin(seed_index, tmp_path):
    """Issue 17: with QA_ADMIN_PASSWORD unset the admin tab was open to anyone on the network."""
    import httpx

    environment = app_environment()
    environment.pop("QA_ADMIN_PASSWORD", None)
    with serving("--index", str(seed_index.index), "--host", "0.0.0.0", env=environment,
                 log=tmp_path / "server.log") as (url, _):
        config = httpx.get(url + "config", timeout=30).json()
        tabs = [c["props"] for c in config["components"] if c["props"].get("label") == "管理"]
        assert tabs and tabs[0]["visible"] is False
        refused = httpx.post(url + "admin/login", json={"password": ""}, timeout=30)
        assert (refused.status_code, refused.json()["message"]) == (403, "此服务器未开放管理功能。")
        assert join(url, "rebuild", [], uuid.uuid4().hex).status_code == 403
        assert httpx.post(url + "gradio_api/upload", files={"files": ("a.txt", b"x")}, timeout=30).status_code == 403
        from gradio_client import Client

        assert len(Client(url, verbose=False).predict("院务公开", 3, api_name="/search")) == 3
    assert "不开放“管理”页面" in (tmp_path / "server.log").read_text("utf-8")

