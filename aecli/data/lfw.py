"""Labeled Faces in the Wild: a tree of <Person>/<Person>_NNNN.jpg (or an LFW .tgz) plus attributes."""

import hashlib
import json
import math
import os
import re
from pathlib import Path

import numpy as np
import torch

from aecli.data.archive import extract_tar
from aecli.data.base import Dataset, DataSpec, Split
from aecli.data.download import download, sha256_of
from aecli.errors import AecliError, UsageError
from aecli.fileio import atomic_path
from aecli.paths import data_cache

# The mirror scikit-learn uses (the original UMass host is gone); override with AECLI_LFW_URL.
IMAGES_URL = "https://ndownloader.figshare.com/files/5976015"
IMAGES_SHA256 = "b47c8422c8cded889dc5a13418c4bc2abbda121092b3533a83306f90d900100a"
ATTRIBUTES_URL = "https://www.cs.columbia.edu/CAVE/databases/pubfig/download/lfw_attributes.txt"
DEFAULT_CROP = 0.36  # the central 90 of 250 pixels, as in the classic LFW autoencoder exercise
DEFAULT_SIZE = 64
TEST_SHARE = 0.2
IMAGE_NAME = re.compile(r"^(?P<person>.+)_(?P<num>\d{4})\.jpe?g$", re.IGNORECASE)
CACHE_VERSION = 1
OFFLINE_HINT = (
    "Point --data-dir at a folder with an LFW tree or .tgz and lfw_attributes.txt, or use --dataset lfw-mini."
)


def find_images(root: Path) -> list[tuple[str, int, Path]]:
    """(person, image number, path) for every LFW-named JPEG under root, sorted."""
    found = []
    for dirpath, _, files in os.walk(root):
        for name in files:
            match = IMAGE_NAME.match(name)
            if match:
                found.append((match["person"], int(match["num"]), Path(dirpath) / name))
    return sorted(found)


def read_attributes(path: Path) -> tuple[list[str], dict[tuple[str, int], np.ndarray]]:
    """Parse lfw_attributes.txt: a comment line, `#\\tperson\\timagenum\\t<names>`, then rows."""
    try:
        lines = path.read_text(encoding="utf-8", errors="strict").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise AecliError(f"cannot read attributes file {path} ({exc}); replace it") from exc
    header_index = next((i for i, line in enumerate(lines[:5]) if line.startswith("#\tperson")), None)
    if header_index is None:
        raise AecliError(f"{path} lacks the `#<tab>person<tab>imagenum<tab>...` header line; use lfw_attributes.txt")
    names = lines[header_index].split("\t")[3:]
    if not names:
        raise AecliError(f"{path} names no attribute columns; use lfw_attributes.txt")
    rows = {}
    for number, line in enumerate(lines[header_index + 1 :], header_index + 2):
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) != len(names) + 2:
            raise AecliError(f"{path} line {number} has {len(cells)} columns, expected {len(names) + 2}; replace it")
        try:
            rows[(cells[0].replace(" ", "_"), int(cells[1]))] = np.array(cells[2:], dtype=np.float32)
        except ValueError as exc:
            raise AecliError(f"{path} line {number} holds a non-number ({exc}); replace it") from exc
    return names, rows


def _locate(data_dir: Path | None) -> tuple[Path, Path | None]:
    """The folder holding the images (extracting a .tgz if that is what is there) and the attributes file."""
    if data_dir is None:
        cache = data_cache() / "lfw"
        archive = download(
            os.environ.get("AECLI_LFW_URL", IMAGES_URL),
            cache / "lfw-funneled.tgz",
            None if "AECLI_LFW_URL" in os.environ else IMAGES_SHA256,
            OFFLINE_HINT,
        )
        attributes = download(
            os.environ.get("AECLI_LFW_ATTRIBUTES_URL", ATTRIBUTES_URL), cache / "lfw_attributes.txt", hint=OFFLINE_HINT
        )
        return extract_tar(archive, cache / f"images-{sha256_of(archive)[:12]}"), attributes
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise AecliError(f"--data-dir {data_dir} is not a folder; {OFFLINE_HINT}")
    attributes = sorted(data_dir.rglob("lfw_attributes*.txt"))
    archives = sorted(p for p in data_dir.iterdir() if p.name.endswith((".tgz", ".tar.gz")))
    images = data_dir
    if not find_images(data_dir) and archives:
        # extracted into the cache: --data-dir may be read-only
        images = extract_tar(archives[0], data_cache() / "lfw" / f"images-{sha256_of(archives[0])[:12]}")
    return images, attributes[0] if attributes else None


def _prepare(path: Path, size: int, crop: float, grey: bool) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError
    from skimage.transform import resize

    try:
        with Image.open(path) as image:
            image = image.convert("L" if grey or image.mode in ("L", "I", "1") else "RGB")
            pixels = np.asarray(image, dtype=np.float32) / 255
    except (UnidentifiedImageError, OSError) as exc:
        raise AecliError(f"{path} is not a readable JPEG ({exc}); remove or replace it") from exc
    h, w = pixels.shape[:2]
    ch, cw = max(1, round(h * crop)), max(1, round(w * crop))
    top, left = (h - ch) // 2, (w - cw) // 2
    pixels = resize(pixels[top : top + ch, left : left + cw], (size, size), anti_aliasing=True)
    pixels = np.clip(pixels * 255 + 0.5, 0, 255).astype(np.uint8)
    return pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)


def is_test_person(person: str) -> bool:
    """A fixed split by person (no one in both halves), stable across machines."""
    return int(hashlib.md5(person.encode()).hexdigest(), 16) % 1000 < TEST_SHARE * 1000


def load_lfw(
    data_dir: Path | None, image_size: int | None = None, crop: float | None = None, grey: bool = False
) -> Dataset:
    size, crop = image_size or DEFAULT_SIZE, crop or DEFAULT_CROP
    images_root, attributes_path = _locate(data_dir)
    found = find_images(images_root)
    if not found:
        raise AecliError(f"no LFW images (<Person>/<Person>_NNNN.jpg) under {images_root}; {OFFLINE_HINT}")
    key = hashlib.sha256(
        json.dumps(
            [
                CACHE_VERSION,
                size,
                crop,
                grey,
                [(str(p), p.stat().st_size, p.stat().st_mtime_ns) for *_, p in found],
                str(attributes_path),
                attributes_path.stat().st_mtime_ns if attributes_path else None,
            ]
        ).encode()
    ).hexdigest()[:16]
    cache_file = data_cache() / "lfw" / f"prepared-{key}.npz"
    if cache_file.is_file():
        with np.load(cache_file, allow_pickle=False) as cached:
            arrays = {k: cached[k] for k in cached.files}
        names = [str(n) for n in arrays["attribute_names"]]
    else:
        pixels = np.stack([_prepare(path, size, crop, grey) for *_, path in found])
        names, rows = read_attributes(attributes_path) if attributes_path else ([], {})
        attributes = np.full((len(found), len(names)), np.nan, dtype=np.float32)
        for i, (person, num, _) in enumerate(found):
            if (person, num) in rows:
                attributes[i] = rows[(person, num)]
        arrays = {
            "images": pixels,
            "attributes": attributes,
            "attribute_names": np.array(names, dtype=str),
            "test": np.array([is_test_person(person) for person, *_ in found]),
        }
        with atomic_path(cache_file) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, **arrays)
    test = arrays["test"]
    matched = int((~np.isnan(arrays["attributes"][:, 0])).sum()) if names else 0
    spec = DataSpec(
        name="lfw",
        channels=int(arrays["images"].shape[1]),
        image_size=size,
        attribute_names=tuple(names),
        mirrored=True,
    )

    def split(mask: np.ndarray) -> Split:
        attrs = torch.from_numpy(arrays["attributes"][mask]) if names else None
        return Split(torch.from_numpy(arrays["images"][mask]), attributes=attrs)

    note = f"LFW: {len(found)} images, {len(found) - int(test.sum())} train / {int(test.sum())} test (split by person)"
    note += f"; attributes matched for {matched} of them" if names else "; no attributes file found"
    return Dataset(spec, split(~test), split(test), notes=[note])


def load_lfw_mini(image_size: int | None = None, grey: bool = True) -> Dataset:
    """scikit-image's 100 bundled LFW faces (25x25 grey), no attributes, no download."""
    from skimage.data import lfw_subset
    from skimage.transform import resize

    size = image_size or DEFAULT_SIZE
    if size < 16:
        raise UsageError("--image-size must be at least 16")
    faces = lfw_subset()[:100]
    big = resize(faces, (len(faces), size, size), order=1)
    pixels = np.clip(big * 255 + 0.5, 0, 255).astype(np.uint8)[:, None]
    spec = DataSpec(name="lfw-mini", channels=1, image_size=size, mirrored=True)
    n_test = math.ceil(len(pixels) * TEST_SHARE)
    return Dataset(spec, Split(torch.from_numpy(pixels[n_test:])), Split(torch.from_numpy(pixels[:n_test])))
