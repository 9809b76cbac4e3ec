"""beta-VAE (Higgins et al. 2017): the VAE with its KL term weighted by beta in the training loss.

beta > 1 presses the codes towards the factorised prior, trading reconstruction for latent
dimensions that each vary one thing; test figures still report the true negative ELBO."""

from dataclasses import dataclass

from aecli.models.base import register_model, setting
from aecli.models.vae import VAE, VAEConfig


@dataclass(frozen=True)
class BetaVAEConfig(VAEConfig):
    beta: float = setting(4.0, 0.0, 1000.0, "weight of the KL term in the training loss (1: the plain VAE)")
    prior_components: int = setting(0, 0, 4096, "components of a learned mixture prior (0: the standard normal)")


@register_model
class BetaVAE(VAE):
    name = "betavae"
    Config = BetaVAEConfig

    def kl_weight(self) -> float:
        """beta, times the warm-up's share when there is one."""
        return self.config.beta * super().kl_weight()
