"""Time to a good model: how soon the usual way and aecli reach a test -ELBO, in one run.

The baseline is the usual way (benchmarks/baseline.py: torchvision MNIST, DataLoader, batch 128,
32/64 channels, Adam 1e-3, fp32) trained for 20 epochs. aecli runs `aecli train vae` with its
defaults for 20 epochs, and once more with a schedule fitted to the target: fewer epochs, so the
warm-up, the hold and the cosine decay all fit in the time it takes to reach 101 nats. Every run
scores the test split after each epoch; the seconds are training seconds (scoring not counted,
for either side), and a threshold counts as reached at the end of the first epoch below it.

Run: python benchmarks/time_to_quality.py [--baseline-epochs 20] [--epochs 20] [--fitted-epochs 3] [--fitted-width 8]
"""

import argparse
import os
import shutil
import time
from pathlib import Path

import torch
from baseline import NAME as BASELINE
from baseline import real_mnist_workspace, torchvision_root, train_baseline
from common import cpu_model, table

THRESHOLDS = (105.0, 101.0, 99.0)
TARGET = 101.0  # the threshold the speed-up goal is set at


def aecli_run(folder: Path, epochs: int, out: Path, options: dict, log) -> dict:
    from aecli.data import DataRecipe
    from aecli.train.loop import TrainSettings, train

    settings = TrainSettings(
        model="vae", data=DataRecipe("mnist", data_dir=str(folder)), epochs=epochs, seed=0, model_options=options
    )
    result = train(settings, device="cpu", out=out, on_epoch=lambda row, _: log(row))
    return {
        "images_per_second": result.train_images / result.train_seconds,
        "seconds": result.train_seconds,
        "history": result.history,
    }


def seconds_to(history: list[dict], threshold: float) -> float | None:
    """Training seconds until the end of the first epoch at or below the threshold (None: never)."""
    elapsed = 0.0
    for row in history:
        elapsed += row["seconds"]
        if row["test_loss"] <= threshold:
            return elapsed
    return None


def nats(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def loss_within(history: list[dict], budget: float) -> float | None:
    """The test -ELBO of the last epoch that ended within the budget of training seconds."""
    elapsed, reached = 0.0, None
    for row in history:
        elapsed += row["seconds"]
        if elapsed > budget:
            break
        reached = row["test_loss"]
    return reached


def main() -> None:
    from aecli.device import bf16_is_native

    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline-epochs", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=20, help="aecli's default run")
    parser.add_argument("--fitted-epochs", type=int, default=3, help="aecli's run with a schedule fitted to 101 nats")
    parser.add_argument("--fitted-width", type=int, default=8, help="the model width of that run")
    args = parser.parse_args()
    folder, work = real_mnist_workspace("aecli-ttq-")
    native = bf16_is_native(torch.device("cpu"))
    print(f"# CPU: {cpu_model()}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"# native bf16: {native} (aecli trains in {'bf16' if native else 'fp32'}; the baseline in fp32)")
    started = time.perf_counter()

    def log(name):
        return lambda row: print(f"# {name}: epoch {row['epoch']}: {row['test_loss']:.2f} nats", flush=True)

    runs = {BASELINE: train_baseline(torchvision_root(folder, work), args.baseline_epochs, log("baseline"))}
    default = f"aecli train vae --epochs {args.epochs}"
    fitted = f"aecli train vae --epochs {args.fitted_epochs} --width {args.fitted_width}"
    runs[default] = aecli_run(folder, args.epochs, work / "default", {}, log(default))
    runs[fitted] = aecli_run(folder, args.fitted_epochs, work / "fitted", {"width": args.fitted_width}, log(fitted))
    budget = runs[BASELINE]["seconds"]
    base = runs[BASELINE]
    base_to_target = seconds_to(base["history"], TARGET)
    rows = []
    for name, run in runs.items():
        history = run["history"]
        reached = [seconds_to(history, t) for t in THRESHOLDS]
        to_target = seconds_to(history, TARGET)
        sooner = "-"
        if to_target and name != BASELINE:  # a baseline that never got there gives a lower bound
            sooner = f"{base_to_target / to_target:.1f}" if base_to_target else f"> {budget / to_target:.1f}"
        rows.append(
            [
                name,
                run["images_per_second"],
                run["images_per_second"] / base["images_per_second"],
                *[f"{s:.0f}" if s is not None else "not reached" for s in reached],
                nats(loss_within(history, budget)),
                nats(history[-1]["test_loss"]),
                run["seconds"],
                sooner,
            ]
        )
    thresholds = [f"s to {t:g}" for t in THRESHOLDS]
    headers = ["run", "images/s", "x images/s", *thresholds, "-ELBO in baseline's time", "final -ELBO"]
    print(table([*headers, "train s", f"x sooner to {TARGET:g}"], rows))
    print(f"# wall time of the whole benchmark: {time.perf_counter() - started:.0f} s")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
