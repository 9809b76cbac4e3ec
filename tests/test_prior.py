"""The learned mixture prior: its density, its KL estimate, its draws, and checkpoints with and without it."""

import json
import math

import torch
from torch import distributions as D

from aecli.data import DataRecipe, DataSpec
from aecli.data.base import DIGITS
from aecli.inference import generator
from aecli.models import create_model
from aecli.models.latent import GaussianMixture, StandardNormal
from aecli.store.checkpoints import load_checkpoint, save_checkpoint

SPEC = DataSpec(name="digits", channels=1, image_size=28, class_names=DIGITS, light_on_dark=True)


def mixture(means, logvars, logits) -> GaussianMixture:
    prior = GaussianMixture(len(means[0]), len(means))
    with torch.no_grad():
        prior.means.copy_(torch.tensor(means))
        prior.logvars.copy_(torch.tensor(logvars))
        prior.logits.copy_(torch.tensor(logits))
    return prior


def test_mixture_density_matches_torch_distributions():
    torch.manual_seed(0)
    prior = mixture(torch.randn(5, 3).tolist(), torch.randn(5, 3).tolist(), torch.randn(5).tolist())
    reference = D.MixtureSameFamily(
        D.Categorical(logits=prior.logits),
        D.Independent(D.Normal(prior.means, torch.exp(0.5 * prior.logvars)), 1),
    )
    z = torch.randn(4, 7, 3) * 2  # any leading shape, as the importance-weighted bound passes it
    assert torch.allclose(prior.log_prob(z), reference.log_prob(z), atol=1e-5)


def test_mixture_density_gradients_match_torch_distributions_and_bf16_autocast_is_ignored():
    torch.manual_seed(0)
    prior = mixture(torch.randn(6, 4).tolist(), (torch.randn(6, 4) * 0.5).tolist(), torch.randn(6).tolist())
    z = (torch.randn(9, 4) * 2).requires_grad_()
    reference = D.MixtureSameFamily(
        D.Categorical(logits=prior.logits), D.Independent(D.Normal(prior.means, torch.exp(0.5 * prior.logvars)), 1)
    )
    weights = torch.arange(9.0)  # a different upstream gradient per sample
    inputs = [z, prior.means, prior.logvars, prior.logits]
    ours = torch.autograd.grad((prior.log_prob(z) * weights).sum(), inputs)
    theirs = torch.autograd.grad((reference.log_prob(z) * weights).sum(), inputs)
    for a, b in zip(ours, theirs, strict=True):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-4)
    with torch.autocast("cpu", dtype=torch.bfloat16):  # bf16 products would be off by about 0.02
        under_autocast = prior.log_prob(z)
    assert under_autocast.dtype == torch.float32
    assert torch.allclose(under_autocast, reference.log_prob(z), atol=1e-4)


def test_one_standard_component_is_the_standard_normal_and_its_kl_estimate_is_unbiased():
    prior = mixture([[0.0, 0.0]], [[0.0, 0.0]], [0.0])
    z = torch.randn(100, 2)
    assert torch.allclose(prior.log_prob(z), StandardNormal(2).log_prob(z), atol=1e-6)
    mu, logvar = torch.tensor([[1.0, -0.5]]), torch.tensor([[-1.0, 0.5]])
    torch.manual_seed(0)
    z = mu + torch.randn(200_000, 2) * torch.exp(0.5 * logvar)
    estimate = prior.kl(z, mu.expand_as(z), logvar.expand_as(z)).mean()
    exact = StandardNormal(2).kl(z[:1], mu, logvar)
    assert abs(estimate.item() - exact.item()) < 0.01


def test_draws_follow_the_weights_and_temperature_zero_gives_the_means():
    prior = mixture([[-10.0], [10.0]], [[0.0], [0.0]], [math.log(0.8), math.log(0.2)])
    z = prior.sample(20_000, generator(0), temperature=1.0)
    assert abs((z < 0).float().mean().item() - 0.8) < 0.01
    assert abs(z[z < 0].std().item() - 1.0) < 0.03
    at_zero = prior.sample(100, generator(0), temperature=0.0)
    assert set(at_zero.flatten().tolist()) <= {-10.0, 10.0}
    mean, std = prior.moments()
    assert abs(mean.item() - z.mean().item()) < 0.1 and abs(std.item() - z.std().item()) < 0.1


def test_the_vae_learns_a_mixture_prior_and_the_bound_holds():
    model = create_model("vae", SPEC)
    assert isinstance(model.prior, GaussianMixture) and model.prior.means.shape == (200, 20)
    assert isinstance(create_model("cvae", SPEC).prior, StandardNormal)  # drawn z must suit every class
    x = (torch.rand(8, 1, 28, 28) > 0.7).float()
    model.loss(x).mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.prior.parameters())
    model.eval()
    torch.manual_seed(0)
    elbo = torch.stack([model.test_loss(x) for _ in range(200)]).mean(0)
    nll = model.importance_nll(x, None, k=200)
    assert (nll < elbo).all()  # log p(x) >= the importance-weighted bound >= the ELBO


def test_the_prior_round_trips_and_older_checkpoints_keep_the_standard_normal(tmp_path):
    model = create_model("vae", SPEC)
    (tmp_path / "new").mkdir()
    (tmp_path / "old").mkdir()
    save_checkpoint(tmp_path / "new", model, SPEC, DataRecipe("digits"), {"epochs_completed": 1}, [])
    loaded = load_checkpoint(tmp_path / "new", "vae").model
    assert torch.equal(loaded.prior.sample(16, generator(3), 1.0), model.prior.sample(16, generator(3), 1.0))

    old = create_model("vae", SPEC, prior_components=0)
    path = save_checkpoint(tmp_path / "old", old, SPEC, DataRecipe("digits"), {"epochs_completed": 1}, [])
    assert not [k for k in old.state_dict() if k.startswith("prior")]  # the weights file is as before
    config = json.loads((path / "config.json").read_text())
    del config["model_config"]["prior_components"]  # as checkpoints written before the setting
    (path / "config.json").write_text(json.dumps(config))
    loaded = load_checkpoint(tmp_path / "old", "vae").model
    assert isinstance(loaded.prior, StandardNormal)
    assert torch.equal(loaded.prior.sample(16, generator(3), 0.7), torch.randn(16, 20, generator=generator(3)) * 0.7)
