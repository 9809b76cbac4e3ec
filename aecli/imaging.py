"""Image grids, arrays, tables and plots written to files (atomically)."""

from pathlib import Path

import numpy as np

from aecli.errors import UsageError
from aecli.fileio import atomic_path

IMAGE_SUFFIXES = (".png", ".npy")


def check_suffix(path: Path, allowed: tuple[str, ...]) -> None:
    if Path(path).suffix.lower() not in allowed:
        raise UsageError(f"cannot write {Path(path).name!r}: use a file name ending in {', '.join(allowed)}")


def grid(images: np.ndarray, ncols: int | None = None, pad: int = 2) -> np.ndarray:
    """N x C x H x W floats in [0, 1] to one H' x W' (x 3) uint8 image."""
    n, c, h, w = images.shape
    ncols = ncols or int(np.ceil(np.sqrt(n)))
    nrows = int(np.ceil(n / ncols))
    canvas = np.ones((nrows * (h + pad) + pad, ncols * (w + pad) + pad, c), dtype=np.float32)
    for i, image in enumerate(images):
        r, col = divmod(i, ncols)
        y, x = pad + r * (h + pad), pad + col * (w + pad)
        canvas[y : y + h, x : x + w] = image.transpose(1, 2, 0)
    pixels = np.clip(canvas * 255 + 0.5, 0, 255).astype(np.uint8)
    return pixels[..., 0] if c == 1 else pixels


def save_png(pixels: np.ndarray, path: Path, scale: int = 1) -> None:
    from PIL import Image

    image = Image.fromarray(pixels)
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG")


def save_npy(array: np.ndarray, path: Path) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.save(handle, array)


def save_images(images: np.ndarray, path: Path, ncols: int | None = None) -> None:
    """`.png`: a grid; `.npy`: the raw float32 array (any leading shape)."""
    path = Path(path)
    check_suffix(path, IMAGE_SUFFIXES)
    images = np.asarray(images, dtype=np.float32)
    if path.suffix.lower() == ".npy":
        save_npy(images, path)
        return
    if images.ndim == 5:  # rows x columns of images
        ncols = images.shape[1]
        images = images.reshape(-1, *images.shape[2:])
    scale = max(1, 4 if images.shape[-1] <= 32 else 2 if images.shape[-1] <= 64 else 1)
    save_png(grid(images, ncols), path, scale)


def save_csv(rows: list[dict], path: Path) -> None:
    import csv

    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    _figure().close(fig)


def plot_losses(history: list[dict], path: Path, title: str) -> None:
    plt = _figure()
    fig, ax = plt.subplots(figsize=(5, 3.2))
    epochs = [row["epoch"] for row in history]
    ax.plot(epochs, [row["train_loss"] for row in history], marker="o", label="train")
    ax.plot(epochs, [row["test_loss"] for row in history], marker="o", label="test")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss per image")
    ax.set_title(title)
    ax.legend()
    save_figure(fig, path)


def plot_embeddings(panels: list[dict], path: Path, legend_title: str) -> None:
    """One scatter per panel: {'title', 'points' (N x 2), 'labels' (N), 'categorical'}."""
    plt = _figure()
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 5.5), squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=True):
        points, labels = panel["points"], panel["labels"]
        if panel["categorical"]:
            for value in np.unique(labels):
                mask = labels == value
                ax.scatter(
                    points[mask, 0], points[mask, 1], s=3, color=plt.cm.tab10(int(value) % 10), label=str(int(value))
                )
            ax.legend(title=legend_title, markerscale=4, fontsize=8, loc="best")
        else:
            scatter = ax.scatter(points[:, 0], points[:, 1], s=4, c=labels, cmap="coolwarm")
            fig.colorbar(scatter, ax=ax, label=legend_title)
        ax.set_title(panel["title"], fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    save_figure(fig, path)
