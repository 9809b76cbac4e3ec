"""Conditional VAE: encoder and decoder both see the one-hot class label."""

import torch
from torch import nn
from torch.nn import functional as F

from aecli.models.base import ModelConfig
from aecli.models.vae import STAGES, VAE


def with_label_maps(h: torch.Tensor, onehot: torch.Tensor) -> torch.Tensor:
    """Append the label to a feature map as constant channels, one per class."""
    maps = onehot[:, :, None, None].expand(-1, -1, h.shape[2], h.shape[3])
    return torch.cat([h, maps.to(memory_format=torch.contiguous_format)], dim=1)


class LabelledDecoder(nn.Module):
    """The VAE's transposed-convolution decoder, with the label fed to every stage.

    Given only at the input, the label is one number among hundreds and the decoder learns to
    lean on z for the class too, so a z drawn from the prior can pull a "7" towards a "9";
    repeated at each stage it decides the class and z is left the style.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        w, k = 2 * config.width, config.num_classes
        self.shape = (2 * w, config.image_size // 2**STAGES, config.image_size // 2**STAGES)
        self.up1 = nn.ConvTranspose2d(2 * w + k, w, 4, stride=2, padding=1)
        self.up2 = nn.ConvTranspose2d(w + k, config.channels, 4, stride=2, padding=1)

    def forward(self, h: torch.Tensor, onehot: torch.Tensor) -> torch.Tensor:
        h = F.relu(h).unflatten(1, self.shape)
        h = F.relu(self.up1(with_label_maps(h, onehot)))
        return self.up2(with_label_maps(h, onehot))


class CVAE(VAE):
    name = "cvae"
    conditional = True

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        self.decoder = LabelledDecoder(config)

    def decode_logits(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        onehot = self.one_hot(y)
        return self.decoder(self.from_latent(torch.cat([z, onehot], dim=1)), onehot)
