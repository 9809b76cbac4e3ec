"""Streamed downloads into the cache: a temporary file, checked, then renamed."""

import hashlib
import http.client
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from aecli.errors import AecliError
from aecli.fileio import atomic_path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(
    url: str,
    dest: Path,
    max_bytes: int,
    sha256: str | None = None,
    hint: str = "",
    check: Callable[[Path], bool] | None = None,
) -> Path:
    """Fetch `url` to `dest` unless a verified copy is there; nothing half-done is left.

    The copy is verified by `sha256`, or by `check(path)` (another known digest, say). More than
    `max_bytes` (a few times the file's known size) is refused: an endless mirror must not fill the disk.
    """
    if check is None:
        check = (lambda path: sha256_of(path) == sha256) if sha256 is not None else (lambda path: True)
    if dest.exists() and check(dest):
        return dest
    too_large = f"{url} is larger than such a file can be ({max_bytes >> 20} MiB); the download was discarded"
    try:
        with atomic_path(dest) as tmp:
            with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as out:
                expected = response.headers.get("Content-Length")
                if expected is not None and expected.isdigit() and int(expected) > max_bytes:
                    raise AecliError(f"{too_large}. {hint}".strip())
                copied = 0
                while block := response.read(1 << 20):
                    copied += len(block)
                    if copied > max_bytes:
                        raise AecliError(f"{too_large}. {hint}".strip())
                    out.write(block)
            size = tmp.stat().st_size
            if expected is not None and size != int(expected):
                raise AecliError(f"download of {url} stopped after {size} of {expected} bytes; run the command again")
            if not check(tmp):
                raise AecliError(f"{url} does not match its known checksum; the file was discarded. {hint}".strip())
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise AecliError(f"cannot download {url} ({reason}). {hint}".strip()) from exc
    return dest
