"""Word documents: .docx read with python-docx, in body order (paragraphs and tables as the
author placed them); .doc, .wps (Kingsoft Writer, built on the Word 97 binary format), .odt and
.rtf converted to .docx by LibreOffice headless first.

Automatic numbering is written out (一、 （一） 1、 （1）) so the outline sees it, headings become
markdown `#` lines, and each table row becomes one line that keeps its header:
"科室：内科；门诊人次：15258；同比：+12%", so a question about a figure finds its row.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import replace
from pathlib import Path

from ..outline import OUTLINE_MARKER, numeral
from .common import Extracted, SkippedFile

MAX_DOCX_INFLATED = 200 * 1024 * 1024  # a .docx's parts, inflated: summaries with images stay far below
MAX_DOCX_ENTRIES = 5000
#: LibreOffice gets this long per file; a file that takes longer is refused, the build goes on.
CONVERT_SECONDS = 180
#: What LibreOffice converts, and the suffix the copy it reads is given (a .wps is a Word 97 file).
CONVERTED = {".doc": ".doc", ".wps": ".doc", ".odt": ".odt", ".rtf": ".rtf"}
NOT_WORD = "不是有效的 Word 文档（文件已损坏或不是 .docx）"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the compound file of Word 97 and Kingsoft WPS
#: How each converted format begins; anything else would be imported by LibreOffice as plain text.
MAGIC = {".doc": (OLE, b"{\\rtf"), ".wps": (OLE, b"{\\rtf"), ".odt": (b"PK\x03\x04",), ".rtf": (b"{\\rtf",)}


def _list_marker(level: int, number: int) -> str:
    """The marker Word's automatic numbering shows at a list level, in the house style."""
    return (f"{numeral(number)}、", f"（{numeral(number)}）", f"{number}、", f"（{number}）")[min(level, 3)]


def _numbering_of(paragraph):
    """Word numbering properties of a paragraph: its own, else its style's ("List Number")."""
    for properties in (paragraph._p.pPr, getattr(paragraph.style, "element", None)):
        ppr = properties if properties is None or properties.tag.endswith("}pPr") else properties.pPr
        if ppr is not None and ppr.numPr is not None and ppr.numPr.numId is not None:
            return ppr.numPr
    return None


def _check_inflation(raw: bytes, name: str) -> None:
    """Refuse a .docx whose parts would inflate beyond what a summary needs (a zip bomb: 1 MB
    that inflates to 1 GiB took the server from 1.0 to 3.1 GB), read from the zip directory
    before anything is decompressed. Python's zipfile never reads a member past its declared
    size, so a directory that lies only truncates."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as package:
            entries = package.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise SkippedFile(name, NOT_WORD) from error
    inflated = sum(entry.file_size for entry in entries)
    if len(entries) > MAX_DOCX_ENTRIES or inflated > MAX_DOCX_INFLATED:
        raise SkippedFile(name, f"Word 文档解压后过大（{len(entries)} 个部件，{inflated / 1048576:.0f} MB；"
                                f"上限 {MAX_DOCX_ENTRIES} 个、{MAX_DOCX_INFLATED // 1048576} MB），疑似压缩炸弹")


def table_lines(rows: list[list[str]]) -> list[str]:
    """One line per row below the header, each cell after its column's name; a table of one
    row (or with an empty header) lists its cells. Cells merged across columns count once."""
    rows = [[re.sub(r"\s+", " ", cell).strip() for cell in row] for row in rows]
    rows = [row for row in rows if any(row)]
    if not rows:
        return []
    header, body = rows[0], rows[1:]
    if not body or not all(header):
        return ["；".join(cell for cell in row if cell) for row in rows]
    lines = []
    for row in body:
        cells = [f"{name}：{cell}" for name, cell in zip(header, row) if cell and cell != name]
        lines.append("；".join(cells))
    return [line for line in lines if line]


def _table_rows(table) -> list[list[str]]:
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a cell merged across columns is returned once per column
                continue
            seen.add(id(cell._tc))
            cells.append(cell.text)
        rows.append(cells)
    return rows


def _unnumbered_levels(word) -> set[tuple[str, int]]:
    """(numId, level) pairs whose number format shows nothing ("none", bullets): LibreOffice
    attaches such outline numbering to every heading style, and it must not become 一、."""
    from docx.oxml.ns import qn

    try:
        numbering = word.part.numbering_part.element
    except (KeyError, NotImplementedError, AttributeError):
        return set()
    silent_levels = {}
    for abstract in numbering.iterchildren(qn("w:abstractNum")):
        for level in abstract.iterchildren(qn("w:lvl")):
            form = level.find(qn("w:numFmt"))
            if form is not None and form.get(qn("w:val")) in ("none", "bullet"):
                silent_levels.setdefault(abstract.get(qn("w:abstractNumId")), set()).add(int(level.get(qn("w:ilvl"), 0)))
    silent = set()
    for number in numbering.iterchildren(qn("w:num")):
        abstract = number.find(qn("w:abstractNumId"))
        if abstract is not None:
            silent |= {(number.get(qn("w:numId")), level) for level in silent_levels.get(abstract.get(qn("w:val")), ())}
    return silent


def _paragraph_line(paragraph, counters: dict, silent: set) -> str:
    text = paragraph.text.strip()
    if not text:
        return ""
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    heading = re.match(r"(?:Heading|标题)\s*(\d)", style)
    numbering = _numbering_of(paragraph)
    level = numbering.ilvl.val if numbering is not None and numbering.ilvl is not None else 0
    if numbering is not None and numbering.numId is not None and not OUTLINE_MARKER.match(text) \
            and (str(numbering.numId.val), level) not in silent:
        key = (numbering.numId.val, level)
        counters[key] = counters.get(key, 0) + 1
        for deeper in [k for k in counters if k[0] == key[0] and k[1] > level]:
            del counters[deeper]
        text = _list_marker(level, counters[key]) + text
    if heading:
        return "#" * int(heading.group(1)) + " " + text
    return "# " + text if style.lower() == "title" else text


def read_docx(raw: bytes, name: str, converter: str = "python-docx") -> Extracted:
    """A .docx as text: one paragraph a line, a blank line around each table."""
    from docx import Document as WordDocument
    from docx.table import Table

    _check_inflation(raw, name)
    try:
        word = WordDocument(io.BytesIO(raw))
        blocks, silent = list(word.iter_inner_content()), _unnumbered_levels(word)
    except Exception as error:  # noqa: BLE001 - a damaged package fails in zip, XML or part lookups alike
        raise SkippedFile(name, NOT_WORD) from error
    lines, counters, tables = [], {}, 0
    for block in blocks:
        if isinstance(block, Table):
            rows = table_lines(_table_rows(block))
            tables += bool(rows)
            lines.extend(["", *rows, ""])
        else:
            lines.append(_paragraph_line(block, counters, silent))
    return Extracted("\n".join(lines) + "\n", "docx", converter, join_wraps=False, tables=tables)


def libreoffice() -> str | None:
    """The LibreOffice program, if installed (Debian: libreoffice-writer-nogui)."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def read_converted(raw: bytes, name: str, suffix: str) -> Extracted:
    """A .doc, .wps, .odt or .rtf converted to .docx by LibreOffice headless, then read as one."""
    if not raw.startswith(MAGIC[suffix]):
        raise SkippedFile(name, f"不是有效的 {suffix} 文件（文件已损坏或只是改了扩展名）")
    program = libreoffice()
    if program is None:
        raise SkippedFile(name, f"未安装 LibreOffice，无法读取 {suffix} 文件（请安装 libreoffice-writer-nogui）")
    with tempfile.TemporaryDirectory(prefix="qa-convert-") as work:
        source = Path(work) / f"source{CONVERTED[suffix]}"
        source.write_bytes(raw)
        command = [program, "--headless", "--norestore", "--nolockcheck",
                   f"-env:UserInstallation=file://{work}/profile", "--convert-to", "docx:MS Word 2007 XML",
                   "--outdir", str(Path(work) / "out"), str(source)]
        try:
            subprocess.run(command, capture_output=True, timeout=CONVERT_SECONDS, check=False,
                           env=dict(os.environ, HOME=work), stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as error:
            raise SkippedFile(name, f"LibreOffice 转换超时（超过 {CONVERT_SECONDS} 秒），文件可能已损坏") from error
        converted = Path(work) / "out" / "source.docx"
        if not converted.is_file() or converted.stat().st_size == 0:
            raise SkippedFile(name, f"LibreOffice 无法转换此 {suffix} 文件（文件已损坏或格式不符）")
        return replace(read_docx(converted.read_bytes(), name, converter="libreoffice"), encoding=suffix.lstrip("."))
