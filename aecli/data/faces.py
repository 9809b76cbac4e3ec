"""Find the face in a photo (scikit-image's bundled frontal-face cascade), so a user's photo is
framed the way the model's training faces were."""

import functools

import numpy as np
import torch

DETECT_SIDE = 128  # faces are looked for in a copy this size: fast, and enough for one face per photo


@functools.cache
def _detector():
    from skimage.data import lbp_frontal_face_cascade_filename
    from skimage.feature import Cascade

    return Cascade(lbp_frontal_face_cascade_filename())


def detect_face(grey: np.ndarray) -> tuple[float, float, float] | None:
    """(centre x, centre y, side) of the largest face in a 2-D uint8 image, in its pixels, or None."""
    from PIL import Image

    height, width = grey.shape
    scale = DETECT_SIDE / max(height, width)
    small = np.asarray(Image.fromarray(grey).resize((max(1, round(width * scale)), max(1, round(height * scale)))))
    found = _detector().detect_multi_scale(
        img=small, scale_factor=1.2, step_ratio=1, min_size=(24, 24), max_size=small.shape[::-1]
    )
    if not found:
        return None
    face = max(found, key=lambda f: f["width"])
    return ((face["c"] + face["width"] / 2) / scale, (face["r"] + face["height"] / 2) / scale, face["width"] / scale)


def face_frame(images: torch.Tensor, count: int = 64) -> torch.Tensor | None:
    """Where the face sits in training images, as (face side / image side, centre offset x and y in
    face sides): the median over the first `count` images in which a face is found."""
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
    return torch.tensor(np.median(np.array(found), axis=0), dtype=torch.float32)


def frame_for(grey: np.ndarray, frame: torch.Tensor) -> tuple[float, float, float] | None:
    """The square (centre x, centre y, side) that frames this photo's face as in training, or None."""
    face = detect_face(grey)
    if face is None:
        return None
    cx, cy, f = face
    relative, dx, dy = frame.tolist()
    return cx - dx * f, cy - dy * f, f / relative
