"""Test loss, negative ELBO and importance-weighted NLL, on the test split the model was not trained on."""

import math

import torch

from aecli.data import Split
from aecli.data.pixels import as_input, fixed_binarized
from aecli.evaluate.reconstruction import reconstruction_scores
from aecli.inference import model_batch, reconstruct
from aecli.models import Autoencoder


def test_batches(split: Split, model: Autoencoder, binarize: bool, batch: int | None = None):
    """(x, y) batches of a split on the model's device: floats in [0, 1] (the fixed binarization with
    `binarize`), labels for class models. One batch at a time, so a large split stays on disk."""
    device = next(model.parameters()).device
    batch = batch or model_batch(model)
    labels = model.labels_for(split.labels)
    for start in range(0, len(split), batch):
        images = split.images[start : start + batch].to(device)
        x = fixed_binarized(images, start) if binarize else as_input(images, False)
        yield x, labels[start : start + batch].to(device) if labels is not None else None


@torch.inference_mode()
def mean_loss(model: Autoencoder, split: Split, binarize: bool = False) -> float:
    """The model's own loss per test image (negative ELBO in nats for vae/cvae, MSE for ae)."""
    model.eval()
    device = next(model.parameters()).device
    total = torch.zeros((), device=device, dtype=torch.float64)
    for x, y in test_batches(split, model, binarize):
        total += model.test_loss(x, y).double().sum()
    return total.item() / len(split)


@torch.inference_mode()
def importance_nll(model: Autoencoder, test: Split, binarized: bool, k: int, progress=None) -> dict:
    """The k-sample bound on -log p(x) over the split: mean, standard error, k."""
    per_image = []
    batch = max(1, min(200, 1_000_000 // k))  # k x batch decoded images at most per step
    for x, y in test_batches(test, model, binarized, batch):
        per_image.append(model.importance_nll(x, y, k).double().cpu())
        if progress:
            progress(f"importance-weighted NLL, k = {k}", sum(map(len, per_image)), len(test))
    values = torch.cat(per_image)
    stderr = values.std().item() / math.sqrt(len(values)) if len(values) > 1 else math.nan
    return {"iwae_nll": values.mean().item(), "iwae_nll_stderr": stderr, "iwae_samples": k}


def evaluate(model: Autoencoder, test: Split, binarized: bool = False, k: int = 100, progress=None) -> dict:
    """Test metrics of a trained model: reconstruction scores, and its likelihood where it has one."""
    torch.manual_seed(0)  # the Monte Carlo estimates repeat exactly

    def model_reconstruction(images: torch.Tensor, part: slice, refine: bool = True) -> torch.Tensor:
        return reconstruct(model, images, test.labels[part] if test.labels is not None else None, refine)

    metrics = {"test_images": len(test), **reconstruction_scores(test, model_reconstruction)}
    if model.refine_steps:  # the same scores from the encoder's codes alone: what refining them adds
        metrics["refine_steps"] = model.refine_steps
        encoder_only = reconstruction_scores(test, lambda images, part: model_reconstruction(images, part, False))
        metrics |= {f"encoder_{key}": value for key, value in encoder_only.items()}
    if not model.has_likelihood:
        return metrics
    metrics["binarized"] = binarized
    metrics["neg_elbo"] = mean_loss(model, test, binarized)
    return metrics | importance_nll(model, test, binarized, k, progress)
