"""aecli interpolate MODEL"""

from pathlib import Path
from typing import Annotated

import typer

from aecli import api
from aecli.cli.app import app, command, emit, load, prepare_output, reporter
from aecli.cli.options import Checkpoint, DataDir, Json, Model, examples, output


@app.command(epilog=examples("aecli interpolate vae -n 10 -o path.png", "aecli interpolate cvae --seed 3 -o path.npy"))
@command
def interpolate(
    model: Model,
    checkpoint: Checkpoint = None,
    n: Annotated[int, typer.Option("-n", min=2, max=1000, help="Steps along the line, ends included.")] = 10,
    data_dir: DataDir = None,
    seed: Annotated[int, typer.Option(min=0, max=api.MAX_SEED, help="Picks the two test images.")] = 0,
    out: Path = output("interpolation.png", ".png strip or .npy array (N x C x H x W)."),
    as_json: Json = False,
) -> None:
    """Decode a straight line in latent space between two test images."""

    out = prepare_output(out, api.IMAGE_OUTPUTS)
    ckpt = load(model, checkpoint)
    with reporter() as notes:
        result = api.interpolate(ckpt, n, seed, data_dir, notes)
    api.save_images(result.images, out, ncols=n)
    emit({"output": str(out), "model": model, **result.info}, as_json, [out])
