"""The same real data read two ways: through the named adapters and through `--dataset folder`.

1. MNIST: `train cvae --data-dir MNIST` against the same 70,000 digits exported as PNG class
   folders (scripts/export_mnist_folder.py), 10 epochs each; test -ELBO and how often aecli's
   judge reads `generate` output as the asked class (`eval cvae`).
2. LFW: `train ae --data-dir LFW --crop 1` against the same faces linked as a folder with a CSV
   attribute table (scripts/export_lfw_folder.py, `--split-by person`), 30 epochs each; test
   PSNR and how far the smile vector moves the independent smile judge (smile_check.py).

Run: python benchmarks/folder_vs_adapters.py   (about 12 minutes on 2 cores; nothing else running)
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import MNIST, table

HERE = Path(__file__).resolve().parent
LFW = MNIST.parent / "lfw"


def aecli(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "aecli", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"aecli {' '.join(args)} failed:\n{done.stderr}")
    return json.loads(done.stdout) if "--json" in args else {}


def smile_shift(checkpoint: Path, work: Path) -> str:
    out = work / f"smile-{checkpoint.name}.npy"
    aecli("smile", "ae", "--checkpoint", str(checkpoint), "-n", "16", "--steps", "5", "-o", str(out))
    judged = subprocess.run([sys.executable, str(HERE / "smile_check.py"), str(out)], capture_output=True, text=True)
    steps = [line.split("|")[2].strip() for line in judged.stdout.splitlines() if line.startswith("| step")]
    return f"{steps[0]} -> {steps[-1]}" if steps else judged.stdout.strip()


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="aecli-folder-bench-"))
    os.environ.setdefault("AECLI_HOME", str(work / "home"))
    os.environ.setdefault("AECLI_DATA", str(work / "cache"))
    scripts = HERE.parent / "scripts"
    subprocess.run(
        [sys.executable, str(scripts / "export_mnist_folder.py"), str(MNIST), str(work / "mnist")], check=True
    )
    subprocess.run([sys.executable, str(scripts / "export_lfw_folder.py"), str(LFW), str(work / "lfw")], check=True)
    rows = []
    for label, data in (
        ("--data-dir MNIST", ["--data-dir", str(MNIST)]),
        ("--dataset folder", ["--dataset", "folder", "--data-dir", str(work / "mnist")]),
    ):
        run = work / f"cvae-{label.split()[-1].lower()}"
        trained = aecli("train", "cvae", *data, "--epochs", "10", "--seed", "0", "--out", str(run), "--json")
        metrics = aecli("eval", "cvae", "--checkpoint", str(run), "-k", "10", "--json")
        per_class = metrics["gan_test"]
        rows.append(
            [
                "cvae, MNIST " + label,
                trained["test_loss"],
                min(per_class.values()),
                metrics["judge_test_accuracy"],
                trained["seconds"],
            ]
        )
    print(
        table(
            ["run (10 epochs, seed 0)", "test -ELBO", "weakest class read as asked", "judge accuracy", "train s"], rows
        )
    )
    rows = []
    for label, data in (
        ("--data-dir LFW --crop 1", ["--data-dir", str(LFW), "--crop", "1"]),
        (
            "--dataset folder --split-by person",
            ["--dataset", "folder", "--data-dir", str(work / "lfw"), "--split-by", "person"],
        ),
    ):
        run = work / f"ae-{label.split()[1].lower()}"
        trained = aecli("train", "ae", *data, "--epochs", "30", "--seed", "0", "--out", str(run), "--json")
        metrics = aecli("eval", "ae", "--checkpoint", str(run), "--json")
        rows.append(["ae, LFW " + label, metrics["psnr_db"], smile_shift(run, work), trained["seconds"]])
    print(table(["run (30 epochs, seed 0)", "test PSNR dB", "P(smiling) step 0 -> last", "train s"], rows))


if __name__ == "__main__":
    main()
