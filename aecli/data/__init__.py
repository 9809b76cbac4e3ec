"""Dataset adapters, looked up by name. Each adapter is one module in `aecli/data/sets/`."""

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from aecli.data.base import Dataset, DataSpec, Reporter, Split
from aecli.data.recipe import OPTION_NAMES, DataRecipe, local_folder
from aecli.errors import UsageError
from aecli.registry import Registry

__all__ = [
    "DATASETS",
    "DataRecipe",
    "Dataset",
    "DataSpec",
    "Reporter",
    "Split",
    "adapter",
    "check_recipe",
    "load_dataset",
]


@dataclass(frozen=True)
class Adapter:
    load: Callable[[DataRecipe, Reporter], Dataset]
    options: tuple[str, ...]  # the recipe fields it reads, besides the dataset name
    defaults: dict = field(default_factory=dict)  # recipe fields it fills when they are not given


DATASETS: Registry[Adapter] = Registry("dataset")


def adapter(name: str, options: tuple[str, ...] = (), defaults: dict | None = None):
    """Register `load(recipe, reporter) -> Dataset` under `name`; every adapter takes --limit."""

    def decorator(load: Callable[[DataRecipe, Reporter], Dataset]) -> Callable[[DataRecipe, Reporter], Dataset]:
        DATASETS.register(name)(Adapter(load, (*options, "limit", "classes"), dict(defaults or {})))
        return load

    return decorator


def check_recipe(recipe: DataRecipe) -> Adapter:
    """The recipe's adapter; an option it does not read is a usage error that lists the ones it does."""
    entry = DATASETS.get(recipe.dataset)
    unused = [name for name in recipe.given() if name not in entry.options]
    if unused:
        flags = ", ".join(OPTION_NAMES[name] for name in unused)
        takes = ", ".join(OPTION_NAMES[name] for name in entry.options)
        raise UsageError(f"--dataset {recipe.dataset} does not use {flags}; it takes: {takes}")
    return entry


def load_dataset(
    dataset: str | DataRecipe, data_dir: Path | str | None = None, reporter: Reporter | None = None, **options
) -> Dataset:
    """Read a dataset by recipe (or by name and recipe fields); the result carries the full recipe."""
    if isinstance(dataset, str):
        folder = local_folder(data_dir) if data_dir is not None else None
        dataset = DataRecipe(dataset, data_dir=folder, **{k: v for k, v in options.items() if v is not None})
    entry = check_recipe(dataset)
    recipe = replace(dataset, **{k: v for k, v in entry.defaults.items() if getattr(dataset, k) is None})
    data = entry.load(recipe, reporter or Reporter())
    if recipe.classes is not None:
        from aecli.data.classes import keep_classes

        data = keep_classes(data, recipe.classes)
    if recipe.limit is not None:
        data.train, data.test = data.train.head(recipe.limit), data.test.head(recipe.limit)
        data.notes.append(f"--limit {recipe.limit:,}: {len(data.train):,} train / {len(data.test):,} test images used")
    data.recipe = data.recipe or recipe  # an adapter may fill a default only the data can tell
    if recipe.classes is not None:  # as the data names them
        data.recipe = replace(data.recipe, classes=data.spec.class_names)
    if len(data.train) == 0 or len(data.test) == 0:
        from aecli.errors import AecliError

        empty = "training" if len(data.train) == 0 else "test"
        raise AecliError(f"{recipe.dataset} leaves no {empty} images; " + _fix_for_empty(recipe))
    return data


def _fix_for_empty(recipe: DataRecipe) -> str:
    """What to change when a split comes out empty: the option that emptied it, else the data."""
    if recipe.split_by is not None:
        return f"--split-by {recipe.split_by} puts every image on one side; split by a column with several values"
    if recipe.limit is not None:
        return f"raise --limit ({recipe.limit:,} is too few)"
    if recipe.classes is not None:
        return "--classes leaves too few images; name more classes or add images"
    return "add images (at least 2)"


for _module in pkgutil.iter_modules([str(Path(__file__).parent / "sets")]):
    importlib.import_module(f"aecli.data.sets.{_module.name}")
