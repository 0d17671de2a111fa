"""Formats: each kind of file a summary arrives as, read into the text that citations point into.

    .txt .md              text.py    encoding detected (UTF-8, UTF-16, GB18030, Big5), bytes as they are
    .docx                 office.py  python-docx, paragraphs and tables in body order
    .doc .wps .odt .rtf   office.py  LibreOffice headless to .docx, then as a .docx
    .pdf                  pdf.py     PDFium's text layer, pages without one by OCR
    .png .jpg .tif …      image.py   OCR (app/ocr.py: RapidOCR, models inside the wheel)
    .html .htm .mhtml     web.py     main text extracted from the saved page

A PDF or an image is read in a child process with limits on memory and time, so a malformed
or hostile file (a PDF bomb, an image of a billion pixels) is refused with a reason and never
stops the build or the server. What is slow to read (OCR, conversions) is read once per file
content: the result is kept in the index's cache folder (`cache`), keyed by the file's hash.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from .common import MAX_DOCUMENT_BYTES, Extracted, SkippedFile

TEXT_SUFFIXES = (".txt", ".md")
CONVERTED_SUFFIXES = (".doc", ".wps", ".odt", ".rtf")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
WEB_SUFFIXES = (".html", ".htm", ".mhtml", ".mht")
SUPPORTED_SUFFIXES = (*TEXT_SUFFIXES, ".docx", *CONVERTED_SUFFIXES, ".pdf", *IMAGE_SUFFIXES, *WEB_SUFFIXES)
#: Formats read in a child process (C libraries parsing untrusted structure) and cached.
ISOLATED = (".pdf", *IMAGE_SUFFIXES)
CACHED = (*ISOLATED, *CONVERTED_SUFFIXES)
READER_VERSION = 1  # bump when a reader's output changes: cached extractions are then read again
CHILD_MEMORY = 6 * 1024 ** 3  # address space of the child: OCR needs ~1 GB, PDFium far less
CHILD_SECONDS = 900  # 300 scanned pages at the bench's ~1 page/s fit, a spinning parser does not

log = logging.getLogger(__name__)

__all__ = ["SUPPORTED_SUFFIXES", "MAX_DOCUMENT_BYTES", "Extracted", "SkippedFile", "extract", "read"]


def read(raw: bytes, suffix: str, name: str) -> Extracted:
    """Read a file's bytes in this process (the child's job for PDFs and images)."""
    if suffix in TEXT_SUFFIXES:
        from .text import decode

        text, encoding = decode(raw, name)
        return Extracted(text, encoding, "text")
    if suffix == ".docx":
        from .office import read_docx

        return read_docx(raw, name)
    if suffix in CONVERTED_SUFFIXES:
        from .office import read_converted

        return read_converted(raw, name, suffix)
    if suffix in WEB_SUFFIXES:
        from .web import read_web

        return read_web(raw, name, suffix)
    recognise_pages = _recogniser()
    if suffix == ".pdf":
        from .pdf import read_pdf

        return read_pdf(raw, name, recognise_pages)
    if suffix in IMAGE_SUFFIXES:
        from .image import read_image

        return read_image(raw, name, recognise_pages)
    raise SkippedFile(name, f"不支持的文件类型 {suffix or '（无扩展名）'}")


def _recogniser():
    from .. import ocr

    return ocr.recognise_pages if ocr.available() else None


def extract(raw: bytes, suffix: str, name: str, cache: Path | None = None) -> Extracted:
    """The text of a file: read in a child process where the format calls for it, and kept in
    `cache` (a folder; None: not kept) where reading it is slow."""
    suffix = suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise SkippedFile(name, f"不支持的文件类型 {suffix or '（无扩展名）'}")
    stored = cache / f"{hashlib.sha256(raw).hexdigest()}{suffix}-{_reader_identity(suffix)}.json" \
        if cache is not None and suffix in CACHED else None
    if stored is not None and stored.is_file():
        try:
            return _from_json(json.loads(stored.read_text("utf-8")), name)
        except (OSError, ValueError, TypeError, KeyError):
            pass  # unreadable: read the file again
    extracted = _read_isolated(raw, suffix, name) if suffix in ISOLATED else read(raw, suffix, name)
    if stored is not None:
        try:
            stored.parent.mkdir(parents=True, exist_ok=True)
            work = stored.with_suffix(f".{os.getpid()}.tmp")
            work.write_text(json.dumps(_to_json(extracted), ensure_ascii=False), "utf-8")
            os.replace(work, stored)
        except OSError:
            pass  # a read-only cache: read it again next time
    return extracted


def _reader_identity(suffix: str) -> str:
    """What a cached reading depends on besides the file: the readers' version and, for what
    OCR may read, the OCR engine and its settings (another engine reads another text)."""
    if suffix not in ISOLATED:
        return f"v{READER_VERSION}"
    from .. import ocr

    return f"v{READER_VERSION}-{ocr.identity()}"


def _to_json(extracted: Extracted) -> dict:
    return {"extracted": dataclasses.asdict(extracted)}


def _from_json(data: dict, name: str) -> Extracted:
    if "skipped" in data:
        raise SkippedFile(name, data["skipped"])
    fields = data["extracted"]
    for key in ("pages", "page_confidence", "notes"):
        fields[key] = tuple(fields[key])
    fields["uncertain"] = tuple(tuple(span) for span in fields["uncertain"])
    return Extracted(**fields)


def _read_isolated(raw: bytes, suffix: str, name: str) -> Extracted:
    """`read` in a child process with bounded memory and time; a child that dies is a
    refused file, not a crash."""
    command = [sys.executable, "-m", "app.formats.child", suffix, name, str(CHILD_MEMORY)]
    root = str(Path(__file__).resolve().parents[2])
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
                       OMP_NUM_THREADS="2")
    try:
        done = subprocess.run(command, input=raw, capture_output=True, timeout=CHILD_SECONDS, env=environment, check=False)
    except subprocess.TimeoutExpired as error:
        raise SkippedFile(name, f"读取超时（超过 {CHILD_SECONDS} 秒），文件可能已损坏或是恶意构造的") from error
    if done.returncode != 0:  # the reason a user sees is the same; the log keeps the child's last words
        log.warning("reading %s failed (exit %s): %s", name, done.returncode,
                    done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or "")
        raise SkippedFile(name, "读取时超出内存限制或出错（文件可能已损坏或是恶意构造的），已跳过")
    return _from_json(json.loads(done.stdout), name)


def page_picture(raw: bytes, suffix: str, page: int, width: int = 760) -> bytes | None:
    """Page `page` (1-based) of a PDF or a scan as a JPEG `width` pixels wide, for the source
    viewer; None for formats without page images or a page that is not there."""
    import io

    suffix = suffix.lower()
    try:
        if suffix == ".pdf":
            import pypdfium2 as pdfium

            with pdfium.PdfDocument(raw) as document:
                if not 1 <= page <= len(document):
                    return None
                sheet = document[page - 1]
                picture = sheet.render(scale=width / sheet.get_width()).to_pil()
        elif suffix in IMAGE_SUFFIXES:
            from PIL import Image, ImageSequence

            from .image import MAX_PIXELS

            Image.MAX_IMAGE_PIXELS = MAX_PIXELS
            frames = ImageSequence.Iterator(Image.open(io.BytesIO(raw)))
            picture = next((frame.copy() for number, frame in enumerate(frames, 1) if number == page), None)
            if picture is None:
                return None
            picture.thumbnail((width, width * 4))
        else:
            return None
    except Exception:  # noqa: BLE001 - the viewer shows the text without the picture, whatever failed
        return None
    out = io.BytesIO()
    picture.convert("RGB").save(out, "JPEG", quality=80)
    return out.getvalue()
