"""Rich progress bars on stderr, shown only when stderr is a terminal."""

import contextlib
import sys


def _bar(*columns):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    return Progress(
        *columns[:1],
        BarColumn(),
        MofNCompleteColumn(),
        *columns[1:],
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )


@contextlib.contextmanager
def training_progress():
    """Yield a callback for training.Progress updates (a no-op off a terminal)."""
    if not sys.stderr.isatty():
        yield lambda progress: None
        return
    from rich.progress import TextColumn

    bar = _bar(
        TextColumn("epoch {task.fields[epoch]}"),
        TextColumn("loss {task.fields[loss]:.3f}  {task.fields[rate]:.0f} img/s"),
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


@contextlib.contextmanager
def task_progress():
    """Yield a callback (what, done, total) for slow data reads (a no-op off a terminal)."""
    if not sys.stderr.isatty():
        yield lambda what, done, total: None
        return
    from rich.progress import TextColumn

    bar = _bar(TextColumn("{task.description}"))
    tasks: dict[str, int] = {}

    def update(what: str, done: int, total: int) -> None:
        if what not in tasks:
            tasks[what] = bar.add_task(what, total=total)
        bar.update(tasks[what], completed=done)

    with bar:
        yield update
