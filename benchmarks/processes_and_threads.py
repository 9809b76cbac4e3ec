"""Several trainings on one machine: side by side (one thread per core each, as aecli did before,
the automatic share, --threads 1), and one job split over two processes with torchrun (gloo).

Run alone (nothing else busy): python benchmarks/processes_and_threads.py [EPOCHS]
Each job trains the default vae on MNIST (the bundled digits if there is no MNIST here).
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import mnist_folder, table


def data_args() -> list[str]:
    folder = mnist_folder()
    return ["--data-dir", str(folder)] if folder else ["--dataset", "digits"]


DATA: list[str] = []


def launch(root: Path, name: str, extra: list[str], epochs: int, prefix: list[str] | None = None) -> subprocess.Popen:
    env = {**os.environ, "AECLI_HOME": str(root / "home"), "AECLI_DATA": str(root / "cache")}
    start = prefix or [sys.executable, "-m", "aecli"]
    command = [*start, "train", "vae", *DATA, "--epochs", str(epochs), "--seed", "0", "--json"]
    command += ["--out", str(root / name), *extra]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)


def finish(processes: list[subprocess.Popen]) -> list[dict]:
    results = []
    for process in processes:
        out, _ = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"a training failed (exit {process.returncode})")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def main() -> None:
    epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m", "aecli"]
    cores = ["--threads", str(os.cpu_count())]
    cases = [
        ("one run", [[]], None),
        ("two runs side by side, one thread per core each (as before)", [cores, cores], None),
        ("two runs side by side, automatic share (default)", [[], []], None),
        ("two runs side by side, --threads 1", [["--threads", "1"], ["--threads", "1"]], None),
        ("one run, torchrun 2 processes (gloo)", [[]], torchrun),
    ]
    DATA.extend(data_args())
    print(f"# {os.cpu_count()} CPU cores; {epochs} epoch(s) of the default vae per run")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        finish([launch(Path(tmp), "warm", [], 1)])  # reads and caches the data once
        for label, extras, prefix in cases:
            started = time.perf_counter()
            runs = [
                launch(Path(tmp), f"{label[:3]}-{i}-{time.time_ns()}", e, epochs, prefix) for i, e in enumerate(extras)
            ]
            results = finish(runs)
            wall = time.perf_counter() - started
            rates = [r["images_per_second"] for r in results]
            losses = ", ".join(f"{r['test_loss']:.2f}" for r in results)
            rows.append([label, ", ".join(f"{x:,.0f}" for x in rates), f"{sum(rates):,.0f}", round(wall, 1), losses])
    print(table(["case", "images/s per run", "combined images/s", "wall s", "test -ELBO"], rows))


if __name__ == "__main__":
    main()
