"""The picture of a `score` run's highest-scoring inputs: image, reconstruction, error heat map, labelled."""

from pathlib import Path

import numpy as np
import torch

from aecli.store.outputs import save_images

NAME_CHARS = 28


def heat(errors: np.ndarray) -> np.ndarray:
    """N x H x W absolute errors as N x 3 x H x W colours (inferno), scaled by the largest of them."""
    from matplotlib import colormaps

    scaled = errors / max(float(errors.max()), 1e-8)
    return colormaps["inferno"](scaled)[..., :3].transpose(0, 3, 1, 2).astype(np.float32)


def save_worst(ckpt, scored, path: Path) -> None:
    from aecli.inference import reconstruct

    images = torch.from_numpy(np.stack([image for _, _, image in scored.top]))
    originals = images.float() / 255
    recon = reconstruct(ckpt.model, images, best_classes(ckpt.model, images), refine=False)
    errors = (recon - originals).abs().mean(1).numpy()
    colour = originals.expand(-1, 3, -1, -1).numpy(), recon.expand(-1, 3, -1, -1).numpy(), heat(errors)
    rows = np.stack(colour, axis=1)  # N x 3 x 3 x H x W
    labels = [f"{_short(name)}  {value:.4g}" for value, name, _ in scored.top]
    save_images(rows, path, row_labels=labels, col_labels=["input", "reconstruction", "error"])


def best_classes(model, images: torch.Tensor) -> torch.Tensor | None:
    """For a class model, each image's best-scoring class (what it is drawn under); None for the others."""
    from aecli.evaluate.anomaly import score_batch

    if model.labels_for(torch.zeros(1)) is None:
        return None
    per_class = [score_batch(model, images, torch.full((len(images),), c)) for c in range(model.num_classes)]
    return torch.from_numpy(np.stack(per_class, axis=1).argmin(1))


def _short(name: str) -> str:
    name = name.replace("\n", " ")
    return name if len(name) <= NAME_CHARS else "..." + name[-(NAME_CHARS - 3) :]
