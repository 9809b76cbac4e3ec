"""Options every command shares, written once as Annotated aliases (no torch import here)."""

from pathlib import Path
from typing import Annotated

import typer

from aecli import api
from aecli.api import MAX_SEED


def known_model(name: str) -> str:
    """A model name in any case, checked before torch is imported, with the closest names suggested."""
    names = api.model_names()
    if name.lower() in names:
        return name.lower()
    hint = api.did_you_mean(name, names)
    raise typer.BadParameter(f"unknown model {name!r}; {hint}choose one of: {', '.join(names)}")


def known_models(names: list[str]) -> list[str]:
    return [known_model(name) for name in names]


Model = Annotated[
    str, typer.Argument(help="Model name: ae, vae, cvae or betavae.", show_default=False, callback=known_model)
]
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
        "--class",
        metavar="NAME",
        help="The class of every input, for class models (without it: encode takes a known class subfolder's, "
        "score scores under every class).",
    ),
]
Strict = Annotated[
    bool, typer.Option("--strict", help="Stop at the first file that cannot be read (default: skip it).")
]

ImageFiles = Annotated[
    list[Path] | None,
    typer.Argument(help="Image files, folders (searched recursively) or patterns.", show_default=False),
]
