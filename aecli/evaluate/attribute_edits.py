"""Attribute edits measured, not only shown: does the direction add the attribute, keep the person,
and does it separate faces with and without the attribute (White, "Sampling Generative Networks")?

The judge of "has the attribute" is a logistic regression on pixels, trained on the training
faces' attribute table and cached; it never sees the autoencoder.
"""

import numpy as np
import torch

from aecli.data import Dataset, Split
from aecli.data.pixels import as_float
from aecli.fileio import atomic_path, cache_folder
from aecli.inference import latent_codes
from aecli.inference.attributes import apply_attribute
from aecli.models import Autoencoder

FIT_IMAGES = 10_000  # training faces the pixel judge is fitted on
EDITED_FACES = 500  # test faces without the attribute that are edited and scored


def present(values: np.ndarray) -> np.ndarray:
    """Has the attribute: a positive score where scores are signed (LFW, CelebA's -1/1), else above the
    middle of the range (0/1 tables)."""
    low, high = np.nanmin(values), np.nanmax(values)
    return values > (0.0 if low < 0 < high else (low + high) / 2)


def _pixels(images: torch.Tensor) -> np.ndarray:
    """Flat floats in [0, 1], from stored uint8 images or from decoded float ones."""
    floats = as_float(images) if images.dtype == torch.uint8 else images.float()
    return floats.reshape(len(images), -1).numpy()


def pixel_judge(data: Dataset, column: int):
    """A logistic regression from pixels to the attribute, fitted once per training split and cached."""
    from sklearn.linear_model import LogisticRegression

    from aecli.evaluate.judge import fingerprint

    name = data.spec.attribute_names[column]
    safe = "".join(c if c.isalnum() else "_" for c in name)[:40]
    path = cache_folder("classifiers") / f"{data.spec.name}-{fingerprint(data.train)}-{safe}.npz"
    judge = LogisticRegression(C=0.01, max_iter=300)
    try:
        with np.load(path, allow_pickle=False) as saved:
            judge.coef_, judge.intercept_, judge.classes_ = saved["coef"], saved["intercept"], saved["classes"]
        return judge
    except (OSError, ValueError, KeyError):
        pass
    values = data.train.attributes[:FIT_IMAGES, column].numpy()
    known = ~np.isnan(values)
    judge.fit(_pixels(data.train.images[:FIT_IMAGES][known]), present(values[known]))
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, coef=judge.coef_, intercept=judge.intercept_, classes=judge.classes_)
    return judge


def attribute_edit_metrics(
    model: Autoencoder, data: Dataset, direction: torch.Tensor, column: int, strength: float = 1.5
) -> dict:
    from sklearn.metrics import roc_auc_score

    test: Split = data.test
    values = test.attributes[:, column].numpy()
    known = np.flatnonzero(~np.isnan(values))
    has = present(values[known])
    if has.all() or not has.any():
        return {}  # every test face (or none) has it: nothing to separate or edit
    judge = pixel_judge(data, column)
    images = test.images[known]
    labels = test.labels[known] if test.labels is not None else None
    codes = latent_codes(model, images, labels)
    chosen = np.flatnonzero(~has)[:EDITED_FACES]
    without, their_labels = images[chosen], labels[chosen] if labels is not None else None
    edits = apply_attribute(model, without, direction, [0.0, strength], their_labels)  # N x 2: as is, edited
    before, after = (judge.predict_proba(_pixels(edits[:, i]))[:, 1] for i in (0, 1))
    # identity: is each edited face still nearer its own reconstruction than any other face's?
    recon, edited = edits[:, 0].flatten(1), edits[:, 1].flatten(1)
    nearest = torch.cdist(edited, recon).argmin(1)
    return {
        "attribute": data.spec.attribute_names[column],
        "edit_strength": strength,
        "judge_test_auc": float(roc_auc_score(has, judge.predict_proba(_pixels(images))[:, 1])),
        "edited_faces": len(without),
        "judge_probability_before": float(before.mean()),
        "judge_probability_after": float(after.mean()),
        "share_raised": float((after > before).mean()),
        "identity_kept": float((nearest == torch.arange(len(nearest))).float().mean()),
        "latent_auc": float(roc_auc_score(has, (codes @ direction).numpy())),
    }


def checkpoint_edit_metrics(ckpt, data: Dataset, attribute: str | None) -> dict:
    """eval's attribute-edit figures for a checkpoint: by --attribute, else Smiling, else the first attribute."""
    from aecli.errors import AecliError
    from aecli.inference.attributes import find_attribute

    names = ckpt.spec.attribute_names
    if attribute is None:
        attribute = "Smiling" if "Smiling" in names else names[0]
    column = find_attribute(ckpt.spec, attribute)
    directions = ckpt.extras.get("attribute_directions")
    if directions is None or data.test.attributes is None:
        raise AecliError(f"{ckpt.path} or its test data has no attribute scores; retrain on data with attributes")
    found = attribute_edit_metrics(ckpt.model, data, directions[column], column)
    return {"attribute_edit": found} if found else {}
