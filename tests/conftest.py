"""Shared fixtures: the real converted model and an index of the real seeds, built once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import PROJECT_ROOT, Settings
from app.convert import ensure_model
from app.model import Embedder

# The tests talk to the app on loopback only: no client telemetry, no hub look-ups.
for variable, value in (("GRADIO_ANALYTICS_ENABLED", "False"), ("HF_HUB_OFFLINE", "1"),
                        ("HF_HUB_DISABLE_TELEMETRY", "1")):
    os.environ.setdefault(variable, value)

SEEDS = PROJECT_ROOT / "seeds"
SHARED_SEEDS = PROJECT_ROOT.parent / "shared" / "seeds"


@pytest.fixture(scope="session")
def model_dir() -> Path:
    return ensure_model(Settings().model)


@pytest.fixture(scope="session")
def embedder(model_dir) -> Embedder:
    return Embedder(model_dir)


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, model_dir, embedder) -> Settings:
    """Settings pointing at a fresh index of the real seeds (built once per session)."""
    from app.index import build

    index_dir = tmp_path_factory.mktemp("seed-index")
    build(SEEDS, index_dir, model_dir, embedder=embedder)
    return Settings(seeds=SEEDS, index=index_dir, model=model_dir)


@pytest.fixture(scope="session")
def searcher(seed_index, embedder):
    from app.search import Searcher

    return Searcher(seed_index, embedder=embedder)


@pytest.fixture
def corpus(tmp_path) -> Path:
    """A writable copy of the seeds."""
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


def run_cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run a project command (`-m app …` or `build_index.py …`) as a user would."""
    return subprocess.run(
        [sys.executable, *args], cwd=PROJECT_ROOT, capture_output=True, text=True,
        timeout=timeout, env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
