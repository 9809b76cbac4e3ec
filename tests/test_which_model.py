"""Which model a command uses: said on stderr, chosen by run id or `bundled`, listed by `aecli runs`."""

import json
import shutil

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


def test_a_damaged_run_is_skipped_with_a_note(trained):
    good = install_run("vae", trained["vae"])
    bad = good.parent / "zz-damaged"
    shutil.copytree(good, bad)
    config = next(bad.glob("epoch-*")) / "config.json"
    stored = json.loads(config.read_text())
    stored["history"] = [5]
    config.write_text(json.dumps(stored))
    result = invoke("runs")
    assert result.exit_code == 0 and "skipped" in result.stderr and "zz-damaged" in result.stderr
    assert good.name in result.stdout
