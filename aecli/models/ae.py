"""Classical convolutional autoencoder for faces: strided convs, a latent grid, MSE."""

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
    grid_latent: int = setting(1, 0, 1, "1: the latent is a grid of codes over the face where it fits, 0: one vector")

    def latent_grid(self) -> tuple[int, int] | None:
        """(channels, side) of the latent grid over the last stage's cells, or None for one vector:
        a grid needs a whole number of channels per cell."""
        side = self.image_size // 2**STAGES
        if not self.grid_latent or self.latent_dim % (side * side):
            return None
        return self.latent_dim // (side * side), side


@register_model
class AE(Autoencoder):
    name = "ae"
    Config = AEConfig
    size_multiple = 2**STAGES
    default_lr: ClassVar[float] = 3e-3  # the grid latent trains best at 3e-3 (1e-3: 0.19 dB less on LFW)
    # a few thousand faces: small batches give the many steps the AE needs (docs/decisions.md)
    default_batch_size: ClassVar[int] = 32
    legacy_defaults: ClassVar[dict] = {"grid_latent": 0}  # checkpoints from before the grid

    def __init__(self, config: AEConfig) -> None:
        super().__init__(config)
        widths = [config.width * 2**i for i in range(STAGES)]
        down, channels = [], config.channels
        for w in widths:
            down += [nn.Conv2d(channels, w, 4, stride=2, padding=1), nn.BatchNorm2d(w), nn.ReLU()]
            channels = w
        side = config.image_size // 2**STAGES
        grid = config.latent_grid()
        if grid:
            # each cell of the last stage gets its own few codes through a 1x1 convolution: far fewer
            # weights than a linear layer over all cells, so a few thousand faces are not memorised
            # (on LFW about 1 dB more test PSNR than the linear layer; docs/decisions.md)
            codes = grid[0]
            to_latent = [nn.Conv2d(widths[-1], codes, 1), nn.Flatten()]
            from_latent = [nn.Unflatten(1, (codes, side, side)), nn.Conv2d(codes, widths[-1], 1)]
            from_latent += [nn.BatchNorm2d(widths[-1]), nn.ReLU()]
        else:
            features = flat_size(config, STAGES, widths[-1])
            to_latent = [nn.Flatten(), nn.Linear(features, config.latent_dim)]
            from_latent = [nn.Linear(config.latent_dim, features), nn.ReLU(), nn.Unflatten(1, (widths[-1], side, side))]
        self.encoder = nn.Sequential(*down, *to_latent)
        up = from_latent
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
