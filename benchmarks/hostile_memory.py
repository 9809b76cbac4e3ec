"""Peak memory of aecli on crafted files: each case in a child process, its own peak RSS.

Every case must stay under 1.5 GB of peak RSS and end as it should: most in one `Error:` line
(exit 1 or 2); those marked "done" (a file read within bounds, a command whose output is streamed)
with exit 0 and no error.
Run: python benchmarks/hostile_memory.py
"""

import gzip
import http.server
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import threading
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


def sixteen_bit_png(run_dir: Path, work: Path) -> list[str]:
    from PIL import Image

    path = work / "deep.png"
    Image.new("I;16", (7999, 7999)).save(path)  # 125 KB; once went through float64 at 1.2 GB
    return ["reconstruct", "vae", "--checkpoint", str(run_dir), "--input", str(path), "-o", str(work / "d.png")]


def small_folder(work: Path, name: str) -> Path:
    from PIL import Image

    folder = work / name
    folder.mkdir()
    for i in range(10):
        Image.new("L", (16, 16), 20 * i).save(folder / f"{i}.png")
    return folder


def wide_table(work: Path) -> list[str]:
    folder = small_folder(work, "wide-table")
    with open(folder / "attributes.csv", "w") as handle:  # a million columns, 65 MB
        handle.write("file," + ",".join(f"a{i}" for i in range(1_000_000)) + "\n")
        for i in range(5):
            handle.write(f"{i}.png" + ",1" * 1_000_000 + "\n")
    return ["train", "vae", "--dataset", "folder", "--data-dir", str(folder), "--epochs", "1"]


def long_table(work: Path) -> list[str]:
    folder = small_folder(work, "long-table")
    with open(folder / "attributes.csv", "w") as handle:  # 60 million short rows, 240 MB
        handle.write("file,a\n")
        for _ in range(600):
            handle.write("x,1\n" * 100_000)
    return ["train", "vae", "--dataset", "folder", "--data-dir", str(folder), "--epochs", "1"]


def huge_partition(work: Path) -> list[str]:
    from PIL import Image

    root = work / "celeba"
    (root / "img_align_celeba").mkdir(parents=True)
    names = [f"{i:06d}.jpg" for i in range(1, 13)]
    for name in names:
        Image.new("RGB", (178, 218)).save(root / "img_align_celeba" / name)
    attributes = [str(len(names)), "Smiling Young", *(f"{name}  1 -1" for name in names)]
    (root / "list_attr_celeba.txt").write_text("\n".join(attributes) + "\n")
    with open(root / "list_eval_partition.txt", "w") as handle:  # 248 MB: the rows of images not there
        handle.writelines(f"{name} {0 if i < 8 else 2}\n" for i, name in enumerate(names))
        for start in range(0, 15_500_000, 500_000):
            handle.write("".join(f"{i:09d}.jpg 0\n" for i in range(start, start + 500_000)))
    return ["train", "vae", "--dataset", "celeba", "--data-dir", str(root), "--image-size", "16", "--epochs", "1"]


class Endless(http.server.BaseHTTPRequestHandler):
    """Zeros for as long as the client reads, with no Content-Length."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        try:
            while True:
                self.wfile.write(bytes(1 << 16))
        except OSError:
            pass

    def log_message(self, *args) -> None:
        pass


def endless_mirror(env: dict) -> list[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Endless)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env["AECLI_MNIST_URL"] = f"http://127.0.0.1:{server.server_address[1]}/"
    return ["train", "vae", "--epochs", "1"]


def huge_run_config(run_dir: Path, work: Path) -> list[str]:
    ckpt = copy_checkpoint(run_dir, work, "home/runs/vae/huge-config")
    with open(ckpt / "config.json", "w") as handle:  # 300 MB: runs once read it whole
        handle.write('{"pad": "')
        for _ in range(300):
            handle.write("a" * 2**20)
        handle.write('"}')
    return ["runs"]


CRAFT = """
import json
import sys
from pathlib import Path
from aecli.data import DataRecipe, DataSpec
from aecli.models import create_model
from aecli.store.checkpoints import save_checkpoint

run_dir, model, size, classes = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
options = json.loads(sys.argv[5])
spec = DataSpec("folder", channels=1, image_size=size, class_names=tuple(f"c{i}" for i in range(classes)))
recipe = DataRecipe("folder", data_dir=str(run_dir))
save_checkpoint(run_dir, create_model(model, spec, **options), spec, recipe, {"epochs_completed": 1}, [{"epoch": 1}])
"""


def crafted(work: Path, name: str, model: str, image_size: int, classes: int = 0, **options) -> Path:
    """A checkpoint of an untrained model whose every setting lies within aecli's ranges. Made in a
    child: this process stays without torch, whose pages a forked child would count as its own peak."""
    run_dir = work / name
    run_dir.mkdir()
    args = [str(run_dir), model, str(image_size), str(classes), json.dumps(options)]
    subprocess.run([sys.executable, "-c", CRAFT, *args], check=True)
    return run_dir


def many_classes(work: Path) -> list[str]:
    run_dir = crafted(work, "cvae-10000", "cvae", image_size=64, classes=10_000)
    return ["generate", "cvae", "--checkpoint", str(run_dir), "--class", "c7", "-n", "512", "-o", str(work / "m.png")]


def many_classes_scored(work: Path) -> list[str]:
    from PIL import Image

    Image.new("L", (64, 64), 100).save(work / "one.png")
    run_dir = crafted(work, "cvae-10000-scored", "cvae", image_size=64, classes=10_000)
    return ["score", "cvae", "--checkpoint", str(run_dir), str(work / "one.png"), "-o", str(work / "s.csv")]


def wide_images(work: Path) -> list[str]:
    run_dir = crafted(work, "vae-1024", "vae", image_size=1024, width=1)
    return ["sample", "vae", "--checkpoint", str(run_dir), "-n", "512", "-o", str(work / "w.npy")]


def long_generate(work: Path) -> list[str]:
    return ["generate", "cvae", "--checkpoint", "bundled", "--digit", "3", "-n", "100000", "-o", str(work / "g.npy")]


def wide_traverse(work: Path) -> list[str]:
    run_dir = crafted(work, "vae-4096", "vae", image_size=28, latent_dim=4096)
    args = ["traverse", "vae", "--checkpoint", str(run_dir), "--prior", "--dims", "all", "--steps", "101"]
    return [*args, "-o", str(work / "t.npy")]


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="aecli-hostile-"))
    env = {**os.environ, "AECLI_HOME": str(work / "home"), "AECLI_DATA": str(work / "cache")}
    vae = trained_vae(work, env)
    error, done = "Error: line", "done"
    cases = {
        "trainer.pt: 3 GiB of zeros, deflated": (zip_bomb_trainer(vae, work), error),
        "config.json: width 2600": (wide_config(vae, work), error),
        "MNIST .gz inflating to 4.7 GB": (gz_bomb(work), error),
        "lfw_attributes.txt -> /dev/zero": (endless_attributes(work), error),
        ".tgz extracting 1 GiB": (tgz_bomb(work), error),
        "PNG declaring 100000 x 100000": (huge_png(vae, work), error),
        "PNG with a 200 MB zTXt chunk": (ztxt_bomb(vae, work), error),
        "16-bit PNG of 7999 x 7999 (125 KB)": (sixteen_bit_png(vae, work), done),
        "attributes.csv: a million columns": (wide_table(work), error),
        "attributes.csv: 60 million rows": (long_table(work), error),
        "CelebA partition file of 248 MB": (huge_partition(work), error),
        "MNIST mirror sending zeros forever": (endless_mirror(env), error),
        "runs: a 300 MB config.json": (huge_run_config(vae, work), done),
        "cvae of 10,000 classes at 64 px: generate -n 512": (many_classes(work), done),
        "cvae of 10,000 classes: score one image": (many_classes_scored(work), done),
        "vae at 1024 px: sample -n 512 -o .npy": (wide_images(work), done),
        "generate -n 100000 -o .npy (314 MB)": (long_generate(work), done),
        "traverse --dims all --steps 101, 4096 dims": (wide_traverse(work), done),
    }
    rows = []
    for name, (args, expected) in cases.items():
        code, line, peak = run(args, env)
        ended = code in (1, 2) and line.startswith("Error:") if expected == error else code == 0
        ok = ended and peak < LIMIT_MB and "unexpected" not in line
        rows.append([name, expected, code, peak, "ok" if ok else "FAIL", line[:100]])
    header = ["crafted file", "should end in", "exit", "peak RSS (MB)", f"< {LIMIT_MB} MB, as it should", "last line"]
    print(table(header, rows))
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
