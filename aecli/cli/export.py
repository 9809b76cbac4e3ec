"""aecli export MODEL --format onnx -o DIR"""

from pathlib import Path
from typing import Annotated

import typer

from aecli import api
from aecli.cli.app import app, command, emit, load, reporter
from aecli.cli.options import Checkpoint, DataDir, Json, Model, examples


@app.command(
    epilog=examples(
        "aecli export vae --format onnx -o vae_onnx/",
        "aecli export ae --checkpoint bundled -o faces_onnx/ --json",
    )
)
@command
def export(
    model: Model,
    checkpoint: Checkpoint = None,
    fmt: Annotated[str, typer.Option("--format", help="The file format: onnx.")] = "onnx",
    out: Annotated[Path, typer.Option("-o", "--output", metavar="DIR", help="The folder to write.")] = Path("exported"),
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """The encoder, decoder and scorer as ONNX graphs (dynamic batch) and aecli-model.json, which says
    how to feed them; onnxruntime's outputs are checked against the model's before anything is kept."""
    ckpt = load(model, checkpoint)
    with reporter() as notes:
        manifest = api.export(ckpt, out, fmt, data_dir, notes)
    emit({"output": str(out), **manifest}, as_json, [out])
