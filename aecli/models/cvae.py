"""Conditional VAE: encoder and decoder both see the one-hot class label."""

from typing import ClassVar

from aecli.models.vae import VAE


class CVAE(VAE):
    """The VAE with the label as extra input channels of the encoder and of each decoder stage, and beside z.

    The label goes in with the pixels so the encoder can describe a digit relative to its class,
    and again at every decoder scale so the class shapes the whole drawing; the latent is small,
    because whatever shape of a class the latent keeps, a z drawn from the prior can carry into
    another class's digit. Measured after 10 epochs on MNIST (1,000 generated images per digit,
    aecli's judge, temperature 1): latent 20 with the label only after the convolutions reads as
    the asked digit 77-96% of the time; latent 8 with label channels in encoder and decoder 95-99%.
    """

    name = "cvae"
    conditional = True
    default_latent_dim: ClassVar[int] = 8
    default_width: ClassVar[int] = 16  # its generated digits were measured at this width
    default_hidden: ClassVar[int] = 256  # and with this hidden layer
    # the digits a decoder draws from the prior's tails are the ambiguous ones (a 5 closing into
    # a 6): the weakest digit reads as asked 99.3% of the time at 0.7, 98.4% at 0.8, 95.5% at 1
    default_temperature: ClassVar[float] = 0.7
