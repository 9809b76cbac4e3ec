"""Atomic file writes: a file appears under its final name complete or not at all."""

import contextlib
import errno
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from aecli.errors import AecliError

STALE_SECONDS = 15 * 60  # a live writer touches its temporary far more often than this


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success fsync it and rename it over `path`."""
    path = Path(path)
    directory = path.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
        sweep_stale(directory, f"{temp_prefix(path.name)}*.tmp")
        fd, tmp_name = tempfile.mkstemp(prefix=temp_prefix(path.name), suffix=".tmp", dir=directory)
    except OSError as exc:
        raise AecliError(f"cannot write to {directory}: {exc.strerror}; choose a writable folder") from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        try:
            yield tmp
        except OSError as exc:
            if not _disk_full(tmp, exc):
                raise  # not about writing (a network error in a download, say): the caller words it
            raise AecliError(write_failure(path, exc)) from exc
        try:
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
            os.chmod(tmp, plain_mode())
            os.replace(tmp, path)
        except OSError as exc:
            raise AecliError(write_failure(path, exc)) from exc
    finally:
        tmp.unlink(missing_ok=True)


def sweep_stale(directory: Path, pattern: str) -> None:
    """Remove temporaries matching `pattern` that a killed process left (untouched for STALE_SECONDS)."""
    import time

    cutoff = time.time() - STALE_SECONDS
    for stale in Path(directory).glob(pattern):
        try:
            folder = stale.is_dir() and not stale.is_symlink()
            touched = [stale, *stale.iterdir()] if folder else [stale]
            if max(item.lstat().st_mtime for item in touched) > cutoff:
                continue  # perhaps another process is still writing it
            if folder:
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)
        except OSError:
            continue


@contextlib.contextmanager
def unless_locked(path: Path) -> Iterator[bool]:
    """Hold `path`'s exclusive lock while inside, if no live process holds it: yields whether it was free
    (False also when it cannot be opened). Used to tell what a killed process left from what is in use."""
    import fcntl

    try:
        handle = os.open(path, os.O_RDONLY)
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
        else:
            yield True
    finally:
        os.close(handle)


LOCK_WAIT_SECONDS = 600


@contextlib.contextmanager
def waiting_lock(path: Path, what: str, on_wait=None, limit: float | None = None) -> Iterator[None]:
    """Hold `path`'s exclusive lock while inside; if another process holds it, say so once (`on_wait`) and
    wait at most `limit` seconds (LOCK_WAIT_SECONDS): a process stopped with Ctrl-Z never lets go."""
    import fcntl
    import time

    limit = LOCK_WAIT_SECONDS if limit is None else limit
    with open(path, "a") as handle:
        deadline = time.monotonic() + limit
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise AecliError(
                        f"another aecli has been {what} for over {limit:.0f} s and holds {path}; "
                        "if it was stopped (Ctrl-Z), resume it with fg or end it, then run this again"
                    ) from None
                if on_wait is not None:
                    on_wait(f"Waiting for another aecli that is {what} (it holds {path})")
                    on_wait = None
                time.sleep(0.25)
        yield


def shown_name(text: str) -> str:
    """A file or folder name as text any file accepts: bytes that are not UTF-8 (kept by Python as
    surrogates) become `\\xNN`, as `ls -b` shows them."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def temp_prefix(name: str) -> str:
    """A temporary name's prefix that still fits the file system's 255 bytes whenever `name` does."""
    return f".{name}." if len(os.fsencode(name)) <= 200 else ".aecli-"


def plain_mode(directory: bool = False) -> int:
    """The permissions a plainly created file (0o666) or folder (0o777) gets here, less the umask.

    mkstemp and mkdtemp make private ones (0o600, 0o700); what aecli writes should not be.
    """
    umask = os.umask(0o022)
    os.umask(umask)
    return (0o777 if directory else 0o666) & ~umask


def cache_folder(*parts: str) -> Path:
    """The data cache's folder `parts`, made if needed; a cache that cannot hold it is one line naming AECLI_DATA."""
    from aecli.paths import data_cache

    folder = data_cache().joinpath(*parts)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AecliError(cache_failure(folder, exc)) from exc
    return folder


def cache_failure(path: Path, exc: OSError) -> str:
    """Why the data cache cannot take `path`, and the fix (AECLI_DATA, or free space)."""
    from aecli.paths import data_cache

    root = data_cache()
    blocker = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        fix = "set AECLI_DATA to a folder" if blocker == root else "remove it or set AECLI_DATA to another folder"
        return f"the data cache cannot hold {path}: {blocker} is a file, not a folder; {fix}"
    if _disk_full(path, exc):
        return f"the data cache {root} is on a full disk; free some space or set AECLI_DATA to another disk"
    return f"cannot write in the data cache {root} ({exc.strerror or exc}); set AECLI_DATA to a writable folder"


def write_refused(folder: Path, exc: OSError) -> bool:
    """Did writing into `folder` fail (full, read-only, not permitted), rather than reading something else?"""
    if exc.errno == errno.EROFS or _disk_full(folder, exc):
        return True
    return exc.errno in (errno.EACCES, errno.EPERM) and not os.access(folder, os.W_OK)


def write_failure(path: Path, exc: OSError) -> str:
    """A one-line reason a write failed, with the fix."""
    if not _disk_full(path, exc):
        return f"cannot write {path}: {exc.strerror or exc}; choose another folder"
    reason = exc.strerror if exc.errno == errno.EFBIG else "the disk is full"  # EFBIG: a file-size limit
    return f"cannot write {path}: {reason}; free some space or choose another folder"


def _disk_full(path: Path, exc: OSError) -> bool:
    """Did this write fail for want of room (a full disk, a quota, a file-size limit)?"""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return True
    if exc.errno is None:  # numpy reports a full disk as a short write, with no errno
        try:
            return shutil.disk_usage(path if path.is_dir() else path.parent).free < 2**20
        except OSError:
            return False
    return False


def save_tensors(tensors: dict, path: Path) -> None:
    """safetensors' save_file, with its I/O failures raised as the OSError they are."""
    from safetensors import SafetensorError
    from safetensors.torch import save_file

    try:
        save_file(tensors, path)
    except SafetensorError as exc:
        found = re.search(r"os error (\d+)", str(exc))  # the errno, only in the message
        code = int(found.group(1)) if found else errno.EIO
        raise OSError(code, os.strerror(code)) from exc


def write_text_atomic(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


IMAGE_OUTPUTS = (".png", ".npy")  # what commands that draw pictures write: a grid, or the raw float32 array
