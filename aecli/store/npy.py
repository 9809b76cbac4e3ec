"""A .npy file written front to back, batch by batch, with plain writes.

Not a writable memory map: a write into a mapped page on a full disk kills the process with
SIGBUS, while a plain write fails with an OSError that aecli turns into a clear message.
"""

from pathlib import Path

import numpy as np


class NpyWriter:
    """`writer[a:b] = batch` appends rows in order; `close()` checks that every row was written."""

    def __init__(self, path: Path, shape: tuple[int, ...], dtype) -> None:
        self.shape, self.dtype = tuple(shape), np.dtype(dtype)
        self.handle = open(path, "wb")  # noqa: SIM115 - closed by close()
        self.handle.write(self._header(self.shape))
        self.rows = 0

    def __len__(self) -> int:
        return self.shape[0]

    def __setitem__(self, part: slice, values: np.ndarray) -> None:
        start = part.start or 0
        if start != self.rows:
            raise ValueError(f"rows must be written in order: expected row {self.rows}, got {start}")
        values = np.ascontiguousarray(values, dtype=self.dtype)
        if values.shape[1:] != self.shape[1:] or self.rows + len(values) > self.shape[0]:
            raise ValueError(f"a batch of shape {values.shape} does not fit {self.shape}")
        self.handle.write(values.tobytes())
        self.rows += len(values)

    def _header(self, shape: tuple[int, ...]) -> bytes:
        """A version 2.0 header of fixed length (128 bytes and more for long shapes), so a smaller
        final row count can be written over it in place."""
        described = {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False, "shape": shape}
        text = repr(described).encode("latin1")
        length = 128 * ((len(text) + 12 + 40) // 128 + 1) - 12  # room for any row count of up to 20 digits
        return b"\x93NUMPY\x02\x00" + length.to_bytes(4, "little") + text.ljust(length - 1) + b"\n"

    def close(self, rows: int | None = None) -> None:
        """Finish the file; `rows` fewer than planned (inputs that could not be read) rewrites the header."""
        if rows is not None and rows != self.shape[0]:
            if rows != self.rows:
                raise ValueError(f"{self.rows} rows were written, not {rows}")
            self.handle.seek(0)
            self.handle.write(self._header((rows, *self.shape[1:])))
            self.shape = (rows, *self.shape[1:])
        self.handle.flush()
        self.handle.close()
        if self.rows != self.shape[0]:
            raise ValueError(f"{self.rows} of {self.shape[0]} rows were written")
