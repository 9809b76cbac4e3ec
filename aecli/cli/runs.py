"""aecli runs [MODEL]"""

from typing import Annotated

import typer

from aecli import api
from aecli.cli.app import app, command, emit, say
from aecli.cli.options import examples


@app.command(
    epilog=examples("aecli runs", "aecli runs vae --json", "aecli sample vae --checkpoint vae/20261206-101500")
)
@command
def runs(
    model: Annotated[str | None, typer.Argument(help="Only this model's runs.", show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of the table.")] = False,
) -> None:
    """List the trained runs and the bundled models; * marks the one each model uses by default. An id
    works as --checkpoint; an interrupted run shows the command that continues it."""
    found = api.runs(model, on_note=say)
    if as_json:
        emit({"home": str(api.model_home()), "runs": found}, True)
        return
    if not found:
        typer.echo(f"no runs under {api.model_home()}; train one with `aecli train vae --dataset digits --epochs 5`")
        return
    for run in found:
        mark = "*" if run["default"] else " "
        loss = f"{run['test_loss']:.3f}" if run["test_loss"] is not None else "-"
        epochs = f"{run['epochs']}/{run['planned_epochs']}"
        where = f"{run['model']:5} {run['id']:28} {run['dataset']:14}"
        typer.echo(f"{mark} {where} {epochs:>7} ep  test {loss:>9}  {run['date']}")
        if run["interrupted"]:
            typer.echo(f"    interrupted; continue with: {run['resume']}")
