"""OCR of scanned pages: PP-OCRv6 (det + rec, small) through RapidOCR on onnxruntime, CPU only.

The models ship inside the `rapidocr` wheel and are loaded from its package folder by explicit
path, so nothing is ever downloaded. The engine is built once, lazily, under a module lock, and
limited to two threads. Several pages (a scanned PDF) are read side by side instead, one a core,
each by its own single-threaded engine: a page's work is many small recognitions that two
threads share badly (bench/ocr_bench.py). Pages whose longer side exceeds MAX_SIDE pixels are
downscaled first; boxes are reported in the pixels of the image given. Lines are returned in reading order for a
single-column page: rows top to bottom, and the pieces the detector finds on one visual row are
merged left to right into one line.
"""

from __future__ import annotations

import importlib.util
import itertools
import queue
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

MAX_SIDE = 2500  # scans at 300 dpi (2480x3508) are shrunk to this longer side before OCR
THREADS = 2
WORKERS = 2  # pages read side by side by recognise_pages, one single-threaded engine each
TEXT_SCORE = 0.5  # lines the recogniser is less sure of are dropped
DET_SIDE = 960  # the detector sees the page with its longer side at this size: 7 pt type still found (bench/ocr_bench.py)
UNCLIP = 2.0  # looser line boxes than RapidOCR's 1.6: smaller glyphs in the 48 px recogniser input, ~20 % faster, same CER
ROW_OVERLAP = 0.5  # share of the lower box's height two boxes must overlap vertically to be one row

_lock = threading.Lock()  # guards building the engine
_run_lock = threading.Lock()  # one page at a time: an OpenVINO infer request is not re-entrant, and two cores are busy anyway
_engine: Any = None
_solo_engines: queue.Queue | None = None  # WORKERS single-threaded engines, each used by one page at a time


class OcrUnavailable(Exception):
    """The OCR engine (the rapidocr package, with onnxruntime) is not installed."""


@dataclass(frozen=True)
class OcrLine:
    text: str
    confidence: float
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in the input image's pixels


@dataclass(frozen=True)
class OcrPage:
    lines: tuple[OcrLine, ...]
    width: int
    height: int

    @property
    def confidence(self) -> float:
        """Mean line confidence weighted by character count; 0.0 for a page without text."""
        weights = [len(line.text) for line in self.lines]
        total = sum(weights)
        return sum(w * line.confidence for w, line in zip(weights, self.lines)) / total if total else 0.0

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


def available() -> bool:
    """True when rapidocr and onnxruntime can be imported."""
    return all(importlib.util.find_spec(name) is not None for name in ("rapidocr", "onnxruntime"))


def identity() -> str:
    """A short fingerprint of the engine and its settings ("none" when not installed): readings
    cached by app/formats are read again when it changes."""
    if not available():
        return "none"
    import hashlib
    from importlib.metadata import version

    settings = sorted((key, str(value)) for key, value in _params(Path("models")).items())
    described = f"rapidocr {version('rapidocr')} {settings} {MAX_SIDE} {ROW_OVERLAP}"
    return hashlib.sha256(described.encode()).hexdigest()[:10]


def _params(models: Path) -> dict[str, Any]:
    """RapidOCR settings: bundled model files by path, two threads, no angle classifier.

    The detector runs on OpenVINO when it is installed (2.5x faster than onnxruntime here); the
    recogniser on onnxruntime, one line at a time (batches are padded to their widest line).
    """
    from rapidocr.utils.typings import EngineType

    det_engine = EngineType.OPENVINO if importlib.util.find_spec("openvino") else EngineType.ONNXRUNTIME
    return {
        "Global.log_level": "error",
        "Global.use_cls": False,  # pages are upright; the 180° classifier only costs time
        "Global.text_score": TEXT_SCORE,
        "Global.max_side_len": MAX_SIDE,
        "Global.model_root_dir": str(models),
        "EngineConfig.onnxruntime.intra_op_num_threads": THREADS,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        "EngineConfig.openvino.inference_num_threads": THREADS,
        "Det.engine_type": det_engine,
        "Det.model_path": str(models / "PP-OCRv6_det_small.onnx"),
        "Det.limit_type": "max",
        "Det.limit_side_len": DET_SIDE,
        "Det.unclip_ratio": UNCLIP,
        "Cls.model_path": str(models / "ch_ppocr_mobile_v2.0_cls_mobile.onnx"),
        "Rec.model_path": str(models / "PP-OCRv6_rec_small.onnx"),
        "Rec.rec_batch_num": 1,
    }


def _new_engine(threads: int) -> Any:
    if not available():
        raise OcrUnavailable("OCR 组件未安装（需要 rapidocr 与 onnxruntime）")
    import cv2
    import rapidocr

    cv2.setNumThreads(THREADS)
    params = _params(Path(rapidocr.__file__).parent / "models")
    params.update({"EngineConfig.onnxruntime.intra_op_num_threads": threads,
                   "EngineConfig.openvino.inference_num_threads": threads})
    return rapidocr.RapidOCR(params=params)


def _get_engine() -> Any:
    global _engine
    if _engine is None:
        with _lock:
            if _engine is None:
                _engine = _new_engine(THREADS)
    return _engine


def _solo_engine_pool() -> queue.Queue:
    global _solo_engines
    if _solo_engines is None:
        with _lock:
            if _solo_engines is None:
                engines: queue.Queue = queue.Queue()
                for _ in range(WORKERS):
                    engines.put(_new_engine(1))
                _solo_engines = engines
    return _solo_engines


def _to_rgb(image: Image.Image) -> Image.Image:
    """Any PIL mode to RGB, transparent areas on white."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode.startswith("I") or image.mode == "F":  # 16/32-bit grey: scale into 0..255
        values = np.asarray(image, dtype=np.float32)
        values = values / 257 if values.max(initial=0) > 255 else values
        image = Image.fromarray(np.clip(values, 0, 255).astype(np.uint8))
    return image.convert("RGB")


def _join(left: str, right: str) -> str:
    """Join two pieces of one row: no space between CJK text, one space otherwise."""
    if not left or not right or (left[-1] > "\u2e7f" and right[0] > "\u2e7f"):
        return left + right
    return f"{left} {right}"


def _merge_row(row: list[OcrLine]) -> OcrLine:
    row.sort(key=lambda line: line.box[0])
    text = ""
    for line in row:
        text = _join(text, line.text)
    chars = sum(len(line.text) for line in row)
    confidence = sum(len(line.text) * line.confidence for line in row) / chars
    box = (min(b.box[0] for b in row), min(b.box[1] for b in row), max(b.box[2] for b in row), max(b.box[3] for b in row))
    return OcrLine(text, confidence, box)


def reading_order(lines: list[OcrLine]) -> tuple[OcrLine, ...]:
    """Group boxes into visual rows (vertical overlap, which tolerates slight skew), rows top to bottom."""
    rows: list[list[OcrLine]] = []
    for line in sorted(lines, key=lambda line: (line.box[1] + line.box[3]) / 2):
        if rows:
            last = rows[-1]
            top, bottom = min(b.box[1] for b in last), max(b.box[3] for b in last)
            overlap = min(bottom, line.box[3]) - max(top, line.box[1])
            if overlap >= ROW_OVERLAP * min(line.box[3] - line.box[1], bottom - top):
                last.append(line)
                continue
        rows.append([line])
    return tuple(_merge_row(row) for row in rows)


def recognise(image: Image.Image) -> OcrPage:
    """OCR one page image (any PIL mode) on both cores; raises OcrUnavailable when the engine is
    not installed."""
    engine = _get_engine()
    with _run_lock:
        return _read(engine, image)


def recognise_pages(images: Iterable[Image.Image]) -> Iterator[OcrPage]:
    """OCR page images in order: a single page as `recognise` does, several side by side, one a
    core. Images are drawn from `images` only as workers free up (at most WORKERS + 1 held), so
    the pages of a long scan are never all in memory; raises OcrUnavailable as `recognise`."""
    images = iter(images)
    first, second = next(images, None), next(images, None)
    if first is None:
        return
    if second is None:
        yield recognise(first)
        return
    engines = _solo_engine_pool()

    def read_alone(image: Image.Image) -> OcrPage:
        engine = engines.get()
        try:
            return _read(engine, image)
        finally:
            engines.put(engine)

    with ThreadPoolExecutor(WORKERS, thread_name_prefix="ocr") as pool:
        pending: deque = deque()
        for image in itertools.chain((first, second), images):
            pending.append(pool.submit(read_alone, image))
            if len(pending) > WORKERS:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _read(engine: Any, image: Image.Image) -> OcrPage:
    width, height = image.size
    rgb = _to_rgb(image)
    scale = min(1.0, MAX_SIDE / max(width, height, 1))
    if scale < 1.0:
        rgb = rgb.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.LANCZOS)
    pixels = np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1])  # RapidOCR takes arrays as BGR
    result = engine(pixels)
    if result.boxes is None or result.txts is None:
        return OcrPage((), width, height)
    lines = []
    for quad, text, score in zip(result.boxes, result.txts, result.scores):
        xs, ys = [float(p[0]) / scale for p in quad], [float(p[1]) / scale for p in quad]
        if text.strip():
            lines.append(OcrLine(text.strip(), float(score), (min(xs), min(ys), max(xs), max(ys))))
    return OcrPage(reading_order(lines), width, height)
