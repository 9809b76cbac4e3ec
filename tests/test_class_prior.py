"""A mixture prior whose weights each class sets, p(z | class): its density, its draws, the cvae that
learns it, and its checkpoints."""

import json
import math

import pytest
import torch
from helpers import invoke
from torch import distributions as D
from torch.nn import functional as F

from aecli.data import DataRecipe, DataSpec
from aecli.data.base import DIGITS
from aecli.errors import UsageError
from aecli.inference import class_latents, generator
from aecli.models import create_model
from aecli.models.latent import GaussianMixture, StandardNormal
from aecli.store.checkpoints import load_checkpoint, save_checkpoint

SPEC = DataSpec(name="digits", channels=1, image_size=28, class_names=DIGITS, light_on_dark=True)


def class_mixture(means, logvars, logits) -> GaussianMixture:
    prior = GaussianMixture(len(means[0]), len(means), classes=len(logits))
    with torch.no_grad():
        prior.means.copy_(torch.as_tensor(means))
        prior.logvars.copy_(torch.as_tensor(logvars))
        prior.logits.copy_(torch.as_tensor(logits))
    return prior


def reference(prior: GaussianMixture, c: int) -> D.Distribution:
    spread = D.Independent(D.Normal(prior.means, torch.exp(0.5 * prior.logvars)), 1)
    return D.MixtureSameFamily(D.Categorical(logits=prior.logits[c]), spread)


def test_each_class_density_is_its_own_mixture_and_no_class_their_average():
    torch.manual_seed(0)
    prior = class_mixture(torch.randn(5, 3), torch.randn(5, 3) * 0.5, torch.randn(4, 5) * 2)
    z = torch.randn(6, 7, 3) * 2  # m x n codes, as the importance-weighted bound passes them
    classes = torch.randint(4, (6, 7))
    ours = prior.log_prob(z, F.one_hot(classes, 4).float())
    theirs = torch.stack([reference(prior, c).log_prob(z) for c in range(4)], dim=-1)
    assert torch.allclose(ours, theirs.gather(-1, classes.unsqueeze(-1)).squeeze(-1), atol=1e-5)
    assert torch.allclose(prior.log_prob(z), torch.logsumexp(theirs, dim=-1) - math.log(4), atol=1e-5)


def test_draws_come_from_the_class_asked_and_one_seed_gives_every_class_the_same_noise():
    far = [[-10.0], [10.0]]
    prior = class_mixture(far, [[0.0], [0.0]], [[math.log(0.9), math.log(0.1)], [math.log(0.1), math.log(0.9)]])
    for labels, left in ((torch.zeros(20_000, dtype=torch.long), 0.9), (torch.ones(20_000, dtype=torch.long), 0.1)):
        z = prior.sample(20_000, generator(0), 1.0, labels)
        assert abs((z < 0).float().mean().item() - left) < 0.01
    assert abs((prior.sample(20_000, generator(0), 1.0) < 0).float().mean().item() - 0.5) < 0.015

    model = create_model("cvae", SPEC, latent_dim=1, prior_components=2, class_prior=1)
    with torch.no_grad():
        model.prior.means.copy_(torch.tensor(far))
        model.prior.logits.copy_(torch.tensor([[5.0, -5.0]] * 5 + [[-5.0, 5.0]] * 5))
    zeros, nines = class_latents(model, 0, 500, 3, 1.0), class_latents(model, 9, 500, 3, 1.0)
    assert (zeros < 0).float().mean() > 0.95 and (nines > 0).float().mean() > 0.95
    noise = lambda z: z - 10 * z.sign()  # noqa: E731 - the draw around whichever component was chosen
    assert torch.allclose(noise(zeros), noise(nines), atol=1e-5)


def test_priors_shared_by_every_class_draw_the_same_whatever_the_labels():
    labels = torch.arange(16) % 10
    for prior in (GaussianMixture(4, 6), StandardNormal(4)):
        assert torch.equal(prior.sample(16, generator(1), 0.8, labels), prior.sample(16, generator(1), 0.8))
        z = torch.randn(16, 4)
        assert torch.equal(prior.log_prob(z, F.one_hot(labels, 10).float()), prior.log_prob(z))


def test_the_cvae_learns_a_prior_per_class_and_scores_with_its_class():
    torch.manual_seed(0)
    model = create_model("cvae", SPEC, prior_components=20, class_prior=1)
    assert model.prior.logits.shape == (10, 20) and model.prior.means.shape == (20, 8)
    x, y = (torch.rand(8, 1, 28, 28) > 0.7).float(), torch.arange(8) % 5
    model.loss(x, y).mean().backward()
    moved = model.prior.logits.grad.abs().sum(1)
    assert (moved[:5] > 0).all() and (moved[5:] == 0).all()  # only the classes in the batch
    model.eval()
    with torch.no_grad():
        model.prior.logits.normal_(0, 3)  # classes that disagree, so a wrong label would show
        mu, logvar = model.encode_distribution(x, y)
        at_mean = model.log_weights(x, y, mu, logvar, torch.zeros(1, *mu.shape))[0]
        assert torch.allclose(-at_mean, model.score(x, y, "elbo"), rtol=1e-5)
        torch.manual_seed(0)
        elbo = torch.stack([model.test_loss(x, y) for _ in range(200)]).mean(0)
        assert (model.importance_nll(x, y, k=200) < elbo).all()
        assert torch.isfinite(model.score(x)).all()  # no class given: every class's likelihood, averaged


def test_a_class_prior_needs_a_mixture_to_weigh_and_train_says_so_before_reading_data(tmp_path):
    with pytest.raises(UsageError, match="--prior-components"):
        create_model("cvae", SPEC, class_prior=1)
    empty = tmp_path / "no-mnist-here"
    empty.mkdir()
    result = invoke("train", "cvae", "--data-dir", empty, "--class-prior", "1", "--epochs", "1")
    assert result.exit_code == 2 and "--prior-components" in result.output and "mnist" not in result.output
    assert list(empty.iterdir()) == []


def test_a_class_prior_round_trips_and_older_cvae_checkpoints_keep_one_prior_for_all(tmp_path):
    model = create_model("cvae", SPEC, prior_components=20, class_prior=1)
    with torch.no_grad():
        model.prior.logits.normal_(0, 3)
    (tmp_path / "new").mkdir()
    save_checkpoint(tmp_path / "new", model, SPEC, DataRecipe("digits"), {"epochs_completed": 1}, [])
    loaded = load_checkpoint(tmp_path / "new", "cvae").model
    labels = torch.arange(32) % 10
    assert torch.equal(
        loaded.prior.sample(32, generator(3), 0.7, labels), model.prior.sample(32, generator(3), 0.7, labels)
    )

    old = create_model("cvae", SPEC, prior_components=20)
    (tmp_path / "old").mkdir()
    path = save_checkpoint(tmp_path / "old", old, SPEC, DataRecipe("digits"), {"epochs_completed": 1}, [])
    config = json.loads((path / "config.json").read_text())
    del config["model_config"]["class_prior"]  # as cvae checkpoints written before the setting
    (path / "config.json").write_text(json.dumps(config))
    loaded = load_checkpoint(tmp_path / "old", "cvae").model
    assert loaded.prior.logits.shape == (20,)


def test_an_exported_class_prior_cvae_scores_as_pytorch_does(tmp_path):
    pytest.importorskip("onnxruntime")
    from aecli.store.export import export_onnx, run_onnx

    model = create_model("cvae", SPEC, prior_components=20, class_prior=1)
    with torch.no_grad():
        model.prior.logits.normal_(0, 3)
    (tmp_path / "run").mkdir()
    save_checkpoint(tmp_path / "run", model, SPEC, DataRecipe("digits"), {"epochs_completed": 1}, [])
    ckpt = load_checkpoint(tmp_path / "run", "cvae")
    export_onnx(ckpt, tmp_path / "onnx")
    x = torch.rand(5, 1, 28, 28)
    with torch.no_grad():
        expected = ckpt.model.eval().score(x).numpy()
    got = run_onnx(tmp_path / "onnx" / "scorer.onnx", {"image": x.numpy()})[0]
    assert got.shape == (5,) and abs(got - expected).max() <= 1e-4 * abs(expected).max()
