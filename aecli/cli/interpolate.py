"""aecli interpolate MODEL"""

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


@app.command()
@command
def interpolate(
    model: str = typer.Argument(..., help=MODEL_HELP),
    checkpoint: Path = CheckpointOption,
    n: int = typer.Option(10, "-n", min=2, max=1000, help="Steps along the line, ends included."),
    seed: int = typer.Option(0, min=0, help="Picks the two test images."),
    output: Path = typer.Option(Path("interpolation.png"), "-o", "--output", help=".png strip or .npy array."),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Decode a straight line in latent space between two test images."""
    import torch

    from aecli.imaging import IMAGE_SUFFIXES, save_images
    from aecli.ops import interpolate as run

    output = prepare_output(output, IMAGE_SUFFIXES)
    ckpt = load_model(model, checkpoint)
    test = test_data(ckpt, data_dir).test
    first, second = torch.randperm(len(test), generator=torch.Generator().manual_seed(seed))[:2].tolist()
    if test.labels is not None:  # prefer two different classes: a more telling path
        others = torch.nonzero(test.labels != test.labels[first]).squeeze(1)
        if len(others):
            second = others[seed % len(others)].item()
    pair = test.images[[first, second]]
    labels = test.labels[[first, second]] if ckpt.model.conditional else None
    path = run(ckpt.model, pair, labels, n)
    save_images(path.numpy(), output, ncols=n)
    emit({"output": str(output), "model": model, "steps": n, "test_indices": [first, second]}, as_json, [output])
