"""aecli generate MODEL --digit D"""

from pathlib import Path

import typer

from aecli.cli.app import (
    CheckpointOption,
    JsonOption,
    TemperatureOption,
    app,
    command,
    emit,
    load_model,
    prepare_output,
)
from aecli.errors import UsageError


def parse_digits(digit: str, num_classes: int) -> list[int]:
    if digit.lower() == "all":
        return list(range(num_classes))
    valid = f"use 0-{num_classes - 1} or all"
    try:
        value = int(digit)
    except ValueError:
        raise UsageError(f"--digit {digit!r} is not a digit; {valid}") from None
    if not 0 <= value < num_classes:
        raise UsageError(f"--digit {value} is outside this model's classes; {valid}")
    return [value]


@app.command()
@command
def generate(
    model: str = typer.Argument(..., help="A conditional model: cvae."),
    digit: str = typer.Option("all", "--digit", help="The class to draw, or all (one row per class)."),
    checkpoint: Path = CheckpointOption,
    n: int = typer.Option(None, "-n", min=1, max=100_000, help="Images per class (default 16; 10 with all)."),
    seed: int = typer.Option(None, min=0, help="Random seed; the same seed gives the same style for every digit."),
    temperature: float = TemperatureOption,
    output: Path = typer.Option(Path("generated.png"), "-o", "--output", help=".png grid or .npy array."),
    as_json: bool = JsonOption,
) -> None:
    """Draw images of the class you ask for (cvae). .npy rows are class-major."""
    from aecli.imaging import IMAGE_SUFFIXES, save_images
    from aecli.models import MODELS
    from aecli.ops import generate as run
    from aecli.ops import temperature_for

    if not MODELS.get(model).conditional:
        raise UsageError(f"generate needs a conditional model; use `aecli generate cvae` (not {model})")
    output = prepare_output(output, IMAGE_SUFFIXES)
    ckpt = load_model(model, checkpoint)
    digits = parse_digits(digit, ckpt.model.config.num_classes)
    count = n or (10 if len(digits) > 1 else 16)
    temperature = temperature_for(ckpt.model, temperature)
    rows = run(ckpt.model, digits, count, seed, temperature).numpy()  # classes x n x C x H x W
    if output.suffix.lower() == ".npy":
        save_images(rows.reshape(-1, *rows.shape[2:]), output)
    else:
        save_images(rows if len(digits) > 1 else rows[0], output)
    summary = {"output": str(output), "model": model, "digits": digits, "per_digit": count, "seed": seed}
    emit({**summary, "temperature": temperature}, as_json, [output])
