"""What a trained model does with images and latents: encode, decode, sample, generate, interpolate, traverse."""

import torch

from aecli.data.pixels import as_float
from aecli.errors import AecliError, UsageError
from aecli.models import Autoencoder

BATCH = 512
AUTO_DIMS = 16  # rows a traversal shows by default: all of a small latent, else the most used


def _device(model: Autoencoder) -> torch.device:
    return next(model.parameters()).device


@torch.inference_mode()
def latent_codes(
    model: Autoencoder, images: torch.Tensor, labels: torch.Tensor | None = None, refine: bool = False
) -> torch.Tensor:
    """Latent codes (means, for variational models) of uint8 images, on the CPU. With `refine`, codes
    meant to redraw these very images: the model's refinement of the encoder's (the ae's), where it has one."""
    model.eval()
    device, codes = _device(model), []
    for start in range(0, len(images), BATCH):
        x = as_float(images[start : start + BATCH].to(device))
        y = labels[start : start + BATCH].to(device) if labels is not None else None
        z = model.encode(x, y)
        codes.append((model.refine_codes(x, z, y) if refine else z).float().cpu())
    return torch.cat(codes) if codes else torch.empty(0, model.config.latent_dim)


@torch.inference_mode()
def decode(model: Autoencoder, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """Images in [0, 1] (on the CPU) for latent vectors, in batches."""
    model.eval()
    device, out = _device(model), []
    for start in range(0, len(z), BATCH):
        y = labels[start : start + BATCH].to(device) if labels is not None else None
        out.append(model.decode(z[start : start + BATCH].to(device), y).float().cpu())
    return torch.cat(out)


def reconstruct(
    model: Autoencoder, images: torch.Tensor, labels: torch.Tensor | None = None, refine: bool = True
) -> torch.Tensor:
    return decode(model, latent_codes(model, images, labels, refine), labels)


def generator(seed: int | None) -> torch.Generator:
    """A CPU generator: seeded, or freshly random when seed is None."""
    g = torch.Generator()
    if seed is None:
        g.seed()
    else:
        g.manual_seed(seed)
    return g


def temperature_for(model: Autoencoder, temperature: float | None) -> float:
    """The scale of random latents: as asked, else the model's default."""
    return type(model).default_temperature if temperature is None else temperature


def sample_latents(
    model: Autoencoder, n: int, g: torch.Generator, extras: dict, naive: bool, temperature: float
) -> torch.Tensor:
    """n random latents: the prior (variational models, or `naive`), else the Gaussian fitted to training codes."""
    if model.variational:
        return model.prior.sample(n, g, temperature)
    dim = model.config.latent_dim
    eps = torch.randn(n, dim, generator=g) * temperature
    if naive:
        return eps
    if "latent_mean" not in extras:
        raise AecliError("this checkpoint has no fitted latent Gaussian; retrain it, or add --naive")
    # z = mean + L eps with L the Cholesky factor of the fitted covariance
    cov = extras["latent_cov"].double() + 1e-6 * torch.eye(dim, dtype=torch.float64)
    return (extras["latent_mean"].double() + eps.double() @ torch.linalg.cholesky(cov).T).float()


def generate(
    model: Autoencoder, classes: list[int], n: int, seed: int | None = None, temperature: float | None = None
) -> torch.Tensor:
    """n images per requested class, the same n latent vectors reused for every class."""
    if not model.conditional:
        raise UsageError(f"generate needs a conditional model; use `aecli generate cvae` (not {model.name})")
    z = model.prior.sample(n, generator(seed), temperature_for(model, temperature))
    rows = [decode(model, z, torch.full((n,), c, dtype=torch.long)) for c in classes]
    return torch.stack(rows)  # len(classes) x n x C x H x W


def interpolate(model: Autoencoder, pair: torch.Tensor, labels: torch.Tensor | None, steps: int) -> torch.Tensor:
    """Decode a straight line between the latent codes of two images (labels too, for cvae)."""
    z = latent_codes(model, pair, labels, refine=True)
    t = torch.linspace(0, 1, steps).unsqueeze(1)
    path = (1 - t) * z[0] + t * z[1]
    if labels is None:
        return decode(model, path)
    onehots = torch.nn.functional.one_hot(labels, model.num_classes).float()
    return decode(model, path, (1 - t) * onehots[0] + t * onehots[1])


def traverse(
    model: Autoencoder, base: torch.Tensor, dims: list[int], offsets: torch.Tensor, scale: torch.Tensor, label=None
) -> torch.Tensor:
    """Each dimension in `dims` swept through base + offset x scale, the others held: dims x steps x C x H x W."""
    z = base.repeat(len(dims), len(offsets), 1)
    for row, dim in enumerate(dims):
        z[row, :, dim] += offsets * scale[dim]
    flat = z.reshape(-1, base.numel())
    labels = torch.full((len(flat),), label, dtype=torch.long) if model.conditional else None
    images = decode(model, flat, labels)
    return images.reshape(len(dims), len(offsets), *images.shape[1:])


def latent_dims(dims: str | None, spread: torch.Tensor) -> list[int]:
    """--dims: a comma list, `all`, or by default all of a small latent, else the most used (widest spread)."""
    size = len(spread)
    if dims is None:
        return list(range(size)) if size <= AUTO_DIMS else spread.argsort(descending=True)[:AUTO_DIMS].tolist()
    if dims.strip().lower() == "all":
        return list(range(size))
    try:
        chosen = [int(part) for part in dims.split(",") if part.strip()]
    except ValueError:
        raise UsageError(f"--dims {dims!r} is not a list like 0,3,7 or `all`") from None
    wrong = [d for d in chosen if not 0 <= d < size]
    if not chosen or wrong:
        raise UsageError(f"--dims must name latent dimensions 0 to {size - 1} (this model has {size}); got {dims!r}")
    return chosen
