"""Where runs live in the model home, and the `latest` pointers between them.

`<home>/runs/<model>/latest` names the newest run (a folder name beside it) and each run's
`latest` names its newest `epoch-NNNN`. Pointers are plain names resolved inside their folder:
a pointer that leads anywhere else is refused, and a moved or copied home keeps working.
"""

import datetime as dt
from pathlib import Path

from aecli.errors import AecliError
from aecli.fileio import write_text_atomic
from aecli.paths import model_home

POINTER = "latest"
CONFIG = "config.json"
EPOCH_PREFIX = "epoch-"


def runs_dir(model_name: str) -> Path:
    return model_home() / "runs" / model_name


def new_run_dir(model_name: str) -> Path:
    """A fresh directory for one training run; earlier runs are never touched."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = runs_dir(model_name)
    for attempt in range(1000):
        run = base / (stamp if attempt == 0 else f"{stamp}-{attempt}")
        try:
            run.mkdir(parents=True)
            return run
        except FileExistsError:
            continue
        except OSError as exc:
            raise AecliError(f"cannot create {run}: {exc.strerror}; set AECLI_HOME to a writable folder") from exc
    raise AecliError(f"too many runs started this second under {base}")


def read_pointer(folder: Path) -> Path | None:
    """The entry `folder/latest` names, if it is a plain name of something inside `folder`."""
    pointer = folder / POINTER
    if not pointer.is_file() or pointer.stat().st_size > 4096:
        return None
    name = pointer.read_text(encoding="utf-8", errors="replace").strip()
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise AecliError(f"{pointer} leads outside {folder}; delete it (aecli rewrites it on the next run)")
    target = folder / name
    return target if target.exists() else None


def complete_epochs(run_dir: Path) -> list[Path]:
    """The run's complete checkpoints, oldest first."""
    found = [p for p in run_dir.glob(f"{EPOCH_PREFIX}[0-9]*") if (p / CONFIG).is_file()]
    return sorted(found, key=lambda p: p.name)


def newest_checkpoint(run_dir: Path) -> Path | None:
    """The run's pointer target, else (a run killed while moving it) its newest complete epoch."""
    target = read_pointer(run_dir)
    if target is not None and (target / CONFIG).is_file():
        return target
    epochs = complete_epochs(run_dir)
    return epochs[-1] if epochs else None


def all_runs(model_name: str) -> list[Path]:
    """The model's run folders in the home, oldest first."""
    base = runs_dir(model_name)
    if not base.is_dir():
        return []
    return sorted((p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")), key=lambda p: p.name)


def latest_run(model_name: str) -> Path | None:
    """The run the model's pointer names (it may have no complete epoch yet), else the newest one."""
    run = read_pointer(runs_dir(model_name))
    if run is not None and run.is_dir():
        return run
    runs = all_runs(model_name)
    return runs[-1] if runs else None


def newest_usable_checkpoint(model_name: str) -> Path | None:
    """The checkpoint commands use: that of the run `latest` names, else of the newest run that has one."""
    run = latest_run(model_name)
    found = newest_checkpoint(run) if run is not None else None
    for candidate in reversed(all_runs(model_name)):
        if found is not None:
            break
        found = newest_checkpoint(candidate)
    return found


def is_inside_home(path: Path, model_name: str) -> bool:
    return Path(path).resolve().parent == runs_dir(model_name).resolve()


def set_latest_run(model_name: str, run_dir: Path) -> bool:
    """Point the model's `latest` at a run in the home; False (and no change) for a run elsewhere."""
    if not is_inside_home(run_dir, model_name):
        return False
    write_text_atomic(runs_dir(model_name) / POINTER, Path(run_dir).name + "\n")
    return True


def list_runs(model_name: str | None = None) -> list[dict]:
    """Every run with a checkpoint: model, dataset, epochs, test loss, date, path, and which is the default."""
    import json

    base = model_home() / "runs"
    models = (
        [model_name] if model_name else sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
    )
    found = []
    for model in models:
        default = newest_usable_checkpoint(model)
        for run in all_runs(model):
            checkpoint = newest_checkpoint(run)
            if checkpoint is None:
                continue
            try:
                config = json.loads((checkpoint / CONFIG).read_text(encoding="utf-8"))
                history = config.get("history") or [{}]
                dataset = (config.get("recipe") or config.get("training") or {}).get("dataset", "?")
            except (OSError, ValueError, AttributeError):
                continue  # a damaged run is skipped here; loading it names the problem
            found.append(
                {
                    "model": model,
                    "dataset": str(dataset),
                    "epochs": len(history) if history != [{}] else 0,
                    "test_loss": history[-1].get("test_loss"),
                    "date": dt.datetime.fromtimestamp(checkpoint.stat().st_mtime).strftime("%Y-%m-%d %H:%M"),
                    "path": str(run),
                    "default": checkpoint == default,
                }
            )
    return found
