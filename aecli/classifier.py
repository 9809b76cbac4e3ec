"""An independent classifier that judges generated images (digits, or any labelled data).

Trained once per dataset on its training split and cached as safetensors under the
dataset cache (never inside a --data-dir, which may be read-only).
"""

import hashlib
import math
from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

from aecli.data import Dataset, Split
from aecli.fileio import atomic_path, save_tensors
from aecli.paths import data_cache

EPOCHS = 6  # on MNIST; a small dataset gets more, to reach MIN_STEPS
MIN_STEPS = 600  # a small dataset needs more than 6 epochs' steps (docs/decisions.md)
BATCH = 128
RECIPE = 3  # bump when the training recipe changes, so older cached judges are not reused


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
    digest.update(split.labels.numpy().tobytes())
    return digest.hexdigest()[:16]


@torch.inference_mode()
def predict(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Class predictions for float images in [0, 1]."""
    model.eval()
    return torch.cat([model(images[i : i + 512]).argmax(1) for i in range(0, len(images), 512)])


def accuracy(model: nn.Module, split: Split) -> float:
    return (predict(model, split.images.float() / 255) == split.labels).float().mean().item()


def train_classifier(data: Dataset, on_note: Callable[[str], None] | None = None) -> nn.Module:
    spec = data.spec
    model = build_classifier(spec.channels, spec.image_size, spec.num_classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    images, labels = data.train.images, data.train.labels
    epochs = max(EPOCHS, math.ceil(MIN_STEPS / math.ceil(len(images) / BATCH)))
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
        if on_note and ((epoch + 1) % (epochs // EPOCHS) == 0 or epoch + 1 == epochs):  # about six notes
            on_note(f"classifier epoch {epoch + 1}/{epochs}: test accuracy {accuracy(model, data.test):.4f}")
    return model


def load_or_train_classifier(data: Dataset, on_note: Callable[[str], None] | None = None) -> tuple[nn.Module, float]:
    """The cached classifier for this exact training split, trained first if needed."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    spec = data.spec
    path = data_cache() / "classifiers" / f"{spec.name}-{fingerprint(data.train)}-r{RECIPE}.safetensors"
    model = build_classifier(spec.channels, spec.image_size, spec.num_classes)
    try:
        model.load_state_dict(load_file(path))
    except (OSError, SafetensorError, RuntimeError):
        if on_note:
            on_note(f"Training a classifier to judge generated images (once; cached in {path.parent})")
        model = train_classifier(data, on_note)
        with atomic_path(path) as tmp:
            save_tensors({k: v.contiguous() for k, v in model.state_dict().items()}, tmp)
    return model.eval(), accuracy(model, data.test)


def generated_accuracy(
    model, classifier: nn.Module, per_class: int = 100, seed: int = 0, temperature: float | None = None
) -> dict[int, float]:
    """For each class, the share of generated images the classifier reads as that class."""
    from aecli.inference import generate

    rows = generate(model, list(range(model.num_classes)), per_class, seed, temperature)
    return {d: (predict(classifier, rows[d]) == d).float().mean().item() for d in range(len(rows))}
