"""Peak memory of aecli on crafted files: each case in a child process, its own peak RSS.

Every case must end in one `Error:` line (exit 1 or 2) with peak RSS under 1.5 GB.
Run: python benchmarks/hostile_memory.py
"""

import gzip
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
import zlib
from pathlib import Path

from common import table

LIMIT_MB = 1536


def run(args: list[str], env: dict) -> tuple[int, str, float]:
    """Exit code, the last stderr line, and the child's own peak RSS (MB)."""
    process = subprocess.Popen([sys.executable, "-m", "aecli", *args], stderr=subprocess.PIPE, env=env, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    err = process.stderr.read().strip().splitlines()
    return os.waitstatus_to_exitcode(status), (err[-1] if err else ""), usage.ru_maxrss / 1024


def trained_vae(work: Path, env: dict) -> Path:
    run_dir = work / "vae"
    subprocess.run(
        [sys.executable, "-m", "aecli", "train", "vae", "--dataset", "digits", "--epochs", "1", "--out", str(run_dir)],
        env=env,
        check=True,
        capture_output=True,
    )
    return run_dir


def copy_checkpoint(run_dir: Path, work: Path, name: str) -> Path:
    target = work / name
    shutil.copytree(run_dir, target)
    return target / "epoch-0001"


def zip_bomb_trainer(run_dir: Path, work: Path) -> list[str]:
    ckpt = copy_checkpoint(run_dir, work, "bomb-trainer")
    trainer = ckpt / "trainer.pt"
    data = {item.filename: zipfile.ZipFile(trainer).read(item.filename) for item in zipfile.ZipFile(trainer).infolist()}
    with zipfile.ZipFile(trainer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, payload in data.items():
            archive.writestr(name, payload)
        with archive.open("archive/data/999", "w", force_zip64=True) as member:  # streamed: this process stays small
            for _ in range(3 * 64):
                member.write(bytes(2**24))
    return ["train", "vae", "--resume", "--out", str(ckpt.parent), "--epochs", "3"]


def wide_config(run_dir: Path, work: Path) -> list[str]:
    ckpt = copy_checkpoint(run_dir, work, "wide")
    config = json.loads((ckpt / "config.json").read_text())
    config["model_config"]["width"] = 2600
    (ckpt / "config.json").write_text(json.dumps(config))
    return ["sample", "vae", "--checkpoint", str(ckpt), "-o", str(work / "wide.png")]


def gz_bomb(work: Path) -> list[str]:
    folder = work / "mnist-bomb"
    folder.mkdir()
    chunk, compressor = b"\0" * 2**24, zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(folder / "train-images-idx3-ubyte.gz", "wb") as handle:
        handle.write(compressor.compress(struct.pack(">iiii", 2051, 60000, 28, 28)))
        for _ in range(280):  # 4.7 GB of zeros
            handle.write(compressor.compress(chunk))
        handle.write(compressor.flush())
    for name, payload in (
        ("train-labels-idx1-ubyte.gz", struct.pack(">ii", 2049, 60000) + bytes(60000)),
        ("t10k-images-idx3-ubyte.gz", struct.pack(">iiii", 2051, 10, 28, 28) + bytes(7840)),
        ("t10k-labels-idx1-ubyte.gz", struct.pack(">ii", 2049, 10) + bytes(10)),
    ):
        (folder / name).write_bytes(gzip.compress(payload))
    return ["train", "vae", "--data-dir", str(folder), "--epochs", "1"]


def endless_attributes(work: Path) -> list[str]:
    folder = work / "lfw-zero"
    (folder / "Ann").mkdir(parents=True)
    from PIL import Image

    Image.new("RGB", (60, 60)).save(folder / "Ann" / "Ann_0001.jpg")
    (folder / "lfw_attributes.txt").symlink_to("/dev/zero")
    return ["train", "ae", "--data-dir", str(folder), "--image-size", "16", "--epochs", "1"]


class Zeros(io.RawIOBase):
    """A file of `size` zero bytes that is never held in memory."""

    def __init__(self, size: int) -> None:
        self.left = size

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return bytes(n)


def tgz_bomb(work: Path) -> list[str]:
    folder = work / "tgz-bomb"
    folder.mkdir()
    with tarfile.open(folder / "lfw.tgz", "w:gz") as tar:
        info = tarfile.TarInfo("lfw/Ann/Ann_0001.jpg")
        info.size = 2**30
        tar.addfile(info, Zeros(info.size))
    return ["train", "ae", "--data-dir", str(folder), "--epochs", "1"]


def huge_png(run_dir: Path, work: Path) -> list[str]:
    path = work / "huge.png"
    width = height = 100_000
    raw = zlib.compressobj(9)
    row = b"\0" + bytes(width)
    body = b"".join(raw.compress(row) for _ in range(2000)) + raw.flush()  # a valid header, a short body

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", body)
        + chunk(b"IEND", b"")
    )
    return ["reconstruct", "vae", "--checkpoint", str(run_dir), "--input", str(path), "-o", str(work / "r.png")]


def ztxt_bomb(run_dir: Path, work: Path) -> list[str]:
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("comment", "A" * 200_000_000, zip=True)
    path = work / "ztxt.png"
    Image.new("L", (28, 28)).save(path, pnginfo=info)
    return ["reconstruct", "vae", "--checkpoint", str(run_dir), "--input", str(path), "-o", str(work / "z.png")]


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="aecli-hostile-"))
    env = {**os.environ, "AECLI_HOME": str(work / "home"), "AECLI_DATA": str(work / "cache")}
    vae = trained_vae(work, env)
    cases = {
        "trainer.pt: 3 GiB of zeros, deflated": zip_bomb_trainer(vae, work),
        "config.json: width 2600": wide_config(vae, work),
        "MNIST .gz inflating to 4.7 GB": gz_bomb(work),
        "lfw_attributes.txt -> /dev/zero": endless_attributes(work),
        ".tgz extracting 1 GiB": tgz_bomb(work),
        "PNG declaring 100000 x 100000": huge_png(vae, work),
        "PNG with a 200 MB zTXt chunk": ztxt_bomb(vae, work),
    }
    rows = []
    for name, args in cases.items():
        code, line, peak = run(args, env)
        ok = code in (1, 2) and line.startswith("Error:") and peak < LIMIT_MB
        rows.append([name, code, peak, "ok" if ok else "FAIL", line[:110]])
    print(table(["crafted file", "exit", "peak RSS (MB)", f"< {LIMIT_MB} MB, one line", "message"], rows))


if __name__ == "__main__":
    main()
