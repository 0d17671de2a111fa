"""Site furniture found by repetition: a short line that several documents carry although they
are not copies of one another — a template site's footer, an intranet's banner, a slogan bar —
is not the author's text, whatever it says. The patterns of `documents.BOILERPLATE_LINE` know
the genre's common furniture; this finds the rest, which no pattern list can know in advance.

Counting is corpus-wide, so each document leaves a `Lines` fingerprint (hashes only) that the
next build reuses without reading the file again. Two documents are copies when most of the
long paragraphs of the shorter are in the other (the same summary as .docx and as .pdf, or
scanned): copies count once, so a corpus holding one text in six formats drops nothing from it.
Headings and outline items never count: "一、主要工作" repeats across summaries because it is
their outline. The line stays in the source text; it only leaves the chunks.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

from .documents import Document, looks_like_heading
from .outline import ARTICLE_HEADING, OUTLINE_MARKER

#: Bumped when what counts as furniture changes: a build then reads every document again.
FURNITURE_VERSION = 1
#: A line in this many documents that are not copies of one another is furniture.
REPEATED_IN = 3
#: Longer lines are the author's prose even when repeated (a quoted policy sentence).
MAX_CHARS = 80
#: Copies: this share of the shorter document's long paragraphs is in the other.
COPY_CONTAINMENT = 0.5
#: Fewer long paragraphs than this and a document's copy test reads all its lines.
MIN_CONTENT_LINES = 3


def line_key(text: str) -> str:
    """A line's identity across documents and formats: width, case and spacing folded."""
    folded = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()
    return hashlib.blake2b(folded.encode("utf-8"), digest_size=8).hexdigest()


def may_be_furniture(text: str) -> bool:
    """Short, and no part of the outline."""
    return (len(text) <= MAX_CHARS and not looks_like_heading(text) and not OUTLINE_MARKER.match(text)
            and not ARTICLE_HEADING.search(text))


@dataclass(frozen=True)
class Lines:
    """One document's fingerprint: its candidate lines and what tells its copies apart."""

    short: frozenset[str]  # keys of lines that may be furniture
    content: frozenset[str]  # keys of its long paragraphs (all its lines when it has few)

    @classmethod
    def of(cls, document: Document) -> "Lines":
        texts = [p.text for p in document.paragraphs]
        long_lines = [t for t in texts if len(t) > MAX_CHARS]
        return cls(
            short=frozenset(line_key(t) for t in texts if may_be_furniture(t)),
            content=frozenset(line_key(t) for t in (long_lines if len(long_lines) >= MIN_CONTENT_LINES else texts)),
        )

    def copies(self, other: "Lines") -> bool:
        smaller = min(len(self.content), len(other.content))
        return smaller > 0 and len(self.content & other.content) >= COPY_CONTAINMENT * smaller

    def to_json(self) -> dict:
        return {"short": sorted(self.short), "content": sorted(self.content)}

    @classmethod
    def from_json(cls, data: dict) -> "Lines":
        return cls(frozenset(data["short"]), frozenset(data["content"]))


def repeated(fingerprints: dict[str, Lines]) -> frozenset[str]:
    """Keys of the lines found in `REPEATED_IN` documents that are not copies of one another."""
    holders: dict[str, list[str]] = defaultdict(list)
    for name in sorted(fingerprints):
        for key in fingerprints[name].short:
            holders[key].append(name)
    found = set()
    for key, names in holders.items():
        if len(names) < REPEATED_IN:
            continue
        distinct: list[Lines] = []
        for name in names:
            lines = fingerprints[name]
            if not any(lines.copies(kept) for kept in distinct):
                distinct.append(lines)
                if len(distinct) == REPEATED_IN:
                    found.add(key)
                    break
    return frozenset(found)


def strip(document: Document, furniture: frozenset[str]) -> Document:
    """`document` without its paragraphs that are furniture; unchanged when that is all of it."""
    kept = tuple(p for p in document.paragraphs if not is_furniture(p.text, furniture))
    if len(kept) == len(document.paragraphs) or not kept:
        return document
    return dataclasses.replace(document, paragraphs=kept)


def is_furniture(line: str, furniture: frozenset[str]) -> bool:
    """Whether a line of a source (as read, spacing and all) is one of the `furniture` lines."""
    text = line.strip()
    return bool(furniture) and may_be_furniture(text) and line_key(text) in furniture


def texts(document: Document, keys: frozenset[str]) -> dict[str, str]:
    """The lines of `document` whose keys are in `keys`, as written (for the build report)."""
    return {line_key(p.text): p.text for p in document.paragraphs if is_furniture(p.text, keys)}
