"""A checkpoint as ONNX graphs a service runs without aecli or PyTorch: encoder, decoder and scorer,
each with a dynamic batch axis, and a JSON file that says how to feed them.

Every export is checked before it is kept: onnxruntime's outputs must match PyTorch's on a batch of
images (the failure users of other tools meet is an exported scorer that scores differently)."""

import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from aecli import __version__
from aecli.errors import AecliError, UsageError
from aecli.store.checkpoints import Checkpoint

MANIFEST = "aecli-model.json"
TOLERANCE = 1e-4  # absolute, on images and codes; relative on scores
OPSET = 17


def require_onnx() -> None:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        raise AecliError("export needs onnx and onnxruntime: pip install 'aecli[export]'") from None


class Encoder(nn.Module):
    def __init__(self, model) -> None:
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor, label: torch.Tensor | None = None):
        mu, logvar = self.model.encode_distribution(image, label)
        return (mu,) if logvar is None else (mu, logvar)


class Decoder(nn.Module):
    def __init__(self, model) -> None:
        super().__init__()
        self.model = model

    def forward(self, z: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        return self.model.decode(z, label)


class Scorer(nn.Module):
    """Image in, score out: `aecli score`'s default computation (a class model scores under every class)."""

    def __init__(self, model, metric: str) -> None:
        super().__init__()
        self.model, self.metric = model, metric

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.model.score(image, None, self.metric)


def _graphs(ckpt: Checkpoint, metric: str) -> dict:
    """name -> (module, example inputs, input names, output names)."""
    model = ckpt.model
    c, s, d = ckpt.spec.channels, ckpt.spec.image_size, model.config.latent_dim
    image, z = torch.rand(2, c, s, s), torch.randn(2, d)
    label = model.labels_for(torch.zeros(2, dtype=torch.long))
    with torch.no_grad():
        has_logvar = model.encode_distribution(image, label)[1] is not None
    extra = (label,) if label is not None else ()
    label_names = ["label"] if label is not None else []
    codes = ["mu", "logvar"] if has_logvar else ["mu"]
    return {
        "encoder": (Encoder(model).eval(), (image, *extra), ["image", *label_names], codes),
        "decoder": (Decoder(model).eval(), (z, *extra), ["z", *label_names], ["image"]),
        "scorer": (Scorer(model, metric).eval(), (image,), ["image"], ["score"]),
    }


def export_onnx(ckpt: Checkpoint, out: Path, quantiles: dict | None = None) -> dict:
    """Write encoder.onnx, decoder.onnx, scorer.onnx and aecli-model.json into `out`; the manifest
    (onnx and onnxruntime present: `require_onnx`)."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MANIFEST).is_file())):
        raise UsageError(f"-o {out} exists and is not an earlier aecli export; choose a new folder")
    model = ckpt.model.float().cpu().eval()
    metric = model.metric(None)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        graphs = _graphs(ckpt, metric)
        for name, (module, example, inputs, outputs) in graphs.items():
            _export(module, example, tmp / f"{name}.onnx", inputs, outputs)
        model.eval()  # the exporter leaves its wrapper, and so the model, in the mode it found the wrapper in
        check_parity(tmp, graphs)
        manifest = describe(ckpt, metric, quantiles, graphs)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        os.chmod(tmp, 0o755)
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return manifest


def _export(module: nn.Module, example: tuple, path: Path, inputs: list[str], outputs: list[str]) -> None:
    axes = {name: {0: "batch"} for name in [*inputs, *outputs]}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(
            module, example, str(path), input_names=inputs, output_names=outputs,
            dynamic_axes=axes, opset_version=OPSET, dynamo=False,
        )  # fmt: skip


def run_onnx(path: Path, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def check_parity(folder: Path, graphs: dict, batch: int = 8) -> None:
    """Each graph on a fresh batch (another batch size than the one traced) against PyTorch."""
    generator = torch.Generator().manual_seed(0)
    for name, (module, example, inputs, _) in graphs.items():
        fresh = tuple(
            torch.randint(0, max(1, int(t.max()) + 1), (batch,), generator=generator)
            if not t.is_floating_point()
            else torch.rand(batch, *t.shape[1:], generator=generator) * (1 if name != "decoder" else 2)
            for t in example
        )
        with torch.no_grad():
            expected = module(*fresh)
        expected = [e.numpy() for e in (expected if isinstance(expected, tuple) else (expected,))]
        got = run_onnx(folder / f"{name}.onnx", {n: t.numpy() for n, t in zip(inputs, fresh, strict=True)})
        for want, have in zip(expected, got, strict=True):
            scale = np.maximum(np.abs(want), 1.0) if name == "scorer" else 1.0
            worst = float(np.max(np.abs(want - have) / scale))
            if not worst <= TOLERANCE:
                raise AecliError(f"the exported {name} differs from the model by {worst:.2g}; the export was not kept")


def describe(ckpt: Checkpoint, metric: str, quantiles: dict | None, graphs: dict) -> dict:
    spec, recipe = ckpt.spec, ckpt.recipe
    return {
        "format": 1,
        "aecli_version": __version__,
        "model": ckpt.model.name,
        "checkpoint": str(ckpt.path),
        "image": {
            "size": spec.image_size,
            "channels": spec.channels,
            "layout": "N x C x H x W, float32",
            "value_range": [0.0, 1.0],
            "crop": recipe.crop_fraction,
            "how_to_read": (
                "take the centre square of crop x the shorter side, resize it to size x size (Lanczos), "
                "convert to grey when channels is 1, divide the 8-bit values by 255"
                + (
                    "; invert dark strokes on a light background (the training images are light on dark)"
                    if spec.light_on_dark
                    else ""
                )
            ),
        },
        "class_names": list(spec.class_names),
        "latent_dim": ckpt.model.config.latent_dim,
        "graphs": {
            name: {"file": f"{name}.onnx", "inputs": inputs, "outputs": outputs}
            for name, (_, _, inputs, outputs) in graphs.items()
        },
        "label_input": "int64 class index per image (N)" if ckpt.model.takes_class else None,
        "score": {
            "metric": metric,
            "meaning": ckpt.model.score_metrics[metric],
            "higher_is": "less like the training images",
            "training_quantiles": quantiles,
        },
    }
