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
        header = {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False, "shape": self.shape}
        np.lib.format.write_array_header_2_0(self.handle, header)
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

    def close(self) -> None:
        self.handle.flush()
        self.handle.close()
        if self.rows != self.shape[0]:
            raise ValueError(f"{self.rows} of {self.shape[0]} rows were written")
