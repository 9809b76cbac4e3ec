"""`--classes`: train on some classes of a dataset only (one normal class for anomaly scores, say)."""

from dataclasses import replace

import torch

from aecli.data.base import Dataset, DataSpec, Split
from aecli.errors import UsageError
from aecli.registry import did_you_mean


def parse_classes(text: str) -> tuple[str, ...]:
    """`3`, `3,5` or class names, as given (matched to the data's classes when it is read)."""
    names = tuple(part.strip() for part in str(text).split(",") if part.strip())
    if not names:
        raise UsageError("--classes needs one or more class names or digits, e.g. --classes 3 or --classes 3,5")
    if len(set(names)) != len(names):
        raise UsageError(f"--classes {text!r} names a class twice; name each once")
    return names


def matched(spec: DataSpec, asked: tuple[str, ...]) -> tuple[str, ...]:
    """The data's own class names for `asked` (matched case-insensitively)."""
    if not spec.class_names:
        raise UsageError(f"--classes needs a dataset with classes; {spec.name} has none")
    lowered = {name.lower(): name for name in spec.class_names}
    unknown = [name for name in asked if name.lower() not in lowered]
    if unknown:
        hint = did_you_mean(unknown[0], spec.class_names)
        shown = ", ".join(spec.class_names[:20]) + (", ..." if len(spec.class_names) > 20 else "")
        raise UsageError(f"--classes: no class {unknown[0]!r} in {spec.name}; {hint}its classes: {shown}")
    if len(asked) == len(spec.class_names):
        raise UsageError("--classes names every class of the data; drop it to train on all of them")
    return tuple(lowered[name.lower()] for name in asked)


def keep_classes(data: Dataset, asked: tuple[str, ...]) -> Dataset:
    """Only the images of the asked classes, relabelled 0..k-1 in the order asked."""
    names = matched(data.spec, asked)
    index = torch.tensor([data.spec.class_names.index(name) for name in names])
    relabel = torch.full((len(data.spec.class_names),), -1, dtype=torch.long)
    relabel[index] = torch.arange(len(index))

    def keep(split: Split) -> Split:
        mask = torch.isin(split.labels, index)
        attributes = split.attributes[mask] if split.attributes is not None else None
        return Split(split.images[mask], relabel[split.labels[mask]], attributes)

    data.spec = replace(data.spec, class_names=names)
    data.train, data.test = keep(data.train), keep(data.test)
    data.notes.append(f"training on {len(names)} of the classes ({', '.join(names)}): {len(data.train):,} images")
    return data
