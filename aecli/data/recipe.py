"""How a dataset is read, as one frozen value: built from the command line, stored in checkpoints."""

from dataclasses import dataclass
from pathlib import Path

from aecli.data.records import Record


def local_folder(path) -> str:
    """How a recipe records a --data-dir: absolute, with ~ expanded."""
    return str(Path(path).expanduser().resolve())


# each recipe field and the option that sets it
OPTION_NAMES = {
    "data_dir": "--data-dir",
    "image_size": "--image-size",
    "crop": "--crop",
    "grey": "--grey",
    "limit": "--limit",
    "split_by": "--split-by",
    "classes": "--classes",
}
LIMITS = {"image_size": (16, 512), "crop": (0.05, 1.0), "limit": (1, 10**9)}


@dataclass(frozen=True)
class DataRecipe(Record):
    what = "data recipe"
    dataset: str
    data_dir: str | None = None  # local files instead of a download
    image_size: int | None = None  # side of the square images; None: the dataset's default
    crop: float | None = None  # centre crop, a fraction of the shorter side, before resizing
    grey: bool = False  # convert colour images to one channel
    limit: int | None = None  # only the first N images of each split
    split_by: str | None = None  # a table column (e.g. person) whose values never straddle train and test
    classes: tuple[str, ...] | None = None  # only these classes (by name), relabelled in this order

    def __post_init__(self) -> None:
        if not isinstance(self.dataset, str) or not self.dataset:
            raise ValueError("the dataset name must be a non-empty string")
        for name, (low, high) in LIMITS.items():
            value = getattr(self, name)
            wanted = float if name == "crop" else int
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float) if wanted is float else int):
                raise ValueError(f"{OPTION_NAMES[name]} must be a number, not {value!r}")
            if not low <= value <= high:
                raise ValueError(f"{OPTION_NAMES[name]} must lie in [{low}, {high}], not {value}")
        if not isinstance(self.grey, bool):
            raise ValueError(f"--grey must be true or false, not {self.grey!r}")
        if self.classes is not None:
            if isinstance(self.classes, list):
                object.__setattr__(self, "classes", tuple(self.classes))
            if not isinstance(self.classes, tuple) or not self.classes or len(self.classes) > 100_000:
                raise ValueError(f"--classes must be a list of class names, not {self.classes!r}")
            if not all(isinstance(name, str) and name for name in self.classes):
                raise ValueError("--classes must name classes as text")
        for name in ("data_dir", "split_by"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), str):
                raise ValueError(f"{OPTION_NAMES[name]} must be text, not {getattr(self, name)!r}")

    @property
    def crop_fraction(self) -> float:
        """The centre crop as read: the recipe's, else the whole shorter side."""
        return self.crop if self.crop is not None else 1.0

    def given(self) -> list[str]:
        """The recipe fields set away from "not given"."""
        return [name for name in OPTION_NAMES if getattr(self, name) not in (None, False)]

    @classmethod
    def from_dict(cls, data: dict) -> "DataRecipe":
        return cls.built(cls.json_object(data))

    @classmethod
    def from_training(cls, training: dict) -> "DataRecipe":
        """The recipe of a checkpoint written before recipes were stored (its training settings)."""
        keys = ("data_dir", "image_size", "crop", "grey")
        return cls(dataset=training.get("dataset") or "mnist", **{k: training.get(k) for k in keys if k in training})
