"""Attribute tables beside the images, read with pandas.

Three layouts: a CSV/TSV with a file-name column; CelebA's list_attr_celeba.txt (a count line, a
names line, then `file v1 v2 ...` rows of -1/1); LFW's lfw_attributes.txt (a comment line,
`#\\tperson\\timagenum\\t<names>`, then rows, joined to files named `<Person>_<NNNN>`).
Every numeric column is an attribute; text columns can split the data (`split`, `--split-by`).
"""

import io
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from aecli.data.images import check_regular_file
from aecli.errors import AecliError

TABLE_SUFFIXES = (".csv", ".tsv")
MAX_TABLE_BYTES = 512 * 2**20
SPLIT_COLUMN = "split"  # optional: train / test per image
KEY = "__key__"


@dataclass
class Table:
    path: Path
    attribute_names: list[str]
    values: np.ndarray  # float32, one row per image (NaN where the table has none)
    columns: dict[str, list[str | None]] = field(default_factory=dict)  # text columns, per image
    matched: int = 0


def find_table(root: Path) -> Path | None:
    """The attribute table directly inside `root`, if there is one."""

    def is_table(p: Path) -> bool:
        named = p.name.lower().startswith(("list_attr", "lfw_attributes")) and p.suffix.lower() == ".txt"
        return (p.suffix.lower() in TABLE_SUFFIXES or named) and not p.name.startswith(".")

    candidates = sorted(p for p in root.iterdir() if is_table(p) and not p.is_dir())
    return candidates[0] if candidates else None


def _read_text(path: Path) -> str:
    check_regular_file(path, "attribute table")
    if path.stat().st_size > MAX_TABLE_BYTES:
        raise AecliError(f"attribute table {path} is larger than {MAX_TABLE_BYTES >> 20} MiB; trim it")
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise AecliError(f"cannot read attribute table {path} ({exc}); save it as UTF-8 text") from exc


def _frame(path: Path, text: str):
    """The table as a DataFrame whose KEY column names each row's image (a path, name or stem)."""
    import pandas as pd

    lines = text.splitlines()
    if len(lines) >= 2 and lines[0].strip().isdigit():  # CelebA
        names = lines[1].split()
        frame = pd.read_csv(io.StringIO(text), sep=r"\s+", skiprows=2, header=None, names=[KEY, *names])
        return frame
    header = next((i for i, line in enumerate(lines[:5]) if line.startswith("#\tperson")), None)
    if header is not None:  # LFW
        names = lines[header].split("\t")[3:]
        for number, line in enumerate(lines[header + 1 :], header + 2):
            if line.strip() and len(line.split("\t")) != len(names) + 2:
                cells = len(line.split("\t"))
                raise AecliError(f"{path} line {number} has {cells} columns, expected {len(names) + 2}; replace it")
        frame = pd.read_csv(
            io.StringIO(text), sep="\t", skiprows=header + 1, header=None, names=["person", "imagenum", *names]
        )
        people = frame["person"].astype(str).str.replace(" ", "_")
        frame[KEY] = people + "_" + frame["imagenum"].astype(int).map("{:04d}".format)
        frame["person"] = people
        return frame.drop(columns=["imagenum"])
    sep = "\t" if path.suffix.lower() == ".tsv" or (lines and "\t" in lines[0]) else ","
    return pd.read_csv(io.StringIO(text), sep=sep)


def _lookup(files: list[str]) -> dict[str, int]:
    """Each image by relative path, and by name and stem where those are unique (lower case)."""
    table: dict[str, int] = {}
    counts: dict[str, int] = {}
    for i, rel in enumerate(files):
        pure = PurePosixPath(rel)
        for key in {pure.name.lower(), pure.stem.lower()}:
            counts[key] = counts.get(key, 0) + 1
            table.setdefault(key, i)
    table = {k: v for k, v in table.items() if counts[k] == 1}
    table.update({rel.lower(): i for i, rel in enumerate(files)})
    return table


def read_table(path: Path, files: list[str]) -> Table:
    """The table's numeric columns per image of `files` (relative POSIX paths), NaN where missing."""
    import pandas as pd

    text = _read_text(path)
    try:
        frame = _frame(path, text)
    except (ValueError, pd.errors.ParserError, KeyError, IndexError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise AecliError(f"cannot parse attribute table {path} ({first}); fix or remove it") from exc
    lookup = _lookup(files)
    if KEY not in frame.columns:  # a CSV: the text column that names the most images
        best, best_hits = None, 0
        for column in frame.columns:
            if not pd.api.types.is_numeric_dtype(frame[column]):
                hits = frame[column].astype(str).str.lower().map(lookup).notna().sum()
                if hits > best_hits:
                    best, best_hits = column, hits
        if best is None:
            raise AecliError(f"no column of {path} names the image files; add one with their file names")
        frame = frame.rename(columns={best: KEY})
    rows = frame[KEY].astype(str).str.lower().map(lookup)
    frame, rows = frame[rows.notna()], rows[rows.notna()].astype(int).to_numpy()
    if len(rows) == 0:
        raise AecliError(f"no row of {path} matches an image file; check its file-name column")
    numeric = [c for c in frame.columns if c != KEY and pd.api.types.is_numeric_dtype(frame[c])]
    text_columns = [c for c in frame.columns if c != KEY and c not in numeric]
    values = np.full((len(files), len(numeric)), np.nan, dtype=np.float32)
    values[rows] = frame[numeric].to_numpy(dtype=np.float32)
    columns = {}
    for column in text_columns:
        per_image: list[str | None] = [None] * len(files)
        for row, value in zip(rows, frame[column].tolist(), strict=True):
            per_image[row] = None if pd.isna(value) else str(value)
        columns[str(column)] = per_image
    return Table(path, [str(c) for c in numeric], values, columns, matched=len(set(rows.tolist())))
