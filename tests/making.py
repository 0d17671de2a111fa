"""Unseen documents made by real tools, for the format tests and bench/formats_bench.py: the
rehabilitation summary of tests/data/formats/rehabilitation.txt written by python-docx as an
office would lay it out (running head, page-number footer, a page break, a table), converted by
LibreOffice, and typeset onto page images with Noto Sans CJK as a scanner would deliver it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from app.formats.office import libreoffice
from app.outline import OUTLINE_MARKER

DATA = Path(__file__).parent / "data" / "formats"
SOURCE = (DATA / "rehabilitation.txt").read_text("utf-8").splitlines()
TITLE = SOURCE[0]
RUNNING_HEAD = "某某县中医院文件（内部资料）"
TABLE = [["科室", "门诊人次", "同比"], ["康复医学科", "15258", "+12%"], ["针灸门诊", "8960", "+9%"], ["儿童康复", "312", "新开"]]
SECOND_PAGE_FROM = "三、质量与安全"
FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SIMPLIFIED = 2  # the collection's Simplified Chinese face (0 is Japanese: its 门 reads as 内)
PAGE = (1654, 2339)  # A4 at 200 dpi
FONT_PX, LINE_PITCH, MARGIN_X, MARGIN_Y, PER_LINE = 40, 72, 190, 220, 32


def _page_field(paragraph) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run, text = OxmlElement("w:r"), OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def write_word(path: Path, title: str, lines: list[str], head: str = RUNNING_HEAD, break_before: str = "") -> None:
    """A Word file laid out as an office would: a running head, a page-number footer, the title
    as a heading, a paragraph a line, a page break before `break_before`, and every run of lines
    written "cell | cell | cell" as a table (its first row the header)."""
    from docx import Document as WordDocument

    word = WordDocument()
    section = word.sections[0]
    section.header.paragraphs[0].text = head
    footer = section.footer.paragraphs[0]
    footer.text = "第 "
    _page_field(footer)
    footer.add_run(" 页")
    word.add_heading(title, level=1)
    table = None
    for line in lines:
        if " | " in line:
            cells = line.split(" | ")
            table = table or word.add_table(rows=0, cols=len(cells))
            for cell, value in zip(table.add_row().cells, cells):
                cell.text = value
            continue
        table = None
        if line == break_before:
            word.add_page_break()
        word.add_paragraph(line)
    word.save(path)


def write_report(path: Path) -> None:
    """The unseen rehabilitation summary as a Word file."""
    closing = "以上门诊数据由医院信息科统计，截至2024年12月31日。"
    write_word(path, TITLE, [*SOURCE[1:], *(" | ".join(row) for row in TABLE), closing], break_before=SECOND_PAGE_FROM)


def convert(source: Path, target: str, folder: Path, options: str = "") -> Path:
    """LibreOffice headless, as an administrator would run it."""
    profile = folder / "profile"
    subprocess.run([libreoffice(), "--headless", f"-env:UserInstallation=file://{profile}", "--convert-to",
                    target + options, "--outdir", str(folder), str(source)], check=True, capture_output=True, timeout=180)
    return folder / f"{source.stem}.{target.split(':')[0]}"




def scan_pages(lines: list[str]) -> list[tuple]:
    """`lines` typeset on A4 page images at 200 dpi, black on white, each paragraph filled to a
    measure of 32 hanzi with a first-line indent of two, as a scanner returns a printed summary:
    (image, the text on it) for each page."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(FONT), FONT_PX, index=SIMPLIFIED)
    rows = []
    for line in lines:  # filled to the measure as a word processor does: digits are narrower than hanzi
        text, row = line if OUTLINE_MARKER.match(line) or len(line) <= 20 else "\u3000\u3000" + line, ""
        for char in text:
            if font.getlength(row + char) > PER_LINE * FONT_PX:
                rows.append(row)
                row = ""
            row += char
        rows.append(row)
    per_page = (PAGE[1] - 2 * MARGIN_Y) // LINE_PITCH
    pages = []
    for first in range(0, len(rows), per_page):
        page = Image.new("L", PAGE, 255)
        draw = ImageDraw.Draw(page)
        for number, row in enumerate(rows[first:first + per_page]):
            draw.text((MARGIN_X, MARGIN_Y + number * LINE_PITCH), row, font=font, fill=0)
        pages.append((page, "".join(rows[first:first + per_page]).replace("\u3000", "")))
    return pages
