"""The evaluation report: papers' protocols, classifier FID, PCA floor, traversals, bundled test split."""

import json

import numpy as np
import pytest
import torch
from helpers import invoke

from aecli.evaluate.sample_quality import frechet_distance, gan_test_per_class


def test_frechet_distance_is_zero_for_equal_statistics_and_grows_with_the_gap():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(2000, 8))
    stats = (torch.from_numpy(a.mean(0)), torch.from_numpy(np.cov(a.T)))
    assert frechet_distance(stats, stats) == pytest.approx(0.0, abs=1e-6)
    shifted = (stats[0] + 2.0, stats[1])  # same covariance, every mean moved by 2: distance 8 x 2^2
    assert frechet_distance(stats, shifted) == pytest.approx(32.0, rel=1e-6)
    scaled = (stats[0], stats[1] * 4)  # covariance x4: Tr(S + 4S - 2 * 2S) = Tr(S)
    assert frechet_distance(stats, scaled) == pytest.approx(np.trace(np.cov(a.T)), rel=1e-4)


@pytest.mark.slow  # trains the digits judge once for the session
def test_gan_test_judges_as_many_images_as_fid_and_at_least_100_per_class():
    assert gan_test_per_class(10_000, 10) == 1000  # MNIST: a weakest digit read to 0.001, not 0.01
    assert gan_test_per_class(1000, 10) == 100
    assert gan_test_per_class(10_000, 3000) == 100


def test_binarized_eval_follows_the_iwae_protocol_and_says_so(trained, digits_judge):
    result = invoke("eval", "vae", "--checkpoint", trained["vae"], "--binarize", "-k", "20", "--json")
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert metrics["binarized"] is True and metrics["iwae_samples"] == 20
    assert metrics["iwae_nll"] <= metrics["neg_elbo"] + 0.5  # the bound tightens with k
    assert "k = 20" in metrics["protocols"]["iwae_nll"] and "fixed Bernoulli draw" in metrics["protocols"]["neg_elbo"]
    grey = json.loads(invoke("eval", "vae", "--checkpoint", trained["vae"], "-k", "20", "--json").stdout)
    assert grey["binarized"] is False and "not comparable" in grey["protocols"]["iwae_nll"]
    assert grey["neg_elbo"] != metrics["neg_elbo"]


@pytest.mark.slow  # trains the digits judge once for the session
def test_generated_images_are_judged_at_the_temperature_asked_and_say_which(trained, digits_judge):
    def metrics(*options):
        result = invoke("eval", "vae", "--checkpoint", trained["vae"], "-k", "2", "--json", *options)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    default, prior, cooler = metrics(), metrics("--temperature", "1"), metrics("--temperature", "0.5")
    assert default["sample_temperature"] == prior["sample_temperature"] == 1.0
    assert default["classifier_fid"] == prior["classifier_fid"]  # by default FID judges the prior itself
    assert cooler["sample_temperature"] == 0.5 and cooler["classifier_fid"] != default["classifier_fid"]
    assert "sample_temperature, 0.5" in cooler["protocols"]["classifier_fid"]
    assert cooler["classifier_fid_test_set"] == default["classifier_fid_test_set"]  # the floor does not move
    refused = invoke("eval", "vae", "--checkpoint", trained["vae"], "--anomaly", "--temperature", "0.5")
    assert refused.exit_code == 2 and "leave out --temperature" in refused.stderr


def test_the_default_k_is_the_papers_5000_when_binarized(trained, monkeypatch):
    from aecli import api
    from aecli.evaluate import likelihood

    seen = {}

    def spy(model, test, binarized, k, progress=None):
        seen.update(binarized=binarized, k=k)
        return {"test_images": len(test)}

    monkeypatch.setattr(likelihood, "evaluate", spy)
    ckpt = api.load("vae", trained["vae"])
    api.evaluate(ckpt, binarize=True, samples=False)
    assert seen == {"binarized": True, "k": 5000}
    api.evaluate(ckpt, samples=False)
    assert seen == {"binarized": False, "k": 20}


def test_eval_ae_sets_psnr_and_ssim_beside_the_pca_floor(tmp_path):
    from aecli.data import DataRecipe
    from aecli.train.loop import TrainSettings, train

    run = train(
        TrainSettings(model="ae", data=DataRecipe("lfw-mini"), epochs=2, seed=0), device="cpu", out=tmp_path / "ae"
    )
    result = invoke("eval", "ae", "--checkpoint", run.run_dir, "--json")
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert 0 < metrics["ssim"] <= 1 and 0 < metrics["pca_ssim"] <= 1
    assert 1 <= metrics["pca_components"] <= 128  # as many as the latent, at most the training images
    assert metrics["pca_psnr_db"] > 10 and "eigenfaces" in metrics["protocols"]["pca_psnr_db"]
    # the reconstructions come from refined codes, never worse than the encoder's, and the JSON says so
    assert metrics["refine_steps"] == 20 and "Adam steps" in metrics["protocols"]["refine_steps"]
    assert metrics["psnr_db"] > metrics["encoder_psnr_db"] + 0.1 and metrics["mse"] < metrics["encoder_mse"]


def test_eval_ae_measures_the_smile_edit(tmp_path):
    from lfw_fixtures import make_lfw_tree

    from aecli.data import DataRecipe
    from aecli.train.loop import TrainSettings, train

    tree = make_lfw_tree(tmp_path / "lfw")
    recipe = DataRecipe("lfw", data_dir=str(tree), image_size=16, crop=1.0)
    run = train(TrainSettings(model="ae", data=recipe, epochs=3, seed=0), device="cpu", out=tmp_path / "ae")
    result = invoke("eval", "ae", "--checkpoint", run.run_dir, "--json")
    assert result.exit_code == 0, result.output
    edit = json.loads(result.stdout)["attribute_edit"]
    assert edit["attribute"] == "Smiling" and edit["edited_faces"] >= 1
    for key in ("judge_test_auc", "judge_probability_before", "judge_probability_after", "identity_kept", "latent_auc"):
        assert 0 <= edit[key] <= 1, key
    assert list((tmp_path / "cache" / "classifiers").glob("lfw-*-Smiling.npz"))  # the pixel judge is cached
    glasses = invoke("eval", "ae", "--checkpoint", run.run_dir, "--attribute", "eyeglasses", "--json")
    assert json.loads(glasses.stdout)["attribute_edit"]["attribute"] == "Eyeglasses"
    wrong = invoke("eval", "ae", "--checkpoint", run.run_dir, "--attribute", "Smilling")
    assert wrong.exit_code == 2 and "did you mean Smiling" in wrong.stderr


def test_traverse_sweeps_the_dimensions_asked(trained, tmp_path):
    out = tmp_path / "t.npy"
    result = invoke(
        "traverse", "vae", "--checkpoint", trained["vae"], "--dims", "0,3", "--steps", "5", "-o", out, "--json"
    )
    assert result.exit_code == 0, result.output
    rows = np.load(out)
    assert rows.shape == (2, 5, 1, 28, 28) and 0 <= rows.min() and rows.max() <= 1
    assert not np.allclose(rows[0, 0], rows[0, -1])  # the sweep changes the picture
    info = json.loads(result.stdout)
    assert info["dims"] == [0, 3] and info["from"].startswith("test image")
    centre = invoke(
        "traverse", "vae", "--checkpoint", trained["vae"], "--dims", "3,0", "--steps", "5", "-o", tmp_path / "u.npy"
    )
    assert centre.exit_code == 0
    # the middle column is the unchanged code in every row
    np.testing.assert_allclose(np.load(tmp_path / "u.npy")[:, 2], rows[::-1, 2], atol=1e-6)
    png = invoke("traverse", "vae", "--checkpoint", trained["vae"], "--prior", "-o", tmp_path / "t.png")
    assert png.exit_code == 0 and (tmp_path / "t.png").stat().st_size > 1000


@pytest.mark.parametrize("dims", ["20", "-1", "a,b", ","])
def test_traverse_refuses_dimensions_the_model_lacks(trained, tmp_path, dims):
    result = invoke("traverse", "vae", "--checkpoint", trained["vae"], "--dims", dims, "-o", tmp_path / "t.png")
    assert result.exit_code == 2 and "--dims" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["reconstruct", "interpolate", "tsne", "traverse"])
def test_the_bundled_models_work_offline_from_the_bundled_test_split(command, monkeypatch, tmp_path):
    monkeypatch.setenv("AECLI_MNIST_URL", "http://127.0.0.1:9/")  # nothing listens there: offline
    args = [command, "vae", "-o", tmp_path / "x.png"] + (["-n", "300"] if command == "tsne" else [])
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "x.png").stat().st_size > 1000
    assert not (tmp_path / "cache" / "mnist").exists()  # nothing was downloaded


def test_the_bundled_test_split_is_mnists_own():
    import hashlib

    from aecli.data.sets.idx import BUNDLED, SETS, bundled_mnist_test

    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        kind, digest = SETS["mnist"].files[name]
        assert hashlib.new(kind, (BUNDLED / name).read_bytes()).hexdigest() == digest
    data = bundled_mnist_test()
    assert data.test.images.shape == (10000, 1, 28, 28) and len(data.train) == 0
    assert torch.bincount(data.test.labels).tolist()[:3] == [980, 1135, 1032]


def test_the_pixel_judge_scores_stored_and_decoded_images_alike():
    from aecli.data.pixels import as_float
    from aecli.evaluate.attribute_edits import _pixels

    stored = torch.randint(0, 256, (3, 1, 8, 8), dtype=torch.uint8)
    np.testing.assert_allclose(_pixels(stored), _pixels(as_float(stored)))
    assert _pixels(stored).max() <= 1 and _pixels(as_float(stored)).max() > 0.5


def test_pca_floor_is_exact_on_data_in_a_low_dimensional_subspace():
    from aecli.data import Split
    from aecli.evaluate.reconstruction import pca_floor

    rng = np.random.default_rng(0)
    base = rng.integers(60, 100, (1, 1, 8, 8))
    patterns = rng.integers(0, 8, (2, 1, 8, 8))
    coefficients = rng.integers(0, 10, (300, 2))  # every image: base + c1 P1 + c2 P2, exact in uint8
    images = base + np.einsum("nk,kchw->nchw", coefficients, patterns)
    split = torch.from_numpy(images.astype(np.uint8))
    exact = pca_floor(Split(split[:200]), Split(split[200:]), components=2, mirrored=False)
    assert exact["pca_mse"] < 1e-10 and exact["pca_ssim"] > 0.999
    one = pca_floor(Split(split[:200]), Split(split[200:]), components=1, mirrored=False)
    assert one["pca_mse"] > 1e-5  # one is not enough


def test_pca_floor_of_mirrored_data_is_fitted_on_the_mirror_images_too():
    from aecli.data import Split
    from aecli.evaluate.reconstruction import pca_floor

    rng = np.random.default_rng(0)
    pattern = np.zeros((1, 1, 8, 8), dtype=np.int64)
    pattern[..., 2:6, 1] = 10  # a bar left of centre: its mirror image lies right of it
    coefficients = rng.integers(0, 10, (300, 1, 1, 1))
    train = torch.from_numpy((50 + coefficients[:200] * pattern).astype(np.uint8))
    test = torch.from_numpy((50 + coefficients[200:] * pattern).astype(np.uint8)).flip(3)  # faces turned the other way
    mirrored = pca_floor(Split(train), Split(test), components=2, mirrored=True)
    assert mirrored["pca_mse"] < 1e-10
    assert pca_floor(Split(train), Split(test), components=2, mirrored=False)["pca_mse"] > 1e-3


@pytest.fixture
def judged_digits(digits_judge):
    from aecli.data import load_dataset
    from aecli.evaluate.judge import load_judge

    data = load_dataset("digits")
    return data, load_judge(data)


@pytest.mark.slow  # trains the digits judge once for the session
def test_classifier_fid_of_the_test_set_is_near_zero_and_grows_with_noise(judged_digits):
    from aecli.evaluate.judge import feature_statistics, features
    from aecli.evaluate.sample_quality import frechet_distance

    data, judge = judged_digits
    real = data.test.images.float() / 255
    stats = feature_statistics(features(judge.model, real))
    distances = []
    for noise in (0.0, 0.1, 0.3):
        noisy = (real + noise * torch.randn(real.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
        distances.append(frechet_distance(feature_statistics(features(judge.model, noisy)), stats))
    assert distances[0] < 1e-3 and distances[0] < distances[1] < distances[2]


@pytest.mark.slow  # trains the digits judge once for the session
def test_cas_on_real_training_images_equals_the_judges_reference(judged_digits):
    from aecli.evaluate.judge import CAS_IMAGES
    from aecli.evaluate.sample_quality import classification_accuracy_score

    data, judge = judged_digits
    chosen = torch.randperm(len(data.train), generator=torch.Generator().manual_seed(0))[:CAS_IMAGES]
    real = data.train.images[chosen].float() / 255
    assert classification_accuracy_score(data, real, data.train.labels[chosen]) == judge.cas_reference
    assert judge.cas_reference > 0.8  # the CAS recipe learns digits from real images


def test_reconstruction_scores_are_perfect_for_a_perfect_copy_and_drop_with_noise():
    from aecli.data import Split
    from aecli.data.pixels import as_float
    from aecli.evaluate.reconstruction import reconstruction_scores

    images = torch.randint(0, 256, (20, 3, 16, 16), dtype=torch.uint8)
    perfect = reconstruction_scores(Split(images), lambda batch, part: as_float(batch))
    assert perfect["mse"] == 0 and perfect["ssim"] == pytest.approx(1.0)
    noisy = reconstruction_scores(Split(images), lambda batch, part: as_float(batch) + 0.1 * torch.randn(batch.shape))
    assert 0 < noisy["mse"] < 0.02 and noisy["ssim"] < 0.99 and 10 < noisy["psnr_db"] < 30
