import json
import os
import signal
import threading

import pytest
import torch
from safetensors.torch import load_file

from aecli.data import DataRecipe
from aecli.device import bf16_is_native, use_bf16
from aecli.errors import AecliError, TrainingInterrupted, UsageError
from aecli.store.checkpoints import load_checkpoint
from aecli.train.loop import TrainSettings, set_learning_rate, train


def weights(run_dir):
    return load_file(load_checkpoint(run_dir).path / "model.safetensors")


def test_loss_goes_down_and_files_are_written(tmp_path):
    result = train(TrainSettings(model="vae", data=DataRecipe("digits"), epochs=3), device="cpu", out=tmp_path / "run")
    losses = [row["test_loss"] for row in result.history]
    assert losses[-1] < losses[0]
    assert (tmp_path / "run" / "metrics.csv").read_text().count("\n") == 4
    assert (tmp_path / "run" / "loss.png").stat().st_size > 1000
    assert [p.name for p in (tmp_path / "run").glob("epoch-*")] == ["epoch-0003"]
    umask = os.umask(0o022)
    os.umask(umask)
    assert (tmp_path / "run" / "epoch-0003").stat().st_mode & 0o777 == 0o777 & ~umask  # not private
    assert (tmp_path / "run" / "epoch-0003" / "model.safetensors").stat().st_mode & 0o777 == 0o666 & ~umask


def interrupt_at(epoch_to_stop: int):
    """A progress callback that sends SIGINT to this process once, early in that epoch."""
    sent = []

    def callback(progress):
        if progress.epoch == epoch_to_stop and not sent:
            sent.append(progress)
            os.kill(os.getpid(), signal.SIGINT)

    return callback


@pytest.mark.slow  # three trainings of three epochs
def test_same_seed_same_weights_and_resume_matches_uninterrupted(tmp_path):
    settings = dict(model="vae", data=DataRecipe("digits"), seed=7, epochs=3)
    train(TrainSettings(**settings), device="cpu", out=tmp_path / "whole")
    with pytest.raises(TrainingInterrupted):
        train(TrainSettings(**settings), device="cpu", out=tmp_path / "split", on_progress=interrupt_at(2))
    resumed = train(TrainSettings(**settings), device="cpu", out=tmp_path / "split", resume=True)
    assert [row["epoch"] for row in resumed.history] == [1, 2, 3]
    whole, split = weights(tmp_path / "whole"), weights(tmp_path / "split")
    assert all(torch.equal(whole[key], split[key]) for key in whole)
    train(TrainSettings(**settings), device="cpu", out=tmp_path / "again")
    again = weights(tmp_path / "again")
    assert all(torch.equal(whole[key], again[key]) for key in whole)


def test_nan_loss_stops_with_a_clear_error_and_keeps_the_checkpoint(tmp_path, monkeypatch):
    from aecli.models.vae import VAE

    train(TrainSettings(model="vae", data=DataRecipe("digits"), epochs=1), device="cpu", out=tmp_path / "run")
    good = weights(tmp_path / "run")
    finite_loss = VAE.loss
    monkeypatch.setattr(VAE, "loss", lambda self, x, y=None: finite_loss(self, x, y) * float("nan"))
    with pytest.raises(AecliError, match="lower --lr"):
        train(TrainSettings(model="vae", epochs=2), device="cpu", out=tmp_path / "run", resume=True)
    kept = load_checkpoint(tmp_path / "run")
    assert kept.training["epochs_completed"] == 1
    assert all(torch.equal(good[k], v) for k, v in weights(tmp_path / "run").items())


def test_sigint_saves_the_last_epoch_and_says_how_to_resume(tmp_path):
    assert threading.current_thread() is threading.main_thread()
    with pytest.raises(TrainingInterrupted, match="--resume") as info:
        train(
            TrainSettings(model="vae", data=DataRecipe("digits"), epochs=3),
            device="cpu",
            out=tmp_path / "run",
            on_progress=interrupt_at(2),
        )
    assert "1 complete epoch" in str(info.value)
    config = json.loads((load_checkpoint(tmp_path / "run").path / "config.json").read_text())
    assert config["training"]["epochs_completed"] == 1
    finished = train(TrainSettings(model="vae", epochs=3), device="cpu", out=tmp_path / "run", resume=True)
    assert finished.history[-1]["epoch"] == 3


def test_precision_choice_follows_the_hardware():
    cpu, mps = torch.device("cpu"), torch.device("mps")
    assert use_bf16("fp32", cpu) is False
    assert use_bf16("bf16", cpu) is True
    assert use_bf16("auto", cpu) is bf16_is_native(cpu)
    assert use_bf16("auto", mps) is False
    with pytest.raises(UsageError, match="fp32 or auto"):
        use_bf16("bf16", mps)


@pytest.mark.slow  # emulated bf16 is slow on CPUs without it
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_both_precisions_learn_and_save_float32_weights(tmp_path, precision):
    settings = TrainSettings(model="cvae", data=DataRecipe("digits"), epochs=2, precision=precision)
    result = train(settings, device="cpu", out=tmp_path / "run")
    losses = [row["test_loss"] for row in result.history]
    assert losses[-1] < losses[0]
    assert {t.dtype for t in weights(tmp_path / "run").values()} == {torch.float32}
    assert json.loads((result.checkpoint / "config.json").read_text())["training"]["precision"] == precision


def test_learning_rate_warms_up_holds_then_decays():
    optimizer = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=1.0)

    def rate(progress):
        set_learning_rate(optimizer, 2.0, progress)
        return optimizer.param_groups[0]["lr"]

    assert rate(0.0) == pytest.approx(0.2)  # a tenth at the first step
    assert rate(0.025) == pytest.approx(1.1)
    assert rate(0.05) == rate(0.3) == rate(0.5) == pytest.approx(2.0)
    assert rate(0.75) == pytest.approx(2.0 * (0.05 + 0.95 * 0.5))
    assert rate(1.0) == pytest.approx(0.1)
