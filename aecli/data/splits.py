"""Deterministic train/test splits that stay put when files are added elsewhere."""

import functools
import hashlib
import math
import zlib

import numpy as np

TEST_SHARE = 0.2


def _hash(value: str) -> int:
    return int(hashlib.md5(value.encode("utf-8", "surrogateescape")).hexdigest(), 16) % 1000


@functools.lru_cache(maxsize=100_000)
def is_test_group(value: str) -> bool:
    """A fixed split by group (e.g. by person: no one in both halves), stable across machines."""
    return _hash(value) < TEST_SHARE * 1000


def _file_order(key: str) -> int:
    """A stable pseudo-random order of file names (CRC-32: fast enough for 100,000 names on every run)."""
    return zlib.crc32(key.encode("utf-8", "surrogateescape"))  # names need not be UTF-8


def test_mask(keys: list[str], classes: list[int] | None = None, groups: list[str] | None = None) -> np.ndarray:
    """True for test images. By group when given; else a fifth of each class (or of all), by hash: the
    nearest whole number, so a class of one or two images is all for training (but where that leaves no
    test image at all, the largest class gives one)."""
    if groups is not None:
        mask = np.array([is_test_group(g) for g in groups], dtype=bool)
        if mask.all() or not mask.any():  # too few groups for the hash: the first fifth, in hash order
            unique = sorted(set(groups), key=_hash)
            chosen = set(unique[: max(1, math.ceil(len(unique) * TEST_SHARE))]) if len(unique) > 1 else set()
            mask = np.array([g in chosen for g in groups], dtype=bool)
        return mask
    mask = np.zeros(len(keys), dtype=bool)
    members: dict[int, list[int]] = {}
    for i, c in enumerate(classes if classes is not None else [0] * len(keys)):
        members.setdefault(c, []).append(i)
    ordered = [sorted(index, key=lambda i: (_file_order(keys[i]), keys[i])) for index in members.values()]
    for index in ordered:
        mask[index[: round(len(index) * TEST_SHARE)]] = True
    largest = max(ordered, key=len, default=[])
    if not mask.any() and len(largest) >= 2:
        mask[largest[0]] = True
    return mask
