"""aecli sample MODEL"""

from pathlib import Path

import typer

from aecli.cli.app import (
    MODEL_HELP,
    CheckpointOption,
    JsonOption,
    TemperatureOption,
    app,
    command,
    emit,
    load_model,
    prepare_output,
)


@app.command()
@command
def sample(
    model: str = typer.Argument(..., help=MODEL_HELP),
    checkpoint: Path = CheckpointOption,
    n: int = typer.Option(64, "-n", min=1, max=100_000, help="How many images."),
    seed: int = typer.Option(None, min=0, help="Random seed (default: a new draw each time)."),
    temperature: float = TemperatureOption,
    naive: bool = typer.Option(False, "--naive", help="ae: draw latents from N(0, I), not the fitted Gaussian."),
    output: Path = typer.Option(Path("samples.png"), "-o", "--output", help=".png grid or .npy array."),
    as_json: bool = JsonOption,
) -> None:
    """Draw new images from random latent vectors."""
    from aecli.imaging import IMAGE_SUFFIXES, save_images
    from aecli.ops import sample as run
    from aecli.ops import temperature_for

    output = prepare_output(output, IMAGE_SUFFIXES)
    ckpt = load_model(model, checkpoint)
    temperature = temperature_for(ckpt.model, temperature)
    images = run(ckpt.model, n, seed, ckpt.extras, naive=naive, temperature=temperature)
    save_images(images.numpy(), output)
    summary = {"output": str(output), "model": model, "images": n, "seed": seed, "temperature": temperature}
    emit(summary, as_json, [output])
