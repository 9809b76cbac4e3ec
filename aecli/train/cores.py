"""Sharing the CPU between aecli trainings on one machine.

Each training on the CPU holds a locked file in the cache's `running/` folder. A training that sees
others running uses its share of the threads, so two runs side by side do not each start one thread
per core and slow each other five-fold (benchmarks/processes_and_threads.py). `--threads N` fixes
the count instead.
"""

import fcntl
import os
from pathlib import Path

import torch

from aecli.fileio import unless_locked
from aecli.paths import data_cache


def _live_others(folder: Path, own: Path) -> int:
    """Lock files held by other live processes; stale ones (their process gone) are removed."""
    count = 0
    for path in folder.glob("*.lock"):
        if path == own:
            continue
        with unless_locked(path) as free:
            if free:
                path.unlink(missing_ok=True)  # nobody holds it: left by a killed run
            elif path.exists():
                count += 1
    return count


class CoreShare:
    """This run's share of the CPU threads, checked again as other trainings start and end."""

    def __init__(self, automatic: bool) -> None:
        self.automatic = automatic  # off for GPUs, for --threads, and under torchrun (which shares out cores)
        self.full = torch.get_num_threads()
        self.path: Path | None = None
        self._handle = None

    def __enter__(self) -> "CoreShare":
        if self.automatic:
            try:
                folder = data_cache() / "running"
                folder.mkdir(parents=True, exist_ok=True)
                self.path = folder / f"{os.getpid()}.lock"
                self._handle = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
                fcntl.flock(self._handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # an unwritable cache: share nothing, train alone
                self.automatic = False
        self.adjust()
        return self

    def adjust(self) -> None:
        if not self.automatic:
            return
        threads = max(1, self.full // (1 + _live_others(self.path.parent, self.path)))
        if threads != torch.get_num_threads():
            torch.set_num_threads(threads)

    def __exit__(self, *exc) -> None:
        if self._handle is not None:
            if self.path is not None:
                self.path.unlink(missing_ok=True)
            os.close(self._handle)
            self._handle = None
        if self.automatic:
            torch.set_num_threads(self.full)
