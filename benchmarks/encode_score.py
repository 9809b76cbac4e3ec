"""`aecli encode` and `aecli score` over a folder of 100,000 images: images/s and peak memory, beside
torchvision's ImageFolder + DataLoader (2 workers) running the same model in eval mode.

Uses the folder of `large_folder.py` (100,000 colour 48x48 JPEGs in 10 class folders, written once),
trains a small ae on 2,000 of them at 32x32 (1 epoch), then runs, one after the other, alone:
- aecli encode over the whole folder to codes.parquet and to codes.csv, each in a child process (peak
  RSS from the kernel);
- aecli score over the whole folder to scores.csv, likewise;
- ImageFolder + DataLoader (batch 256, 2 workers, Resize(32) + ToTensor) feeding the same model the
  same work: the codes and each image's reconstruction error (encode), the default score (score).

Run: python benchmarks/encode_score.py [--count 100000] [--root /tmp/aecli-large-folder]
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import table
from large_folder import folder_arguments


def child(command: list[str], env: dict) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of a command, run under a fresh wrapper process so that no earlier
    child's peak counts (the decode workers are children of the command, and count too)."""
    wrapper = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "subprocess.run(sys.argv[1:], check=True, capture_output=True); "
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", wrapper, *command], check=True, env=env, capture_output=True, text=True)
    seconds, peak_kb = out.stdout.split()
    return float(seconds), int(peak_kb) / 1024


def torchvision_pass(root: Path, checkpoint: Path, work: str) -> float:
    """images/s of ImageFolder + DataLoader feeding the same model the same work: for encode, the codes
    and each image's reconstruction error; for score, the model's default score."""
    import torch
    from torchvision import datasets, transforms

    from aecli import api

    model = api.load("ae", checkpoint, device="cpu").model.eval()
    dataset = datasets.ImageFolder(str(root), transforms.Compose([transforms.Resize(32), transforms.ToTensor()]))
    loader = torch.utils.data.DataLoader(dataset, batch_size=256, num_workers=2)
    started = time.perf_counter()
    with torch.inference_mode():
        for images, _ in loader:
            if work == "encode":
                codes = model.encode(images)
                (model.decode(codes) - images).square().flatten(1).mean(1)
            else:
                model.score(images)
    return len(dataset) / (time.perf_counter() - started)


def main() -> None:
    args = folder_arguments()
    work = Path(tempfile.mkdtemp(prefix="aecli-encode-bench-"))
    env = {**os.environ, "AECLI_DATA": str(work / "cache"), "AECLI_HOME": str(work / "home")}
    aecli = [sys.executable, "-m", "aecli"]
    train = [*aecli, "train", "ae", "--dataset", "folder", "--data-dir", str(args.root), "--image-size", "32"]
    subprocess.run([*train, "--epochs", "1", "--limit", "2000", "--out", str(work / "run")], check=True, env=env)
    checkpoint = work / "run"
    runs = {}
    for name, suffix in (("encode", ".parquet"), ("encode", ".csv"), ("score", ".csv")):
        out = work / f"{name}{suffix}"
        command = [*aecli, name, "ae", str(args.root), "--checkpoint", str(checkpoint), "-o", str(out)]
        runs[f"{name} -o {out.name}"] = child(command, env)
    print(f"# {args.count:,} colour JPEGs of 48x48 in 10 class folders, read at 32x32; {os.cpu_count()} CPUs")
    rows = []
    baselines = {work: torchvision_pass(args.root, checkpoint, work) for work in ("encode", "score")}
    for name, (seconds, peak) in runs.items():
        baseline = baselines[name.split()[0]]
        rate = args.count / seconds
        rows.append([f"ImageFolder + DataLoader (2 workers), the same {name.split()[0]} work: images/s", baseline, ""])
        rows.append([f"aecli {name} (whole command, start-up included): images/s", rate, f"{rate / baseline:.2f}x"])
        rows.append([f"aecli {name}: peak RSS (MB)", peak, "goal < 1536"])
    print(table(["measure", "value", "note"], rows))


if __name__ == "__main__":
    main()
