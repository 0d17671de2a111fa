"""Loading and cleaning: encodings, boilerplate, hard wraps, offsets back into the source."""

from __future__ import annotations

import hashlib

import pytest

from app.documents import SkippedFile, clean, decode, discover, load

from .conftest import SEEDS, SHARED_SEEDS

SAMPLE = "医院工会工作总结\n\n一、实行院务公开制度\n\n我们坚持院务公开制度，医院每月各项支出明细向职工公开。\n"


def test_seeds_are_byte_identical_to_the_shared_originals():
    if not SHARED_SEEDS.is_dir():
        pytest.skip("../shared/seeds is not beside this checkout")
    ours = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in SEEDS.glob("*.txt")}
    theirs = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in SHARED_SEEDS.glob("*.txt")}
    assert ours == theirs and len(ours) == 5


def test_every_paragraph_character_maps_to_its_source_character():
    for path in discover(SEEDS):
        document = load(path, SEEDS)
        for paragraph in document.paragraphs:
            assert "".join(document.text[o] for o in paragraph.offsets) == paragraph.text


def test_hard_wrapped_sentence_is_joined():
    document = load(SEEDS / "000_7a85babb3cd5d70b.txt", SEEDS)
    joined = [p for p in document.paragraphs if "审批规定" in p.text]
    assert len(joined) == 1
    assert joined[0].text.startswith("1、严格遵守财经法律")
    assert document.line_of(joined[0].start) == 53 and document.line_of(joined[0].end - 1) == 55


def test_site_boilerplate_and_inline_spam_are_removed():
    texts = [p.text for path in discover(SEEDS) for p in load(path, SEEDS).paragraphs]
    joined = "\n".join(texts)
    for noise in ("Copyright", "欢迎来到", "ICP备", "您的当前位置", "因篇幅问题", "来源:世旅网", "莲~山", "课件", "<sub>", "\\*"):
        assert noise not in joined, noise
    assert "296633" not in texts
    assert any("我们又再次去一线单位为职工注射乙肝疫苗" in t for t in texts)


def test_headings_are_not_glued_to_the_paragraph_after_them():
    document = load(SEEDS / "002_7ff70c88164fe4bb.txt", SEEDS)
    assert "(三)加强人才培养及人才资源的管理,促进医院医疗事业再发展" in [p.text for p in document.paragraphs]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "big5", "utf-16"])
def test_encodings_a_chinese_windows_editor_saves_are_decoded(tmp_path, encoding):
    big5 = "醫院工會工作總結\n\n一、實行院務公開制度\n\n我們堅持院務公開制度，醫院每月各項支出明細向職工公開。\n"
    text = SAMPLE if encoding != "big5" else big5
    path = tmp_path / f"summary-{encoding}.txt"
    path.write_bytes(text.encode(encoding))
    document = load(path, tmp_path)
    assert document.text.lstrip("\ufeff") == text
    assert document.paragraphs[-1].text.endswith("向职工公开。" if encoding != "big5" else "向職工公開。")


def test_gbk_text_is_not_mistaken_for_big5():
    raw = SAMPLE.encode("gbk")
    assert decode(raw, "x.txt") == (SAMPLE, "gb18030")


@pytest.mark.parametrize("content, reason", [
    (b"", "没有可索引的正文"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "不是文本文件"),
    ("您好,欢迎来到世旅网。\nCopyright © 2019\n".encode(), "没有可索引的正文"),
])
def test_unusable_files_are_skipped_with_a_reason(tmp_path, content, reason):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(SkippedFile) as caught:
        load(path, tmp_path)
    assert reason in caught.value.reason and caught.value.path == "bad.txt"


def test_unsupported_type_is_skipped(tmp_path):
    path = tmp_path / "figures.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(SkippedFile, match="不支持的文件类型 .xls"):
        load(path, tmp_path)


def test_crlf_lines_keep_exact_offsets():
    source = "标题\r\n\r\n第一段内容，写得很长。\r\n"
    paragraphs = clean(source)
    assert [p.text for p in paragraphs] == ["标题", "第一段内容，写得很长。"]
    assert (paragraphs[1].start, paragraphs[1].end) == (6, 17)
    assert source[6:17] == "第一段内容，写得很长。"


def make_docx(path, body):
    from docx import Document as WordDocument

    word = WordDocument()
    for kind, text in body:
        if kind == "h1":
            word.add_heading(text, level=1)
        elif kind == "h2":
            word.add_heading(text, level=2)
        elif kind == "item":
            word.add_paragraph(text, style="List Number")
        else:
            word.add_paragraph(text)
    word.save(path)
    return path


WORD_SUMMARY = [
    ("h1", "急诊科年度工作总结"),
    ("h2", "一、院前急救"),
    ("p", "全年救护车出车一千二百次，平均出车时间缩短到三分钟以内，院前急救网络覆盖全县各乡镇。"),
    ("h2", "二、院内抢救"),
    ("p", "建立胸痛中心和卒中中心绿色通道，抢救成功率达到百分之九十五。"),
    ("item", "胸痛中心通过国家认证"),
    ("item", "卒中中心通过省级认证"),
]


def test_docx_headings_and_numbering_feed_the_outline(tmp_path):
    from app.chunks import chunk_document

    document = load(make_docx(tmp_path / "急诊.docx", WORD_SUMMARY), tmp_path)
    assert document.encoding == "docx"
    chunks = chunk_document(document)
    assert [c.section for c in chunks] == [("急诊科年度工作总结", "一、院前急救"), ("急诊科年度工作总结", "二、院内抢救")]
    assert chunks[0].title == "急诊科年度工作总结"
    assert "一、胸痛中心通过国家认证" in chunks[1].text and "二、卒中中心通过省级认证" in chunks[1].text
    assert document.text[chunks[0].start:chunks[0].end] == chunks[0].text


def test_corrupt_docx_is_skipped_by_name(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "损坏.docx", "w") as junk:
        junk.writestr("junk.bin", b"\x00\x01 not a word document")
    (tmp_path / "截断.docx").write_bytes(b"PK\x03\x04truncated")
    for name in ("损坏.docx", "截断.docx"):
        with pytest.raises(SkippedFile, match="不是有效的 Word 文档") as caught:
            load(tmp_path / name, tmp_path)
        assert caught.value.path == name
