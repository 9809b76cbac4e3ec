"""What a training run is asked to do, what it reports, and the defaults decided from the model and data."""

import math
from dataclasses import dataclass, field
from pathlib import Path

import torch

from aecli.data import DataRecipe
from aecli.models import Autoencoder

WARMUP = 0.05  # share of a run over which the learning rate rises to its full value


@dataclass(frozen=True)
class TrainSettings:
    model: str = "vae"
    data: DataRecipe | None = None  # None: the model's default dataset
    epochs: int = 20
    batch_size: int | None = None  # None: the model's default, smaller for small datasets (default_batch_size)
    lr: float | None = None  # None: the model's default
    seed: int | None = None  # None: drawn at random, then recorded
    binarize: bool = False
    precision: str = "auto"
    model_options: dict = field(default_factory=dict)  # fields of the model's config, e.g. latent_dim


@dataclass
class Progress:
    epoch: int
    epochs: int
    step: int
    steps: int
    loss: float
    images_per_second: float


@dataclass
class TrainResult:
    checkpoint: Path
    run_dir: Path
    settings: TrainSettings
    recipe: DataRecipe
    history: list[dict] = field(default_factory=list)
    train_seconds: float = 0.0
    train_images: int = 0
    in_home: bool = True  # False: --out outside the model home, so `latest` does not point at it


MIN_STEPS_PER_EPOCH = 75


def default_batch_size(cls: type[Autoencoder], n_train: int) -> int:
    """The model's batch size, smaller where that leaves fewer than 75 steps per epoch (not under 16):
    small models learn per step, so a small dataset needs smaller batches (docs/decisions.md)."""
    return min(cls.default_batch_size, max(16, math.ceil(n_train / MIN_STEPS_PER_EPOCH)))


def set_learning_rate(optimizer: torch.optim.Optimizer, base: float, progress: float) -> None:
    """A linear warm-up from 10% over the first 5% of the run, the full rate until half-way,
    then cosine decay to 5% of it. A pure function of the step, so a resumed run follows the
    same schedule with no saved state (docs/decisions.md has what the warm-up is worth)."""
    warm = min(1.0, 0.1 + 0.9 * progress / WARMUP)
    late = max(0.0, progress - 0.5) / 0.5
    for group in optimizer.param_groups:
        group["lr"] = base * warm * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * late)))
