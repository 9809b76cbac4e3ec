"""A model's latent distribution, as model state: the prior p(z) of a variational model (the standard
normal, or a learned mixture of Gaussians) or the Gaussian fitted to an autoencoder's training codes.

Every kind answers the same questions: draw latents (`sample`), the mean and spread of each
dimension (`moments`, the unit of a traversal), and whether it is fitted to codes after training
(`fits_codes`, then `fit`). A class model passes its labels (`sample`) or one-hot labels (`log_prob`,
`kl`); only a mixture whose weights depend on the class reads them, the others draw the same for every
class."""

import math
from contextlib import nullcontext

import torch
from torch import nn

from aecli.models.base import gaussian_kl, log_normal, logsumexp


class StandardNormal(nn.Module):
    """N(0, I): no parameters, so checkpoints written before priors could be learned load unchanged."""

    fits_codes = False
    unit = "prior standard deviations"

    def __init__(self, latent_dim: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim

    def log_prob(self, z: torch.Tensor, onehot: torch.Tensor | None = None) -> torch.Tensor:
        return log_normal(z, torch.zeros_like(z), torch.zeros_like(z))

    def kl(self, z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, onehot=None) -> torch.Tensor:
        """KL(q(z|x) || p(z)) per image, exact (z is not needed)."""
        return gaussian_kl(mu, logvar)

    def sample(self, n: int, generator: torch.Generator, temperature: float, labels=None) -> torch.Tensor:
        return torch.randn(n, self.latent_dim, generator=generator) * temperature

    def moments(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and standard deviation of each latent dimension."""
        return torch.zeros(self.latent_dim), torch.ones(self.latent_dim)


class GaussianMixture(nn.Module):
    """A mixture of diagonal Gaussians whose means, variances and weights are trained with the model.

    The standard normal prior pulls every code towards one ball, which costs nats wherever the codes
    the encoder wants do not fill it; a learned mixture can follow them (docs/decisions.md has what
    it is worth). Its KL term has no closed form, so training uses a one-sample estimate.

    With `classes`, each class weighs the same components its own way (logits: classes x components),
    so p(z | class) follows where that class's codes lie: a class model whose codes carry the class
    then draws a class's samples from its own codes, not from every class's (docs/decisions.md).
    """

    fits_codes = False
    unit = "prior standard deviations"

    def __init__(self, latent_dim: int, components: int, classes: int = 0) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.means = nn.Parameter(torch.randn(components, latent_dim, device="cpu") * 0.5)  # see `_build`
        self.logvars = nn.Parameter(torch.zeros(components, latent_dim))
        self.logits = nn.Parameter(torch.zeros(classes, components) if classes else torch.zeros(components))

    def log_weights(self, onehot: torch.Tensor | None) -> torch.Tensor:
        """log of the components' weights: per image (... x components) for a class mixture given one-hot
        labels (a blend of labels blends the log weights), else one row (classes equally likely)."""
        logits = self.logits.float()
        if logits.dim() == 1:
            return torch.log_softmax(logits, dim=0)
        per_class = torch.log_softmax(logits, dim=1)
        if onehot is None:
            return torch.logsumexp(per_class, dim=0) - math.log(len(per_class))
        return onehot.float() @ per_class

    def log_prob(self, z: torch.Tensor, onehot: torch.Tensor | None = None) -> torch.Tensor:
        """log p(z) over the last dimension of z (any leading shape), in float32 also under autocast.

        Each component's squared distance sum((z - m)^2 / v) expands into one matrix product of
        [z^2, z, 1] with [1 / v, -2 m / v, sum(m^2 / v)]: with 200 components a training step costs
        about 13% more than with the standard normal, against 22% for broadcast batch x components x
        latent tensors on the CPU (docs/decisions.md)."""
        # under bf16 autocast the matrix product would lose the digits that tell components apart
        device = z.device.type
        autocast = torch.amp.is_autocast_available(device) and torch.is_autocast_enabled(device)
        with torch.autocast(device, enabled=False) if autocast else nullcontext():
            return self._log_prob(z.float(), onehot)

    def _log_prob(self, z: torch.Tensor, onehot: torch.Tensor | None) -> torch.Tensor:
        means, logvars = self.means.float(), self.logvars.float()
        precision = torch.exp(-logvars)
        features = torch.cat([z * z, z, torch.ones_like(z[..., :1])], dim=-1)
        weights = torch.cat(
            [precision, -2 * means * precision, (means * means * precision).sum(1, keepdim=True)], dim=1
        )
        log_norm = logvars.sum(1) + self.latent_dim * math.log(2 * math.pi)
        per_component = -0.5 * (features @ weights.T + log_norm)
        return logsumexp(per_component + self.log_weights(onehot), dim=-1)

    def kl(self, z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, onehot=None) -> torch.Tensor:
        """log q(z|x) - log p(z) at the drawn z: an unbiased one-sample estimate of the KL per image."""
        return log_normal(z.float(), mu.float(), logvar.float()) - self.log_prob(z, onehot)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, temperature: float, labels=None) -> torch.Tensor:
        """A component by its weight (its class's, for a class mixture given labels), then a draw from it
        with its spread scaled by the temperature."""
        weights = torch.softmax(self.logits.detach().float().cpu(), dim=-1)
        if weights.dim() == 2:  # a class mixture: each image its class's weights, or classes equally likely
            weights = weights[labels.cpu()] if labels is not None else weights.mean(0)
        if weights.dim() == 2:
            chosen = torch.multinomial(weights, 1, generator=generator).squeeze(1)
        else:
            chosen = torch.multinomial(weights, n, replacement=True, generator=generator)
        eps = torch.randn(n, self.latent_dim, generator=generator) * temperature
        means, logvars = self.means.detach().float().cpu(), self.logvars.detach().float().cpu()
        return means[chosen] + eps * torch.exp(0.5 * logvars[chosen])

    @torch.no_grad()
    def moments(self) -> tuple[torch.Tensor, torch.Tensor]:
        weights = self.log_weights(None).exp().unsqueeze(1)
        means, variances = self.means.float(), self.logvars.float().exp()
        mean = (weights * means).sum(0)
        variance = (weights * (variances + means**2)).sum(0) - mean**2
        return mean.cpu(), variance.clamp_min(0).sqrt().cpu()


class FittedGaussian(nn.Module):
    """The Gaussian fitted to the training codes of a model trained without a prior (the AE): its
    samples look like training codes, where N(0, I) draws mostly noise. Buffers, so it is saved
    with the weights; `fitted` stays 0 until `fit` has seen codes."""

    fits_codes = True
    unit = "standard deviations of the training codes"

    def __init__(self, latent_dim: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.register_buffer("mean", torch.zeros(latent_dim))
        self.register_buffer("cov", torch.eye(latent_dim, device="cpu"))  # on the CPU: see `_build`
        self.register_buffer("fitted", torch.zeros((), dtype=torch.uint8))

    @torch.no_grad()
    def fit(self, codes: torch.Tensor) -> None:
        codes = codes.double()
        self.mean.copy_(codes.mean(0))
        self.cov.copy_(torch.cov(codes.T).reshape(self.latent_dim, self.latent_dim) if len(codes) > 1 else self.cov)
        self.fitted.fill_(1)

    def check(self, where: str = "this checkpoint") -> None:
        """Refuse a covariance no Gaussian has (wrong shape was caught on loading; this is the values)."""
        if not bool(self.fitted):
            return
        try:
            torch.linalg.cholesky(self._cov64())
        except RuntimeError:
            raise ValueError(f"{where}: the fitted latent covariance is not positive definite") from None

    def _cov64(self) -> torch.Tensor:
        return self.cov.double().cpu() + 1e-6 * torch.eye(self.latent_dim, dtype=torch.float64)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, temperature: float, labels=None) -> torch.Tensor:
        """z = mean + L eps, L the Cholesky factor of the fitted covariance."""
        from aecli.errors import AecliError

        if not bool(self.fitted):
            raise AecliError("this checkpoint has no fitted latent Gaussian; retrain it, or add --naive")
        eps = torch.randn(n, self.latent_dim, generator=generator).double() * temperature
        return (self.mean.double().cpu() + eps @ torch.linalg.cholesky(self._cov64()).T).float()

    @torch.no_grad()
    def moments(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.mean.float().cpu(), self.cov.diagonal().float().clamp_min(0).sqrt().cpu()


def make_prior(latent_dim: int, components: int, classes: int = 0) -> nn.Module:
    """The standard normal, or a learned mixture (its weights per class with `classes`)."""
    return GaussianMixture(latent_dim, components, classes) if components else StandardNormal(latent_dim)
