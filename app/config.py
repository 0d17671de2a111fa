"""Where things live and the knobs of the pipeline, in one place; passed down, never re-read."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_model_dir() -> Path:
    return Path(os.environ.get("QA_MODEL_DIR", PROJECT_ROOT / ".cache" / "e5-small"))


@dataclass(frozen=True)
class Settings:
    """Paths of the corpus, the index and the converted model, and search defaults."""

    seeds: Path = PROJECT_ROOT / "seeds"
    index: Path = PROJECT_ROOT / "index"
    model: Path = field(default_factory=_default_model_dir)
    top_k: int = 5
