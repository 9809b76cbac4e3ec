"""aecli reconstruct MODEL"""

from pathlib import Path
from typing import Annotated

import typer

from aecli import api
from aecli.cli.app import app, command, emit, extra_inputs, load, prepare_output, reporter
from aecli.cli.options import Checkpoint, ClassName, DataDir, Inputs, Json, Model, examples, output

PER_ROW = 8


@app.command(
    context_settings={"allow_extra_args": True},
    epilog=examples(
        "aecli reconstruct vae -n 16 -o recon.png",
        "aecli reconstruct ae --input me.jpg friend.png -o us.png",
        "aecli reconstruct vae --input 'drawings/*.png' -o mine.npy",
    ),
)
@command
def reconstruct(
    ctx: typer.Context,
    model: Model,
    checkpoint: Checkpoint = None,
    n: Annotated[int, typer.Option("-n", min=1, max=10_000, help="How many test images.")] = 16,
    inputs: Inputs = None,
    out: Path = output(
        "reconstructions.png", ".png grid (originals above reconstructions) or .npy (the reconstructions)."
    ),
    class_name: ClassName = None,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Encode and decode images: originals above their reconstructions."""
    import numpy as np

    inputs = extra_inputs(ctx, inputs)
    out = prepare_output(out, api.IMAGE_OUTPUTS)
    api.check_grid_size(2 * n, out)
    ckpt = load(model, checkpoint)
    with reporter() as notes:
        result = api.reconstruct(ckpt, n, inputs, data_dir, notes, class_name)
    originals, recon = result.images
    if out.suffix.lower() == ".npy":
        api.save_images(recon, out)
    else:
        width = min(PER_ROW, len(originals))
        rows, labels = [], []
        for start in range(0, len(originals), width):
            for kind, images in (("original", originals), ("reconstructed", recon)):
                row = images[start : start + width]
                blank = np.ones((width - len(row), *row.shape[1:]), dtype=row.dtype)
                rows.append(np.concatenate([row, blank]))
                labels.append(kind)
        api.save_images(np.stack(rows), out, row_labels=labels)
    emit({"output": str(out), "model": model, **result.info}, as_json, [out])
