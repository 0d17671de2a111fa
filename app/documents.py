"""Documents: load a summary from `seeds/`, detect its encoding, clean it without losing citations.

A `Document` keeps the decoded source text untouched (citations point into it) and a list of
`Paragraph`s: the cleaned logical lines, with site boilerplate dropped, inline noise removed
and lines hard-wrapped mid-sentence joined again. Every character of a paragraph carries the
offset of the source character it came from, so any slice of a paragraph can be cited exactly.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SUPPORTED_SUFFIXES = (".txt", ".md", ".docx")
#: Larger files are not work summaries (logs, exports, archives); the upload limit is the same.
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
MAX_DOCX_INFLATED = 200 * 1024 * 1024  # a .docx's parts, inflated: summaries with images stay far below
MAX_DOCX_ENTRIES = 5000
CHINESE_NUMERALS = "一二三四五六七八九十"

#: Whole lines that are site furniture, not the author's text.
BOILERPLATE_LINE = re.compile(
    r"欢迎来到|您的当前位置|^\s*搜索\s*$|copyright|©|icp备|版权所有|因篇幅问题不能全部显示|"
    r"^\s*来源\s*[:：]|违法及侵权请联系|e-mail\s*[:：]|律师事务所.*提供法律服务|"
    r"以下是.{0,12}(整理|收集|分享)的|希望.{0,12}(帮助到|对你有|对大家有)|这里给大家分享|"
    r"^\s*\d{1,8}\s*$|^\s*\|\S{0,6}\s*$",
    re.IGNORECASE,
)
#: Noise inserted inside sentences: spam such as "莲~山 课件", HTML tags, markdown escapes.
INLINE_NOISE = re.compile(
    r"\s*\S~\S\s*课件\s*"  # spam watermark "莲~山 课件"
    r"|</?[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?>"  # HTML tags such as <sub>, <br/>
    r"|\\(?=[*_#`\[\]()>~|-])"  # the backslash of a markdown escape like \*
    r"|^#{1,6}\s+"  # markdown heading hashes (the heading text stays)
)
#: Markers that open an outline item; a line starting with one is never a continuation.
OUTLINE_MARKER = re.compile(
    r"^(#{1,6}\s|[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[）)]|\d+[、.．)）]|"
    r"[①-⑳]|[一二三四五六七八九十]+是|第[一二三四五六七八九十]+[，,、：:]|[-*+]\s)"
)
#: An article heading: "…篇一", "(精选篇2)", "篇3".
ARTICLE_HEADING = re.compile(r"(篇[一二三四五六七八九十\d]+|精选篇\s*\d+)[)）]?\s*$")
SENTENCE_END = "。！？；!?;…：:”\"）)】」』"
#: Characters a mid-sentence hard wrap typically stops on.
DANGLING = "和的及与并或在对把为将了、，,从向以于被让给"
WHITESPACE = " \t\r\f\v\u3000\u00a0\ufeff"


class SkippedFile(Exception):
    """A file in seeds/ that cannot be indexed; `reason` says why, in Chinese."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class Paragraph:
    """One cleaned logical line; `offsets[i]` is the source offset of `text[i]`."""

    text: str
    offsets: np.ndarray = field(repr=False, compare=False)

    @property
    def start(self) -> int:
        return int(self.offsets[0])

    @property
    def end(self) -> int:
        return int(self.offsets[-1]) + 1


@dataclass(frozen=True)
class Document:
    """A decoded source file and its cleaned paragraphs."""

    path: str  # relative to the seeds folder, with forward slashes
    text: str  # the decoded source, exactly as cited
    encoding: str
    sha256: str
    size: int
    paragraphs: tuple[Paragraph, ...]
    line_starts: tuple[int, ...] = field(repr=False)

    def clean_slice(self, start: int, end: int) -> str:
        """The cleaned text of source[start:end]: noise removed, paragraphs on their own lines."""
        parts = []
        # Paragraphs are in source order: start at the first one ending after `start`, so a
        # document of many paragraphs is not rescanned from its top for every chunk.
        first_paragraph = bisect.bisect_right(self.paragraphs, start, key=lambda p: p.end)
        for paragraph in self.paragraphs[first_paragraph:]:
            if paragraph.start >= end:
                break
            first, last = np.searchsorted(paragraph.offsets, [start, end])
            parts.append(paragraph.text[first:last])
        return "\n".join(parts)

    def line_of(self, offset: int) -> int:
        """1-based line number of a source offset."""
        return bisect.bisect_right(self.line_starts, offset)


# ---------------------------------------------------------------- decoding


def _share_in(text: str, encoding: str, lead_range: tuple[int, int]) -> float:
    """Share of CJK characters whose encoding in `encoding` has a lead byte in `lead_range`.

    GB2312 level 1 (lead bytes B0–D7) and Big5's common block (A4–C6) hold the everyday
    characters of each script; text decoded with the wrong codec scatters outside them.
    """
    hanzi = [c for c in text[:20000] if "\u4e00" <= c <= "\u9fff"]
    if not hanzi:
        return 0.0
    common = 0
    for char in hanzi:
        try:
            lead = char.encode(encoding)[0]
        except UnicodeEncodeError:
            continue
        common += lead_range[0] <= lead <= lead_range[1]
    return common / len(hanzi)


def decode(raw: bytes, name: str) -> tuple[str, str]:
    """Decode a text file: UTF-8 (with or without BOM), UTF-16 with BOM, GB18030/GBK or Big5."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as error:
            raise SkippedFile(name, "UTF-16 文件已损坏，无法解码") from error
    if b"\x00" in raw[:8192]:
        raise SkippedFile(name, "不是文本文件（含二进制内容）")
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    candidates = []
    for encoding, lead_range in (("gb18030", (0xB0, 0xD7)), ("big5", (0xA4, 0xC6))):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        check = "gb2312" if encoding == "gb18030" else "big5"
        candidates.append((_share_in(text, check, lead_range), encoding, text))
    if not candidates:
        raise SkippedFile(name, "无法识别文件编码（不是 UTF-8、GB18030 或 Big5 文本）")
    _, encoding, text = max(candidates)
    return text, encoding


# ---------------------------------------------------------------- cleaning


def _clean_line(source: str, start: int, end: int) -> tuple[str, list[int]]:
    """Strip whitespace and inline noise from source[start:end]; keep each char's offset."""
    segment = source[start:end]
    keep = [True] * len(segment)
    for match in INLINE_NOISE.finditer(segment):
        for i in range(match.start(), match.end()):
            keep[i] = False
    chars, offsets = [], []
    for i, char in enumerate(segment):
        if keep[i]:
            chars.append(char)
            offsets.append(start + i)
    text = "".join(chars)
    left = len(text) - len(text.lstrip(WHITESPACE))
    right = len(text.rstrip(WHITESPACE))
    return text[left:right], offsets[left:right]


def _first_clause_length(text: str) -> int:
    match = re.search(r"[，,。；;：:！？!?]", text)
    return match.start() if match else len(text)


def looks_like_heading(text: str) -> bool:
    """A line that opens a part of the outline rather than running text."""
    if ARTICLE_HEADING.search(text):
        return True
    return bool(OUTLINE_MARKER.match(text)) and not re.search(r"[，,；;]", text[:-1])


def _continues(previous: str, raw_previous: str, following: str) -> bool:
    """True when `following` is the rest of a sentence hard-wrapped after `previous`."""
    if not previous or previous[-1] in SENTENCE_END or OUTLINE_MARKER.match(following):
        return False
    if following[0] in "，,。；;、）)" or (previous[-1] in DANGLING and len(previous) >= 8):
        return True
    if raw_previous.lstrip(WHITESPACE).startswith("#") or looks_like_heading(previous):
        return False
    # An outline item may be a heading whose next line merely opens with a short clause.
    limit = 2 if OUTLINE_MARKER.match(previous) else 4
    return _first_clause_length(following) <= limit


def clean(source: str, join_wraps: bool = True) -> list[Paragraph]:
    """Cleaned paragraphs of a decoded document, boilerplate dropped, hard wraps joined
    (`join_wraps=False` for formats whose lines are real paragraphs, such as .docx)."""
    paragraphs: list[tuple[str, list[int]]] = []
    raw_previous = ""
    position = 0
    for raw_line in source.splitlines(keepends=True):
        start, position = position, position + len(raw_line)
        if BOILERPLATE_LINE.search(raw_line):
            continue
        text, offsets = _clean_line(source, start, start + len(raw_line.rstrip("\r\n")))
        if not text or not re.search(r"\w", text):
            continue
        if join_wraps and paragraphs and _continues(paragraphs[-1][0], raw_previous, text):
            previous_text, previous_offsets = paragraphs[-1]
            paragraphs[-1] = (previous_text + text, previous_offsets + offsets)
        else:
            paragraphs.append((text, offsets))
        raw_previous = raw_line
    return [Paragraph(text, np.asarray(offsets, dtype=np.int64)) for text, offsets in paragraphs]


# ---------------------------------------------------------------- loading


def _numeral(n: int) -> str:
    """1 → 一, 12 → 十二, 21 → 二十一 (outline numbers rarely go further)."""
    if n <= 10:
        return CHINESE_NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    return (CHINESE_NUMERALS[tens - 1] if tens > 1 else "") + "十" + (CHINESE_NUMERALS[ones - 1] if ones else "")


def _list_marker(level: int, number: int) -> str:
    """The marker Word's automatic numbering shows at a list level, in the house style."""
    return (f"{_numeral(number)}、", f"（{_numeral(number)}）", f"{number}、", f"（{number}）")[min(level, 3)]


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
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as package:
            entries = package.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise SkippedFile(name, "不是有效的 Word 文档（文件已损坏或不是 .docx）") from error
    inflated = sum(entry.file_size for entry in entries)
    if len(entries) > MAX_DOCX_ENTRIES or inflated > MAX_DOCX_INFLATED:
        raise SkippedFile(name, f"Word 文档解压后过大（{len(entries)} 个部件，{inflated / 1048576:.0f} MB；"
                                f"上限 {MAX_DOCX_ENTRIES} 个、{MAX_DOCX_INFLATED // 1048576} MB），疑似压缩炸弹")


def docx_text(raw: bytes, name: str) -> str:
    """A .docx as plain text: one paragraph a line, headings as markdown `#`, and the markers
    of Word's automatic numbering written out (一、 （一） 1、 （1）) so the outline sees them."""
    import io

    from docx import Document as WordDocument

    _check_inflation(raw, name)
    try:
        word = WordDocument(io.BytesIO(raw))
        paragraphs = list(word.paragraphs)
    except Exception as error:  # noqa: BLE001 - a damaged package fails in zip, XML or part lookups alike
        raise SkippedFile(name, "不是有效的 Word 文档（文件已损坏或不是 .docx）") from error
    lines, counters = [], {}
    for paragraph in paragraphs:
        text = paragraph.text.strip()
        if not text:
            lines.append("")
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        heading = re.match(r"(?:Heading|标题)\s*(\d)", style)
        numbering = _numbering_of(paragraph)
        if numbering is not None and numbering.numId is not None and not OUTLINE_MARKER.match(text):
            level = numbering.ilvl.val if numbering.ilvl is not None else 0
            key = (numbering.numId.val, level)
            counters[key] = counters.get(key, 0) + 1
            for deeper in [k for k in counters if k[0] == key[0] and k[1] > level]:
                del counters[deeper]
            text = _list_marker(level, counters[key]) + text
        if heading:
            text = "#" * int(heading.group(1)) + " " + text
        elif style.lower() == "title":
            text = "# " + text
        lines.append(text)
    return "\n".join(lines) + "\n"


def load(path: Path, root: Path) -> Document:
    """Read, decode and clean one file; raises `SkippedFile` with the reason it cannot be used."""
    name = path.relative_to(root).as_posix()
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise SkippedFile(name, f"不支持的文件类型 {path.suffix or '（无扩展名）'}")
    if not path.resolve().is_relative_to(root.resolve()):
        raise SkippedFile(name, "是指向文档目录之外的链接，出于安全不予索引")
    size = path.stat().st_size
    if size > MAX_DOCUMENT_BYTES:
        raise SkippedFile(name, f"文件太大（{size / 1048576:.1f} MB，上限 {MAX_DOCUMENT_BYTES // 1048576} MB）")
    raw = path.read_bytes()
    is_word = path.suffix.lower() == ".docx"
    text, encoding = (docx_text(raw, name), "docx") if is_word else decode(raw, name)
    paragraphs = clean(text, join_wraps=not is_word)
    if not paragraphs:
        raise SkippedFile(name, "文件没有可索引的正文（为空或只有网站模板内容）")
    line_starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    return Document(
        path=name, text=text, encoding=encoding, sha256=hashlib.sha256(raw).hexdigest(),
        size=len(raw), paragraphs=tuple(paragraphs), line_starts=tuple(line_starts),
    )


def discover(root: Path) -> list[Path]:
    """Every regular file below `root` that is not hidden, in a stable order."""
    return sorted(
        p for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )
