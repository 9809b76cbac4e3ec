"""Training throughput: aecli's VAE against the usual way of writing it, same run, same data.

The baseline is the plain PyTorch-examples style: torchvision MNIST with ToTensor, a DataLoader
(batch 128, shuffled), the conv+pool VAE with 32 and 64 channels, Adam 1e-3, fp32 eager.
aecli trains through its own `train()`, exactly as `aecli train vae` does, once in float32 and
(where this CPU computes bfloat16 natively) once with its default precision. Runs alternate over
several rounds and images/s are averaged, because a shared machine's speed drifts by 20% or
more within minutes; the speed-up of each round (against that round's baseline) is printed too.

Run: python benchmarks/train_vae.py [--epochs N] [--rounds R]
"""

import argparse
import shutil
from pathlib import Path

import torch
from baseline import NAME as BASELINE
from baseline import BaselineVAE, real_mnist_workspace, torchvision_root, train_baseline
from common import Timer, table
from torch import nn


def aecli_run(folder: Path | None, epochs: int, out: Path, precision: str) -> dict:
    from aecli.data import DataRecipe
    from aecli.train.loop import TrainSettings, train

    recipe = DataRecipe("mnist", data_dir=str(folder)) if folder else DataRecipe("digits")
    settings = TrainSettings(model="vae", data=recipe, epochs=epochs, seed=0, precision=precision)
    result = train(settings, device="cpu", out=out)
    return {
        "images_per_second": result.train_images / result.train_seconds,
        "test_loss": result.history[-1]["test_loss"],
        "seconds": result.train_seconds,
    }


def matmul_gflops(dtype: torch.dtype, size: int = 2048, repeats: int = 8) -> float:
    """This CPU's rate on one large matrix product: the practical ceiling for the GFLOP/s column."""
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    a @ b
    with Timer() as t:
        for _ in range(repeats):
            a @ b
    return 2 * size**3 * repeats / t.seconds / 1e9


def training_flops_per_image(model: nn.Module) -> float:
    """Forward + backward FLOPs of one training image, counted by torch."""
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.rand(8, 1, 28, 28)
    with FlopCounterMode(display=False) as counter:
        model.loss(x).mean().backward()
    return counter.get_total_flops() / len(x)


def main() -> None:
    from aecli.device import bf16_is_native
    from aecli.models import create_model

    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3, help="baseline and aecli alternate this many times")
    args = parser.parse_args()
    folder, work = real_mnist_workspace("aecli-bench-")
    root = torchvision_root(folder, work)
    native = bf16_is_native(torch.device("cpu"))
    print(
        f"# torch {torch.__version__}, {torch.get_num_threads()} threads, {args.epochs} epoch(s) per run, "
        f"{args.rounds} alternating rounds; native bf16 on this CPU: {native}"
    )
    # fp32 is aecli's precision where bf16 is not native, so its row is then the only aecli row
    runs = {BASELINE: lambda n: train_baseline(root, args.epochs)}
    runs["aecli train vae --precision fp32"] = lambda n: aecli_run(folder, args.epochs, work / f"fp32-{n}", "fp32")
    if native:
        runs["aecli train vae (auto: bf16)"] = lambda n: aecli_run(folder, args.epochs, work / f"auto-{n}", "auto")
    results: dict[str, list[dict]] = {name: [] for name in runs}
    for n in range(args.rounds):
        for name, run in runs.items():
            results[name].append(run(n))
            print(f"# round {n + 1}: {name}: {results[name][-1]['images_per_second']:,.0f} images/s", flush=True)
    base_mflop = training_flops_per_image(BaselineVAE()) / 1e6
    aecli_mflop = training_flops_per_image(create_model("vae")) / 1e6
    base_rounds = results[BASELINE]
    base_rate = sum(r["images_per_second"] for r in base_rounds) / len(base_rounds)
    rows = []
    for name, rounds in results.items():
        rate = sum(r["images_per_second"] for r in rounds) / len(rounds)
        by_round = " / ".join(
            f"{r['images_per_second'] / b['images_per_second']:.2f}" for r, b in zip(rounds, base_rounds, strict=True)
        )
        mflop = base_mflop if name == BASELINE else aecli_mflop
        seconds = sum(r["seconds"] for r in rounds) / len(rounds)
        rows.append(
            [name, rate, rounds[-1]["test_loss"], seconds, mflop, rate * mflop / 1e3, rate / base_rate, by_round]
        )
    headers = ["run", "images/s", f"test -ELBO after {args.epochs} ep (nats)", "train seconds", "MFLOP/image"]
    print(table([*headers, "GFLOP/s", "speed-up", "speed-up by round"], rows))
    # without native bf16 the bf16 product is emulated: minutes for a figure of about zero
    bf16 = f"{matmul_gflops(torch.bfloat16):.0f} in bf16" if native else "bf16 not native"
    print(f"# this CPU on a 2048x2048 matrix product: {matmul_gflops(torch.float32):.0f} GFLOP/s in fp32, {bf16}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
