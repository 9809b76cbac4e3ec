"""How good generated images are, judged by aecli's classifier (its features, its verdicts).

- classifier FID: the Fréchet distance between the judge's features of generated and of real
  images. Named so on purpose: it is not comparable to Inception FID.
- GAN-test: the judge's accuracy on images generated for each class (Shmelkov et al., 2018).
- CAS: a classifier trained only on generated images, tested on the real test set
  (Ravuri & Vinyals, 2019); it exposes a model that draws one good digit over and over.
"""

import numpy as np
import torch

from aecli.data import Dataset, Split
from aecli.evaluate.judge import Judge, cas_accuracy, feature_statistics, features, predict
from aecli.inference import decode, generator
from aecli.models import Autoencoder


def frechet_distance(a: tuple[torch.Tensor, torch.Tensor], b: tuple[torch.Tensor, torch.Tensor]) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^1/2), the root by scipy."""
    from scipy.linalg import sqrtm

    (mu_a, cov_a), (mu_b, cov_b) = ([np.asarray(t, np.float64) for t in pair] for pair in (a, b))
    # features that never fire (ReLU) make the covariances singular; a tiny ridge keeps the root defined
    ridge = 1e-6 * np.eye(len(cov_a))
    cov_a, cov_b = cov_a + ridge, cov_b + ridge
    root = np.real(sqrtm(cov_a @ cov_b))  # tiny imaginary parts are rounding
    distance = np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(root)
    return float(max(distance, 0.0))


def generated_images(
    model: Autoencoder, n: int, seed: int = 0, temperature: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """n images from the latent distribution (each its own latent), classes in turn for a class model."""
    labels = model.labels_for(torch.arange(n) % max(1, model.num_classes))
    z = model.latent.sample(n, generator(seed), temperature, labels)
    return decode(model, z, labels), labels


def classifier_fid(judge: Judge, images: torch.Tensor) -> float:
    """Classifier FID of float images in [0, 1] against the judge's training-split features."""
    return frechet_distance(feature_statistics(features(judge.model, images)), judge.train_features)


def gan_test(judge: Judge, model: Autoencoder, per_class: int, seed: int, temperature: float) -> dict[int, float]:
    """Per class, the share of images generated for it that the judge reads as that class."""
    from aecli.inference import generate

    rows = generate(model, list(range(model.num_classes)), per_class, seed, temperature)
    return {c: (predict(judge.model, rows[c]) == c).float().mean().item() for c in range(len(rows))}


def classification_accuracy_score(data: Dataset, images: torch.Tensor, labels: torch.Tensor) -> float:
    """CAS: test accuracy of a classifier trained only on generated (images, labels)."""
    pixels = (images.clamp(0, 1) * 255).round().to(torch.uint8)  # as they would be saved
    return cas_accuracy(Split(pixels, labels), data)


def gan_test_per_class(images: int, classes: int) -> int:
    """GAN-test's images per class: as many in all as FID judges (a weakest digit read from 100 images
    moves by 0.01 with one image), and at least 100 per class."""
    return max(100, images // max(1, classes))


def sample_metrics(model: Autoencoder, data: Dataset, reporter, temperature: float | None = None) -> dict:
    """Classifier FID (with the test set's own as the floor); GAN-test and CAS for class models.
    Samples are drawn at `temperature`; by default the prior itself (1) for FID and CAS, and the
    model's own sampling temperature for GAN-test."""
    from aecli.evaluate.judge import load_judge

    judge = load_judge(data, on_note=reporter.note)
    n = min(max(len(data.test), 1000), 10_000)  # as many as the test images, within reason
    sample_temperature = 1.0 if temperature is None else temperature
    images, labels = generated_images(model, n, temperature=sample_temperature)
    metrics = {
        "judge": "bundled with aecli" if judge.bundled else "trained on this dataset's training split",
        "judge_test_accuracy": judge.test_accuracy,
        "sample_temperature": sample_temperature,
        "classifier_fid": classifier_fid(judge, images),
        "classifier_fid_test_set": classifier_fid(judge, data.test.images.float() / 255),
    }
    if model.takes_class:
        names = data.spec.class_names
        temperature = model.temperature(temperature)
        count = gan_test_per_class(n, model.num_classes)
        per_class = gan_test(judge, model, count, 0, temperature)
        metrics["gan_test_temperature"] = temperature
        metrics["gan_test_images_per_class"] = count
        metrics["gan_test"] = {names[c]: value for c, value in per_class.items()}
        metrics["gan_test_min"] = min(per_class.values())
        if temperature != 1.0:  # how the prior itself does, for an honest comparison
            metrics["gan_test_min_at_temperature_1"] = min(gan_test(judge, model, count, 0, 1.0).values())
        reporter.note(f"Training a classifier on {n:,} generated images for the CAS")
        metrics["cas"] = classification_accuracy_score(data, images, labels)
        metrics["cas_real_images"] = judge.cas_reference
    return metrics
