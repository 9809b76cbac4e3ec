"""aecli smile MODEL"""

import math
from pathlib import Path
from typing import Annotated

import typer

from aecli import api
from aecli.api import UsageError
from aecli.cli.app import app, command, emit, extra_inputs, load, prepare_output, reporter
from aecli.cli.options import Checkpoint, DataDir, Inputs, Json, examples, output


@app.command(
    context_settings={"allow_extra_args": True},
    epilog=examples(
        "aecli smile ae -n 8 --steps 5 -o smile.png",
        "aecli smile ae --attribute Eyeglasses --strength 2 -o glasses.png",
        "aecli smile ae --input me.jpg -o my_smile.png",
    ),
)
@command
def smile(
    ctx: typer.Context,
    model: Annotated[
        str, typer.Argument(help="An autoencoder trained on faces with attributes: ae.", show_default=False)
    ],
    checkpoint: Checkpoint = None,
    attribute: Annotated[str, typer.Option(help="Any attribute column, matched case-insensitively.")] = "Smiling",
    strength: Annotated[
        float, typer.Option(min=-100.0, max=100.0, help="How far to move along the attribute vector at the last step.")
    ] = 1.5,
    steps: Annotated[int, typer.Option(min=2, max=50, help="Strengths from 0 to --strength.")] = 5,
    n: Annotated[int, typer.Option("-n", min=1, max=1000, help="How many faces (the test faces scoring lowest).")] = 8,
    inputs: Inputs = None,
    out: Path = output(
        "smile.png", ".png grid (a row per face, a labelled column per strength) or .npy (N x K x C x H x W)."
    ),
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Add an attribute direction (the smile vector) to faces, step by step."""

    if not math.isfinite(strength):
        raise UsageError(f"--strength must be a finite number, not {strength}")
    inputs = extra_inputs(ctx, inputs)
    out = prepare_output(out, api.IMAGE_OUTPUTS)
    api.check_grid_size(n * (steps + 1), out)
    ckpt = load(model, checkpoint)
    with reporter() as notes:
        result = api.smile(ckpt, attribute, strength, steps, n, inputs, data_dir, notes)
    api.save_images(result.images, out, col_labels=result.col_labels)
    emit({"output": str(out), **result.info}, as_json, [out])
