"""Extract dataset archives so that nothing lands, or points, outside the target folder."""

import os
import shutil
import tarfile
import tempfile
import zlib
from pathlib import Path, PurePosixPath

from aecli.errors import AecliError
from aecli.fileio import plain_mode, waiting_lock


def unsafe_reason(member: tarfile.TarInfo) -> str | None:
    """Why a member could write or point outside the target folder, or None if it is safe."""
    name = PurePosixPath(member.name)
    if name.is_absolute() or member.name.startswith(("/", "\\")) or ".." in name.parts:
        return "a path outside the folder"
    if member.issym() or member.islnk():
        target = PurePosixPath(member.linkname)
        base = name.parent if member.issym() else PurePosixPath()
        if target.is_absolute() or ".." in (base / target).parts:
            return f"a link to {member.linkname}"
    if member.isdev() or member.isfifo():
        return "a device or pipe"
    return None


MAX_MEMBERS = 200_000  # LFW has 13,233 images
MAX_EXPANSION = 10  # photos hardly compress: a .tgz that would grow more than tenfold is not a photo archive
MIN_BUDGET = 64 * 2**20


def _checked_members(tar: tarfile.TarFile, archive: Path) -> list[tarfile.TarInfo]:
    """Every member, each refused if unsafe; the list and their sizes bounded before anything is written."""
    budget = max(MIN_BUDGET, MAX_EXPANSION * archive.stat().st_size)
    members, total = [], 0
    for member in tar:
        reason = unsafe_reason(member)
        if reason:
            raise AecliError(f"{archive} was refused: member {member.name!r} is {reason}; use a clean LFW archive")
        members.append(member)
        total += member.size
        if len(members) > MAX_MEMBERS or total > budget:
            what = f"more than {MAX_MEMBERS:,} members" if len(members) > MAX_MEMBERS else f"over {budget >> 20} MiB"
            raise AecliError(f"{archive} was refused: it would extract {what}; use a real LFW archive")
    return members


def extract_tar(archive: Path, dest: Path, on_note=None) -> Path:
    """Extract `archive` into `dest` (complete or not at all); refuse unsafe archives.

    Held under a lock beside `dest`, so two processes extracting the same archive take turns;
    temporary folders a killed run left behind are removed first.
    """
    import errno

    if dest.is_dir():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with waiting_lock(dest.parent / f".{dest.name}.lock", f"extracting {archive.name}", on_note):
        if dest.is_dir():  # the other process finished it
            return dest
        for stale in dest.parent.glob(f".{dest.name}.*"):
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
        try:
            with tarfile.open(archive, "r:*") as tar:
                members = _checked_members(tar, archive)
                tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
                try:
                    tar.extractall(tmp, members=members, filter="data")
                    os.chmod(tmp, plain_mode(directory=True))
                    os.replace(tmp, dest)
                finally:
                    shutil.rmtree(tmp, ignore_errors=True)
        except OSError as exc:
            if exc.errno is None:  # gzip's BadGzipFile and its kin: the archive itself
                raise AecliError(
                    f"cannot extract {archive} ({exc}): it is damaged; replace it with an intact copy"
                ) from exc
            if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                raise AecliError(
                    f"cannot extract {archive} into {dest.parent}: the disk is full; free some space"
                ) from exc
            raise AecliError(
                f"cannot extract {archive} into {dest.parent} ({exc.strerror or exc}); check the folder"
            ) from exc
        except (tarfile.TarError, EOFError, zlib.error) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise AecliError(
                f"cannot extract {archive} ({reason}): it is damaged; replace it with an intact copy"
            ) from exc
    return dest
