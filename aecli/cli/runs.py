"""aecli runs [MODEL]"""

from typing import Annotated

import typer

from aecli.cli.app import app, command, emit
from aecli.cli.options import Json, examples


@app.command(epilog=examples("aecli runs", "aecli runs vae --json"))
@command
def runs(
    model: Annotated[str | None, typer.Argument(help="Only this model's runs.", show_default=False)] = None,
    as_json: Json = False,
) -> None:
    """List the trained runs in the model home; * marks the one each model uses by default."""
    from aecli.paths import model_home
    from aecli.store.runs import list_runs

    found = list_runs(model)
    if as_json:
        emit({"home": str(model_home()), "runs": found}, True)
        return
    if not found:
        typer.echo(f"no runs under {model_home()}; train one with `aecli train vae --dataset digits --epochs 5`")
        return
    for run in found:
        mark = "*" if run["default"] else " "
        loss = f"{run['test_loss']:.3f}" if run["test_loss"] is not None else "-"
        typer.echo(
            f"{mark} {run['model']:5} {run['dataset']:14} {run['epochs']:>4} ep  test {loss:>9}  "
            f"{run['date']}  {run['path']}"
        )
