"""A rich progress bar on stderr, shown only when stderr is a terminal."""

import contextlib
import sys


@contextlib.contextmanager
def training_progress():
    """Yield a callback for training.Progress updates (a no-op off a terminal)."""
    if not sys.stderr.isatty():
        yield lambda progress: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn("epoch {task.fields[epoch]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]:.3f}  {task.fields[rate]:.0f} img/s"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    tasks: dict[int, int] = {}

    def update(progress) -> None:
        label = f"{progress.epoch}/{progress.epochs}"
        if progress.epoch not in tasks:
            tasks[progress.epoch] = bar.add_task("", total=progress.steps, epoch=label, loss=0.0, rate=0.0)
        fields = {"loss": progress.loss, "rate": progress.images_per_second, "epoch": label}
        bar.update(tasks[progress.epoch], completed=progress.step, **fields)

    with bar:
        yield update
