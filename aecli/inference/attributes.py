"""Attribute directions in latent space (the smile vector) and the edits they make."""

import torch

from aecli.data import DataSpec
from aecli.errors import UsageError
from aecli.inference import decode, latent_codes
from aecli.models import Autoencoder
from aecli.registry import did_you_mean

ATTRIBUTE_FRACTION = 0.1  # top / bottom share of faces that define an attribute direction


def attribute_directions(codes: torch.Tensor, attributes: torch.Tensor) -> torch.Tensor:
    """Per attribute: mean code of the top-scoring images minus that of the bottom-scoring ones."""
    directions = torch.zeros(attributes.shape[1], codes.shape[1])
    for a in range(attributes.shape[1]):
        known = torch.nonzero(~torch.isnan(attributes[:, a])).squeeze(1)
        if len(known) < 2:
            continue
        k = max(1, int(len(known) * ATTRIBUTE_FRACTION))
        order = known[torch.argsort(attributes[known, a])]
        directions[a] = codes[order[-k:]].mean(0) - codes[order[:k]].mean(0)
    return directions


def find_attribute(spec: DataSpec, name: str) -> int:
    """The column of an attribute, matched case-insensitively; the closest names are suggested."""
    if not spec.attribute_names:
        raise UsageError(
            f"the {spec.name} data this model was trained on has no attributes; train on --dataset lfw, celeba, "
            "or a --dataset folder with an attribute table"
        )
    lowered = [a.lower() for a in spec.attribute_names]
    if name.lower() in lowered:
        return lowered.index(name.lower())
    hint = did_you_mean(name, spec.attribute_names, n=3, cutoff=0.5)
    shown = ", ".join(spec.attribute_names[:12]) + (", ..." if len(spec.attribute_names) > 12 else "")
    raise UsageError(f"unknown attribute {name!r}; {hint}this model knows: {shown}")


def apply_attribute(
    model: Autoencoder,
    images: torch.Tensor,
    direction: torch.Tensor,
    strengths: list[float],
    labels: torch.Tensor | None = None,
) -> torch.Tensor:
    """N x K images: each image's code moved along `direction` by each strength (a class model keeps
    each image's class)."""
    z = latent_codes(model, images, labels, refine=True)
    columns = [decode(model, z + s * direction, labels) for s in strengths]
    return torch.stack(columns, dim=1)
