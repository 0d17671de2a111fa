"""Documents in the forms hospitals have them, made here by real tools: python-docx writes a
Word report (running head, page-number footer, a page break, a table); LibreOffice turns it into
PDF, Word 97 (.doc) and, renamed, Kingsoft WPS; LibreOffice also encrypts one; pypdf makes a
2,000-page one. Each is read, indexed with the real model, found, and cited to the right page."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from app import ocr
from app.chunks import PLACEHOLDER, chunk_document
from app.config import Settings
from app.documents import clean, discover, load
from app.evaluate import character_error_rate
from app.formats import SkippedFile, extract
from app.formats.office import libreoffice
from app.index import build
from app.search import Searcher

from .making import RUNNING_HEAD, SECOND_PAGE_FROM, SOURCE, convert, scan_pages, write_report

needs_office = pytest.mark.skipif(libreoffice() is None, reason="LibreOffice is not installed (make office)")
needs_ocr = pytest.mark.skipif(not ocr.available(), reason="rapidocr is not installed (requirements.txt)")


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("made")
    files = {"docx": folder / "rehabilitation.docx"}
    write_report(files["docx"])
    if libreoffice() is not None:
        files["pdf"] = convert(files["docx"], "pdf", folder)
        files["doc"] = convert(files["docx"], "doc", folder)
        files["wps"] = folder / "rehabilitation.wps"
        shutil.copyfile(files["doc"], files["wps"])
        locked = folder / "locked"
        locked.mkdir()
        files["encrypted"] = convert(files["docx"], "pdf", locked, ':writer_pdf_Export:{"EncryptFile":{"type":"boolean",'
                                     '"value":"true"},"DocumentOpenPassword":{"type":"string","value":"123"}}')
    pages = [image for image, _ in scan_pages(SOURCE)]  # typeset with Noto Sans CJK, 200 dpi, as a scanner returns it
    files["scan.png"] = folder / "scan.png"
    pages[0].save(files["scan.png"])
    files["scan.pdf"] = folder / "scan.pdf"
    pages[0].save(files["scan.pdf"], save_all=True, append_images=pages[1:], resolution=200)  # image-only PDF
    return files


def read(path: Path):
    return extract(path.read_bytes(), path.suffix, path.name)


# ---------------------------------------------------------------- Word


def test_docx_tables_become_rows_that_keep_their_header(made):
    extracted = read(made["docx"])
    lines = extracted.text.splitlines()
    assert "科室：康复医学科；门诊人次：15258；同比：+12%" in lines
    assert "科室：儿童康复；门诊人次：312；同比：新开" in lines
    assert extracted.tables == 1 and extracted.converter == "python-docx"
    # the table comes where the author put it: after the plans, before the closing note
    assert lines.index("3、继续扩大居家康复随访范围，力争随访率达到95%以上。") < lines.index(
        "科室：针灸门诊；门诊人次：8960；同比：+9%") < lines.index("以上门诊数据由医院信息科统计，截至2024年12月31日。")
    assert RUNNING_HEAD not in extracted.text  # a running head is not body text


@needs_office
@pytest.mark.parametrize("kind", ["doc", "wps"])
def test_word97_and_wps_read_through_libreoffice_as_the_docx_reads(made, kind):
    extracted = read(made[kind])
    assert extracted.converter == "libreoffice" and extracted.tables == 1
    assert [line for line in extracted.text.splitlines() if line] == \
        [line for line in read(made["docx"]).text.splitlines() if line]


def test_a_renamed_or_damaged_word97_file_is_refused_with_the_reason(tmp_path):
    fake = tmp_path / "总结.wps"
    fake.write_bytes("这其实是一个文本文件".encode())
    with pytest.raises(SkippedFile, match="不是有效的 .wps 文件"):
        read(fake)


# ---------------------------------------------------------------- PDF


@needs_office
def test_pdf_text_layer_without_running_heads_or_page_numbers(made):
    extracted = read(made["pdf"])
    assert extracted.converter == "pdfium" and len(extracted.pages) == 2
    assert RUNNING_HEAD not in extracted.text and not re.search(r"第\s*\d+\s*页", extracted.text)
    body = compact(extracted.text)
    for line in SOURCE:  # every paragraph whole, wrapped lines joined again, nothing interleaved
        assert compact(line) in body, line
    assert "科室：儿童康复；门诊人次：312；同比：新开" in extracted.text.splitlines() and extracted.tables == 1
    second = extracted.text.index(SECOND_PAGE_FROM)
    assert extracted.page_of(second) == 2 and extracted.page_of(extracted.text.index("二、主要工作")) == 1


@needs_office
def test_encrypted_truncated_and_fake_pdfs_are_refused_with_reasons(made, tmp_path):
    with pytest.raises(SkippedFile, match="PDF 已加密"):
        read(made["encrypted"])
    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes(made["pdf"].read_bytes()[:4000])
    with pytest.raises(SkippedFile, match="不是有效的 PDF"):
        read(truncated)


def _pdf_with_content(content: bytes, path: Path) -> None:
    """A one-page PDF whose page content is `content`, deflated (how a PDF bomb is built)."""
    import zlib

    stream = zlib.compress(content, 9)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream"]
    out, offsets = bytearray(b"%PDF-1.7\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    table = len(out)
    out += b"xref\n0 5\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % table
    path.write_bytes(bytes(out))


def test_a_pdf_bomb_is_read_in_a_bounded_child_and_refused(tmp_path, monkeypatch):
    import resource

    import app.formats

    bomb = tmp_path / "bomb.pdf"
    _pdf_with_content(b"0 0 m " * (200 * 1024 * 1024 // 6), bomb)  # 200 MB of drawing in 300 kB
    assert bomb.stat().st_size < 1_000_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(SkippedFile, match="没有可提取的文字"):
        read(bomb)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 1024  # kB: it was inflated elsewhere
    monkeypatch.setattr(app.formats, "CHILD_MEMORY", 400 * 1024 ** 2)  # a child that needs more than it may have
    with pytest.raises(SkippedFile, match="读取时超出内存限制"):
        read(bomb)


@needs_office
def test_a_2000_page_pdf_is_read_up_to_the_cap_with_a_note(made, tmp_path):
    from pypdf import PdfReader, PdfWriter

    page = PdfReader(made["pdf"]).pages[0]
    writer = PdfWriter()
    for _ in range(2000):
        writer.add_page(page)
    long = tmp_path / "long.pdf"
    with open(long, "wb") as handle:
        writer.write(handle)
    extracted = read(long)
    assert len(extracted.pages) == 300 and extracted.notes == ("共 2000 页，只索引了前 300 页",)


# ---------------------------------------------------------------- cleaning of the genre


GENRE_FURNITURE = [
    "本文由网友投稿，仅供参考。", "来源：某某范文网 发布时间：2025-03-02 10:21", "首页 > 工作总结 > 医院工作总结",
    "版权声明：本站文章均来自网络，如有侵权请联系删除。", "免责声明：本文仅代表作者观点。", "相关推荐",
    "上一篇：护理部年度工作总结", "下一篇：医院感染管理工作计划", "阅读次数：1234", "责任编辑：王某",
    "分享到：微信 微博 QQ空间", "当前位置：首页 > 范文大全", "本文链接：https://www.example.cn/a/123.html",
]


def test_template_site_lines_are_dropped_and_the_authors_text_kept():
    body = ["一、加强医疗质量管理", "全年门诊人次15258，同比增长12%，来源于医保的收入占六成。",
            "资金使用情况详见附表，相关推荐意见已报院办。"]
    kept = [p.text for p in clean("\n".join(GENRE_FURNITURE[:6] + body + GENRE_FURNITURE[6:]) + "\n")]
    assert kept == body


def test_no_seed_chunk_is_titled_by_a_placeholder():
    root = Path(__file__).parent.parent / "seeds"
    chunks = [c for path in discover(root) for c in chunk_document(load(path, root))]
    assert len(chunks) == 187
    assert not [c.section for c in chunks if any(PLACEHOLDER.search(part) for part in (c.title, *c.section[:1]))]
    titles = {c.section[0] for c in chunks if c.doc.startswith("003")}
    assert "时间□20xx年x月x日" not in titles and "医院工作总结篇三" in titles


# ---------------------------------------------------------------- found and cited


QUESTIONS = {
    "中药熏蒸做了多少人次？": "全年开展中药熏蒸3412人次",
    "住院患者跌倒发生率是多少": "住院患者跌倒发生率降为0.3",
    "针灸门诊的门诊人次同比增长多少？": "科室：针灸门诊；门诊人次：8960；同比：+9%",
}


@pytest.fixture(scope="module")
def formats_index(made, tmp_path_factory, model_dir, embedder):
    corpus = tmp_path_factory.mktemp("formats-corpus")
    for kind in ("docx", "pdf", "doc", "wps", "scan.pdf", "scan.png"):
        if kind in made and (ocr.available() or not kind.startswith("scan")):
            shutil.copyfile(made[kind], corpus / f"康复科总结.{kind}")
    index = tmp_path_factory.mktemp("formats-index")
    report = build(corpus, index, model_dir, embedder=embedder)
    return Searcher(Settings(seeds=corpus, index=index, model=model_dir), embedder=embedder), report


def test_each_format_is_found_and_every_citation_verifies(formats_index):
    searcher, report = formats_index
    assert not report.skipped
    for name in {c.doc for c in searcher.generation.chunks}:
        document = load(searcher.settings.seeds / name, searcher.settings.seeds)
        for question, evidence in QUESTIONS.items():
            if "scan" in name and "科室：" in evidence:
                continue  # the scanned pages carry the text, not the table
            hits = searcher.search(question, 5, documents=[name]).hits
            assert any(evidence in hit.text for hit in hits), (name, question)
            for hit in hits:  # the citation is the text: offsets, lines and pages agree with the file
                assert document.clean_slice(hit.start, hit.end) == hit.text
                assert (hit.line_start, hit.line_end) == (document.line_of(hit.start), document.line_of(hit.end - 1))
                if name.endswith("总结.pdf"):
                    page = 2 if document.text.index(SECOND_PAGE_FROM) <= hit.start else 1
                    assert hit.page_start == page and hit.pages.startswith(f"第{page}")
                elif "scan" in name:
                    assert hit.page_start == document.page_of(hit.start) >= 1
                else:
                    assert hit.page_start == 0 and hit.pages == ""


@needs_office
def test_the_build_report_says_how_each_file_was_read(formats_index):
    _, report = formats_index
    assert report.readings["康复科总结.pdf"] == {"converter": "pdfium", "pages": 2, "ocr_pages": 0, "tables": 1}
    assert report.readings["康复科总结.wps"]["converter"] == "libreoffice"
    assert report.readings["康复科总结.docx"] == {"converter": "python-docx", "pages": 0, "ocr_pages": 0, "tables": 1}


@needs_office
def test_the_admin_status_says_how_each_file_was_read(formats_index):
    from app.admin import index_status
    from app.render import render_status

    searcher, _ = formats_index
    shown = render_status(index_status(searcher.settings))
    assert "康复科总结\\.pdf：PDF 文字层（pdfium），2 页，表格 1 个" in shown
    assert "康复科总结\\.wps：经 LibreOffice 转换，表格 1 个" in shown


# ---------------------------------------------------------------- saved web pages


WEB = Path(__file__).parent / "data" / "web"


@pytest.mark.parametrize("page", sorted(p.name for p in WEB.glob("*.*htm*")))
def test_saved_pages_give_their_main_text_without_the_site(page):
    """Pages written for this test (tests/data/web/README.md): GBK declared as gb2312, a nested
    layout table, <br> paragraphs, scripts, an MHTML archive; each with the text it must give
    and the site furniture it must not."""
    stem = page.split(".")[0]
    document = load(WEB / page, WEB)
    text = "\n".join(p.text for p in document.paragraphs)
    flat = compact(text)
    expected = [line for line in (WEB / f"{stem}.expected.txt").read_text("utf-8").splitlines() if line.strip()]
    for line in expected:
        if " | " in line:  # a table row: cells after their column names
            continue
        assert compact(line) in flat, line
    for line in (WEB / f"{stem}.boilerplate.txt").read_text("utf-8").splitlines():
        assert not line.strip() or compact(line) not in flat, line
    assert document.extracted.converter == "readability" and "<script" not in text and "document.write" not in text


def test_a_data_table_on_a_page_keeps_its_header_row_by_row():
    document = load(WEB / "county_hospital_2024_summary.html", WEB)
    lines = [p.text for p in document.paragraphs]
    assert "科室：内科；门诊人次：86420；同比：+9.1%" in lines and document.extracted.tables == 1


def test_a_gbk_page_declared_gb2312_keeps_gbk_only_characters():
    document = load(WEB / "nursing_plan_2025_gbk.html", WEB)
    assert "刘堃" in document.text and "\ufffd" not in document.text



# ---------------------------------------------------------------- scans


@needs_ocr
def test_a_scanned_pdf_is_read_by_ocr_page_by_page(made):
    extracted = read(made["scan.pdf"])
    assert extracted.converter == "pdfium+rapidocr" and len(extracted.pages) == 2
    assert all(c is not None and c > 0.9 for c in extracted.page_confidence)
    texts = [text for _, text in scan_pages(SOURCE)]
    assert character_error_rate("".join(texts), extracted.text) < 0.03
    assert "全年开展中药熏蒸3412人次" in extracted.text  # wrapped lines joined again by their geometry
    second = extracted.pages[1]
    assert compact(texts[1])[:12] in compact(extracted.text[second:second + 40])
    summary = extracted.summary()
    assert summary["ocr_pages"] == 2 and summary["ocr_confidence"] > 0.9


@needs_ocr
def test_an_image_bomb_is_refused_before_it_is_decoded(tmp_path):
    from PIL import Image

    bomb = tmp_path / "scan.png"
    Image.new("1", (20000, 20000), 1).save(bomb)  # 400 Mpx in a few hundred kB
    assert bomb.stat().st_size < 2_000_000
    with pytest.raises(SkippedFile, match="疑似图片炸弹"):
        read(bomb)
