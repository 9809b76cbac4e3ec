"""The evaluation report of a checkpoint: test metrics with their protocols, and one-class anomaly scores."""

from aecli.data import Reporter
from aecli.data.recorded import recorded_data
from aecli.errors import UsageError
from aecli.store.checkpoints import Checkpoint

NLL_SAMPLES = {True: 5000, False: 20}  # binarized: the IWAE paper's protocol; grey levels: a quick bound


def evaluate(
    ckpt: Checkpoint,
    k: int | None = None,
    data_dir=None,
    reporter: Reporter | None = None,
    binarize: bool = False,
    samples: bool = True,
    attribute: str | None = None,
    test_images: int | None = None,
    temperature: float | None = None,
) -> dict:
    """Test metrics, each with the protocol it follows (`protocols`); for a labelled dataset also how
    good generated images are (classifier FID, and GAN-test and CAS for class models), drawn at
    `temperature` (default: see `sample_metrics`)."""
    from aecli.evaluate.likelihood import evaluate as run
    from aecli.evaluate.protocols import protocols

    reporter = reporter or Reporter()
    model = ckpt.model
    data = recorded_data(ckpt, data_dir, reporter)
    metrics = {"model": model.name, "checkpoint": str(ckpt.path), "dataset": data.spec.name}
    metrics["channels"] = data.spec.channels
    metrics["test_split_images"] = len(data.test)
    if test_images is not None:
        data.test = data.test.head(test_images)
    binarized = binarize or bool(ckpt.training.get("binarize"))
    k = k or NLL_SAMPLES[binarized]
    metrics.update(run(model, data.test, binarized=binarized, k=k, progress=reporter.progress))
    if not model.has_likelihood and len(data.train):  # a plain autoencoder is held to the linear floor
        from aecli.evaluate.reconstruction import pca_floor

        metrics.update(pca_floor(data.train, data.test, model.config.latent_dim, data.spec.mirrored))
    directions = ckpt.extras.get("attribute_directions")
    if attribute is not None or (directions is not None and data.test.attributes is not None):
        from aecli.evaluate.attribute_edits import checkpoint_edit_metrics

        metrics.update(checkpoint_edit_metrics(ckpt, data, attribute))
    if samples and model.has_likelihood and data.test.labels is not None and len(data.spec.class_names) > 1:
        from aecli.evaluate.sample_quality import sample_metrics

        metrics.update(sample_metrics(model, data, reporter, temperature))
    metrics["protocols"] = protocols(metrics)
    return metrics


def anomaly(ckpt: Checkpoint, data_dir=None, reporter: Reporter | None = None, k: int = 100) -> dict:
    """One-class evaluation: every test image of the full dataset scored, the classes the model was
    trained on (`--classes`) as normal and all others as anomalous; AUROC and AUPR overall and per
    held-out class, for each score the model offers."""
    from aecli.evaluate.anomaly import one_class_report, score_batch

    normal = ckpt.recipe.classes
    if not normal:
        raise UsageError(
            "eval --anomaly needs a model trained on some classes only; train one with "
            f"`aecli train {ckpt.model.name} --classes NAME`"
        )
    data = recorded_data(ckpt, data_dir, reporter, classes=None)
    test = data.test
    names = list(data.spec.class_names)
    report = {"model": ckpt.model.name, "checkpoint": str(ckpt.path), "dataset": data.spec.name}
    report |= {"normal_classes": list(normal), "test_images": len(test), "metrics": list(ckpt.model.score_metrics)}
    for metric in ckpt.model.score_metrics:
        scores = score_batch(ckpt.model, test.images, None, metric, k)
        report[metric] = one_class_report(scores, names, test.labels.numpy(), set(normal))
        if reporter is not None:
            reporter.note(f"{metric}: AUROC {report[metric]['auroc']:.4f}")
    return report
