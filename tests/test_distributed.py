"""torchrun: data-parallel training on the CPU with gloo, rank 0 the only writer."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from aecli.train.distributed import SINGLE, Group, shard

pytestmark = pytest.mark.slow  # starts torchrun jobs


def test_each_rank_gets_its_own_equal_shard():
    import torch

    order = torch.randperm(11, generator=torch.Generator().manual_seed(0))
    parts = [shard(order, Group(rank, 3)) for rank in range(3)]
    assert [len(p) for p in parts] == [3, 3, 3]  # lockstep: the same number of steps on every rank
    seen = torch.cat(parts).tolist()
    assert len(set(seen)) == 9 and set(seen) <= set(order.tolist())  # no image twice in an epoch
    assert torch.equal(shard(order, SINGLE), order)


DIGITS = ("--dataset", "digits", "--seed", "0")


def torchrun(tmp_path, *args: str, processes: int = 2, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "AECLI_HOME": str(tmp_path / "home"), "AECLI_DATA": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(processes)]
    command += ["-m", "aecli", "train", "vae", *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, **kwargs)


def test_two_processes_train_one_model_and_rank_0_alone_writes(tmp_path):
    process = torchrun(tmp_path, *DIGITS, "--epochs", "2", "--out", str(tmp_path / "run"), "--json")
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err
    assert "UserWarning" not in err, err  # nothing for a user to worry about (DDP's bucket strides)
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1, out  # the result is printed once
    result = json.loads(lines[0])
    assert result["processes"] == 2 and result["epochs"] == 2
    assert result["images_per_second"] > 0 and result["test_loss"] > 0
    # the weights both ranks ended with are checked equal before the run ends (check_replicas)
    from aecli import api

    ckpt = api.load("vae", tmp_path / "run", device="cpu")  # loads in a single process
    assert len(ckpt.history) == 2
    assert sorted(p.name for p in (tmp_path / "run").iterdir() if p.name.startswith("epoch-")) == ["epoch-0002"]
    resumed = torchrun(tmp_path, "--epochs", "3", "--out", str(tmp_path / "run"), "--resume", "--json")
    out, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err
    assert json.loads(out)["epochs"] == 3


def _worker_pids(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == parent:
                    found.append(int(entry))
            except OSError:
                continue
    return found


def test_more_processes_than_training_images_is_said_once_by_rank_0(tmp_path):
    process = torchrun(tmp_path, *DIGITS, "--limit", "2", "--epochs", "1", "--out", str(tmp_path / "r"), processes=3)
    _, err = process.communicate(timeout=300)
    assert process.returncode != 0
    errors = [line for line in err.splitlines() if line.startswith("Error:")]
    assert errors == [
        "Error: digits has 2 training images for 3 torchrun processes; start at most 2 (--nproc-per-node) or add images"
    ], err
    assert "ZeroDivisionError" not in err and not (tmp_path / "r").exists()


def test_killing_one_rank_fails_the_job_with_one_clear_line(tmp_path):
    run = tmp_path / "run"
    process = torchrun(tmp_path, *DIGITS, "--epochs", "200", "--out", str(run))
    try:
        deadline = time.monotonic() + 300
        while not list(run.glob("epoch-*/config.json")) and time.monotonic() < deadline:
            time.sleep(0.2)
        workers = _worker_pids(process.pid)
        assert len(workers) == 2, workers
        os.kill(workers[-1], signal.SIGKILL)
        _, err = process.communicate(timeout=180)  # a hang would time out here
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode != 0
    errors = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, err
    frames = [line for line in err.splitlines() if line.strip().startswith("File ")]
    assert not [line for line in frames if "/aecli/" in line], err  # no traceback through aecli's code
    from aecli import api

    assert api.load("vae", run, device="cpu").history  # the complete epochs are kept


def test_a_dead_peer_is_reported_in_one_line_without_gloos_source_location():
    from aecli.train.distributed import lost_peer

    error = lost_peer(
        RuntimeError("[/src/gloo/transport/tcp/pair.cc:545] Read error 127.0.0.1: Connection reset by peer\nmore")
    )
    assert str(error).startswith("another training process of this torchrun job stopped (Read error 127.0.0.1")
    assert "\n" not in str(error) and "--resume" in str(error) and error.from_any_rank


def test_a_torchrun_worker_ends_without_the_interpreters_shutdown(monkeypatch):
    """A worker that joined a job leaves through os._exit with the command's exit code (gloo's threads,
    kept alive by DDP, could otherwise abort it while Python finalizes); a plain run exits as usual."""
    from aecli.cli.app import main
    from aecli.train import distributed

    class Exited(Exception):
        pass

    codes = []

    def fake_exit(code):
        codes.append(code)
        raise Exited

    monkeypatch.setattr(distributed.os, "_exit", fake_exit)
    monkeypatch.setattr(sys, "argv", ["aecli", "sample", "nomodel"])
    with pytest.raises(SystemExit) as plain:
        main()
    assert plain.value.code == 2 and codes == []
    monkeypatch.setattr(distributed, "joined", True)
    with pytest.raises(Exited):
        main()
    assert codes == [2]
