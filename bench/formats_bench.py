"""Unseen documents in every format, found and cited: the questions of bench/eval/formats.jsonl
against the seeds plus documents none of the tuning saw.

    python bench/formats_bench.py [--keep DIR]

The documents: seven summaries none of the tuning saw, the rehabilitation summary of
tests/data/formats and the texts of the six saved web pages of tests/data/web, each as .docx
(python-docx), .pdf, .doc and .wps (LibreOffice) and as an image-only scanned .pdf (typeset with
Noto Sans CJK, read by OCR); the rehabilitation summary also as a scanned .png and .jpg page;
the web pages as saved (.html, .htm, .mhtml). Each question is
asked of every file holding its content, restricted to that file (`documents=`), and once of the
whole corpus. A hit is relevant when it contains the evidence (whitespace and case folded). A
citation verifies when the text read from the file, sliced at the hit's offsets and cleaned, is
the hit's text, its lines are the offsets' lines, and for PDFs and scans the page holds the start.
Also counted: chunks of the unseen documents that still carry a line of site furniture (the
web pages' boilerplate sidecars). Table questions are skipped for scans (the page images carry
no table). The index is kept in .cache/bench/formats (or --keep), so a rerun embeds nothing new.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import ocr  # noqa: E402
from app.config import Settings  # noqa: E402
from app.documents import load  # noqa: E402
from app.evaluate import normalise  # noqa: E402
from app.index import build, readings_folder  # noqa: E402
from app.search import Searcher  # noqa: E402
from tests.making import SOURCE, convert, scan_pages, write_report, write_word  # noqa: E402

WEB = ROOT / "tests" / "data" / "web"
QUESTIONS = ROOT / "bench" / "eval" / "formats.jsonl"
TITLES = {
    "county_hospital_2024_summary": "某某县人民医院2024年度工作总结", "infection_control_plan": "医院感染管理工作计划",
    "medical_affairs_summary": "医务科2024年工作总结", "nursing_plan_2025_gbk": "2025年护理工作计划",
    "outpatient_halfyear_summary": "门诊部2025年上半年工作总结", "union_report_intranet": "院工会工作报告",
}
_SCANNED = [normalise(text) for _, text in scan_pages(SOURCE)]
PAGE_OF_SCAN = {"rehab-scan-first": _SCANNED[0], "rehab-scan-last": _SCANNED[-1]}


def make_corpus(folder: Path) -> dict[str, str]:
    """The seeds and the unseen documents in `folder`; {file name: content stem}."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for seed in (ROOT / "seeds").glob("*.txt"):
        shutil.copyfile(seed, folder / seed.name)
    work = folder.parent / "making"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    contents = {}
    write_report(work / "rehabilitation.docx")
    made = {"docx": work / "rehabilitation.docx", "pdf": convert(work / "rehabilitation.docx", "pdf", work),
            "doc": convert(work / "rehabilitation.docx", "doc", work)}
    made["wps"] = made["doc"]
    for kind, path in made.items():
        shutil.copyfile(path, folder / f"康复科总结.{kind}")
        contents[f"康复科总结.{kind}"] = "rehab"
    if ocr.available():
        pages = [image for image, _ in scan_pages(SOURCE)]
        pages[0].save(folder / "康复科总结扫描.png")
        pages[-1].convert("RGB").save(folder / "康复科总结扫描末页.jpg", quality=90)
        pages[0].save(folder / "康复科总结扫描.pdf", save_all=True, append_images=pages[1:], resolution=200)
        contents.update({"康复科总结扫描.png": "rehab-scan-first", "康复科总结扫描末页.jpg": "rehab-scan-last",
                         "康复科总结扫描.pdf": "rehab-scan"})
    for page in WEB.glob("*.*htm*"):
        shutil.copyfile(page, folder / page.name)
        contents[page.name] = page.name.split(".")[0]
    for expected in sorted(WEB.glob("*.expected.txt")):  # the pages' texts as offices and scanners deliver them too
        stem = expected.name.split(".")[0]
        lines = [line for line in expected.read_text("utf-8").splitlines() if line.strip()]
        write_word(work / f"{stem}.docx", TITLES[stem], lines, head=TITLES[stem][:12] + "（内部资料）")
        made = {"docx": work / f"{stem}.docx", "pdf": convert(work / f"{stem}.docx", "pdf", work),
                "doc": convert(work / f"{stem}.docx", "doc", work)}
        made["wps"] = made["doc"]
        for kind, path in made.items():
            shutil.copyfile(path, folder / f"{stem}.{kind}")
            contents[f"{stem}.{kind}"] = stem
        if ocr.available():
            pages = [image for image, _ in scan_pages([TITLES[stem], *(line for line in lines if " | " not in line)])]
            pages[0].save(folder / f"{stem}-scan.pdf", save_all=True, append_images=pages[1:], resolution=200)
            contents[f"{stem}-scan.pdf"] = stem + "-scan"
    return contents


def kind_of(name: str, content: str) -> str:
    return "scan " + name.rsplit(".", 1)[1] if content.endswith("-scan") or "-scan-" in content else name.rsplit(".", 1)[1]


def verified(document, hit) -> bool:
    if document.clean_slice(hit.start, hit.end) != hit.text:
        return False
    if (hit.line_start, hit.line_end) != (document.line_of(hit.start), document.line_of(hit.end - 1)):
        return False
    return hit.page_start == document.page_of(hit.start) and hit.page_end == document.page_of(hit.end - 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, default=ROOT / ".cache" / "bench" / "formats")
    args = parser.parse_args()
    began = time.perf_counter()
    contents = make_corpus(args.keep / "corpus")
    settings = Settings(seeds=args.keep / "corpus", index=args.keep / "index")
    report = build(settings.seeds, settings.index, settings.model)
    print(f"built in {time.perf_counter() - began:.0f} s; skipped: {report.skipped or 'none'}")
    for name, reading in sorted(report.readings.items()):
        print(f"  {name}: {json.dumps(reading, ensure_ascii=False)}")
    searcher = Searcher(settings)
    questions = [json.loads(line) for line in QUESTIONS.read_text("utf-8").splitlines()]
    cells: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for name, content in sorted(contents.items()):
        document = load(settings.seeds / name, settings.seeds, readings_folder(settings.index))  # as the index read it
        kind = kind_of(name, content)
        for question in questions:
            scanned = kind_of(name, content).startswith("scan")
            if not content.startswith(question["content"]) or (question["table"] and scanned):
                continue
            if content in PAGE_OF_SCAN and normalise(question["evidence"][0]) not in PAGE_OF_SCAN[content]:
                continue  # a single scanned page: only the questions it answers
            hits = searcher.search(question["query"], 5, documents=[name]).hits
            evidence = normalise(question["evidence"][0])
            cell = cells[kind]
            cell["questions"] += 1
            cell["hit@5"] += any(evidence in normalise(hit.text) for hit in hits)
            cell["citations"] += len(hits)
            cell["verified"] += sum(verified(document, hit) for hit in hits)
    furniture = [line for sidecar in WEB.glob("*.boilerplate.txt") for line in sidecar.read_text("utf-8").splitlines() if line]
    unseen = [c for c in searcher.generation.chunks if c.doc in contents]
    leaked = sum(any(normalise(line) in normalise(c.text) for line in furniture) for c in unseen)
    overall = sum(any(normalise(q["evidence"][0]) in normalise(h.text) for h in searcher.search(q["query"], 5).hits)
                  for q in questions)
    print("\n| format | questions | hit@5 (in its file) | citations verified |\n|---|---|---|---|")
    for kind, cell in sorted(cells.items()):
        print(f"| {kind} | {cell['questions']} | {cell['hit@5'] / cell['questions']:.3f} | "
              f"{cell['verified']}/{cell['citations']} |")
    print(f"\nwhole corpus (seeds + unseen, no filter): hit@5 {overall / len(questions):.3f} over {len(questions)} questions")
    print(f"chunks of unseen documents carrying a boilerplate line: {leaked} of {len(unseen)}")
    print(f"OCR: {'RapidOCR' if ocr.available() else 'not installed: scans skipped'}; "
          f"{time.perf_counter() - began:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
