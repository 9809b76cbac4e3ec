"""aecli generate MODEL --digit D | --class NAME"""

from pathlib import Path
from typing import Annotated

import typer

from aecli import api
from aecli.cli.app import app, command, emit, load, prepare_output
from aecli.cli.options import Checkpoint, Json, Seed, Temperature, examples, known_model, output


@app.command(
    epilog=examples(
        "aecli generate cvae --digit 7 -o seven.png",
        "aecli generate cvae --digit all -n 10 --seed 3 -o digits.png",
        "aecli generate cvae --class Sneaker -n 16 -o sneakers.png",
    )
)
@command
def generate(
    model: Annotated[
        str, typer.Argument(help="A model that takes a class: cvae.", show_default=False, callback=known_model)
    ],
    digit: Annotated[
        str | None, typer.Option("--digit", metavar="D|all", help="The digit to draw (digit datasets).")
    ] = None,
    class_name: Annotated[
        str | None, typer.Option("--class", metavar="NAME|all", help="The class to draw, by name; all: one row each.")
    ] = None,
    checkpoint: Checkpoint = None,
    n: Annotated[
        int | None, typer.Option("-n", min=1, max=100_000, help="Images per class (default 16; 10 with all).")
    ] = None,
    seed: Seed = None,
    temperature: Temperature = None,
    out: Path = output("generated.png", ".png grid (one labelled row per class) or .npy (class-major)."),
    as_json: Json = False,
) -> None:
    """Draw images of the class you ask for (cvae)."""
    out = prepare_output(out, api.IMAGE_OUTPUTS)
    ckpt = load(model, checkpoint)
    classes = api.resolve_classes(ckpt, digit, class_name)
    count = n or (10 if len(classes) > 1 else 16)
    api.check_grid_size(count * len(classes), out)
    if out.suffix.lower() == ".npy":  # written a batch at a time: any count fits in memory
        with api.npy_stream(out, (len(classes) * count, *api.image_shape(ckpt))) as array:
            result = api.generate(ckpt, classes, count, seed, temperature, out=array)
    else:
        result = api.generate(ckpt, classes, count, seed, temperature)
        rows = result.images  # classes x n x C x H x W
        api.save_images(rows if len(classes) > 1 else rows[0], out, row_labels=result.row_labels)
    summary = {"output": str(out), "model": model, **result.info}
    if ckpt.spec.digit_classes:
        summary["digits"] = classes
    emit(summary, as_json, [out])
