"""One training run's folder: created new (or taken over with --resume), locked while in use,
removed again if the run ends before its first epoch, and the signals that stop it."""

import csv
import fcntl
import os
import shutil
import signal
import threading
from pathlib import Path

from aecli.errors import AecliError, UsageError
from aecli.fileio import atomic_path, unless_locked
from aecli.store.runs import POINTER, all_runs, complete_epochs, new_run_dir, read_pointer, runs_dir, set_latest_run

ABANDONED_AFTER = 60  # seconds: a new run locks its folder within moments of creating it


def looks_like_run(folder: Path) -> bool:
    return (folder / POINTER).exists() or any(folder.glob("epoch-*")) or (folder / "metrics.csv").exists()


class RunFolder:
    def __init__(self, path: Path, model: str, created: bool) -> None:
        self.path = path
        self.model = model
        self.created = created  # made by this run: removed again if no epoch completes
        self.in_home = path.resolve().parent == runs_dir(model).resolve()
        self._lock = None
        self._previous_pointer: str | None = None

    @staticmethod
    def check_new(out: Path | None) -> None:
        """--out for a new run must be new or empty; a run aecli made needs --resume."""
        if out is None:
            return
        for parent in Path(out).resolve().parents:
            if looks_like_run(parent) or parent.name.startswith("epoch-") and (parent / "config.json").exists():
                raise UsageError(f"--out {out} lies inside the run {parent}; choose a folder outside any run")
        if not Path(out).exists():
            return
        out = Path(out)
        if not out.is_dir():
            raise UsageError(f"--out {out} is a file; give a folder name")
        if looks_like_run(out):
            raise UsageError(f"{out} already holds a run; add --resume to continue it or pick a new --out")
        if any(out.iterdir()):
            raise UsageError(f"--out {out} is not empty; pick a new or empty folder (aecli never deletes your files)")

    @classmethod
    def create(cls, model: str, out: Path | None) -> "RunFolder":
        if out is None:
            sweep_abandoned_runs(model)
            path, created = new_run_dir(model), True
        else:
            path = Path(out)
            created = not path.exists()
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise AecliError(f"cannot create --out {path} ({exc.strerror}); choose another folder") from exc
        folder = cls(path, model, created)
        folder.lock()
        if folder.in_home:  # `latest` names the newest run at once: --resume never continues an older one
            previous = read_pointer(runs_dir(model))
            folder._previous_pointer = previous.name if previous is not None else None
            set_latest_run(model, path)
        return folder

    @classmethod
    def open_existing(cls, path: Path) -> "RunFolder":
        folder = cls(path, path.parent.name, created=False)
        folder.lock()
        return folder

    def lock(self) -> None:
        """An exclusive lock for the run's lifetime: a second `train` on the same folder is refused."""
        handle = os.open(self.path, os.O_RDONLY)  # the folder itself: no lock file to leave behind
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(handle)
            raise AecliError(f"another aecli train is using {self.path}; wait for it or pick another --out") from None
        self._lock = handle

    def has_checkpoint(self) -> bool:
        return bool(complete_epochs(self.path))

    def __enter__(self) -> "RunFolder":
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if exc is not None and self.created and not self.has_checkpoint():
            shutil.rmtree(self.path, ignore_errors=True)  # nothing was saved: leave nothing behind
            if self.in_home:
                pointer = runs_dir(self.model) / POINTER
                if self._previous_pointer:
                    set_latest_run(self.model, runs_dir(self.model) / self._previous_pointer)
                else:
                    pointer.unlink(missing_ok=True)
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


def sweep_abandoned_runs(model: str) -> None:
    """Remove run folders in the home that a killed run left with nothing saved: unlocked, no complete
    epoch, and holding only aecli's hidden temporaries (a user's own files keep a folder)."""
    import time

    for run in all_runs(model):
        try:
            if complete_epochs(run) or time.time() - run.stat().st_mtime < ABANDONED_AFTER:
                continue
            if not all(entry.name.startswith((".epoch-", f".{POINTER}.", ".metrics.csv.")) for entry in run.iterdir()):
                continue
        except OSError:
            continue
        with unless_locked(run) as free:
            if free:  # not held by a live run
                shutil.rmtree(run, ignore_errors=True)


def write_metrics(run_dir: Path, history: list[dict]) -> None:
    with atomic_path(run_dir / "metrics.csv") as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["epoch", "train_loss", "test_loss", "seconds", "images_per_second"])
        writer.writeheader()
        writer.writerows(history)


class StopFlag:
    """Turns SIGINT / SIGTERM into a flag the loop checks between steps."""

    def __init__(self) -> None:
        self.signal_name: str | None = None
        self._previous: dict = {}

    def __enter__(self) -> "StopFlag":
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        self.signal_name = signal.Signals(signum).name

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
