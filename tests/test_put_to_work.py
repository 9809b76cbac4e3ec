"""A trained model over the user's files: encode, score, export, and one-class training and evaluation."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import invoke
from PIL import Image

from aecli import api


@pytest.fixture(scope="session")
def one_class(tmp_path_factory):
    """A folder of two trivially different classes (dark and light squares, 16 px), and a vae and an ae
    trained for 3 epochs on the dark class alone."""
    from aecli.data import DataRecipe
    from aecli.train.loop import TrainSettings, train

    root = tmp_path_factory.mktemp("one-class")
    rng = np.random.default_rng(0)
    for name, level in (("dark", 30), ("light", 220)):
        (root / "data" / name).mkdir(parents=True)
        for i in range(60):
            pixels = np.clip(rng.normal(level, 12, (16, 16)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / "data" / name / f"{i:03d}.png")
    runs = {}
    for model in ("vae", "ae"):
        recipe = DataRecipe("folder", str(root / "data"), classes=("dark",))
        epochs = 3 if model == "vae" else 20  # the ae learns per step, and 48 images are few steps an epoch
        result = train(TrainSettings(model=model, data=recipe, epochs=epochs, seed=0), device="cpu", out=root / model)
        runs[model] = result.run_dir
    return root, runs


def rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_classes_trains_on_those_classes_alone(one_class):
    root, runs = one_class
    ckpt = api.load("vae", runs["vae"])
    assert ckpt.spec.class_names == ("dark",) and ckpt.recipe.classes == ("dark",)
    data = api.test_data(ckpt)
    assert len(data.train) + len(data.test) == 60  # the 60 dark images, none of the light ones
    assert data.train.labels.unique().tolist() == [0]
    assert float(data.train.images.float().mean()) < 80


def test_an_unknown_class_is_refused_with_the_names(tmp_path, one_class):
    root, _ = one_class
    result = invoke("train", "vae", "--dataset", "folder", "--data-dir", root / "data", "--classes", "drak")
    assert result.exit_code == 2 and "did you mean dark" in result.stderr


@pytest.mark.parametrize("model", ["vae", "ae"])
def test_anomaly_auroc_is_one_where_the_classes_are_trivially_apart(one_class, model):
    _, runs = one_class
    result = invoke("eval", model, "--checkpoint", runs[model], "--anomaly", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["normal_classes"] == ["dark"]
    for metric in api.model_defaults()[model]["score_metrics"]:
        assert report[metric]["auroc"] == pytest.approx(1.0)
        assert set(report[metric]["per_class"]) == {"light"}


def test_anomaly_auroc_is_a_half_where_normal_and_anomalous_are_alike():
    from aecli.evaluate.anomaly import one_class_report

    rng = np.random.default_rng(0)
    scores = rng.normal(size=4000)
    labels = rng.integers(0, 2, 4000)
    report = one_class_report(scores, ["a", "b"], labels, {"a"})
    assert abs(report["auroc"] - 0.5) < 0.05
    separated = one_class_report(np.where(labels == 1, 5.0, 0.0) + scores * 0.1, ["a", "b"], labels, {"a"})
    assert separated["auroc"] == pytest.approx(1.0) and separated["aupr"] == pytest.approx(1.0)


def test_eval_anomaly_needs_a_one_class_model(trained):
    result = invoke("eval", "vae", "--checkpoint", trained["vae"], "--anomaly")
    assert result.exit_code == 2 and "--classes" in result.stderr


def test_encode_rows_equal_the_api_codes_of_the_same_images(tmp_path, trained):
    ckpt = api.load("vae", trained["vae"])
    out = tmp_path / "codes.csv"
    result = invoke("encode", "vae", "--checkpoint", trained["vae"], "--split", "test", "-o", out)
    assert result.exit_code == 0, result.output
    table = rows(out)
    data = api.test_data(ckpt)
    embedded = api.embed(ckpt, data, n=len(data.test))
    codes = np.array([[float(row[f"z{i}"]) for i in range(ckpt.model.config.latent_dim)] for row in table])
    assert len(table) == len(data.test)
    np.testing.assert_allclose(codes, embedded.codes, atol=1e-5)
    assert [row["class"] for row in table[:5]] == [str(int(c)) for c in data.test.labels[:5]]
    assert all(float(row["mse"]) >= 0 and float(row["psnr"]) > 0 for row in table)


def write_digits(folder: Path, count: int) -> list[Path]:
    """Digit images as a user would have them: dark strokes on white, in a class subfolder `3`."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    (folder / "3").mkdir(parents=True, exist_ok=True)
    paths = []
    for i, image in enumerate(digits.images[:count]):
        path = folder / "3" / f"d{i}.png"
        Image.fromarray((255 - image * 16).clip(0, 255).astype(np.uint8)).resize((28, 28)).save(path)
        paths.append(path)
    return paths


def test_a_folder_with_one_unreadable_file_gives_every_other_row_and_one_warning(tmp_path, trained):
    write_digits(tmp_path / "in", 6)
    (tmp_path / "in" / "broken.png").write_bytes(b"not an image")
    out = tmp_path / "codes.parquet"
    result = invoke("encode", "vae", "--checkpoint", trained["vae"], tmp_path / "in", "-o", out, "--json")
    assert result.exit_code == 0, result.output
    import pyarrow.parquet as pq

    table = pq.read_table(out).to_pydict()
    assert sorted(table["path"]) == sorted(f"3/d{i}.png" for i in range(6))
    assert set(table["class"]) == {"3"}  # the subfolder is a class the model knows
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1 and "broken.png" in warnings[0]
    assert json.loads(result.stdout)["skipped"] == 1


def test_strict_makes_an_unreadable_file_an_error_and_writes_nothing(tmp_path, trained):
    write_digits(tmp_path / "in", 3)
    (tmp_path / "in" / "broken.png").write_bytes(b"not an image")
    out = tmp_path / "codes.csv"
    result = invoke("encode", "vae", "--checkpoint", trained["vae"], tmp_path / "in", "-o", out, "--strict")
    assert result.exit_code == 1 and "broken.png" in result.stderr
    assert not out.exists() and not list(tmp_path.glob(".codes*"))


def test_nothing_readable_is_an_error(tmp_path, trained):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.png").write_bytes(b"no")
    result = invoke("encode", "vae", "--checkpoint", trained["vae"], tmp_path / "in", "-o", tmp_path / "c.csv")
    assert result.exit_code == 1 and "none of the inputs" in result.stderr
    assert not (tmp_path / "c.csv").exists()


def test_npy_holds_the_codes_alone_in_input_order(tmp_path, trained):
    paths = write_digits(tmp_path / "in", 4)
    out = tmp_path / "codes.npy"
    assert invoke("encode", "vae", "--checkpoint", trained["vae"], *paths, "-o", out).exit_code == 0
    csv_out = tmp_path / "codes.csv"
    assert invoke("encode", "vae", "--checkpoint", trained["vae"], *paths, "-o", csv_out).exit_code == 0
    codes = np.load(out)
    assert codes.shape == (4, 20) and codes.dtype == np.float32
    np.testing.assert_allclose(codes[:, 0], [float(r["z0"]) for r in rows(csv_out)], atol=1e-6)


def test_score_is_low_for_training_images_and_high_for_noise(tmp_path, trained):
    ckpt = api.load("vae", trained["vae"])
    quantiles = ckpt.training["score_quantiles"]["elbo"]
    assert quantiles["q95"] <= quantiles["q99"] <= quantiles["q999"]
    trained_images = api.score(ckpt, split="train")
    assert np.median(trained_images.columns["score"]) < quantiles["q99"]
    noise = tmp_path / "noise.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (28, 28), dtype=np.uint8)).save(noise)
    out = tmp_path / "scores.csv"
    result = invoke("score", "vae", "--checkpoint", trained["vae"], noise, "-o", out)
    assert result.exit_code == 0, result.output
    (row,) = rows(out)
    assert float(row["score"]) > quantiles["q99"] and row["exceeds"] == "q999"


def test_fail_over_exits_with_its_own_code(tmp_path, trained):
    noise = tmp_path / "noise.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (28, 28), dtype=np.uint8)).save(noise)
    args = ("score", "vae", "--checkpoint", trained["vae"], noise, "-o", tmp_path / "s.csv")
    failed = invoke(*args, "--fail-over", "q99")
    assert failed.exit_code == 3 and "above --fail-over" in failed.stderr
    assert (tmp_path / "s.csv").exists()  # the rows are written all the same
    assert invoke(*args, "--fail-over", "1e9").exit_code == 0
    assert invoke(*args, "--fail-over", "q98").exit_code == 2


def test_top_draws_the_worst_inputs(tmp_path, trained):
    paths = write_digits(tmp_path / "in", 5)
    picture = tmp_path / "worst.png"
    result = invoke(
        "score", "vae", "--checkpoint", trained["vae"], *paths, "--top", "3", "-o", tmp_path / "s.csv", "-o", picture
    )
    assert result.exit_code == 0, result.output
    with Image.open(picture) as image:
        assert image.width > 3 * 28 * 4 and image.height > 3 * 28 * 4  # three rows of three, labelled
    assert invoke("score", "vae", "--checkpoint", trained["vae"], *paths, "--top", "3").exit_code == 2


def test_the_ae_scores_by_mse_or_ssim(one_class):
    _, runs = one_class
    ckpt = api.load("ae", runs["ae"])
    data = api.test_data(ckpt)
    mse = api.score(ckpt, split="test").columns["score"]
    ssim = api.score(ckpt, split="test", metric="ssim").columns["score"]
    assert len(mse) == len(data.test) and (mse >= 0).all() and ((ssim >= -1) & (ssim <= 2)).all()
    with pytest.raises(api.UsageError, match="offers: mse, ssim"):
        api.score(ckpt, split="test", metric="elbo")


def test_a_class_model_scores_unlabelled_images_under_every_class(trained):
    ckpt = api.load("cvae", trained["cvae"])
    images = api.test_data(ckpt).test.images[:8]
    from aecli.evaluate.anomaly import score_batch

    per_class = np.stack([score_batch(ckpt.model, images, torch.full((8,), c)) for c in range(10)], axis=1)
    marginal = score_batch(ckpt.model, images)
    expected = np.log(10) - np.log(np.exp(-(per_class - per_class.min(1, keepdims=True))).sum(1)) + per_class.min(1)
    np.testing.assert_allclose(marginal, expected, rtol=1e-5)


@pytest.mark.parametrize("model", ["vae", "cvae", "ae"])
def test_onnx_matches_pytorch_and_aecli_score(tmp_path, trained, one_class, model):
    pytest.importorskip("onnxruntime")
    from aecli.inference import decode, device_of
    from aecli.store.export import run_onnx

    run = one_class[1]["ae"] if model == "ae" else trained[model]
    ckpt = api.load(model, run)
    result = invoke("export", model, "--checkpoint", run, "-o", tmp_path / "onnx", "--json")
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "onnx" / "aecli-model.json").read_text())
    assert manifest["image"]["size"] == ckpt.spec.image_size and manifest["latent_dim"] == ckpt.model.config.latent_dim
    test = api.test_data(ckpt).test
    images = test.images[:64]
    x = images.float() / 255
    labels = test.labels[:64] if model == "cvae" else None
    feeds = {"image": x.numpy()} | ({"label": labels.numpy()} if labels is not None else {})
    with torch.no_grad():
        mu, logvar = ckpt.model.encode_distribution(x.to(device_of(ckpt.model)), labels)
    got = run_onnx(tmp_path / "onnx" / "encoder.onnx", feeds)
    np.testing.assert_allclose(got[0], mu.numpy(), atol=1e-4)
    if logvar is not None:
        np.testing.assert_allclose(got[1], logvar.numpy(), atol=1e-4)
    decoded = run_onnx(
        tmp_path / "onnx" / "decoder.onnx",
        {"z": mu.numpy(), **({"label": labels.numpy()} if labels is not None else {})},
    )
    np.testing.assert_allclose(decoded[0], decode(ckpt.model, mu, labels).numpy(), atol=1e-4)
    exported = run_onnx(tmp_path / "onnx" / "scorer.onnx", {"image": x.numpy()})[0]
    scored = api.score(ckpt, split="test").columns["score"][:64]
    np.testing.assert_allclose(exported, scored, rtol=1e-4)


def test_export_without_onnx_names_the_extra(tmp_path, trained, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_onnx(name, *args, **kwargs):
        if name.startswith("onnx"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnx)
    result = invoke("export", "vae", "--checkpoint", trained["vae"], "-o", tmp_path / "x")
    assert result.exit_code == 1 and "pip install 'aecli[export]'" in result.stderr
    assert not (tmp_path / "x").exists()
