"""Saved web pages (.html, .htm; .mhtml/.mht as Chrome and Edge save "single file" pages): the
page's main text, then the same cleaning as a .txt.

readability-lxml finds the article (measured against trafilatura and jusText on Chinese template
and intranet pages, bench/html_bench.py: it never lost text, where trafilatura dropped headings
and merged layout tables, and jusText has no Chinese). Around it: the bytes are decoded here
(BOM, declared charset with GB2312/GBK widened to GB18030, else UTF-8), data tables become one
line per row that keeps its header (readability drops short tables), layout tables and short
blocks that are mostly links (related articles, previous/next, inline ads) go, and the text
keeps one line per block and per <br>. Scripts and styles are never text.
"""

from __future__ import annotations

import email
import email.policy
import re

from .common import Extracted, SkippedFile
from .office import table_lines

META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_-]+)""", re.IGNORECASE)
#: Pages that say gb2312 routinely hold GBK-only characters (堃); Big5 pages, HKSCS ones.
WIDER = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030", "big5": "big5hkscs"}
BLOCKS = {"p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "table", "tbody", "thead", "tr",
          "section", "article", "blockquote", "pre", "dd", "dt", "dl", "header", "footer", "nav", "aside", "main", "center"}
LEAVES = ("p", "div", "li", "dd", "dt", "td", "span", "font", "center")
SPACES = re.compile(r"\s+")
NOT_A_PAGE = "不是有效的网页文件（无法解析 HTML）"


def decode_html(data: bytes, declared: str | None = None) -> str:
    """An HTML page's bytes as text: BOM, then the declared charset (MIME header, then <meta>),
    else UTF-8, else GB18030."""
    for mark, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(mark):
            return data[len(mark):].decode(codec, errors="replace")
    found = META_CHARSET.search(data[:4096])
    for name in (declared, found.group(1).decode("ascii") if found else None):
        if name:
            try:
                return data.decode(WIDER.get(name.lower(), name.lower()))
            except (LookupError, UnicodeDecodeError):
                continue
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def mhtml_page(data: bytes, name: str) -> str:
    """The main HTML part of an MHTML archive, decoded (Chrome declares no charset on it)."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    parts = [part for part in message.walk() if part.get_content_type() == "text/html"]
    if not parts:
        raise SkippedFile(name, "MHTML 文件中没有网页正文部分")
    root = message.get("Snapshot-Content-Location")
    part = next((p for p in parts if root and p.get("Content-Location") == root), parts[0])
    return decode_html(part.get_payload(decode=True) or b"", part.get_content_charset())


def _is_data_table(table) -> bool:
    """A table of figures, not page layout: no nested table, two rows and columns or more,
    short cells without paragraphs."""
    rows = table.findall(".//tr")
    if table.find(".//table") is not None or len(rows) < 2:
        return False
    if max(len(row.findall("td")) + len(row.findall("th")) for row in rows) < 2:
        return False
    return all(len(cell.text_content().strip()) <= 60 and len(cell.findall(".//br")) <= 1
               and cell.find(".//p") is None and cell.find(".//div") is None for cell in table.iter("td", "th"))


def _tables_as_rows(tree) -> int:
    """Each data table replaced by one <p> per row naming its columns; layout tables become
    plain blocks. Returns the number of data tables."""
    import lxml.html

    count = 0
    for table in list(tree.iter("table")):
        if table.getparent() is None:
            continue
        if not _is_data_table(table):
            for element in [table, *table.iter("tbody", "thead", "tfoot", "tr", "td", "th")]:
                element.tag = "div"
            continue
        cells = [[SPACES.sub(" ", cell.text_content()).strip() for cell in row if cell.tag in ("td", "th")]
                 for row in table.iter("tr")]
        rows = []
        for line in table_lines(cells):
            rows.append(lxml.html.Element("p"))
            rows[-1].text = line
        parent, at = table.getparent(), table.getparent().index(table)
        if rows:
            rows[-1].tail = table.tail
        parent.remove(table)
        for offset, paragraph in enumerate(rows):
            parent.insert(at + offset, paragraph)
        count += 1
    return count


def _drop_link_blocks(tree, max_chars: int = 80, share: float = 0.5) -> None:
    """Remove short leaf blocks that are mostly link text (ads, 上一篇/下一篇, 相关推荐 lists)."""
    for element in list(tree.iter(*LEAVES)):
        if any(child.tag in BLOCKS and child.tag != "br" for child in element):
            continue
        text = element.text_content().strip()
        links = sum(len(a.text_content().strip()) for a in element.iter("a"))
        if text and len(text) <= max_chars and links >= share * len(text) and element.getparent() is not None:
            element.drop_tree()


def _lines(tree) -> str:
    """The text of a tree, a line break at every block boundary and <br>."""
    out: list[str] = []

    def walk(element) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in ("script", "style", "noscript", "template") or not tag:  # comments and processing instructions too
            out.append(element.tail or "")
            return
        if tag in BLOCKS:
            out.append("\n")
        out.append(element.text or "")
        for child in element:
            walk(child)
        if tag in BLOCKS:
            out.append("\n")
        out.append(element.tail or "")

    walk(tree)
    lines = (SPACES.sub(" ", line).strip() for line in "".join(out).split("\n"))
    return "\n".join(line for line in lines if line) + "\n"


def read_web(raw: bytes, name: str, suffix: str) -> Extracted:
    """The main text of a saved web page."""
    import lxml.etree
    import lxml.html
    from readability import Document as Readable

    page = mhtml_page(raw, name) if suffix in (".mhtml", ".mht") else decode_html(raw)
    page = re.sub(r"^\s*<\?xml[^>]*\?>", "", page)  # lxml refuses an encoding declaration in a str
    try:
        tree = lxml.html.document_fromstring(page)
        tables = _tables_as_rows(tree)
        article = lxml.html.fromstring(Readable(lxml.html.tostring(tree, encoding="unicode")).summary(html_partial=True))
    except (lxml.etree.ParserError, lxml.etree.XMLSyntaxError, ValueError) as error:
        raise SkippedFile(name, NOT_A_PAGE) from error
    _drop_link_blocks(article)
    text = _lines(article)
    if not text.strip():
        raise SkippedFile(name, "网页中没有找到正文")
    return Extracted(text, "html", "readability", join_wraps=False, tables=tables)  # a block is a paragraph
