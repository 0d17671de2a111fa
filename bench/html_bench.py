"""Main text from saved web pages (.html, .htm, .mhtml): the app's reader against other extractors.

    .venv/bin/python bench/html_bench.py [--show NAME] [--reps 5]

Runs every extractor on tests/data/web/ and prints markdown tables. Each page <stem>.<ext> has sidecars
<stem>.expected.txt (the main text, one paragraph a line; a data-table row is written "cell | cell | cell", header
first) and <stem>.boilerplate.txt (site text that must not come out). An .mhtml shares the sidecars of its .html.

The row "this app" is the app's real path: app.formats.web.read_web on the file's bytes, then app.documents.clean
(join_wraps=False). Its line filters were extended while these pages were written, so its leak figure is in-sample.
The other rows hand each extractor the page as str, decoded by app.formats.web (decode_html; mhtml_page for an
.mhtml); they are optional: one not installed is reported once and its rows are skipped.

Figures, per extractor over all pages:
- recall: expected lines (not table rows) whose text, whitespace removed, occurs in the output, whitespace removed;
- leaked: boilerplate lines (whitespace removed) found in the output;
- table rows: expected rows whose cells all come out in order on one output line, with anything between them, so
  "内科 | 86420 | +9.1%" and the app's "科室：内科；门诊人次：86420；同比：+9.1%" both count (cells: how many come out at all);
- headings: expected heading lines (一、… / （一）…) that are a whole output line (markdown markers # * - > stripped);
- ms/page: median wall time of one extraction, averaged over pages.

Then: per page figures; a small-table probe (a 2×2 table added to the page with a data table: readability drops
short tables); and decoding: the raw bytes of the GBK page (declared gb2312, holds the GBK-only 堃) handed to each
extractor, which then decodes them itself, against the str above.

Optional: trafilatura==2.3.1, justext==3.0.2, beautifulsoup4==4.15.0 (not in requirements). readability-lxml is.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import lxml.html
from readability import Document as Readable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.documents import clean  # noqa: E402
from app.formats.common import SkippedFile  # noqa: E402
from app.formats.web import _lines, decode_html, mhtml_page, read_web  # noqa: E402

DATA = ROOT / "tests" / "data" / "web"
PAGE_SUFFIXES = (".html", ".htm", ".mhtml", ".mht")
GBK_PAGE = "nursing_plan_2025_gbk.html"
GBK_PROBE = "刘堃"  # GBK-only character: a strict gb2312 decode loses it
APP = "this app (app.formats.web.read_web + documents.clean)"
OPTIONAL = {"trafilatura": "trafilatura==2.3.1", "justext": "justext==3.0.2", "bs4": "beautifulsoup4==4.15.0"}
HEADING = re.compile(r"^(?:[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）)")
WS = re.compile(r"\s+")

#: An extractor: (the page's HTML as str or bytes, its file name, its suffix) -> main text.
Run = Callable[[str | bytes, str, str], str]


def nows(text: str) -> str:
    return WS.sub("", text)


def optional(module: str):
    """The module, or None after saying once that it is not installed."""
    try:
        return importlib.import_module(module)
    except ImportError:
        print(f"not installed: {module} (pip install {OPTIONAL[module]})")
        return None


# ----------------------------------------------------------------------------------------------- extractors
def this_app(data: str | bytes, name: str, suffix: str) -> str:
    raw = data if isinstance(data, bytes) else b"\xef\xbb\xbf" + data.encode("utf-8")  # a BOM: decode_html obeys it
    try:
        return "\n".join(p.text for p in clean(read_web(raw, name, suffix).text, join_wraps=False))
    except SkippedFile:
        return ""


def extractors() -> dict[str, Run]:
    runs: dict[str, Run] = {APP: this_app}
    if trafilatura := optional("trafilatura"):
        for label, options in {
            "defaults (txt)": {},
            "txt, tables, favor_recall, no comments": dict(include_tables=True, include_comments=False, favor_recall=True),
            "markdown+formatting, tables, no comments": dict(output_format="markdown", include_formatting=True,
                                                             include_tables=True, include_comments=False),
        }.items():
            runs[f"trafilatura {label}"] = lambda html, name, suffix, options=options: trafilatura.extract(html, **options) or ""

    def summary(html: str | bytes):
        return lxml.html.fromstring(Readable(html).summary(html_partial=True))

    runs["readability summary, text_content()"] = lambda html, name, suffix: summary(html).text_content()
    runs["readability summary, app.formats.web._lines"] = lambda html, name, suffix: _lines(summary(html))
    if justext := optional("justext"):
        # No Chinese stoplist, and words counted by whitespace: the language-independent mode is an empty
        # stoplist with both stopword thresholds at 0.
        def run_justext(html: str | bytes, name: str, suffix: str) -> str:
            paragraphs = justext.justext(html, frozenset(), stopwords_low=0, stopwords_high=0)
            return "\n".join(p.text for p in paragraphs if not p.is_boilerplate)

        runs["jusText, empty stoplist"] = run_justext
    if bs4 := optional("bs4"):
        def run_soup(html: str | bytes, name: str, suffix: str) -> str:
            soup = bs4.BeautifulSoup(html, "lxml")
            for tag in soup(["script", "style", "noscript", "template"]):
                tag.decompose()
            return soup.get_text("\n", strip=True)

        runs["BeautifulSoup get_text (baseline)"] = run_soup
    return runs


# ----------------------------------------------------------------------------------------------- scoring
class Page:
    def __init__(self, path: Path):
        self.path, self.name, self.suffix = path, path.name, path.suffix.lower()
        self.raw = path.read_bytes()  # the file as saved: what the app reads
        self.text = mhtml_page(self.raw, self.name) if self.suffix in (".mhtml", ".mht") else decode_html(self.raw)
        stem = DATA / path.name.rsplit(".", 1)[0]
        expected = Path(f"{stem}.expected.txt").read_text(encoding="utf-8").splitlines()
        self.rows = [[cell.strip() for cell in line.split("|")] for line in expected if " | " in line]
        self.lines = [line for line in expected if line.strip() and " | " not in line]
        self.headings = [line for line in self.lines if HEADING.match(line) and len(line) <= 30 and "。" not in line]
        boiler = Path(f"{stem}.boilerplate.txt").read_text(encoding="utf-8").splitlines()
        self.boilerplate = [line for line in boiler if line.strip()]

    def input_for(self, name: str) -> str | bytes:
        return self.raw if name == APP else self.text


def row_intact(row: list[str], lines: list[str]) -> bool:
    """All cells of a row in order on one line, anything (at least one character) between two of them."""
    pattern = re.compile(".+?".join(map(re.escape, row)))
    return any(pattern.search(line) for line in lines)


def score(page: Page, text: str) -> dict[str, int]:
    flat, lines = nows(text), text.splitlines()
    alone = {nows(re.sub(r"^[#>*\-\s]+|[*\s]+$", "", line)) for line in lines}
    return {
        "found": sum(nows(line) in flat for line in page.lines), "lines": len(page.lines),
        "leaked": sum(nows(line) in flat for line in page.boilerplate), "boiler": len(page.boilerplate),
        "rows_ok": sum(row_intact(row, lines) for row in page.rows), "rows": len(page.rows),
        "cells_ok": sum(cell in flat for row in page.rows for cell in row), "cells": sum(map(len, page.rows)),
        "heads_ok": sum(nows(h) in alone for h in page.headings), "heads": len(page.headings),
    }


def timed(run: Run, page: Page, name: str, reps: int) -> tuple[str, float]:
    times, text = [], ""
    for _ in range(reps):
        start = time.perf_counter()
        text = run(page.input_for(name), page.name, page.suffix)
        times.append(time.perf_counter() - start)
    return text, statistics.median(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", metavar="NAME", help="print each extractor's output for the page whose file name contains NAME")
    parser.add_argument("--reps", type=int, default=5, help="timed runs per page and extractor (median kept)")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # trafilatura and readability log every page

    pages = [Page(p) for p in sorted(DATA.iterdir()) if p.suffix.lower() in PAGE_SUFFIXES]
    if not pages:
        print(f"no pages in {DATA}", file=sys.stderr)
        return 1
    runs = extractors()
    for name, run in runs.items():  # warm-up: imports, lazy caches
        run(pages[0].input_for(name), pages[0].name, pages[0].suffix)

    print(f"\n## Main text from {len(pages)} saved pages ({', '.join(p.name for p in pages)})\n")
    print("| extractor | recall | leaked boilerplate lines | table rows intact (cells) | headings on own line | ms/page |")
    print("|---|---|---|---|---|---|")
    per_page: dict[str, dict[str, dict[str, int]]] = {}
    for name, run in runs.items():
        total: dict[str, int] = {}
        millis = []
        per_page[name] = {}
        for page in pages:
            text, ms = timed(run, page, name, args.reps)
            millis.append(ms)
            per_page[name][page.name] = figures = score(page, text)
            for key, value in figures.items():
                total[key] = total.get(key, 0) + value
            if args.show and args.show in page.name:
                print(f"\n--- {name} on {page.name}\n{text}\n", file=sys.stderr)
        recall = f"{total['found'] / total['lines']:.1%} ({total['found']}/{total['lines']})"
        rows = f"{total['rows_ok']}/{total['rows']} ({total['cells_ok']}/{total['cells']})"
        print(f"| {name} | {recall} | {total['leaked']}/{total['boiler']} | {rows} | {total['heads_ok']}/{total['heads']} "
              f"| {statistics.mean(millis):.1f} |")

    print("\n## Per page: recall found/lines, leaked, headings\n")
    print("| extractor | " + " | ".join(p.name for p in pages) + " |")
    print("|---|" + "---|" * len(pages))
    for name, figures in per_page.items():
        cells = [f"{f['found']}/{f['lines']}, L{f['leaked']}, H{f['heads_ok']}/{f['heads']}" for f in figures.values()]
        print(f"| {name} | " + " | ".join(cells) + " |")

    host = next((p for p in pages if p.rows), None)
    if host is not None:
        anchor = "</p>"  # after the first paragraph of the article
        probe = "<table border=\"1\"><tr><th>指标</th><th>数值</th></tr><tr><td>床位</td><td>520</td></tr></table>"
        at = host.text.find(anchor, host.text.find("<p>" + host.lines[0][:10])) + len(anchor)
        probed = host.text[:at] + probe + host.text[at:]
        rows = [["指标", "数值"], ["床位", "520"]]
        print(f"\n## Small-table probe: a 2×2 table (指标 | 数值 / 床位 | 520) added to {host.name}\n")
        print("| extractor | both rows intact | cells out |")
        print("|---|---|---|")
        for name, run in runs.items():
            out = run(probed, host.name, host.suffix)  # the app gets it as UTF-8 bytes with a BOM
            ok = sum(row_intact(row, out.splitlines()) for row in rows)
            print(f"| {name} | {ok}/2 | {sum(cell in out for row in rows for cell in row)}/4 |")

    gbk = next((p for p in pages if p.name == GBK_PAGE), None)
    if gbk is not None:
        print(f"\n## Decoding: raw bytes of {GBK_PAGE} (GBK bytes, <meta charset=\"gb2312\">), decoded by the extractor\n")
        print(f"| extractor | recall from bytes | '{GBK_PROBE}' from bytes | U+FFFD in output | recall from our str |")
        print("|---|---|---|---|---|")
        for name, run in runs.items():
            from_bytes = run(gbk.raw, gbk.name, gbk.suffix)
            figures, from_str = score(gbk, from_bytes), per_page[name][GBK_PAGE]
            str_cell = "— (takes bytes)" if name == APP else f"{from_str['found']}/{from_str['lines']}"
            print(f"| {name} | {figures['found']}/{figures['lines']} | {'yes' if GBK_PROBE in from_bytes else 'no'} "
                  f"| {from_bytes.count(chr(0xFFFD))} | {str_cell} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
