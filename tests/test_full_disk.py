"""A full disk: one clear line, exit 1, and nothing under the requested name.

The kernel refuses the writes for real: a child process runs with a file-size limit
(RLIMIT_FSIZE, so every write past it fails with EFBIG), and where this machine allows mounting,
on a 256 KiB tmpfs that fills up (ENOSPC).
"""

import errno
import os
import resource
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from aecli.errors import AecliError
from aecli.fileio import atomic_path

pytestmark = pytest.mark.slow


def limited_run(args: list[str], max_file_bytes: int) -> subprocess.CompletedProcess:
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write instead of killing the process
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))

    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "aecli", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, preexec_fn=limit, timeout=300)


def assert_one_clear_line(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "free some space" in errors[0], result.stderr


def test_sample_onto_a_full_disk_leaves_no_file(tmp_path, trained):
    out = tmp_path / "out"
    out.mkdir()
    result = limited_run(
        ["sample", "vae", "--checkpoint", str(trained["vae"]), "-n", "64", "-o", str(out / "s.png")], 2000
    )
    assert_one_clear_line(result)
    assert list(out.iterdir()) == []  # neither s.png nor a temporary file


def test_training_onto_a_full_disk_keeps_no_half_checkpoint(tmp_path):
    run_dir = tmp_path / "run"
    args = ["train", "vae", "--dataset", "digits", "--epochs", "1", "--device", "cpu", "--out", str(run_dir)]
    result = limited_run(args, 20_000)  # the weights (about 3.6 MB) cannot be written
    assert_one_clear_line(result)
    assert not list(run_dir.glob("epoch-*")) and not list(run_dir.glob(".epoch-*"))


def test_a_write_failing_with_enospc_becomes_a_clear_error(tmp_path):
    target = tmp_path / "x.npy"
    with pytest.raises(AecliError, match="disk is full.*free some space"), atomic_path(target) as tmp:
        tmp.write_bytes(b"partial")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def tiny_disk(tmp_path):
    mount_point = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_point)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("this machine does not allow mounting a tmpfs; the RLIMIT_FSIZE tests cover the same path")
    yield Path(mount_point)
    subprocess.run(["umount", str(mount_point)], check=True)


def test_a_really_full_tmpfs(tiny_disk, trained):
    result = limited_run(
        ["sample", "vae", "--checkpoint", str(trained["vae"]), "-n", "256", "-o", str(tiny_disk / "s.npy")], 2**40
    )
    assert_one_clear_line(result)
    assert "disk is full" in result.stderr
    assert list(tiny_disk.iterdir()) == []
