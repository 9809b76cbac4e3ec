"""Honest numbers: test loss, negative ELBO, importance-weighted NLL, MSE / PSNR, t-SNE and clustering."""

import math

import numpy as np
import torch

from aecli.data import Split
from aecli.data.pixels import as_float, as_input, fixed_binarized
from aecli.inference import latent_codes, reconstruct
from aecli.models import Autoencoder
from aecli.models.base import bernoulli_nll, log_normal

EVAL_BATCH = 512


def test_batches(split: Split, model: Autoencoder, binarize: bool, batch: int = EVAL_BATCH):
    """(x, y) batches of a split on the model's device: floats in [0, 1] (the fixed binarization with
    `binarize`), labels for conditional models. One batch at a time, so a large split stays on disk."""
    device = next(model.parameters()).device
    for start in range(0, len(split), batch):
        images = split.images[start : start + batch].to(device)
        x = fixed_binarized(images, start) if binarize else as_input(images, False)
        labels = split.labels[start : start + batch].to(device) if model.conditional else None
        yield x, labels


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
def iwae_nll(
    model: Autoencoder, x: torch.Tensor, y: torch.Tensor | None, k: int = 100, chunk: int = 50
) -> torch.Tensor:
    """-log p(x) estimated with k importance samples from the encoder, per image (nats)."""
    mu, logvar = model.encode_distribution(x, y)
    n, weights = len(x), []
    for start in range(0, k, chunk):
        m = min(chunk, k - start)
        z = mu.unsqueeze(0) + torch.randn(m, *mu.shape, device=x.device) * torch.exp(0.5 * logvar).unsqueeze(0)
        zf = z.reshape(m * n, -1)
        yf = y.repeat(m) if y is not None else None
        logits = model.decode_logits(zf, yf)
        log_px = -bernoulli_nll(logits, x.repeat(m, 1, 1, 1)).reshape(m, n)
        log_pz = log_normal(z, torch.zeros_like(z), torch.zeros_like(z))
        log_qz = log_normal(z, mu.unsqueeze(0), logvar.unsqueeze(0))
        weights.append(log_px + log_pz - log_qz)
    return -(torch.logsumexp(torch.cat(weights), dim=0) - math.log(k))


def evaluate(model: Autoencoder, test: Split, binarized: bool = False, k: int = 100, batch: int = 200) -> dict:
    """Test metrics of a trained model, on the test split it was not trained on."""
    torch.manual_seed(0)  # the Monte Carlo estimates repeat exactly
    labels = test.labels if model.conditional else None
    squared = 0.0
    for start in range(0, len(test), EVAL_BATCH):
        part = slice(start, start + EVAL_BATCH)
        recon = reconstruct(model, test.images[part], labels[part] if labels is not None else None)
        squared += torch.sum((recon - as_float(test.images[part])) ** 2).item()
    mse = squared / test.images[:1].numel() / len(test)
    metrics = {"test_images": len(test), "mse": mse, "psnr_db": 10 * math.log10(1.0 / max(mse, 1e-12))}
    if not model.variational:
        return metrics
    metrics["neg_elbo"] = mean_loss(model, test, binarized)
    total = 0.0
    for x, y in test_batches(test, model, binarized, batch):
        total += iwae_nll(model, x, y, k).sum().item()
    metrics["iwae_nll"] = total / len(test)
    metrics["iwae_samples"] = k
    metrics["binarized"] = binarized
    return metrics


def tsne_2d(points: np.ndarray, seed: int = 0) -> np.ndarray:
    """2-D t-SNE: openTSNE (fast, FFT-accelerated) when installed, else scikit-learn."""
    points = np.ascontiguousarray(points, dtype=np.float64)
    try:
        from openTSNE import TSNE
    except ImportError:
        from sklearn.manifold import TSNE as SkTSNE

        return SkTSNE(n_components=2, random_state=seed, init="pca").fit_transform(points).astype(np.float32)
    # 75 + 150 iterations instead of 250 + 500: a third of the time for the same picture (docs/decisions.md)
    tsne = TSNE(n_jobs=-1, random_state=seed, verbose=False, early_exaggeration_iter=75, n_iter=150)
    return np.asarray(tsne.fit(points), dtype=np.float32)


def cluster_scores(codes: np.ndarray, labels: np.ndarray) -> dict:
    """How strongly latent codes group by label: 5-NN accuracy (held-out folds) and silhouette."""
    from sklearn.metrics import silhouette_score
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    counts = np.unique(labels, return_counts=True)[1]
    folds = min(5, int(counts.min()))
    if len(counts) < 2 or folds < 2:
        return {}  # too few images of some class to score
    knn = cross_val_score(
        KNeighborsClassifier(min(5, len(codes) - len(codes) // folds)), codes, labels, cv=folds
    ).mean()
    return {"knn_accuracy": float(knn), "silhouette": float(silhouette_score(codes, labels))}


def embeddings(model: Autoencoder, test: Split, n: int) -> np.ndarray:
    labels = test.labels[:n] if model.conditional else None
    return latent_codes(model, test.images[:n], labels).numpy()
