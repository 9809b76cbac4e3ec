"""What a trained model is used for: reconstruct, sample, generate, interpolate, attributes."""

from pathlib import Path

import numpy as np
import torch

from aecli.data import Dataset, DataSpec
from aecli.errors import AecliError, UsageError
from aecli.models import Autoencoder

BATCH = 512
ATTRIBUTE_FRACTION = 0.1  # top / bottom share of faces that define an attribute direction


def _device(model: Autoencoder) -> torch.device:
    return next(model.parameters()).device


def as_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 pixels (the only kind a Split holds) to a new float tensor in [0, 1]."""
    return images.float().div_(255)


@torch.inference_mode()
def latent_codes(model: Autoencoder, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """Latent codes (means, for variational models) of uint8 images, on the CPU."""
    model.eval()
    device, codes = _device(model), []
    for start in range(0, len(images), BATCH):
        x = as_float(images[start : start + BATCH].to(device))
        y = labels[start : start + BATCH].to(device) if labels is not None else None
        codes.append(model.encode(x, y).float().cpu())
    return torch.cat(codes) if codes else torch.empty(0, model.config.latent_dim)


@torch.inference_mode()
def decode(model: Autoencoder, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    model.eval()
    device, out = _device(model), []
    for start in range(0, len(z), BATCH):
        y = labels[start : start + BATCH].to(device) if labels is not None else None
        out.append(model.decode(z[start : start + BATCH].to(device), y).float().cpu())
    return torch.cat(out)


def reconstruct(model: Autoencoder, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    return decode(model, latent_codes(model, images, labels), labels)


def _generator(seed: int | None) -> torch.Generator:
    generator = torch.Generator()
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(seed)
    return generator


def temperature_for(model: Autoencoder, temperature: float | None) -> float:
    """The scale of random latents: as asked, else the model's default."""
    return type(model).default_temperature if temperature is None else temperature


def sample(
    model: Autoencoder, n: int, seed: int | None, extras: dict, naive: bool = False, temperature: float | None = None
) -> torch.Tensor:
    """New images from random latent vectors (random classes for a conditional model)."""
    generator = _generator(seed)
    dim = model.config.latent_dim
    eps = torch.randn(n, dim, generator=generator) * temperature_for(model, temperature)
    if model.variational or naive:
        z = eps
    else:
        if "latent_mean" not in extras:
            raise AecliError("this checkpoint has no fitted latent Gaussian; retrain it, or add --naive")
        # z = mean + L eps with L the Cholesky factor of the fitted covariance
        cov = extras["latent_cov"].double() + 1e-6 * torch.eye(dim, dtype=torch.float64)
        z = (extras["latent_mean"].double() + eps.double() @ torch.linalg.cholesky(cov).T).float()
    labels = torch.randint(model.config.num_classes, (n,), generator=generator) if model.conditional else None
    return decode(model, z, labels)


def generate(
    model: Autoencoder, digits: list[int], n: int, seed: int | None, temperature: float | None = None
) -> torch.Tensor:
    """n images per requested class, the same n latent vectors reused for every class."""
    if not model.conditional:
        raise UsageError(f"generate needs a conditional model; use `aecli generate cvae` (not {model.name})")
    z = torch.randn(n, model.config.latent_dim, generator=_generator(seed)) * temperature_for(model, temperature)
    rows = [decode(model, z, torch.full((n,), d, dtype=torch.long)) for d in digits]
    return torch.stack(rows)  # len(digits) x n x C x H x W


def interpolate(model: Autoencoder, pair: torch.Tensor, labels: torch.Tensor | None, steps: int) -> torch.Tensor:
    """Decode a straight line between the latent codes of two images (labels too, for cvae)."""
    z = latent_codes(model, pair, labels)
    t = torch.linspace(0, 1, steps).unsqueeze(1)
    path = (1 - t) * z[0] + t * z[1]
    if labels is None:
        return decode(model, path)
    onehots = torch.nn.functional.one_hot(labels, model.config.num_classes).float()
    return decode(model, path, (1 - t) * onehots[0] + t * onehots[1])


def latent_statistics(model: Autoencoder, data: Dataset) -> dict[str, torch.Tensor]:
    """The training latents' mean and covariance, and one direction per known attribute."""
    codes = latent_codes(model, data.train.images).double()
    extras = {"latent_mean": codes.mean(0).float(), "latent_cov": torch.cov(codes.T).float()}
    if data.train.attributes is not None:
        extras["attribute_directions"] = attribute_directions(codes.float(), data.train.attributes)
    return extras


def attribute_directions(codes: torch.Tensor, attributes: torch.Tensor) -> torch.Tensor:
    """Per attribute: mean code of the top-scoring faces minus that of the bottom-scoring ones."""
    directions = torch.zeros(attributes.shape[1], codes.shape[1])
    for a in range(attributes.shape[1]):
        known = torch.nonzero(~torch.isnan(attributes[:, a])).squeeze(1)
        k = max(1, int(len(known) * ATTRIBUTE_FRACTION))
        if len(known) < 2:
            continue
        order = known[torch.argsort(attributes[known, a])]
        directions[a] = codes[order[-k:]].mean(0) - codes[order[:k]].mean(0)
    return directions


def find_attribute(spec: DataSpec, name: str) -> int:
    if not spec.attribute_names:
        raise UsageError(f"the {spec.name} data this model was trained on has no attributes; train on --dataset lfw")
    lowered = [a.lower() for a in spec.attribute_names]
    if name.lower() not in lowered:
        raise UsageError(f"unknown attribute {name!r}; choose one of: {', '.join(spec.attribute_names)}")
    return lowered.index(name.lower())


def apply_attribute(
    model: Autoencoder, images: torch.Tensor, direction: torch.Tensor, strengths: list[float]
) -> torch.Tensor:
    """N x K images: each face's code moved along `direction` by each strength."""
    z = latent_codes(model, images)
    columns = [decode(model, z + s * direction) for s in strengths]
    return torch.stack(columns, dim=1)


def load_input_images(paths: list[Path], spec: DataSpec) -> torch.Tensor:
    """The user's own image files as uint8 N x C x S x S: centre-cropped square, resized."""
    from PIL import Image, UnidentifiedImageError

    size, out = spec.image_size, []
    for path in paths:
        try:
            with Image.open(path) as image:
                image = image.convert("L" if spec.channels == 1 else "RGB")
                side = min(image.size)
                if side == 0:
                    raise AecliError(f"{path} is an empty image; pass a real photo")
                left, top = (image.width - side) // 2, (image.height - side) // 2
                image = image.crop((left, top, left + side, top + side)).resize((size, size), Image.LANCZOS)
                pixels = np.asarray(image, dtype=np.uint8)
        except FileNotFoundError:
            raise AecliError(f"input image {path} does not exist; check the path") from None
        except (UnidentifiedImageError, OSError) as exc:
            raise AecliError(f"cannot read {path} as an image ({exc}); pass a PNG or JPEG file") from exc
        out.append(pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1))
    return torch.from_numpy(np.stack(out))
