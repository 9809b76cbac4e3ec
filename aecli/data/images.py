"""The one way an image file becomes pixels: training folders, LFW, CelebA and `--input` alike."""

import os
import stat
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from aecli.errors import AecliError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif")
MAX_PIXELS = 64_000_000  # per image, read from the header before anything is decoded
MAX_FILE_BYTES = 256 * 2**20
ROWS_AT_ONCE = 256  # rows of a 16-bit or float image scaled to 8 bits at a time


def check_regular_file(path: Path, what: str = "image") -> os.stat_result:
    """Refuse what is not a regular file of sane size (a FIFO would hang, /dev/zero never ends)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise AecliError(f"{what} {path} does not exist; check the path") from None
    except OSError as exc:
        raise AecliError(f"cannot open {what} {path} ({exc.strerror}); check the path") from exc
    if not stat.S_ISREG(info.st_mode):
        raise AecliError(f"{what} {path} is not a regular file; pass an image file")
    if info.st_size > MAX_FILE_BYTES:
        raise AecliError(f"{what} {path} is {info.st_size / 2**20:.0f} MiB; the limit is {MAX_FILE_BYTES >> 20} MiB")
    return info


def open_image(path: Path):
    """The image, upright, after its header passed aecli's size checks (which name the fix; PIL's would not)."""
    from PIL import Image

    check_regular_file(path)
    Image.MAX_IMAGE_PIXELS = None  # the header is checked below against aecli's own limit, which names the fix
    image = Image.open(path)
    width, height = image.size
    if width * height > MAX_PIXELS:
        image.close()
        raise AecliError(
            f"image {path} is too large ({width} x {height}); "
            f"the limit is {MAX_PIXELS:,} pixels: shrink it or leave it out"
        )
    if width == 0 or height == 0:
        image.close()
        raise AecliError(f"image {path} is empty (0 pixels); remove or replace it")
    return upright(image)


def upright(image):
    """The image as it is meant to be seen: a phone photo's EXIF orientation applied (others unchanged)."""
    from PIL import ImageOps

    try:
        orientation = image.getexif().get(0x0112, 1)
    except (OSError, ValueError, SyntaxError):  # a damaged EXIF block: the pixels as stored
        return image
    if orientation in (None, 1):
        return image
    turned = ImageOps.exif_transpose(image)
    image.close()
    return turned


def _flatten(image):
    """Any PIL mode to L (grey) or RGB: 16-bit scaled to 8, transparency over white, palettes expanded."""
    from PIL import Image

    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        values = np.asarray(image)  # its own type (16-bit, 32-bit), never widened whole
        top = 65535.0 if image.mode.startswith("I;16") else max(255.0, float(values.max()))
        out = np.empty(values.shape, dtype=np.uint8)
        for start in range(0, len(values), ROWS_AT_ONCE):  # a few rows in float32 at a time: memory stays flat
            part = values[start : start + ROWS_AT_ONCE].astype(np.float32)
            out[start : start + ROWS_AT_ONCE] = np.clip(part * np.float32(255.0 / top) + 0.5, 0, 255)
        return Image.fromarray(out, "L")
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        grey = image.mode in ("LA", "La")
        image = Image.alpha_composite(background, rgba).convert("L" if grey else "RGB")
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    return image


def square_box(width: int, height: int, crop: float, centre: tuple[float, float] | None = None) -> tuple:
    """A square of side crop x the shorter side, centred on the image (or on `centre`), inside it."""
    side = max(1, round(min(width, height) * crop))
    cx, cy = centre if centre is not None else (width / 2, height / 2)
    left = min(max(0, round(cx - side / 2)), width - side)
    top = min(max(0, round(cy - side / 2)), height - side)
    return (left, top, left + side, top + side)


def read_image(path: Path, size: int, crop: float = 1.0, grey: bool = False, box: tuple | None = None) -> np.ndarray:
    """uint8 pixels, 1 x S x S for grey images (or with `grey`) and 3 x S x S for colour ones.

    A centre square of `crop` x the shorter side (or `box`, in the file's pixels) resized to S.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with open_image(Path(path)) as image:
            width, height = image.size
            box = box or square_box(width, height, crop)
            if image.format == "JPEG":  # let the decoder shrink by 2, 4 or 8 first: much faster
                scale = max(1, min(8, (box[2] - box[0]) // (2 * size)))
                image.draft(image.mode, (width // scale, height // scale))
                ratio = image.size[0] / width
                box = tuple(v * ratio for v in box)
            flat = _flatten(image)
            if grey and flat.mode != "L":
                flat = flat.convert("L")
            resized = flat.resize((size, size), Image.LANCZOS, box=box, reducing_gap=3.0)
            pixels = np.array(resized, dtype=np.uint8)  # a writable copy
    except AecliError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise AecliError(f"cannot read {path} as an image ({reason}); remove or replace it") from exc
    return pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)


def _decode_chunk(paths: Sequence[Path], size: int, crop: float, grey: bool) -> tuple[np.ndarray, bool]:
    """Decode some files into one uint8 array (grey images fill every channel); any colour among them?"""
    channels = 1 if grey else 3
    batch = [read_image(path, size, crop, grey) for path in paths]
    stacked = np.stack([np.broadcast_to(p, (channels, size, size)) for p in batch])
    return stacked, any(p.shape[0] == 3 for p in batch)


def decode_pool(count: int, threshold: int | None = None):
    """(executor, workers) for decoding `count` files: worker processes where they can be forked cheaply
    (Linux) and there are at least `threshold` files, else threads; one per CPU.

    Decoding a small image is mostly Python-level work, so threads contend for the GIL: on 2
    cores they read more slowly than one thread (docs/decisions.md)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    workers = min(8, os.cpu_count() or 1)
    enough = count >= (PROCESS_THRESHOLD if threshold is None else threshold)
    if enough and workers > 1 and "fork" in multiprocessing.get_all_start_methods():
        return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")), workers
    return ThreadPoolExecutor(workers), workers


PROCESS_THRESHOLD = 2000  # fewer images than this are read in threads: not worth starting processes
CHUNK = 256


def read_many(
    paths: Sequence[Path],
    out,
    size: int,
    crop: float,
    grey: bool,
    on_step: Callable[[int], None] | None = None,
) -> bool:
    """Decode `paths` in parallel, in order, into `out` (`out[a:b] = batch`, N x 3 x S x S, or
    N x 1 x S x S with grey); grey images fill all three channels. True if any image had colour."""
    chunks = [paths[start : start + CHUNK] for start in range(0, len(paths), CHUNK)]
    done, any_colour = 0, False
    with decode_pool(len(paths))[0] as pool:
        for stacked, colour in pool.map(_decode_chunk, chunks, *zip(*[(size, crop, grey)] * len(chunks), strict=True)):
            out[done : done + len(stacked)] = stacked
            done += len(stacked)
            any_colour = any_colour or colour
            if on_step:
                on_step(done)
    return any_colour
