"""Which checkpoint a command uses, and the one line that tells the user."""

from pathlib import Path

from aecli.errors import AecliError
from aecli.paths import PRETRAINED, model_home
from aecli.store.runs import CONFIG, newest_usable_checkpoint, run_id, runs_dir

BUNDLED_WORD = "bundled"


def find_checkpoint(model_name: str, checkpoint: Path | str | None = None) -> Path:
    """--checkpoint (a folder, a run id as `aecli runs` prints it, or `bundled`), else the newest run
    of that model in the model home, else the bundled one."""
    from aecli.store.checkpoints import checkpoint_dir

    if checkpoint is not None:
        text = str(checkpoint)
        if text.lower() == BUNDLED_WORD:
            return bundled(model_name)
        if not Path(text).exists():
            found = _by_run_id(model_name, text)
            if found is not None:
                return checkpoint_dir(found)
        return checkpoint_dir(Path(text))
    found = newest_usable_checkpoint(model_name)
    return found if found is not None else bundled(model_name)


def bundled(model_name: str) -> Path:
    path = PRETRAINED / model_name
    if not (path / CONFIG).is_file():
        raise AecliError(f"no trained {model_name} found under {model_home()}; run `aecli train {model_name}` first")
    return path


def _by_run_id(model_name: str, text: str) -> Path | None:
    """`vae/20261206-101500` or `20261206-101500`: a run folder in the home (never a path outside it)."""
    model, _, name = text.rpartition("/")
    if model and model != model_name:
        return None  # a path, not a run id of this model
    if not name or name in (".", "..") or "\\" in name:
        return None
    folder = runs_dir(model_name) / name
    return folder if folder.is_dir() else None


def load_model(model_name: str, checkpoint=None, device: str = "auto", announce=None):
    """The checkpoint a command uses, loaded; `announce` gets one line saying which it is."""
    from aecli.device import resolve_device
    from aecli.models import MODELS
    from aecli.store.checkpoints import load_checkpoint

    MODELS.get(model_name)
    path = find_checkpoint(model_name, checkpoint)
    ckpt = load_checkpoint(path, model_name, resolve_device(device))
    if announce is not None:
        announce(describe(ckpt))
    return ckpt


def describe(ckpt) -> str:
    """`Using vae run vae/20261206-101500 (digits, 5 of 5 epochs)`, `... interrupted ...`, `the bundled vae`."""
    done = int(ckpt.training.get("epochs_completed", len(ckpt.history)) or 0)
    planned = int(ckpt.training.get("epochs", done) or done)
    what = f"{ckpt.recipe.dataset}, {done} of {planned} epochs"
    if Path(ckpt.path).resolve().parent == PRETRAINED.resolve():
        return f"Using the bundled {ckpt.model.name} ({what}); train your own with `aecli train {ckpt.model.name}`"
    run = Path(ckpt.path).parent
    if done < planned:
        what += ", interrupted"
    return f"Using {ckpt.model.name} run {run_id(run, ckpt.model.name)} ({what})"
