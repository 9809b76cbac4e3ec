"""The interface every model shares, and the config they are built from."""

import abc
import math
from dataclasses import Field, asdict, dataclass, field, fields
from typing import ClassVar

import torch
from torch import nn
from torch.nn import functional as F

from aecli.errors import UsageError
from aecli.registry import Registry


def setting(default, low, high, help: str):
    """A config field with its allowed range and a help line (shown by `aecli train --help`)."""
    return field(default=default, metadata={"range": (low, high), "help": help})


DATA_FIELDS = ("channels", "image_size", "num_classes")  # set from the data, never by hand
MAX_PARAMETERS = 200_000_000  # a config asking for more is refused before anything is allocated
# classes an image of unknown class is scored under at once: memory stays bounded with thousands of classes
CLASSES_AT_ONCE = 64


@dataclass(frozen=True)
class ModelConfig:
    """What every model is built from; each model's own config adds its fields and defaults."""

    channels: int = setting(1, 1, 3, "image channels (from the data)")
    image_size: int = setting(28, 4, 1024, "image side in pixels (from the data)")
    latent_dim: int = setting(20, 1, 4096, "numbers in the latent code")

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            low, high = f.metadata.get("range", (None, None))
            whole = isinstance(f.default, int)
            if isinstance(value, bool) or not isinstance(value, int if whole else int | float):
                raise ValueError(f"{f.name} must be a {'whole ' if whole else ''}number, not {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"{f.name} must be finite, not {value}")
            if low is not None and not low <= value <= high:
                raise ValueError(f"{f.name} must lie in [{low}, {high}], not {value}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def options(cls) -> dict[str, Field]:
        """The fields a user sets (the rest come from the data)."""
        return {f.name: f for f in fields(cls) if f.name not in DATA_FIELDS}


class Autoencoder(nn.Module, abc.ABC):
    """encode -> latent -> decode; `loss` returns one value per image.

    A model owns what makes it different, and code outside `aecli/models/` asks it instead of
    branching on its kind: its latent distribution (`latent`), whether it takes a class
    (`takes_class`, `labels_for`), its per-image loss and anomaly scores (`score_metrics`,
    `score`), whether it has a likelihood to report (`has_likelihood`, `importance_nll`), its
    sampling temperature and its defaults."""

    name: ClassVar[str]
    Config: ClassVar[type[ModelConfig]] = ModelConfig
    takes_class: ClassVar[bool] = False  # the decoder (and encoder) also take the class
    has_likelihood: ClassVar[bool] = False  # a bound on -log p(x) to report (importance_nll)
    default_dataset: ClassVar[str] = "mnist"
    size_multiple: ClassVar[int] = 1  # image sides it can take: multiples of this
    default_lr: ClassVar[float] = 3e-3
    default_batch_size: ClassVar[int] = 128
    refine_steps: ClassVar[int] = 0  # steps refine_codes takes by default (0: the encoder's codes as they are)
    default_temperature: ClassVar[float] = 1.0  # scale of the random latents that sample and generate draw
    # the anomaly scores it offers, higher = less like the training images: name -> what it is; the first is the default
    score_metrics: ClassVar[dict[str, str]] = {}
    # what checkpoints written before a field existed hold: its value then (missing key) ...
    legacy_defaults: ClassVar[dict] = {}
    # ... and fields they stored that the model no longer has (ignored on loading)
    retired_fields: ClassVar[tuple[str, ...]] = ("num_classes", "hidden")

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.progress = 1.0  # share of its training done, set by the training loop for schedules that follow it

    @property
    def num_classes(self) -> int:
        return getattr(self.config, "num_classes", 0)

    @property
    @abc.abstractmethod
    def latent(self) -> nn.Module:
        """The latent distribution (models/latent.py): sample, moments, fits_codes / fit, unit."""

    def labels_for(self, labels: torch.Tensor | None) -> torch.Tensor | None:
        """The labels this model takes: the given ones for a class model, None for the others."""
        return labels if self.takes_class else None

    def temperature(self, asked: float | None) -> float:
        """The scale of random latents: as asked, else the model's default."""
        return self.default_temperature if asked is None else asked

    def metric(self, asked: str | None) -> str:
        """A score metric this model offers (the default when None)."""
        names = list(self.score_metrics)
        if asked is None:
            return names[0]
        if asked.lower() not in names:
            raise UsageError(f"{self.name} has no score metric {asked!r}; it offers: {', '.join(names)}")
        return asked.lower()

    def upgrade_state(self, weights: dict[str, torch.Tensor], extras: dict[str, torch.Tensor]) -> None:
        """Bring the tensors of a checkpoint written by an older aecli to this model's state (in place)."""

    def check_state(self) -> None:
        """Refuse loaded values no trained model has (ValueError naming the field)."""

    @abc.abstractmethod
    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The latent code (for variational models, the mean)."""

    def encode_distribution(
        self, x: torch.Tensor, y: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The code's mean and log-variance; a deterministic encoder has no log-variance (None)."""
        return self.encode(x, y), None

    @abc.abstractmethod
    def decode_logits(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Pre-sigmoid outputs, N x C x H x W."""

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Images in [0, 1]."""
        return torch.sigmoid(self.decode_logits(z, y))

    def reconstruct(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.decode(self.encode(x, y), y)

    def refine_codes(
        self, x: torch.Tensor, z: torch.Tensor, y: torch.Tensor | None = None, steps: int | None = None
    ) -> torch.Tensor:
        """Codes that redraw x at least as well as `z`, the encoder's; a model that does not refine keeps them."""
        return z

    @abc.abstractmethod
    def loss(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The training loss, one value per image."""

    def test_loss(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """What test figures report, one value per image: the training loss unless a model trains
        on something else (a weighted objective, say)."""
        return self.loss(x, y)

    @abc.abstractmethod
    def score(self, x: torch.Tensor, y: torch.Tensor | None = None, metric: str | None = None, k: int = 100):
        """One anomaly score per image (higher: less like the training images), deterministic for
        a given batch; `k` is the sample count of sampled metrics. Plain tensor operations, so the
        same computation exports to ONNX."""

    def importance_nll(self, x: torch.Tensor, y: torch.Tensor | None, k: int, generator=None) -> torch.Tensor:
        """-log p(x) bounded with k importance samples, per image (models with a likelihood)."""
        raise UsageError(f"{self.name} has no likelihood to bound")

    def one_hot(self, y: torch.Tensor | None) -> torch.Tensor | None:
        if not self.takes_class:
            return None
        if y is None:
            raise ValueError(f"{self.name} needs class labels")
        if y.is_floating_point():  # already one-hot, or a blend of labels
            return y
        return F.one_hot(y, self.num_classes).float()


MODELS: Registry[type[Autoencoder]] = Registry("model")


def register_model(cls: type[Autoencoder]) -> type[Autoencoder]:
    """Class decorator: make a model available under its `name`."""
    return MODELS.register(cls.name)(cls)


def flat_size(config: ModelConfig, stages: int, channels: int) -> int:
    side = config.image_size // 2**stages
    return channels * side * side


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, I)) per sample, in nats (in float32, also under autocast)."""
    mu, logvar = mu.float(), logvar.float()
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)


class BernoulliNLL(torch.autograd.Function):
    """Binary cross-entropy with logits, summed per sample, as a single autograd node.

    The same values as F.binary_cross_entropy_with_logits (within float rounding), faster on the
    CPU, where torch's version spends most of its time in log1p, which is not vectorised there;
    log(1 + exp(-|l|)) is, and its backward is one sigmoid (docs/decisions.md).
    """

    @staticmethod
    def forward(ctx, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(logits, target)
        return bernoulli_nll_plain(logits, target)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        logits, target = ctx.saved_tensors
        grad = grad.view(-1, *[1] * (logits.dim() - 1))
        grad_logits = (torch.sigmoid(logits) - target) * grad if ctx.needs_input_grad[0] else None
        grad_target = -logits * grad if ctx.needs_input_grad[1] else None
        return grad_logits, grad_target


def bernoulli_nll_plain(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The same sum in plain operations, stable for any logit (exported graphs use this: the ONNX export
    of torch's BCE-with-logits overflows to infinity where the sigmoid saturates)."""
    softplus = torch.relu(logits) + torch.log(1 + torch.exp(-logits.abs()))
    return (softplus - target * logits).flatten(1).sum(dim=1)


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy summed over pixels, per sample, in nats (in float32, also under autocast)."""
    return BernoulliNLL.apply(logits.float(), x.float())


def log_normal(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    return -0.5 * (((z - mu) ** 2) / logvar.exp() + logvar + math.log(2 * math.pi)).sum(dim=-1)


def ssim(a: torch.Tensor, b: torch.Tensor, window: int = 7) -> torch.Tensor:
    """Mean structural similarity per image of two N x C x H x W batches in [0, 1]: Wang et al.'s
    formula over a uniform window, as scikit-image's default (plain tensor operations, so it exports)."""
    window = min(window, a.shape[-1], a.shape[-2]) // 2 * 2 + 1 if min(a.shape[-2:]) >= 3 else 1
    channels = a.shape[1]
    kernel = torch.full((channels, 1, window, window), 1.0 / window**2, dtype=a.dtype, device=a.device)

    def local(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(t, kernel, groups=channels)

    mu_a, mu_b = local(a), local(b)
    n = window**2
    correction = n / (n - 1) if n > 1 else 1.0  # sample covariances, as scikit-image
    var_a = (local(a * a) - mu_a * mu_a) * correction
    var_b = (local(b * b) - mu_b * mu_b) * correction
    cov = (local(a * b) - mu_a * mu_b) * correction
    c1, c2 = 0.01**2, 0.03**2
    value = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return value.flatten(1).mean(1)


def logsumexp(x: torch.Tensor, dim: int) -> torch.Tensor:
    """log(sum(exp(x))) over `dim`, shifted by the maximum: torch's own is stable, but its ONNX export
    (ReduceLogSumExp) underflows to -inf where every term is far below zero."""
    top = x.amax(dim=dim, keepdim=True).detach()
    return (top + torch.log(torch.exp(x - top).sum(dim=dim, keepdim=True))).squeeze(dim)
