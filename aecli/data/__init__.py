"""Dataset adapters, looked up by name."""

from collections.abc import Callable
from pathlib import Path

from aecli.data.base import Dataset, DataSpec, Split
from aecli.errors import UsageError
from aecli.registry import Registry

DATASETS: Registry[Callable[..., Dataset]] = Registry("dataset")

__all__ = ["DATASETS", "Dataset", "DataSpec", "Split", "load_dataset"]


@DATASETS.register("mnist")
def _mnist(data_dir: Path | None, **options) -> Dataset:
    from aecli.data.mnist import load_mnist

    return load_mnist(data_dir)


@DATASETS.register("digits")
def _digits(data_dir: Path | None, **options) -> Dataset:
    if data_dir is not None:
        raise UsageError("the digits dataset ships with scikit-learn; drop --data-dir or use --dataset mnist")
    from aecli.data.digits import load_digits_28

    return load_digits_28()


def load_dataset(name: str, data_dir: Path | None = None, **options) -> Dataset:
    return DATASETS.get(name)(data_dir, **options)


def load_for_checkpoint(training: dict, data_dir: Path | None = None) -> Dataset:
    """The dataset a checkpoint was trained on, read the same way (`data_dir` overrides)."""
    folder = data_dir if data_dir is not None else training.get("data_dir")
    options = {key: training.get(key) for key in ("image_size", "crop", "grey")}
    return load_dataset(training.get("dataset", "mnist"), Path(folder) if folder else None, **options)


@DATASETS.register("lfw")
def _lfw(data_dir: Path | None, image_size=None, crop=None, grey=False, **options) -> Dataset:
    from aecli.data.lfw import load_lfw

    return load_lfw(data_dir, image_size, crop, grey)


@DATASETS.register("lfw-mini")
def _lfw_mini(data_dir: Path | None, image_size=None, **options) -> Dataset:
    if data_dir is not None:
        raise UsageError("lfw-mini ships with scikit-image; drop --data-dir or use --dataset lfw")
    from aecli.data.lfw import load_lfw_mini

    return load_lfw_mini(image_size)
