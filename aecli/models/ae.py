"""Classical convolutional autoencoder for faces: strided convs, a latent grid, MSE."""

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn
from torch.nn import functional as F

from aecli.models.base import Autoencoder, ModelConfig, flat_size, register_model, setting, ssim
from aecli.models.latent import FittedGaussian

MAX_STAGES = 4  # 64 -> 32 -> 16 -> 8 -> 4; a side that halves fewer times (28 -> 14 -> 7) gets fewer stages
MIN_STAGES = 2


def stages(image_size: int) -> int:
    """Stride-2 stages for a side: as many halvings as divide it, at most four."""
    count = 0
    while count < MAX_STAGES and image_size % 2 ** (count + 1) == 0:
        count += 1
    return count


# faces refined at once, by pixels: the decoder's saved activations stay near 100 MB (64x64: 64 faces)
REFINE_PIXELS = 2**18
REFINE_LR = 0.1  # Adam's rate on the codes while refining them (0.05: the same figure in 1.5x the steps)


def encoder_stack(config: "AEConfig", channels: int, widths: list[int]) -> nn.Sequential:
    """Strided convolutions from `channels` input channels down to the latent code."""
    layers = []
    for w in widths:
        layers += [nn.Conv2d(channels, w, 4, stride=2, padding=1), nn.BatchNorm2d(w), nn.ReLU()]
        channels = w
    grid = config.latent_grid()
    if grid:
        # each cell of the last stage gets its own few codes through a 1x1 convolution: far fewer
        # weights than a linear layer over all cells, so a few thousand faces are not memorised
        # (docs/decisions.md has what it is worth on LFW)
        return nn.Sequential(*layers, nn.Conv2d(widths[-1], grid[0], 1), nn.Flatten())
    features = flat_size(config, len(widths), widths[-1])
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(features, config.latent_dim))


def squared_error(recon: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Mean squared error per image, in fp32."""
    return F.mse_loss(recon.float(), x.float(), reduction="none").flatten(1).mean(dim=1)


@dataclass(frozen=True)
class AEConfig(ModelConfig):
    latent_dim: int = setting(128, 1, 4096, "numbers in the latent code")
    width: int = setting(32, 1, 256, "channels of the first convolution; each later one doubles")
    grid_latent: int = setting(1, 0, 1, "1: the latent is a grid of codes over the face where it fits, 0: one vector")
    decoder_convs: int = setting(1, 0, 1, "1: a 3x3 convolution after each of the decoder's upsamplings, 0: none")
    encoder_passes: int = setting(
        1, 1, 4, "reads of each face; from the 2nd on the encoder also sees its code's drawing and corrects it"
    )

    def latent_grid(self) -> tuple[int, int] | None:
        """(channels, side) of the latent grid over the last stage's cells, or None for one vector:
        a grid needs a whole number of channels per cell."""
        side = self.image_size // 2 ** stages(self.image_size)
        if not self.grid_latent or self.latent_dim % (side * side):
            return None
        return self.latent_dim // (side * side), side


@register_model
class AE(Autoencoder):
    name = "ae"
    Config = AEConfig
    default_dataset = "lfw"
    size_multiple = 2**MIN_STAGES
    score_metrics: ClassVar[dict[str, str]] = {
        "mse": "mean squared error per pixel of the reconstruction from the encoder's code",
        "ssim": "1 - mean structural similarity of that reconstruction (7x7 window)",
    }
    default_lr: ClassVar[float] = 3e-3  # the grid latent's best rate on LFW (docs/decisions.md)
    # a few thousand faces: small batches give the many steps the AE needs (docs/decisions.md)
    default_batch_size: ClassVar[int] = 32
    # checkpoints from before the grid and the decoder's convolutions
    legacy_defaults: ClassVar[dict] = {"grid_latent": 0, "decoder_convs": 0}
    refine_steps: ClassVar[int] = 20  # Adam steps on each face's code before it is redrawn

    def __init__(self, config: AEConfig) -> None:
        super().__init__(config)
        depth = stages(config.image_size)
        widths = [config.width * 2**i for i in range(depth)]
        self.encoder = encoder_stack(config, config.channels, widths)
        side = config.image_size // 2**depth
        grid = config.latent_grid()
        if grid:
            from_latent = [nn.Unflatten(1, (grid[0], side, side)), nn.Conv2d(grid[0], widths[-1], 1)]
            from_latent += [nn.BatchNorm2d(widths[-1]), nn.ReLU()]
        else:
            features = flat_size(config, depth, widths[-1])
            from_latent = [nn.Linear(config.latent_dim, features), nn.ReLU(), nn.Unflatten(1, (widths[-1], side, side))]
        up = from_latent
        for w_in, w_out in zip(widths[::-1], widths[::-1][1:], strict=False):
            up += [nn.ConvTranspose2d(w_in, w_out, 4, stride=2, padding=1), nn.BatchNorm2d(w_out), nn.ReLU()]
            if config.decoder_convs:
                # depth where it draws: unseen faces' best codes come out closer (docs/decisions.md)
                up += [nn.Conv2d(w_out, w_out, 3, padding=1), nn.BatchNorm2d(w_out), nn.ReLU()]
        up.append(nn.ConvTranspose2d(widths[0], config.channels, 4, stride=2, padding=1))
        self.decoder = nn.Sequential(*up)
        if config.encoder_passes > 1:
            # reads the face beside the decoder's drawing of a code; adds nothing at the start
            self.corrector = encoder_stack(config, 2 * config.channels, widths)
            code_layer = [m for m in self.corrector if isinstance(m, nn.Conv2d | nn.Linear)][-1]
            nn.init.zeros_(code_layer.weight)
            nn.init.zeros_(code_layer.bias)
        self.code_distribution = FittedGaussian(config.latent_dim)

    @property
    def latent(self) -> nn.Module:
        return self.code_distribution

    def upgrade_state(self, weights: dict[str, torch.Tensor], extras: dict[str, torch.Tensor]) -> None:
        """Checkpoints from before the fitted Gaussian was model state kept it as extras (or had none)."""
        prefix = "code_distribution."
        if prefix + "mean" in weights:
            return
        own = {prefix + key: value for key, value in self.code_distribution.state_dict().items()}
        if "latent_mean" in extras and "latent_cov" in extras:
            own[prefix + "mean"], own[prefix + "cov"] = extras.pop("latent_mean"), extras.pop("latent_cov")
            own[prefix + "fitted"] = torch.ones((), dtype=torch.uint8)
        weights.update(own)

    def check_state(self) -> None:
        self.code_distribution.check()

    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self._passes(x)[0]

    def _passes(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The encoder's last code and the decoder's drawings of the codes before it: the first code
        is read from the face alone, each later one is the code before moved by what the corrector
        reads from the face beside that code's drawing (learned, the same for every pass)."""
        z, drawings = self.encoder(x), []
        for _ in range(self.config.encoder_passes - 1):
            drawings.append(self.decode(z))
            z = z + self.corrector(torch.cat([x, drawings[-1].to(x.dtype)], 1))
        return z, drawings

    def decode_logits(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.decoder(z)

    def refine_codes(
        self, x: torch.Tensor, z: torch.Tensor, y: torch.Tensor | None = None, steps: int | None = None
    ) -> torch.Tensor:
        """The encoder's codes moved by Adam on each image's own squared error, the decoder fixed: the
        code that best redraws the face, as projecting onto the eigenfaces is for PCA. Each image keeps
        the best code seen, so it is never redrawn worse than from the encoder's. A network encoder
        misses unseen faces' best codes by far more than the decoder needs (docs/decisions.md)."""
        steps = self.refine_steps if steps is None else steps
        if steps <= 0 or not len(x):
            return z
        chunk = max(1, REFINE_PIXELS // x[0, 0].numel())  # each code's steps depend on its own face alone
        with torch.inference_mode(False), torch.enable_grad():  # commands encode under inference mode
            parts = [self._refined(x[i : i + chunk], z[i : i + chunk], steps) for i in range(0, len(x), chunk)]
        return torch.cat(parts).to(z.dtype)

    def _refined(self, x: torch.Tensor, z: torch.Tensor, steps: int) -> torch.Tensor:
        target = x.detach().clone().float()
        code = z.detach().clone().float().requires_grad_(True)
        best, best_error = code.detach().clone(), torch.full((len(x),), math.inf, device=x.device)
        optimizer = torch.optim.Adam([code], lr=REFINE_LR)
        for step in range(steps + 1):
            error = (self.decode(code).float() - target).square().flatten(1).mean(1)
            better = error.detach() < best_error
            best[better], best_error[better] = code.detach()[better], error.detach()[better]
            if step == steps:
                break
            (code.grad,) = torch.autograd.grad(error.sum(), code)  # the decoder's weights get no gradient
            optimizer.step()
        return best

    def loss(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Mean squared error per image (over its pixels); with more than one encoder pass, the mean
        of every pass's error, so each code is a face the next pass can read."""
        z, drawings = self._passes(x)
        return torch.stack([squared_error(d, x) for d in [*drawings, self.decode(z)]]).mean(0)

    def test_loss(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The error of the reconstruction from the encoder's (last) code."""
        return squared_error(self.reconstruct(x), x)

    def score(self, x: torch.Tensor, y: torch.Tensor | None = None, metric: str | None = None, k: int = 100):
        """Reconstruction error from the encoder's own code (no refinement: a refined code would
        redraw an unusual image too well to tell it apart)."""
        recon = self.decode(self.encode(x)).float()
        if self.metric(metric) == "ssim":
            return 1 - ssim(recon, x.float())
        return squared_error(recon, x)
