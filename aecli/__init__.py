"""aecli: train and use autoencoders (AE, VAE, CVAE) from the command line."""

__version__ = "0.1.0"
