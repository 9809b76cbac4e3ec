"""The beta-VAE: one model file, and every command works with it."""

import json

import pytest
import torch
from helpers import invoke

from aecli import api
from aecli.models import create_model


@pytest.fixture(scope="module")
def betavae_run(tmp_path_factory):
    from aecli.data import DataRecipe
    from aecli.train.loop import TrainSettings, train

    out = tmp_path_factory.mktemp("betavae") / "run"
    settings = TrainSettings("betavae", DataRecipe("digits"), epochs=1, seed=0, model_options={"beta": 4.0})
    return train(settings, device="cpu", out=out).run_dir


def test_beta_weights_the_kl_term_in_training_and_nowhere_else():
    from aecli.data import DataSpec
    from aecli.data.base import DIGITS

    spec = DataSpec("digits", 1, 28, class_names=DIGITS)
    plain, heavy = create_model("betavae", spec, beta=1.0), create_model("betavae", spec, beta=4.0)
    heavy.load_state_dict(plain.state_dict())
    x = torch.rand(8, 1, 28, 28)
    torch.manual_seed(0)
    reconstruction, kl = plain.elbo_terms(x)
    torch.manual_seed(0)
    assert torch.allclose(heavy.loss(x), reconstruction + 4.0 * kl, rtol=1e-5)
    torch.manual_seed(0)
    assert torch.allclose(heavy.test_loss(x), reconstruction + kl, rtol=1e-5)  # test figures: the true -ELBO
    with pytest.raises(api.UsageError, match="beta must lie in"):
        create_model("betavae", spec, beta=-1.0)


@pytest.mark.parametrize(
    "command",
    [
        ["sample", "-n", "4", "-o", "{tmp}/s.npy"],
        ["reconstruct", "-n", "4", "-o", "{tmp}/r.npy"],
        ["interpolate", "-n", "4", "-o", "{tmp}/i.npy"],
        ["traverse", "--dims", "0,1", "--steps", "3", "-o", "{tmp}/t.npy"],
        ["tsne", "-n", "40", "-o", "{tmp}/t.csv"],
        ["encode", "--split", "test", "-o", "{tmp}/c.csv"],
        ["score", "--split", "test", "-o", "{tmp}/s.csv"],
    ],
    ids=lambda c: c[0],
)
def test_every_command_works_with_the_betavae(tmp_path, betavae_run, command):
    name, *rest = command
    args = [a.replace("{tmp}", str(tmp_path)) for a in rest]
    result = invoke(name, "betavae", "--checkpoint", betavae_run, *args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / args[-1].rsplit("/", 1)[-1]).stat().st_size > 0


def test_eval_reports_the_betavaes_true_likelihood(betavae_run):
    ckpt = api.load("betavae", betavae_run, device="cpu")
    metrics = api.evaluate(ckpt, k=5, samples=False, test_images=50)  # samples: see test_cli's judged eval
    assert metrics["model"] == "betavae" and metrics["neg_elbo"] > 0 and "iwae_nll" in metrics
    assert json.dumps(metrics["protocols"])
