"""The data a checkpoint was trained on, read again by its recorded recipe."""

from dataclasses import replace
from pathlib import Path

from aecli.data import DataRecipe, Dataset, Reporter, load_dataset
from aecli.data.recipe import local_folder
from aecli.errors import UsageError

SHIPPED = ("digits", "lfw-mini")  # inside aecli's dependencies: nothing to point anywhere


def recorded_data(
    recipe: DataRecipe, data_dir: Path | str | None = None, reporter: Reporter | None = None, **changes
) -> Dataset:
    """Read `recipe` (`data_dir` points it at other files; `changes` replace recipe fields, e.g. classes=None).
    MNIST's test split ships with aecli, so a model trained on MNIST is shown and scored offline."""
    if data_dir is not None:
        if recipe.dataset in SHIPPED:
            raise UsageError(f"{recipe.dataset} ships with aecli's dependencies; drop --data-dir")
        recipe = replace(recipe, data_dir=local_folder(data_dir))
    recipe = replace(recipe, **changes)
    if recipe.dataset == "mnist" and recipe.data_dir is None:
        from aecli.data.sets.idx import bundled_mnist_test

        data = bundled_mnist_test()
        if recipe.classes is not None:
            from aecli.data.classes import keep_classes

            data = keep_classes(data, recipe.classes)
        data.test = data.test.head(recipe.limit) if recipe.limit is not None else data.test
        return data
    return load_dataset(recipe, reporter=reporter)
