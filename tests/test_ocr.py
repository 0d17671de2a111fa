"""OCR stage (app/ocr.py): two paragraphs of a real seed, typeset with Noto Sans CJK, are read back."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from app import ocr
from app.evaluate import character_error_rate
from app.formats.text import decode

from .conftest import SEEDS

FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
FIRST = "在开展工作之前做好个人工作计划"  # seeds/000: the work-plan paragraph, then the one on political conduct
SECOND = "能够认真贯彻党的基本路线方针政策"
EXPECTED = "保质保量的完成工作，工作效率高"

needs_ocr = pytest.mark.skipif(not ocr.available() or not FONT.exists(), reason="rapidocr or Noto Sans CJK is not installed")


def seed_paragraphs() -> list[str]:
    for path in sorted(SEEDS.glob("*.txt")):
        lines = [line.strip() for line in decode(path.read_bytes(), path.name)[0].splitlines()]
        found = [next((line for line in lines if line.startswith(start)), None) for start in (FIRST, SECOND)]
        if all(found):
            return found
    raise AssertionError("the two paragraphs are not in seeds/")


def render(paragraphs: list[str], width: int = 1100, size: int = 32) -> tuple[Image.Image, list[str]]:
    font = ImageFont.truetype(str(FONT), size, index=2)  # the Simplified Chinese face (0 is Japanese: 门 reads as 内)
    lines = []
    for paragraph in paragraphs:
        current = ""
        for char in paragraph:
            if font.getlength(current + char) > width - 2 * 60:
                lines.append(current)
                current = ""
            current += char
        lines.append(current)
    image = Image.new("RGB", (width, 120 + len(lines) * int(size * 1.8)), "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((60, 60 + i * int(size * 1.8)), line, fill="black", font=font)
    return image, lines


@needs_ocr
def test_two_seed_paragraphs_are_read_back():
    paragraphs = seed_paragraphs()
    assert EXPECTED in paragraphs[0]
    image, lines = render(paragraphs)
    page = ocr.recognise(image)
    text = "".join(page.text.split())
    assert EXPECTED in text
    assert character_error_rate("".join(lines), page.text) < 0.05
    assert page.confidence > 0.8
    assert (page.width, page.height) == image.size
    assert len(page.lines) == len(lines)  # one OcrLine per visual row, in reading order
    x0, y0, x1, y1 = page.lines[0].box
    assert 0 <= x0 < x1 <= image.width and 0 <= y0 < y1 < image.height * 0.2
    assert all(a.box[1] < b.box[1] for a, b in zip(page.lines, page.lines[1:]))


@needs_ocr
def test_concurrent_calls_share_one_engine():
    image, _ = render(seed_paragraphs()[1:])
    with ThreadPoolExecutor(2) as pool:
        pages = list(pool.map(ocr.recognise, [image, image.convert("L")]))
    assert pages[0].text == pages[1].text and SECOND in "".join(pages[0].text.split())


@needs_ocr
def test_pages_read_side_by_side_come_back_in_order_as_read_one_at_a_time():
    first, second = seed_paragraphs()
    pages = [render([first])[0], render([second])[0], Image.new("RGB", (800, 600), "white"), render([second])[0]]
    drawn = []

    def lazily():  # a scanned PDF's pages are rendered only as OCR takes them
        for image in pages:
            drawn.append(image)
            yield image

    results = ocr.recognise_pages(lazily())
    assert EXPECTED in "".join(next(results).text.split())
    assert len(drawn) <= ocr.WORKERS + 1  # the rest not drawn yet
    rest = list(results)
    assert [page.text for page in rest] == [ocr.recognise(image).text for image in pages[1:]]
    assert rest[1].lines == () and SECOND in "".join(rest[2].text.split())
    assert [page.text for page in ocr.recognise_pages([pages[0]])] == [ocr.recognise(pages[0]).text]
    assert list(ocr.recognise_pages([])) == []


@needs_ocr
def test_big_grey_scan_keeps_original_coordinates():
    image, lines = render(seed_paragraphs()[:1], width=3000, size=88)  # longer side over ocr.MAX_SIDE
    page = ocr.recognise(image.convert("L"))
    assert EXPECTED in "".join(page.text.split())
    assert page.lines[0].box[2] > ocr.MAX_SIDE * 0.9  # boxes are in the 3000 px wide original
    assert page.lines[0].box[0] == pytest.approx(60, abs=20)


@needs_ocr
def test_blank_page_has_no_lines():
    page = ocr.recognise(Image.new("RGB", (800, 600), "white"))
    assert page.lines == () and page.confidence == 0.0 and page.text == ""
    assert (page.width, page.height) == (800, 600)


def test_missing_engine_is_reported(monkeypatch):
    monkeypatch.setattr(ocr, "_engine", None)
    monkeypatch.setattr(ocr, "available", lambda: False)
    with pytest.raises(ocr.OcrUnavailable):
        ocr.recognise(Image.new("RGB", (10, 10), "white"))


def test_reading_order_merges_pieces_of_a_skewed_row():
    line = ocr.OcrLine
    pieces = [line("第二行", 0.9, (100, 160, 400, 200)), line("右半", 0.5, (520, 14, 800, 54)),
              line("第一行左半", 1.0, (100, 10, 500, 50)), line("end", 0.8, (420, 158, 500, 196))]
    rows = ocr.reading_order(pieces)
    assert [r.text for r in rows] == ["第一行左半右半", "第二行 end"]
    assert rows[0].box == (100, 10, 800, 54)
    assert rows[0].confidence == pytest.approx((5 * 1.0 + 2 * 0.5) / 7)
    page = ocr.OcrPage(rows, 900, 300)
    assert page.text == "第一行左半右半\n第二行 end"
    assert page.confidence == pytest.approx((7 * rows[0].confidence + 7 * rows[1].confidence) / 14)
