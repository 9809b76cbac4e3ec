"""Labeled Faces in the Wild: a tree of <Person>/<Person>_NNNN.jpg (or an LFW .tgz) plus attributes."""

import math
import os
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from aecli.data import DataRecipe, adapter
from aecli.data.archive import extract_tar
from aecli.data.base import Dataset, DataSpec, Reporter, Split
from aecli.data.download import download, sha256_of
from aecli.data.prepare import decode_files, scan_images
from aecli.data.splits import TEST_SHARE, is_test_group
from aecli.data.tables import read_table
from aecli.errors import AecliError
from aecli.fileio import cache_folder

# The mirror scikit-learn uses (the original UMass host is gone); override with AECLI_LFW_URL.
IMAGES_URL = "https://ndownloader.figshare.com/files/5976015"
IMAGES_SHA256 = "b47c8422c8cded889dc5a13418c4bc2abbda121092b3533a83306f90d900100a"
MAX_IMAGES_DOWNLOAD = 512 * 2**20  # the funneled archive is 243 MB
MAX_ATTRIBUTES_DOWNLOAD = 64 * 2**20  # the attributes table is 15 MB
ATTRIBUTES_URL = "https://www.cs.columbia.edu/CAVE/databases/pubfig/download/lfw_attributes.txt"
DEFAULT_CROP = 0.36  # the central 90 of 250 pixels, as in the classic LFW autoencoder exercise
# Without --crop, the crop is chosen from where the faces are: the detector's face side is this share of
# the crop in the framing aecli's face models train at (its median on 40 real LFW tight crops, taken
# whole; 0.36 of a classic 250-pixel LFW image frames its face about so); a face filling its image: 1.
FACE_FILL = 0.89
CROP_PROBES = 32  # images the faces are looked for in
IMAGE_NAME = re.compile(r"^(?P<person>.+)_(?P<num>\d{4})\.jpe?g$", re.IGNORECASE)
OFFLINE_HINT = (
    "Point --data-dir at a folder with an LFW tree or .tgz and lfw_attributes.txt; or train on --dataset lfw-mini."
)


def person_of(rel: str) -> str | None:
    match = IMAGE_NAME.match(rel.rsplit("/", 1)[-1])
    return match["person"] if match else None


def lfw_images(root: Path) -> list[tuple[str, int, int]]:
    """The scanned images under root named as LFW names them."""
    return [entry for entry in scan_images(root) if person_of(entry[0])]


def _locate(data_dir: str | None, reporter: Reporter) -> tuple[Path, Path | None, list]:
    """The folder holding the images (extracting a .tgz if that is what is there), the attributes
    file, and the LFW-named images found in that folder (scanned once)."""
    if data_dir is None:
        cache = cache_folder("lfw")
        archive = download(
            os.environ.get("AECLI_LFW_URL", IMAGES_URL),
            cache / "lfw-funneled.tgz",
            MAX_IMAGES_DOWNLOAD,
            None if "AECLI_LFW_URL" in os.environ else IMAGES_SHA256,
            OFFLINE_HINT,
        )
        attributes = download(
            os.environ.get("AECLI_LFW_ATTRIBUTES_URL", ATTRIBUTES_URL),
            cache / "lfw_attributes.txt",
            MAX_ATTRIBUTES_DOWNLOAD,
            hint=OFFLINE_HINT,
        )
        root = extract_tar(archive, cache / f"images-{sha256_of(archive)[:12]}", reporter.note)
        return root, attributes, lfw_images(root)
    folder = Path(data_dir)
    if not folder.is_dir():
        raise AecliError(f"--data-dir {folder} is not a folder; {OFFLINE_HINT}")
    attributes = sorted(folder.rglob("lfw_attributes*.txt"))
    archives = sorted(p for p in folder.iterdir() if p.name.endswith((".tgz", ".tar.gz")))
    images, found = folder, lfw_images(folder)
    if not found and archives:
        # extracted into the cache: --data-dir may be read-only
        images = extract_tar(archives[0], cache_folder("lfw") / f"images-{sha256_of(archives[0])[:12]}", reporter.note)
        found = lfw_images(images)
    return images, attributes[0] if attributes else None, found


@adapter(
    "lfw",
    options=("data_dir", "image_size", "crop", "grey"),
    defaults={"image_size": 64},
)
def load_lfw(recipe: DataRecipe, reporter: Reporter) -> Dataset:
    root, attributes_path, found = _locate(recipe.data_dir, reporter)
    if not found:
        raise AecliError(f"no LFW images (<Person>/<Person>_NNNN.jpg) under {root}; {OFFLINE_HINT}")
    if recipe.crop is None:
        recipe = replace(recipe, crop=crop_from_faces(root, [rel for rel, *_ in found], reporter))
    files = [rel for rel, *_ in found]
    people = [person_of(rel) for rel in files]
    table = read_table(attributes_path, files) if attributes_path else None
    test = np.array([is_test_group(p) for p in people])  # by person: no one in both halves
    order = np.concatenate([np.flatnonzero(~test), np.flatnonzero(test)])  # each split one slice of the cache
    meta = {"test": test[order]}
    if table is not None:
        meta["attributes"] = table.values[order]
    table_stat = (str(attributes_path), attributes_path.stat().st_mtime_ns) if attributes_path else None
    images, arrays = decode_files("lfw", root, [found[i] for i in order], recipe, meta, reporter, table_stat)
    n_train = int((~test).sum())
    names = tuple(table.attribute_names) if table is not None else ()
    spec = DataSpec(
        name="lfw",
        channels=int(images.shape[1]),
        image_size=recipe.image_size,
        attribute_names=names,
        mirrored=True,
        faces=True,
    )

    def split(part: slice) -> Split:
        attrs = torch.from_numpy(arrays["attributes"][part]) if table is not None else None
        return Split(images[part], attributes=attrs)

    note = f"LFW: {len(found)} images, {n_train} train / {len(found) - n_train} test (split by person)"
    note += f"; attributes matched for {table.matched} of them" if table is not None else "; no attributes file found"
    return Dataset(spec, split(slice(0, n_train)), split(slice(n_train, None)), recipe=recipe, notes=[note])


def crop_from_faces(root: Path, files: list[str], reporter: Reporter) -> float:
    """The centre crop that frames these photos' faces as aecli's face models are trained: from the
    faces the detector finds in a few of them (evenly spread), else LFW's classic 0.36. Said on stderr."""
    from aecli.data.faces import detect_face
    from aecli.data.images import open_image

    shares = []
    for index in np.linspace(0, len(files) - 1, min(len(files), CROP_PROBES)).round().astype(int):
        try:
            with open_image(root / files[index]) as image:
                grey = np.asarray(image.convert("L"))
        except (AecliError, OSError, ValueError):
            continue
        face = detect_face(grey)
        if face is not None:
            shares.append(face[2] / min(grey.shape))
    if len(shares) < max(3, CROP_PROBES // 4):
        reporter.note(f"LFW: too few faces found to choose a crop; using --crop {DEFAULT_CROP} (give --crop to choose)")
        return DEFAULT_CROP
    crop = round(min(1.0, max(0.05, float(np.median(shares)) / FACE_FILL)), 2)
    reporter.note(
        f"LFW: the faces fill {np.median(shares):.0%} of the images; using --crop {crop} (give --crop to choose)"
    )
    return crop


@adapter("lfw-mini", options=("image_size",), defaults={"image_size": 64})
def load_lfw_mini(recipe: DataRecipe, reporter: Reporter) -> Dataset:
    """scikit-image's 100 bundled LFW faces (25x25 grey), no attributes, no download."""
    from skimage.data import lfw_subset
    from skimage.transform import resize

    size = recipe.image_size
    faces = lfw_subset()[:100]
    big = resize(faces, (len(faces), size, size), order=1)
    pixels = np.clip(big * 255 + 0.5, 0, 255).astype(np.uint8)[:, None]
    spec = DataSpec(name="lfw-mini", channels=1, image_size=size, mirrored=True, faces=True)
    n_test = math.ceil(len(pixels) * TEST_SHARE)
    return Dataset(spec, Split(torch.from_numpy(pixels[n_test:])), Split(torch.from_numpy(pixels[:n_test])))
