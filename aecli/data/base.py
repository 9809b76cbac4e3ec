"""What every dataset adapter returns: uint8 image tensors plus a small spec."""

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from aecli.data.records import Record

DIGITS = tuple(str(d) for d in range(10))


@dataclass(frozen=True)
class DataSpec(Record):
    """What a model needs to know of its data; stored in every checkpoint."""

    what = "data spec"

    name: str
    channels: int
    image_size: int
    class_names: tuple[str, ...] = ()  # empty: the dataset has no class labels
    attribute_names: tuple[str, ...] = ()
    mirrored: bool = False  # a left-right flip is another valid image (faces, not digits)
    light_on_dark: bool = False  # pale strokes on black, as MNIST: a user's dark-on-light drawing is inverted
    faces: bool = False  # photos of faces: a user's photo is cropped around the face found in it

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError("the data name must be a non-empty string")
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, not {self.channels!r}")
        if not isinstance(self.image_size, int) or not 4 <= self.image_size <= 1024:
            raise ValueError(f"image_size must be a whole number from 4 to 1024, not {self.image_size!r}")
        for names in (self.class_names, self.attribute_names):
            if len(names) > 100_000 or not all(isinstance(n, str) for n in names):
                raise ValueError("class and attribute names must be at most 100,000 strings")

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def digit_classes(self) -> bool:
        return self.class_names == DIGITS

    @classmethod
    def from_dict(cls, data: dict) -> "DataSpec":
        """Also reads the specs of checkpoints written before class names were stored."""
        data = cls.json_object(data)
        legacy_count = data.pop("num_classes", None)
        if "class_names" not in data and legacy_count:
            if not isinstance(legacy_count, int) or not 0 < legacy_count <= 100_000:
                raise ValueError(f"num_classes must be a small positive whole number, not {legacy_count!r}")
            data["class_names"] = tuple(str(i) for i in range(legacy_count))
        if "light_on_dark" not in data:  # older checkpoints: only these two were drawings
            data["light_on_dark"] = data.get("name") in ("mnist", "digits")
        if "faces" not in data:
            data["faces"] = data.get("name") in ("lfw", "lfw-mini")
        for key in ("class_names", "attribute_names"):
            if not isinstance(data.get(key, ()), list | tuple):
                raise ValueError(f"{key} must be a list of names")
            data[key] = tuple(data.get(key, ()))
        return cls.built(data)


@dataclass
class Split:
    images: torch.Tensor  # uint8, N x C x H x W (may be memory-mapped from the cache)
    labels: torch.Tensor | None = None  # int64, N
    attributes: torch.Tensor | None = None  # float32, N x A (NaN where unknown)

    def __len__(self) -> int:
        return len(self.images)

    def head(self, n: int) -> "Split":
        """The first n images (all of them if there are fewer)."""

        def cut(t):
            return None if t is None else t[:n]

        return Split(self.images[:n], cut(self.labels), cut(self.attributes))


@dataclass
class Dataset:
    spec: DataSpec
    train: Split
    test: Split
    recipe: "object" = None  # the DataRecipe it was read with, every default filled in
    notes: list[str] = field(default_factory=list)  # facts worth telling the user


def _quiet(*args) -> None:
    pass


@dataclass(frozen=True)
class Reporter:
    """How a slow dataset read reports to whoever shows it (the CLI: stderr and a progress bar)."""

    note: Callable[[str], None] = _quiet
    progress: Callable[[str, int, int], None] = _quiet  # (what, done, total)
