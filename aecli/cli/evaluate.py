"""aecli eval MODEL"""

import math
from typing import Annotated

import typer

from aecli.cli.app import app, command, emit, load, reporter
from aecli.cli.options import Checkpoint, DataDir, Json, Model, examples


@app.command(
    "eval",
    epilog=examples("aecli eval vae --json", "aecli eval vae --binarize -k 5000", "aecli eval ae --data-dir lfw/"),
)
@command
def evaluate(
    model: Model,
    checkpoint: Checkpoint = None,
    samples: Annotated[
        int | None,
        typer.Option(
            "-k",
            "--samples",
            min=1,
            max=10_000,
            help="Importance samples for the NLL [default: 5000 binarized, else 20].",
        ),
    ] = None,
    binarize: Annotated[
        bool,
        typer.Option(
            "--binarize", help="Score a Bernoulli draw of the test images (the papers' NLL); on for --binarize models."
        ),
    ] = False,
    test_images: Annotated[
        int | None,
        typer.Option(
            "-n",
            "--test-images",
            min=1,
            help="Score only the first N test images (default: all); iwae_nll_stderr says how precise the NLL is then.",
        ),
    ] = None,
    attribute: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="ae: the attribute whose edits are scored [default: Smiling]."),
    ] = None,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Test-set metrics, each with what it is comparable to: -ELBO and importance-weighted NLL (nats),
    MSE and PSNR; for labelled data classifier FID, and GAN-test and CAS for conditional models."""
    from aecli import api

    ckpt = load(model, checkpoint)
    with reporter() as notes:
        metrics = api.evaluate(
            ckpt, samples, data_dir, notes, binarize=binarize, attribute=attribute, test_images=test_images
        )
    if as_json:
        emit(metrics, True)
        return
    protocols = metrics.pop("protocols")
    for key, value in metrics.items():
        if isinstance(value, dict):
            value = ", ".join(f"{name} {shown(v)}" for name, v in value.items())
        typer.echo(f"{key}: {shown(value)}" + (f"  ({protocols[key]})" if key in protocols else ""))


def shown(value) -> str:
    return f"{value:.4f}" if isinstance(value, float) and math.isfinite(value) else str(value)
