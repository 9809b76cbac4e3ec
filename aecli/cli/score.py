"""aecli score MODEL INPUT..."""

from pathlib import Path
from typing import Annotated

import typer

from aecli import api
from aecli.cli.app import app, command, emit, load, prepare_output, reporter, say
from aecli.cli.options import Checkpoint, ClassName, DataDir, ImageFiles, Json, Model, Split, Strict, examples

FAILED_OVER = 3  # the exit code of --fail-over when an input scores above the threshold


@app.command(
    epilog=examples(
        "aecli score vae scans/ -o scores.csv",
        "aecli score ae parts/ --metric ssim --top 8 -o scores.csv -o worst.png",
        "aecli score vae incoming/ --fail-over q99 || echo 'something unusual'",
    )
    + f"\n\nExit codes: 0 done, {FAILED_OVER} an input scored above --fail-over, 1 an error, 2 a usage error.",
)
@command
def score(
    model: Model,
    inputs: ImageFiles = None,
    split: Split = None,
    checkpoint: Checkpoint = None,
    outputs: Annotated[
        list[Path] | None,
        typer.Option(
            "-o",
            "--output",
            metavar="FILE",
            help="scores.csv or .parquet (a row per image); with --top, also a .png [default: scores.csv].",
        ),
    ] = None,
    metric: Annotated[
        str | None, typer.Option(help="ae: mse (default) or ssim; vae, cvae: elbo (default) or iwae.")
    ] = None,
    samples: Annotated[int, typer.Option("-k", "--samples", min=1, max=5000, help="Samples for --metric iwae.")] = 100,
    top: Annotated[
        int, typer.Option(min=0, max=256, help="Draw the K highest-scoring inputs into the .png given with -o.")
    ] = 0,
    fail_over: Annotated[
        str | None,
        typer.Option(
            "--fail-over",
            metavar="q95|q99|q999|NUMBER",
            help=f"Exit with code {FAILED_OVER} when any input scores above this training quantile or number.",
        ),
    ] = None,
    class_name: ClassName = None,
    strict: Strict = False,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """One anomaly score per image (higher: less like the training images), with the training quantile it exceeds."""
    table, picture = _outputs(outputs or [], top)
    ckpt = load(model, checkpoint)
    with reporter() as notes:
        run = api.score(ckpt, inputs, split, table, metric, samples, top, strict, class_name, data_dir, notes)
        limit = api.threshold(fail_over, run.quantiles) if fail_over is not None else None
    if picture is not None:
        api.save_worst(ckpt, run, picture)
    summary = {"output": str(table), "model": model, "metric": run.metric, "images": run.rows}
    summary |= {"skipped": len(run.skipped), "highest": run.highest, "quantiles": run.quantiles, "above": run.above}
    if run.skipped:
        say(f"{len(run.skipped)} of {run.rows + len(run.skipped)} files could not be read and were left out")
    paths = [table, *([picture] if picture else [])]
    if limit is not None:
        summary["fail_over"] = limit
        summary["failed"] = run.highest > limit
    emit(summary | ({"top": str(picture)} if picture else {}), as_json, paths)
    if limit is not None and run.highest > limit:
        say(f"an input scores {run.highest:.6g}, above --fail-over {fail_over} ({limit:.6g})")
        raise typer.Exit(FAILED_OVER)


def _outputs(outputs: list[Path], top: int) -> tuple[Path, Path | None]:
    tables = [prepare_output(p, (".csv", ".parquet")) for p in outputs if p.suffix.lower() != ".png"]
    pictures = [prepare_output(p, (".png",)) for p in outputs if p.suffix.lower() == ".png"]
    if len(tables) > 1 or len(pictures) > 1:
        raise api.UsageError("give -o at most once for the table and once for the --top picture")
    if pictures and not top:
        raise api.UsageError(f"-o {pictures[0]} is the picture of --top K; add --top 8, say")
    if top and not pictures:
        raise api.UsageError("--top K draws into a .png: add -o worst.png")
    table = tables[0] if tables else prepare_output(Path("scores.csv"), (".csv",))
    api.check_table_output(table)
    return table, pictures[0] if pictures else None
