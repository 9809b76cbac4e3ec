"""uint8 pixels to the floats models see."""

import torch

FIXED_BINARIZATION_SEED = 12345


def as_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 pixels (the only kind a Split holds) to a new float tensor in [0, 1]."""
    return images.float().div_(255)


def as_input(images: torch.Tensor, binarize: bool, generator: torch.Generator | None = None) -> torch.Tensor:
    """uint8 pixels to floats in [0, 1]; optionally a Bernoulli draw per pixel."""
    x = as_float(images)
    if binarize:
        where = generator.device if generator is not None else "cpu"  # a device generator draws there
        noise = torch.rand(x.shape, generator=generator, device=where).to(x.device)
        x = (noise < x).float()
    return x


def fixed_binarized(images: torch.Tensor, offset: int = 0) -> torch.Tensor:
    """The same binarized test images every time, so NLL figures are comparable.

    `offset` is the position of the first image in its split, so a batch gets the draw it would
    have had as part of the whole split.
    """
    generator = torch.Generator().manual_seed(FIXED_BINARIZATION_SEED + offset)
    return as_input(images.cpu(), True, generator).to(images.device)
