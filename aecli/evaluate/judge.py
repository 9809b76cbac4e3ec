"""An independent classifier that judges generated images (digits, or any labelled data).

MNIST's judge ships with aecli (scripts/train_judge.py made it); for other data it is trained
once per training split and cached as safetensors under the dataset cache (never inside a
--data-dir, which may be read-only).
"""

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from aecli.data import Dataset, Split
from aecli.fileio import atomic_path, cache_folder, save_tensors
from aecli.paths import PRETRAINED

EPOCHS = 6  # on MNIST; a small dataset gets more, to reach MIN_STEPS
MIN_STEPS = 600  # a small dataset needs more than 6 epochs' steps (docs/decisions.md)
BATCH = 128
RECIPE = 5  # bump when the training recipe changes, so older cached judges are not reused


def build_classifier(channels: int, image_size: int, num_classes: int) -> nn.Module:
    side = image_size // 4
    return nn.Sequential(
        nn.Conv2d(channels, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.25),
        nn.Linear(64 * side * side, 128),
        nn.ReLU(),
        nn.Linear(128, num_classes),
    )


def fingerprint(split: Split) -> str:
    digest = hashlib.sha256(split.images.numpy().tobytes())
    for table in (split.labels, split.attributes):
        if table is not None:
            digest.update(table.numpy().tobytes())
    return digest.hexdigest()[:16]


@torch.inference_mode()
def predict(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Class predictions for float images in [0, 1]."""
    model.eval()
    return torch.cat([model(images[i : i + 512]).argmax(1) for i in range(0, len(images), 512)])


def accuracy(model: nn.Module, split: Split) -> float:
    return (predict(model, split.images.float() / 255) == split.labels).float().mean().item()


def train_classifier(
    data: Dataset, on_note: Callable[[str], None] | None = None, epochs: int | None = None
) -> nn.Module:
    """The judge's recipe: EPOCHS epochs (more for a small set, to reach MIN_STEPS), or `epochs` if given."""
    spec = data.spec
    model = build_classifier(spec.channels, spec.image_size, spec.num_classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    images, labels = data.train.images, data.train.labels
    epochs = epochs or max(EPOCHS, math.ceil(MIN_STEPS / math.ceil(len(images) / BATCH)))
    for epoch in range(epochs):
        model.train()
        for group in optimizer.param_groups:
            # the rate halves every sixth of the run (each epoch on MNIST)
            group["lr"] = 1e-3 * 0.5 ** (epoch * EPOCHS / epochs)
        for index in torch.randperm(len(images), generator=generator).split(BATCH):
            x = images[index].float() / 255
            # small random shifts make the judge robust to off-centre generated digits
            dx, dy = torch.randint(-2, 3, (2,), generator=generator).tolist()
            x = torch.roll(x, shifts=(dy, dx), dims=(2, 3))
            loss = F.cross_entropy(model(x), labels[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if on_note and ((epoch + 1) % max(1, epochs // EPOCHS) == 0 or epoch + 1 == epochs):  # about six notes
            on_note(f"classifier epoch {epoch + 1}/{epochs}: test accuracy {accuracy(model, data.test):.4f}")
    return model


BUNDLED_JUDGE = PRETRAINED / "mnist" / "judge.safetensors"
FEATURE_MEAN, FEATURE_COV = "features.mean", "features.cov"  # the training split's judge features
CAS_REFERENCE = "reference.cas"  # the CAS recipe run on real training images: what a perfect model would score
CAS_EPOCHS, CAS_IMAGES, CAS_MIN_STEPS = 2, 10_000, 150  # 2 epochs of 10,000: 158 steps


@dataclass
class Judge:
    """The classifier that judges generated images, its test accuracy, and the mean and covariance of
    its features over the training split (the reference for the classifier FID)."""

    model: nn.Module
    test_accuracy: float
    train_features: tuple[torch.Tensor, torch.Tensor]
    cas_reference: float
    bundled: bool = False


@torch.inference_mode()
def features(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """The judge's penultimate activations (128 per image) for float images in [0, 1]."""
    model.eval()
    body = model[:-1]
    return torch.cat([body(images[i : i + 512]).double() for i in range(0, len(images), 512)])


def feature_statistics(values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return values.mean(0), torch.cov(values.T)


def _uses_bundled_judge(spec) -> bool:
    return spec.name == "mnist" and (spec.channels, spec.image_size) == (1, 28) and BUNDLED_JUDGE.is_file()


def _load(path: Path, model: nn.Module) -> tuple[tuple[torch.Tensor, torch.Tensor], float]:
    """Load a judge's weights into `model`; its feature statistics and CAS reference."""
    from safetensors.torch import load_file

    tensors = load_file(path)
    extras = [tensors.pop(key, None) for key in (FEATURE_MEAN, FEATURE_COV, CAS_REFERENCE)]
    if any(extra is None for extra in extras):
        raise RuntimeError(f"{path} lacks the judge's reference figures")
    mean, cov, cas = extras
    width = model[-1].in_features
    if mean.shape != (width,) or cov.shape != (width, width) or cas.numel() != 1 or not torch.isfinite(cov).all():
        raise RuntimeError(f"{path} holds reference figures of the wrong shape")
    model.load_state_dict(tensors)
    return (extras[0], extras[1]), extras[2].item()


def cas_accuracy(train: Split, data: Dataset) -> float:
    """CAS's recipe: train on `train` (the first CAS_IMAGES), test on the real test split."""
    torch.manual_seed(0)
    train = train.head(CAS_IMAGES)
    epochs = max(CAS_EPOCHS, math.ceil(CAS_MIN_STEPS / math.ceil(len(train) / BATCH)))  # small sets: more epochs
    return accuracy(train_classifier(Dataset(data.spec, train, data.test), epochs=epochs), data.test)


def save_judge(model: nn.Module, data: Dataset, path: Path) -> None:
    """The judge with its training features' statistics and the CAS of real training images."""
    tensors = {k: v.contiguous() for k, v in model.state_dict().items()}
    mean, cov = feature_statistics(features(model, data.train.images.float() / 255))
    shuffled = torch.randperm(len(data.train), generator=torch.Generator().manual_seed(0))[:CAS_IMAGES]
    real = Split(data.train.images[shuffled], data.train.labels[shuffled])
    tensors.update({FEATURE_MEAN: mean, FEATURE_COV: cov, CAS_REFERENCE: torch.tensor(cas_accuracy(real, data))})
    with atomic_path(path) as tmp:
        save_tensors({k: v.contiguous() for k, v in tensors.items()}, tmp)


def load_judge(data: Dataset, on_note: Callable[[str], None] | None = None) -> Judge:
    """MNIST's judge ships with aecli; for other data it is trained once per training split and cached."""
    from safetensors import SafetensorError

    spec = data.spec
    model = build_classifier(spec.channels, spec.image_size, spec.num_classes)
    if _uses_bundled_judge(spec):
        statistics, cas = _load(BUNDLED_JUDGE, model)
        return Judge(model.eval(), accuracy(model, data.test), statistics, cas, bundled=True)
    path = cache_folder("classifiers") / f"{spec.name}-{fingerprint(data.train)}-r{RECIPE}.safetensors"
    try:
        statistics, cas = _load(path, model)
    except (OSError, SafetensorError, RuntimeError):
        if on_note:
            minutes = max(1, round(len(data.train) * EPOCHS / 60_000))  # about a minute per 60,000 images here
            on_note(
                f"Training a classifier to judge generated images (once, about {minutes} min on a laptop CPU; "
                f"cached in {path.parent})"
            )
        save_judge(train_classifier(data, on_note), data, path)
        statistics, cas = _load(path, model)
    return Judge(model.eval(), accuracy(model, data.test), statistics, cas)
