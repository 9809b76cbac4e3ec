"""What a trained model does with images and latents: encode, decode, sample, generate, interpolate, traverse."""

import torch

from aecli.data.pixels import as_float
from aecli.errors import UsageError
from aecli.models import Autoencoder

BATCH_VALUES = 2**22  # pixel values per inference batch: activations stay bounded whatever the image size
MAX_BATCH = 512
AUTO_DIMS = 16  # rows a traversal shows by default: all of a small latent, else the most used


def batch_size(image_values: int) -> int:
    """Images per inference batch for images of `image_values` numbers (channels x pixels)."""
    return max(1, min(MAX_BATCH, BATCH_VALUES // max(1, image_values)))


def model_batch(model: Autoencoder) -> int:
    config = model.config
    return batch_size(config.channels * config.image_size**2)


def device_of(model: Autoencoder) -> torch.device:
    return next(model.parameters()).device


def _part(t: torch.Tensor | None, start: int, size: int, device: torch.device) -> torch.Tensor | None:
    return None if t is None else t[start : start + size].to(device)


@torch.inference_mode()
def latent_codes(
    model: Autoencoder, images: torch.Tensor, labels: torch.Tensor | None = None, refine: bool = False
) -> torch.Tensor:
    """Latent codes (means, for variational models) of uint8 images, on the CPU. With `refine`, codes
    meant to redraw these very images: the model's refinement of the encoder's (the ae's), where it has one."""
    model.eval()
    device, codes, step = device_of(model), [], model_batch(model)
    labels = model.labels_for(labels)
    for start in range(0, len(images), step):
        x = as_float(images[start : start + step].to(device))
        y = _part(labels, start, step, device)
        z = model.encode(x, y)
        codes.append((model.refine_codes(x, z, y) if refine else z).float().cpu())
    return torch.cat(codes) if codes else torch.empty(0, model.config.latent_dim)


@torch.inference_mode()
def decode(model: Autoencoder, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """Images in [0, 1] (on the CPU) for latent vectors, in batches."""
    model.eval()
    device, out, step = device_of(model), [], model_batch(model)
    labels = model.labels_for(labels)
    for start in range(0, len(z), step):
        out.append(model.decode(z[start : start + step].to(device), _part(labels, start, step, device)).float().cpu())
    return (
        torch.cat(out)
        if out
        else torch.empty(0, model.config.channels, model.config.image_size, model.config.image_size)
    )


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


def sample_latents(
    model: Autoencoder, n: int, g: torch.Generator, naive: bool, temperature: float, labels=None
) -> torch.Tensor:
    """n random latents from the model's latent distribution (given each image's class, for a class
    model), or from N(0, I) with `naive`."""
    if naive:
        return torch.randn(n, model.config.latent_dim, generator=g) * temperature
    return model.latent.sample(n, g, temperature, labels)


def random_labels(model: Autoencoder, n: int, g: torch.Generator) -> torch.Tensor | None:
    """A random class per image for a class model (None for the others, drawing nothing from g)."""
    return torch.randint(model.num_classes, (n,), generator=g) if model.takes_class else None


def class_latents(model: Autoencoder, c: int, n: int, seed: int, temperature: float) -> torch.Tensor:
    """n latents for class c, from the same seed whatever the class: the same codes for every class
    when the prior is shared by all, the same draws within each class's own prior otherwise."""
    return model.latent.sample(n, generator(seed), temperature, torch.full((n,), c, dtype=torch.long))


def generate(model: Autoencoder, classes: list[int], n: int, seed: int, temperature: float) -> torch.Tensor:
    """n images per requested class, from the same seed for every class (`class_latents`)."""
    if not model.takes_class:
        raise UsageError(f"generate needs a model that takes a class (cvae), not {model.name}")
    rows = [decode(model, class_latents(model, c, n, seed, temperature), torch.full((n,), c)) for c in classes]
    return torch.stack(rows)  # len(classes) x n x C x H x W


def interpolate(model: Autoencoder, pair: torch.Tensor, labels: torch.Tensor | None, steps: int) -> torch.Tensor:
    """Decode a straight line between the latent codes of two images (and their labels, for a class model)."""
    labels = model.labels_for(labels)
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
    labels = torch.full((len(flat),), label if label is not None else 0, dtype=torch.long)
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
    repeated = sorted({d for d in chosen if chosen.count(d) > 1})
    if repeated:
        raise UsageError(f"--dims names {', '.join(map(str, repeated))} more than once; name each dimension once")
    return chosen
