"""The Typer app, shared options, and the error handling every command goes through."""

import functools
import json
import os
from pathlib import Path

import typer

from aecli import __version__
from aecli.errors import AecliError

app = typer.Typer(
    name="aecli",
    help="Train and use autoencoders: a conv AE on LFW faces, a VAE and a conditional VAE on MNIST.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: `aecli --help` in a tenth of a second, not half
)

MODEL_HELP = "Model name: ae, vae or cvae."
CheckpointOption = typer.Option(None, "--checkpoint", help="A checkpoint or run directory (default: newest run).")
JsonOption = typer.Option(False, "--json", help="Print one JSON object instead of paths.")
DataDirOption = typer.Option(None, "--data-dir", help="Read the model's dataset from this folder.")
TemperatureOption = typer.Option(
    None,
    min=0.0,
    max=10.0,
    help="Scale of the random latents: 1 draws from the prior, lower gives clearer, less varied images "
    "(default: cvae 0.7, others 1).",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"aecli {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """Train and use autoencoders."""


def say(message: str) -> None:
    """Logs and notes: stderr, never stdout."""
    typer.echo(message, err=True)


def fail(message: str, code: int) -> None:
    say(f"Error: {message}")
    raise typer.Exit(code)


def command(func):
    """Run a command, turning library errors into `Error: ...` lines and exit codes."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        debug = os.environ.get("AECLI_DEBUG") == "1"
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except AecliError as exc:
            if debug:
                raise
            fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except MemoryError:
            fail("out of memory; try a smaller --batch-size or -n", 1)
        except Exception as exc:  # the last line of defence: never a bare traceback
            if debug:
                raise
            fail(f"unexpected {type(exc).__name__}: {exc}; rerun with AECLI_DEBUG=1 for details", 1)

    return wrapper


def prepare_output(path: Path, allowed: tuple[str, ...]) -> Path:
    """Check an output file's extension and folder before any work is done."""
    from aecli.errors import UsageError

    path = Path(path)
    if path.suffix.lower() not in allowed:
        raise UsageError(f"cannot write {path.name!r}: use a file name ending in {', '.join(allowed)}")
    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AecliError(f"cannot create folder {folder} ({exc.strerror}); choose another -o") from exc
    if not os.access(folder, os.W_OK):
        raise AecliError(f"folder {folder} is not writable; choose another -o")
    if path.is_dir():
        raise AecliError(f"{path} is a folder; give -o a file name")
    return path


def emit(result: dict, as_json: bool, paths: list[Path] | None = None) -> None:
    """Results on stdout: one JSON object, or the written paths."""
    if as_json:
        typer.echo(json.dumps(result, default=str))
    else:
        for path in paths or []:
            typer.echo(str(path))


def load_model(model: str, checkpoint: Path | None, device: str = "auto"):
    """The checkpoint to use for MODEL: --checkpoint, the newest run, or the bundled one."""
    from aecli.checkpoint import find_checkpoint, load_checkpoint
    from aecli.device import resolve_device
    from aecli.models import MODELS

    MODELS.get(model)
    path = find_checkpoint(model, checkpoint, announce=say)
    return load_checkpoint(path, model, resolve_device(device))


def test_data(ckpt, data_dir: Path | None):
    from aecli.data import load_for_checkpoint

    return load_for_checkpoint(ckpt.training, data_dir)


def main() -> None:
    app(prog_name="aecli")
