"""Reconstruction scores (MSE, PSNR, SSIM) and the linear floor a nonlinear autoencoder must beat (PCA)."""

import math

import numpy as np
import torch

from aecli.data import Split
from aecli.data.pixels import as_float

SCORE_BATCH = 512  # test images rebuilt at once (uint8 in, floats out)


def reconstruction_scores(test: Split, rebuild) -> dict:
    """MSE, PSNR and mean SSIM (scikit-image's) of `rebuild(uint8 images, slice)` against the test images."""
    from skimage.metrics import structural_similarity

    squared, similarity = 0.0, 0.0
    for start in range(0, len(test), SCORE_BATCH):
        part = slice(start, start + SCORE_BATCH)
        original = as_float(test.images[part])
        recon = rebuild(test.images[part], part).float().clamp(0, 1)
        squared += torch.sum((recon - original) ** 2).item()
        for a, b in zip(recon.numpy(), original.numpy(), strict=True):
            similarity += structural_similarity(a, b, data_range=1.0, channel_axis=0)
    mse = squared / test.images[:1].numel() / len(test)
    return {"mse": mse, "psnr_db": 10 * math.log10(1.0 / max(mse, 1e-12)), "ssim": float(similarity) / len(test)}


def pca_floor(train: Split, test: Split, components: int, mirrored: bool, fit_images: int = 10_000) -> dict:
    """The same scores for PCA with `components` components fitted on the training split (eigenfaces):
    the linear baseline a nonlinear autoencoder with that many latents should beat. Where training
    mirrors the images, PCA is fitted on them and their mirror images too (at most `fit_images` in
    all), so both see the same faces (docs/evaluation.md has what that does to the LFW floor)."""
    from sklearn.decomposition import PCA

    def flat(images: torch.Tensor) -> np.ndarray:
        return as_float(images).reshape(len(images), -1).numpy()

    fitted = train.images[:fit_images]
    if mirrored:
        fitted = torch.cat([fitted[: fit_images // 2], fitted[: fit_images // 2].flip(3)])
    components = min(components, len(fitted), fitted[0].numel())
    pca = PCA(components, svd_solver="randomized", random_state=0).fit(flat(fitted))

    def rebuild(images: torch.Tensor, part: slice) -> torch.Tensor:
        return torch.from_numpy(pca.inverse_transform(pca.transform(flat(images)))).reshape(images.shape)

    return {f"pca_{key}": value for key, value in reconstruction_scores(test, rebuild).items()} | {
        "pca_components": components
    }
