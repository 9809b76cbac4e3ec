"""Small LFW data in the real formats: a person tree of JPEGs, a .tgz, an attributes file."""

import io
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image

PEOPLE = ["Ann_Alpha", "Bob_Beta", "Cid_Gamma", "Dee_Delta", "Eve_Epsilon", "Fay_Zeta", "Gus_Eta", "Hal_Theta"]
PER_PERSON = 4
ATTRIBUTES = ["Male", "Smiling", "Eyeglasses"]


def face(rng: np.random.Generator, smile: float) -> Image.Image:
    """A 60x60 colour 'face': an oval with a mouth whose curve follows `smile`."""
    y, x = np.mgrid[0:60, 0:60]
    pixels = np.zeros((60, 60, 3))
    pixels[((x - 30) / 18) ** 2 + ((y - 30) / 24) ** 2 < 1] = rng.uniform(0.5, 0.9, 3)
    mouth_y = 42 - smile * 3 * ((x - 30) / 10) ** 2
    pixels[(np.abs(y - mouth_y) < 1.5) & (np.abs(x - 30) < 10)] = 0.1
    pixels += rng.normal(0, 0.03, pixels.shape)
    return Image.fromarray(np.clip(pixels * 255, 0, 255).astype(np.uint8))


def make_lfw_tree(root: Path, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    rows = []
    for person in PEOPLE:
        (root / person).mkdir(parents=True, exist_ok=True)
        for num in range(1, PER_PERSON + 1):
            smile = rng.uniform(-1, 1)
            face(rng, smile).save(root / person / f"{person}_{num:04d}.jpg", quality=95)
            if not (person == PEOPLE[0] and num == 1):  # one image without attributes
                rows.append(
                    f"{person.replace('_', ' ')}\t{num}\t{rng.normal():.6f}\t{smile * 2:.6f}\t{rng.normal():.6f}"
                )
    header = "# lfw attributes (test copy)\n#\tperson\timagenum\t" + "\t".join(ATTRIBUTES)
    (root / "lfw_attributes.txt").write_text(header + "\n" + "\n".join(rows) + "\n")
    return root


def make_lfw_tgz(tree: Path, archive: Path) -> Path:
    with tarfile.open(archive, "w:gz") as tar:
        for person in PEOPLE:
            tar.add(tree / person, arcname=f"lfw_funneled/{person}")
    return archive


def make_malicious_tgz(archive: Path, kind: str) -> Path:
    with tarfile.open(archive, "w:gz") as tar:
        good = tarfile.TarInfo("lfw/Ann_Alpha/Ann_Alpha_0001.jpg")
        data = io.BytesIO()
        face(np.random.default_rng(0), 0).save(data, format="JPEG")
        good.size = len(data.getvalue())
        tar.addfile(good, io.BytesIO(data.getvalue()))
        bad = tarfile.TarInfo(
            {"dotdot": "../../escaped.txt", "absolute": "/tmp/aecli-escaped.txt"}.get(kind, "lfw/link")
        )
        if kind == "symlink":
            bad.type, bad.linkname = tarfile.SYMTYPE, "/etc/passwd"
        elif kind == "hardlink":
            bad.type, bad.linkname = tarfile.LNKTYPE, "../../outside.txt"
        elif kind == "device":
            bad.type = tarfile.CHRTYPE
        else:
            bad.size = 4
        tar.addfile(bad, io.BytesIO(b"evil") if bad.isfile() else None)
    return archive
