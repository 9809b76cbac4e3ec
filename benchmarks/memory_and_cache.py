"""Peak memory of `aecli train vae` on full MNIST, and LFW start-up with a warm cache.

Run: python benchmarks/memory_and_cache.py [LFW_FOLDER]
"""

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import MNIST, mnist_folder, table

LFW = MNIST.parent / "lfw"


def peak_rss_of(command: list[str], env: dict) -> tuple[float, float]:
    """Run a child to completion; its wall time and peak resident memory (MB)."""
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def lfw_seconds_to_first_batch(folder: Path) -> list[float]:
    """Dataset load time (what `train ae` does before its first batch), cold then warm."""
    code = (
        "import time, torch; t = time.perf_counter(); from aecli.data import load_dataset; "
        f"load_dataset('lfw', {str(folder)!r}, crop=1.0); print(time.perf_counter() - t)"
    )
    env = {**os.environ, "AECLI_DATA": tempfile.mkdtemp()}
    return [
        float(subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True).stdout)
        for _ in range(2)
    ]


def main() -> None:
    rows = []
    folder = mnist_folder()
    if folder:
        env = {**os.environ, "AECLI_HOME": tempfile.mkdtemp()}
        command = [
            sys.executable,
            "-m",
            "aecli",
            "train",
            "vae",
            "--data-dir",
            str(folder),
            "--epochs",
            "1",
            "--device",
            "cpu",
        ]
        seconds, peak = peak_rss_of(command, env)
        rows.append(["train vae, full MNIST, 1 epoch: peak RSS (MB)", peak, "< 2048 MB"])
    lfw = Path(sys.argv[1]) if len(sys.argv) > 1 else LFW
    if lfw.is_dir():
        cold, warm = lfw_seconds_to_first_batch(lfw)
        rows.append([f"LFW load, cold cache ({lfw.name}) (s)", cold, ""])
        rows.append(["LFW load, warm cache (s)", warm, "<= 1 s"])
    print(table(["measure", "value", "target"], rows))


if __name__ == "__main__":
    main()
