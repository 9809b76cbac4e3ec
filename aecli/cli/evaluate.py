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
    say,
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
    if ckpt.model.conditional:
        from aecli.classifier import generated_accuracy, load_or_train_classifier
        from aecli.ops import temperature_for

        classifier, classifier_accuracy = load_or_train_classifier(data, on_note=say)
        temperature = temperature_for(ckpt.model, None)
        per_digit = generated_accuracy(ckpt.model, classifier, temperature=temperature)
        metrics["classifier_test_accuracy"] = classifier_accuracy
        metrics["generated_temperature"] = temperature
        metrics["generated_accuracy"] = {str(d): acc for d, acc in per_digit.items()}
        metrics["generated_accuracy_min"] = min(per_digit.values())
        if temperature != 1.0:  # also how the prior itself does, for an honest comparison
            metrics["generated_accuracy_min_at_temperature_1"] = min(
                generated_accuracy(ckpt.model, classifier, temperature=1.0).values()
            )
    if as_json:
        emit(metrics, True)
    else:
        for key, value in metrics.items():
            typer.echo(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}")
