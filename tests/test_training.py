import json
import os
import signal
import threading

import pytest
import torch
from safetensors.torch import load_file

from aecli.checkpoint import load_checkpoint
from aecli.errors import AecliError, TrainingInterrupted
from aecli.training import TrainSettings, train


def weights(run_dir):
    return load_file(load_checkpoint(run_dir).path / "model.safetensors")


def test_loss_goes_down_and_files_are_written(tmp_path):
    result = train(TrainSettings(model="vae", dataset="digits", epochs=3), device="cpu", out=tmp_path / "run")
    losses = [row["test_loss"] for row in result.history]
    assert losses[-1] < losses[0]
    assert (tmp_path / "run" / "metrics.csv").read_text().count("\n") == 4
    assert (tmp_path / "run" / "loss.png").stat().st_size > 1000
    assert [p.name for p in (tmp_path / "run").glob("epoch-*")] == ["epoch-0003"]


def test_same_seed_same_weights_and_resume_matches_uninterrupted(tmp_path):
    settings = dict(model="vae", dataset="digits", seed=7)
    train(TrainSettings(**settings, epochs=2), device="cpu", out=tmp_path / "whole")
    train(TrainSettings(**settings, epochs=1), device="cpu", out=tmp_path / "split")
    resumed = train(TrainSettings(**settings, epochs=2), device="cpu", out=tmp_path / "split", resume=True)
    assert [row["epoch"] for row in resumed.history] == [1, 2]
    whole, split = weights(tmp_path / "whole"), weights(tmp_path / "split")
    assert all(torch.equal(whole[key], split[key]) for key in whole)


def test_nan_loss_stops_with_a_clear_error_and_keeps_the_checkpoint(tmp_path, monkeypatch):
    from aecli.models.vae import VAE

    train(TrainSettings(model="vae", dataset="digits", epochs=1), device="cpu", out=tmp_path / "run")
    good = weights(tmp_path / "run")
    finite_loss = VAE.loss
    monkeypatch.setattr(VAE, "loss", lambda self, x, y=None: finite_loss(self, x, y) * float("nan"))
    with pytest.raises(AecliError, match="lower --lr"):
        train(TrainSettings(model="vae", epochs=2), device="cpu", out=tmp_path / "run", resume=True)
    kept = load_checkpoint(tmp_path / "run")
    assert kept.training["epochs_completed"] == 1
    assert all(torch.equal(good[k], v) for k, v in weights(tmp_path / "run").items())


def test_sigint_saves_the_last_epoch_and_says_how_to_resume(tmp_path):
    progress_seen = []

    def interrupt_in_epoch_two(progress):
        if progress.epoch == 2 and not progress_seen:
            progress_seen.append(progress)
            os.kill(os.getpid(), signal.SIGINT)

    assert threading.current_thread() is threading.main_thread()
    with pytest.raises(TrainingInterrupted, match="--resume") as info:
        train(
            TrainSettings(model="vae", dataset="digits", epochs=3),
            device="cpu",
            out=tmp_path / "run",
            on_progress=interrupt_in_epoch_two,
        )
    assert "1 complete epoch" in str(info.value)
    config = json.loads((load_checkpoint(tmp_path / "run").path / "config.json").read_text())
    assert config["training"]["epochs_completed"] == 1
    finished = train(TrainSettings(model="vae", epochs=3), device="cpu", out=tmp_path / "run", resume=True)
    assert finished.history[-1]["epoch"] == 3
