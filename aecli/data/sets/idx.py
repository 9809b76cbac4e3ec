"""MNIST and its drop-in relatives (Fashion-MNIST, KMNIST): four IDX `.gz` files each."""

import functools
import gzip
import hashlib
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from aecli.data import DataRecipe, adapter
from aecli.data.base import DIGITS, Dataset, DataSpec, Split
from aecli.data.download import download
from aecli.errors import AecliError
from aecli.fileio import cache_folder
from aecli.paths import PRETRAINED

SIDE = 28
MAX_ITEMS = 1_000_000  # far more than any of these sets holds: bounds what a crafted file can make us read
MAX_DOWNLOAD = 64 * 2**20  # the largest of these files (Fashion-MNIST's training images) is 26 MB
PREFIXES = ("train", "t10k")


@dataclass(frozen=True)
class IdxSet:
    name: str
    url: str  # a folder URL ending in /, overridable by the environment variable below
    url_variable: str
    files: dict[str, tuple[str, str]]  # file name -> (hash kind, hex digest)
    class_names: tuple[str, ...]
    source: str  # where to get the files by hand


def _files(kind: str, digests: list[str]) -> dict[str, tuple[str, str]]:
    names = [f"{p}-{k}-idx{d}-ubyte.gz" for p in PREFIXES for k, d in (("images", 3), ("labels", 1))]
    return {name: (kind, digest) for name, digest in zip(names, digests, strict=True)}


SETS = {
    s.name: s
    for s in (
        IdxSet(
            "mnist",
            "https://ossci-datasets.s3.amazonaws.com/mnist/",  # the mirror torchvision uses
            "AECLI_MNIST_URL",
            _files(
                "sha256",
                [
                    "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                    "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                    "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                    "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                ],
            ),
            DIGITS,
            "the MNIST page",
        ),
        IdxSet(
            "fashion-mnist",
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "AECLI_FASHION_MNIST_URL",
            _files(
                "md5",
                [
                    "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                    "25c81989df183df01b3e8a0aad5dffbe",
                    "bef4ecab320f06d8554ea6380940ec79",
                    "bb300cfdad3c16e7a12a480ee83cd310",
                ],
            ),
            ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
            "github.com/zalandoresearch/fashion-mnist",
        ),
        IdxSet(
            "kmnist",
            "http://codh.rois.ac.jp/kmnist/dataset/kmnist/",
            "AECLI_KMNIST_URL",
            _files(
                "md5",
                [
                    "bdb82020997e1d708af4cf47b453dcf7",
                    "e144d726b3acfaa3e44228e80efcd344",
                    "5c965bf0a639b31b8f53240b1b52f4d7",
                    "7320c461ea6c1c855c0b718fb2a4b134",
                ],
            ),
            ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
            "github.com/rois-codh/kmnist",
        ),
    )
}


def offline_hint(s: IdxSet) -> str:
    other = "" if s.name != "mnist" else "; or train on --dataset digits, which needs no download"
    return f"Point --data-dir at a folder with the four {s.name} .gz files (from {s.source}){other}."


def _read_exact(handle, count: int, path: Path) -> bytes:
    data = handle.read(count)
    if len(data) != count:
        raise AecliError(f"{path} holds {len(data)} bytes of data, its header promises {count}; replace it")
    return data


def read_idx(path: Path, labels: bool) -> np.ndarray:
    """One gzip-compressed IDX file (magic 2049 labels, 2051 images), read no further than its
    header allows, so a crafted file cannot make it inflate gigabytes."""
    kind = "labels" if labels else "images"
    try:
        with gzip.open(path, "rb") as handle:
            head = handle.read(8)
            if len(head) < 8:
                raise AecliError(f"{path} is too short to be an IDX file; replace it with an intact copy")
            magic, count = struct.unpack(">ii", head)
            if magic not in (2049, 2051):
                raise AecliError(f"{path} has IDX magic {magic}, expected 2049 or 2051; replace it with an intact copy")
            if magic != (2049 if labels else 2051):
                raise AecliError(f"{path} holds IDX magic {magic}, not {kind}; replace it with the {kind} file")
            if not 0 < count <= MAX_ITEMS:
                raise AecliError(f"{path} declares {count} {kind}; expected 1 to {MAX_ITEMS:,}; replace it")
            shape: tuple[int, ...] = (count,)
            if not labels:
                rows, cols = struct.unpack(">ii", _read_exact(handle, 8, path))
                if (rows, cols) != (SIDE, SIDE):
                    raise AecliError(f"{path} holds {rows}x{cols} images; this format needs {SIDE}x{SIDE}")
                shape = (count, SIDE, SIDE)
            data = _read_exact(handle, int(np.prod(shape)), path)
            if handle.read(1):
                raise AecliError(f"{path} holds more data than its header promises; replace it with an intact copy")
    except (OSError, EOFError, zlib.error) as exc:
        raise AecliError(f"{path} is not a readable .gz file ({exc}); replace it with an intact copy") from exc
    return np.frombuffer(data, dtype=np.uint8).reshape(shape)


def _find_local(s: IdxSet, data_dir: Path) -> Path:
    if not data_dir.is_dir():
        what = "is a file, not a folder" if data_dir.exists() else "does not exist"
        raise AecliError(
            f"--data-dir {data_dir} {what}; point it at the folder that holds the {s.name} .gz files; {offline_hint(s)}"
        )
    for folder in (data_dir, data_dir / s.name.upper().replace("-", "") / "raw", data_dir / "MNIST" / "raw"):
        if all((folder / name).is_file() for name in s.files):
            return folder
    raise AecliError(
        f"{data_dir} lacks the {s.name} files ({', '.join(s.files)}), directly or under */raw; {offline_hint(s)}"
    )


def _matches(path: Path, *, kind: str, digest: str) -> bool:
    h = hashlib.new(kind)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest() == digest


def _download_all(s: IdxSet) -> Path:
    folder = cache_folder(s.name)
    base = os.environ.get(s.url_variable, s.url)
    for name, (kind, digest) in s.files.items():
        download(
            base + name,
            folder / name,
            MAX_DOWNLOAD,
            check=functools.partial(_matches, kind=kind, digest=digest),
            hint=offline_hint(s),
        )
    return folder


def _split(s: IdxSet, folder: Path, prefix: str) -> Split:
    images = read_idx(folder / f"{prefix}-images-idx3-ubyte.gz", labels=False)
    labels = read_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels=True)
    if len(images) != len(labels):
        raise AecliError(f"{s.name} {prefix} images and labels in {folder} do not match; replace the files")
    if labels.max() >= len(s.class_names):
        raise AecliError(
            f"{folder / f'{prefix}-labels-idx1-ubyte.gz'} holds label {labels.max()}, outside the "
            f"{len(s.class_names)} classes of {s.name}; replace it"
        )
    return Split(torch.from_numpy(images.copy()).unsqueeze(1), torch.from_numpy(labels.astype(np.int64)))


def load_idx_set(name: str, recipe: DataRecipe) -> Dataset:
    s = SETS[name]
    folder = _find_local(s, Path(recipe.data_dir)) if recipe.data_dir else _download_all(s)
    spec = DataSpec(name=name, channels=1, image_size=SIDE, class_names=s.class_names, light_on_dark=True)
    return Dataset(spec, _split(s, folder, "train"), _split(s, folder, "t10k"))


BUNDLED = PRETRAINED / "mnist"  # MNIST's test split (NOTICE.txt)


def bundled_mnist_test() -> Dataset:
    """MNIST's test split as shipped with aecli (byte-identical to the canonical files), with an
    empty training split: enough to evaluate and show a model offline, never to train one."""
    s = SETS["mnist"]
    test = _split(s, BUNDLED, "t10k")
    spec = DataSpec(name="mnist", channels=1, image_size=SIDE, class_names=s.class_names, light_on_dark=True)
    return Dataset(spec, test.head(0), test, recipe=DataRecipe("mnist"))


for _name in SETS:
    adapter(_name, options=("data_dir",))(lambda recipe, reporter, _n=_name: load_idx_set(_n, recipe))
