"""Helpers the tests share: the CLI runner, small real-format files, a local HTTP server, a hostile pickle."""

import contextlib
import functools
import gzip
import http.server
import os
import struct
import threading
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from aecli.cli import app


def install_run(model: str, run_dir: Path) -> Path:
    """A copy of a trained run inside the test's model home, made the model's newest."""
    import shutil

    from aecli.store.runs import runs_dir, set_latest_run

    target = runs_dir(model) / Path(run_dir).name
    shutil.copytree(run_dir, target)
    assert set_latest_run(model, target)
    return target


def invoke(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def write_idx(path: Path, array: np.ndarray) -> None:
    magic = 2051 if array.ndim == 3 else 2049
    header = struct.pack(f">i{array.ndim}i", magic, *array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


def make_mnist(folder: Path, n_train: int = 64, n_test: int = 32, seed: int = 0) -> Path:
    """Four small but real-format MNIST IDX .gz files."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n))
    return folder


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serving(folder: Path, handler=QuietHandler):
    """An HTTP server on 127.0.0.1 serving `folder`; yields its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


class Evil:
    """A pickle whose loading would run `touch marker`: aecli must never load it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def declared_png(path: Path, side: int) -> Path:
    """A small PNG whose header declares `side` x `side` grey pixels (only the first rows follow)."""
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(b"\0" + bytes(side)) for _ in range(16)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path
