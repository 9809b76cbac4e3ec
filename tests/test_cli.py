import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import install_run, invoke
from PIL import Image

from aecli import __version__


def test_help_lists_every_command_and_does_not_import_torch():
    code = (
        "import sys; from aecli.cli import app; from typer.testing import CliRunner; "
        "r = CliRunner().invoke(app, ['--help']); print(r.output); print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for name in ("train", "reconstruct", "sample", "generate", "smile", "interpolate", "tsne", "eval"):
        assert name in out
    assert out.strip().endswith("False")


def test_building_any_model_leaves_torchs_compiler_unimported():
    """Counting a model's parameters on the meta device must not pull in torch's compiler (a second of
    start-up); the random state after building is what building the model alone leaves."""
    code = (
        "import sys, torch; from aecli.models import MODELS, create_model; "
        "[create_model(n) for n in MODELS.names()]; create_model('cvae', prior_components=3, class_prior=1); "
        "heavy = [m for m in ('torch._dynamo', 'torch.fx.experimental.symbolic_shapes') if m in sys.modules]; "
        "torch.manual_seed(0); create_model('vae'); counted = torch.randn(3); "
        "torch.manual_seed(0); MODELS.get('vae')(MODELS.get('vae').Config()); built = torch.randn(3); "
        "print(sorted(MODELS.names()), heavy, torch.equal(counted, built))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['ae', 'betavae', 'cvae', 'vae'] [] True"


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0 and __version__ in result.stdout


def test_train_json_and_latest_pointer(isolated_home):
    result = invoke("train", "vae", "--dataset", "digits", "--epochs", "1", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert set(summary) >= {
        "checkpoint",
        "model",
        "dataset",
        "epochs",
        "train_loss",
        "test_loss",
        "seconds",
        "images_per_second",
    }
    assert summary["epochs"] == 1 and summary["test_loss"] > 0
    sampled = invoke("sample", "vae", "-n", "8", "-o", isolated_home / "s.npy")  # uses the newest run
    assert sampled.exit_code == 0, sampled.output


@pytest.fixture
def ckpt(trained):
    return lambda name="vae": ["--checkpoint", trained[name]]


def test_sample_npy_and_png(tmp_path, ckpt):
    result = invoke("sample", "vae", *ckpt(), "-n", "64", "--seed", "1", "-o", tmp_path / "s.npy")
    assert result.exit_code == 0, result.output
    array = np.load(tmp_path / "s.npy")
    assert array.shape == (64, 1, 28, 28) and array.dtype == np.float32
    assert array.min() >= 0 and array.max() <= 1
    again = invoke("sample", "vae", *ckpt(), "-n", "64", "--seed", "1", "-o", tmp_path / "t.npy")
    assert again.exit_code == 0 and np.array_equal(array, np.load(tmp_path / "t.npy"))
    png = tmp_path / "dir with space é" / "s.png"
    assert invoke("sample", "vae", *ckpt(), "-o", png).exit_code == 0
    assert Image.open(png).size[0] > 28 * 8
    umask = os.umask(0o022)
    os.umask(umask)
    assert png.stat().st_mode & 0o777 == 0o666 & ~umask  # as any other program's output, not private


def test_reconstruct_test_images_and_own_input(tmp_path, ckpt):
    result = invoke("reconstruct", "vae", *ckpt(), "-n", "10", "-o", tmp_path / "r.npy", "--json")
    assert result.exit_code == 0, result.output
    assert np.load(tmp_path / "r.npy").shape == (10, 1, 28, 28)
    assert 0 < json.loads(result.stdout)["mse"] < 0.2
    Image.fromarray(np.full((50, 40, 3), 200, np.uint8)).save(tmp_path / "mine.jpg")
    own = invoke("reconstruct", "vae", *ckpt(), "--input", tmp_path / "mine.jpg", "-o", tmp_path / "own.npy")
    assert own.exit_code == 0, own.output
    assert np.load(tmp_path / "own.npy").shape == (1, 1, 28, 28)
    assert invoke("reconstruct", "vae", *ckpt(), "-o", tmp_path / "r.png").exit_code == 0


def test_generate_digits_same_seed_same_style(tmp_path, ckpt):
    one = invoke("generate", "cvae", *ckpt("cvae"), "--digit", "7", "-n", "5", "--seed", "3", "-o", tmp_path / "7.npy")
    assert one.exit_code == 0, one.output
    sevens = np.load(tmp_path / "7.npy")
    assert sevens.shape == (5, 1, 28, 28) and 0 <= sevens.min() and sevens.max() <= 1
    grid = invoke("generate", "cvae", *ckpt("cvae"), "-n", "5", "--seed", "3", "-o", tmp_path / "all.npy")
    assert grid.exit_code == 0
    rows = np.load(tmp_path / "all.npy").reshape(10, 5, 1, 28, 28)
    assert np.allclose(rows[7], sevens, atol=1e-6)  # the same z for every digit
    assert not np.allclose(rows[3], rows[7])
    assert invoke("generate", "cvae", *ckpt("cvae"), "-o", tmp_path / "all.png").exit_code == 0


def test_temperature_scales_the_latent_draw(tmp_path, ckpt):
    def draw(*extra):
        out = tmp_path / f"g{len(extra)}{'-'.join(extra)}.npy"
        result = invoke(
            "generate", "cvae", *ckpt("cvae"), "--digit", "2", "-n", "6", "--seed", "4", *extra, "-o", out, "--json"
        )
        assert result.exit_code == 0, result.output
        return np.load(out), json.loads(result.stdout)["temperature"]

    default, t_default = draw()
    scaled, t_scaled = draw("--temperature", "0.7")
    frozen, _ = draw("--temperature", "0")
    assert t_default == t_scaled == 0.7 and np.array_equal(default, scaled)  # cvae's default is 0.7
    assert np.allclose(frozen, frozen[0], atol=1e-6)  # every latent is the prior's mean
    assert not np.allclose(draw("--temperature", "1")[0], default)


@pytest.mark.parametrize("digit", ["10", "-1", "seven"])
def test_generate_bad_digit_is_a_usage_error(tmp_path, ckpt, digit):
    result = invoke("generate", "cvae", *ckpt("cvae"), "--digit", digit, "-o", tmp_path / "x.png")
    assert result.exit_code == 2
    assert "0-9 or all" in result.stderr
    assert not (tmp_path / "x.png").exists()


def test_generate_needs_a_conditional_model(tmp_path, ckpt):
    result = invoke("generate", "vae", *ckpt(), "-o", tmp_path / "x.png")
    assert result.exit_code == 2 and "cvae" in result.stderr


@pytest.mark.slow  # trains the digits judge once for the session
def test_interpolate_tsne_eval(tmp_path, ckpt, digits_judge):
    assert invoke("interpolate", "cvae", *ckpt("cvae"), "-n", "6", "-o", tmp_path / "i.npy").exit_code == 0
    assert np.load(tmp_path / "i.npy").shape == (6, 1, 28, 28)
    tsne = invoke("tsne", "vae", *ckpt(), "-n", "200", "-o", tmp_path / "t.npy", "--json")
    assert tsne.exit_code == 0, tsne.output
    table = np.load(tmp_path / "t.npy")
    assert table.shape == (200, 3) and set(np.unique(table[:, 2])) <= set(range(10))
    assert 0 <= json.loads(tsne.stdout)["models"]["vae"]["knn_accuracy"] <= 1
    result = invoke("eval", "vae", *ckpt(), "-k", "5", "--json")
    metrics = json.loads(result.stdout)
    assert metrics["iwae_nll"] <= metrics["neg_elbo"] + 1.0  # the IW bound is tighter
    assert metrics["psnr_db"] > 5


@pytest.mark.slow  # trains the judge, and a classifier on generated digits for the CAS
def test_eval_cvae_reports_gan_test_cas_and_classifier_fid_with_a_cached_judge(tmp_path, ckpt):
    first = invoke("eval", "cvae", *ckpt("cvae"), "-k", "2", "--json")
    assert first.exit_code == 0, first.output
    metrics = json.loads(first.stdout)
    assert "Training a classifier" in first.stderr
    assert metrics["judge_test_accuracy"] > 0.9  # on scikit-learn's digits
    assert sorted(metrics["gan_test"], key=int) == [str(d) for d in range(10)]
    assert all(0 <= a <= 1 for a in metrics["gan_test"].values())
    assert metrics["gan_test_min"] == min(metrics["gan_test"].values())
    assert metrics["gan_test_temperature"] == 0.7 and "gan_test_min_at_temperature_1" in metrics
    assert metrics["gan_test_images_per_class"] == 100  # 1,000 images judged in all on the small digits
    assert 0.1 < metrics["cas"] <= 1  # better than chance: the 1-epoch model draws some digits right
    assert 0 <= metrics["classifier_fid_test_set"] < metrics["classifier_fid"]  # real test images are the floor
    assert {"cas", "gan_test", "classifier_fid", "iwae_nll"} <= set(metrics["protocols"])
    cached = list((tmp_path / "cache" / "classifiers").glob("digits-*.safetensors"))
    assert len(cached) == 1  # under the dataset cache
    again = invoke("eval", "cvae", *ckpt("cvae"), "-k", "2", "--json")
    assert again.exit_code == 0 and "Training a classifier to judge" not in again.stderr
    repeated = json.loads(again.stdout)
    assert repeated["judge_test_accuracy"] == metrics["judge_test_accuracy"]
    assert repeated["classifier_fid"] == metrics["classifier_fid"]  # seeded: the same numbers twice


def test_tsne_compares_two_models(tmp_path, trained, monkeypatch):
    install_run("vae", trained["vae"])
    install_run("cvae", trained["cvae"])
    result = invoke("tsne", "vae", "cvae", "-n", "150", "-o", tmp_path / "c.png", "--json")
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)["models"]) == {"vae", "cvae"}
    assert (tmp_path / "c.png").stat().st_size > 10_000


def test_tsne_refuses_models_trained_on_different_data(tmp_path, trained):
    install_run("cvae", trained["cvae"])  # digits; the vae is the bundled one, trained on MNIST
    result = invoke("tsne", "vae", "cvae", "-n", "150", "-o", tmp_path / "c.png")
    assert result.exit_code == 2
    assert "vae on mnist, cvae on digits" in result.stderr and "same --dataset" in result.stderr
    assert not (tmp_path / "c.png").exists()


def test_tsne_compares_models_of_one_named_set_read_from_different_folders(tmp_path, monkeypatch):
    import shutil

    import aecli

    monkeypatch.setenv("AECLI_MNIST_URL", "http://127.0.0.1:9/")  # offline: the bundled test split
    run = tmp_path / "mine"
    shutil.copytree(os.path.join(os.path.dirname(aecli.__file__), "pretrained", "vae"), run / "epoch-0001")
    (run / "latest").write_text("epoch-0001\n")
    config = json.loads((run / "epoch-0001" / "config.json").read_text())
    config["recipe"]["data_dir"] = str(tmp_path / "my-copy-of-mnist")  # trained on MNIST from a folder of its own
    (run / "epoch-0001" / "config.json").write_text(json.dumps(config))
    install_run("vae", run)
    result = invoke("tsne", "cvae", "vae", "-n", "150", "-o", tmp_path / "c.png", "--json")  # the cvae is bundled
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)["models"]) == {"vae", "cvae"}


def test_checkpoint_of_another_model(trained):
    result = invoke("sample", "cvae", "--checkpoint", trained["vae"])
    assert result.exit_code == 1 and "holds a vae model, not cvae" in result.stderr


def test_output_folder_that_cannot_exist(tmp_path, ckpt):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = invoke("sample", "vae", *ckpt(), "-o", blocker / "s.png")
    assert result.exit_code == 1 and "choose another -o" in result.stderr


def test_debug_shows_the_traceback(monkeypatch):
    from aecli.errors import AecliError

    quiet = invoke("sample", "ae")  # no trained ae and none bundled
    assert quiet.exit_code == 1 and not isinstance(quiet.exception, AecliError)  # one line, the error handled
    monkeypatch.setenv("AECLI_DEBUG", "1")
    result = invoke("sample", "ae")
    assert isinstance(result.exception, AecliError)  # raised through, so Python prints its traceback


@pytest.mark.parametrize("model", ["vae", "cvae"])
def test_bundled_model_is_used_when_none_is_trained(tmp_path, model):
    result = invoke("sample", model, "-n", "100", "--seed", "0", "-o", tmp_path / "s.npy")
    assert result.exit_code == 0, result.output
    assert "bundled" in result.stderr
    images = np.load(tmp_path / "s.npy")
    assert images.shape == (100, 1, 28, 28)
    assert 0.05 < images.mean() < 0.25  # digit-like: mostly dark background, some ink


def test_a_model_trained_on_the_iwae_bound_reports_it_below_its_elbo(digits_judge):
    trained = invoke(*"train cvae --dataset digits --binarize --epochs 3 --iwae-samples 4 --seed 0 --json".split())
    assert trained.exit_code == 0, trained.output
    checkpoint = Path(json.loads(trained.stdout)["checkpoint"])
    assert json.loads((checkpoint / "config.json").read_text())["model_config"]["iwae_samples"] == 4
    losses = [float(line.split(",")[1]) for line in (checkpoint.parent / "metrics.csv").read_text().splitlines()[1:]]
    assert losses[-1] < losses[0]
    report = invoke("eval", "cvae", "-k", "20", "--json")
    assert report.exit_code == 0, report.output
    figures = json.loads(report.stdout)
    assert figures["iwae_nll"] < figures["neg_elbo"] and figures["binarized"]
