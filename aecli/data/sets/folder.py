"""Any folder of images: class subfolders (ImageFolder style) and an attribute table are optional."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from aecli.data import DataRecipe, adapter
from aecli.data.base import Dataset, DataSpec, Reporter, Split
from aecli.data.prepare import common_size, decode_files, looks_light_on_dark, recipe_key, reopen, scan_images
from aecli.data.splits import test_mask
from aecli.data.tables import SPLIT_COLUMN, Table, find_table, read_table
from aecli.errors import AecliError, UsageError

KINDS = "PNG, JPEG, BMP, WebP, TIFF or GIF"
DEFAULT_SIZE = 64


def class_of(files: list[str]) -> tuple[tuple[str, ...], list[int] | None]:
    """First-level subfolders as classes, when every image sits in one and there are two or more."""
    tops = [rel.split("/", 1)[0] if "/" in rel else None for rel in files]
    if None in tops or len(set(tops)) < 2:
        return (), None
    names = tuple(sorted(set(tops)))
    index = {name: i for i, name in enumerate(names)}
    return names, [index[t] for t in tops]


def choose_test(
    recipe: DataRecipe, files: list[str], classes: list[int] | None, table: Table | None
) -> tuple[np.ndarray, str]:
    """The test mask and how it was made."""
    if table is not None and SPLIT_COLUMN in table.columns and recipe.split_by is None:
        values = table.columns[SPLIT_COLUMN]
        if all(v is not None for v in values):
            return np.array([v.strip().lower() in ("test", "2") for v in values]), f"by the {SPLIT_COLUMN} column"
    if recipe.split_by is not None:
        if recipe.split_by == "class" and classes is not None:
            return test_mask(files, groups=[str(c) for c in classes]), "by class"
        if table is None or recipe.split_by not in table.columns:
            raise UsageError(_no_split_column(recipe.split_by, classes, table))
        groups = [v if v is not None else f"?{f}" for v, f in zip(table.columns[recipe.split_by], files, strict=True)]
        return test_mask(files, groups=groups), f"by {recipe.split_by}"
    return test_mask(
        files, classes=classes
    ), "a fifth of each class" if classes is not None else "a fifth, by file name"


def _no_split_column(name: str, classes: list[int] | None, table: Table | None) -> str:
    if table is None:
        problem = "this folder has no attribute table (a .csv or .tsv beside the images, with a file-name column)"
    else:
        problem = f"no such text column in the attribute table (text columns: {', '.join(table.columns) or 'none'})"
    if classes is not None:
        return f"--split-by {name}: {problem}; --split-by class splits by its {len(set(classes))} subfolders"
    if name == "class":
        return f"--split-by class: the images are not in two or more subfolders, and {problem}"
    return f"--split-by {name}: {problem}"


@adapter(
    "folder",
    options=("data_dir", "image_size", "crop", "grey", "split_by"),
    defaults={"crop": 1.0},
)
def load_folder(recipe: DataRecipe, reporter: Reporter) -> Dataset:
    if recipe.data_dir is None:
        raise UsageError("--dataset folder needs --data-dir DIR, the folder that holds your images")
    root = Path(recipe.data_dir)
    if not root.is_dir():
        raise AecliError(f"--data-dir {root} is not a folder; point it at the folder that holds your images")
    odd: list[str] = []
    scanned = scan_images(root, odd)
    if odd:
        shown = ", ".join(odd[:5]) + (f" and {len(odd) - 5} more" if len(odd) > 5 else "")
        reporter.note(f"skipped {len(odd)} files that are not regular files: {shown}")
    if not scanned:
        subfolders = any(p.is_dir() for p in root.iterdir())
        where = "; its subfolders hold none either" if subfolders else ""
        raise AecliError(f"no {KINDS} images under {root}{where}; point --data-dir at the folder that holds them")
    if recipe.image_size is None:  # the images' own side when they share one, else 64
        recipe = replace(recipe, image_size=common_size(root, [rel for rel, *_ in scanned]) or DEFAULT_SIZE)
    table_path = find_table(root)
    table_stat = (str(table_path), table_path.stat().st_size, table_path.stat().st_mtime_ns) if table_path else None
    # keyed by what the split and labels depend on too: an unchanged folder skips them and the table
    key = recipe_key("folder", root, scanned, recipe, [table_stat, recipe.split_by, recipe.limit])
    found = reopen("folder", key, reporter)
    images, arrays = found if found is not None else _decode(root, scanned, recipe, table_path, reporter, key)
    n_train = int((~arrays["test"]).sum())
    light = looks_light_on_dark(images.numpy())
    spec = DataSpec(
        name="folder",
        channels=int(images.shape[1]),
        image_size=int(images.shape[2]),
        class_names=tuple(str(n) for n in arrays["class_names"]),
        attribute_names=tuple(str(n) for n in arrays["attribute_names"]),
        mirrored=not light,
        light_on_dark=light,
    )

    def split(part: slice) -> Split:
        labels = torch.from_numpy(arrays["labels"][part]) if "labels" in arrays else None
        attributes = torch.from_numpy(arrays["attributes"][part]) if "attributes" in arrays else None
        return Split(images[part], labels, attributes)

    return Dataset(
        spec, split(slice(0, n_train)), split(slice(n_train, None)), recipe=recipe, notes=[str(arrays["note"])]
    )


def _decode(root: Path, scanned: list, recipe: DataRecipe, table_path: Path | None, reporter: Reporter, key: str):
    """Classes, attributes and split of a folder read for the first time, then its images decoded and cached."""
    files = [rel for rel, *_ in scanned]
    class_names, classes = class_of(files)
    table = read_table(table_path, files) if table_path else None
    test, how = choose_test(recipe, files, classes, table)
    # train images first, then test ones: each split is one slice of the memory-mapped cache
    train_index, test_index = np.flatnonzero(~test), np.flatnonzero(test)
    if recipe.limit is not None:  # decode only what a quick trial uses
        train_index, test_index = train_index[: recipe.limit], test_index[: recipe.limit]
    keep = np.concatenate([train_index, test_index])
    names = table.attribute_names if table is not None else []
    note = f"folder {root}: {len(keep):,} images, {len(train_index):,} train / {len(test_index):,} test ({how})"
    if class_names:
        note += f"; {len(class_names)} classes from its subfolders"
    if table is not None:
        note += f"; {len(names)} attributes from {table_path.name} for {table.matched:,} images"
    meta = {
        "test": test[keep],
        "class_names": np.array(class_names, dtype=str),
        "attribute_names": np.array(names, dtype=str),
        "note": np.array(note),
    }
    if classes is not None:
        meta["labels"] = np.asarray(classes, dtype=np.int64)[keep]
    if table is not None:
        meta["attributes"] = table.values[keep]
    return decode_files("folder", root, [scanned[i] for i in keep], recipe, meta, reporter, key=key)
