"""Small image folders in the layouts users have: class subfolders, attribute tables, odd formats."""

from pathlib import Path

import numpy as np
from PIL import Image

CLASSES = ["circle", "square", "stripes"]
PER_CLASS = 10
SIDE = 24


def shape_image(kind: str, rng: np.random.Generator, side: int = SIDE) -> np.ndarray:
    """An RGB uint8 picture of a class: a red disc, a green square, or blue stripes, on grey noise."""
    y, x = np.mgrid[0:side, 0:side]
    pixels = rng.integers(90, 130, (side, side, 3)).astype(np.uint8)
    offset = rng.integers(-2, 3, 2)
    cy, cx = side / 2 + offset[0], side / 2 + offset[1]
    if kind == "circle":
        pixels[(y - cy) ** 2 + (x - cx) ** 2 < (side / 3.5) ** 2] = (220, 30, 30)
    elif kind == "square":
        pixels[(abs(y - cy) < side / 4) & (abs(x - cx) < side / 4)] = (30, 200, 40)
    else:
        pixels[(x // 3) % 2 == 0] = (30, 40, 210)
    return pixels


def make_class_folder(root: Path, seed: int = 0, formats: tuple[str, ...] = (".png", ".jpg", ".bmp", ".webp")) -> Path:
    """root/<class>/<class>_NN.<ext>, colour, in several formats, with an attribute table."""
    rng = np.random.default_rng(seed)
    rows = ["file,brightness,stripiness,owner,owner_number"]
    for kind in CLASSES:
        (root / kind).mkdir(parents=True, exist_ok=True)
        for i in range(PER_CLASS):
            ext = formats[i % len(formats)]
            pixels = shape_image(kind, rng)
            name = f"{kind}/{kind}_{i:02d}{ext}"
            Image.fromarray(pixels).save(root / name, quality=95) if ext == ".jpg" else Image.fromarray(pixels).save(
                root / name
            )
            rows.append(
                f"{name},{pixels.mean() / 255:.4f},{float(kind == 'stripes') + rng.normal(0, 0.1):.4f},"
                f"person{i % 4},{i % 4}"
            )
    (root / "attributes.csv").write_text("\n".join(rows) + "\n")
    return root


def odd_images(root: Path) -> dict[str, Path]:
    """One file of each awkward kind, all 24x24: grey, RGBA with transparency, palette, 16-bit, TIFF."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    rgb = shape_image("circle", rng)
    files = {}
    rgba = np.dstack([rgb, np.full((SIDE, SIDE), 255, np.uint8)])
    rgba[:, : SIDE // 2, 3] = 0  # the left half fully transparent
    files["rgba"] = root / "rgba.png"
    Image.fromarray(rgba, "RGBA").save(files["rgba"])
    files["grey"] = root / "grey.png"
    Image.fromarray(rgb.mean(2).astype(np.uint8), "L").save(files["grey"])
    files["palette"] = root / "palette.gif"
    Image.fromarray(rgb).convert("P", palette=Image.ADAPTIVE, colors=16).save(files["palette"])
    files["sixteen"] = root / "sixteen.png"
    Image.fromarray((rgb.mean(2) * 257).astype(np.uint16)).save(files["sixteen"])
    files["tiff"] = root / "picture.tif"
    Image.fromarray(rgb).save(files["tiff"])
    return files
