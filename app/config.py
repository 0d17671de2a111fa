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


def _environment(name: str, default: str = "") -> str:
    return os.environ.get(name) or default


def _default_model_dir() -> Path:
    return Path(_environment("QA_MODEL_DIR") or PROJECT_ROOT / ".cache" / "e5-small")


def _trusted_proxies() -> frozenset[str]:
    return frozenset(a.strip() for a in _environment("QA_TRUSTED_PROXIES").split(",") if a.strip())


def _session_capacity() -> int:
    try:
        return max(1, int(_environment("QA_SESSION_CAPACITY", "2000")))
    except ValueError:
        return 2000


@dataclass(frozen=True)
class FusionWeights:
    """Weights of the hybrid search, tuned on bench/eval (see docs/RETRIEVAL.md)."""

    lexical_zh: float = 0.4  # weight of BM25 for an all-Chinese question
    lexical_en: float = 0.3  # weight of BM25 over dictionary translations for an English one
    translation_weight: float = 1.0  # a translated term counts this much of a question term
    dense_width: float = 0.05  # dense scores this far below the best one count as no dense evidence
    window_share: float = 0.65  # a chunk's dense score: this much its best sentence window, the rest itself
    window_bias: float = 0.5  # a window's closeness to every question of the language, subtracted this much
    coverage: float = 0.2  # a translated question: + this × the share of its words a passage's best sentence holds


@dataclass(frozen=True)
class Settings:
    """Paths of the corpus, the index and the converted model, search defaults, and what the
    environment says (read here, once, when the settings are made; nothing else reads it):

    QA_MODEL_DIR (the converted model), QA_PASSAGE_PRECISION (auto, f32 or bf16 for building),
    QA_ADMIN_PASSWORD, QA_TEMP_DIR (uploads and exports; default `.cache/tmp` beside the index),
    QA_TRUSTED_PROXIES (comma-separated addresses whose X-Forwarded-For is believed),
    QA_SESSION_CAPACITY (browser sessions kept)."""

    seeds: Path = PROJECT_ROOT / "seeds"
    index: Path = PROJECT_ROOT / "index"
    model: Path = field(default_factory=_default_model_dir)
    top_k: int = 5
    fusion: FusionWeights = field(default_factory=FusionWeights)
    passage_precision: str = field(default_factory=lambda: _environment("QA_PASSAGE_PRECISION", "auto"))
    admin_password: str | None = field(default_factory=lambda: _environment("QA_ADMIN_PASSWORD") or None,
                                       repr=False)  # never in a log line or a traceback's locals
    temp: Path | None = field(default_factory=lambda: Path(p) if (p := _environment("QA_TEMP_DIR")) else None)
    trusted_proxies: frozenset[str] = field(default_factory=_trusted_proxies)
    session_capacity: int = field(default_factory=_session_capacity)

    @property
    def temp_folder(self) -> Path:
        return self.temp or self.index.parent / ".cache" / "tmp"
