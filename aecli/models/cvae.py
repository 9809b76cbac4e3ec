"""Conditional VAE: encoder and decoder both see the one-hot class label."""

from typing import ClassVar

from aecli.models.vae import VAE


class CVAE(VAE):
    """The VAE with the label as extra encoder input channels, beside its features and beside z.

    The label goes in with the pixels so the encoder can describe a digit relative to its class,
    and the latent is small: whatever shape of a class the latent keeps, a z drawn from the prior
    can carry into another class's digit. Measured after 10 epochs on MNIST (100 generated images
    per digit, aecli's judge): latent 20 with the label only after the convolutions reads as the
    asked digit 77-96% of the time, latent 8 with label channels 95-100% (test -ELBO 98.4).
    """

    name = "cvae"
    conditional = True
    default_latent_dim: ClassVar[int] = 8
