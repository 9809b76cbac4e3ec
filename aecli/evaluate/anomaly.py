"""Anomaly scores: per image, the quantiles of the training images' own, and one-class AUROC / AUPR."""

import numpy as np
import torch

from aecli.data import Split
from aecli.data.pixels import as_float
from aecli.inference import device_of, model_batch
from aecli.models import Autoencoder
from aecli.models.base import CLASSES_AT_ONCE

QUANTILES = {"q95": 0.95, "q99": 0.99, "q999": 0.999}
QUANTILE_IMAGES = 20_000  # training images scored for the quantiles (evenly spread over the split)
# a class model scores each of them under every class: fewer images where there are thousands of classes
QUANTILE_SCORINGS = 2_000_000


@torch.inference_mode()
def score_batch(model: Autoencoder, images: torch.Tensor, labels=None, metric=None, k: int = 100) -> np.ndarray:
    """Scores of uint8 images (higher: less like the training images); labels only for a class model
    told each image's class (without them it scores under every class)."""
    model.eval()
    device, scores = device_of(model), []
    at_once = min(model.num_classes, CLASSES_AT_ONCE) if labels is None else 1  # images a row becomes
    step = max(1, model_batch(model) // max(1, at_once))
    if metric == "iwae":
        step = max(1, step * 50 // max(50, k))
    labels = model.labels_for(labels)
    for start in range(0, len(images), step):
        x = as_float(images[start : start + step].to(device))
        y = labels[start : start + step].to(device) if labels is not None else None
        scores.append(model.score(x, y, metric, k).double().cpu())
    return torch.cat(scores).numpy() if scores else np.empty(0)


def quantiles(scores: np.ndarray) -> dict[str, float]:
    return {name: float(np.quantile(scores, q)) for name, q in QUANTILES.items()}


def quantile_images(model: Autoencoder, available: int) -> int:
    """How many training images the quantiles are taken from."""
    return min(available, QUANTILE_IMAGES, max(100, QUANTILE_SCORINGS // max(1, model.num_classes)))


def training_quantiles(model: Autoencoder, train: Split, metric: str | None = None, k: int = 100) -> dict:
    """{metric: {q95, q99, q999}} of the model's scores of its own training images (no class given)."""
    metric = model.metric(metric)
    chosen = np.linspace(0, len(train) - 1, quantile_images(model, len(train))).round().astype(np.int64)
    scores = score_batch(model, train.images[torch.from_numpy(chosen)], None, metric, k)
    return {metric: quantiles(scores) | {"images": len(chosen)}}


def exceeded(score: float, levels: dict[str, float]) -> str:
    """The highest training quantile a score is above ('' when none)."""
    above = [name for name, value in levels.items() if name in QUANTILES and score > value]
    return above[-1] if above else ""


def separation(normal: np.ndarray, anomalous: np.ndarray) -> dict[str, float]:
    """AUROC and AUPR (anomalies as the positive class) of scores that should be higher for anomalies."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    truth = np.concatenate([np.zeros(len(normal)), np.ones(len(anomalous))])
    values = np.concatenate([normal, anomalous])
    return {"auroc": float(roc_auc_score(truth, values)), "aupr": float(average_precision_score(truth, values))}


def one_class_report(scores: np.ndarray, class_names: list[str], labels: np.ndarray, normal: set[str]) -> dict:
    """Overall AUROC / AUPR of normal against every other class, and per held-out class."""
    is_normal = np.array([class_names[c] in normal for c in labels])
    report = separation(scores[is_normal], scores[~is_normal])
    report["per_class"] = {
        name: separation(scores[is_normal], scores[labels == c])
        for c, name in enumerate(class_names)
        if name not in normal and (labels == c).any()
    }
    return report
