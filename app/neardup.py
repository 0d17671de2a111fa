"""Near-duplicate passages across documents (the same report re-posted with other punctuation).

Texts are normalised to letters and digits, cut into character 3-shingles and MinHashed;
banded signatures propose candidate pairs, which are confirmed by exact shingle containment
(the share of the shorter passage's shingles found in the longer one), so chunk boundaries
that differ between the two copies do not hide a duplicate.
"""

from __future__ import annotations

import re

import numpy as np

SHINGLE = 3
PERMUTATIONS = 64
BANDS = 32  # two rows a band: a short copy inside a long chunk (Jaccard ~0.4) is still proposed
CONTAINMENT = 0.8
MIN_SHINGLES = 20  # very short texts are too generic to call duplicates

_rng = np.random.default_rng(20261124)
_MULTIPLIERS = _rng.integers(1, 2**63 - 1, PERMUTATIONS, dtype=np.uint64) | np.uint64(1)
_OFFSETS = _rng.integers(0, 2**63 - 1, PERMUTATIONS, dtype=np.uint64)


def normalise(text: str) -> str:
    """Letters and digits only, lower-cased: punctuation and width differences disappear."""
    return re.sub(r"[\W_]+", "", text).lower()


def shingles(text: str) -> np.ndarray:
    """Unique 3-character shingles of the normalised text, as 64-bit integers."""
    codes = np.frombuffer(normalise(text).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(codes) < SHINGLE:
        return np.zeros(0, np.uint64)
    packed = (codes[:-2] << np.uint64(42)) | (codes[1:-1] << np.uint64(21)) | codes[2:]
    return np.unique(packed)


def _signature(values: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        hashed = values[:, None] * _MULTIPLIERS[None, :] + _OFFSETS[None, :]
    return hashed.min(axis=0)


def groups(texts: list[str]) -> list[int]:
    """For each text, the index of the first text of its near-duplicate group (itself if none)."""
    sets = [shingles(t) for t in texts]
    parent = list(range(len(texts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    buckets: dict[tuple[int, bytes], list[int]] = {}
    first_with: dict[bytes, int] = {}
    rows = PERMUTATIONS // BANDS
    for i, values in enumerate(sets):
        if len(values) < MIN_SHINGLES:
            continue
        first = first_with.setdefault(values.tobytes(), i)
        if first != i:
            # An exact copy joins its first occurrence's group and pairs with whatever that one
            # pairs with; leaving it out of the buckets keeps a file of one repeated passage
            # from costing a comparison between every two of its chunks.
            parent[i] = first
            continue
        signature = _signature(values)
        for band in range(BANDS):
            key = (band, signature[band * rows : (band + 1) * rows].tobytes())
            buckets.setdefault(key, []).append(i)
    checked: set[tuple[int, int]] = set()
    for members in buckets.values():
        for position, i in enumerate(members):
            for j in members[position + 1 :]:
                if (i, j) in checked or root(i) == root(j):
                    continue
                checked.add((i, j))
                shared = np.intersect1d(sets[i], sets[j], assume_unique=True).size
                if shared / min(len(sets[i]), len(sets[j])) >= CONTAINMENT:
                    a, b = root(i), root(j)
                    parent[max(a, b)] = min(a, b)
    return [root(i) for i in range(len(texts))]
