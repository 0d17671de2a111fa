"""PDF: the text layer read with PDFium (pypdfium2), page by page, in reading order; pages
without one (scans) rendered and read by OCR (app/ocr.py).

What a printed page adds and a summary does not have is taken out: running heads and footers
(a line at the top or bottom that recurs on many pages, numbers aside) and page numbers
("第 3 页", "- 3 -", "3 / 12"). Lines hard-wrapped by the layout are joined again by geometry: a
line that runs to the right margin goes on in the next one unless that opens an outline item or
is indented. The text keeps where each page begins, so a citation carries its pages.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from ..outline import ARTICLE_HEADING, OUTLINE_MARKER
from .common import Extracted, SkippedFile
from .office import table_lines

MAX_PAGES = 300  # a summary is rarely over 50; a 2,000-page export is read up to here, with a note
SCAN_BELOW_CHARS = 10  # a page whose text layer has fewer characters than this is read by OCR
RENDER_SCALE = 200 / 72  # 200 dpi: enough for PP-OCR on body text, a quarter of 400 dpi's pixels
LOW_CONFIDENCE = 0.8  # OCR lines below this are marked as uncertain in the viewer
EDGE = 0.08  # share of the page height at top and bottom where running heads and footers live
PAGE_NUMBER = re.compile(r"^[-—–\s]*(第\s*#\s*页(\s*[,，/]?\s*共\s*#\s*页)?|#(\s*/\s*#)?|page\s*#(\s*of\s*#)?)[-—–\s]*$",
                         re.IGNORECASE)


@dataclass
class Line:
    """One line of a page as laid out: its text and box (PDF points, y upwards)."""

    text: str
    x0: float
    x1: float
    bottom: float
    top: float
    confidence: float | None = None  # OCR lines only
    whole: bool = False  # a table row: never joined with its neighbours

    @property
    def char_width(self) -> float:
        return (self.x1 - self.x0) / max(len(self.text), 1)


@dataclass
class Page:
    lines: list[Line]
    width: float
    height: float
    confidence: float | None = None  # mean OCR confidence; None for a text layer


def _characters(page) -> list[tuple[str, float, float, float, float]]:
    """The page's visible characters with their boxes (left, right, bottom, top), in the order
    PDFium reads them; the spaces and line breaks it generates are left out (gaps are measured)."""
    textpage = page.get_textpage()
    count = textpage.count_chars()
    text = textpage.get_text_range(0, count) if count else ""
    characters = []
    if len(text) == count:  # otherwise (ligatures expanded) the indices disagree: no text is safer
        for index, char in enumerate(text):
            if not char.isspace():
                left, bottom, right, top = textpage.get_charbox(index)
                characters.append((char, left, right, bottom, top))
    textpage.close()
    return characters


def _text_lines(page) -> list[Line]:
    """The text layer's lines, top to bottom, each in x order: a run in another font (the curly
    quotes of a Chinese line, say) is often drawn after the line and must go back in its place.
    A gap wider than two characters inside a line (table cells) becomes a tab."""
    bands: list[list] = []  # [bottom, top, characters]
    for char in _characters(page):
        middle = (char[3] + char[4]) / 2
        for band in reversed(bands[-4:]):
            if band[0] <= middle <= band[1]:
                band[2].append(char)
                if char[4] - char[3] > (band[1] - band[0]) * 0.6:  # a full-height glyph widens the band
                    band[0], band[1] = min(band[0], char[3]), max(band[1], char[4])
                break
        else:
            bands.append([char[3], char[4], [char]])
    lines = []
    for bottom, top, chars in sorted(bands, key=lambda band: -band[1]):
        chars.sort(key=lambda c: c[1])
        height = max(top - bottom, 1.0)
        text = chars[0][0]
        for before, char in zip(chars, chars[1:]):
            gap = char[1] - before[2]
            if gap > 2 * height:
                text += "\t"
            elif gap > 0.25 * height and before[0].isascii() and char[0].isascii() and (before[0] + char[0]).isalnum():
                text += " "
            text += char[0]
        lines.append(Line(text, chars[0][1], max(c[2] for c in chars), bottom, top))
    return lines


def _tables(lines: list[Line]) -> tuple[list[Line], int]:
    """Runs of two or more lines split by wide gaps into the same number of cells are a table:
    each row below the first becomes one line that names its columns (office.table_lines)."""
    out, tables, index = [], 0, 0
    while index < len(lines):
        cells = lines[index].text.count("\t")
        end = index
        while cells and end + 1 < len(lines) and lines[end + 1].text.count("\t") == cells:
            end += 1
        if end == index:
            out.append(lines[index])
            index += 1
            continue
        run = lines[index:end + 1]
        rows = table_lines([line.text.split("\t") for line in run])
        out.extend(Line(text, run[0].x0, run[0].x1, run[0].bottom, run[0].top, whole=True) for text in rows)
        tables += 1
        index = end + 1
    return out, tables


def _render(document, number: int):
    """Page `number` as an image at 200 dpi, for OCR."""
    page = document[number]
    try:
        return page.render(scale=RENDER_SCALE).to_pil()
    finally:
        page.close()


def _ocr_lines(result, height: float) -> list[Line]:
    """A scanned page's OCR lines with their boxes back in PDF points (`height`: the page's)."""
    return [Line(line.text, line.box[0] / RENDER_SCALE, line.box[2] / RENDER_SCALE,
                 height - line.box[3] / RENDER_SCALE, height - line.box[1] / RENDER_SCALE, line.confidence)
            for line in result.lines if line.text.strip()]


def _furniture(pages: list[Page]) -> set[tuple[int, int]]:
    """(page, line) positions of page numbers and running heads and footers."""
    def key(line: Line) -> str:
        return re.sub(r"\d+", "#", re.sub(r"\s+", "", line.text))

    edges = []
    for number, page in enumerate(pages):
        for position, line in enumerate(page.lines):
            if line.top >= page.height * (1 - EDGE) or line.bottom <= page.height * EDGE:
                edges.append((number, position, key(line)))
    recurring = Counter(k for _, k in {(n, k) for n, _, k in edges})  # pages each key is on
    enough = max(2, len(pages) // 2)
    return {(n, p) for n, p, k in edges if PAGE_NUMBER.match(k) or (len(pages) > 1 and recurring[k] >= enough)}


def _continues(line: Line, following: Line, right: float, left: float) -> bool:
    """Whether `following` goes on with the paragraph `line` belongs to (a layout wrap)."""
    width = max(line.char_width, following.char_width, 1.0)
    if line.whole or following.whole or OUTLINE_MARKER.match(following.text) or ARTICLE_HEADING.search(line.text):
        return False
    return line.x1 >= right - 1.5 * width and following.x0 <= left + 0.8 * width


def _separator(previous: Line | None, line: Line, right: float, left: float) -> str:
    """What goes between two consecutive body lines: nothing or a space (a layout wrap), or a
    line break (a new paragraph)."""
    if previous is None:
        return ""
    if not _continues(previous, line, right, left):
        return "\n"
    latin = previous.text[-1:].isascii() and previous.text[-1:].isalpha() and line.text[:1].isascii() and line.text[:1].isalpha()
    return " " if latin else ""


def assemble(pages: list[Page]) -> tuple[str, list[int], list[tuple[int, int]]]:
    """The pages' body lines as paragraphs: the text, where each page begins in it, and the
    spans of OCR lines read with low confidence."""
    furniture = _furniture(pages)
    parts, length, starts, uncertain = [], 0, [], []
    previous, margins = None, (0.0, 0.0)  # the last line, and its page's right and left margins
    for number, page in enumerate(pages):
        body = [line for position, line in enumerate(page.lines) if (number, position) not in furniture]
        starts.append(length)
        for position, line in enumerate(body):
            separator = _separator(previous, line, *margins)
            begins = length + len(separator)
            if position == 0:
                starts[-1] = begins
            if line.confidence is not None and line.confidence < LOW_CONFIDENCE:
                uncertain.append((begins, begins + len(line.text)))
            parts += [separator, line.text]
            length = begins + len(line.text)
            previous = line
            if position == 0:
                margins = (max(b.x1 for b in body), min(b.x0 for b in body))
    return "".join(parts) + "\n", starts, uncertain


def read_pdf(raw: bytes, name: str, recognise_pages=None) -> Extracted:
    """A PDF's text; `recognise_pages` (app.ocr.recognise_pages, or None when OCR is not
    installed) reads the pages that have no text layer, side by side."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(raw)
    except pdfium.PdfiumError as error:
        if "password" in str(error).lower():
            raise SkippedFile(name, "PDF 已加密（需要密码），无法读取；请上传未加密的版本") from error
        raise SkippedFile(name, "不是有效的 PDF（文件已损坏或不完整）") from error
    notes, pages, scans = [], [], []
    with document:
        total = len(document)
        if total > MAX_PAGES:
            notes.append(f"共 {total} 页，只索引了前 {MAX_PAGES} 页")
        for number in range(min(total, MAX_PAGES)):
            page = document[number]
            lines = _text_lines(page)
            pages.append(Page(lines, page.get_width(), page.get_height(), None))
            page.close()
            if sum(len(line.text) for line in lines) < SCAN_BELOW_CHARS:
                if recognise_pages is None:
                    notes.append(f"第 {number + 1} 页没有文字层（扫描件），未安装 OCR，未能识别")
                else:
                    scans.append(number)
        if scans:  # rendered one by one as OCR takes them (pdfium stays on this thread)
            results = recognise_pages(_render(document, number) for number in scans)
            for number, result in zip(scans, results):
                page = pages[number]
                page.lines, page.confidence = _ocr_lines(result, page.height), result.confidence
    tables = 0
    for page in pages:
        page.lines, found = _tables(page.lines)
        tables += found
    text, starts, uncertain = assemble(pages)
    if not text.strip():
        raise SkippedFile(name, "PDF 中没有可提取的文字" + ("（扫描件，且未安装 OCR）" if recognise_pages is None else ""))
    converter = "pdfium+rapidocr" if any(p.confidence is not None for p in pages) else "pdfium"
    return Extracted(text, "pdf", converter, join_wraps=False, pages=tuple(starts),
                     page_confidence=tuple(p.confidence for p in pages), uncertain=tuple(uncertain),
                     tables=tables, notes=tuple(notes))
