"""aecli eval MODEL"""

import math
from typing import Annotated

import typer

from aecli import api
from aecli.cli.app import app, command, emit, load, reporter
from aecli.cli.options import Checkpoint, DataDir, Model, examples

SampleTemperature = Annotated[
    float | None,
    typer.Option(
        min=0.0,
        max=10.0,
        help="Scale of the latents of the generated images that FID, GAN-test and CAS judge "
        "[default: 1, the prior itself; GAN-test at the model's own, cvae 0.7].",
    ),
]


@app.command(
    "eval",
    epilog=examples(
        "aecli eval vae --temperature 0.7 --json", "aecli eval vae --binarize -k 5000", "aecli eval ae --data-dir lfw/"
    ),
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
    anomaly: Annotated[
        bool,
        typer.Option(
            "--anomaly",
            help="One-class scores of a model trained with --classes: AUROC and AUPR, the others as anomalies.",
        ),
    ] = False,
    temperature: SampleTemperature = None,
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of the lines.")] = False,
) -> None:
    """Test-set metrics, each with what it is comparable to: -ELBO and importance-weighted NLL (nats),
    MSE and PSNR; for labelled data classifier FID, and GAN-test and CAS for class models; with
    --anomaly, one-class AUROC and AUPR."""
    ckpt = load(model, checkpoint)
    if anomaly:
        if temperature is not None:
            raise api.UsageError("--anomaly scores the test images and draws none: leave out --temperature")
        with reporter() as notes:
            report = api.anomaly(ckpt, data_dir, notes, samples or 100)
        emit(report, True) if as_json else show_anomaly(report)
        return
    with reporter() as notes:
        settings = dict(binarize=binarize, attribute=attribute, test_images=test_images, temperature=temperature)
        metrics = api.evaluate(ckpt, samples, data_dir, notes, **settings)
    emit(metrics, True) if as_json else show_metrics(metrics)


def show_metrics(metrics: dict) -> None:
    """Each metric on a line, with what it is comparable to."""
    protocols = metrics.pop("protocols")
    for key, value in metrics.items():
        if isinstance(value, dict):
            value = ", ".join(f"{name} {shown(v)}" for name, v in value.items())
        typer.echo(f"{key}: {shown(value)}" + (f"  ({protocols[key]})" if key in protocols else ""))


def shown(value) -> str:
    return f"{value:.4f}" if isinstance(value, float) and math.isfinite(value) else str(value)


def show_anomaly(report: dict) -> None:
    """The one-class table: each score's AUROC and AUPR, overall and per held-out class."""
    for metric in report["metrics"]:
        row = report[metric]
        normal = ", ".join(report["normal_classes"])
        typer.echo(f"{metric}: AUROC {row['auroc']:.4f}, AUPR {row['aupr']:.4f}  (normal: {normal})")
        for name, part in row["per_class"].items():
            typer.echo(f"  {name}: AUROC {part['auroc']:.4f}, AUPR {part['aupr']:.4f}")
