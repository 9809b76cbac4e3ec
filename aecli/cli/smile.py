"""aecli smile MODEL"""

from pathlib import Path

import typer

from aecli.cli.app import (
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
from aecli.errors import UsageError


@app.command()
@command
def smile(
    model: str = typer.Argument(..., help="An autoencoder trained on faces with attributes: ae."),
    checkpoint: Path = CheckpointOption,
    attribute: str = typer.Option("Smiling", help="Any attribute column, matched case-insensitively."),
    strength: float = typer.Option(1.5, help="How far to move along the attribute vector at the last step."),
    steps: int = typer.Option(5, min=2, max=50, help="Strengths from 0 to --strength."),
    n: int = typer.Option(8, "-n", min=1, max=1000, help="How many faces (the test faces scoring lowest)."),
    inputs: list[Path] = typer.Option(None, "--input", help="Your own photos instead of test faces."),
    output: Path = typer.Option(Path("smile.png"), "-o", "--output", help=".png grid or .npy (N x K x C x H x W)."),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Add an attribute direction (the smile vector) to faces, step by step."""
    import torch

    from aecli.imaging import IMAGE_SUFFIXES, save_images
    from aecli.ops import apply_attribute, find_attribute, load_input_images

    output = prepare_output(output, IMAGE_SUFFIXES)
    ckpt = load_model(model, checkpoint)
    if ckpt.model.conditional:
        raise UsageError(f"smile works on unconditional face models; use `aecli smile ae` (not {model})")
    index = find_attribute(ckpt.spec, attribute)
    directions = ckpt.extras.get("attribute_directions")
    if directions is None:
        raise UsageError(f"{ckpt.path} stores no attribute vectors; retrain it on --dataset lfw with attributes")
    if inputs:
        faces = load_input_images(inputs, ckpt.spec)
    else:
        test = test_data(ckpt, data_dir).test
        scores = test.attributes[:, index] if test.attributes is not None else None
        if scores is None or torch.isnan(scores).all():
            raise UsageError("the test faces have no attribute scores; pass your own photos with --input")
        known = torch.nonzero(~torch.isnan(scores)).squeeze(1)
        faces = test.images[known[torch.argsort(scores[known])][:n]]
    strengths = torch.linspace(0, strength, steps).tolist()
    grid = apply_attribute(ckpt.model, faces, directions[index], strengths)
    save_images(grid.numpy(), output)
    result = {
        "output": str(output),
        "attribute": ckpt.spec.attribute_names[index],
        "faces": len(faces),
        "strengths": strengths,
    }
    emit(result, as_json, [output])
