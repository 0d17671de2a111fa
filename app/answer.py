"""Answers: an extractive answer, citations and highlighting, built from search hits.

Nothing here invents text: the answer is a few sentences copied from the best passages, each
followed by the number of the passage it came from, and a citation leads back to the file
and lines a quote was taken from.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .search import Hit, SearchResult

SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]?")
MIN_SENTENCE = 8
ANSWER_SENTENCES = 3
SOURCE_PASSAGES = 3
EXPORT_MAX_AGE = 3600  # seconds a quote export is kept
WEAK_NOTICE = "未找到直接回答，以下段落可能相关："  # what a `weak` result says before its passages


@dataclass(frozen=True)
class AnswerSentence:
    text: str
    source: int  # 1-based number of the hit it was copied from


def citation(hit: Hit) -> str:
    """《article》heading，file 第3页 第a–b行 — how a quote is attributed in a draft (the page
    for a PDF or a scan; lines count in the text read from the file)."""
    article = hit.section[0] if hit.section else hit.title
    heading = hit.section[-1].rstrip("。；;，,") if len(hit.section) > 1 else ""
    lines = f"第{hit.line_start}行" if hit.line_start == hit.line_end else f"第{hit.line_start}–{hit.line_end}行"
    pages = f"{hit.pages} " if hit.page_start else ""
    return f"《{article}》{heading}，{hit.doc} {pages}{lines}"


def quote(hit: Hit) -> str:
    """The passage as a quotation with its citation, ready to paste into a draft."""
    return f"“{hit.text.replace(chr(10), '')}”（{citation(hit)}）"


def matched_terms(result: SearchResult, hit: Hit) -> list[str]:
    """The question's terms (and their translations) that occur in the hit, longest first."""
    found = {t for t in result.terms if len(t) >= 2 and t.lower() in hit.text.lower()}
    return sorted(found, key=len, reverse=True)


def highlight_spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) spans of `terms` in `text`, in order."""
    marked = [False] * len(text)
    spans = []
    lowered = text.lower()
    for term in sorted(terms, key=len, reverse=True):
        for match in re.finditer(re.escape(term.lower()), lowered):
            if not any(marked[match.start():match.end()]):
                spans.append((match.start(), match.end()))
                for i in range(match.start(), match.end()):
                    marked[i] = True
    return sorted(spans)


def extract(result: SearchResult, limit: int = ANSWER_SENTENCES) -> list[AnswerSentence]:
    """The sentences of the best passages that share most terms with the question."""
    candidates = []
    for number, hit in enumerate(result.hits[:SOURCE_PASSAGES], 1):
        terms = matched_terms(result, hit)
        for position, match in enumerate(SENTENCE.finditer(hit.text)):
            sentence = match.group().strip()
            if len(sentence) < MIN_SENTENCE:
                continue
            coverage = sum(len(t) for t in terms if t.lower() in sentence.lower())
            # Earlier passages and earlier sentences win ties: they are what search ranked first.
            candidates.append((-coverage, number, position, sentence))
    chosen = sorted(candidates)[:limit]
    if chosen and chosen[0][0] == 0:  # no term matched anywhere: lead with the best passage
        chosen = sorted(c for c in candidates if c[1] == 1)[:limit]
    chosen.sort(key=lambda c: (c[1], c[2]))
    return [AnswerSentence(sentence, number) for _, number, _, sentence in chosen]


def export_folder() -> Path:
    """The app's own folder for quote exports (one per user account, not one per click)."""
    folder = Path(tempfile.gettempdir()) / f"qa-quotes-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def export_basket(basket: list[dict], kind: str) -> str:
    """The basket as a .md or .docx file named by its content, written once per basket state;
    exports older than an hour are removed. Returns the file's path."""
    folder = export_folder()
    for old in folder.iterdir():
        if time.time() - old.stat().st_mtime > EXPORT_MAX_AGE:
            old.unlink(missing_ok=True)
    quotes = [item["quote"] for item in basket]
    digest = hashlib.sha256(json.dumps([kind, quotes], ensure_ascii=False).encode()).hexdigest()[:12]
    path = folder / f"引文-{digest}.{kind}"
    if path.exists():
        os.utime(path)
        return str(path)
    work = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    if kind == "md":
        work.write_text("# 引文\n\n" + "\n\n".join(f"{n}. {q}" for n, q in enumerate(quotes, 1)) + "\n", "utf-8")
    else:
        from docx import Document as WordDocument

        word = WordDocument()
        word.add_heading("引文", level=1)
        for quote in quotes:
            word.add_paragraph(quote)
        word.save(work)
    os.replace(work, path)
    return str(path)
