"""MNIST from the four standard IDX `.gz` files: a local folder or the cache."""

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import torch

from aecli.data.base import Dataset, DataSpec, Split
from aecli.data.download import download
from aecli.errors import AecliError

# The mirror torchvision uses; override with AECLI_MNIST_URL (a folder URL ending in /).
DEFAULT_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
FILES = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
OFFLINE_HINT = "Point --data-dir at a folder with the four MNIST .gz files, or use --dataset digits (no download)."


def read_idx(path: Path) -> np.ndarray:
    """Parse one gzip-compressed IDX file (magic 2049 labels, 2051 images)."""
    try:
        with gzip.open(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise AecliError(f"{path} is not a readable .gz file ({exc}); replace it with an intact copy") from exc
    if len(raw) < 8:
        raise AecliError(f"{path} is too short to be an IDX file; replace it with an intact copy")
    (magic,) = struct.unpack(">i", raw[:4])
    dims = {2049: 1, 2051: 3}.get(magic)
    if dims is None:
        raise AecliError(f"{path} has IDX magic {magic}, expected 2049 or 2051; replace it with an intact copy")
    shape = struct.unpack(f">{dims}i", raw[4 : 4 + 4 * dims])
    header = 4 + 4 * dims
    if len(raw) - header != int(np.prod(shape)):
        raise AecliError(
            f"{path} holds {len(raw) - header} bytes of data, its header promises {int(np.prod(shape))}; replace it"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _find_local(data_dir: Path) -> Path:
    for folder in (data_dir, data_dir / "MNIST" / "raw"):
        if all((folder / name).is_file() for name in FILES):
            return folder
    missing = ", ".join(FILES)
    raise AecliError(f"{data_dir} lacks the MNIST files ({missing}), directly or under MNIST/raw; {OFFLINE_HINT}")


def _download_all() -> Path:
    from aecli.paths import data_cache

    folder = data_cache() / "mnist"
    base = os.environ.get("AECLI_MNIST_URL", DEFAULT_URL)
    for name, sha in FILES.items():
        download(base + name, folder / name, sha256=sha, hint=OFFLINE_HINT)
    return folder


def _split(folder: Path, prefix: str) -> Split:
    images = read_idx(folder / f"{prefix}-images-idx3-ubyte.gz")
    labels = read_idx(folder / f"{prefix}-labels-idx1-ubyte.gz")
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise AecliError(f"MNIST {prefix} images and labels in {folder} do not match; replace the files")
    return Split(torch.from_numpy(images.copy()).unsqueeze(1), torch.from_numpy(labels.astype(np.int64)))


def load_mnist(data_dir: Path | None = None) -> Dataset:
    folder = _find_local(Path(data_dir)) if data_dir is not None else _download_all()
    spec = DataSpec(name="mnist", channels=1, image_size=28, num_classes=10)
    return Dataset(spec, _split(folder, "train"), _split(folder, "t10k"))
