import json
import pickle

import pytest
import torch
from helpers import Evil

from aecli.data import DataRecipe, DataSpec
from aecli.data.base import DIGITS
from aecli.errors import AecliError
from aecli.models import create_model
from aecli.store.checkpoints import load_checkpoint, load_trainer_state, save_checkpoint

SPEC = DataSpec(name="digits", channels=1, image_size=28, class_names=DIGITS, light_on_dark=True)
RECIPE = DataRecipe("digits")


def saved(tmp_path, name="vae", **options):
    model = create_model(name, SPEC, **options)
    path = save_checkpoint(tmp_path, model, SPEC, RECIPE, {"epochs_completed": 1}, [{"epoch": 1}])
    return model, path


def test_round_trip_gives_bit_identical_outputs(tmp_path):
    model, path = saved(tmp_path, "cvae")
    loaded = load_checkpoint(tmp_path, "cvae")
    assert loaded.path == path and loaded.spec == SPEC
    x, y = torch.rand(4, 1, 28, 28), torch.tensor([0, 1, 2, 3])
    model.eval()
    with torch.no_grad():
        assert torch.equal(model.reconstruct(x, y), loaded.model.reconstruct(x, y))


def test_checkpoints_from_before_the_hidden_setting_load_with_256_units(tmp_path):
    model, path = saved(tmp_path, hidden=256)
    assert create_model("vae").config.hidden == 128  # the default now differs from the old fixed size
    config = json.loads((path / "config.json").read_text())
    del config["model_config"]["hidden"]
    (path / "config.json").write_text(json.dumps(config))
    loaded = load_checkpoint(tmp_path, "vae").model
    assert loaded.config.hidden == 256
    z = torch.randn(2, loaded.config.latent_dim)
    with torch.no_grad():
        assert torch.equal(model.decode(z), loaded.decode(z))


def test_pickle_files_are_refused_and_never_run(tmp_path):
    marker = tmp_path / "pwned"

    evil = tmp_path / "model.pt"
    evil.write_bytes(pickle.dumps(Evil(marker)))
    with pytest.raises(AecliError, match="never unpickles"):
        load_checkpoint(evil, "vae")
    folder = tmp_path / "ckpt"
    folder.mkdir()
    (folder / "model.pt").write_bytes(pickle.dumps(Evil(marker)))
    with pytest.raises(AecliError, match="config.json"):
        load_checkpoint(folder, "vae")
    assert not marker.exists()


def test_resume_refuses_a_pickled_trainer_state_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"

    _, path = saved(tmp_path)
    torch.save({"optimizer": Evil(marker)}, path / "trainer.pt")
    with pytest.raises(AecliError, match="cannot resume"):
        load_trainer_state(load_checkpoint(path))
    assert not marker.exists()


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: "{not json", "not valid JSON"),
        (lambda c: json.dumps({**c, "format": 99}), "upgrade aecli"),
        (lambda c: json.dumps({k: v for k, v in c.items() if k != "format"}), "format version"),
        (lambda c: json.dumps({**c, "model_config": {**c["model_config"], "latent_dim": 7}}), "does not match"),
        (lambda c: json.dumps({**c, "model_config": {"bogus": 1}}), "malformed"),
    ],
)
def test_bad_configs_are_clear_errors(tmp_path, edit, message):
    _, path = saved(tmp_path)
    config = json.loads((path / "config.json").read_text())
    (path / "config.json").write_text(edit(config))
    with pytest.raises(AecliError, match=message):
        load_checkpoint(path, "vae")


def test_wrong_model_and_truncated_weights(tmp_path):
    _, path = saved(tmp_path)
    with pytest.raises(AecliError, match="holds a vae model, not cvae"):
        load_checkpoint(path, "cvae")
    weights = path / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(AecliError, match="cannot read"):
        load_checkpoint(path, "vae")


def test_missing_checkpoint(tmp_path):
    with pytest.raises(AecliError, match="does not exist"):
        load_checkpoint(tmp_path / "nowhere", "vae")
