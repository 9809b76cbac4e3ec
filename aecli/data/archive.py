"""Extract dataset archives so that nothing lands, or points, outside the target folder."""

import os
import shutil
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from aecli.errors import AecliError
from aecli.fileio import plain_mode


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


def extract_tar(archive: Path, dest: Path) -> Path:
    """Extract `archive` into `dest` (complete or not at all); refuse unsafe archives."""
    if dest.is_dir():
        return dest
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            for member in members:
                reason = unsafe_reason(member)
                if reason:
                    raise AecliError(
                        f"{archive} was refused: member {member.name!r} is {reason}; use a clean LFW archive"
                    )
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
            try:
                tar.extractall(tmp, members=members, filter="data")
                os.chmod(tmp, plain_mode(directory=True))
                os.replace(tmp, dest)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise AecliError(f"cannot extract {archive} ({exc}); replace it with an intact copy") from exc
    return dest
