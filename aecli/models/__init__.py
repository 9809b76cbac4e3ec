"""The model registry: ae, vae, cvae."""

from aecli.errors import UsageError
from aecli.models.ae import AE
from aecli.models.base import Autoencoder, ModelConfig
from aecli.models.cvae import CVAE
from aecli.models.vae import VAE
from aecli.registry import Registry

MODELS: Registry[type[Autoencoder]] = Registry("model")
for _cls in (AE, VAE, CVAE):
    MODELS.register(_cls.name)(_cls)

__all__ = ["MODELS", "Autoencoder", "ModelConfig", "create_model"]


def create_model(name: str, **overrides) -> Autoencoder:
    """Build a registered model; `None` overrides leave the defaults in force."""
    cls = MODELS.get(name)
    values = {"latent_dim": cls.default_latent_dim, "width": cls.default_width, "hidden": cls.default_hidden}
    values.update({key: value for key, value in overrides.items() if value is not None})
    if cls.conditional and values.get("num_classes", 0) < 1:
        raise UsageError(f"{name} needs a dataset with class labels; use --dataset mnist or --dataset digits")
    if not cls.conditional:
        values["num_classes"] = 0
    try:
        return cls(ModelConfig(**values))
    except ValueError as exc:
        raise UsageError(f"cannot build {name}: {exc}; pick another --image-size") from exc
