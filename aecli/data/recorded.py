"""The data a checkpoint was trained on, read again by its recorded recipe."""

from dataclasses import replace
from pathlib import Path

from aecli.data import DataRecipe, Dataset, Reporter, load_dataset
from aecli.data.base import DataSpec
from aecli.data.recipe import local_folder
from aecli.errors import AecliError, UsageError

SHIPPED = ("digits", "lfw-mini")  # inside aecli's dependencies: nothing to point anywhere


UNRECORDED_IMAGES = 200_000  # the bound for checkpoints written before the count was kept


def recorded_data(ckpt, data_dir: Path | str | None = None, reporter: Reporter | None = None, **changes) -> Dataset:
    """The data a checkpoint was trained on, read by its recipe (`data_dir` points it at other files;
    `changes` replace recipe fields, e.g. classes=None). MNIST's test split ships with aecli, so a model
    trained on MNIST is shown and scored offline. A folder only the checkpoint names is read only while
    it holds about as many images as the checkpoint's data had."""
    recipe: DataRecipe = ckpt.recipe
    recorded_images = ckpt.training.get("data_images") or UNRECORDED_IMAGES
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
    if data_dir is None and recipe.data_dir is not None:
        from aecli.data.prepare import bounded_scans

        # a folder the checkpoint names, not the user: read only if it looks like the data it recorded
        with bounded_scans(4 * recorded_images + 1000):
            data = load_dataset(recipe, reporter=reporter)
    else:
        data = load_dataset(recipe, reporter=reporter)
    if "classes" not in changes:  # the data as trained on: it must still be what the model takes
        check_fits(ckpt.spec, ckpt.model.takes_class, data, "point --data-dir at the data the model was trained on")
    return data


def check_fits(spec: DataSpec, takes_class: bool, data: Dataset, fix: str) -> None:
    """Refuse data the model cannot take: other channels or size, or (for a class model) other classes."""
    where = f"{data.recipe.dataset} in {data.recipe.data_dir}" if data.recipe.data_dir else data.recipe.dataset
    if data.spec.channels != spec.channels:
        kinds = {1: "grey", 3: "colour"}
        raise AecliError(
            f"{where} has {kinds[data.spec.channels]} images but the model was trained on "
            f"{kinds[spec.channels]} ones; {fix}"
        )
    if data.spec.image_size != spec.image_size:
        raise AecliError(f"{where} is read at {data.spec.image_size}px but the model takes {spec.image_size}px; {fix}")
    if takes_class and data.spec.class_names != spec.class_names:
        new = [name for name in data.spec.class_names if name not in spec.class_names]
        what = f"classes the model does not know ({', '.join(new[:5])})" if new else "other classes than the model's"
        raise AecliError(f"{where} has {what}; {fix}")
