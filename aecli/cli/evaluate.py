"""aecli eval MODEL"""

from pathlib import Path

import typer

from aecli.cli.app import (
    MODEL_HELP,
    CheckpointOption,
    DataDirOption,
    JsonOption,
    app,
    command,
    emit,
    load_model,
    test_data,
)


@app.command("eval")
@command
def evaluate(
    model: str = typer.Argument(..., help=MODEL_HELP),
    checkpoint: Path = CheckpointOption,
    samples: int = typer.Option(100, "-k", "--samples", min=1, max=10_000, help="Importance samples for the NLL."),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Test-set metrics: negative ELBO and importance-weighted NLL (nats), MSE and PSNR."""
    from aecli.evaluation import evaluate as run

    ckpt = load_model(model, checkpoint)
    data = test_data(ckpt, data_dir)
    metrics = {"model": model, "checkpoint": str(ckpt.path), "dataset": data.spec.name}
    metrics.update(run(ckpt.model, data.test, binarized=bool(ckpt.training.get("binarize")), k=samples))
    if as_json:
        emit(metrics, True)
    else:
        for key, value in metrics.items():
            typer.echo(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}")
