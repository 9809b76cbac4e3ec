"""aecli eval MODEL"""

import math
from typing import Annotated

import typer

from aecli.cli.app import app, command, emit, load, reporter
from aecli.cli.options import Checkpoint, DataDir, Json, Model, examples


@app.command(
    "eval", epilog=examples("aecli eval vae --json", "aecli eval cvae -k 1000", "aecli eval ae --data-dir lfw/")
)
@command
def evaluate(
    model: Model,
    checkpoint: Checkpoint = None,
    samples: Annotated[
        int, typer.Option("-k", "--samples", min=1, max=10_000, help="Importance samples for the NLL.")
    ] = 100,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Test-set metrics: negative ELBO and importance-weighted NLL (nats), MSE and PSNR."""
    from aecli import api

    ckpt = load(model, checkpoint)
    with reporter() as notes:
        metrics = api.evaluate(ckpt, samples, data_dir, notes)
    if as_json:
        emit(metrics, True)
        return
    for key, value in metrics.items():
        shown = f"{value:.4f}" if isinstance(value, float) and math.isfinite(value) else value
        typer.echo(f"{key}: {shown}")
