"""Checkpoint directories: config.json + model.safetensors (+ trainer.pt of plain types).

A training run lives in `<home>/runs/<model>/<run>/`; each epoch writes a complete
`epoch-NNNN/` directory under a temporary name, renames it into place, and only
then moves the run's `latest` pointer to it. Nothing is ever unpickled.
"""

import datetime as dt
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch

from aecli import __version__
from aecli.data.base import DataSpec
from aecli.errors import AecliError
from aecli.fileio import plain_mode, save_tensors, write_failure, write_text_atomic
from aecli.models import Autoencoder, ModelConfig, create_model
from aecli.paths import model_home

FORMAT_VERSION = 1
CONFIG = "config.json"
WEIGHTS = "model.safetensors"
TRAINER = "trainer.pt"
POINTER = "latest"
EXTRA_PREFIX = "extra."
BUNDLED = Path(__file__).parent / "pretrained"


@dataclass
class Checkpoint:
    path: Path
    model: Autoencoder
    spec: DataSpec
    training: dict
    history: list[dict]
    extras: dict[str, torch.Tensor] = field(default_factory=dict)


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


def latest_run(model_name: str) -> Path | None:
    pointer = runs_dir(model_name) / POINTER
    if not pointer.is_file():
        return None
    run = runs_dir(model_name) / pointer.read_text(encoding="utf-8").strip()
    return run if run.is_dir() else None


def set_latest_run(model_name: str, run_dir: Path) -> None:
    write_text_atomic(runs_dir(model_name) / POINTER, str(Path(run_dir).resolve()) + "\n")


def save_checkpoint(
    run_dir: Path,
    model: Autoencoder,
    spec: DataSpec,
    training: dict,
    history: list[dict],
    extras: dict[str, torch.Tensor] | None = None,
    trainer_state: dict | None = None,
) -> Path:
    """Write epoch-NNNN/ atomically, point the run's `latest` at it, drop older epochs."""
    epoch = int(training["epochs_completed"])
    final = run_dir / f"epoch-{epoch:04d}"
    config = {
        "format": FORMAT_VERSION,
        "aecli_version": __version__,
        "model": model.name,
        "model_config": model.config.to_dict(),
        "data": spec.to_dict(),
        "training": training,
        "history": history,
    }
    tensors = {key: value.detach().cpu().contiguous() for key, value in model.state_dict().items()}
    for key, value in (extras or {}).items():
        tensors[EXTRA_PREFIX + key] = value.detach().cpu().contiguous()
    for stale in run_dir.glob(".epoch-*"):  # left by a run killed while writing
        shutil.rmtree(stale, ignore_errors=True)
    for stale in run_dir.glob(".*.tmp"):
        stale.unlink(missing_ok=True)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=".epoch-", dir=run_dir))
        try:
            save_tensors(tensors, tmp / WEIGHTS)
            if trainer_state is not None:
                torch.save(trainer_state, tmp / TRAINER)
            (tmp / CONFIG).write_text(json.dumps(config, indent=2), encoding="utf-8")
            for item in tmp.iterdir():
                with open(item, "rb") as handle:
                    os.fsync(handle.fileno())
                os.chmod(item, plain_mode())  # safetensors writes private files
            os.chmod(tmp, plain_mode(directory=True))
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        write_text_atomic(run_dir / POINTER, final.name + "\n")
    except OSError as exc:
        raise AecliError(write_failure(run_dir, exc) + " (or set AECLI_HOME)") from exc
    for old in run_dir.glob("epoch-*"):
        if old != final:
            shutil.rmtree(old, ignore_errors=True)
    return final


def checkpoint_dir(path: Path) -> Path:
    """A checkpoint directory itself, or a run directory (follow its `latest`)."""
    path = Path(path)
    if path.is_file():
        raise AecliError(
            f"{path} is a single file, not an aecli checkpoint directory; aecli never unpickles "
            "files such as .pt/.pth: pass a directory holding config.json and model.safetensors"
        )
    if (path / CONFIG).is_file():
        return path
    pointer = path / POINTER
    if pointer.is_file():
        inner = path / pointer.read_text(encoding="utf-8").strip()
        if (inner / CONFIG).is_file():
            return inner
    if not path.exists():
        raise AecliError(f"checkpoint {path} does not exist; pass a directory that `aecli train` wrote")
    raise AecliError(f"{path} holds no {CONFIG}; pass a directory that `aecli train` wrote")


def find_checkpoint(model_name: str, checkpoint: Path | None = None, announce=None) -> Path:
    """--checkpoint, else the newest run of that model, else the bundled one."""
    if checkpoint is not None:
        return checkpoint_dir(checkpoint)
    run = latest_run(model_name)
    if run is not None:
        return checkpoint_dir(run)
    bundled = BUNDLED / model_name
    if (bundled / CONFIG).is_file():
        if announce is not None:
            announce(f"No trained {model_name} under {model_home()}; using the model bundled with aecli.")
        return bundled
    raise AecliError(f"no trained {model_name} found under {model_home()}; run `aecli train {model_name}` first")


def _read_config(path: Path) -> dict:
    try:
        config = json.loads((path / CONFIG).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AecliError(f"{path / CONFIG} is not valid JSON ({exc}); retrain or restore the checkpoint") from exc
    if not isinstance(config, dict) or not isinstance(config.get("format"), int):
        raise AecliError(f"{path / CONFIG} lacks a format version; it was not written by aecli")
    if config["format"] > FORMAT_VERSION:
        raise AecliError(f"{path} has checkpoint format {config['format']}; upgrade aecli to read it")
    return config


def load_checkpoint(path: Path, expected_model: str | None = None, device: torch.device | str = "cpu") -> Checkpoint:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = checkpoint_dir(path)
    config = _read_config(path)
    name = config.get("model")
    if expected_model is not None and name != expected_model:
        raise AecliError(
            f"{path} holds a {name} model, not {expected_model}; use `aecli ... {name}` or another --checkpoint"
        )
    try:
        model_config = ModelConfig(**config["model_config"])
        spec = DataSpec.from_dict(config["data"])
        model = create_model(name, **model_config.to_dict())
    except (KeyError, TypeError, ValueError, AecliError) as exc:
        raise AecliError(f"{path / CONFIG} is malformed ({exc}); retrain or restore the checkpoint") from exc
    try:
        tensors = load_file(path / WEIGHTS)
    except (OSError, SafetensorError) as exc:
        raise AecliError(f"cannot read {path / WEIGHTS} ({exc}); retrain or restore the checkpoint") from exc
    extras = {k[len(EXTRA_PREFIX) :]: v for k, v in tensors.items() if k.startswith(EXTRA_PREFIX)}
    weights = {k: v for k, v in tensors.items() if not k.startswith(EXTRA_PREFIX)}
    try:
        model.load_state_dict(weights)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise AecliError(f"{path / WEIGHTS} does not match its config ({first}); retrain or restore it") from exc
    model.to(device).eval()
    return Checkpoint(path, model, spec, config.get("training", {}), config.get("history", []), extras)


def load_trainer_state(path: Path) -> dict:
    """Optimizer and RNG state, plain types only (weights_only=True)."""
    file = Path(path) / TRAINER
    if not file.is_file():
        raise AecliError(f"{path} has no {TRAINER}, so it cannot be resumed; start a new run without --resume")
    try:
        return torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # any unpickling refusal or corruption
        raise AecliError(f"cannot resume from {file} ({type(exc).__name__}); start a new run without --resume") from exc
