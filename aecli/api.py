"""The Python API: one function per command. Each returns arrays or plain dataclasses and never prints.

from aecli import api
run = api.train(api.TrainSettings(model="vae", data=api.DataRecipe("digits"), epochs=5))
ckpt = api.load("vae", run.run_dir)
images = api.sample(ckpt, 64, seed=0).images        # float32 N x C x H x W in [0, 1]
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from aecli.store.checkpoints import Checkpoint, find_checkpoint, load_checkpoint
from aecli.data import DataRecipe, Dataset, Reporter, load_dataset
from aecli.data.inputs import expand_inputs, read_inputs
from aecli.data.pixels import as_float
from aecli.device import resolve_device
from aecli.errors import AecliError, UsageError
from aecli.models import MODELS
from aecli.registry import did_you_mean
from aecli.train.loop import TrainResult, TrainSettings
from aecli.train.loop import train as _train

__all__ = [
    "DataRecipe",
    "Reporter",
    "TrainSettings",
    "compare",
    "embed",
    "evaluate",
    "generate",
    "interpolate",
    "load",
    "reconstruct",
    "resolve_classes",
    "sample",
    "smile",
    "test_data",
    "train",
    "traverse",
]


def train(
    settings: TrainSettings, device: str = "auto", out: Path | None = None, resume: bool = False, **hooks
) -> TrainResult:
    """Train (or with `resume`, continue) a model; hooks: on_progress, on_epoch, reporter."""
    return _train(settings, device=device, out=out, resume=resume, **hooks)


def load(model: str, checkpoint: Path | str | None = None, device: str = "auto", announce=None) -> Checkpoint:
    """MODEL's checkpoint: `checkpoint`, else the newest run in the model home, else the bundled one."""
    MODELS.get(model)
    path = find_checkpoint(model, Path(checkpoint) if checkpoint is not None else None, announce=announce)
    return load_checkpoint(path, model, resolve_device(device))


def test_data(ckpt: Checkpoint, data_dir: Path | str | None = None, reporter: Reporter | None = None) -> Dataset:
    """The data a checkpoint was trained on, read by its recipe (`data_dir` points it at other files)."""
    from dataclasses import replace

    recipe = ckpt.recipe
    if data_dir is not None:
        if recipe.dataset in ("digits", "lfw-mini"):
            raise UsageError(f"{recipe.dataset} ships with aecli's dependencies; drop --data-dir")
        recipe = replace(recipe, data_dir=str(Path(data_dir).expanduser().resolve()))
    if recipe.dataset == "mnist" and recipe.data_dir is None:  # the test split ships with aecli
        from aecli.data.sets.idx import bundled_mnist_test

        data = bundled_mnist_test()
        data.test = data.test.head(recipe.limit) if recipe.limit is not None else data.test
        return data
    return load_dataset(recipe, reporter=reporter)


@dataclass
class Images:
    """Images in [0, 1] (N x C x H x W, or rows x columns x C x H x W) and how they were made."""

    images: np.ndarray
    info: dict = field(default_factory=dict)
    row_labels: list[str] | None = None
    col_labels: list[str] | None = None


def drawn_seed(seed: int | None) -> int:
    """The seed to use: as given, else a fresh one, reported so the result can be made again."""
    import random

    return seed if seed is not None else random.randrange(2**32)


def sample(
    ckpt: Checkpoint,
    n: int,
    seed: int | None = None,
    temperature: float | None = None,
    naive: bool = False,
    out: np.ndarray | None = None,
) -> Images:
    """n new images. With `out` (say an `outputs.npy_stream` writer), they are written there batch by batch."""
    from aecli.inference import BATCH, decode, generator, sample_latents, temperature_for

    seed, temperature = drawn_seed(seed), temperature_for(ckpt.model, temperature)
    g = generator(seed)
    z = sample_latents(ckpt.model, n, g, ckpt.extras, naive, temperature)
    labels = torch.randint(ckpt.model.num_classes, (n,), generator=g) if ckpt.model.conditional else None
    images = out if out is not None else np.empty((n, *ckpt_image_shape(ckpt)), dtype=np.float32)
    for start in range(0, n, BATCH):
        part = slice(start, start + BATCH)
        images[part] = decode(ckpt.model, z[part], labels[part] if labels is not None else None).numpy()
    return Images(images, {"images": n, "seed": seed, "temperature": temperature})


def ckpt_image_shape(ckpt: Checkpoint) -> tuple[int, int, int]:
    return (ckpt.spec.channels, ckpt.spec.image_size, ckpt.spec.image_size)


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
        if not digit.isdigit():
            raise UsageError(f"--digit {digit!r} is not a digit; {valid}")
        if int(digit) >= spec.num_classes:
            raise UsageError(f"--digit {int(digit)} is outside this model's classes; {valid}")
        return [int(digit)]
    lowered = [c.lower() for c in spec.class_names]
    if asked.lower() in lowered:
        return [lowered.index(asked.lower())]
    hint = did_you_mean(asked, spec.class_names)
    shown = ", ".join(spec.class_names[:20]) + (", ..." if spec.num_classes > 20 else "")
    raise UsageError(f"unknown class {asked!r}; {hint}this model's classes: {shown}, or all")


def generate(
    ckpt: Checkpoint, classes: list[int], n: int, seed: int | None = None, temperature: float | None = None
) -> Images:
    """n images of each class, the same latent vectors for every class (rows: classes)."""
    from aecli.inference import generate as draw
    from aecli.inference import temperature_for

    seed, temperature = drawn_seed(seed), temperature_for(ckpt.model, temperature)
    rows = draw(ckpt.model, classes, n, seed, temperature).numpy()
    labels = [ckpt.spec.class_names[c] for c in classes]
    info = {"classes": labels, "per_class": n, "seed": seed, "temperature": temperature}
    return Images(rows, info, row_labels=labels if len(classes) > 1 else None)


def _inputs_or_test(
    ckpt: Checkpoint, inputs: list | None, n: int, data_dir, reporter: Reporter | None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    if inputs:
        note = reporter.note if reporter else None
        return read_inputs(expand_inputs(inputs), ckpt.spec, ckpt.recipe, note, ckpt.extras.get("face_frame")), None
    test = test_data(ckpt, data_dir, reporter).test.head(n)
    return test.images, test.labels


def reconstruct(
    ckpt: Checkpoint, n: int = 16, inputs: list | None = None, data_dir=None, reporter: Reporter | None = None
) -> Images:
    """Test images (or your own files) and their reconstructions: 2 x N x C x H x W, originals first."""
    from aecli.inference import reconstruct as run

    if inputs and ckpt.model.conditional:
        raise UsageError(f"{ckpt.model.name} needs the class of each image; reconstruct your own images with vae or ae")
    images, labels = _inputs_or_test(ckpt, inputs, n, data_dir, reporter)
    recon = run(ckpt.model, images, labels if ckpt.model.conditional else None)
    originals = as_float(images)
    mse = torch.mean((recon - originals) ** 2).item()
    return Images(torch.stack([originals, recon]).numpy(), {"images": len(images), "mse": mse})


def interpolate(
    ckpt: Checkpoint, n: int = 10, seed: int = 0, data_dir=None, reporter: Reporter | None = None
) -> Images:
    """A straight line in latent space between two test images (of different classes where there are classes)."""
    from aecli.inference import interpolate as run

    test = test_data(ckpt, data_dir, reporter).test
    first, second = torch.randperm(len(test), generator=torch.Generator().manual_seed(seed))[:2].tolist()
    if test.labels is not None:  # prefer two different classes: a more telling path
        others = torch.nonzero(test.labels != test.labels[first]).squeeze(1)
        if len(others):
            second = others[seed % len(others)].item()
    pair = test.images[[first, second]]
    labels = test.labels[[first, second]] if ckpt.model.conditional else None
    return Images(run(ckpt.model, pair, labels, n).numpy(), {"steps": n, "test_indices": [first, second]})


def traverse(
    ckpt: Checkpoint,
    dims: str | None = None,
    radius: float = 3.0,
    steps: int = 9,
    seed: int = 0,
    prior: bool = False,
    data_dir=None,
    reporter: Reporter | None = None,
) -> Images:
    """One row per latent dimension swept from -radius to +radius (in the dimension's standard deviations:
    the prior's for vae/cvae, the test codes' for ae) around a test image's code or the prior's mean."""
    from aecli.inference import latent_codes, latent_dims
    from aecli.inference import traverse as run

    model, test = ckpt.model, test_data(ckpt, data_dir, reporter).test
    labels = test.labels if model.conditional else None
    codes = latent_codes(model, test.images[:2000], labels[:2000] if labels is not None else None)
    spread = codes.std(0) if len(codes) > 1 else torch.ones(codes.shape[1])
    chosen = latent_dims(dims, spread)
    index = int(torch.randint(len(test), (1,), generator=torch.Generator().manual_seed(seed)))
    label = int(labels[index]) if labels is not None else None
    own_label = labels[index : index + 1] if labels is not None else None
    if model.variational:  # the prior's mean, and its spread as the unit
        prior_mean, scale = model.prior.moments()
    else:  # the ae's "prior" is the Gaussian fitted to its training codes; the unit is the test codes' spread
        prior_mean = ckpt.extras["latent_mean"].float() if "latent_mean" in ckpt.extras else torch.zeros_like(codes[0])
        scale = spread
    base = prior_mean if prior else latent_codes(model, test.images[index : index + 1], own_label, refine=True)[0]
    offsets = torch.linspace(-radius, radius, steps)
    rows = run(model, base, chosen, offsets, scale, label).numpy()
    info = {
        "dims": chosen,
        "range": radius,
        "steps": steps,
        "from": "prior mean" if prior else f"test image {index}",
        "units": "prior standard deviations" if model.variational else "standard deviations of the test codes",
    }
    if label is not None:
        info["class"] = ckpt.spec.class_names[label]
    return Images(rows, info, row_labels=[f"z{d}" for d in chosen], col_labels=[f"{t:+g}" for t in offsets.tolist()])


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

    if ckpt.model.name != "ae":
        raise UsageError(f"smile needs an ae model (trained on faces with attributes), not {ckpt.model.name}")
    index = find_attribute(ckpt.spec, attribute)
    directions = ckpt.extras.get("attribute_directions")
    if directions is None:
        raise AecliError(f"{ckpt.path} stores no attribute vectors; retrain it on data with attributes")
    if inputs:
        faces, _ = _inputs_or_test(ckpt, inputs, n, data_dir, reporter)
    else:
        test = test_data(ckpt, data_dir, reporter).test
        scores = test.attributes[:, index] if test.attributes is not None else None
        if scores is None or torch.isnan(scores).all():
            raise AecliError("the test faces have no attribute scores; pass your own photos with --input")
        known = torch.nonzero(~torch.isnan(scores)).squeeze(1)
        faces = test.images[known[torch.argsort(scores[known])][:n]]
    strengths = torch.linspace(0, strength, steps).tolist()
    grid = apply_attribute(ckpt.model, faces, directions[index], strengths).numpy()
    col_labels = [f"{s:+.2f}" for s in strengths]
    if inputs:  # the photo itself first, then its edits
        grid = np.concatenate([as_float(faces).numpy()[:, None], grid], axis=1)
        col_labels = ["photo", *col_labels]
    info = {"attribute": ckpt.spec.attribute_names[index], "faces": len(faces), "strengths": strengths}
    return Images(grid, info, col_labels=col_labels)


@dataclass
class Embedding:
    model: str
    codes: np.ndarray  # N x latent
    labels: np.ndarray  # class index per image, or an attribute value
    categorical: bool
    legend: str
    scores: dict = field(default_factory=dict)


def embed(ckpt: Checkpoint, data: Dataset, n: int = 5000, attribute: str = "Smiling") -> Embedding:
    """Latent codes of the first n test images, with their classes (or an attribute) and a cluster score."""
    from aecli.inference.attributes import find_attribute
    from aecli.evaluate.likelihood import cluster_scores, embeddings

    test = data.test
    count = min(n, len(test))
    codes = embeddings(ckpt.model, test, count)
    if test.labels is not None:
        labels = test.labels[:count].numpy()
        legend = "digit" if data.spec.digit_classes else "class"
        return Embedding(ckpt.model.name, codes, labels, True, legend, cluster_scores(codes, labels))
    index = find_attribute(data.spec, attribute)
    values = test.attributes[:count, index].numpy()
    known = ~np.isnan(values)
    scores = {}
    if known.sum() >= 10:
        from sklearn.model_selection import cross_val_score
        from sklearn.neighbors import KNeighborsRegressor

        r2 = cross_val_score(KNeighborsRegressor(5), codes[known], values[known], cv=5, scoring="r2").mean()
        scores = {"knn_r2": float(r2)}
    return Embedding(ckpt.model.name, codes, values, False, data.spec.attribute_names[index], scores)


def compare(
    checkpoints: list[Checkpoint],
    n: int = 5000,
    seed: int = 0,
    attribute: str = "Smiling",
    data_dir=None,
    reporter=None,
):
    """t-SNE of several models' test latents (all trained on the same data): (embeddings, 2-D points, data)."""
    from aecli.evaluate.likelihood import tsne_2d

    # a named set is the same data wherever it was read from; a folder is its path
    recipes = {
        (c.recipe.dataset, c.recipe.data_dir if c.recipe.dataset == "folder" else None, c.recipe.image_size)
        for c in checkpoints
    }
    if len(recipes) > 1:
        found = ", ".join(f"{c.model.name} on {c.recipe.dataset}" for c in checkpoints)
        raise UsageError(f"the models were trained on different data ({found}); train them on the same --dataset")
    data = test_data(checkpoints[0], data_dir, reporter)
    embedded = [embed(c, data, n, attribute) for c in checkpoints]
    return embedded, [tsne_2d(e.codes, seed) for e in embedded], data


def evaluate(
    ckpt: Checkpoint,
    k: int | None = None,
    data_dir=None,
    reporter: Reporter | None = None,
    binarize: bool = False,
    samples: bool = True,
    attribute: str | None = None,
    test_images: int | None = None,
) -> dict:
    """Test metrics, each with the protocol it follows (`protocols`); for a labelled dataset also how
    good generated images are (classifier FID, and GAN-test and CAS for conditional models)."""
    from aecli.evaluate.likelihood import evaluate as run
    from aecli.evaluate.likelihood import protocols

    reporter = reporter or Reporter()
    data = test_data(ckpt, data_dir, reporter)
    metrics = {"model": ckpt.model.name, "checkpoint": str(ckpt.path), "dataset": data.spec.name}
    metrics["test_split_images"] = len(data.test)
    if test_images is not None:
        data.test = data.test.head(test_images)
    binarized = binarize or bool(ckpt.training.get("binarize"))
    k = k or (5000 if binarized else 20)  # 5000: the IWAE paper's protocol; 20 keeps a grey-level eval quick
    metrics.update(run(ckpt.model, data.test, binarized=binarized, k=k, progress=reporter.progress))
    if not ckpt.model.variational and len(data.train):
        from aecli.evaluate.likelihood import pca_floor

        metrics.update(pca_floor(data.train, data.test, ckpt.model.config.latent_dim, data.spec.mirrored))
    directions = ckpt.extras.get("attribute_directions")
    if attribute is not None or (directions is not None and data.test.attributes is not None):
        from aecli.evaluate.attribute_edits import checkpoint_edit_metrics

        metrics.update(checkpoint_edit_metrics(ckpt, data, attribute))
    if samples and ckpt.model.variational and data.test.labels is not None:
        from aecli.evaluate.sample_quality import sample_metrics

        metrics.update(sample_metrics(ckpt.model, data, reporter))
    metrics["protocols"] = protocols(metrics)
    return metrics
