"""Where things live and the knobs of the pipeline, in one place; passed down, never re-read."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def data_lines(name: str) -> list[str]:
    """The non-empty lines of app/data/NAME that are not `#` comments."""
    lines = (line.strip() for line in (DATA / name).read_text("utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _default_model_dir() -> Path:
    return Path(os.environ.get("QA_MODEL_DIR", PROJECT_ROOT / ".cache" / "e5-small"))


@dataclass(frozen=True)
class FusionWeights:
    """Weights of the hybrid search, tuned on bench/eval (see docs/RETRIEVAL.md)."""

    lexical_zh: float = 0.4  # weight of BM25 for an all-Chinese question
    lexical_en: float = 0.3  # weight of BM25 over dictionary translations for an English one
    translation_weight: float = 1.0  # a translated term counts this much of a question term
    dense_width: float = 0.05  # dense scores this far below the best one count as no dense evidence
    window_share: float = 0.65  # a chunk's dense score: this much its best sentence window, the rest itself
    window_bias: float = 0.5  # a window's closeness to every question of the language, subtracted this much


@dataclass(frozen=True)
class Settings:
    """Paths of the corpus, the index and the converted model, and search defaults."""

    seeds: Path = PROJECT_ROOT / "seeds"
    index: Path = PROJECT_ROOT / "index"
    model: Path = field(default_factory=_default_model_dir)
    top_k: int = 5
    fusion: FusionWeights = field(default_factory=FusionWeights)
