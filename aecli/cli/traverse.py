"""aecli traverse MODEL"""

from pathlib import Path
from typing import Annotated

import typer

from aecli import api
from aecli.cli.app import app, command, emit, load, prepare_output, reporter
from aecli.cli.options import MAX_SEED, Checkpoint, DataDir, Json, Model, examples, output


@app.command(
    epilog=examples(
        "aecli traverse vae -o traverse.png",
        "aecli traverse vae --dims 0,3,7 --range 2 --steps 7 -o dims.png",
        "aecli traverse ae --dims all --prior -o faces.npy",
    )
)
@command
def traverse(
    model: Model,
    checkpoint: Checkpoint = None,
    dims: Annotated[
        str | None,
        typer.Option(
            "--dims",
            metavar="LIST|all",
            help="Latent dimensions, e.g. 0,3,7 (default: all up to 16, else the 16 most used).",
        ),
    ] = None,
    radius: Annotated[
        float, typer.Option("--range", min=0.0, max=100.0, help="Sweep from -R to +R standard deviations.")
    ] = 3.0,
    steps: Annotated[int, typer.Option("--steps", min=2, max=101, help="Images per dimension.")] = 9,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED, help="Picks the test image to start from.")] = 0,
    prior: Annotated[
        bool, typer.Option("--prior", help="Start from the prior's mean instead of a test image.")
    ] = False,
    out: Path = output("traverse.png", ".png grid (a labelled row per dimension) or .npy (dims x steps x C x H x W)."),
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Sweep each latent dimension on its own and see what it draws."""

    out = prepare_output(out, api.IMAGE_OUTPUTS)
    ckpt = load(model, checkpoint)
    stream = (lambda shape: api.npy_stream(out, shape)) if out.suffix.lower() == ".npy" else None
    with reporter() as notes:
        result = api.traverse(ckpt, dims, radius, steps, seed, prior, data_dir, notes, stream)
    if stream is None:
        api.check_grid_size(result.images.shape[0] * steps, out)
        api.save_images(result.images, out, row_labels=result.row_labels, col_labels=result.col_labels)
    emit({"output": str(out), "model": model, **result.info}, as_json, [out])
