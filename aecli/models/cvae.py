"""Conditional VAE: encoder and decoder both see the one-hot class label."""

from aecli.models.vae import VAE


class CVAE(VAE):
    name = "cvae"
    conditional = True
