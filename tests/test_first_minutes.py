"""What a newcomer meets first: help with examples, one-line errors, progress off a terminal, runs."""

import json

import pytest
from helpers import install_run, invoke

COMMANDS = ["train", "sample", "generate", "reconstruct", "interpolate", "smile", "tsne", "eval", "traverse", "runs"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_help_ends_with_examples(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0
    tail = result.stdout.rstrip().splitlines()
    examples = [line for line in tail[tail.index("  Examples:") :] if line.strip().startswith("aecli ")]
    assert 2 <= len(examples) <= 3 and tail[-1].strip().startswith("aecli ")


def test_shell_completion_is_offered():
    result = invoke("--help")
    assert "--install-completion" in result.stdout and "--show-completion" in result.stdout


def test_help_shows_the_model_defaults_from_their_configs():
    from aecli.models import MODELS

    text = " ".join(invoke("train", "--help").stdout.split())
    for name in MODELS.names():  # every registered model, with what its own classes say
        cls = MODELS.get(name)
        assert f"{name}: --dataset {cls.default_dataset}, --batch-size {cls.default_batch_size}" in text
        assert f"--lr {cls.default_lr:g}" in text
        for option, field in cls.Config.options().items():
            low, high = field.metadata["range"]
            assert f"--{option.replace('_', '-')} {field.default} ({low} to {high})" in text


def test_training_off_a_terminal_prints_one_line_per_epoch(tmp_path):
    result = invoke("train", "vae", "--dataset", "digits", "--epochs", "2", "--out", tmp_path / "r", "--json")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("epoch ") and "ETA" in line]
    assert len(lines) == 2 and "test loss" in lines[0] and "images/s" in lines[0]
    summary = json.loads(result.stdout)
    assert isinstance(summary["seed"], int)  # drawn, reported, and stored with the run
    config = json.loads((tmp_path / "r" / "epoch-0002" / "config.json").read_text())
    assert config["training"]["seed"] == summary["seed"]


def test_sample_reports_the_seed_it_drew(trained, tmp_path):
    first = json.loads(
        invoke("sample", "vae", "--checkpoint", trained["vae"], "-o", tmp_path / "a.npy", "--json").stdout
    )
    again = invoke("sample", "vae", "--checkpoint", trained["vae"], "--seed", first["seed"], "-o", tmp_path / "b.npy")
    assert again.exit_code == 0
    assert (tmp_path / "a.npy").read_bytes() == (tmp_path / "b.npy").read_bytes()


def test_runs_lists_trained_runs_and_marks_the_default(trained, isolated_home):
    listed = json.loads(invoke("runs", "--json").stdout)["runs"]  # an empty home: the bundled models
    assert {(r["model"], r["id"], r["default"]) for r in listed} == {
        ("vae", "bundled", True),
        ("cvae", "bundled", True),
    }
    install_run("vae", trained["vae"])
    install_run("cvae", trained["cvae"])
    listed = json.loads(invoke("runs", "--json").stdout)
    trained_runs = [r for r in listed["runs"] if r["id"] != "bundled"]
    assert {r["model"] for r in trained_runs} == {"vae", "cvae"} and all(r["default"] for r in trained_runs)
    assert all(r["dataset"] == "digits" and r["epochs"] == 1 for r in trained_runs)
    assert not any(r["default"] for r in listed["runs"] if r["id"] == "bundled")
    assert "*" in invoke("runs", "vae").stdout


def test_close_attribute_names_are_suggested():
    from aecli.data import DataSpec
    from aecli.errors import UsageError
    from aecli.inference.attributes import find_attribute

    spec = DataSpec("lfw", 1, 64, attribute_names=("Male", "Mustache", "Smiling"))
    with pytest.raises(UsageError, match="did you mean Mustache"):
        find_attribute(spec, "Moustache")


def test_reconstruction_rows_are_labelled_and_grids_are_not_ragged(trained, tmp_path):
    from aecli.store.outputs import grid_columns

    assert grid_columns(64) == 8 and grid_columns(12) in (3, 4, 6) and 12 % grid_columns(12) == 0
    result = invoke("reconstruct", "vae", "--checkpoint", trained["vae"], "-n", "8", "-o", tmp_path / "r.png")
    assert result.exit_code == 0
    from PIL import Image

    with Image.open(tmp_path / "r.png") as image:  # a label margin on the left of the two rows
        assert image.width > 8 * 30 * 4


@pytest.mark.slow  # trains a judge: tens of seconds
def test_the_quick_start_draws_digits_a_judge_recognises(tmp_path):
    """README's first command: `aecli train cvae --dataset digits --epochs 10 --kl-warmup 1 && ...`."""
    import numpy as np

    assert (
        invoke("train", "cvae", "--dataset", "digits", "--epochs", "10", "--kl-warmup", "1", "--seed", "0").exit_code
        == 0
    )
    assert invoke("generate", "cvae", "--digit", "all", "-o", tmp_path / "digits.png").exit_code == 0
    assert (tmp_path / "digits.png").stat().st_size > 10_000
    drawn = invoke("generate", "cvae", "--digit", "all", "-n", "10", "--seed", "0", "-o", tmp_path / "d.npy")
    assert drawn.exit_code == 0
    rows = np.load(tmp_path / "d.npy").reshape(10, 10, -1)  # a row per digit, a column per latent
    assert rows.std(axis=1).mean() > 0.01  # columns differ in style: a collapsed latent gave 0.005
    judged = invoke("eval", "cvae", "-k", "2", "--json")  # aecli's judge, trained on the digits' training split
    metrics = json.loads(judged.stdout)
    assert metrics["judge_test_accuracy"] > 0.9
    assert metrics["gan_test_min"] >= 0.9, metrics["gan_test"]  # every digit reads as asked


def test_small_datasets_get_smaller_batches():
    from aecli.models import MODELS
    from aecli.train.settings import default_batch_size

    vae = MODELS.get("vae")
    assert default_batch_size(vae, 60_000) == 96  # MNIST: the model's own
    assert default_batch_size(vae, 1_437) == 20  # scikit-learn's digits: 72 steps per epoch
    assert default_batch_size(vae, 100) == 16
    cvae = MODELS.get("cvae")  # keeps the batch and rate its bundled model was trained with
    assert (default_batch_size(cvae, 60_000), cvae.default_lr) == (64, 3e-3)
    assert vae.default_lr == 4e-3


@pytest.mark.slow  # both examples end to end, with the judge
def test_the_python_api_example_reproduces_the_shell_examples(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    example = Path(__file__).resolve().parents[1] / "examples" / "python_api.py"
    command = [sys.executable, str(example), "--dataset", "digits", "--epochs", "2", "--out", str(tmp_path / "out")]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    made = {p.name for p in (tmp_path / "out").iterdir()}
    pictures = {"samples.png", "interpolation.png", "tsne.png", "digits.png", "sevens.png", "compare.png"}
    assert pictures <= made and "reconstructions.npy" in made
    numbers = json.loads((tmp_path / "out" / "numbers.json").read_text())
    assert numbers["vae_eval"]["neg_elbo"] > 0 and len(numbers["cvae_eval"]["gan_test"]) == 10
    assert set(numbers["compare"]) == {"vae", "cvae"}


def test_the_offline_hint_names_options_that_exist(monkeypatch):
    import re

    monkeypatch.setenv("AECLI_MNIST_URL", "http://127.0.0.1:9/")  # nothing listens there: offline
    result = invoke("train", "vae", "--epochs", "1")
    assert result.exit_code == 1
    error = result.stderr.splitlines()[-1]
    help_text = invoke("train", "--help").stdout
    options = re.findall(r"(?<![\w-])--[a-z][a-z-]+", error)
    assert {"--data-dir", "--dataset"} <= set(options), error
    for option in options:
        assert option in help_text, (option, error)


def test_threads_must_be_a_positive_count():
    result = invoke("train", "vae", "--dataset", "digits", "--threads", "0")
    assert result.exit_code == 2 and "--threads" in result.stderr
    assert "--threads" in invoke("train", "--help").stdout


def test_a_training_beside_another_takes_its_share_of_the_threads(isolated_home):
    import fcntl
    import os

    import torch

    from aecli.paths import data_cache
    from aecli.train.cores import CoreShare

    running = data_cache() / "running"
    running.mkdir(parents=True)
    (running / "999999.lock").write_text("")  # left by a killed run: nobody holds it
    other = os.open(running / "999998.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(other, fcntl.LOCK_EX)  # a live training
    full = torch.get_num_threads()
    try:
        with CoreShare(automatic=True):
            assert torch.get_num_threads() == max(1, full // 2)
            assert not (running / "999999.lock").exists()  # the stale one is cleared
        assert torch.get_num_threads() == full  # restored when the run ends
        os.close(other)  # the other training ends
        other = None
        with CoreShare(automatic=True):
            assert torch.get_num_threads() == full  # alone: every core
    finally:
        if other is not None:
            os.close(other)
        torch.set_num_threads(full)
