"""A trained model run over your own files, batch by batch: latent codes (encode) and anomaly scores (score).

Files are read exactly as the checkpoint's training images were (data/inputs.py), decoded in worker
processes a bounded number of batches ahead, so memory stays flat however many files there are.
A file that cannot be read is reported and left out; the rest go on.
"""

import glob
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from aecli.data.images import IMAGE_SUFFIXES, decode_pool
from aecli.data.inputs import read_input
from aecli.data.prepare import scan_images
from aecli.errors import AecliError, UsageError
from aecli.store.checkpoints import Checkpoint

READ_CHUNK = 64  # files one worker decodes at a time
AHEAD = 4  # chunks decoded ahead of the model, per worker


@dataclass(frozen=True)
class InputFile:
    path: str  # where it is read from
    shown: str  # as given, or relative to the folder given
    label: int  # its class (-1: none known)


def find_inputs(inputs: list, class_names: tuple[str, ...], class_index: int | None = None) -> list[InputFile]:
    """Image files, glob patterns and folders (searched recursively) as InputFiles, in the order given.
    A file's class is that of its class subfolder when the model knows the subfolder's name, or
    `class_index` for every file when given."""
    known = {name: i for i, name in enumerate(class_names)}
    found: list[InputFile] = []

    def label(parts: list[str]) -> int:
        if class_index is not None:
            return class_index
        return known.get(parts[-2], -1) if len(parts) > 1 else -1

    for given in inputs:
        text = os.fsdecode(given)
        if os.path.isdir(text):
            odd: list[str] = []
            for rel, *_ in scan_images(Path(text), odd):
                found.append(InputFile(os.path.join(text, rel), rel, label(rel.split("/"))))
            found += [InputFile(os.path.join(text, rel), rel, -1) for rel in odd]  # each refused with its name
        elif any(ch in text for ch in "*?[") and not os.path.exists(text):
            matches = sorted(m for m in glob.glob(text, recursive=True) if m.lower().endswith(IMAGE_SUFFIXES))
            if not matches:
                raise AecliError(f"{text} matches no image file; check the pattern")
            found += [InputFile(m, m, label(Path(m).parts)) for m in matches]
        else:
            found.append(InputFile(text, text, label(Path(text).parts)))
    return found


def split_inputs(ckpt: Checkpoint, split: str, data_dir=None, reporter=None) -> tuple[torch.Tensor, torch.Tensor]:
    """The checkpoint's own train or test images and labels (-1 where the data has no classes)."""
    from aecli.data.recorded import recorded_data

    data = recorded_data(ckpt, data_dir, reporter)
    part = data.train if split == "train" else data.test
    if not len(part):
        raise AecliError(f"the {split} split of {ckpt.recipe.dataset} is empty here; point --data-dir at the data")
    labels = part.labels if part.labels is not None else torch.full((len(part),), -1, dtype=torch.long)
    return part.images, labels


def _read_chunk(files: list[InputFile], spec, recipe, face_frame) -> tuple[list[int], np.ndarray | None, list, int]:
    """(indices read, their pixels, (file, reason) of the others, how many were inverted)."""
    kept, pixels, failed, inverted = [], [], [], 0
    for i, item in enumerate(files):
        try:
            image, notes = read_input(Path(item.path), spec, recipe, face_frame)
        except AecliError as exc:
            failed.append((item.shown, str(exc)))
            continue
        kept.append(i)
        pixels.append(image)
        inverted += any(note.startswith("dark strokes") for note in notes)
    return kept, (np.stack(pixels) if pixels else None), failed, inverted


@dataclass
class ReadReport:
    images: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    inverted: int = 0


def read_batches(
    ckpt: Checkpoint, files: list[InputFile], report: ReadReport, on_skip: Callable[[str, str], None] | None = None
) -> Iterator[tuple[list[InputFile], torch.Tensor, torch.Tensor]]:
    """(files, uint8 images, labels) in input order, the unreadable ones left out and reported."""
    chunks = [files[i : i + READ_CHUNK] for i in range(0, len(files), READ_CHUNK)]
    args = (ckpt.spec, ckpt.recipe, ckpt.extras.get("face_frame"))
    pool, workers = decode_pool(len(files), 4 * READ_CHUNK)
    with pool:
        pending: list[Future] = []
        for index in range(len(chunks) + 1):
            while pending and (len(pending) > AHEAD * workers or index == len(chunks)):
                chunk, future = pending.pop(0)
                kept, pixels, failed, inverted = future.result()
                for shown, reason in failed:
                    report.skipped.append((shown, reason))
                    if on_skip:
                        on_skip(shown, reason)
                report.inverted += inverted
                if pixels is not None:
                    chosen = [chunk[i] for i in kept]
                    report.images += len(chosen)
                    labels = torch.tensor([item.label for item in chosen], dtype=torch.long)
                    yield chosen, torch.from_numpy(pixels), labels
            if index < len(chunks):
                pending.append((chunks[index], pool.submit(_read_chunk, chunks[index], *args)))


def regroup(batches: Iterator, size: int) -> Iterator[tuple[list[InputFile], torch.Tensor, torch.Tensor]]:
    """Consecutive batches joined to at least `size` images: the model runs far faster on full batches
    than on the decoders' small chunks."""
    files, images, labels, count = [], [], [], 0
    for part in batches:
        files += part[0]
        images.append(part[1])
        labels.append(part[2])
        count += len(part[0])
        if count >= size:
            yield files, torch.cat(images), torch.cat(labels)
            files, images, labels, count = [], [], [], 0
    if count:
        yield files, torch.cat(images), torch.cat(labels)


def class_labels(ckpt: Checkpoint, labels: torch.Tensor) -> torch.Tensor | None:
    """Labels a class model needs (refusing files of no known class); None for other models."""
    if not ckpt.model.takes_class:
        return None
    if (labels < 0).any():
        raise UsageError(
            f"{ckpt.model.name} encodes an image with its class: put the files in subfolders named by class "
            f"({', '.join(ckpt.spec.class_names[:5])}, ...) or give --class NAME"
        )
    return labels


@torch.inference_mode()
def encode_batch(ckpt: Checkpoint, images: torch.Tensor, labels: torch.Tensor) -> dict[str, np.ndarray]:
    """Latent means, log-variances (None for a deterministic encoder) and reconstruction errors of a batch."""
    from aecli.data.pixels import as_float
    from aecli.inference import device_of, model_batch

    model, device = ckpt.model, device_of(ckpt.model)
    model.eval()
    y_all = class_labels(ckpt, labels)
    parts: dict[str, list] = {"codes": [], "logvar": [], "mse": []}
    step = model_batch(model)
    for start in range(0, len(images), step):
        x = as_float(images[start : start + step].to(device))
        y = y_all[start : start + step].to(device) if y_all is not None else None
        mu, logvar = model.encode_distribution(x, y)
        error = (model.decode(mu, y).float() - x.float()).square().flatten(1).mean(1)
        parts["codes"].append(mu.float().cpu())
        parts["logvar"].append(logvar.float().cpu() if logvar is not None else None)
        parts["mse"].append(error.double().cpu())
    codes = torch.cat(parts["codes"]).numpy()
    logvar = None if parts["logvar"][0] is None else torch.cat(parts["logvar"]).numpy()
    mse = torch.cat(parts["mse"]).numpy()
    psnr = 10 * np.log10(1.0 / np.maximum(mse, 1e-12))
    return {"codes": codes, "logvar": logvar, "mse": mse, "psnr": psnr}
