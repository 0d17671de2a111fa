"""What every reader returns (`Extracted`) and how it refuses a file (`SkippedFile`)."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Larger files are not work summaries (logs, exports, archives); the upload limit is the same.
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


class SkippedFile(Exception):
    """A file in seeds/ that cannot be indexed; `reason` says why, in Chinese."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class Extracted:
    """A file read as text: citations point into `text`.

    `pages` holds the offset in `text` where each page begins (empty for formats without
    pages); `uncertain` the spans of text whose OCR confidence is low, which the viewer marks;
    `page_confidence` the mean OCR confidence of each page (None for a page with a text layer).
    """

    text: str
    encoding: str  # a text file's codec, else the format ("docx", "pdf", …)
    converter: str  # what read it: "text", "python-docx", "pdfium", "pdfium+rapidocr", "libreoffice", …
    join_wraps: bool = True  # lines may be hard-wrapped mid-sentence (plain text), or are paragraphs
    pages: tuple[int, ...] = ()
    page_confidence: tuple[float | None, ...] = ()
    uncertain: tuple[tuple[int, int], ...] = ()
    tables: int = 0
    notes: tuple[str, ...] = field(default=())  # what a reader left out, in Chinese (pages over the cap, …)

    def page_of(self, offset: int) -> int:
        """1-based page of an offset of `text`; 0 for a format without pages."""
        if not self.pages:
            return 0
        import bisect

        return bisect.bisect_right(self.pages, offset)

    def summary(self) -> dict:
        """What the build report says about the file."""
        ocr = [c for c in self.page_confidence if c is not None]
        report = {"converter": self.converter, "pages": len(self.pages), "ocr_pages": len(ocr), "tables": self.tables}
        if ocr:
            report["ocr_confidence"] = round(sum(ocr) / len(ocr), 3)
        if self.notes:
            report["notes"] = list(self.notes)
        return report


def describe(reading: dict) -> str:
    """A build report's reading of a file, in Chinese: "PDF 文字层（pdfium），12 页，其中 OCR 3 页
    （平均置信度 95%），表格 2 个；共 2000 页，只索引了前 300 页"."""
    parts = [CONVERTERS.get(reading["converter"], reading["converter"])]
    if reading.get("pages"):
        parts.append(f"{reading['pages']} 页")
    if reading.get("ocr_pages"):
        parts.append(f"其中 OCR {reading['ocr_pages']} 页（平均置信度 {reading.get('ocr_confidence', 0):.0%}）")
    if reading.get("tables"):
        parts.append(f"表格 {reading['tables']} 个")
    return "，".join(parts) + "".join(f"；{note}" for note in reading.get("notes", ()))


CONVERTERS = {
    "python-docx": "Word 文档（python-docx）", "libreoffice": "经 LibreOffice 转换", "pdfium": "PDF 文字层（pdfium）",
    "pdfium+rapidocr": "PDF（pdfium 文字层 + RapidOCR 识别扫描页）", "rapidocr": "图片 OCR（RapidOCR）",
    "readability": "网页正文提取（readability）",
}
