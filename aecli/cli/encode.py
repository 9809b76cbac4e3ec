"""aecli encode MODEL INPUT..."""

from pathlib import Path
from typing import Annotated

import typer

from aecli import api
from aecli.cli.app import app, command, emit, load, prepare_output, reporter
from aecli.cli.options import Checkpoint, ClassName, DataDir, ImageFiles, Json, Model, Split, Strict, examples, output


@app.command(
    epilog=examples(
        "aecli encode vae my_digits/ -o codes.csv",
        "aecli encode ae 'photos/*.jpg' -o faces.parquet",
        "aecli encode vae --split test -o test_codes.npy --json",
    )
)
@command
def encode(
    model: Model,
    inputs: ImageFiles = None,
    split: Split = None,
    checkpoint: Checkpoint = None,
    out: Path = output("codes.csv", ".csv or .parquet (a row per image), or .npy (the codes alone, in input order)."),
    with_logvar: Annotated[
        bool, typer.Option("--with-logvar", help="Also write each code's log-variance (vae, cvae).")
    ] = False,
    class_name: ClassName = None,
    strict: Strict = False,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """One row of latent codes per image: path, class, z0..zK-1, reconstruction MSE and PSNR."""
    out = prepare_output(out, (".csv", ".parquet", ".npy"))
    api.check_table_output(out)
    ckpt = load(model, checkpoint)
    with reporter() as notes:
        run = api.encode(ckpt, inputs, split, out, with_logvar, strict, class_name, data_dir, notes)
    summary = {"output": str(out), "model": model, "images": run.rows, "skipped": len(run.skipped)}
    summary |= {"latent_dim": ckpt.model.config.latent_dim, "inverted": run.inverted}
    if run.skipped:
        typer.echo(
            f"{len(run.skipped)} of {run.rows + len(run.skipped)} files could not be read and were left out", err=True
        )
    emit(summary, as_json, [out])
