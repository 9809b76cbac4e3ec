"""Options every command shares, written once as Annotated aliases (no torch import here)."""

from pathlib import Path
from typing import Annotated

import typer

from aecli.api import MAX_SEED

Model = Annotated[str, typer.Argument(help="Model name: ae, vae or cvae.", show_default=False)]
Checkpoint = Annotated[
    Path | None,
    typer.Option("--checkpoint", metavar="DIR", help="A checkpoint or run folder (default: the newest run)."),
]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of the written paths.")]
DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", metavar="DIR", help="Read the model's test images from this folder instead."),
]
Seed = Annotated[
    int | None, typer.Option(min=0, max=MAX_SEED, help="Random seed (default: a new draw, reported in --json).")
]
Inputs = Annotated[
    list[Path] | None,
    typer.Option(
        "--input",
        metavar="IMAGE...",
        help="Your own image files (several after one --input, or a pattern such as 'photos/*.jpg').",
    ),
]
Temperature = Annotated[
    float | None,
    typer.Option(
        min=0.0,
        max=10.0,
        help="Scale of the random latents: 1 draws from the prior, lower gives clearer, less varied images "
        "(default: cvae 0.7, others 1).",
    ),
]


def output(default: str, what: str = ".png grid or .npy array (float32 N x C x H x W)"):
    """The -o option of a command, with its default file name."""
    return typer.Option(Path(default), "-o", "--output", metavar="FILE", help=what)


def examples(*lines: str) -> str:
    """A help epilog of example lines, kept as written (click's \\b)."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


Split = Annotated[
    str | None,
    typer.Option(
        "--split", metavar="train|test", help="The checkpoint's own training or test images instead of files."
    ),
]
ClassName = Annotated[
    str | None,
    typer.Option(
        "--class", metavar="NAME", help="The class of every input (class models; else from class subfolders)."
    ),
]
Strict = Annotated[
    bool, typer.Option("--strict", help="Stop at the first file that cannot be read (default: skip it).")
]
