"""Image files to a cached uint8 array: scanned, decoded once in parallel, reopened memory-mapped."""

import contextlib
import contextvars
import os
import time
from pathlib import Path

import numpy as np
import torch

from aecli.data.base import Reporter
from aecli.data.cache import cache_key, keep_one_channel, open_cached, prepared, write_images, write_meta
from aecli.data.images import IMAGE_SUFFIXES, read_many
from aecli.data.recipe import DataRecipe
from aecli.errors import AecliError

CACHE_VERSION = 3  # bump when the way pixels are made changes, so older caches are not reused


# (images, seconds) a scan may reach before it is refused: set while a checkpoint's own recorded folder
# is read, so that a recipe naming `/` cannot make aecli walk and decode a whole machine
SCAN_BOUND: contextvars.ContextVar[tuple[int, float] | None] = contextvars.ContextVar("scan_bound", default=None)


@contextlib.contextmanager
def bounded_scans(images: int, seconds: float = 30.0):
    token = SCAN_BOUND.set((images, seconds))
    try:
        yield
    finally:
        SCAN_BOUND.reset(token)


def scan_images(root: Path, odd: list[str] | None = None) -> list[tuple[str, int, int]]:
    """(relative POSIX path, size, mtime in ns) of every image under root, sorted; hidden entries
    skipped, linked folders followed once. Plain strings and os.scandir: 100,000 files in well under
    a second, since an unchanged folder is scanned on every run."""
    found, seen, pending = [], set(), [("", str(root))]
    bound, started = SCAN_BOUND.get(), time.monotonic()
    while pending:
        _check_bound(root, bound, len(found), started)
        prefix, folder = pending.pop()
        try:
            info = os.stat(folder)
            if (info.st_dev, info.st_ino) in seen:
                continue
            seen.add((info.st_dev, info.st_ino))
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if name[0] == ".":
                continue
            try:
                if name.lower().endswith(IMAGE_SUFFIXES) and entry.is_file():
                    stat = entry.stat()
                    found.append((prefix + name, stat.st_size, stat.st_mtime_ns))
                elif name.lower().endswith(IMAGE_SUFFIXES) and not entry.is_dir() and odd is not None:
                    odd.append(prefix + name)  # a FIFO, socket or device named like an image: never opened
                elif entry.is_dir():
                    pending.append((prefix + name + "/", entry.path))
            except OSError:
                continue
    _check_bound(root, bound, len(found), started)
    return sorted(found)


def _check_bound(root: Path, bound: tuple[int, float] | None, found: int, started: float) -> None:
    if bound is not None and (found > bound[0] or time.monotonic() - started > bound[1]):
        raise AecliError(
            f"{root} holds far more than the images this model's data had (a bound of {bound[0]:,}), so it is not "
            "that data; point --data-dir at the folder the model was trained on"
        )


def common_size(root: Path, files: list[str], probe: int = 32) -> int | None:
    """The side shared by the first images when they are all the same square size (at most 256), else None."""
    from aecli.data.images import open_image

    sizes = set()
    for rel in files[:probe]:
        try:
            with open_image(root / rel) as image:
                sizes.add(image.size)
        except (AecliError, OSError, ValueError):
            return None
    if len(sizes) == 1:
        ((width, height),) = sizes
        if width == height and 16 <= width <= 256:
            return width
    return None


def looks_light_on_dark(images: np.ndarray) -> bool:
    """Pale strokes on a black background (MNIST-like drawings): judged from the image borders."""
    sample = np.asarray(images[: min(len(images), 1000)], dtype=np.float32)
    if sample.shape[1] != 1 or len(sample) == 0:
        return False
    border = np.concatenate([sample[:, 0, 0], sample[:, 0, -1], sample[:, 0, :, 0], sample[:, 0, :, -1]], axis=1)
    return float(border.mean()) < 0.1 * 255


def recipe_key(kind: str, root: Path, files: list, recipe: DataRecipe, extra: object = None) -> str:
    return cache_key(CACHE_VERSION, kind, recipe.image_size, recipe.crop_fraction, recipe.grey, str(root), files, extra)


def reopen(kind: str, key: str, reporter: Reporter) -> tuple[torch.Tensor, dict[str, np.ndarray]] | None:
    """What `decode_files` cached under `key`, if it is there and intact."""
    found = open_cached(kind, key, reporter.note)
    return None if found is None else (torch.from_numpy(found[0]), found[1])


def decode_files(
    kind: str,
    root: Path,
    files: list[tuple[str, int, int]],
    recipe: DataRecipe,
    meta: dict[str, np.ndarray],
    reporter: Reporter,
    key_extra: object = None,
    key: str | None = None,
) -> tuple[torch.Tensor, dict[str, np.ndarray]]:
    """The images of `files` under `recipe` as uint8 N x C x S x S, with `meta` stored beside them.

    Cached by the recipe and the files' names, sizes and modification times (plus `key_extra`),
    or by `key` when the caller made one (see `recipe_key`): a changed folder is read again, an
    unchanged one is reopened memory-mapped.
    """
    size, crop, grey = recipe.image_size, recipe.crop_fraction, recipe.grey
    key = key or recipe_key(kind, root, files, recipe, key_extra)

    def build(folder: Path) -> None:
        paths = [root / rel for rel, *_ in files]
        images = write_images(folder, (len(paths), 1 if grey else 3, size, size))
        reporter.note(f"Reading {len(paths):,} images from {root} (once; cached in {folder.parent})")
        try:
            colour = read_many(
                paths, images, size, crop, grey, lambda done: reporter.progress("reading images", done, len(paths))
            )
        except BaseException:
            images.handle.close()  # the folder is removed by `prepared`
            raise
        images.close()
        if not grey and not colour:
            keep_one_channel(folder)
        write_meta(folder, **meta)

    images, arrays = prepared(kind, key, build, reporter.note)
    return torch.from_numpy(images), arrays
