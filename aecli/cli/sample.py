"""aecli sample MODEL"""

from pathlib import Path
from typing import Annotated

import typer

from aecli import api
from aecli.cli.app import app, command, emit, load, prepare_output
from aecli.cli.options import Checkpoint, Json, Model, Seed, Temperature, examples, output


@app.command(
    epilog=examples(
        "aecli sample vae -n 64 -o samples.png",
        "aecli sample ae -n 32 --naive -o naive.png",
        "aecli sample vae -n 10000 --seed 1 -o samples.npy",
    )
)
@command
def sample(
    model: Model,
    checkpoint: Checkpoint = None,
    n: Annotated[int, typer.Option("-n", min=1, max=100_000, help="How many images.")] = 64,
    seed: Seed = None,
    temperature: Temperature = None,
    naive: Annotated[bool, typer.Option("--naive", help="ae: latents from N(0, I), not the fitted Gaussian.")] = False,
    out: Path = output("samples.png"),
    as_json: Json = False,
) -> None:
    """Draw new images from random latent vectors."""

    out = prepare_output(out, api.IMAGE_OUTPUTS)
    api.check_grid_size(n, out)
    ckpt = load(model, checkpoint)
    if out.suffix.lower() == ".npy":
        with api.npy_stream(out, (n, *api.image_shape(ckpt))) as array:
            result = api.sample(ckpt, n, seed, temperature, naive, out=array)
    else:
        result = api.sample(ckpt, n, seed, temperature, naive)
        api.save_images(result.images, out)
    emit({"output": str(out), "model": model, **result.info}, as_json, [out])
