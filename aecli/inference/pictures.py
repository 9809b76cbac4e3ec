"""The pictures a trained model draws: samples, classes, reconstructions, paths, traversals, attribute edits."""

from dataclasses import dataclass, field

import numpy as np
import torch

from aecli.data import Reporter
from aecli.data.inputs import expand_inputs, read_inputs
from aecli.data.pixels import as_float
from aecli.data.recorded import recorded_data
from aecli.errors import AecliError, UsageError
from aecli.inference import (
    class_latents,
    decode,
    generator,
    latent_codes,
    latent_dims,
    model_batch,
    random_labels,
    sample_latents,
)
from aecli.inference import generate as draw_classes
from aecli.inference import interpolate as draw_path
from aecli.inference import reconstruct as redraw
from aecli.inference import traverse as sweep
from aecli.registry import did_you_mean
from aecli.seeds import drawn_seed
from aecli.store.checkpoints import Checkpoint

TRAVERSE_CODES = 2000  # test codes whose spread picks the most used dimensions


@dataclass
class Images:
    """Images in [0, 1] (N x C x H x W, or rows x columns x C x H x W) and how they were made."""

    images: np.ndarray
    info: dict = field(default_factory=dict)
    row_labels: list[str] | None = None
    col_labels: list[str] | None = None


def image_shape(ckpt: Checkpoint) -> tuple[int, int, int]:
    return (ckpt.spec.channels, ckpt.spec.image_size, ckpt.spec.image_size)


def number(value: float) -> str:
    """A number as people write it: 0, -1.33, 2.5 (never -5.96e-08)."""
    text = f"{round(value, 2):g}" if abs(value) >= 0.005 else "0"
    return text if text.startswith("-") or text == "0" else "+" + text


def sample(
    ckpt: Checkpoint,
    n: int,
    seed: int | None = None,
    temperature: float | None = None,
    naive: bool = False,
    out: np.ndarray | None = None,
) -> Images:
    """n new images. With `out` (an `npy_stream` writer, say), they are written there batch by batch."""
    model = ckpt.model
    seed, temperature = drawn_seed(seed), model.temperature(temperature)
    g = generator(seed)
    labels = random_labels(model, n, g)  # first: a class model's prior may draw each code for its class
    z = sample_latents(model, n, g, naive, temperature, labels)
    images = out if out is not None else np.empty((n, *image_shape(ckpt)), dtype=np.float32)
    step = model_batch(model)
    for start in range(0, n, step):
        part = slice(start, start + step)
        images[part] = decode(model, z[part], labels[part] if labels is not None else None).numpy()
    return Images(images, {"images": n, "seed": seed, "temperature": temperature})


def resolve_classes(ckpt: Checkpoint, digit: str | None = None, class_name: str | None = None) -> list[int]:
    """`--digit D|all` (digit datasets) or `--class NAME|all` as class indices."""
    spec = ckpt.spec
    if digit is not None and class_name is not None:
        raise UsageError("give --digit or --class, not both")
    asked = digit if digit is not None else class_name if class_name is not None else "all"
    if asked.lower() == "all":
        return list(range(spec.num_classes))
    if digit is not None:
        if not spec.digit_classes:
            shown = ", ".join(spec.class_names[:10])
            raise UsageError(f"this model's classes are not digits; use --class NAME (one of: {shown}) or --class all")
        valid = f"use 0-{spec.num_classes - 1} or all"
        if not (digit.isascii() and digit.isdigit()) or len(digit) > 6:
            raise UsageError(f"--digit {digit[:20]!r} is not a digit; {valid}")
        if int(digit) >= spec.num_classes:
            raise UsageError(f"--digit {int(digit)} is outside this model's classes; {valid}")
        return [int(digit)]
    return [class_index(spec, asked)]


def class_index(spec, asked: str) -> int:
    """The index of a class named `asked` (any case), with the closest names suggested."""
    lowered = [c.lower() for c in spec.class_names]
    if asked.lower() in lowered:
        return lowered.index(asked.lower())
    if not spec.class_names:
        raise UsageError("this model's data has no classes; drop --class")
    hint = did_you_mean(asked, spec.class_names)
    shown = ", ".join(spec.class_names[:20]) + (", ..." if spec.num_classes > 20 else "")
    raise UsageError(f"unknown class {asked!r}; {hint}this model's classes: {shown}, or all")


def generate(
    ckpt: Checkpoint,
    classes: list[int],
    n: int,
    seed: int | None = None,
    temperature: float | None = None,
    out: np.ndarray | None = None,
) -> Images:
    """n images of each class, from the same seed for every class (rows: classes). With `out` (an
    `npy_stream` writer of len(classes) x n images), they are written there, a batch at a time."""
    seed, temperature = drawn_seed(seed), ckpt.model.temperature(temperature)
    if out is None:
        rows = draw_classes(ckpt.model, classes, n, seed, temperature).numpy()
    else:
        rows = np.empty(0, dtype=np.float32)
        step = model_batch(ckpt.model)
        for row, c in enumerate(classes):
            z = class_latents(ckpt.model, c, n, seed, temperature)
            for start in range(0, n, step):
                part = z[start : start + step]
                labels = torch.full((len(part),), c, dtype=torch.long)
                out[row * n + start : row * n + start + len(part)] = decode(ckpt.model, part, labels).numpy()
    labels = [ckpt.spec.class_names[c] for c in classes]
    info = {"classes": labels, "per_class": n, "seed": seed, "temperature": temperature}
    return Images(rows, info, row_labels=labels if len(classes) > 1 else None)


def shown_test_images(labels: torch.Tensor | None, n: int, total: int) -> torch.Tensor:
    """Indices of n test images spread over classes (each in turn), else evenly over the split, which
    every adapter stores grouped (by person for faces): a fixed choice, so a picture repeats."""
    keys = labels.numpy() if labels is not None else None
    if total <= n:
        return torch.arange(total)
    if keys is None:
        return torch.linspace(0, total - 1, n).round().long()
    order: list[int] = []
    members = {key: list(np.flatnonzero(keys == key)) for key in dict.fromkeys(keys.tolist())}
    while len(order) < n and any(members.values()):
        for key in members:
            if members[key] and len(order) < n:
                order.append(int(members[key].pop(0)))
    return torch.tensor(order)


def images_to_show(
    ckpt: Checkpoint, inputs: list | None, n: int, data_dir, reporter: Reporter | None, class_name: str | None = None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Your files (read as the training images were; their class from --class), else n test images."""
    if inputs:
        note = reporter.note if reporter else None
        paths = expand_inputs(inputs)
        images = read_inputs(paths, ckpt.spec, ckpt.recipe, note, ckpt.extras.get("face_frame"))
        labels = None
        if class_name is not None:
            labels = torch.full((len(images),), class_index(ckpt.spec, class_name), dtype=torch.long)
        if ckpt.model.takes_class and labels is None:
            raise UsageError(f"{ckpt.model.name} draws an image of a class; add --class NAME for your files")
        return images, labels
    if class_name is not None:
        raise UsageError("--class goes with --input (the class of your files)")
    test = recorded_data(ckpt, data_dir, reporter).test
    index = shown_test_images(test.labels, n, len(test))
    return test.images[index], test.labels[index] if test.labels is not None else None


def reconstruct(
    ckpt: Checkpoint,
    n: int = 16,
    inputs: list | None = None,
    data_dir=None,
    reporter: Reporter | None = None,
    class_name: str | None = None,
) -> Images:
    """Test images (or your own files) and their reconstructions: 2 x N x C x H x W, originals first."""
    images, labels = images_to_show(ckpt, inputs, n, data_dir, reporter, class_name)
    recon = redraw(ckpt.model, images, labels)
    originals = as_float(images)
    mse = torch.mean((recon - originals) ** 2).item()
    return Images(torch.stack([originals, recon]).numpy(), {"images": len(images), "mse": mse})


def interpolate(
    ckpt: Checkpoint, n: int = 10, seed: int = 0, data_dir=None, reporter: Reporter | None = None
) -> Images:
    """A straight line in latent space between two test images (of different classes where there are classes)."""
    test = recorded_data(ckpt, data_dir, reporter).test
    if len(test) < 2:
        raise AecliError(f"interpolate needs two test images; the test split has {len(test)}: add images")
    first, second = torch.randperm(len(test), generator=torch.Generator().manual_seed(seed))[:2].tolist()
    if test.labels is not None:  # prefer two different classes: a more telling path
        others = torch.nonzero(test.labels != test.labels[first]).squeeze(1)
        if len(others):
            second = others[seed % len(others)].item()
    pair = test.images[[first, second]]
    labels = test.labels[[first, second]] if test.labels is not None else None
    return Images(draw_path(ckpt.model, pair, labels, n).numpy(), {"steps": n, "test_indices": [first, second]})


def traverse(
    ckpt: Checkpoint,
    dims: str | None = None,
    radius: float = 3.0,
    steps: int = 9,
    seed: int = 0,
    prior: bool = False,
    data_dir=None,
    reporter: Reporter | None = None,
    stream_to=None,
) -> Images:
    """One row per latent dimension swept from -radius to +radius, in the latent distribution's standard
    deviations, around a test image's code or the distribution's mean. With `stream_to` (a function of
    the shape, dims x steps images, giving an `npy_stream`), rows are written there one at a time."""
    model, (mean, scale) = ckpt.model, ckpt.model.latent.moments()
    if prior and dims is not None and not model.takes_class:  # named dimensions around the mean: no data needed
        chosen, label, base = latent_dims(dims, torch.ones(len(mean))), None, mean
    else:
        test = recorded_data(ckpt, data_dir, reporter).test
        codes = latent_codes(
            model, test.images[:TRAVERSE_CODES], test.labels[:TRAVERSE_CODES] if test.labels is not None else None
        )
        chosen = latent_dims(dims, codes.std(0) if len(codes) > 1 else torch.ones(codes.shape[1]))
        index = int(torch.randint(len(test), (1,), generator=torch.Generator().manual_seed(seed)))
        label = int(test.labels[index]) if test.labels is not None else None
        own_label = test.labels[index : index + 1] if test.labels is not None else None
        base = mean if prior else latent_codes(model, test.images[index : index + 1], own_label, refine=True)[0]
    offsets = torch.linspace(-radius, radius, steps)
    if stream_to is None:
        rows = sweep(model, base, chosen, offsets, scale, label).numpy()
    else:
        rows = np.empty(0, dtype=np.float32)
        with stream_to((len(chosen), steps, *image_shape(ckpt))) as out:
            for row, dim in enumerate(chosen):
                out[row : row + 1] = sweep(model, base, [dim], offsets, scale, label).numpy()
    info = {
        "dims": chosen,
        "range": radius,
        "steps": steps,
        "from": "the latent distribution's mean" if prior else f"test image {index}",
        "units": model.latent.unit,
    }
    if label is not None and model.takes_class:
        info["class"] = ckpt.spec.class_names[label]
    col_labels = [number(t) for t in offsets.tolist()]
    return Images(rows, info, row_labels=[f"z{d}" for d in chosen], col_labels=col_labels)


def smile(
    ckpt: Checkpoint,
    attribute: str = "Smiling",
    strength: float = 1.5,
    steps: int = 5,
    n: int = 8,
    inputs: list | None = None,
    data_dir=None,
    reporter: Reporter | None = None,
) -> Images:
    """Faces moved along an attribute direction: N x K (one column per strength from 0 to `strength`)."""
    from aecli.inference.attributes import apply_attribute, find_attribute

    index = find_attribute(ckpt.spec, attribute)
    directions = ckpt.extras.get("attribute_directions")
    if directions is None:
        raise AecliError(f"{ckpt.path} stores no attribute vectors; retrain it on data with attributes")
    if inputs:
        faces, labels = images_to_show(ckpt, inputs, n, data_dir, reporter)
    else:
        test = recorded_data(ckpt, data_dir, reporter).test
        scores = test.attributes[:, index] if test.attributes is not None else None
        if scores is None or torch.isnan(scores).all():
            raise AecliError("the test faces have no attribute scores; pass your own photos with --input")
        known = torch.nonzero(~torch.isnan(scores)).squeeze(1)
        chosen = known[torch.argsort(scores[known])][:n]
        faces, labels = test.images[chosen], test.labels[chosen] if test.labels is not None else None
    strengths = torch.linspace(0, strength, steps).tolist()
    grid = apply_attribute(ckpt.model, faces, directions[index], strengths, labels).numpy()
    col_labels = [number(s) for s in strengths]
    if inputs:  # the photo itself first, then its edits
        grid = np.concatenate([as_float(faces).numpy()[:, None], grid], axis=1)
        col_labels = ["photo", *col_labels]
    info = {"attribute": ckpt.spec.attribute_names[index], "faces": len(faces), "strengths": strengths}
    return Images(grid, info, col_labels=col_labels)
