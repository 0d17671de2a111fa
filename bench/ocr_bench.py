"""Benchmark of the OCR stage (app/ocr.py) on page images rendered from the real seed texts.

    python bench/ocr_bench.py [--pages N] [--repeat N] [--sweep] [--save DIR]

Paragraph lines of seeds/*.txt (read with the project's decoder, short lines such as headings
skipped) are typeset with Noto Sans CJK on A4 pages at 200 dpi (1654x2339), black on white, in
two layouts: the bench's dense page (40 px type, 25 lines of at most 32 full-width characters,
~700 characters with the short ends of paragraphs) and a page of an official document as
GB/T 9704 lays it out (16 pt, 22 lines of 28, ~550 characters). The "scan-like" variant rotates
the page by 0.5°, greys the paper, blurs and adds noise. CER is the character edit distance between
OCR text and the page's text, whitespace removed, over the reference length: "CER" after NFKC
(full- and half-width punctuation count as equal), "CER raw" without. Speed is pages per second
of `recognise` alone, one page at a time on both cores (the engine is loaded and warmed first;
each page timed as the best of `--repeat` runs), and of `recognise_pages`, which a scanned PDF
uses: its pages side by side, one a core (the whole run timed, best of `--repeat`). `--sweep`
times detector and engine settings on the clean pages; `--save` writes the pages (PNG +
reference text) for other engines.
Goals: CER <= 3 % on clean pages and >= 1 page/s on 2 cores.
"""

from __future__ import annotations

import argparse
import sys
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import ocr  # noqa: E402
from app.evaluate import character_error_rate  # noqa: E402
from app.formats.text import decode  # noqa: E402

FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
PAGE = (1654, 2339)  # A4 at 200 dpi
MIN_PARAGRAPH = 20  # lines shorter than this (headings, numbering) are skipped


@dataclass(frozen=True)
class Layout:
    """How a page is typeset, in pixels at 200 dpi."""

    font_px: int
    pitch: int  # baseline to baseline
    margin_x: int
    margin_y: int
    chars: int  # full-width characters a line at most
    lines: int  # lines a page


#: The bench's dense page: 25 lines of up to 32 characters (~700 characters).
DENSE = Layout(font_px=40, pitch=76, margin_x=207, margin_y=230, chars=32, lines=25)
#: A page of a Chinese official document as GB/T 9704-2012 lays it out: 16 pt type, 22 lines of
#: 28 characters (~550 characters), 28 mm left and 37 mm top margins.
OFFICIAL = Layout(font_px=44, pitch=80, margin_x=220, margin_y=291, chars=28, lines=22)


def sweep_settings() -> dict[str, dict[str, object]]:
    """Name -> overrides of app.ocr's RapidOCR settings; {} is the chosen configuration."""
    from rapidocr.utils.typings import EngineType

    ort = {"Det.engine_type": EngineType.ONNXRUNTIME}
    defaults = {**ort, "Det.limit_type": "min", "Det.limit_side_len": 736, "Global.max_side_len": 2000,
                "Det.unclip_ratio": 1.6, "Rec.rec_batch_num": 6}
    return {  # rows after the first two change the chosen settings (see app/ocr.py) one at a time
        "RapidOCR defaults, classifier off (ORT det min side 736: whole 2000 px page; unclip 1.6; rec batch 6)": defaults,
        "RapidOCR defaults with the angle classifier": {**defaults, "Global.use_cls": True},
        "ORT det max side 1600": {**ort, "Det.limit_side_len": 1600},
        "ORT det max side 1280": {**ort, "Det.limit_side_len": 1280},
        "ORT det max side 960": ort,
        "OpenVINO det max side 1600": {"Det.limit_side_len": 1600},
        "OpenVINO det max side 1280": {"Det.limit_side_len": 1280},
        "chosen: OpenVINO det max side 960, unclip 2.0, ORT rec batch 1, 2 threads": {},
        "chosen, det unclip ratio 1.6 (RapidOCR default)": {"Det.unclip_ratio": 1.6},
        "chosen, rec batch 6": {"Rec.rec_batch_num": 6},
        "chosen, rec on OpenVINO": {"Rec.engine_type": EngineType.OPENVINO},
        "chosen, threads unset (-1: library default)": {"EngineConfig.onnxruntime.intra_op_num_threads": -1,
                                                       "EngineConfig.onnxruntime.inter_op_num_threads": -1,
                                                       "EngineConfig.openvino.inference_num_threads": -1},
        "chosen, 1 thread": {"EngineConfig.onnxruntime.intra_op_num_threads": 1,
                             "EngineConfig.openvino.inference_num_threads": 1},
    }


def paragraphs() -> list[str]:
    """Plain paragraph lines of the seed files, in file order."""
    found = []
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        text, _ = decode(path.read_bytes(), path.name)
        found += [line.strip() for line in text.splitlines() if len(line.strip()) >= MIN_PARAGRAPH]
    return found


def wrap(paragraph: str, font: ImageFont.FreeTypeFont, layout: Layout) -> list[str]:
    """Cut a paragraph into lines of at most `layout.chars` full-width characters (first line
    indented by two ideographic spaces)."""
    lines, current = [], "\u3000\u3000"
    for char in paragraph:
        if font.getlength(current + char) > layout.chars * layout.font_px:
            lines.append(current)
            current = ""
        current += char
    return lines + [current] if current.strip() else lines


def page_texts(count: int, font: ImageFont.FreeTypeFont, layout: Layout = DENSE) -> list[list[str]]:
    """`count` pages of `layout.lines` lines each, filled with the seed paragraphs in order."""
    lines = [line for paragraph in paragraphs() for line in wrap(paragraph, font, layout)]
    pages = [lines[i:i + layout.lines] for i in range(0, len(lines), layout.lines)]
    return [page for page in pages if len(page) == layout.lines][:count]


def render(lines: list[str], font: ImageFont.FreeTypeFont, layout: Layout = DENSE) -> Image.Image:
    image = Image.new("L", PAGE, 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((layout.margin_x, layout.margin_y + i * layout.pitch), line, fill=0, font=font)
    return image


def scan_like(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """0.5° rotation, grey paper (ink at 40, paper at 225), slight blur, gaussian noise (sigma 10)."""
    values = np.asarray(image, dtype=np.float32) / 255 * 185 + 40
    grey = Image.fromarray(values.astype(np.uint8)).rotate(0.5, resample=Image.Resampling.BICUBIC, fillcolor=225)
    blurred = np.asarray(grey.filter(ImageFilter.GaussianBlur(0.8)), dtype=np.float32)
    noisy = blurred + rng.normal(0, 10, blurred.shape)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def squeeze(text: str, nfkc: bool) -> str:
    text = unicodedata.normalize("NFKC", text) if nfkc else text
    return "".join(text.split())


def cer(hypothesis: str, reference: str, nfkc: bool = True) -> float:
    return character_error_rate(squeeze(reference, nfkc), squeeze(hypothesis, nfkc))


def measure(images: list[Image.Image], references: list[str], repeat: int = 1) -> dict[str, float]:
    """Run recognise over the pages; totals of CER (both ways), confidence and speed.

    Each page's time is the best of `repeat` runs, so that other work on a shared machine does
    not count (the text is the same each run)."""
    ocr.recognise(images[0])  # warm-up: sessions and memory arenas
    hypotheses, seconds = [], 0.0
    confidences = []
    for image in images:
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            page = ocr.recognise(image)
            best = min(best, time.perf_counter() - start)
        seconds += best
        hypotheses.append(page.text)
        confidences.append(page.confidence)
    return {
        "cer": sum(cer(h, r) * len(squeeze(r, True)) for h, r in zip(hypotheses, references))
        / sum(len(squeeze(r, True)) for r in references),
        "cer_raw": sum(cer(h, r, False) * len(squeeze(r, False)) for h, r in zip(hypotheses, references))
        / sum(len(squeeze(r, False)) for r in references),
        "confidence": float(np.mean(confidences)),
        "pages_per_s": len(images) / seconds,
    }


def side_by_side(images: list[Image.Image], repeat: int = 1) -> float:
    """Pages per second of `recognise_pages` over all `images` (best of `repeat` runs)."""
    list(ocr.recognise_pages(images[:2]))  # warm-up: the single-threaded engines
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        list(ocr.recognise_pages(images))
        best = min(best, time.perf_counter() - start)
    return len(images) / best


def use_settings(overrides: dict[str, object]) -> None:
    """Replace app.ocr's engine by one built with these overrides of its settings."""
    import rapidocr

    models = Path(rapidocr.__file__).parent / "models"
    ocr._engine = rapidocr.RapidOCR(params={**ocr._params(models), **overrides})


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=12)
    parser.add_argument("--sweep", action="store_true", help="also time detector and engine settings on clean pages")
    parser.add_argument("--save", type=Path, help="write the pages and their reference texts here")
    parser.add_argument("--repeat", type=int, default=2, help="time each page as the best of this many runs")
    args = parser.parse_args()
    if not ocr.available():
        raise SystemExit("rapidocr is not installed")
    print(f"CPU: {cpu_model()} ({len(__import__('os').sched_getaffinity(0))} cores usable)\n")
    rng = np.random.default_rng(20261201)
    variants: dict[str, tuple[list[Image.Image], list[str]]] = {}
    for label, layout in (("dense page", DENSE), ("公文 page (GB/T 9704)", OFFICIAL)):
        font = ImageFont.truetype(str(FONT), layout.font_px, index=2)  # the Simplified face (0 is Japanese: 门 reads as 内)
        texts = page_texts(args.pages, font, layout)
        references = ["".join(lines) for lines in texts]
        clean = [render(lines, font, layout) for lines in texts]
        variants[f"{label}, clean"] = (clean, references)
        variants[f"{label}, scan-like"] = ([scan_like(image, rng) for image in clean], references)
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        for number, (images, references) in enumerate(variants.values()):
            for i, (image, reference) in enumerate(zip(images, references)):
                image.save(args.save / f"{number}_{i:02d}.png")
                (args.save / f"{number}_{i:02d}.txt").write_text(reference, encoding="utf-8")
    start = time.perf_counter()
    ocr.recognise(Image.new("L", (64, 64), 255))
    print(f"engine load: {time.perf_counter() - start:.2f} s\n")
    print("| variant | pages | characters a page | CER | CER raw | mean confidence | pages/s, one at a time "
          "| pages/s, side by side |\n| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, (images, references) in variants.items():
        m = measure(images, references, args.repeat)
        characters = sum(len(squeeze(r, True)) for r in references) / len(references)
        print(f"| {name} | {len(images)} | {characters:.0f} | {m['cer']:.2%} | {m['cer_raw']:.2%} | {m['confidence']:.3f} "
              f"| {m['pages_per_s']:.2f} | {side_by_side(images, args.repeat):.2f} |")
    clean, references = variants["dense page, clean"]
    if args.sweep:
        print("\n| setting (clean pages) | CER | pages/s |\n| --- | --- | --- |")
        for name, overrides in sweep_settings().items():
            use_settings(overrides)
            m = measure(clean, references, args.repeat)
            print(f"| {name} | {m['cer']:.2%} | {m['pages_per_s']:.2f} |")


if __name__ == "__main__":
    main()
