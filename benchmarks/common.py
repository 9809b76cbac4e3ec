"""Helpers shared by the benchmark scripts."""

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"


def mnist_folder() -> Path | None:
    folder = Path(os.environ.get("AECLI_BENCH_MNIST", MNIST))
    if (folder / "train-images-idx3-ubyte.gz").is_file():
        print(f"# real MNIST from {folder}")
        return folder
    print(f"# no MNIST at {folder} (set AECLI_BENCH_MNIST); using the bundled digits instead")
    return None


def variant_parser(doc: str, out: str, data: str = "real MNIST's four .gz files") -> argparse.ArgumentParser:
    """The options of a benchmark that trains variants on real data and keeps what it measured."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, help=f"{data} (default: under ../shared/data)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variant", action="append", help="'NAME=OPTIONS' to train, repeatable (default: built-in)")
    parser.add_argument("--out", type=Path, default=Path(out), help="runs and kept figures")
    return parser


def real_mnist(data_dir: Path | None, why: str) -> Path:
    """--data-dir, else the shared MNIST; exits saying why real MNIST is needed when there is none."""
    folder = data_dir or mnist_folder()
    if folder is None:
        sys.exit(f"{why}: give --data-dir with its four .gz files")
    return folder


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def table(headers: list[str], rows: list[list]) -> str:
    cells = [
        [
            f"{c:.3g}" if isinstance(c, float) and abs(c) < 1e3 else (f"{c:,.0f}" if isinstance(c, float) else str(c))
            for c in row
        ]
        for row in rows
    ]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=False)) + " |"]
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + " |" for r in cells]
    return "\n".join(lines)


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def train_variant(model: str, options: str, data_dir: Path, seed: int, run: Path) -> float:
    """Seconds of a whole `aecli train MODEL` command (start-up and per-epoch test scoring included)
    into `run`; a run cut short before is trained again, so its seconds are whole."""
    training = f"train {model} --seed {seed} --data-dir {shlex.quote(str(data_dir))} --out {shlex.quote(str(run))}"
    shutil.rmtree(run, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "aecli", *shlex.split(f"{training} {options}")], check=True, stdout=subprocess.DEVNULL
    )
    return time.perf_counter() - started


def kept_variant(out: Path, name: str, identity: dict, measure: Callable[[Path], dict]) -> dict:
    """A variant's figures from `measure(run_folder)` (which trains into that folder), kept in
    OUT/NAME.json and reused while `identity` (its options, seed, protocol) is the same, so a second
    run measures only what is new; delete the file to measure again."""
    slug = re.sub(r"[^\w.-]+", "_", name).strip("_")
    kept = out / f"{slug}.json"
    if kept.is_file():
        result = json.loads(kept.read_text())
        if all(result.get(key) == value for key, value in identity.items()):
            return result
    result = {**identity, **measure(out / slug)}
    kept.write_text(json.dumps(result, indent=1))
    print(f"{name}: {result}", flush=True)
    return result
