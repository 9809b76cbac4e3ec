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
    paths: list[Path],
    spec: DataSpec,
    recipe: DataRecipe,
    on_note: Callable[[str], None] | None = None,
    face_frame: torch.Tensor | None = None,
) -> torch.Tensor:
    """uint8 N x C x S x S: each file cropped and resized by the checkpoint's recipe, like its training data."""
    out = []
    for path in paths:
        pixels, notes = read_input(path, spec, recipe, face_frame)
        for note in notes if on_note else []:
            on_note(f"{path}: {note}")
        out.append(pixels)
    return torch.from_numpy(np.stack(out))


def read_input(
    path: Path, spec: DataSpec, recipe: DataRecipe, face_frame: torch.Tensor | None = None
) -> tuple[np.ndarray, list[str]]:
    """One file as uint8 C x S x S read exactly as the training images were, and what was done to it.

    For face models (given where faces sat in the training images), a photo is framed around the
    face found in it, unless that framing is the recipe's own centre crop give or take a little."""
    crop = recipe.crop_fraction
    notes: list[str] = []
    box = _face_box(path, crop, face_frame, notes.append) if face_frame is not None else None
    pixels = read_image(path, spec.image_size, crop, grey=spec.channels == 1, box=box)
    if spec.channels == 3 and pixels.shape[0] == 1:
        pixels = np.repeat(pixels, 3, axis=0)
    if spec.light_on_dark and _border_mean(pixels) > 127:
        pixels = 255 - pixels
        notes.append("dark strokes on a light background; inverted to match the training images")
    return pixels, notes


def _face_box(path: Path, crop: float, frame: torch.Tensor, on_note) -> tuple | None:
    """The file's square around its face (None: the centre crop, as in training)."""
    from aecli.data.faces import frame_for
    from aecli.data.images import open_image, square_box

    try:
        with open_image(path) as image:
            grey = np.asarray(image.convert("L"))
    except (AecliError, OSError, ValueError):
        return None  # read_image names the problem
    height, width = grey.shape
    centre = square_box(width, height, crop)
    found = frame_for(grey, frame)
    if found is None:
        on_note("no face found; using the centre crop")
        return None
    cx, cy, side = found
    expected = centre[2] - centre[0]
    if abs(side - expected) < 0.15 * expected and max(abs(cx - width / 2), abs(cy - height / 2)) < 0.1 * expected:
        return None  # framed like the training images already: read exactly as they were
    side = min(side, width, height)
    left = min(max(0, round(cx - side / 2)), width - round(side))
    top = min(max(0, round(cy - side / 2)), height - round(side))
    on_note("cropped around the face found in it")
    return (left, top, left + round(side), top + round(side))


def _border_mean(pixels: np.ndarray) -> float:
    edges = np.concatenate([pixels[:, 0], pixels[:, -1], pixels[:, :, 0], pixels[:, :, -1]], axis=None)
    return float(edges.mean())
