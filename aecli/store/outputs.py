"""Image grids, arrays, tables and plots written to files (atomically)."""

import contextlib
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from aecli.errors import UsageError
from aecli.fileio import IMAGE_OUTPUTS, atomic_path, shown_name
from aecli.store.npy import NpyWriter

IMAGE_SUFFIXES = IMAGE_OUTPUTS
MAX_GRID_IMAGES = 4096  # more does not fit a picture anyone can look at: write .npy instead
MAX_GRID_PIXELS = 40_000_000


def check_suffix(path: Path, allowed: tuple[str, ...]) -> None:
    if Path(path).suffix.lower() not in allowed:
        raise UsageError(f"cannot write {Path(path).name!r}: use a file name ending in {', '.join(allowed)}")


def check_grid_size(count: int, path: Path) -> None:
    """Refuse, before any work, a .png grid too large to open."""
    if Path(path).suffix.lower() == ".png" and count > MAX_GRID_IMAGES:
        raise UsageError(
            f"{count:,} images do not fit one .png grid (at most {MAX_GRID_IMAGES:,}); write .npy for more"
        )


def grid_columns(n: int) -> int:
    """Columns for n images: a divisor of n near the square root (no ragged last row), else the root."""
    root = math.sqrt(n)
    divisors = [d for d in range(1, n + 1) if n % d == 0 and root * 0.6 <= d <= root * 1.8]
    return min(divisors, key=lambda d: abs(d - root * 1.2)) if divisors else math.ceil(root)


def grid(images: np.ndarray, ncols: int | None = None, pad: int = 2) -> np.ndarray:
    """N x C x H x W floats in [0, 1] to one H' x W' (x 3) uint8 image."""
    n, c, h, w = images.shape
    ncols = ncols or grid_columns(n)
    nrows = math.ceil(n / ncols)
    canvas = np.ones((nrows * (h + pad) + pad, ncols * (w + pad) + pad, c), dtype=np.float32)
    for i, image in enumerate(images):
        r, col = divmod(i, ncols)
        y, x = pad + r * (h + pad), pad + col * (w + pad)
        canvas[y : y + h, x : x + w] = image.transpose(1, 2, 0)
    pixels = np.clip(canvas * 255 + 0.5, 0, 255).astype(np.uint8)
    return pixels[..., 0] if c == 1 else pixels


def _labelled(image, cell: int, row_labels: list[str] | None, col_labels: list[str] | None):
    """The grid with a margin of row labels on the left and column labels on top."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=max(11, min(18, cell // 4)))
    row_labels = [" ".join(str(t).split()) for t in row_labels or []]  # a name may hold a newline
    col_labels = [" ".join(str(t).split()) for t in col_labels or []]
    draw_probe = ImageDraw.Draw(image)
    left = 6 + max((draw_probe.textlength(t, font=font) for t in row_labels or []), default=0)
    top = (font.size + 8) if col_labels else 0
    labelled = Image.new(image.mode, (image.width + int(left), image.height + top), "white")
    labelled.paste(image, (int(left), top))
    draw = ImageDraw.Draw(labelled)
    ink = 0 if image.mode == "L" else (0, 0, 0)
    for r, text in enumerate(row_labels or []):
        draw.text((3, top + r * cell + cell / 2), text, fill=ink, font=font, anchor="lm")
    for c, text in enumerate(col_labels or []):
        draw.text((left + c * cell + cell / 2, 3), text, fill=ink, font=font, anchor="mt")
    return labelled


def save_png(pixels: np.ndarray, path: Path, scale: int = 1, labels: tuple | None = None) -> None:
    """`labels`: (cell side in pixels, row labels, column labels), drawn in a margin."""
    from PIL import Image

    image = Image.fromarray(pixels)
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    if labels is not None and (labels[1] or labels[2]):
        image = _labelled(image, labels[0] * scale, labels[1], labels[2])
    if image.width * image.height > MAX_GRID_PIXELS:
        raise UsageError(
            f"the picture would be {image.width} x {image.height} pixels; ask for fewer images or write .npy"
        )
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG")


def save_npy(array: np.ndarray, path: Path) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.save(handle, array)


@contextlib.contextmanager
def npy_stream(path: Path, shape: tuple[int, ...]) -> Iterator[NpyWriter]:
    """A float32 .npy of `shape` filled batch by batch (`writer[a:b] = batch`) in a temporary file,
    renamed to `path` when complete: outputs larger than memory, never half-written under `path`."""
    with atomic_path(path) as tmp:
        writer = NpyWriter(tmp, shape, np.float32)
        try:
            yield writer
        except BaseException:
            writer.handle.close()  # atomic_path removes the temporary file
            raise
        writer.close()


def save_images(
    images: np.ndarray,
    path: Path,
    ncols: int | None = None,
    row_labels: list[str] | None = None,
    col_labels: list[str] | None = None,
) -> None:
    """`.png`: a grid (a 5-D array: its rows and columns), optionally labelled; `.npy`: the raw float32 array."""
    path = Path(path)
    check_suffix(path, IMAGE_SUFFIXES)
    images = np.asarray(images, dtype=np.float32)
    if path.suffix.lower() == ".npy":
        save_npy(images, path)
        return
    if images.ndim == 5:  # rows x columns of images
        ncols = images.shape[1]
        images = images.reshape(-1, *images.shape[2:])
    check_grid_size(len(images), path)
    side = images.shape[-1]
    scale = 4 if side <= 32 else 2 if side <= 64 else 1
    ncols = ncols or grid_columns(len(images))
    save_png(grid(images, ncols), path, scale, (side + 2, row_labels, col_labels))


def save_csv(rows: list[dict], path: Path) -> None:
    import csv

    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({k: shown_name(v) if isinstance(v, str) else v for k, v in row.items()} for row in rows)


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


def plot_embeddings(panels: list[dict], path: Path, legend_title: str, class_names: tuple[str, ...] = ()) -> None:
    """One scatter per panel: {'title', 'points' (N x 2), 'labels' (N), 'categorical'}; the legend outside."""
    plt = _figure()
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 5.5), squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=True):
        points, labels = panel["points"], panel["labels"]
        if panel["categorical"]:
            colours = plt.cm.tab10 if len(np.unique(labels)) <= 10 else plt.cm.tab20
            for value in np.unique(labels):
                mask = labels == value
                name = class_names[int(value)] if int(value) < len(class_names) else str(int(value))
                ax.scatter(points[mask, 0], points[mask, 1], s=3, color=colours(int(value) % colours.N), label=name)
            ax.legend(title=legend_title, markerscale=4, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
        else:
            scatter = ax.scatter(points[:, 0], points[:, 1], s=4, c=labels, cmap="coolwarm")
            fig.colorbar(scatter, ax=ax, label=legend_title)
        ax.set_title(panel["title"], fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    save_figure(fig, path)
