"""Prepared datasets in the cache: a folder with images.npy (memory-mapped) and meta.npz.

Written under a temporary name and renamed when complete; a damaged one is removed and rebuilt.
"""

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from aecli.errors import AecliError
from aecli.fileio import cache_failure, cache_folder, plain_mode, sweep_stale, write_refused
from aecli.paths import data_cache
from aecli.store.npy import NpyWriter

IMAGES = "images.npy"
META = "meta.npz"


def cache_key(*parts) -> str:
    """A short digest of JSON-able parts (lists of file records included)."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, list) and len(part) > 1000:  # file lists: joined, not JSON-encoded, for speed
            digest.update("\n".join(map(repr, part)).encode())
        else:
            digest.update(json.dumps(part, default=str).encode())
    return digest.hexdigest()[:16]


def open_prepared(folder: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The images (memory-mapped, copy-on-write: the file is never changed) and the other arrays."""
    images = np.load(folder / IMAGES, mmap_mode="c", allow_pickle=False)
    with np.load(folder / META, allow_pickle=False) as meta:
        arrays = {key: meta[key] for key in meta.files}
    if (
        images.ndim != 4
        or images.dtype != np.uint8
        or any(len(v) != len(images) for k, v in arrays.items() if k in ("test", "labels", "attributes"))
        or not _labels_fit(arrays)
    ):
        raise ValueError("inconsistent arrays")
    return images, arrays


def _labels_fit(arrays: dict[str, np.ndarray]) -> bool:
    """Labels are whole numbers naming a stored class (an edited cache must not reach a model)."""
    labels = arrays.get("labels")
    if labels is None or len(labels) == 0:
        return True
    if labels.dtype.kind not in "iu" or labels.min() < 0:
        return False
    names = arrays.get("class_names")
    return names is None or int(labels.max()) < len(names)


def open_cached(
    kind: str, key: str, on_note: Callable[[str], None] | None = None
) -> tuple[np.ndarray, dict[str, np.ndarray]] | None:
    """The cached arrays for `key`, or None (a damaged copy is removed, with a note)."""
    folder = data_cache() / kind / f"prepared-{key}"
    if not folder.is_dir():
        return None
    try:
        return open_prepared(folder)
    except (OSError, ValueError, KeyError, EOFError) as exc:
        if on_note:
            on_note(f"The cached copy in {folder} is damaged ({type(exc).__name__}); reading the images again")
        shutil.rmtree(folder, ignore_errors=True)
        return None


def prepared(
    kind: str,
    key: str,
    build: Callable[[Path], None],
    on_note: Callable[[str], None] | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Open the cached arrays for `key`, building them first with `build(tmp_folder)` if needed."""
    found = open_cached(kind, key, on_note)
    if found is not None:
        return found
    folder = cache_folder(kind) / f"prepared-{key}"
    sweep_stale(folder.parent, f".prepared-{key}.*")  # left by a run that was killed while building
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".prepared-{key}.", dir=folder.parent))
    except OSError as exc:
        raise AecliError(cache_failure(folder, exc)) from exc
    try:
        build(tmp)
        for item in tmp.iterdir():
            with open(item, "rb") as handle:
                os.fsync(handle.fileno())
        os.chmod(tmp, plain_mode(directory=True))
        try:
            os.replace(tmp, folder)
        except OSError:  # another process finished the same cache first: use theirs
            if not folder.is_dir():
                raise
    except OSError as exc:
        if not write_refused(tmp, exc):
            raise
        raise AecliError(cache_failure(folder, exc)) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return open_prepared(folder)


def write_images(folder: Path, shape: tuple[int, ...]) -> NpyWriter:
    """folder/images.npy, uint8 of `shape`, written front to back."""
    return NpyWriter(folder / IMAGES, shape, np.uint8)


def write_meta(folder: Path, **arrays: np.ndarray) -> None:
    with open(folder / META, "wb") as handle:
        np.savez(handle, **arrays)


def keep_one_channel(folder: Path) -> None:
    """Replace the 3-channel images.npy of an all-grey dataset by its first channel."""
    three = np.load(folder / IMAGES, mmap_mode="r")
    grey = NpyWriter(folder / ".grey.npy", (len(three), 1, *three.shape[2:]), np.uint8)
    for start in range(0, len(three), 4096):
        grey[start : start + 4096] = three[start : start + 4096, :1]
    grey.close()
    del three
    os.replace(folder / ".grey.npy", folder / IMAGES)
