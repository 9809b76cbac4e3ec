"""Latent codes laid out in 2-D (t-SNE) and how strongly they group by label."""

from dataclasses import dataclass, field

import numpy as np

from aecli.data import Dataset, Split
from aecli.data.recorded import recorded_data
from aecli.errors import AecliError, UsageError
from aecli.inference import latent_codes
from aecli.models import Autoencoder
from aecli.store.checkpoints import Checkpoint

MIN_IMAGES = 2  # a layout needs two points to place one beside the other


def tsne_2d(points: np.ndarray, seed: int = 0) -> np.ndarray:
    """2-D t-SNE: openTSNE (fast, FFT-accelerated) when installed, else scikit-learn."""
    points = np.ascontiguousarray(points, dtype=np.float64)
    # the usual 30, lowered for small sets, where each point has fewer than 3 x 30 neighbours to weigh
    perplexity = min(30.0, (len(points) - 1) / 3)
    try:
        from openTSNE import TSNE
    except ImportError:
        from sklearn.manifold import TSNE as SkTSNE

        return (
            SkTSNE(n_components=2, perplexity=perplexity, random_state=seed, init="pca")
            .fit_transform(points)
            .astype(np.float32)
        )
    # 75 + 150 iterations instead of 250 + 500: a third of the time for the same picture (docs/decisions.md)
    tsne = TSNE(
        perplexity=perplexity, n_jobs=-1, random_state=seed, verbose=False, early_exaggeration_iter=75, n_iter=150
    )
    return np.asarray(tsne.fit(points), dtype=np.float32)


def cluster_scores(codes: np.ndarray, labels: np.ndarray) -> dict:
    """How strongly latent codes group by label: 5-NN accuracy (held-out folds) and silhouette."""
    from sklearn.metrics import silhouette_score
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    counts = np.unique(labels, return_counts=True)[1]
    folds = min(5, int(counts.min()))
    if len(counts) < 2 or folds < 2:
        return {}  # too few images of some class to score
    knn = cross_val_score(
        KNeighborsClassifier(min(5, len(codes) - len(codes) // folds)), codes, labels, cv=folds
    ).mean()
    return {"knn_accuracy": float(knn), "silhouette": float(silhouette_score(codes, labels))}


def embeddings(model: Autoencoder, test: Split, n: int) -> np.ndarray:
    labels = test.labels[:n] if test.labels is not None else None
    return latent_codes(model, test.images[:n], labels).numpy()


@dataclass
class Embedding:
    model: str
    codes: np.ndarray  # N x latent
    labels: np.ndarray  # class index per image, or an attribute value
    categorical: bool
    legend: str
    scores: dict = field(default_factory=dict)


def embed(ckpt: Checkpoint, data: Dataset, n: int = 5000, attribute: str | None = None) -> Embedding:
    """Latent codes of the first n test images, coloured by `attribute` when asked, else by class (else by
    Smiling where the data has attributes), with a score of how well the codes predict the colour."""
    from aecli.inference.attributes import find_attribute

    test = data.test
    count = min(n, len(test))
    if count < MIN_IMAGES:
        raise AecliError(
            f"tsne needs at least {MIN_IMAGES} test images to lay out; the test split has {count}: add images"
        )
    codes = embeddings(ckpt.model, test, count)
    if attribute is None and test.labels is not None:
        labels = test.labels[:count].numpy()
        legend = "digit" if data.spec.digit_classes else "class"
        return Embedding(ckpt.model.name, codes, labels, True, legend, cluster_scores(codes, labels))
    if attribute is None and not data.spec.attribute_names:  # nothing to colour by
        return Embedding(ckpt.model.name, codes, np.zeros(count, dtype=np.int64), True, "images")
    index = find_attribute(data.spec, attribute or "Smiling")
    values = test.attributes[:count, index].numpy()
    known = ~np.isnan(values)
    scores = {}
    if known.sum() >= 10:
        from sklearn.model_selection import cross_val_score
        from sklearn.neighbors import KNeighborsRegressor

        r2 = cross_val_score(KNeighborsRegressor(5), codes[known], values[known], cv=5, scoring="r2").mean()
        scores = {"knn_r2": float(r2)}
    return Embedding(ckpt.model.name, codes, values, False, data.spec.attribute_names[index], scores)


def compare(
    checkpoints: list[Checkpoint],
    n: int = 5000,
    seed: int = 0,
    attribute: str | None = None,
    data_dir=None,
    reporter=None,
):
    """t-SNE of several models' test latents (all trained on the same data): (embeddings, 2-D points, data)."""

    # a named set is the same data wherever it was read from; a folder is its path
    recipes = {
        (c.recipe.dataset, c.recipe.data_dir if c.recipe.dataset == "folder" else None, c.recipe.image_size)
        for c in checkpoints
    }
    if len(recipes) > 1:
        found = ", ".join(f"{c.model.name} on {c.recipe.dataset}" for c in checkpoints)
        raise UsageError(f"the models were trained on different data ({found}); train them on the same --dataset")
    data = recorded_data(checkpoints[0], data_dir, reporter)
    embedded = [embed(c, data, n, attribute) for c in checkpoints]
    return embedded, [tsne_2d(e.codes, seed) for e in embedded], data
