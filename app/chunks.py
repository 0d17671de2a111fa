"""Chunks: split a cleaned `Document` along its own outline into citable passages.

Chinese official documents mix outline markers freely (篇一, 一、, （一）, 1、, （1）, ①, 一是,
第一，, markdown #). Which marker is the outer level is read per document from the order the
markers first appear in, never from a fixed list. A chunk is a run of body paragraphs under
one heading path, packed to 150–400 characters and split at sentence ends when longer.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from .documents import Document, Paragraph
from .outline import ARTICLE_HEADING

#: Bumped whenever chunk boundaries or texts can change, so indexes re-chunk by themselves.
CHUNKING_VERSION = 5
TARGET_MAX = 400
HARD_MAX = 600
MIN_CHARS = 40
STUB_CHARS = 15
OVERLAP_SENTENCES = 1
MAX_HEADING = 40

MARKER_TYPES = (
    ("markdown", re.compile(r"^#{1,6}\s")),  # refined below by the marker inside the heading
    ("cn", re.compile(r"^[一二三四五六七八九十]+[、.．]")),
    ("cn_paren", re.compile(r"^[（(][一二三四五六七八九十]+[）)]")),
    ("num_paren", re.compile(r"^[（(]\d+[）)]")),
    ("num", re.compile(r"^\d+(?:[、．]|\.(?!\d)|[)）])")),
    ("circled", re.compile(r"^[①-⑳]")),
    ("shi", re.compile(r"^[一二三四五六七八九十]+是")),
    ("di", re.compile(r"^第[一二三四五六七八九十]+[，,、：:]")),
)
#: A template's blanks and placeholders ("时间□20xx年x月x日", "单位：×××"): such a line is a form
#: to fill in, never the title of a document or an article, however often it repeats. A year
#: left as "20xx年" alone is not one: "20xx年医院工作总结" is a real title of the genre.
PLACEHOLDER = re.compile(r"□|[×＊*]{2,}|(?<!20)[xX]{2,}|[xX]月[xX]?日|^\s*(时间|日期|单位|部门|姓名|编号|地点)\s*[:：□_]")
SENTENCE_SPLIT = re.compile(r"(?<=[。！？；!?;])")


@dataclass(frozen=True)
class Chunk:
    """A citable passage: `text` is `document.text[start:end]` up to whitespace and noise."""

    doc: str
    title: str
    section: tuple[str, ...]
    text: str
    start: int
    end: int
    line_start: int
    line_end: int
    page_start: int = 0  # 1-based pages of a PDF or a scan; 0 for formats without pages
    page_end: int = 0

    @property
    def pages(self) -> str:
        """"第3页", "第3–4页", or "" for a format without pages."""
        if not self.page_start:
            return ""
        return f"第{self.page_start}页" if self.page_start == self.page_end else f"第{self.page_start}–{self.page_end}页"

    @property
    def indexed_text(self) -> str:
        """What is embedded and lexically indexed: the heading path, then the passage."""
        return " › ".join(self.section) + "\n" + self.text if self.section else self.text

    def to_json(self) -> dict:
        return {
            "doc": self.doc, "title": self.title, "section": list(self.section), "text": self.text,
            "start": self.start, "end": self.end,
            "line_start": self.line_start, "line_end": self.line_end,
            "page_start": self.page_start, "page_end": self.page_end,
        }


def marker_type(text: str) -> str | None:
    """The outline marker a line opens with ("cn" for 一、, "num" for 1、, …), if any."""
    for name, pattern in MARKER_TYPES[1:]:
        if pattern.match(text):
            return name
    return None


def _strip_markdown(text: str) -> tuple[str, int]:
    match = re.match(r"^(#{1,6})\s+", text)
    return (text[match.end():], len(match.group(1))) if match else (text, 0)


def _is_heading_shaped(text: str) -> bool:
    """Short, at most one sentence, the sentence end (if any) only at the very end."""
    return len(text) <= MAX_HEADING and not re.search(r"[。！？!?]", text[:-1])


def _title_of(document: Document) -> str:
    first = document.paragraphs[0].text
    text, _ = _strip_markdown(first)
    if ARTICLE_HEADING.search(text):
        return ARTICLE_HEADING.sub("", text).strip() or text
    if _is_heading_shaped(text) and not re.search(r"[。，,；;]", text) and not marker_type(text) \
            and not PLACEHOLDER.search(text):
        return text
    return document.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]


@dataclass(frozen=True)
class _Block:
    paragraph: Paragraph
    kind: str  # "article", "heading" or "body"
    level_type: str = ""


def _classify(document: Document, title: str) -> list[_Block]:
    paragraphs = document.paragraphs
    texts = [_strip_markdown(p.text) for p in paragraphs]
    counts = Counter(t for t, _ in texts)
    bare_title = re.sub(r"[(（][^()（）]*篇[)）]\s*$", "", title)

    def article_like(text: str, hashes: int) -> bool:
        if len(text) > MAX_HEADING:
            return False
        if ARTICLE_HEADING.search(text):
            return True
        repeated_title = counts[text] >= 2 and not re.search(r"[，,。；;]", text) and not marker_type(text) \
            and not PLACEHOLDER.search(text)
        return repeated_title or text == bare_title or (hashes and text == title)

    markers = [marker_type(text) for text, _ in texts]
    candidates: list[str | None] = []
    for (text, hashes), kind in zip(texts, markers):
        if kind is None and hashes:
            kind = f"md{hashes}"
        if kind and not _is_heading_shaped(text):
            kind = None
        candidates.append(kind)

    blocks = []
    for i, paragraph in enumerate(paragraphs):
        text, hashes = texts[i]
        kind = candidates[i]
        if i == 0 and not kind and _title_of(document) == text:
            blocks.append(_Block(paragraph, "article"))
        elif article_like(text, hashes):
            blocks.append(_Block(paragraph, "article"))
        elif kind and not kind.startswith("md") and (
            (i + 1 < len(paragraphs) and markers[i + 1] == kind)
            or (i > 0 and blocks[-1].kind == "body" and markers[i - 1] == kind)
        ):
            # A run of items of one kind (1、无火灾… 2、无环境污染…) is a list, not headings.
            blocks.append(_Block(paragraph, "body"))
        elif kind:
            blocks.append(_Block(paragraph, "heading", kind))
        else:
            blocks.append(_Block(paragraph, "body"))
    return blocks


def _sections(blocks: list[_Block]) -> list[tuple[tuple[str, ...], list[Paragraph]]]:
    """Runs of body paragraphs with the heading path they sit under."""
    article: list[str] = []
    stack: list[tuple[str, str]] = []  # (marker type, heading text), outermost first
    runs: list[tuple[tuple[str, ...], list[Paragraph]]] = []
    for block in blocks:
        text = _strip_markdown(block.paragraph.text)[0]
        if block.kind == "article":
            article, stack = [text], []
            continue
        if block.kind == "heading":
            types = [t for t, _ in stack]
            if block.level_type in types:
                stack = stack[: types.index(block.level_type)]
            stack.append((block.level_type, text))
            continue
        path = tuple(article + [h for _, h in stack])
        if runs and runs[-1][0] == path:
            runs[-1][1].append(block.paragraph)
        else:
            runs.append((path, [block.paragraph]))
    return runs


@dataclass
class _Piece:
    section: tuple[str, ...]
    parts: list[tuple[str, int, int]]  # (text, start, end) source spans, one per paragraph part

    @property
    def length(self) -> int:
        return sum(len(t) for t, _, _ in self.parts)


def _sentence_spans(paragraph: Paragraph) -> list[tuple[str, int, int]]:
    spans, position = [], 0
    for sentence in SENTENCE_SPLIT.split(paragraph.text):
        if not sentence:
            continue
        end = position + len(sentence)
        spans.append((sentence, int(paragraph.offsets[position]), int(paragraph.offsets[end - 1]) + 1))
        position = end
    return spans


def _split_long(paragraph: Paragraph) -> list[list[tuple[str, int, int]]]:
    """Windows of whole sentences up to TARGET_MAX, overlapping by one sentence."""
    sentences = []
    for text, start, end in _sentence_spans(paragraph):
        while len(text) > HARD_MAX:  # a "sentence" with no end mark at all: cut it hard
            sentences.append((text[:TARGET_MAX], start, start + TARGET_MAX))
            text, start = text[TARGET_MAX:], start + TARGET_MAX
        sentences.append((text, start, end))
    windows, current = [], []
    for sentence in sentences:
        if current and sum(len(t) for t, _, _ in current) + len(sentence[0]) > TARGET_MAX:
            windows.append(current)
            current = current[-OVERLAP_SENTENCES:] if len(current) > OVERLAP_SENTENCES else []
            if sum(len(t) for t, _, _ in current) + len(sentence[0]) > HARD_MAX:
                current = []
        current.append(sentence)
    if current:
        windows.append(current)
    return [[(_joined(w), w[0][1], w[-1][2])] for w in windows]


def _joined(sentences: list[tuple[str, int, int]]) -> str:
    return "".join(t for t, _, _ in sentences)


def _pack(section: tuple[str, ...], paragraphs: list[Paragraph]) -> list[_Piece]:
    pieces: list[_Piece] = []
    current = _Piece(section, [])
    for paragraph in paragraphs:
        if len(paragraph.text) > HARD_MAX:
            if current.parts:
                pieces.append(current)
            pieces.extend(_Piece(section, window) for window in _split_long(paragraph))
            current = _Piece(section, [])
            continue
        if current.parts and current.length + len(paragraph.text) > TARGET_MAX:
            pieces.append(current)
            current = _Piece(section, [])
        current.parts.append((paragraph.text, paragraph.start, paragraph.end))
    if current.parts:
        pieces.append(current)
    return pieces


def _merge_small(pieces: list[_Piece]) -> list[_Piece]:
    """Fold small pieces into their predecessor: under MIN_CHARS within a section, and under
    STUB_CHARS (too short to stand alone at all) across sections of one article."""
    merged: list[_Piece] = []
    for piece in pieces:
        previous = merged[-1] if merged else None
        smallest = min(piece.length, previous.length) if previous else 0
        mergeable = previous and previous.length + piece.length <= HARD_MAX and (
            (previous.section == piece.section and smallest < MIN_CHARS)
            or (previous.section[:1] == piece.section[:1] and smallest < STUB_CHARS)
        )
        if mergeable:
            if piece.length > previous.length:
                previous.section = piece.section
            previous.parts.extend(piece.parts)
        else:
            merged.append(piece)
    return merged


def chunk_document(document: Document) -> list[Chunk]:
    """The chunks of one document, in reading order."""
    title = _title_of(document)
    # A file that is nothing but headings (an outline) is its own content: index its lines.
    sections = _sections(_classify(document, title)) or [((), list(document.paragraphs))]
    pieces = []
    for section, paragraphs in sections:
        pieces.extend(_pack(section, paragraphs))
    chunks = []
    for piece in _merge_small(pieces):
        start, end = piece.parts[0][1], piece.parts[-1][2]
        chunks.append(Chunk(
            doc=document.path, title=title, section=piece.section,
            text=document.clean_slice(start, end), start=start, end=end,
            line_start=document.line_of(start), line_end=document.line_of(end - 1),
            page_start=document.page_of(start), page_end=document.page_of(end - 1),
        ))
    return chunks


#: A window is a sentence of a chunk, joined with the next ones while shorter than this.
WINDOW_MIN_CHARS = 40
WINDOW_SPLIT = re.compile(r"(?<=[。！？；!?;\n])")


def sentence_windows(text: str, min_chars: int = WINDOW_MIN_CHARS) -> list[tuple[int, int]]:
    """Spans `(start, end)` of `text` (a chunk's text), one per sentence, a sentence shorter
    than `min_chars` joined to the one after it; together they cover every sentence once.

    A long chunk (a list of measures, say) is about several things, and its one vector is
    about none of them well; each window is embedded on its own so a question that matches
    one sentence finds the chunk (app/search.py). Windows are never shown: hits stay chunks.
    """
    spans: list[list[int]] = []
    position = 0
    for piece in WINDOW_SPLIT.split(text):
        start, end = position, position + len(piece)
        position = end
        stripped = piece.strip()
        if not stripped:
            continue
        start += len(piece) - len(piece.lstrip())
        end -= len(piece) - len(piece.rstrip())
        if spans and len(window_text(text, spans[-1])) < min_chars:
            spans[-1][1] = end
        else:
            spans.append([start, end])
    return [(start, end) for start, end in spans] or [(0, len(text))]


def window_text(text: str, span) -> str:
    """The text of a window as it is embedded: its sentences without the line breaks between."""
    return re.sub(r"\s*\n\s*", "", text[span[0]:span[1]]).strip()
