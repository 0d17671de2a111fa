"""Index files written to survive a crash, their checksums, and the problems a user can act on."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

MB = 1024 * 1024


class IndexProblem(Exception):
    """A problem with the index a user can act on; the message says what to do."""


class IndexMissing(IndexProblem):
    pass


class IndexCorrupt(IndexProblem):
    pass


class IndexLocked(IndexProblem):
    pass


class IndexNoSpace(IndexProblem):
    pass


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durably(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())

