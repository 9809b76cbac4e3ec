"""Conditional VAE: encoder and decoder both see the one-hot class label."""

from dataclasses import dataclass
from typing import ClassVar

from torch import nn

from aecli.models.base import register_model, setting
from aecli.models.latent import make_prior
from aecli.models.vae import VAE, VAEConfig


@dataclass(frozen=True)
class CVAEConfig(VAEConfig):
    latent_dim: int = setting(8, 1, 4096, "numbers in the latent code")
    width: int = setting(16, 1, 256, "encoder channels (16 and 32 at width 16); the decoder has twice as many")
    hidden: int = setting(256, 1, 65536, "units of the layer between the latent and the decoder")
    num_classes: int = setting(10, 1, 10_000, "classes (from the data)")
    # the standard normal: a drawn z must suit every class, and a mixture fitted to the codes may keep class shapes
    prior_components: int = setting(
        0, 0, 4096, "components of the learned Gaussian-mixture prior (0: the standard normal)"
    )
    class_prior: int = setting(
        0, 0, 1, "1: each class weighs the prior's components its own way, p(z | class) (with --prior-components)"
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.class_prior and not self.prior_components:
            raise ValueError("--class-prior 1 weighs a mixture's components: add --prior-components (say 200)")


@register_model
class CVAE(VAE):
    """The VAE with the label as extra input channels of the encoder and of each decoder stage, and beside z.

    The label goes in with the pixels so the encoder can describe an image relative to its class,
    and again at every decoder scale so the class shapes the whole drawing; the latent is small,
    because whatever shape of a class the latent keeps, a z drawn from the prior can carry into
    another class's image (docs/decisions.md has the measurements).
    """

    name = "cvae"
    Config = CVAEConfig
    takes_class = True
    # the images a decoder draws from the prior's tails are the ambiguous ones (a 5 closing into a 6)
    default_temperature: ClassVar[float] = 0.7
    # the bundled cvae and its measurements were trained at these; the vae's larger step was not tried here
    default_batch_size: ClassVar[int] = 64
    default_lr: ClassVar[float] = 3e-3

    def build_prior(self, config: CVAEConfig) -> nn.Module:
        return make_prior(config.latent_dim, config.prior_components, self.num_classes * config.class_prior)
