"""A folder of 100,000 small colour JPEGs: first read, cached reopen, and a training epoch's memory.

Writes N synthetic 48x48 colour JPEGs in 10 class folders (once, kept under --root), then reports:
- first read: aecli's parallel decode into its cache (images/s), against one pass of torchvision
  `ImageFolder` + `DataLoader` (2 workers, Resize + ToTensor) over the same folder;
- the cached reopen (the same `load_dataset` call again);
- peak RSS of `aecli train ae --dataset folder --image-size 32 --epochs 1` on it (goal < 2 GB).

Run: python benchmarks/large_folder.py [--count 100000] [--root /tmp/aecli-large-folder]
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import table

SIDE = 48


def write_folder(root: Path, count: int) -> None:
    from PIL import Image

    marker = root / f".complete-{count}"
    if marker.exists():
        return
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:SIDE, 0:SIDE]
    started = time.perf_counter()
    for i in range(count):
        label = i % 10
        folder = root / f"class{label}"
        folder.mkdir(parents=True, exist_ok=True)
        base = rng.integers(0, 256, 3)
        pixels = np.empty((SIDE, SIDE, 3), np.uint8)
        pixels[:] = base
        r = 6 + label
        cx, cy = rng.integers(r, SIDE - r, 2)
        pixels[(x - cx) ** 2 + (y - cy) ** 2 < r * r] = 255 - base
        Image.fromarray(pixels).save(folder / f"{i:06d}.jpg", quality=90)
    marker.touch()
    print(f"# wrote {count:,} JPEGs in {time.perf_counter() - started:.0f} s")


def torchvision_pass(root: Path) -> float:
    import torch
    from torchvision import datasets, transforms

    dataset = datasets.ImageFolder(str(root), transforms.Compose([transforms.Resize(32), transforms.ToTensor()]))
    loader = torch.utils.data.DataLoader(dataset, batch_size=256, num_workers=2)
    started = time.perf_counter()
    for _ in loader:
        pass
    return len(dataset) / (time.perf_counter() - started)


def aecli_read(root: Path, cache: Path) -> tuple[float, float]:
    """(first-read images/s, seconds of the cached reopen), each in a fresh process."""
    code = (
        "import time; from aecli.data import load_dataset, DataRecipe; t = time.perf_counter(); "
        f"d = load_dataset(DataRecipe('folder', data_dir={str(root)!r}, image_size=32)); "
        "print(len(d.train) + len(d.test), time.perf_counter() - t)"
    )
    env = {**os.environ, "AECLI_DATA": str(cache)}
    rows = []
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        count, seconds = out.stdout.split()
        rows.append((int(count), float(seconds)))
    (count, first), (_, second) = rows
    return count / first, second


def train_peak_rss(root: Path, cache: Path, home: Path) -> tuple[float, float]:
    """Peak RSS (MB) and wall seconds of one training epoch in a child process."""
    env = {**os.environ, "AECLI_DATA": str(cache), "AECLI_HOME": str(home)}
    command = [sys.executable, "-m", "aecli", "train", "ae", "--dataset", "folder", "--data-dir", str(root)]
    command += ["--image-size", "32", "--epochs", "1", "--seed", "0"]
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env, capture_output=True)
    seconds = time.perf_counter() - started
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, seconds


def folder_arguments() -> argparse.Namespace:
    """--count and --root of the 100,000-image folder (written once, kept), shared by its benchmarks."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--root", type=Path, default=Path(tempfile.gettempdir()) / "aecli-large-folder")
    args = parser.parse_args()
    write_folder(args.root, args.count)
    return args


def main() -> None:
    args = folder_arguments()
    work = Path(tempfile.mkdtemp(prefix="aecli-large-bench-"))
    baseline = torchvision_pass(args.root)
    first, reopen = aecli_read(args.root, work / "cache")
    peak, seconds = train_peak_rss(args.root, work / "cache", work / "home")
    print(f"# {args.count:,} colour JPEGs of {SIDE}x{SIDE} in 10 class folders, read at 32x32; {os.cpu_count()} CPUs")
    rows = [
        ["torchvision ImageFolder + DataLoader (2 workers), one pass: images/s", baseline, ""],
        ["aecli first read (decode + cache): images/s", first, f"{first / baseline:.2f}x"],
        ["aecli cached reopen: seconds", reopen, "goal well under 1 s"],
        ["aecli train ae, 1 epoch: peak RSS (MB)", peak, "goal < 2048"],
        ["aecli train ae, 1 epoch: wall seconds (incl. start-up)", seconds, ""],
    ]
    print(table(["measure", "value", "note"], rows))


if __name__ == "__main__":
    main()
