"""What the browser shows, as inert HTML or markdown: the answer with its source cards, a whole
document with the passage highlighted, the quote basket and the index status. Every passage is
escaped before display, so a document containing HTML or markdown shows as text."""

from __future__ import annotations

import base64
import html
import re

from . import answer, furniture, service
from .answer import WEAK_NOTICE
from .formats import SkippedFile
from .formats.common import describe
from .search import Hit, Searcher, SearchResult

LINE_BREAK = re.compile(r"\r\n|\r|\n")  # as Document.line_starts counts lines
NO_ANSWER = "没有找到可靠的段落。请换一种说法，或使用文档中的关键词（例如“院务公开”“护理质量”）再试。"


def inert(text: str) -> str:
    """Text that renders literally inside markdown: no HTML, no markdown syntax."""
    escaped = html.escape(text, quote=False)
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|~>])", r"\\\1", escaped)


def highlighted(text: str, terms: list[str]) -> str:
    """Passage text as inert HTML, the matched terms wrapped in <mark>."""
    parts, position = [], 0
    for start, end in answer.highlight_spans(text, terms):
        parts += [html.escape(text[position:start]), "<mark>", html.escape(text[start:end]), "</mark>"]
        position = end
    parts.append(html.escape(text[position:]))
    return "".join(parts).replace("\n", "<br>")


def source_label(number: int, hit: Hit) -> str:
    return f"[{number}] {answer.citation(hit)}"


def render_answer(result: SearchResult) -> str:
    """The assistant's message: extractive answer with [n] markers, then one card per source."""
    if not result.hits:
        return NO_ANSWER
    if result.confidence == "weak":
        lines = [f"**{WEAK_NOTICE}**", ""]
    else:
        sentences = answer.extract(result)
        lines = ["**回答**（摘自原文）：", "".join(f"{inert(s.text)} **[{s.source}]** " for s in sentences), ""]
    for number, hit in enumerate(result.hits, 1):
        also = ""
        if hit.also_in:
            places = "；".join(f"{a['doc']} 第{a['line_start']}–{a['line_end']}行" for a in hit.also_in)
            also = f"<br><em>也见于：{html.escape(places)}</em>"
        # One line of raw HTML: markdown leaves it alone, so only HTML escaping applies.
        lines.append(
            f"<details><summary><b>[{number}]</b> {html.escape(answer.citation(hit))} · 相关度 {hit.relevance:.0%}"
            f"</summary><blockquote>{highlighted(hit.text, answer.matched_terms(result, hit))}{also}"
            "</blockquote></details>"
        )
    return "\n".join(lines)


def _marked(line: str, start: int, uncertain: tuple[tuple[int, int], ...]) -> str:
    """A line of the source as inert HTML, text that OCR read with low confidence marked."""
    parts, position = [], 0
    for low, high in uncertain:
        low, high = max(low - start, position), min(high - start, len(line))
        if low < high:
            parts += [html.escape(line[position:low]), '<span class="ocr-low" title="OCR 识别置信度低，请核对原件">',
                      html.escape(line[low:high]), "</span>"]
            position = high
    parts.append(html.escape(line[position:]))
    return "".join(parts)


def _page_pictures(searcher: Searcher, hit: dict) -> str:
    """The cited pages of a PDF or a scan as pictures (inline JPEG), beside the text."""
    pictures = []
    for page in range(hit.get("page_start") or 0, (hit.get("page_end") or 0) + 1):
        jpeg = searcher.page_picture(hit["doc"], page) if page else None
        if jpeg:
            pictures.append(f'<figure><figcaption>第{page}页（原件）</figcaption><img alt="第{page}页" style="max-width:100%" '
                            f'src="data:image/jpeg;base64,{base64.b64encode(jpeg).decode()}"></figure>')
    return "".join(pictures)


def render_document(searcher: Searcher, hit: dict) -> str:
    """The whole source document (the text read from it), passage highlighted, outline beside
    it, page breaks marked, and for a PDF or a scan the cited pages' pictures (inert HTML)."""
    try:
        document, chunks = searcher.open_document(hit["doc"])
    except (KeyError, OSError, SkippedFile) as error:
        return f"<p>无法打开文档：{html.escape(str(error))}</p>"
    outline, seen = [], set()
    for chunk in chunks:
        if chunk.section and chunk.section not in seen:
            seen.add(chunk.section)
            indent = 12 * (len(chunk.section) - 1)
            outline.append(f'<a href="#L{chunk.line_start}" style="padding-left:{indent}px">'
                           f"{html.escape(chunk.section[-1])}</a>")
    extracted = document.extracted
    uncertain = extracted.uncertain if extracted else ()
    repeated = searcher.generation.furniture
    rows, page = [], 0
    for number, (start, line) in enumerate(zip(document.line_starts, LINE_BREAK.split(document.text)), 1):
        if (at := document.page_of(start)) > page:
            page = at
            rows.append(f'<div class="page">— 第{page}页 —</div>')
        classes = "ln" + (" hl" if hit["line_start"] <= number <= hit["line_end"] else "")
        title = ""
        if furniture.is_furniture(line, repeated):  # in the source, but in no passage
            classes, title = classes + " furniture", ' title="多个文档重复的模板行，未编入段落"'
        rows.append(f'<div class="{classes}" id="L{number}"{title}><span class="no">{number}</span>'
                    f"<span>{_marked(line, start, uncertain) or '&nbsp;'}</span></div>")
    pictures = _page_pictures(searcher, hit)
    return (f"<h4>{html.escape(hit['title'])} · {html.escape(hit['doc'])}</h4>"
            '<div style="display:flex;gap:16px"><div class="outline" style="flex:1">'
            + "".join(outline) + '</div><div style="flex:3">' + "".join(rows) + "</div>"
            + (f'<div class="pages" style="flex:2">{pictures}</div>' if pictures else "") + "</div>")


def render_basket(basket: list[dict]) -> str:
    if not basket:
        return "引文篮是空的。在“问答”页选中一条来源，点“加入引文篮”。"
    return "\n\n".join(f"{number}. {inert(item['quote'])}" for number, item in enumerate(basket, 1))


def render_status(status: dict) -> str:
    state = "需要重建" if status["stale"] else "最新"
    skipped = "".join(f"\n- {inert(s['file'])}：{inert(s['reason'])}" for s in status["skipped"])
    readings = "".join(f"\n- {inert(name)}：{inert(describe(reading))}" for name, reading in status.get("readings", {}).items())
    furniture = "".join(f"\n- {inert(line['text'])}（{line['documents']} 个文档）" for line in status.get("furniture", []))
    building = service.background.describe()
    return (f"**索引状态**：{state}（{inert(status['reason'])}）\n\n"
            f"- 文档：{status['documents']}　段落：{status['chunks']}\n- 模型：{inert(status['model'])}\n"
            f"- 上次构建：{inert(status['built'] or '从未')}\n- 版本：{inert(status['generation'] or '无')}"
            + (f"\n\n**未能索引的文件**：{skipped}" if skipped else "")
            + (f"\n\n**转换与识别**：{readings}" if readings else "")
            + (f"\n\n**多个文档重复的模板行**（已从段落中去除，原文不变）：{furniture}" if furniture else "")
            + (f"\n\n**{inert(building)}**" if building else ""))

