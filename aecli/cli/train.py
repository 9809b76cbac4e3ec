"""aecli train MODEL"""

import sys
from pathlib import Path
from typing import Annotated

import typer

from aecli.cli.app import app, command, emit, reporter, say
from aecli.cli.options import MAX_SEED, Json, Model, examples
from aecli.errors import UsageError
from aecli.registry import did_you_mean


def model_options(model: str, args: list[str]) -> dict:
    """`--width 16 --hidden=256`: fields of the model's config, given after the usual options."""
    from aecli.models import MODELS

    fields = MODELS.get(model).Config.options()
    flags = {"--" + name.replace("_", "-"): name for name in fields}
    options, rest = {}, list(args)
    while rest:
        flag, _, value = rest.pop(0).partition("=")
        if flag not in flags:
            known = ", ".join(flags)
            hint = did_you_mean(flag, [*flags, *TRAIN_FLAGS])
            raise UsageError(f"no such option {flag} for train {model}; {hint}{model}'s model options: {known}")
        if not value:
            if not rest:
                raise UsageError(f"{flag} needs a value")
            value = rest.pop(0)
        name = flags[flag]
        kind = type(fields[name].default)
        try:
            options[name] = kind(value)
        except ValueError:
            raise UsageError(f"{flag} takes a {'whole ' if kind is int else ''}number, not {value!r}") from None
        low, high = fields[name].metadata["range"]
        if not low <= options[name] <= high:
            raise UsageError(f"{flag} {value} is outside [{low}, {high}]")
    return options


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
    dataset: Annotated[
        str | None,
        typer.Option(
            help="mnist, fashion-mnist, kmnist, digits, folder (your own images), lfw, lfw-mini, celeba. "
            "Default: mnist for vae/cvae, lfw for ae."
        ),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", metavar="DIR", help="Read the dataset from local files.")
    ] = None,
    epochs: Annotated[
        int, typer.Option(min=1, max=100_000, help="Total epochs (with --resume: including those done).")
    ] = 20,
    batch_size: Annotated[
        int | None, typer.Option(min=1, max=65_536, help="Images per step (vae 96, cvae 64, ae 32).")
    ] = None,
    lr: Annotated[
        float | None, typer.Option(min=1e-8, max=10.0, help="Adam learning rate (vae 4e-3, cvae 3e-3, ae 3e-3).")
    ] = None,
    latent_dim: Annotated[
        int | None, typer.Option(min=1, max=4096, help="Latent size (vae 20, cvae 8, ae 128).")
    ] = None,
    device: Annotated[str, typer.Option(help="auto (CUDA, then MPS, then CPU), cpu, cuda or mps.")] = "auto",
    precision: Annotated[str, typer.Option(help="auto (bf16 where the hardware has it), fp32 or bf16.")] = "auto",
    threads: Annotated[
        int | None,
        typer.Option(min=1, max=1024, help="CPU threads (default: one per core; 1 each for runs side by side)."),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(min=0, max=MAX_SEED, help="Random seed (default: drawn, and recorded).")
    ] = None,
    image_size: Annotated[
        int | None,
        typer.Option(min=16, max=512, help="Image side (folder: default the images' own; lfw, celeba, lfw-mini: 64)."),
    ] = None,
    crop: Annotated[
        float | None,
        typer.Option(
            min=0.05, max=1.0, help="Centre crop, a fraction of the shorter side (folder 1, lfw 0.36, celeba 0.83)."
        ),
    ] = None,
    grey: Annotated[bool, typer.Option("--grey", help="Convert colour images to grey (folder, lfw, celeba).")] = False,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Use only the first N images of each split (quick trials).")
    ] = None,
    split_by: Annotated[
        str | None,
        typer.Option(
            "--split-by",
            metavar="COLUMN",
            help="folder: keep each value of this table column (or 'class') on one side of the split.",
        ),
    ] = None,
    binarize: Annotated[
        bool, typer.Option("--binarize", help="Train on dynamically binarized pixels (vae/cvae).")
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", metavar="DIR", help="Run folder (default: a new one in the model home).")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the newest run (or --out) from its last epoch.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Train a model; a checkpoint is written after every epoch.

    Model options follow the usual ones: vae/cvae --width, --hidden, --prior-components (vae 200, a
    learned mixture prior; 0: the standard normal), ae --width, --grid-latent (1: a grid of codes over
    the face where the latent divides into its cells; 0: one vector), --decoder-convs (1: a 3x3
    convolution after each upsampling; 0: none).
    """
    from aecli.cli.progress import training_progress
    from aecli.data import DataRecipe, check_recipe
    from aecli.train.distributed import current as current_group
    from aecli.models import MODELS
    from aecli.train.loop import TrainSettings, default_dataset
    from aecli.train.loop import train as run_training

    MODELS.get(model)
    options = model_options(model, ctx.args)
    if latent_dim is not None:
        options["latent_dim"] = latent_dim
    folder = str(data_dir.expanduser().resolve()) if data_dir else None
    recipe = DataRecipe(dataset or default_dataset(model), folder, image_size, crop, grey, limit, split_by)
    check_recipe(recipe)
    if resume and (dataset or recipe.given() or options):
        raise UsageError("--resume continues a run with its own data and model settings; drop the other options")
    settings = TrainSettings(
        model, None if resume else recipe, epochs, batch_size, lr, seed, binarize, precision, options
    )

    def epoch_line(row: dict, used) -> None:
        """One plain line per epoch, for logs: off a terminal no progress bar is shown."""
        left = (used.epochs - row["epoch"]) * row["seconds"]
        say(
            f"epoch {row['epoch']}/{used.epochs}: train loss {row['train_loss']:.3f}, test loss "
            f"{row['test_loss']:.3f}, {row['images_per_second']:,.0f} images/s, ETA {left:.0f} s"
        )

    if not current_group().writer:  # under torchrun only rank 0 reports and prints
        run_training(settings, device=device, out=out, resume=resume, threads=threads)
        return
    with reporter() as data_reporter, training_progress() as on_progress:
        result = run_training(
            settings,
            device=device,
            out=out,
            resume=resume,
            on_progress=on_progress,
            reporter=data_reporter,
            on_epoch=None if sys.stderr.isatty() else epoch_line,
            threads=threads,
        )
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
    if current_group().parallel:
        summary["processes"] = current_group().world  # --batch-size and --lr are per process
    say(f"epoch {last['epoch']}: test loss {last['test_loss']:.3f}; run saved in {result.run_dir}")
    if not result.in_home:
        say(f"This run is outside the model home; use it with --checkpoint {result.run_dir}")
    emit(summary, as_json, [result.checkpoint])
