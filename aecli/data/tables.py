"""Attribute tables beside the images, read line by line.

Three layouts: a CSV/TSV with a file-name column; CelebA's list_attr_celeba.txt (a count line, a
names line, then `file v1 v2 ...` rows of -1/1); LFW's lfw_attributes.txt (a comment line,
`#\\tperson\\timagenum\\t<names>`, then rows, joined to files named `<Person>_<NNNN>`).
Every numeric column is an attribute; text columns can split the data (`split`, `--split-by`).
Only rows that name one of the images are kept, so memory follows the images, not the table; the
columns and rows a table may have are bounded, so a crafted table cannot take the machine.
"""

import csv
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from aecli.data.images import check_regular_file
from aecli.errors import AecliError

TABLE_SUFFIXES = (".csv", ".tsv")
MAX_TABLE_BYTES = 512 * 2**20
MAX_COLUMNS = 1024  # CelebA has 40 attributes, LFW 73
MAX_ROWS = 5_000_000  # CelebA has 202,599 images
MISSING = {"", "na", "nan", "n/a", "null", "none"}
SPLIT_COLUMN = "split"  # optional: train / test per image


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


def open_table(path: Path, what: str = "attribute table"):
    """`path` opened as UTF-8 text (a BOM is dropped), after checking it is a regular file of sane size."""
    check_regular_file(path, what)
    if path.stat().st_size > MAX_TABLE_BYTES:
        raise AecliError(f"{what} {path} is larger than {MAX_TABLE_BYTES >> 20} MiB; trim it")
    try:
        return open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise AecliError(f"cannot read {what} {path} ({exc.strerror or exc}); check the file") from exc


def numbered_lines(path: Path, handle) -> Iterator[tuple[int, str]]:
    """(line number, line) of a table, at most MAX_ROWS of them; undecodable text names the fix."""
    try:
        for number, line in enumerate(handle, 1):
            if number > MAX_ROWS:
                raise AecliError(f"{path} has more than {MAX_ROWS:,} lines; keep the rows of your images")
            yield number, line.rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise AecliError(f"cannot read {path} ({exc}); save it as UTF-8 text") from exc


def _check_width(path: Path, names: list[str]) -> None:
    if len(names) > MAX_COLUMNS:
        raise AecliError(f"{path} has {len(names):,} columns; aecli reads at most {MAX_COLUMNS:,}: keep those you need")


def _layout(path: Path, lines: Iterator[tuple[int, str]]) -> tuple[list[str], int | None, Iterator[list[str]]]:
    """Column names, the key column (None: find it), and the rows as lists of cells."""
    head = list(itertools.islice(lines, 5))
    rest = itertools.chain(head, lines)
    texts = [line for _, line in head]
    if len(texts) >= 2 and texts[0].strip().isdigit():  # CelebA
        names = ["file", *texts[1].split()]
        _check_width(path, names)
        return names, 0, _cells(path, itertools.islice(rest, 2, None), names, str.split)
    header = next((i for i, line in enumerate(texts) if line.startswith("#\tperson")), None)
    if header is not None:  # LFW: person and image number become the key `Person_NNNN`
        names = ["person", "imagenum", *texts[header].split("\t")[3:]]
        _check_width(path, names)
        return names, None, _cells(path, itertools.islice(rest, header + 1, None), names, lambda s: s.split("\t"))
    delimiter = "\t" if path.suffix.lower() == ".tsv" or (texts and "\t" in texts[0]) else ","
    rows = _csv_rows(path, rest, delimiter)
    names = next(rows, None)
    if names is None:
        raise AecliError(f"{path} is empty; add a header and a row per image, or remove it")
    _check_width(path, names)
    return [name.strip() for name in names], -1, _padded(path, rows, len(names))


def _csv_rows(path: Path, lines: Iterator[tuple[int, str]], delimiter: str) -> Iterator[list[str]]:
    try:
        yield from csv.reader((line for _, line in lines), delimiter=delimiter)
    except csv.Error as exc:
        raise AecliError(f"cannot parse attribute table {path} ({exc}); fix or remove it") from exc


def _padded(path: Path, rows: Iterator[list[str]], width: int) -> Iterator[list[str]]:
    for number, row in enumerate(rows, 2):
        if len(row) > width:
            raise AecliError(f"{path} row {number} has {len(row)} cells, the header {width}; fix that row")
        if any(row):
            yield row + [""] * (width - len(row))


def _cells(path: Path, lines: Iterator[tuple[int, str]], names: list[str], split) -> Iterator[list[str]]:
    for number, line in lines:
        if not line.strip():
            continue
        cells = split(line)
        if len(cells) != len(names):
            raise AecliError(f"{path} line {number} has {len(cells)} columns, expected {len(names)}; replace it")
        yield cells


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


def _lfw_key(cells: list[str]) -> str:
    person = cells[0].replace(" ", "_")
    cells[0] = person
    try:
        return f"{person}_{int(float(cells[1])):04d}"
    except ValueError:
        return ""


def _number(cell: str) -> float | None:
    """The cell as a number (NaN where it is empty or NA), or None where it is text."""
    text = cell.strip()
    if text.lower() in MISSING:
        return math.nan
    try:
        return float(text)
    except ValueError:
        return None


def _matched_rows(path: Path, files: list[str]) -> tuple[list[str], int, dict[int, list[str]]]:
    """Column names, the key column, and the last row naming each image (by its index in `files`)."""
    lookup = _lookup(files)
    with open_table(path) as handle:
        names, key, rows = _layout(path, numbered_lines(path, handle))
        if key is None:  # LFW
            kept = {lookup[k]: cells for cells in rows if (k := _lfw_key(cells).lower()) in lookup}
            return names, key, kept
        if key >= 0:
            return names, key, {lookup[k]: cells for cells in rows if (k := cells[key].lower()) in lookup}
        # a CSV: keep rows naming an image in any column, then take the column naming the most
        hits = [0] * len(names)
        candidates = []
        for cells in rows:
            found = [c for c, cell in enumerate(cells) if cell.lower() in lookup]
            for c in found:
                hits[c] += 1
            if found:
                candidates.append(cells)
    textual = [c for c in range(len(names)) if any(_number(cells[c]) is None for cells in candidates)]
    if not textual or max(hits[c] for c in textual) == 0:
        raise AecliError(f"no column of {path} names the image files; add one with their file names")
    key = max(textual, key=lambda c: hits[c])
    return names, key, {lookup[k]: cells for cells in candidates if (k := cells[key].lower()) in lookup}


def read_table(path: Path, files: list[str]) -> Table:
    """The table's numeric columns per image of `files` (relative POSIX paths), NaN where missing."""
    names, key, kept = _matched_rows(path, files)
    if not kept:
        raise AecliError(f"no row of {path} matches an image file; check its file-name column")
    skipped = 1 if key is None else key  # the key column (LFW's image number: its person stays, to split by)
    rows = sorted(kept)
    numeric, text_columns = [], []
    for c in range(len(names)):
        if c != skipped:
            is_number = all(_number(kept[r][c]) is not None for r in rows)
            (numeric if is_number else text_columns).append(c)
    values = np.full((len(files), len(numeric)), np.nan, dtype=np.float32)
    for r in rows:
        values[r] = [_number(kept[r][c]) for c in numeric]
    columns = {}
    for c in text_columns:
        per_image: list[str | None] = [None] * len(files)
        for r in rows:
            cell = kept[r][c].strip()
            per_image[r] = None if cell.lower() in MISSING else cell
        columns[names[c]] = per_image
    return Table(path, [names[c] for c in numeric], values, columns, matched=len(rows))
