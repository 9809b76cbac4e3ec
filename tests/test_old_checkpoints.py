"""Checkpoints written before the redesign (kept in tests/fixtures, made by aecli as it was on
2026-11-28: a vae with a mixture prior, and an ae whose fitted Gaussian was kept as extras) load
and draw exactly what they drew then."""

from pathlib import Path

import numpy as np
import pytest

from aecli import api

FIXTURES = Path(__file__).parent / "fixtures"
# the first three pixels of `api.sample(ckpt, 3, seed=1)` and the mean, printed by the code of 2026-11-28
DRAWN_THEN = {
    "vae": ([0.505430281162262, 0.49294334650039673, 0.5055930018424988], 0.49997944),
    "ae": ([0.4935990869998932, 0.5018947720527649, 0.49385011196136475], 0.49656892),
}


@pytest.mark.parametrize("model", ["vae", "ae"])
def test_an_old_checkpoint_loads_and_draws_as_it_did(model):
    ckpt = api.load(model, FIXTURES / f"checkpoint-2026-11-{model}", device="cpu")
    images = api.sample(ckpt, 3, seed=1).images
    first, mean = DRAWN_THEN[model]
    np.testing.assert_allclose(images[0].reshape(-1)[:3], first, atol=1e-6)
    assert images.mean() == pytest.approx(mean, abs=1e-6)


def test_the_old_aes_fitted_gaussian_is_now_model_state():
    ckpt = api.load("ae", FIXTURES / "checkpoint-2026-11-ae", device="cpu")
    assert "latent_mean" not in ckpt.extras and bool(ckpt.model.latent.fitted)
    mean, spread = ckpt.model.latent.moments()
    assert mean.shape == spread.shape == (16,) and (spread > 0).all()
