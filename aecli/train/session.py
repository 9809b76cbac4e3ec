"""A training session: the data, model, optimizer and run folder of a new or resumed run."""

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from aecli.data import DataRecipe, Dataset, Reporter, load_dataset
from aecli.data.recorded import check_fits
from aecli.device import preferred_memory_format, resolve_device, seed_everything, use_bf16
from aecli.errors import AecliError, UsageError
from aecli.models import MODELS, Autoencoder, check_options, create_model
from aecli.seeds import drawn_seed
from aecli.store.checkpoints import load_checkpoint, load_trainer_state
from aecli.train.batches import TrainingImages
from aecli.train.cores import CoreShare
from aecli.train.distributed import Group, broadcast, data_parallel, join
from aecli.train.distributed import current as distributed_group
from aecli.train.run_folder import RunFolder
from aecli.train.settings import TrainSettings, default_batch_size


@dataclass
class Session:
    """Everything one run needs between epochs."""

    settings: TrainSettings
    data: Dataset
    train_set: TrainingImages  # the training split where the steps read it (resident on a GPU when it fits)
    model: Autoencoder
    optimizer: torch.optim.Optimizer
    device: torch.device
    folder: RunFolder
    history: list[dict]
    first_epoch: int
    bf16: bool
    face_frame: torch.Tensor | None = None  # where faces sit in the training images (face datasets)
    group: Group = field(default_factory=Group)  # this process's rank under torchrun (else the only one)
    forward: Callable | None = None  # the loss to train on: model.loss, or its DDP wrapper under torchrun
    cores: CoreShare | None = None  # this run's share of the CPU threads beside other trainings


def resume_command(settings: TrainSettings, run_dir: Path) -> str:
    return f"aecli train {settings.model} --resume --out {shlex.quote(str(run_dir))} --epochs {settings.epochs}"


def _resume(settings: TrainSettings, device: torch.device, out: Path | None):
    """The checkpoint, trainer state and settings of the run to continue: --out, else the one `latest` names."""
    from aecli.store.runs import latest_run, newest_checkpoint

    run_dir = Path(out) if out is not None else latest_run(settings.model)
    if run_dir is None:
        raise AecliError(f"no earlier {settings.model} run to resume; drop --resume to start one")
    if newest_checkpoint(run_dir) is None:
        raise AecliError(f"the run in {run_dir} has no complete epoch, so nothing can be resumed; drop --resume")
    prior = load_checkpoint(run_dir, settings.model, device)
    state = load_trainer_state(prior)
    check_same_run(settings, prior)
    # a resumed run keeps its settings and data recipe; only --epochs and an explicit --lr change
    saved = {k: v for k, v in prior.training.items() if k in ("batch_size", "lr", "seed", "binarize", "precision")}
    resumed = replace(settings, **saved, data=prior.recipe, model_options={})
    resumed = replace(resumed, lr=settings.lr or resumed.lr)
    return prior, state, resumed


def check_same_run(settings: TrainSettings, prior) -> None:
    """Options typed again with --resume (the first command plus --resume) must equal the run's own:
    each one that differs is named with its stored value."""
    from aecli.data.recipe import OPTION_NAMES

    differ = []
    if settings.data is not None:
        given, stored = settings.data, prior.recipe
        for name in ["dataset", *given.given()]:
            if getattr(given, name) != getattr(stored, name):
                shown = getattr(stored, name)
                differ.append(
                    f"{OPTION_NAMES.get(name, '--dataset')} (the run's: {shown if shown is not None else 'none'})"
                )
    for name, value in settings.model_options.items():
        if getattr(prior.model.config, name) != value:
            differ.append(f"--{name.replace('_', '-')} (the run's: {getattr(prior.model.config, name)})")
    for name in ("batch_size", "seed"):
        value = getattr(settings, name)
        if value is not None and value != prior.training.get(name):
            differ.append(f"--{name.replace('_', '-')} (the run's: {prior.training.get(name)})")
    if settings.binarize and not prior.training.get("binarize"):
        differ.append("--binarize (the run trains on grey levels)")
    if differ:
        raise UsageError(f"--resume continues the run as it was started; these differ: {', '.join(differ)}")


def start(
    settings: TrainSettings, device: str, out: Path | None, resume: bool, reporter: Reporter, threads: int | None = None
) -> tuple[Session, dict | None]:
    """Load the data and build (or reload) the model, optimizer and run folder."""
    torch_device = resolve_device(device)
    group = distributed_group()
    if group.parallel:
        group, torch_device = join(torch_device)
    if threads:  # CPU threads for this run (default: torch's, one per core)
        torch.set_num_threads(threads)
    use_bf16(settings.precision, torch_device)  # a bad --precision is refused before anything is made
    prior = state = None
    if resume:
        prior, state, settings = _resume(settings, torch_device, out)
    else:
        check_options(settings.model, **settings.model_options)  # before the data, which may take long to read
        if group.writer:
            RunFolder.check_new(out)
    settings, data = _settings_and_data(settings, group, reporter)
    if prior is not None:
        fix = "restore the data as it was, or train a new run without --resume"
        check_fits(prior.spec, prior.model.takes_class, data, fix)
        model, history = prior.model, list(prior.history)
    else:
        model = create_model(settings.model, data.spec, **settings.model_options).to(torch_device)
        history = []
    model.to(memory_format=preferred_memory_format(torch_device))
    optimizer = adam(model, settings.lr)
    first_epoch = 1
    if state is not None:
        optimizer.load_state_dict(state["optimizer"])
        first_epoch = int(state["epochs_completed"]) + 1
    if first_epoch > settings.epochs:
        raise UsageError(f"{prior.path.parent} already has {first_epoch - 1} epochs; pass a larger --epochs")
    folder = _run_folder(settings, group, prior, out)
    forward = data_parallel(model, torch_device) if group.parallel else model.loss
    cores = CoreShare(torch_device.type == "cpu" and not threads and not group.parallel)
    train_set = TrainingImages.place(data.train, torch_device)
    bf16 = use_bf16(settings.precision, torch_device)
    session = Session(settings, data, train_set, model, optimizer, torch_device, folder, history, first_epoch, bf16)
    session.group, session.forward, session.cores = group, forward, cores
    if data.spec.faces or (data.spec.name == "folder" and not data.spec.light_on_dark):
        from aecli.data.faces import face_frame  # None where too few training images show a face

        session.face_frame = face_frame(data.train.images)
    return session, state


def _settings_and_data(settings: TrainSettings, group: Group, reporter: Reporter) -> tuple[TrainSettings, Dataset]:
    """The data read, and every setting left open decided: seed (the same on every rank), rate, batch."""
    cls = MODELS.get(settings.model)
    recipe = settings.data or DataRecipe(cls.default_dataset)
    seed = broadcast(settings.seed if settings.seed is not None else drawn_seed(None), group)
    settings = replace(settings, data=recipe, seed=seed, lr=settings.lr or cls.default_lr)
    seed_everything(settings.seed)
    data = load_dataset(recipe, reporter=reporter)
    batch_size = settings.batch_size or default_batch_size(cls, len(data.train))
    for note in data.notes:
        reporter.note(note)
    if len(data.train) < 2:
        raise AecliError(f"{recipe.dataset} has {len(data.train)} training image; training needs at least 2")
    if len(data.train) < group.world:  # every rank needs an image a step
        raise AecliError(
            f"{recipe.dataset} has {len(data.train)} training images for {group.world} torchrun processes; "
            f"start at most {len(data.train)} (--nproc-per-node) or add images"
        )
    return replace(settings, data=data.recipe, batch_size=batch_size), data


def _run_folder(settings: TrainSettings, group: Group, prior, out: Path | None) -> RunFolder:
    """Created only now, so a bad dataset or option leaves no empty run behind; only rank 0 writes."""
    folder = None
    if group.writer:
        folder = RunFolder.open_existing(prior.path.parent) if prior else RunFolder.create(settings.model, out)
    path = Path(broadcast(str(folder.path) if folder else None, group))
    return folder or RunFolder(path, settings.model, created=False)  # other ranks only read it


def adam(model: Autoencoder, lr: float) -> torch.optim.Adam:
    """Adam, fused into one kernel per step where this torch and device have it (a tenth of the
    default step's cost on the CPU, which matters for a model this small)."""
    try:
        return torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    except RuntimeError:  # no fused kernel for this device in this torch
        return torch.optim.Adam(model.parameters(), lr=lr)
