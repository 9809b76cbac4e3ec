"""The user's own image files (`--input`), read exactly as the model's training images were."""

import glob
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from aecli.data.base import DataSpec
from aecli.data.images import read_image
from aecli.data.recipe import DataRecipe
from aecli.errors import AecliError

MAX_INPUTS = 10_000


def expand_inputs(patterns: list[str | Path]) -> list[Path]:
    """Paths as given, patterns (`faces/*.jpg`) expanded; a pattern that matches nothing is an error."""
    paths: list[Path] = []
    for pattern in patterns:
        text = str(pattern)
        if any(ch in text for ch in "*?[") and not Path(text).exists():
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                raise AecliError(f"--input {text} matches no file; check the pattern")
            paths += [Path(m) for m in matches]
        else:
            paths.append(Path(text))
    if len(paths) > MAX_INPUTS:
        raise AecliError(f"{len(paths)} input images; the limit is {MAX_INPUTS:,} at a time")
    return paths


def read_inputs(
    paths: list[Path], spec: DataSpec, recipe: DataRecipe, on_note: Callable[[str], None] | None = None
) -> torch.Tensor:
    """uint8 N x C x S x S: each file cropped and resized by the checkpoint's recipe, like its training data."""
    crop = recipe.crop if recipe.crop is not None else 1.0
    out = []
    for path in paths:
        pixels = read_image(path, spec.image_size, crop, grey=spec.channels == 1)
        if spec.channels == 3 and pixels.shape[0] == 1:
            pixels = np.repeat(pixels, 3, axis=0)
        if spec.light_on_dark and _border_mean(pixels) > 127:
            pixels = 255 - pixels
            if on_note:
                on_note(f"{path}: dark strokes on a light background; inverted to match the training images")
        out.append(pixels)
    return torch.from_numpy(np.stack(out))


def _border_mean(pixels: np.ndarray) -> float:
    edges = np.concatenate([pixels[:, 0], pixels[:, -1], pixels[:, :, 0], pixels[:, :, -1]], axis=None)
    return float(edges.mean())
