"""Variational autoencoder: conv + pooling encoder, mu / log-variance heads, BCE + KL."""

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn
from torch.nn import functional as F

from aecli.models.base import (
    CLASSES_AT_ONCE,
    Autoencoder,
    ModelConfig,
    bernoulli_nll,
    bernoulli_nll_plain,
    flat_size,
    log_normal,
    logsumexp,
    register_model,
    setting,
)
from aecli.models.latent import make_prior
from aecli.models.layers import SubpixelConvTranspose2d, tap_patterns, with_label_maps

STAGES = 2  # two 2x poolings: 28 -> 14 -> 7


@dataclass(frozen=True)
class VAEConfig(ModelConfig):
    latent_dim: int = setting(20, 1, 4096, "numbers in the latent code")
    width: int = setting(8, 1, 256, "encoder channels (8 and 16 at width 8); the decoder has twice as many")
    hidden: int = setting(128, 1, 65536, "units of the layer between the latent and the decoder")
    prior_components: int = setting(
        200, 0, 4096, "components of the learned Gaussian-mixture prior (0: the standard normal)"
    )
    kl_warmup: float = setting(
        0.0, 0.0, 1.0, "share of the training over which the KL term's weight rises from 0 to 1 (0: always 1)"
    )
    iwae_samples: int = setting(
        1, 1, 256, "samples per image of the training bound: 1 the ELBO, more the IWAE bound (tighter, slower)"
    )


def conv_pool_encoder(config: VAEConfig, num_classes: int) -> nn.Sequential:
    # pooling before ReLU: the same function and gradients (max and ReLU commute), a quarter of the ReLU work
    w = config.width
    return nn.Sequential(
        nn.Conv2d(config.channels + num_classes, w, 3, padding=1),  # + one label map per class
        nn.MaxPool2d(2),
        nn.ReLU(),
        nn.Conv2d(w, 2 * w, 3, padding=1),
        nn.MaxPool2d(2),
        nn.ReLU(),
        nn.Flatten(),
    )


def transposed_decoder(config: VAEConfig, num_classes: int) -> nn.Sequential:
    # twice the encoder's width: decoder capacity is what buys test likelihood, a wider encoder mostly costs time
    w, side, k = 2 * config.width, config.image_size // 2**STAGES, num_classes
    return nn.Sequential(
        nn.ReLU(),
        nn.Unflatten(1, (2 * w, side, side)),
        nn.ConvTranspose2d(2 * w + k, w, 4, stride=2, padding=1),  # + one label map per class
        nn.ReLU(),
        SubpixelConvTranspose2d(w + k, config.channels),  # torch's own is slow to few channels on the CPU
    )


@register_model
class VAE(Autoencoder):
    name = "vae"
    Config = VAEConfig
    has_likelihood = True
    score_metrics: ClassVar[dict[str, str]] = {
        "elbo": "negative ELBO in nats with z at the encoder's mean (BCE summed over pixels + KL)",
        "iwae": "importance-weighted bound on -log p(x) in nats, k samples (-k)",
    }
    size_multiple = 2**STAGES
    # a step has a fixed cost besides its per-image cost, so a larger step trains faster; 96 still ends as
    # low as 64 where 128 falls behind (docs/decisions.md)
    default_batch_size: ClassVar[int] = 96
    default_lr: ClassVar[float] = 4e-3
    # checkpoints from before a setting existed: 256 hidden units, the standard normal prior
    legacy_defaults: ClassVar[dict] = {"hidden": 256, "prior_components": 0, "kl_warmup": 0.0, "iwae_samples": 1}

    def __init__(self, config: VAEConfig) -> None:
        super().__init__(config)
        features = flat_size(config, STAGES, 2 * config.width)
        extra = self.num_classes  # the one-hot label, for the conditional variant
        self.encoder = conv_pool_encoder(config, extra)
        self.to_mu = nn.Linear(features + extra, config.latent_dim)
        self.to_logvar = nn.Linear(features + extra, config.latent_dim)
        self.from_latent = nn.Sequential(
            nn.Linear(config.latent_dim + extra, config.hidden),
            nn.ReLU(),
            nn.Linear(config.hidden, flat_size(config, STAGES, 4 * config.width)),
        )
        self.decoder = transposed_decoder(config, extra)
        if extra:  # where the label maps' kernel taps land, at each size a label-seeing layer runs at
            side = config.image_size
            self.register_buffer("encoder_taps", tap_patterns(self.encoder[0], side), persistent=False)
            stages = [layer for layer in self.decoder if isinstance(layer, nn.ConvTranspose2d)]
            for stage, layer in enumerate(stages):
                taps = tap_patterns(layer, side // 2 ** (STAGES - stage))
                self.register_buffer(f"decoder_taps_{stage}", taps, persistent=False)
        self.prior = self.build_prior(config)

    def build_prior(self, config: VAEConfig) -> nn.Module:
        return make_prior(config.latent_dim, config.prior_components)

    @property
    def latent(self) -> nn.Module:
        return self.prior

    @staticmethod
    def _with_label(h: torch.Tensor, onehot: torch.Tensor | None) -> torch.Tensor:
        """h with the one-hot label beside it (conditional models only)."""
        return h if onehot is None else torch.cat([h, onehot], dim=1)

    def _conv(self, layer: nn.Module, h: torch.Tensor, onehot: torch.Tensor | None, taps: str) -> torch.Tensor:
        """The layer; a conditional model's convolutions also see one constant map per class."""
        return layer(h) if onehot is None else with_label_maps(layer, h, onehot, getattr(self, taps), self.num_classes)

    def encode_distribution(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        onehot = self.one_hot(y)
        h = self.encoder[1:](self._conv(self.encoder[0], x, onehot, "encoder_taps"))  # the first layer sees the label
        h = self._with_label(h, onehot)
        return self.to_mu(h), self.to_logvar(h)

    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.encode_distribution(x, y)[0]

    @staticmethod
    def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        return mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)

    def decode_logits(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        onehot = self.one_hot(y)
        h = self.from_latent(self._with_label(z, onehot))
        stage = 0
        for layer in self.decoder:  # a conditional model sees its label at every scale
            if isinstance(layer, nn.ConvTranspose2d):
                h = self._conv(layer, h, onehot, f"decoder_taps_{stage}")
                stage += 1
            else:
                h = layer(h)
        return h

    def elbo_terms(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Per image, in nats: the reconstruction term (BCE summed over pixels) and the KL term."""
        mu, logvar = self.encode_distribution(x, y)
        z = self.reparameterize(mu, logvar)
        return bernoulli_nll(self.decode_logits(z, y), x), self.prior.kl(z, mu, logvar, self.one_hot(y))

    def loss(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Negative ELBO per image, in nats: BCE summed over pixels + KL (weighed by `kl_weight`); with
        `iwae_samples` > 1 the importance-weighted bound of Burda et al. (2016) instead."""
        samples = self.config.iwae_samples
        if samples > 1:
            mu, logvar = self.encode_distribution(x, y)
            noise = torch.randn(samples, *mu.shape, device=x.device)  # float32, as eval draws it
            weights = self.log_weights(x, y, mu, logvar, noise, self.kl_weight())
            return math.log(samples) - torch.logsumexp(weights, dim=0)
        reconstruction, kl = self.elbo_terms(x, y)
        return reconstruction + self.kl_weight() * kl

    def kl_weight(self) -> float:
        """The training loss's weight of the KL term: 1, or during the first `kl_warmup` of the training,
        the share of it done: the decoder learns to use the codes before the KL term presses them
        towards the prior (which, from the start, can leave a class model drawing each class from its
        label alone; docs/decisions.md)."""
        warmup = self.config.kl_warmup
        return 1.0 if warmup == 0 else min(1.0, self.progress / warmup)

    def test_loss(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The true negative ELBO, whatever a variant trains on."""
        reconstruction, kl = self.elbo_terms(x, y)
        return reconstruction + kl

    def score(self, x: torch.Tensor, y: torch.Tensor | None = None, metric: str | None = None, k: int = 100):
        """-ELBO (or the k-sample bound) per image; a class model given no class scores the image
        under every class and averages the likelihoods (classes equally likely)."""
        metric = self.metric(metric)
        if self.takes_class and y is None:
            return self._score_under_every_class(x, metric, k)
        if metric == "iwae":
            generator = torch.Generator(x.device).manual_seed(0)
            return self.importance_nll(x, y, k, generator)
        mu, logvar = self.encode_distribution(x, y)
        reconstruction = bernoulli_nll_plain(self.decode_logits(mu, y).float(), x.float())
        return reconstruction + self.prior.kl(mu.float(), mu.float(), logvar.float(), self.one_hot(y))

    def _score_under_every_class(self, x: torch.Tensor, metric: str, k: int) -> torch.Tensor:
        """-log of the likelihood averaged over the classes, scored CLASSES_AT_ONCE classes at a time (shapes
        from x.shape, so an exported graph keeps a dynamic batch)."""
        classes, parts = self.num_classes, []
        for start in range(0, classes, CLASSES_AT_ONCE):
            count = min(CLASSES_AT_ONCE, classes - start)
            labels = F.one_hot(torch.arange(start, start + count, device=x.device), classes).to(x.dtype)
            every = labels.unsqueeze(0).expand(x.shape[0], count, classes).reshape(-1, classes)
            parts.append(self.score(x.repeat_interleave(count, 0), every, metric, k).reshape(-1, count))
        return math.log(classes) - logsumexp(-torch.cat(parts, dim=1), dim=1)

    def importance_nll(self, x: torch.Tensor, y: torch.Tensor | None, k: int, generator=None) -> torch.Tensor:
        """-log p(x) estimated with k importance samples from the encoder, per image (nats)."""
        mu, logvar = self.encode_distribution(x, y)
        weights, chunk = [], 50
        for start in range(0, k, chunk):
            noise = torch.randn(min(chunk, k - start), *mu.shape, device=x.device, generator=generator)
            weights.append(self.log_weights(x, y, mu, logvar, noise))
        return -(torch.logsumexp(torch.cat(weights), dim=0) - math.log(k))

    def log_weights(self, x, y, mu, logvar, noise: torch.Tensor, kl_weight: float = 1.0) -> torch.Tensor:
        """log p(x|z) + kl_weight * (log p(z) - log q(z|x)) for each of the m x n codes z = mu + noise * sigma
        (noise: m x n x latent), in float32: one importance weight per sample and image."""
        m, n = noise.shape[:2]
        mu, logvar = mu.float(), logvar.float()
        z = mu.unsqueeze(0) + noise * torch.exp(0.5 * logvar).unsqueeze(0)
        labels = None if y is None else y.repeat(m, *[1] * (y.dim() - 1))
        logits = self.decode_logits(z.reshape(m * n, -1), labels)
        log_px = -bernoulli_nll(logits, x.repeat(m, 1, 1, 1)).reshape(m, n)
        onehot = None if labels is None else self.one_hot(labels).reshape(m, n, -1)
        log_ratio = self.prior.log_prob(z, onehot) - log_normal(z, mu.unsqueeze(0), logvar.unsqueeze(0))
        return log_px + kl_weight * log_ratio
