"""The options of `aecli train`, as Annotated aliases (no torch import here)."""

from pathlib import Path
from typing import Annotated

import typer

from aecli.cli.options import MAX_SEED

DatasetOption = Annotated[
    str | None,
    typer.Option(
        help="mnist, fashion-mnist, kmnist, digits, folder (your own images), lfw, lfw-mini, celeba "
        "[default: the model's, listed below]."
    ),
]
DataDirOption = Annotated[
    Path | None, typer.Option("--data-dir", metavar="DIR", help="Read the dataset from local files.")
]
EpochsOption = Annotated[
    int, typer.Option(min=1, max=100_000, help="Total epochs (with --resume: including those done).")
]
BatchSizeOption = Annotated[
    int | None,
    typer.Option(min=1, max=65_536, help="Images per step [default: the model's, below; smaller for small datasets]."),
]
LrOption = Annotated[
    float | None, typer.Option(min=1e-8, max=10.0, help="Adam learning rate [default: the model's, below].")
]
LatentDimOption = Annotated[
    int | None, typer.Option(min=1, max=4096, help="Latent size [default: the model's, below].")
]
DeviceOption = Annotated[str, typer.Option(help="auto (CUDA, then MPS, then CPU), cpu, cuda or mps.")]
PrecisionOption = Annotated[str, typer.Option(help="auto (bf16 where the hardware has it), fp32 or bf16.")]
ThreadsOption = Annotated[
    int | None,
    typer.Option(min=1, max=1024, help="CPU threads (default: one per core; 1 each for runs side by side)."),
]
SeedOption = Annotated[
    int | None, typer.Option(min=0, max=MAX_SEED, help="Random seed (default: drawn, and recorded).")
]
ImageSizeOption = Annotated[
    int | None,
    typer.Option(min=16, max=512, help="Image side (folder: default the images' own; lfw, celeba, lfw-mini: 64)."),
]
CropOption = Annotated[
    float | None,
    typer.Option(
        min=0.05, max=1.0, help="Centre crop, a fraction of the shorter side (folder 1, lfw 0.36, celeba 0.83)."
    ),
]
GreyOption = Annotated[bool, typer.Option("--grey", help="Convert colour images to grey (folder, lfw, celeba).")]
LimitOption = Annotated[
    int | None, typer.Option(min=1, max=10**9, help="Use only the first N images of each split (quick trials).")
]
SplitByOption = Annotated[
    str | None,
    typer.Option(
        "--split-by",
        metavar="COLUMN",
        help="folder: keep each value of this table column (or 'class') on one side of the split.",
    ),
]
ClassesOption = Annotated[
    str | None,
    typer.Option(
        "--classes",
        metavar="LIST",
        help="Train on these classes only, e.g. 3 or 3,5 or class names (one normal class for anomaly scores).",
    ),
]
BinarizeOption = Annotated[bool, typer.Option("--binarize", help="Train on dynamically binarized pixels (vae/cvae).")]
OutOption = Annotated[
    Path | None, typer.Option("--out", metavar="DIR", help="Run folder (default: a new one in the model home).")
]
ResumeOption = Annotated[bool, typer.Option("--resume", help="Continue the newest run (or --out) from its last epoch.")]
