"""Rows written batch by batch to .csv, .parquet or .npy, under a temporary name until complete."""

import contextlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from aecli.errors import AecliError
from aecli.fileio import atomic_path, shown_name
from aecli.store.npy import NpyWriter

TABLE_SUFFIXES = (".csv", ".parquet", ".npy")


def parquet_available() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def check_table_output(path: Path) -> None:
    if Path(path).suffix.lower() == ".parquet" and not parquet_available():
        raise AecliError("writing .parquet needs pyarrow: pip install pyarrow (or write .csv)")


class RowSink:
    """`add(columns)` appends a batch: a dict of equal-length 1-D arrays (or, for the .npy file, its
    `array_column`'s 2-D block, which is all a .npy keeps). `close()` finishes the file."""

    def __init__(self, tmp: Path, suffix: str, max_rows: int, array_column: str) -> None:
        self.suffix, self.rows, self.array_column, self.max_rows = suffix, 0, array_column, max_rows
        self._tmp, self._handle, self._writer = tmp, None, None

    def add(self, columns: dict[str, np.ndarray], block: np.ndarray | None = None) -> None:
        count = len(next(iter(columns.values())))
        columns = {name: _writable(values) for name, values in columns.items()}
        if self.suffix == ".npy":
            if self._writer is None:
                self._writer = NpyWriter(self._tmp, (self.max_rows, block.shape[1]), np.float32)
            self._writer[self.rows : self.rows + count] = block
        elif self.suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.table({name: np.asarray(values) for name, values in columns.items()})
            if self._writer is None:
                self._writer = pq.ParquetWriter(self._tmp, table.schema)
            self._writer.write_table(table)
        else:
            import pandas as pd

            first = self._handle is None
            if first:
                self._handle = open(self._tmp, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed in close()
            frame = pd.DataFrame({name: np.asarray(values) for name, values in columns.items()})
            frame.to_csv(self._handle, header=first, index=False, float_format="%.7g", lineterminator="\n")
        self.rows += count

    def close(self) -> None:
        if self.suffix == ".npy":
            if self._writer is None:
                raise AecliError("no rows to write")
            self._writer.close(rows=self.rows)
        elif self._handle is not None:  # csv
            self._handle.close()
        elif self._writer is not None:  # parquet
            self._writer.close()


def _writable(values) -> np.ndarray:
    """Text cells with names that are not UTF-8 made writable (see `shown_name`); numbers as they are."""
    array = np.asarray(values)
    if array.dtype.kind not in "OU":
        return array
    return np.array([shown_name(v) if isinstance(v, str) else v for v in array.tolist()], dtype=object)


@contextlib.contextmanager
def row_sink(path: Path, max_rows: int, array_column: str = "codes") -> Iterator[RowSink]:
    """A RowSink writing `path` (by its suffix); the file appears only once every row is in."""
    path = Path(path)
    with atomic_path(path) as tmp:
        sink = RowSink(tmp, path.suffix.lower(), max_rows, array_column)
        try:
            yield sink
        except BaseException:
            with contextlib.suppress(Exception):
                sink.close()
            raise
        sink.close()
