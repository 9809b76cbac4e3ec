"""The Typer app, one-line errors, and what every command shares: output checks, results, notes."""

import contextlib
import functools
import json
import math
import os
import signal
import sys
import threading
from pathlib import Path

import typer
from typer.core import TyperGroup

from aecli import __version__, api
from aecli.api import AecliError, UsageError

# click's own error class (vendored by newer typer, a dependency of older): found without a private import
CLICK_ERRORS = tuple(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


class OneLineErrors(TyperGroup):
    """Usage errors as one `Error: ...` line (exit 2), not click's four-line usage block."""

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        try:
            result = super().main(*args, standalone_mode=False, **kwargs)
        except CLICK_ERRORS as exc:
            message = " ".join(exc.format_message().split())
            command = exc.ctx.command_path if getattr(exc, "ctx", None) else "aecli"
            say(f"Error: {message} (see `{command} --help`)")
            sys.exit(exc.exit_code)
        except typer.Abort:
            say("Error: aborted")
            sys.exit(1)
        if standalone_mode:
            sys.exit(result if isinstance(result, int) else 0)
        return result


app = typer.Typer(
    name="aecli",
    cls=OneLineErrors,
    help="Train and use autoencoders (AE, VAE, conditional VAE) on digits, faces, or your own images.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: `aecli --help` in a tenth of a second, not half
    epilog="\b\nExamples:\n  aecli train cvae --dataset digits --epochs 10 --kl-warmup 1\n"
    "  aecli generate cvae --digit 7 -o seven.png\n  aecli score vae scans/ -o scores.csv\n  aecli runs",
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


def command(func):
    """Run a command, turning library errors into `Error: ...` lines and exit codes."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        debug = os.environ.get("AECLI_DEBUG") == "1"
        if threading.current_thread() is threading.main_thread():
            # SIGTERM unwinds like Ctrl-C, so temporary files are removed on the way out
            signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except AecliError as exc:
            if debug:
                raise
            if speaks(exc):
                say(f"Error: {exc}")
            else:
                let_rank_zero_speak()
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            if api.job().writer:  # under torchrun, every rank is stopped: rank 0 says so
                say("Error: interrupted; nothing half-written was kept")
            raise typer.Exit(130) from None
        except MemoryError:
            if debug:
                raise
            say("Error: out of memory; try a smaller --batch-size, -n or --image-size")
            raise typer.Exit(1) from None
        except Exception as exc:  # the last line of defence: never a bare traceback
            if debug:
                raise
            say(f"Error: unexpected {type(exc).__name__}: {exc}; rerun with AECLI_DEBUG=1 for details")
            raise typer.Exit(1) from None

    return wrapper


def speaks(exc: AecliError) -> bool:
    """Under torchrun every rank meets the same bad option: rank 0 alone says so, unless this rank
    is reporting that another one died."""
    return api.job().writer or getattr(exc, "from_any_rank", False)


def let_rank_zero_speak(seconds: float = 3.0) -> None:
    """A silent rank waits a moment before it ends: torchrun stops every process as soon as one ends,
    and rank 0 must have said why by then. Stopped while waiting, it ends quietly."""
    import time

    try:
        time.sleep(seconds)
    except KeyboardInterrupt:
        pass


NAME_MAX = 255


def prepare_output(path: Path, allowed: tuple[str, ...]) -> Path:
    """Check an output file's extension, name and folder before any work is done."""
    path = Path(path)
    if path.suffix.lower() not in allowed:
        raise UsageError(f"cannot write {path.name!r}: use a file name ending in {', '.join(allowed)}")
    if len(os.fsencode(path.name)) > NAME_MAX:
        raise UsageError(f"-o {path.name[:40]}...: the file name is longer than {NAME_MAX} bytes; use a shorter one")
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


def _finite(value):
    """NaN and infinities as null: JSON has no spelling for them."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def emit(result: dict, as_json: bool, paths: list[Path] | None = None) -> None:
    """Results on stdout: one JSON object (strictly valid: no NaN), or the written paths."""
    if as_json:
        typer.echo(json.dumps(_finite(result), default=str, allow_nan=False))
    else:
        for path in paths or []:
            typer.echo(str(path))


@contextlib.contextmanager
def reporter():
    """A data Reporter for commands: notes on stderr, a progress bar for slow reads on a terminal."""
    from aecli.cli.progress import task_progress

    with task_progress() as progress:
        yield api.Reporter(note=say, progress=progress)


def load(model: str, checkpoint: Path | None):

    return api.load(model, checkpoint, announce=say)


def extra_inputs(ctx: typer.Context, inputs: list[Path] | None) -> list[Path] | None:
    """`--input a.png b.png`: click leaves the files after the first as extra arguments."""
    if ctx.args and not inputs:
        raise UsageError(f"unexpected argument {ctx.args[0]!r}; pass image files with --input")
    return [*(inputs or []), *(Path(a) for a in ctx.args)] or None


def main() -> None:
    try:
        os.getcwd()
    except OSError:  # before torch, whose libraries abort with a fatal error there
        say("Error: the current folder no longer exists; cd to one that does")
        sys.exit(1)
    try:
        app(prog_name="aecli")
    except SystemExit as exc:
        distributed = sys.modules.get("aecli.train.distributed")  # imported only by commands that may join a job
        if distributed and distributed.joined:
            distributed.exit_worker(exc.code)
        raise
