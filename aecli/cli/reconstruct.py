"""aecli reconstruct MODEL"""

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
    prepare_output,
    test_data,
)

PER_ROW = 8


@app.command()
@command
def reconstruct(
    model: str = typer.Argument(..., help=MODEL_HELP),
    checkpoint: Path = CheckpointOption,
    n: int = typer.Option(16, "-n", min=1, max=10_000, help="How many test images."),
    inputs: list[Path] = typer.Option(None, "--input", help="Your own image files instead of test images."),
    output: Path = typer.Option(Path("reconstructions.png"), "-o", "--output", help=".png grid or .npy array."),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Encode and decode images: originals above their reconstructions."""
    import numpy as np
    import torch

    from aecli.imaging import IMAGE_SUFFIXES, save_images
    from aecli.ops import as_float, load_input_images
    from aecli.ops import reconstruct as run

    output = prepare_output(output, IMAGE_SUFFIXES)
    ckpt = load_model(model, checkpoint)
    if inputs:
        images, labels = load_input_images(inputs, ckpt.spec), None
        if ckpt.model.conditional:
            from aecli.errors import UsageError

            raise UsageError("cvae needs the digit of each image; reconstruct your own images with vae or ae")
    else:
        test = test_data(ckpt, data_dir).test
        images = test.images[:n]
        labels = test.labels[:n] if ckpt.model.conditional else None
    recon = run(ckpt.model, images, labels)
    if output.suffix.lower() == ".npy":
        save_images(recon.numpy(), output)
    else:
        pairs = []  # rows of originals, each followed by its reconstructions
        for start in range(0, len(images), PER_ROW):
            chunk = slice(start, start + PER_ROW)
            pairs += [as_float(images[chunk]), recon[chunk]]
        width = min(PER_ROW, len(images))
        padded = [torch.cat([row, torch.ones(width - len(row), *row.shape[1:])]) for row in pairs]
        save_images(np.stack([row.numpy() for row in padded]), output)
    mse = torch.mean((recon - as_float(images)) ** 2).item()
    emit({"output": str(output), "model": model, "images": len(images), "mse": mse}, as_json, [output])
