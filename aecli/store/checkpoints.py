"""Checkpoint directories: config.json + model.safetensors (+ trainer.pt of plain types).

A training run lives in `<home>/runs/<model>/<run>/`; each epoch writes a complete
`epoch-NNNN/` directory under a temporary name, renames it into place, and only
then moves the run's `latest` pointer to it. Nothing is ever unpickled.
"""

import json
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch

from aecli import __version__
from aecli.data.base import DataSpec
from aecli.data.recipe import DataRecipe
from aecli.device import preferred_memory_format
from aecli.errors import AecliError
from aecli.fileio import plain_mode, save_tensors, write_failure, write_text_atomic
from aecli.models import Autoencoder, model_from_config
from aecli.store.runs import CONFIG, EPOCH_PREFIX, MAX_CONFIG_BYTES, POINTER, inside, newest_checkpoint

# what a resumed run takes from a checkpoint, and the values it may hold
TRAINING_FIELDS = {
    "batch_size": (int, 1, 65_536),
    "lr": (int | float, 1e-8, 10.0),
    "seed": (int, 0, 2**32 - 1),
    "data_images": (int, 0, 10**9),
}
FORMAT_VERSION = 2  # 2: per-model configs and a data recipe
WEIGHTS = "model.safetensors"
TRAINER = "trainer.pt"
EXTRA_PREFIX = "extra."
MAX_HEADER_BYTES = 16 * 2**20  # a safetensors header is a few kB; a crafted one can claim gigabytes


@dataclass
class Checkpoint:
    path: Path
    model: Autoencoder
    spec: DataSpec
    recipe: DataRecipe
    training: dict
    history: list[dict]
    extras: dict[str, torch.Tensor] = field(default_factory=dict)


def save_checkpoint(
    run_dir: Path,
    model: Autoencoder,
    spec: DataSpec,
    recipe: DataRecipe,
    training: dict,
    history: list[dict],
    extras: dict[str, torch.Tensor] | None = None,
    trainer_state: dict | None = None,
) -> Path:
    """Write epoch-NNNN/ atomically, point the run's `latest` at it, drop older epochs."""
    epoch = int(training["epochs_completed"])
    final = run_dir / f"{EPOCH_PREFIX}{epoch:04d}"
    config = {
        "format": FORMAT_VERSION,
        "aecli_version": __version__,
        "model": model.name,
        "model_config": model.config.to_dict(),
        "data": spec.to_dict(),
        "recipe": recipe.to_dict(),
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
                save_trainer_state(trainer_state, tmp / TRAINER)
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
    for old in run_dir.glob(f"{EPOCH_PREFIX}[0-9]*"):
        if old.name < final.name:  # only older epochs: a later one is never dropped for this one
            shutil.rmtree(old, ignore_errors=True)
    return final


def save_trainer_state(state: dict, file: Path) -> None:
    """torch.save, with a failed write raised as the OSError it is (torch words a full disk as
    `[enforce fail at inline_container.cc]`)."""
    import errno

    try:
        torch.save(state, file)
    except RuntimeError as exc:
        free = shutil.disk_usage(file.parent).free
        code = errno.ENOSPC if free < 2**20 or "file write failed" in str(exc) else errno.EIO
        raise OSError(code, os.strerror(code)) from exc


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
    inner = newest_checkpoint(path) if path.is_dir() else None
    if inner is not None:
        return inner
    if not path.exists():
        raise AecliError(f"checkpoint {path} does not exist; pass a directory that `aecli train` wrote")
    raise AecliError(f"{path} holds no {CONFIG}; pass a directory that `aecli train` wrote")


def _check_regular(file: Path) -> None:
    """A FIFO or device under a checkpoint's name would hang or never end: refuse it before opening."""
    import stat

    if not stat.S_ISREG(os.stat(file).st_mode):
        raise ValueError(f"{file.name} is not a regular file")


def check_agreement(model: Autoencoder, spec: DataSpec, history: list, training: dict) -> None:
    """The parts of a checkpoint must describe one model: its data, its classes, its epochs."""
    config = model.config
    if (config.channels, config.image_size) != (spec.channels, spec.image_size):
        raise ValueError(
            f"the data is {spec.channels} x {spec.image_size}px but the model takes "
            f"{config.channels} x {config.image_size}px"
        )
    if model.takes_class and model.num_classes != spec.num_classes:
        raise ValueError(f"data names {spec.num_classes} classes for a {model.num_classes}-class model")
    done = training.get("epochs_completed", len(history))
    if not isinstance(done, int) or isinstance(done, bool) or not 0 <= done <= 10**6:
        raise ValueError(f"epochs_completed must be a whole number of epochs, not {done!r}")
    for name, (kinds, low, high) in TRAINING_FIELDS.items():
        value = training.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high):
            raise ValueError(f"training.{name} must be a number from {low} to {high}, not {value!r}")


def _read_config(path: Path) -> dict:
    file = path / CONFIG
    try:
        _check_regular(file)
        if file.stat().st_size > MAX_CONFIG_BYTES:
            raise AecliError(f"{file} is larger than {MAX_CONFIG_BYTES >> 20} MiB; it was not written by aecli")
        config = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else exc
        raise AecliError(f"{file} is not valid JSON ({reason}); retrain or restore the checkpoint") from exc
    if not isinstance(config, dict) or not isinstance(config.get("format"), int):
        raise AecliError(f"{file} lacks a format version; it was not written by aecli")
    if config["format"] > FORMAT_VERSION:
        raise AecliError(f"{path} has checkpoint format {config['format']}; upgrade aecli to read it")
    return config


def _check_safetensors_header(file: Path) -> None:
    """Refuse a weights file whose header is oversized, repeats a name, or points past the file."""

    def no_duplicates(pairs):
        names = [k for k, _ in pairs]
        if len(names) != len(set(names)):
            raise ValueError(f"tensor {next(n for n in names if names.count(n) > 1)!r} appears twice")
        return dict(pairs)

    size = file.stat().st_size
    with open(file, "rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            raise ValueError("the file is too short")
        (length,) = struct.unpack("<Q", head)
        if length > min(MAX_HEADER_BYTES, size - 8):
            raise ValueError(f"its header claims {length} bytes")
        header = json.loads(handle.read(length), object_pairs_hook=no_duplicates)
    for name, entry in header.items():
        if name != "__metadata__" and (not isinstance(entry, dict) or max(entry.get("data_offsets", [0])) > size):
            raise ValueError(f"tensor {name!r} lies outside the file")


def load_checkpoint(path: Path, expected_model: str | None = None, device: torch.device | str = "cpu") -> Checkpoint:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = checkpoint_dir(path)
    for part in (CONFIG, WEIGHTS, TRAINER):
        if (path / part).exists() and not inside(path / part, path):
            raise AecliError(f"{path / part} leads outside {path}; aecli follows no link out of a checkpoint")
    config = _read_config(path)
    name = config.get("model")
    if expected_model is not None and name != expected_model:
        raise AecliError(
            f"{path} holds a {name} model, not {expected_model}; use `aecli ... {name}` or another --checkpoint"
        )
    try:
        spec = DataSpec.from_dict(config["data"])
        training = config.get("training", {})
        history = config.get("history", [])
        if not isinstance(training, dict) or not isinstance(history, list):
            raise ValueError("training must be an object and history a list")
        recipe = DataRecipe.from_dict(config["recipe"]) if "recipe" in config else DataRecipe.from_training(training)
        model = model_from_config(name, config["model_config"])
        check_agreement(model, spec, history, training)
    except (KeyError, TypeError, ValueError, AecliError, RecursionError) as exc:
        raise AecliError(f"{path / CONFIG} is malformed ({exc}); retrain or restore the checkpoint") from exc
    try:
        _check_regular(path / WEIGHTS)
        _check_safetensors_header(path / WEIGHTS)
        tensors = load_file(path / WEIGHTS)
    except (OSError, SafetensorError, ValueError, UnicodeDecodeError) as exc:
        raise AecliError(f"cannot read {path / WEIGHTS} ({exc}); retrain or restore the checkpoint") from exc
    for key, value in tensors.items():
        if value.is_floating_point() and not torch.isfinite(value).all():
            raise AecliError(f"{path / WEIGHTS}: tensor {key!r} holds NaN or infinite values; retrain or restore it")
    extras = {k[len(EXTRA_PREFIX) :]: v for k, v in tensors.items() if k.startswith(EXTRA_PREFIX)}
    weights = {k: v for k, v in tensors.items() if not k.startswith(EXTRA_PREFIX)}
    try:
        model.upgrade_state(weights, extras)
        model.load_state_dict(weights)
        model.check_state()
    except (RuntimeError, ValueError) as exc:
        first = str(exc).splitlines()[0]
        raise AecliError(f"{path / WEIGHTS} does not match its config ({first}); retrain or restore it") from exc
    # channels-last convolutions: a third or more faster on the CPU for every command (docs/performance.md)
    model.to(device, memory_format=preferred_memory_format(torch.device(device))).eval()
    return Checkpoint(path, model, spec, recipe, training, history, extras)


def _check_trainer_archive(file: Path, model: Autoencoder) -> None:
    """torch.save writes an uncompressed zip: refuse compressed members and sizes no optimizer has."""
    import zipfile

    budget = 4 * sum(p.numel() * p.element_size() for p in model.parameters()) + 2**20 * 16
    with zipfile.ZipFile(file) as archive:
        members = archive.infolist()
        if any(m.compress_type != zipfile.ZIP_STORED for m in members):
            raise ValueError("it holds compressed members, which torch.save never writes")
        total = sum(m.file_size for m in members)
        if total > budget:
            raise ValueError(f"it holds {total:,} bytes, more than this model's optimizer state can ({budget:,})")


def load_trainer_state(checkpoint: Checkpoint) -> dict:
    """Optimizer and RNG state, plain types only (weights_only=True), checked against the checkpoint."""
    file = checkpoint.path / TRAINER
    fix = "start a new run without --resume"
    if not file.is_file():
        raise AecliError(f"{checkpoint.path} has no {TRAINER}, so it cannot be resumed; {fix}")
    try:
        _check_trainer_archive(file, checkpoint.model)
        state = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # any unpickling refusal or corruption
        raise AecliError(f"cannot resume from {file} ({type(exc).__name__}: {exc}); {fix}") from exc
    expected = checkpoint.training.get("epochs_completed")
    problems = []
    if not isinstance(state, dict) or not {"optimizer", "rng", "epochs_completed"} <= set(state):
        problems.append("it lacks optimizer, rng or epochs_completed")
    elif state["epochs_completed"] != expected or expected != len(checkpoint.history):
        problems.append(f"it says {state['epochs_completed']} epochs, its checkpoint {expected}")
    elif not isinstance(state["rng"], torch.Tensor) or state["rng"].shape != torch.get_rng_state().shape:
        problems.append("its random-number state has the wrong size")
    else:
        params = list(checkpoint.model.parameters())
        saved = state["optimizer"].get("state", {}) if isinstance(state["optimizer"], dict) else None
        if saved is None or any(
            not isinstance(v, dict)
            or not 0 <= int(k) < len(params)
            or any(isinstance(t, torch.Tensor) and t.dim() > 0 and t.shape != params[int(k)].shape for t in v.values())
            for k, v in saved.items()
        ):
            problems.append("its optimizer state does not fit the model")
    if problems:
        raise AecliError(f"cannot resume from {file}: {problems[0]}; {fix}")
    return state
