"""Find the face in a photo (scikit-image's bundled frontal-face cascade), so a user's photo is
framed the way the model's training faces were."""

import functools
import math

import numpy as np
import torch

from aecli.errors import AecliError

DETECT_SIDE = 128  # faces are looked for in a copy this size: fast, and enough for one face per photo
# An edge-repeated border around that copy, as a share of its side. The cascade's window frames a face
# with room around it, so without the border a face that fills the photo (a tight crop, a selfie) is
# missed or only part of it found: on 300 LFW crops, 272 faces found instead of 192, none at under
# 0.6x the usual size instead of 5 (eye regions). Frames saved before it (three numbers) keep 0.
DETECT_MARGIN = 0.15


@functools.cache
def _detector():
    from skimage.data import lbp_frontal_face_cascade_filename
    from skimage.feature import Cascade

    return Cascade(lbp_frontal_face_cascade_filename())


def detect_face(grey: np.ndarray, margin: float = DETECT_MARGIN) -> tuple[float, float, float] | None:
    """(centre x, centre y, side) of the largest face in a 2-D uint8 image, in its pixels, or None."""
    from PIL import Image

    height, width = grey.shape
    scale = DETECT_SIDE / max(height, width)
    small = np.asarray(Image.fromarray(grey).resize((max(1, round(width * scale)), max(1, round(height * scale)))))
    border = round(margin * DETECT_SIDE)
    if border:
        small = np.pad(small, border, mode="edge")
    found = _detector().detect_multi_scale(
        img=small, scale_factor=1.2, step_ratio=1, min_size=(24, 24), max_size=small.shape[::-1]
    )
    if not found:
        return None
    face = max(found, key=lambda f: f["width"])
    centre_x, centre_y = face["c"] + face["width"] / 2 - border, face["r"] + face["height"] / 2 - border
    return centre_x / scale, centre_y / scale, face["width"] / scale


def face_frame(images: torch.Tensor, count: int = 64) -> torch.Tensor | None:
    """Where the face sits in training images, as (face side / image side, centre offset x and y in
    face sides, the detector's margin): the median over the first `count` images with a face found."""
    found = []
    for image in images[:count]:
        grey = image.float().mean(0).to(torch.uint8).numpy()
        face = detect_face(grey)
        if face is not None:
            side = grey.shape[0]
            cx, cy, f = face
            found.append((f / side, (cx - side / 2) / f, (cy - side / 2) / f))
    if len(found) < max(3, count // 8):
        return None
    return torch.tensor([*np.median(np.array(found), axis=0), DETECT_MARGIN], dtype=torch.float32)


def frame_for(grey: np.ndarray, frame: torch.Tensor) -> tuple[float, float, float] | None:
    """The square (centre x, centre y, side) that frames this photo's face as in training, or None.
    The face is looked for the way the training faces were (a frame of three numbers: no margin)."""
    values = frame.flatten().tolist()
    if len(values) not in (3, 4) or not all(math.isfinite(v) for v in values) or not 0 < values[0] <= 10:
        raise AecliError("this checkpoint's face frame is malformed; train the model again to rebuild it")
    relative, dx, dy, margin = values if len(values) == 4 else (*values, 0.0)
    face = detect_face(grey, margin=min(max(margin, 0.0), 1.0))
    if face is None:
        return None
    cx, cy, f = face
    return cx - dx * f, cy - dy * f, f / relative
