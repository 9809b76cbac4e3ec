"""Real processes, real signals: SIGTERM and kill -9 never lose a run."""

import os
import signal
import subprocess
import sys
import time

import pytest

from aecli.store.checkpoints import load_checkpoint

pytestmark = pytest.mark.slow


def start_training(run_dir, epochs=40):
    command = [sys.executable, "-m", "aecli", "train", "vae", "--dataset", "digits", "--epochs", str(epochs)]
    command += ["--out", str(run_dir), "--device", "cpu"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())


def wait_for_epoch(run_dir, epoch, process, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (run_dir / f"epoch-{epoch:04d}").is_dir():
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    raise AssertionError(f"epoch {epoch} never appeared")


def test_sigterm_saves_and_says_how_to_resume(tmp_path):
    run_dir = tmp_path / "run"
    process = start_training(run_dir)
    wait_for_epoch(run_dir, 1, process)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "SIGTERM" in err and "--resume" in err and "Traceback" not in err
    assert load_checkpoint(run_dir, "vae").training["epochs_completed"] >= 1


def test_kill_9_leaves_a_loadable_checkpoint_and_resume_finishes(tmp_path):
    run_dir = tmp_path / "run"
    process = start_training(run_dir)
    wait_for_epoch(run_dir, 2, process)
    time.sleep(0.3)  # somewhere inside a later epoch, or inside a checkpoint write
    process.kill()
    process.wait()
    done = load_checkpoint(run_dir, "vae").training["epochs_completed"]
    assert done >= 2
    command = [
        sys.executable,
        "-m",
        "aecli",
        "train",
        "vae",
        "--resume",
        "--out",
        str(run_dir),
        "--epochs",
        str(done + 1),
    ]
    finished = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())
    assert finished.returncode == 0, finished.stderr
    assert load_checkpoint(run_dir, "vae").history[-1]["epoch"] == done + 1
    assert not [p for p in run_dir.iterdir() if p.name.startswith(".")]  # no temporary leftovers
