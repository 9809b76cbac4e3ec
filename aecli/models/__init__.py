"""The model registry: every module in this package but `base` defines and registers one model."""

import importlib
import pkgutil
from pathlib import Path

from aecli.errors import UsageError
from aecli.models.base import MAX_PARAMETERS, MODELS, Autoencoder, ModelConfig

__all__ = ["MODELS", "Autoencoder", "ModelConfig", "check_options", "create_model", "model_from_config"]

for _module in pkgutil.iter_modules([str(Path(__file__).parent)]):
    if _module.name != "base":
        importlib.import_module(f"aecli.models.{_module.name}")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _build(cls: type[Autoencoder], config: ModelConfig) -> Autoencoder:
    """The model, once its size is known to be sane (counted on the meta device: nothing allocated).

    What a model computes while it is built is made on the CPU (`device="cpu"`), off the meta
    device's Python decompositions: the first of those imports torch's compiler, about a second of
    every command's start-up. The random state is restored after counting, so the model built next
    starts from the same draws."""
    import torch

    with torch.random.fork_rng(devices=[]), torch.device("meta"):
        count = sum(p.numel() for p in cls(config).parameters())
    if count > MAX_PARAMETERS:
        raise UsageError(f"{cls.name} with these settings has {count:,} parameters; the limit is {MAX_PARAMETERS:,}")
    return cls(config)


def check_options(name: str, **options) -> dict:
    """The options a model takes, refused with a usage error if it has no such option or their values
    do not fit together (before any data is read); `None` options keep the defaults."""
    cls = MODELS.get(name)
    options = {key: value for key, value in options.items() if value is not None}
    allowed = cls.Config.options()
    unknown = [key for key in options if key not in allowed]
    if unknown:
        takes = ", ".join(_flag(key) for key in allowed)
        raise UsageError(f"{name} has no option {', '.join(_flag(k) for k in unknown)}; it takes: {takes}")
    try:
        cls.Config(**options)
    except ValueError as exc:
        raise UsageError(f"cannot build {name}: {exc}") from exc
    return options


def create_model(name: str, spec=None, **options) -> Autoencoder:
    """Build a registered model for data described by `spec`; `None` options keep the defaults."""
    cls = MODELS.get(name)
    options = check_options(name, **options)
    if spec is not None:
        if cls.takes_class and spec.num_classes < 1:
            raise UsageError(
                f"{name} needs a dataset with class labels (mnist, digits, fashion-mnist, kmnist, "
                "or --dataset folder with one subfolder per class)"
            )
        if spec.image_size % cls.size_multiple:
            raise UsageError(
                f"{name} needs images whose side is a multiple of {cls.size_multiple}; {spec.name} gives "
                f"{spec.image_size}: use a dataset that takes --image-size (folder, lfw, celeba, lfw-mini) "
                f"with e.g. --image-size {cls.size_multiple * max(1, round(spec.image_size / cls.size_multiple))}"
                + ("" if name == "vae" else ", or train vae")
            )
        options.update(channels=spec.channels, image_size=spec.image_size)
        if cls.takes_class:
            options["num_classes"] = spec.num_classes
    try:
        return _build(cls, cls.Config(**options))
    except ValueError as exc:
        raise UsageError(f"cannot build {name}: {exc}") from exc


def model_from_config(name: str, stored: dict) -> Autoencoder:
    """The model a checkpoint's config describes; older checkpoints' fields are read as they were meant."""
    cls = MODELS.get(name)
    if not isinstance(stored, dict):
        raise ValueError("model_config must be a JSON object")
    values = {**cls.legacy_defaults, **stored}
    known = {f for f in cls.Config.__dataclass_fields__}
    for key in [k for k in values if k not in known]:
        if key not in cls.retired_fields:
            raise ValueError(f"{name} has no setting {key!r}")
        del values[key]
    config = cls.Config(**values)
    if config.image_size % cls.size_multiple:
        raise ValueError(f"image_size {config.image_size} is not a multiple of {cls.size_multiple}")
    return _build(cls, config)
