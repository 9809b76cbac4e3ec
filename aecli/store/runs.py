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
MAX_CONFIG_BYTES = 4 * 2**20  # a config.json aecli writes is a few kB


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
    if target.exists() and not inside(target, folder):
        raise AecliError(f"{target} leads outside {folder}; aecli follows no link out of its folders: remove it")
    return target if target.exists() else None


def inside(path: Path, folder: Path) -> bool:
    """Does `path`, links followed, lie inside `folder` (links followed)? Nothing outside is ever used."""
    try:
        return Path(path).resolve().is_relative_to(Path(folder).resolve())
    except (OSError, RuntimeError):  # a link loop
        return False


def complete_epochs(run_dir: Path) -> list[Path]:
    """The run's complete checkpoints, oldest first."""
    found = [p for p in run_dir.glob(f"{EPOCH_PREFIX}[0-9]*") if (p / CONFIG).is_file() and inside(p, run_dir)]
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
    found = (p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".") and inside(p, base))
    return sorted(found, key=lambda p: p.name)


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


def run_id(run: Path, model_name: str) -> str:
    """How `aecli runs` names a run, and `--checkpoint` takes it: model/folder for runs in the home."""
    run = Path(run)
    inside = run.resolve().parent == runs_dir(model_name).resolve()
    return f"{model_name}/{run.name}" if inside else str(run)


def _summary(model: str, run: Path, checkpoint: Path) -> dict:
    """What `aecli runs` shows of one run; ValueError where its files do not hold what aecli writes."""
    import json

    config_file = checkpoint / CONFIG
    if config_file.stat().st_size > MAX_CONFIG_BYTES:
        raise ValueError(f"{config_file} is larger than {MAX_CONFIG_BYTES >> 20} MiB")
    config = json.loads(config_file.read_text(encoding="utf-8"))
    history, training = config.get("history"), config.get("training") or {}
    recipe = config.get("recipe") or training
    if not isinstance(history, list) or not all(isinstance(row, dict) for row in history):
        raise ValueError("its history is not a list of epochs")
    loss = history[-1].get("test_loss") if history else None
    if loss is not None and not isinstance(loss, int | float):
        raise ValueError("its test loss is not a number")
    done = len(history)
    planned = training.get("epochs", done) if isinstance(training, dict) else done
    planned = planned if isinstance(planned, int) and planned >= done else done
    return {
        "id": run_id(run, model),
        "model": model,
        "dataset": str(recipe.get("dataset", "?")) if isinstance(recipe, dict) else "?",
        "epochs": done,
        "planned_epochs": planned,
        "interrupted": done < planned,
        "test_loss": loss,
        "date": dt.datetime.fromtimestamp(checkpoint.stat().st_mtime).strftime("%Y-%m-%d %H:%M"),
        "path": str(run),
    }


def list_runs(model_name: str | None = None, on_note=None) -> list[dict]:
    """Every run with a checkpoint, then the bundled models: id, model, dataset, epochs (and of how many),
    interrupted (with the command that continues it), test loss, date, path, and which each model uses."""
    from aecli.paths import PRETRAINED

    base = model_home() / "runs"
    try:
        in_home = sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
    except OSError:
        in_home = []
    bundled = sorted(p.name for p in PRETRAINED.iterdir() if (p / CONFIG).is_file() and p.name != "mnist")
    models = [model_name] if model_name else sorted({*in_home, *bundled})
    found = []
    for model in models:
        try:
            default = newest_usable_checkpoint(model)
            runs = all_runs(model)
        except (OSError, AecliError):
            default, runs = None, []
        for run in runs:
            try:
                checkpoint = newest_checkpoint(run)
                if checkpoint is None:
                    continue
                row = _summary(model, run, checkpoint)
            except (OSError, ValueError, AttributeError, TypeError, AecliError) as exc:
                if on_note:
                    on_note(f"skipped {run}: {exc}")
                continue  # a damaged run is skipped here; loading it names the problem
            row["default"] = checkpoint == default
            if row["interrupted"]:
                row["resume"] = f"aecli train {model} --resume --out {run} --epochs {row['planned_epochs']}"
            found.append(row)
        if model in bundled:
            row = _summary(model, PRETRAINED / model, PRETRAINED / model)
            found.append(row | {"id": "bundled", "default": default is None, "interrupted": False})
    return found
