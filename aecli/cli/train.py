"""aecli train MODEL"""

from pathlib import Path

import typer

from aecli.cli.app import MODEL_HELP, JsonOption, app, command, emit, say
from aecli.cli.progress import training_progress


@app.command()
@command
def train(
    model: str = typer.Argument(..., help=MODEL_HELP),
    dataset: str = typer.Option(None, help="mnist, digits (vae/cvae); lfw, lfw-mini (ae). Default: the model's own."),
    data_dir: Path = typer.Option(None, "--data-dir", help="Read the dataset from local files instead of downloading."),
    epochs: int = typer.Option(20, min=1, help="Total epochs (with --resume: including those done)."),
    batch_size: int = typer.Option(None, min=1, help="Images per step (vae/cvae 64, ae 32)."),
    lr: float = typer.Option(None, min=1e-8, max=10.0, help="Adam learning rate (vae/cvae 3e-3, ae 1e-3)."),
    latent_dim: int = typer.Option(None, min=1, max=4096, help="Latent size (vae 20, cvae 8, ae 128)."),
    device: str = typer.Option("auto", help="auto, cpu, cuda or mps."),
    precision: str = typer.Option(
        "auto", help="auto (bf16 where the hardware has it, else fp32), fp32 or bf16, for training steps."
    ),
    seed: int = typer.Option(0, min=0, help="Random seed; the same seed repeats a CPU run exactly."),
    image_size: int = typer.Option(None, min=16, max=512, help="Side of the images (lfw; default 64)."),
    crop: float = typer.Option(None, min=0.05, max=1.0, help="Centre crop, a fraction of the side (lfw)."),
    grey: bool = typer.Option(False, "--grey", help="Convert images to grey (lfw)."),
    binarize: bool = typer.Option(False, "--binarize", help="Train on dynamically binarized pixels (vae/cvae)."),
    out: Path = typer.Option(None, "--out", help="Run directory (default: a new one under the model home)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the newest run (or --out) from its last epoch."),
    as_json: bool = JsonOption,
) -> None:
    """Train a model; a checkpoint is written after every epoch."""
    from aecli.training import TrainSettings
    from aecli.training import train as run_training

    settings = TrainSettings(
        model=model,
        dataset=dataset,
        data_dir=str(data_dir.resolve()) if data_dir else None,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        latent_dim=latent_dim,
        seed=seed,
        binarize=binarize,
        image_size=image_size,
        crop=crop,
        grey=grey,
        precision=precision,
    )
    from aecli.models import MODELS

    MODELS.get(model)
    with training_progress() as on_progress:
        result = run_training(settings, device=device, out=out, resume=resume, on_progress=on_progress, on_note=say)
    last = result.history[-1]
    seconds = result.train_seconds
    summary = {
        "checkpoint": str(result.checkpoint),
        "model": model,
        "dataset": result.settings.dataset,
        "epochs": last["epoch"],
        "train_loss": last["train_loss"],
        "test_loss": last["test_loss"],
        "seconds": round(seconds, 3),
        "images_per_second": round(result.train_images / seconds, 1) if seconds else None,
    }
    say(f"epoch {last['epoch']}: test loss {last['test_loss']:.3f}; run saved in {result.run_dir}")
    emit(summary, as_json, [result.checkpoint])
