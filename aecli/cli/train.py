"""aecli train MODEL"""

import sys

import typer
from typer.core import TyperCommand

from aecli import api
from aecli.api import UsageError
from aecli.cli.app import app, command, emit, reporter, say
from aecli.cli.options import Json, Model, examples
from aecli.cli.train_options import (
    BatchSizeOption,
    BinarizeOption,
    ClassesOption,
    CropOption,
    DataDirOption,
    DatasetOption,
    DeviceOption,
    EpochsOption,
    GreyOption,
    ImageSizeOption,
    LatentDimOption,
    LimitOption,
    LrOption,
    OutOption,
    PrecisionOption,
    ResumeOption,
    SeedOption,
    SplitByOption,
    ThreadsOption,
)


def model_options(model: str, args: list[str]) -> dict:
    """`--width 16 --hidden=256`: fields of the model's config, given after the usual options."""
    fields = api.model_options(model)
    flags = {"--" + name.replace("_", "-"): name for name in fields}
    options, rest = {}, list(args)
    while rest:
        flag, _, value = rest.pop(0).partition("=")
        if flag not in flags:
            known = ", ".join(flags)
            hint = api.did_you_mean(flag, [*flags, *TRAIN_FLAGS])
            raise UsageError(f"no such option {flag} for train {model}; {hint}{model}'s model options: {known}")
        if not value:
            if not rest:
                raise UsageError(f"{flag} needs a value")
            value = rest.pop(0)
        name = flags[flag]
        default, (low, high), _ = fields[name]
        kind = type(default)
        try:
            options[name] = kind(value)
        except ValueError:
            raise UsageError(f"{flag} takes a {'whole ' if kind is int else ''}number, not {value!r}") from None
        if not low <= options[name] <= high:
            raise UsageError(f"{flag} {value} is outside [{low}, {high}]")
    return options


class TrainHelp(TyperCommand):
    """`train --help` ends with each model's defaults and options, read from the model registry."""

    def format_epilog(self, ctx, formatter) -> None:
        lines = []
        for name, facts in api.model_defaults().items():
            lines.append(
                f"{name}: --dataset {facts['dataset']}, --batch-size {facts['batch_size']}, --lr {facts['lr']:g}"
            )
            for option, (default, (low, high), text) in api.model_options(name).items():
                lines.append(f"  --{option.replace('_', '-')} {default} ({low} to {high}): {text}")
        formatter.write_paragraph()
        formatter.write_text("\b\nModels, their defaults and their own options:\n" + "\n".join(lines))
        super().format_epilog(ctx, formatter)  # the examples, last as in every help


TRAIN_FLAGS = [
    "--dataset",
    "--data-dir",
    "--epochs",
    "--batch-size",
    "--lr",
    "--latent-dim",
    "--device",
    "--precision",
    "--threads",
]


@app.command(
    cls=TrainHelp,
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    epilog=examples(
        "aecli train vae --dataset digits --epochs 5",
        "aecli train cvae --dataset folder --data-dir my_images/ --image-size 32 --epochs 20",
        "aecli train ae --data-dir lfw/ --crop 1 --epochs 30 --json",
    ),
)
@command
def train(
    ctx: typer.Context,
    model: Model,
    dataset: DatasetOption = None,
    data_dir: DataDirOption = None,
    epochs: EpochsOption = 20,
    batch_size: BatchSizeOption = None,
    lr: LrOption = None,
    latent_dim: LatentDimOption = None,
    device: DeviceOption = "auto",
    precision: PrecisionOption = "auto",
    threads: ThreadsOption = None,
    seed: SeedOption = None,
    image_size: ImageSizeOption = None,
    crop: CropOption = None,
    grey: GreyOption = False,
    limit: LimitOption = None,
    split_by: SplitByOption = None,
    classes: ClassesOption = None,
    binarize: BinarizeOption = False,
    out: OutOption = None,
    resume: ResumeOption = False,
    as_json: Json = False,
) -> None:
    """Train a model; a checkpoint is written after every epoch.

    Each model's own options (with their defaults and ranges) follow the usual ones; they are listed
    at the end of this help."""
    from aecli.cli.progress import training_progress

    defaults = api.model_defaults()[model]
    options = model_options(model, ctx.args)
    if latent_dim is not None:
        options["latent_dim"] = latent_dim
    folder = api.local_folder(data_dir) if data_dir else None
    chosen = api.parse_classes(classes) if classes is not None else None
    recipe = api.DataRecipe(dataset or defaults["dataset"], folder, image_size, crop, grey, limit, split_by, chosen)
    api.check_recipe(recipe)
    typed = recipe if not resume or dataset or recipe.given() else None  # with --resume: checked against the run
    settings = api.TrainSettings(model, typed, epochs, batch_size, lr, seed, binarize, precision, options)

    where = {"device": device, "out": out, "resume": resume, "threads": threads}
    if not api.job().writer:  # under torchrun only rank 0 reports and prints
        api.train(settings, **where)
        return
    with reporter() as data_reporter, training_progress() as on_progress:
        on_epoch = None if sys.stderr.isatty() else epoch_line
        result = api.train(settings, **where, on_progress=on_progress, reporter=data_reporter, on_epoch=on_epoch)
    emit(summarise(model, result), as_json, [result.checkpoint])


def epoch_line(row: dict, used) -> None:
    """One plain line per epoch, for logs: off a terminal no progress bar is shown."""
    left = (used.epochs - row["epoch"]) * row["seconds"]
    say(
        f"epoch {row['epoch']}/{used.epochs}: train loss {row['train_loss']:.3f}, test loss "
        f"{row['test_loss']:.3f}, {row['images_per_second']:,.0f} images/s, ETA {left:.0f} s"
    )


def summarise(model: str, result) -> dict:
    """What `train` prints: the checkpoint and its figures (and says where the run is)."""
    last = result.history[-1]
    seconds = result.train_seconds
    summary = {
        "checkpoint": str(result.checkpoint),
        "model": model,
        "dataset": result.recipe.dataset,
        "recipe": result.recipe.to_dict(),
        "seed": result.settings.seed,
        "epochs": last["epoch"],
        "train_loss": last["train_loss"],
        "test_loss": last["test_loss"],
        "seconds": round(seconds, 3),
        "images_per_second": round(result.train_images / seconds, 1) if seconds else None,
    }
    if api.job().parallel:
        summary["processes"] = api.job().world  # --batch-size and --lr are per process
    say(f"epoch {last['epoch']}: test loss {last['test_loss']:.3f}; run saved in {result.run_dir}")
    if not result.in_home:
        say(f"This run is outside the model home; use it with --checkpoint {result.run_dir}")
    return summary
