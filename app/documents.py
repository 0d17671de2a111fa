"""Documents: load a summary from `seeds/` (read by its format, app/formats/), clean it without
losing citations.

A `Document` keeps the text as read untouched (citations point into it: a text file's decoded
bytes, the text extracted from a PDF, a scan or a Word file), where its pages begin, and a list of
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

from .formats import MAX_DOCUMENT_BYTES, SUPPORTED_SUFFIXES, Extracted, SkippedFile, extract
from .formats.text import decode
from .outline import ARTICLE_HEADING, OUTLINE_MARKER

__all__ = ["Document", "Paragraph", "SkippedFile", "SUPPORTED_SUFFIXES", "MAX_DOCUMENT_BYTES", "clean", "decode",
           "discover", "load"]


#: Whole lines that are site furniture, not the author's text: the seeds' own, and those of the
#: genre (template sites and intranets: source and date lines, breadcrumbs, copyright and
#: disclaimer notices, "contributed by a reader", related links, previous/next, share bars).
BOILERPLATE_LINE = re.compile(
    r"欢迎来到|您的当前位置|当前位置\s*[:：]|^\s*搜索\s*$|copyright|©|icp备|版权所有|因篇幅问题不能全部显示|"
    r"^\s*(来源|出处|作者|编辑|责任编辑|文章来源|发布者|发布人|发布(时间|日期)|发表(时间|日期)|更新(时间|日期)|"
    r"阅读(次数|量)?|浏览(次数|量)?|点击(数|量|次数)?|人气|标签|关键词|tags?)\s*[:：]|"
    r"(发布|更新|发表)(时间|日期)\s*[:：]\s*\d|(阅读|浏览|点击)(次数|量)?\s*[:：]\s*\d|"
    r"首页\s*[>›»/＞]|版权声明|免责声明|版权归.{0,12}所有|转载请(注明|保留)|本站(文章|内容|资源|所有|范文|素材)|"
    r"本文由.{0,24}(投稿|发布|整理|提供)|^.{0,24}仅供(参考|学习|交流)[。.！!]?\s*$|"
    r"^\s*[【\[]?\s*(相关(推荐|阅读|文章|范文|链接)|猜你喜欢|热门(文章|推荐|范文)|精彩推荐|推荐阅读|延伸阅读)\s*[】\]]?\s*[:：]?\s*$|"
    r"^\s*(上一篇|下一篇|上一页|下一页)|扫一扫|扫码关注|关注.{0,6}公众号|分享到|一键分享|打印本页|关闭窗口|返回顶部|"
    r"返回首页|加入收藏|设为首页|展开剩余|(点击)?阅读全文\s*$|公网安备|^.{0,30}代写|qq\s*[:：]\s*\d|"
    r"^\s*(本文(地址|链接|网址)|原文(地址|链接))\s*[:：]|^\s*(https?://|www\.)\S+\s*$|"
    r"字号\s*[:：]?\s*[【\[]?\s*大|[【\[]\s*大\s*[】\]]?\s*[【\[]?\s*中|"
    r"来源\s*[:：].{0,40}(网|站|平台|公众号)|"
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
SENTENCE_END = "。！？；!?;…：:”\"）)】」』"
#: Characters a mid-sentence hard wrap typically stops on.
DANGLING = "和的及与并或在对把为将了、，,从向以于被让给"
WHITESPACE = " \t\r\f\v\u3000\u00a0\ufeff"


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
    extracted: Extracted | None = field(default=None, repr=False, compare=False)  # how it was read: pages, OCR, tables

    def page_of(self, offset: int) -> int:
        """1-based page of an offset of `text`; 0 for a format without pages."""
        return self.extracted.page_of(offset) if self.extracted is not None else 0

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


def load(path: Path, root: Path, cache: Path | None = None) -> Document:
    """Read and clean one file; raises `SkippedFile` with the reason it cannot be used.
    `cache` is where slow readings (OCR, conversions) are kept (app/formats)."""
    name = path.relative_to(root).as_posix()
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise SkippedFile(name, f"不支持的文件类型 {path.suffix or '（无扩展名）'}")
    if not path.resolve().is_relative_to(root.resolve()):
        raise SkippedFile(name, "是指向文档目录之外的链接，出于安全不予索引")
    size = path.stat().st_size
    if size > MAX_DOCUMENT_BYTES:
        raise SkippedFile(name, f"文件太大（{size / 1048576:.1f} MB，上限 {MAX_DOCUMENT_BYTES // 1048576} MB）")
    raw = path.read_bytes()
    extracted = extract(raw, path.suffix, name, cache)
    text = extracted.text
    paragraphs = clean(text, join_wraps=extracted.join_wraps)
    if not paragraphs:
        raise SkippedFile(name, "文件没有可索引的正文（为空或只有网站模板内容）")
    line_starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    return Document(
        path=name, text=text, encoding=extracted.encoding, sha256=hashlib.sha256(raw).hexdigest(),
        size=len(raw), paragraphs=tuple(paragraphs), line_starts=tuple(line_starts), extracted=extracted,
    )


def discover(root: Path) -> list[Path]:
    """Every regular file below `root` that is not hidden, in a stable order."""
    return sorted(
        p for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )
