"""What every dataset adapter returns: in-memory uint8 tensors plus a small spec."""

from dataclasses import asdict, dataclass, field

import torch


@dataclass(frozen=True)
class DataSpec:
    name: str
    channels: int
    image_size: int
    num_classes: int = 0  # 0: the dataset has no class labels
    attribute_names: tuple[str, ...] = ()
    mirrored: bool = False  # a left-right flip is another valid image (faces, not digits)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "DataSpec":
        data = dict(data)
        data["attribute_names"] = tuple(data.get("attribute_names", ()))
        return cls(**data)


@dataclass
class Split:
    images: torch.Tensor  # uint8, N x C x H x W
    labels: torch.Tensor | None = None  # int64, N
    attributes: torch.Tensor | None = None  # float32, N x A (NaN where unknown)

    def __len__(self) -> int:
        return len(self.images)


@dataclass
class Dataset:
    spec: DataSpec
    train: Split
    test: Split
    notes: list[str] = field(default_factory=list)  # facts worth telling the user
