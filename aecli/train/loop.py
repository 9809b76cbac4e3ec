"""The training loop: start or resume a run, train epochs, save after each. Never prints."""

import contextlib
import math
import random
import shlex
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch

from aecli.train.batches import TrainingImages, draw_generator, index_batches, random_mirror
from aecli.store.checkpoints import load_checkpoint, load_trainer_state, save_checkpoint
from aecli.train.cores import CoreShare
from aecli.data import DataRecipe, Dataset, Reporter, load_dataset
from aecli.data.pixels import as_input
from aecli.device import preferred_memory_format, resolve_device, seed_everything, use_bf16
from aecli.train.distributed import Group, all_sum, broadcast, check_replicas, data_parallel, join, shard
from aecli.train.distributed import current as distributed_group
from aecli.errors import AecliError, TrainingInterrupted, UsageError
from aecli.evaluate.likelihood import mean_loss
from aecli.models import MODELS, Autoencoder, create_model
from aecli.train.run_folder import RunFolder, StopFlag, write_metrics

WARMUP = 0.05  # share of a run over which the learning rate rises to its full value
REPORT_EVERY = 10  # steps between progress reports (each one syncs with the device)
SHARE_EVERY = 200  # steps between checks of how many other trainings share the CPU
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class TrainSettings:
    model: str = "vae"
    data: DataRecipe | None = None  # None: the model's default dataset
    epochs: int = 20
    batch_size: int | None = None  # None: the model's default, smaller for small datasets (default_batch_size)
    lr: float | None = None  # None: the model's default
    seed: int | None = None  # None: drawn at random, then recorded
    binarize: bool = False
    precision: str = "auto"
    model_options: dict = field(default_factory=dict)  # fields of the model's config, e.g. latent_dim


@dataclass
class Progress:
    epoch: int
    epochs: int
    step: int
    steps: int
    loss: float
    images_per_second: float


@dataclass
class TrainResult:
    checkpoint: Path
    run_dir: Path
    settings: TrainSettings
    recipe: DataRecipe
    history: list[dict] = field(default_factory=list)
    train_seconds: float = 0.0
    train_images: int = 0
    in_home: bool = True  # False: --out outside the model home, so `latest` does not point at it


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


def default_dataset(model_name: str) -> str:
    return "lfw" if model_name == "ae" else "mnist"


MIN_STEPS_PER_EPOCH = 75


def default_batch_size(cls: type[Autoencoder], n_train: int) -> int:
    """The model's batch size, smaller where that leaves fewer than 75 steps per epoch (not under 16):
    small models learn per step, so a small dataset needs smaller batches (docs/decisions.md)."""
    return min(cls.default_batch_size, max(16, math.ceil(n_train / MIN_STEPS_PER_EPOCH)))


def set_learning_rate(optimizer: torch.optim.Optimizer, base: float, progress: float) -> None:
    """A linear warm-up from 10% over the first 5% of the run, the full rate until half-way,
    then cosine decay to 5% of it. A pure function of the step, so a resumed run follows the
    same schedule with no saved state (docs/decisions.md has what the warm-up is worth)."""
    warm = min(1.0, 0.1 + 0.9 * progress / WARMUP)
    late = max(0.0, progress - 0.5) / 0.5
    for group in optimizer.param_groups:
        group["lr"] = base * warm * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * late)))


def adam(model: Autoencoder, lr: float) -> torch.optim.Adam:
    """Adam, fused into one kernel per step where this torch and device have it (a tenth of the
    default step's cost on the CPU, which matters for a model this small)."""
    try:
        return torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    except RuntimeError:  # no fused kernel for this device in this torch
        return torch.optim.Adam(model.parameters(), lr=lr)


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
    # a resumed run keeps its settings and data recipe; only --epochs and an explicit --lr change
    saved = {k: v for k, v in prior.training.items() if k in ("batch_size", "lr", "seed", "binarize", "precision")}
    resumed = replace(settings, **saved, data=prior.recipe, model_options={})
    resumed = replace(resumed, lr=settings.lr or resumed.lr)
    return prior, state, resumed


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
    prior = state = None
    cls = MODELS.get(settings.model)
    if resume:
        prior, state, settings = _resume(settings, torch_device, out)
    elif group.writer:
        RunFolder.check_new(out)
    recipe = settings.data or DataRecipe(default_dataset(settings.model))
    seed = broadcast(settings.seed if settings.seed is not None else random.randrange(MAX_SEED), group)
    settings = replace(
        settings,
        data=recipe,
        seed=seed,
        lr=settings.lr or cls.default_lr,
    )
    bf16 = use_bf16(settings.precision, torch_device)
    seed_everything(settings.seed)
    data = load_dataset(recipe, reporter=reporter)
    settings = replace(
        settings, data=data.recipe, batch_size=settings.batch_size or default_batch_size(cls, len(data.train))
    )
    for note in data.notes:
        reporter.note(note)
    if len(data.train) < 2:
        raise AecliError(f"{recipe.dataset} has {len(data.train)} training image; training needs at least 2")
    if prior is not None:
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
    # created only now, so a bad dataset or option leaves no empty run behind; only rank 0 writes
    folder = None
    if group.writer:
        folder = RunFolder.open_existing(prior.path.parent) if prior else RunFolder.create(settings.model, out)
    path = Path(broadcast(str(folder.path) if folder else None, group))
    folder = folder or RunFolder(path, settings.model, created=False)  # other ranks only read it
    forward = data_parallel(model, torch_device) if group.parallel else model.loss
    cores = CoreShare(torch_device.type == "cpu" and not threads and not group.parallel)
    session = Session(
        settings,
        data,
        TrainingImages.place(data.train, torch_device),
        model,
        optimizer,
        torch_device,
        folder,
        history,
        first_epoch,
        bf16,
        group=group,
        forward=forward,
        cores=cores,
    )
    if data.spec.faces or (data.spec.name == "folder" and not data.spec.light_on_dark):
        from aecli.data.faces import face_frame  # None where too few training images show a face

        session.face_frame = face_frame(data.train.images)
    return session, state


def run_epoch(session: Session, epoch: int, stop: StopFlag, on_progress) -> tuple[float, int, float]:
    """One pass over the training split: (mean loss, images seen, seconds)."""
    s, model, device = session.settings, session.model, session.device
    train_set, memory_format = session.train_set, preferred_memory_format(device)
    generator = torch.Generator().manual_seed(s.seed * 100_003 + epoch)
    order = train_set.order(shard(torch.randperm(len(train_set.images), generator=generator), session.group))
    steps = math.ceil(len(order) / s.batch_size)
    if session.group.rank:  # each rank its own binarization and mirroring draws
        generator.manual_seed(s.seed * 100_003 + epoch + 1_000_003 * session.group.rank)
    draws = draw_generator(generator, device)
    model.train()
    started = time.perf_counter()
    total, seen = torch.zeros((), device=device), 0
    for step, index in enumerate(index_batches(order, s.batch_size), 1):
        images, y = train_set.batch(index)
        x = as_input(images, s.binarize, draws)
        if session.data.spec.mirrored:
            x = random_mirror(x, draws)
        x = x.contiguous(memory_format=memory_format)
        set_learning_rate(session.optimizer, s.lr, ((epoch - 1) * steps + step - 1) / (s.epochs * steps))
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=session.bf16):
            loss = session.forward(x, y).mean()
        session.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        session.optimizer.step()
        total += loss.detach() * len(index)
        seen += len(index)
        if stop.signal_name:
            raise TrainingInterrupted(_interrupted(stop.signal_name, session, epoch - 1))
        if step % SHARE_EVERY == 0 and session.cores is not None:
            session.cores.adjust()
        if step % REPORT_EVERY == 0 or step == steps:
            running = total.item() / seen
            if not math.isfinite(running):
                raise AecliError(
                    f"the loss became {running} in epoch {epoch}; the last good checkpoint is kept in "
                    f"{session.folder.path}; try a lower --lr"
                )
            if on_progress:
                on_progress(Progress(epoch, s.epochs, step, steps, running, seen / (time.perf_counter() - started)))
    total_loss, seen = all_sum([total.item(), float(seen)], session.group)  # every rank's images
    return total_loss / seen, int(seen), time.perf_counter() - started


def end_epoch(session: Session, epoch: int, train_loss: float, seen: int, seconds: float) -> Path:
    """Test loss, history, and the checkpoint of this epoch (its pointer moves only once it is complete).
    Under torchrun only rank 0 scores and saves; the others return None."""
    from aecli.inference.attributes import latent_statistics

    if not session.group.writer:
        return None
    s = session.settings
    test_loss = mean_loss(session.model, session.data.test, s.binarize)
    rate = round(seen / seconds, 1) if seconds else 0.0
    row = {"epoch": epoch, "train_loss": train_loss, "test_loss": test_loss, "seconds": round(seconds, 3)}
    session.history.append({**row, "images_per_second": rate})
    extras = {} if session.model.variational else latent_statistics(session.model, session.data)
    if session.face_frame is not None:
        extras["face_frame"] = session.face_frame
    trainer_state = {
        "optimizer": session.optimizer.state_dict(),
        "rng": torch.get_rng_state(),
        "epochs_completed": epoch,
    }
    training = {key: value for key, value in asdict(s).items() if key not in ("data", "model", "model_options")}
    training["epochs_completed"] = epoch
    path = save_checkpoint(
        session.folder.path, session.model, session.data.spec, s.data, training, session.history, extras, trainer_state
    )
    write_metrics(session.folder.path, session.history)
    return path


def train(
    settings: TrainSettings,
    device: str = "auto",
    out: Path | None = None,
    resume: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
    reporter: Reporter | None = None,
    on_epoch: Callable[[dict, TrainSettings], None] | None = None,
    threads: int | None = None,
) -> TrainResult:
    """Train a model end to end: data, model, loop, a checkpoint after every epoch."""
    reporter = reporter or Reporter()
    session, state = start(settings, device, out, resume, reporter, threads)
    try:
        return _train_epochs(session, state, on_progress, on_epoch)
    except RuntimeError as exc:  # under torchrun, a peer that died leaves the collectives failing
        if session.group.parallel and not isinstance(exc, AecliError):
            from aecli.train.distributed import lost_peer

            raise lost_peer(exc) from exc
        raise
    finally:
        if session.group.parallel:
            from aecli.train.distributed import leave

            leave()


def _train_epochs(session: Session, state: dict | None, on_progress, on_epoch) -> TrainResult:
    s, writer = session.settings, session.group.writer
    result = TrainResult(
        session.folder.path, session.folder.path, s, s.data, session.history, in_home=session.folder.in_home
    )
    with session.folder, StopFlag() as stop, session.cores or contextlib.nullcontext():
        if state is not None:
            torch.set_rng_state(state["rng"])
        for epoch in range(session.first_epoch, s.epochs + 1):
            train_loss, seen, seconds = run_epoch(session, epoch, stop, on_progress if writer else None)
            result.train_seconds += seconds
            result.train_images += seen
            result.checkpoint = end_epoch(session, epoch, train_loss, seen, seconds)
            if on_epoch and writer:
                on_epoch(session.history[-1], s)
            if stop.signal_name:
                raise TrainingInterrupted(_interrupted(stop.signal_name, session, epoch))
        check_replicas(session.model, session.group)
    if writer:
        from aecli.store.outputs import plot_losses

        plot_losses(session.history, session.folder.path / "loss.png", title=f"{s.model} on {s.data.dataset}")
    return result


def _interrupted(signal_name: str, session: Session, completed: int) -> str:
    if session.folder.has_checkpoint():
        return (
            f"training stopped by {signal_name} after {completed} complete epoch(s), saved in {session.folder.path}; "
            f"continue with: {resume_command(session.settings, session.folder.path)}"
        )
    return f"training stopped by {signal_name} before its first epoch ended; nothing was saved"
