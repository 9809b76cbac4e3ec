"""Classical convolutional autoencoder for faces: strided convs, a linear latent, MSE."""

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn
from torch.nn import functional as F

from aecli.models.base import Autoencoder, ModelConfig, flat_size, register_model, setting

STAGES = 4  # 64 -> 32 -> 16 -> 8 -> 4


@dataclass(frozen=True)
class AEConfig(ModelConfig):
    latent_dim: int = setting(128, 1, 4096, "numbers in the latent code")
    width: int = setting(32, 1, 256, "channels of the first convolution; each later one doubles")


@register_model
class AE(Autoencoder):
    name = "ae"
    Config = AEConfig
    size_multiple = 2**STAGES
    default_lr: ClassVar[float] = 1e-3
    # a few thousand faces: small batches give the many steps the AE needs (docs/decisions.md)
    default_batch_size: ClassVar[int] = 32

    def __init__(self, config: AEConfig) -> None:
        super().__init__(config)
        widths = [config.width * 2**i for i in range(STAGES)]
        down, channels = [], config.channels
        for w in widths:
            down += [nn.Conv2d(channels, w, 4, stride=2, padding=1), nn.BatchNorm2d(w), nn.ReLU()]
            channels = w
        side = config.image_size // 2**STAGES
        features = flat_size(config, STAGES, widths[-1])
        self.encoder = nn.Sequential(*down, nn.Flatten(), nn.Linear(features, config.latent_dim))
        up = [nn.Linear(config.latent_dim, features), nn.ReLU(), nn.Unflatten(1, (widths[-1], side, side))]
        for w_in, w_out in zip(widths[::-1], widths[::-1][1:], strict=False):
            up += [nn.ConvTranspose2d(w_in, w_out, 4, stride=2, padding=1), nn.BatchNorm2d(w_out), nn.ReLU()]
        up.append(nn.ConvTranspose2d(widths[0], config.channels, 4, stride=2, padding=1))
        self.decoder = nn.Sequential(*up)

    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.encoder(x)

    def decode_logits(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.decoder(z)

    def loss(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Mean squared error per image (over its pixels)."""
        return F.mse_loss(self.reconstruct(x).float(), x, reduction="none").flatten(1).mean(dim=1)
