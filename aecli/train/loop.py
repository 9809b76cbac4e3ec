"""The training loop: train epochs, save after each. Never prints."""

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import torch

from aecli.data import Reporter
from aecli.data.pixels import as_input
from aecli.device import preferred_memory_format
from aecli.errors import AecliError, TrainingInterrupted
from aecli.evaluate.anomaly import training_quantiles
from aecli.evaluate.likelihood import mean_loss
from aecli.store.checkpoints import save_checkpoint
from aecli.train.batches import draw_generator, index_batches, random_mirror
from aecli.train.distributed import all_sum, check_replicas, shard
from aecli.train.run_folder import StopFlag, write_metrics
from aecli.train.session import Session, resume_command, start
from aecli.train.settings import Progress, TrainResult, TrainSettings, set_learning_rate

REPORT_EVERY = 10  # steps between progress reports (each one syncs with the device)
SHARE_EVERY = 200  # steps between checks of how many other trainings share the CPU
# a class model scores an unlabelled image under every class: past this many classes the training quantiles
# are left to the first `score` that asks for them
MAX_SCORED_CLASSES = 100


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
        model.progress = ((epoch - 1) * steps + step - 1) / (s.epochs * steps)
        set_learning_rate(session.optimizer, s.lr, model.progress)
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
    if not session.group.writer:
        return None
    s = session.settings
    test_loss = mean_loss(session.model, session.data.test, s.binarize)
    rate = round(seen / seconds, 1) if seconds else 0.0
    row = {"epoch": epoch, "train_loss": train_loss, "test_loss": test_loss, "seconds": round(seconds, 3)}
    session.history.append({**row, "images_per_second": rate})
    extras = fit_latent_and_directions(session.model, session.data)
    if session.face_frame is not None:
        extras["face_frame"] = session.face_frame
    trainer_state = {
        "optimizer": session.optimizer.state_dict(),
        "rng": torch.get_rng_state(),
        "epochs_completed": epoch,
    }
    training = {key: value for key, value in asdict(s).items() if key not in ("data", "model", "model_options")}
    training["epochs_completed"] = epoch
    training["data_images"] = len(session.data.train) + len(session.data.test)  # bounds later reads of its folder
    if epoch == s.epochs and session.model.num_classes <= MAX_SCORED_CLASSES:  # the training images' own scores
        training["score_quantiles"] = training_quantiles(session.model, session.data.train)
    path = save_checkpoint(
        session.folder.path, session.model, session.data.spec, s.data, training, session.history, extras, trainer_state
    )
    write_metrics(session.folder.path, session.history)
    return path


def fit_latent_and_directions(model, data) -> dict[str, torch.Tensor]:
    """Fit the model's latent distribution to the training codes where it is fitted (the AE's Gaussian),
    and find the attribute directions where the data has attributes: the extras the checkpoint keeps."""
    from aecli.inference import latent_codes
    from aecli.inference.attributes import attribute_directions

    attributes = data.train.attributes
    if not model.latent.fits_codes and attributes is None:
        return {}
    codes = latent_codes(model, data.train.images, data.train.labels)
    if model.latent.fits_codes:
        model.latent.fit(codes)
    return {} if attributes is None else {"attribute_directions": attribute_directions(codes, attributes)}


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
