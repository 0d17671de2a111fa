"""Scanned pages saved as images (.png, .jpg, .jpeg, .tif, .tiff, .bmp): one page each (a
multi-page TIFF, one per frame), read by OCR (app/ocr.py)."""

from __future__ import annotations

import io

from .common import Extracted, SkippedFile
from .pdf import MAX_PAGES, Line, Page, assemble

MAX_PIXELS = 60_000_000  # an A3 page at 600 dpi is 70 MB of pixels inflated; a "bomb" is far larger


def read_image(raw: bytes, name: str, recognise_pages) -> Extracted:
    """The text of a scanned page image; `recognise_pages` is app.ocr.recognise_pages (None: no OCR)."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    if recognise_pages is None:
        raise SkippedFile(name, "图片需要 OCR 识别，但未安装 OCR 组件（rapidocr）")
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        picture = Image.open(io.BytesIO(raw))
        frames = [frame.copy() for _, frame in zip(range(MAX_PAGES), ImageSequence.Iterator(picture))]
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as error:
        reason = "图片过大（像素过多），疑似图片炸弹" if isinstance(error, Image.DecompressionBombError) \
            else "不是有效的图片（文件已损坏或格式不受支持）"
        raise SkippedFile(name, reason) from error
    pages = []
    for result in recognise_pages(frame.convert("RGB") for frame in frames):
        height = float(result.height)
        lines = [Line(line.text, line.box[0], line.box[2], height - line.box[3], height - line.box[1], line.confidence)
                 for line in result.lines if line.text.strip()]
        pages.append(Page(lines, float(result.width), height, result.confidence))
    text, starts, uncertain = assemble(pages)
    if not text.strip():
        raise SkippedFile(name, "图片中没有识别出文字")
    return Extracted(text, "image", "rapidocr", join_wraps=False, pages=tuple(starts),
                     page_confidence=tuple(p.confidence for p in pages), uncertain=tuple(uncertain))
