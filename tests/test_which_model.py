"""Which model a command uses: said on stderr, chosen by run id or `bundled`, listed by `aecli runs`."""

import json
import shutil

import pytest
from helpers import install_run, invoke


def test_every_command_that_loads_a_model_says_which(tmp_path, trained):
    run = install_run("vae", trained["vae"])
    result = invoke("sample", "vae", "-n", "4", "-o", tmp_path / "s.png")
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("Using ")]
    assert f"vae/{run.name}" in line and "digits, 1 of 1 epochs" in line
    bundled = invoke("sample", "vae", "--checkpoint", "bundled", "-n", "4", "-o", tmp_path / "b.png")
    assert bundled.exit_code == 0 and "Using the bundled vae (mnist" in bundled.stderr


def test_checkpoint_takes_a_run_id_as_runs_prints_it(tmp_path, trained):
    install_run("vae", trained["vae"])
    (listed,) = [r for r in json.loads(invoke("runs", "vae", "--json").stdout)["runs"] if r["id"] != "bundled"]
    by_id = invoke("sample", "vae", "--checkpoint", listed["id"], "-n", "4", "-o", tmp_path / "s.npy", "--json")
    assert by_id.exit_code == 0, by_id.output
    assert listed["id"] in by_id.stderr
    unknown = invoke("sample", "vae", "--checkpoint", "vae/19990101-000000", "-n", "4", "-o", tmp_path / "x.png")
    assert unknown.exit_code == 1 and "does not exist" in unknown.stderr


def test_an_interrupted_run_is_marked_with_the_command_that_continues_it(tmp_path, trained):
    run = install_run("vae", trained["vae"])
    config = next(run.glob("epoch-*")) / "config.json"
    stored = json.loads(config.read_text())
    stored["training"]["epochs"] = 10  # as a run stopped after 1 of 10 epochs leaves it
    config.write_text(json.dumps(stored))
    (row,) = [r for r in json.loads(invoke("runs", "vae", "--json").stdout)["runs"] if r["id"] != "bundled"]
    assert row["interrupted"] and row["planned_epochs"] == 10
    assert row["resume"] == f"aecli train vae --resume --out {run} --epochs 10"
    text = invoke("runs", "vae").stdout
    assert "1/10" in text and "interrupted; continue with: aecli train vae --resume" in text
    assert "1 of 10 epochs, interrupted" in invoke("reconstruct", "vae", "-n", "4", "-o", tmp_path / "r.png").stderr


def _history_not_a_list(config):
    stored = json.loads(config.read_text())
    stored["history"] = [5]
    config.write_text(json.dumps(stored))


def _loss_as_text(config):
    stored = json.loads(config.read_text())
    stored["history"][-1]["test_loss"] = "low"
    config.write_text(json.dumps(stored))


def _config_too_large(config):  # runs once read such a file whole: 300 MB took 7 GB
    config.write_text('{"pad": "' + "a" * 5_000_000 + '"}')


@pytest.mark.parametrize("damage", [_history_not_a_list, _loss_as_text, _config_too_large])
def test_a_damaged_run_is_skipped_with_a_note(trained, damage):
    good = install_run("vae", trained["vae"])
    bad = good.parent / "zz-damaged"
    shutil.copytree(good, bad)
    damage(next(bad.glob("epoch-*")) / "config.json")
    result = invoke("runs")
    assert result.exit_code == 0 and "skipped" in result.stderr and "zz-damaged" in result.stderr
    assert good.name in result.stdout


def test_model_names_are_checked_first_in_any_case_with_a_suggestion(tmp_path):
    from aecli import api
    from aecli.models import MODELS

    assert api.model_names() == MODELS.names()  # the light list is the registry's
    typo = invoke("train", "vea", "--dataset", "digits")
    assert typo.exit_code == 2 and "did you mean vae?" in typo.stderr
    upper = invoke("sample", "VAE", "-n", "2", "-o", tmp_path / "s.png")
    assert upper.exit_code == 0, upper.output


def test_a_data_dir_that_does_not_exist_is_said_so(tmp_path):
    result = invoke("train", "vae", "--dataset", "mnist", "--data-dir", tmp_path / "nowhere", "--epochs", "1")
    assert result.exit_code == 1 and "does not exist" in result.stderr
    assert not (tmp_path / "home").exists() or not any((tmp_path / "home").rglob("epoch-*"))


def test_traverse_labels_read_as_numbers_and_tsne_classes_as_names(tmp_path, trained):
    from aecli import api

    ckpt = api.load("vae", trained["vae"])
    result = api.traverse(ckpt, dims="0,3", radius=2, steps=7)
    assert result.col_labels == ["-2", "-1.33", "-0.67", "0", "+0.67", "+1.33", "+2"]
    out = tmp_path / "t.csv"
    assert invoke("tsne", "vae", "--checkpoint", trained["vae"], "-n", "40", "-o", out).exit_code == 0
    labels = {line.split(",")[-1] for line in out.read_text().splitlines()[1:]}
    assert labels <= {str(d) for d in range(10)} and not any("." in label for label in labels)
    repeated = invoke("traverse", "vae", "--checkpoint", trained["vae"], "--dims", "1,1", "-o", tmp_path / "x.png")
    assert repeated.exit_code == 2 and "more than once" in repeated.stderr


def test_resume_takes_the_command_as_typed_and_names_each_option_that_differs(tmp_path):
    first = ["train", "vae", "--dataset", "digits", "--seed", "0", "--out", tmp_path / "run9"]
    assert invoke(*first, "--epochs", "1").exit_code == 0
    again = invoke(*first, "--epochs", "2", "--resume")  # the up arrow, then --resume
    assert again.exit_code == 0, again.output
    other = ["train", "vae", "--dataset", "digits", "--seed", "5", "--width", "16", "--out", tmp_path / "run9"]
    differ = invoke(*other, "--epochs", "3", "--resume")
    assert differ.exit_code == 2
    assert "--seed (the run's: 0)" in differ.stderr and "--width (the run's: 8)" in differ.stderr


def test_pictures_of_the_test_set_spread_over_classes_and_people():
    import torch

    from aecli.inference.pictures import shown_test_images

    labels = torch.tensor([0] * 50 + [1] * 30 + [2] * 20)  # a split stored class by class
    chosen = shown_test_images(labels, 9, len(labels))
    assert labels[chosen].tolist() == [0, 1, 2] * 3  # every class in turn, not nine of the first
    spread = shown_test_images(None, 4, 100)  # no classes: evenly over a split stored person by person
    assert spread.tolist() == [0, 33, 66, 99]
    assert shown_test_images(labels, 8, len(labels)).tolist() == shown_test_images(labels, 8, len(labels)).tolist()


def test_the_data_summary_says_what_limit_leaves():
    from aecli.data import load_dataset

    data = load_dataset("digits", limit=100)
    assert data.notes[-1] == "--limit 100: 100 train / 100 test images used"


def test_json_help_says_what_it_replaces():
    for command in ("eval", "runs"):
        text = " ".join(invoke(command, "--help").stdout.split())
        assert "written paths" not in text and "--json Print one JSON object instead of the" in text
