"""The Python API, a facade: one function per command. Each returns arrays or plain dataclasses and never
prints. Importing it is cheap (no torch until a function runs), so the command line imports only this.

from aecli import api
run = api.train(api.TrainSettings(model="vae", data=api.DataRecipe("digits"), epochs=5))
ckpt = api.load("vae", run.run_dir)
images = api.sample(ckpt, 64, seed=0).images        # float32 N x C x H x W in [0, 1]
codes = api.encode(ckpt, ["my_digits/"]).columns    # path, class, z0..., mse, psnr per image
"""

import importlib
from pathlib import Path

from aecli.errors import AecliError, UsageError
from aecli.fileio import IMAGE_OUTPUTS
from aecli.registry import did_you_mean
from aecli.seeds import MAX_SEED

__all__ = [
    "IMAGE_OUTPUTS",
    "MAX_SEED",
    "AecliError",
    "UsageError",
    "anomaly",
    "compare",
    "did_you_mean",
    "embed",
    "encode",
    "evaluate",
    "export",
    "generate",
    "interpolate",
    "load",
    "reconstruct",
    "resolve_classes",
    "runs",
    "sample",
    "score",
    "smile",
    "test_data",
    "train",
    "traverse",
]


def __getattr__(name: str):
    """TrainSettings, DataRecipe and Reporter, imported when first asked for (they bring torch)."""
    if name == "TrainSettings":
        from aecli.train.settings import TrainSettings

        return TrainSettings
    if name == "DataRecipe":
        from aecli.data.recipe import DataRecipe

        return DataRecipe
    if name == "Reporter":
        from aecli.data import Reporter

        return Reporter
    raise AttributeError(name)


def train(settings, device: str = "auto", out: Path | None = None, resume: bool = False, **hooks):
    """Train (or with `resume`, continue) a model; hooks: on_progress, on_epoch, reporter, threads."""
    from aecli.train.loop import train as run

    return run(settings, device=device, out=out, resume=resume, **hooks)


def load(model: str, checkpoint: Path | str | None = None, device: str = "auto", announce=None):
    """MODEL's checkpoint: `checkpoint` (a folder, a run id, or `bundled`), else the newest run in the
    model home, else the bundled one. `announce` is told, in one line, which model is used."""
    from aecli.store.choose import load_model

    return load_model(model, checkpoint, device, announce)


def test_data(ckpt, data_dir: Path | str | None = None, reporter=None):
    """The data a checkpoint was trained on, read by its recipe (`data_dir` points it at other files)."""
    from aecli.data.recorded import recorded_data

    return recorded_data(ckpt, data_dir, reporter)


def sample(ckpt, n: int, seed=None, temperature=None, naive: bool = False, out=None):
    """n new images from the model's latent distribution (`out`: an npy_stream to write them to)."""
    from aecli.inference.pictures import sample as run

    return run(ckpt, n, seed, temperature, naive, out)


def image_shape(ckpt) -> tuple[int, int, int]:
    """C, H, W of the images a checkpoint draws."""
    return (ckpt.spec.channels, ckpt.spec.image_size, ckpt.spec.image_size)


def resolve_classes(ckpt, digit: str | None = None, class_name: str | None = None) -> list[int]:
    """`--digit D|all` or `--class NAME|all` as class indices."""
    from aecli.inference.pictures import resolve_classes as run

    return run(ckpt, digit, class_name)


def generate(ckpt, classes: list[int], n: int, seed=None, temperature=None, out=None):
    """n images of each class, from the same seed for every class (rows: classes; `out`: an npy_stream)."""
    from aecli.inference.pictures import generate as run

    return run(ckpt, classes, n, seed, temperature, out)


def reconstruct(ckpt, n: int = 16, inputs=None, data_dir=None, reporter=None, class_name=None):
    """Test images spread over classes (or your files) above their reconstructions."""
    from aecli.inference.pictures import reconstruct as run

    return run(ckpt, n, inputs, data_dir, reporter, class_name)


def interpolate(ckpt, n: int = 10, seed: int = 0, data_dir=None, reporter=None):
    """A straight latent path between two test images."""
    from aecli.inference.pictures import interpolate as run

    return run(ckpt, n, seed, data_dir, reporter)


def traverse(ckpt, dims=None, radius=3.0, steps=9, seed=0, prior=False, data_dir=None, reporter=None, stream_to=None):
    """Each latent dimension swept on its own (`stream_to`: shape -> npy_stream, for large outputs)."""
    from aecli.inference.pictures import traverse as run

    return run(ckpt, dims, radius, steps, seed, prior, data_dir, reporter, stream_to)


def smile(ckpt, attribute="Smiling", strength=1.5, steps=5, n=8, inputs=None, data_dir=None, reporter=None):
    """Faces moved along an attribute direction (the smile vector)."""
    from aecli.inference.pictures import smile as run

    return run(ckpt, attribute, strength, steps, n, inputs, data_dir, reporter)


def embed(ckpt, data, n: int = 5000, attribute: str | None = None):
    """Latent codes of the first n test images, with what colours them and a cluster score."""
    from aecli.evaluate.embedding import embed as run

    return run(ckpt, data, n, attribute)


def compare(checkpoints, n: int = 5000, seed: int = 0, attribute=None, data_dir=None, reporter=None):
    """t-SNE of several models' test latents: (embeddings, 2-D points, data)."""
    from aecli.evaluate.embedding import compare as run

    return run(checkpoints, n, seed, attribute, data_dir, reporter)


def evaluate(ckpt, k=None, data_dir=None, reporter=None, **settings):
    """Test metrics, each with the protocol it follows. `settings` as `aecli eval` takes them:
    binarize, samples (False: no generated images judged), attribute, test_images, temperature."""
    from aecli.evaluate.report import evaluate as run

    return run(ckpt, k, data_dir, reporter, **settings)


def anomaly(ckpt, data_dir=None, reporter=None, k: int = 100) -> dict:
    """One-class AUROC / AUPR of a model trained with --classes, per score it offers."""
    from aecli.evaluate.report import anomaly as run

    return run(ckpt, data_dir, reporter, k)


def encode(
    ckpt,
    inputs=None,
    split=None,
    out=None,
    with_logvar=False,
    strict=False,
    class_name=None,
    data_dir=None,
    reporter=None,
):
    """One row of latent codes and reconstruction error per image (to `out`, else in `.columns`)."""
    from aecli.inference.workloads import encode as run

    return run(ckpt, inputs, split, out, with_logvar, strict, class_name, data_dir, reporter)


def score(
    ckpt,
    inputs=None,
    split=None,
    out=None,
    metric=None,
    k=100,
    top=0,
    strict=False,
    class_name=None,
    data_dir=None,
    reporter=None,
):
    """One anomaly score per image, with the training quantile it exceeds."""
    from aecli.inference.workloads import score as run

    return run(ckpt, inputs, split, out, metric, k, top, strict, class_name, data_dir, reporter)


def threshold(spec: str, quantiles: dict | None) -> float:
    """`q95`, `q99`, `q999` or a number, as a score."""
    from aecli.inference.workloads import threshold as run

    return run(spec, quantiles)


def export(ckpt, out: Path, fmt: str = "onnx", data_dir=None, reporter=None) -> dict:
    """Encoder, decoder and scorer as ONNX graphs plus a manifest; checked against PyTorch before kept."""
    from aecli.inference.workloads import score_quantiles
    from aecli.store.export import export_onnx, require_onnx

    if fmt.lower() != "onnx":
        raise UsageError(f"--format {fmt!r}: aecli exports onnx")
    require_onnx()  # before the training quantiles, which may read the training split
    metric = ckpt.model.metric(None)
    return export_onnx(ckpt, out, score_quantiles(ckpt, metric, 100, data_dir, reporter))


def runs(model: str | None = None, on_note=None) -> list[dict]:
    """Every run in the model home and the bundled models: id, model, dataset, epochs, state, path
    (`on_note` hears of damaged runs, which are left out)."""
    from aecli.store.runs import list_runs

    return list_runs(model, on_note)


# What the command line needs besides the commands: writing results, and facts of the models, data and job.


def _later(module: str, name: str):
    """`module.name`, imported on the first call (the command line imports this file before any torch)."""

    def call(*args, **kwargs):
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"{module}.{name}, imported when first called."
    return call


save_images = _later("aecli.store.outputs", "save_images")  # a .png grid (labelled rows and columns) or .npy
check_grid_size = _later("aecli.store.outputs", "check_grid_size")  # refuse a grid too large to open, early
npy_stream = _later("aecli.store.outputs", "npy_stream")  # a float32 .npy written batch by batch
save_csv = _later("aecli.store.outputs", "save_csv")
save_npy = _later("aecli.store.outputs", "save_npy")
plot_embeddings = _later("aecli.store.outputs", "plot_embeddings")
save_worst = _later("aecli.store.pictures", "save_worst")  # a score run's worst inputs, reconstructions, errors
check_table_output = _later("aecli.store.tables", "check_table_output")  # .parquet needs pyarrow: say so early
parse_classes = _later("aecli.data.classes", "parse_classes")  # `--classes 3,5` as class names
check_recipe = _later("aecli.data", "check_recipe")  # an option the dataset does not read is a usage error
model_home = _later("aecli.paths", "model_home")
local_folder = _later("aecli.data.recipe", "local_folder")  # how a recipe records a --data-dir


MODEL_HELPERS = ("__init__", "base", "latent", "layers")  # the modules of aecli/models/ that hold no model


def model_names() -> list[str]:
    """The models' names, read without importing torch: each model lives in a module of its own name
    (a test holds the registry to this)."""
    return sorted(p.stem for p in (Path(__file__).parent / "models").glob("*.py") if p.stem not in MODEL_HELPERS)


def model_options(model: str) -> dict:
    """The options of a model's config a user sets: name -> (default, (low, high), help)."""
    from aecli.models import MODELS

    fields = MODELS.get(model).Config.options()
    return {name: (f.default, f.metadata["range"], f.metadata["help"]) for name, f in fields.items()}


def model_defaults() -> dict[str, dict]:
    """Per registered model: its dataset, batch size, learning rate and latent size by default."""
    from aecli.models import MODELS

    return {
        name: {
            "dataset": cls.default_dataset,
            "batch_size": cls.default_batch_size,
            "lr": cls.default_lr,
            "latent_dim": cls.Config.options()["latent_dim"].default,
            "takes_class": cls.takes_class,
            "score_metrics": list(cls.score_metrics),
        }
        for name, cls in ((n, MODELS.get(n)) for n in MODELS.names())
    }


def job():
    """This process's place in a torchrun job (rank, world, writer), or the only process."""
    from aecli.train.distributed import current

    return current()
