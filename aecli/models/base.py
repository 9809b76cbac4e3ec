"""The interface every model shares, and the config they are built from."""

import abc
import math
from dataclasses import asdict, dataclass
from typing import ClassVar

import torch
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True)
class ModelConfig:
    channels: int = 1
    image_size: int = 28
    latent_dim: int = 20
    num_classes: int = 0  # > 0 only for conditional models
    width: int = 16  # channels of the first convolution; later ones double

    def to_dict(self) -> dict:
        return asdict(self)


class Autoencoder(nn.Module, abc.ABC):
    """encode -> latent -> decode; `loss` returns one value per image."""

    name: ClassVar[str]
    variational: ClassVar[bool] = False
    conditional: ClassVar[bool] = False
    default_latent_dim: ClassVar[int] = 20
    default_width: ClassVar[int] = 16
    default_lr: ClassVar[float] = 3e-3
    default_batch_size: ClassVar[int] = 128
    default_temperature: ClassVar[float] = 1.0  # scale of the random latents that sample and generate draw

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config

    @abc.abstractmethod
    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The latent code (for variational models, the mean)."""

    @abc.abstractmethod
    def decode_logits(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Pre-sigmoid outputs, N x C x H x W."""

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Images in [0, 1]."""
        return torch.sigmoid(self.decode_logits(z, y))

    def reconstruct(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.decode(self.encode(x, y), y)

    @abc.abstractmethod
    def loss(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The training loss, one value per image."""

    def one_hot(self, y: torch.Tensor | None) -> torch.Tensor | None:
        if not self.conditional:
            return None
        if y is None:
            raise ValueError(f"{self.name} needs class labels")
        if y.is_floating_point():  # already one-hot, or a blend of labels
            return y
        return F.one_hot(y, self.config.num_classes).float()


def flat_size(config: ModelConfig, stages: int, channels: int) -> int:
    side = config.image_size // 2**stages
    return channels * side * side


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, I)) per sample, in nats (in float32, also under autocast)."""
    mu, logvar = mu.float(), logvar.float()
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy summed over pixels, per sample, in nats (in float32, also under autocast)."""
    bce = F.binary_cross_entropy_with_logits(logits.float(), x, reduction="none")
    return bce.flatten(1).sum(dim=1)


def log_normal(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    return -0.5 * (((z - mu) ** 2) / logvar.exp() + logvar + math.log(2 * math.pi)).sum(dim=-1)
