"""CelebA, aligned and cropped: img_align_celeba/, list_attr_celeba.txt, list_eval_partition.txt."""

from pathlib import Path

import numpy as np
import torch

from aecli.data import DataRecipe, adapter
from aecli.data.base import Dataset, DataSpec, Reporter, Split
from aecli.data.prepare import decode_files, scan_images
from aecli.data.tables import numbered_lines, open_table, read_table
from aecli.errors import AecliError, UsageError

WHERE = (
    "download img_align_celeba.zip, list_attr_celeba.txt and list_eval_partition.txt from the CelebA page "
    "(mmlab.ie.cuhk.edu.hk/projects/CelebA.html), unzip the images, and pass that folder as --data-dir"
)
DEFAULT_CROP = 148 / 178  # the usual central 148x148 of the 178x218 aligned faces


def read_partition(path: Path, names: set[str]) -> dict[str, int]:
    """The official partition (0 train, 1 validation, 2 test) of each file named in `names`."""
    partition = {}
    with open_table(path, "partition file") as handle:
        for number, line in numbered_lines(path, handle):
            cells = line.split()
            if not cells:
                continue
            if len(cells) != 2 or cells[1] not in ("0", "1", "2"):
                raise AecliError(f"{path} line {number} is not `<file> <0|1|2>`; replace it with the original file")
            if cells[0] in names:
                partition[cells[0]] = int(cells[1])
    return partition


@adapter(
    "celeba",
    options=("data_dir", "image_size", "crop", "grey"),
    defaults={"image_size": 64, "crop": DEFAULT_CROP},
)
def load_celeba(recipe: DataRecipe, reporter: Reporter) -> Dataset:
    if recipe.data_dir is None:
        raise UsageError(f"celeba cannot be downloaded by aecli; {WHERE}")
    root = Path(recipe.data_dir)
    images_dir, attr_file, partition_file = (
        root / "img_align_celeba",
        root / "list_attr_celeba.txt",
        root / "list_eval_partition.txt",
    )
    missing = [p.name for p in (images_dir, attr_file, partition_file) if not p.exists()]
    if missing:
        raise AecliError(f"{root} lacks {', '.join(missing)}; {WHERE}")
    found = scan_images(images_dir)
    if not found:
        raise AecliError(f"no images in {images_dir}; {WHERE}")
    files = [rel for rel, *_ in found]
    names = [rel.rsplit("/", 1)[-1] for rel in files]
    partition = read_partition(partition_file, set(names))
    part = np.array([partition.get(name, -1) for name in names])
    train_index, test_index = np.flatnonzero(part == 0), np.flatnonzero(part == 2)  # the official split
    if recipe.limit is not None:
        train_index, test_index = train_index[: recipe.limit], test_index[: recipe.limit]
    order = np.concatenate([train_index, test_index])
    table = read_table(attr_file, files)
    meta = {"test": np.arange(len(order)) >= len(train_index), "attributes": table.values[order]}
    stats = [(p.stat().st_size, p.stat().st_mtime_ns) for p in (attr_file, partition_file)]
    images, arrays = decode_files("celeba", images_dir, [found[i] for i in order], recipe, meta, reporter, stats)
    n = len(train_index)
    spec = DataSpec(
        name="celeba",
        channels=int(images.shape[1]),
        image_size=recipe.image_size,
        attribute_names=tuple(table.attribute_names),
        mirrored=True,
        faces=True,
    )
    attributes = torch.from_numpy(arrays["attributes"])
    note = f"CelebA: {len(order):,} images, {n:,} train / {len(order) - n:,} test (official partition, no validation)"
    return Dataset(
        spec, Split(images[:n], attributes=attributes[:n]), Split(images[n:], attributes=attributes[n:]), notes=[note]
    )
