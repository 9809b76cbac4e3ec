"""Honest numbers: test negative ELBO, importance-weighted NLL, MSE / PSNR, t-SNE and clustering."""

import math

import numpy as np
import torch

from aecli.data import Split
from aecli.models import Autoencoder
from aecli.models.base import bernoulli_nll, log_normal
from aecli.ops import as_float, latent_codes, reconstruct
from aecli.training import as_input, fixed_binarized, mean_loss


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
    device = next(model.parameters()).device
    labels = test.labels if model.conditional else None
    recon = reconstruct(model, test.images, labels)
    target = as_float(test.images)
    mse = torch.mean((recon - target) ** 2).item()
    metrics = {"test_images": len(test), "mse": mse, "psnr_db": 10 * math.log10(1.0 / max(mse, 1e-12))}
    if not model.variational:
        return metrics
    metrics["neg_elbo"] = mean_loss(model, test, 512, binarized)
    images = test.images.to(device)
    x_all = fixed_binarized(images) if binarized else as_input(images, False)
    total = 0.0
    for start in range(0, len(images), batch):
        y = labels[start : start + batch].to(device) if labels is not None else None
        total += iwae_nll(model, x_all[start : start + batch], y, k).sum().item()
    metrics["iwae_nll"] = total / len(images)
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
    # 75 + 150 iterations instead of 250 + 500: on 10,000 latent vectors a third of the time, with
    # trustworthiness@10 0.982 against scikit-learn's 0.985 (benchmarks/tsne.py)
    tsne = TSNE(n_jobs=-1, random_state=seed, verbose=False, early_exaggeration_iter=75, n_iter=150)
    return np.asarray(tsne.fit(points), dtype=np.float32)


def cluster_scores(codes: np.ndarray, labels: np.ndarray) -> dict:
    """How strongly latent codes group by label: 5-NN accuracy (held-out folds) and silhouette."""
    from sklearn.metrics import silhouette_score
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    knn = cross_val_score(KNeighborsClassifier(5), codes, labels, cv=5).mean()
    return {"knn_accuracy": float(knn), "silhouette": float(silhouette_score(codes, labels))}


def embeddings(model: Autoencoder, test: Split, n: int) -> np.ndarray:
    labels = test.labels[:n] if model.conditional else None
    return latent_codes(model, test.images[:n], labels).numpy()
