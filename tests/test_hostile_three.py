"""Hostile inputs, third round: links out of the home, checkpoints that disagree with themselves,
runs inside runs, FIFOs, and usage errors that must be usage errors."""

import json
import os
import shutil
import subprocess
import sys

import pytest
from helpers import install_run, invoke


def test_a_run_linked_from_outside_the_home_is_never_used_or_written(tmp_path, trained):
    from aecli.store.runs import runs_dir

    outside = tmp_path / "elsewhere"
    shutil.copytree(trained["vae"], outside)
    base = runs_dir("vae")
    base.mkdir(parents=True)
    (base / "zzz").symlink_to(outside, target_is_directory=True)
    (base / "latest").write_text("zzz\n")
    before = sorted(p.name for p in outside.iterdir())
    sampled = invoke("sample", "vae", "-n", "2", "-o", tmp_path / "s.png")
    assert sampled.exit_code == 1 and "leads outside" in sampled.stderr
    resumed = invoke("train", "vae", "--resume", "--epochs", "2")
    assert resumed.exit_code == 1 and "leads outside" in resumed.stderr
    assert sorted(p.name for p in outside.iterdir()) == before  # nothing written or deleted there


def test_a_checkpoint_file_linked_out_of_its_folder_is_refused(tmp_path, trained):
    copy = tmp_path / "ckpt"
    source = next(trained["vae"].glob("epoch-*"))
    shutil.copytree(source, copy)
    (copy / "model.safetensors").unlink()
    (copy / "model.safetensors").symlink_to(source / "model.safetensors")
    result = invoke("sample", "vae", "--checkpoint", copy, "-n", "2", "-o", tmp_path / "s.png")
    assert result.exit_code == 1 and "leads outside" in result.stderr


@pytest.mark.slow
def test_a_fifo_as_the_weights_is_refused_without_hanging(tmp_path, trained):
    copy = tmp_path / "ckpt"
    shutil.copytree(next(trained["vae"].glob("epoch-*")), copy)
    (copy / "model.safetensors").unlink()
    os.mkfifo(copy / "model.safetensors")
    command = [sys.executable, "-m", "aecli", "sample", "vae", "--checkpoint", str(copy), "-o", str(tmp_path / "s.png")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "not a regular file" in done.stderr


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda c: c["data"].update(image_size=32), "28px"),
        (lambda c: c["data"].update(class_names=[str(i) for i in range(20)]), "20 classes"),
        (lambda c: c["training"].update(epochs_completed="5"), "epochs_completed"),
        (lambda c: c["training"].update(lr=-1), "training.lr"),
        (lambda c: c["training"].update(batch_size="96"), "training.batch_size"),
        (lambda c: c["training"].update(seed=2**70), "training.seed"),
    ],
    ids=["image size", "class names", "epochs", "lr", "batch size", "seed"],
)
def test_a_checkpoint_whose_parts_disagree_names_the_file_and_field(tmp_path, trained, change, field):
    copy = tmp_path / "ckpt"
    shutil.copytree(next(trained["cvae"].glob("epoch-*")), copy)
    config = json.loads((copy / "config.json").read_text())
    change(config)
    (copy / "config.json").write_text(json.dumps(config))
    result = invoke("sample", "cvae", "--checkpoint", copy, "-n", "2", "-o", tmp_path / "s.png")
    assert result.exit_code == 1 and "config.json is malformed" in result.stderr and field in result.stderr


def test_an_ae_fitted_covariance_that_is_not_positive_definite_is_refused(tmp_path):
    import torch
    from safetensors.torch import load_file, save_file

    from aecli.data import DataRecipe
    from aecli.train.loop import TrainSettings, train

    run = train(TrainSettings("ae", DataRecipe("digits", limit=64), epochs=1, seed=0), device="cpu", out=tmp_path / "r")
    weights = run.checkpoint / "model.safetensors"
    tensors = load_file(weights)
    tensors["code_distribution.cov"] = -torch.eye(tensors["code_distribution.cov"].shape[0])
    save_file(tensors, weights)
    result = invoke("sample", "ae", "--checkpoint", run.run_dir, "-n", "2", "-o", tmp_path / "s.png")
    assert result.exit_code == 1 and "not positive definite" in result.stderr


def test_no_run_starts_inside_another_runs_folder(tmp_path, trained):
    run = install_run("vae", trained["vae"])
    inner = next(run.glob("epoch-*")) / "mine"
    result = invoke("train", "vae", "--dataset", "digits", "--epochs", "1", "--out", inner)
    assert result.exit_code == 2 and "inside the run" in result.stderr
    assert not inner.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["train", "vae", "--dataset", "digits", "--limit", "10000000000"],
        ["generate", "cvae", "--digit", "²", "-o", "{tmp}/g.png"],
        ["generate", "cvae", "--digit", "9" * 5000, "-o", "{tmp}/g.png"],
    ],
    ids=["limit", "superscript digit", "5000 digits"],
)
def test_odd_numbers_are_usage_errors(tmp_path, args):
    result = invoke(*[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_a_deleted_working_folder_is_one_line(tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    code = "import os, sys; os.chdir(sys.argv[1]); os.rmdir(sys.argv[1]); sys.argv = ['aecli', 'runs']; "
    code += "from aecli.cli import main; main()"
    done = subprocess.run([sys.executable, "-c", code, str(gone)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip() == "Error: the current folder no longer exists; cd to one that does"


def test_a_class_name_with_a_newline_is_drawn_on_one_line(tmp_path):
    import numpy as np

    from aecli.store.outputs import save_images

    images = np.random.default_rng(0).random((2, 3, 1, 8, 8)).astype(np.float32)
    save_images(images, tmp_path / "g.png", row_labels=["two\nlines", "plain"])
    assert (tmp_path / "g.png").stat().st_size > 0


def test_a_phone_photo_is_read_the_way_up_it_is_shown(tmp_path):
    import numpy as np
    from PIL import Image

    from aecli.data.images import read_image

    pixels = np.zeros((60, 40), np.uint8)
    pixels[:20] = 255  # a white band along the top of the stored picture
    stored = Image.fromarray(pixels)
    exif = stored.getexif()
    exif[0x0112] = 6  # shown turned a quarter clockwise
    stored.save(tmp_path / "phone.png", exif=exif.tobytes())
    stored.transpose(Image.Transpose.ROTATE_270).save(tmp_path / "shown.png")  # what a viewer shows
    np.testing.assert_array_equal(read_image(tmp_path / "phone.png", 16), read_image(tmp_path / "shown.png", 16))


def test_sixteen_bit_images_are_scaled_to_eight_as_before(tmp_path):
    import numpy as np
    from PIL import Image

    from aecli.data.images import read_image

    values = np.arange(300 * 200, dtype=np.uint16).reshape(300, 200) * 3
    Image.fromarray(values).save(tmp_path / "deep.png")
    expected = np.clip(values.astype(np.float64) * (255.0 / 65535) + 0.5, 0, 255).astype(np.uint8)
    Image.fromarray(expected).save(tmp_path / "eight.png")
    np.testing.assert_array_equal(read_image(tmp_path / "deep.png", 20), read_image(tmp_path / "eight.png", 20))


def test_a_fifo_in_a_folder_is_named_not_skipped_in_silence(tmp_path, trained):
    from folders import make_class_folder

    from aecli.data import Reporter, load_dataset

    root = make_class_folder(tmp_path / "shapes")
    os.mkfifo(root / "circle" / "pipe.png")
    notes = []
    load_dataset("folder", root, reporter=Reporter(note=notes.append))
    assert any("not regular files: circle/pipe.png" in note for note in notes)
    digits = tmp_path / "digits"
    digits.mkdir()
    shutil.copy(next(root.rglob("*.png")), digits / "a.png")
    os.mkfifo(digits / "b.png")
    result = invoke("encode", "vae", "--checkpoint", trained["vae"], digits, "-o", tmp_path / "c.csv")
    assert result.exit_code == 0 and "b.png" in result.stderr and "not a regular file" in result.stderr


def test_a_split_column_with_one_value_names_that_as_the_fix(tmp_path):
    from folders import make_class_folder

    from aecli.data import load_dataset
    from aecli.errors import AecliError

    root = make_class_folder(tmp_path / "shapes")
    rows = (root / "attributes.csv").read_text().splitlines()
    files = [row.split(",")[0] for row in rows[1:]]
    (root / "attributes.csv").write_text("file,owner\n" + "".join(f"{f},same\n" for f in files))
    with pytest.raises(AecliError, match="--split-by owner puts every image on one side"):
        load_dataset("folder", root, split_by="owner")


def test_generate_and_traverse_stream_their_npy_a_batch_at_a_time(tmp_path, trained, monkeypatch):
    import numpy as np

    from aecli import api

    ckpt = api.load("cvae", trained["cvae"])
    in_memory = api.generate(ckpt, [3], 40, seed=1).images[0]  # drawn whole, as for a .png
    monkeypatch.setattr("aecli.inference.BATCH_VALUES", 28 * 28 * 16)  # 16 images a batch
    args = ("--checkpoint", trained["cvae"], "--seed", "1", "--class", "all", "-n", "40", "-o", tmp_path / "g.npy")
    assert invoke("generate", "cvae", *args).exit_code == 0
    streamed = np.load(tmp_path / "g.npy")
    assert streamed.shape == (400, 1, 28, 28)
    np.testing.assert_allclose(streamed[120:160], in_memory, atol=1e-6)  # class 3's row, the same latents
    out = tmp_path / "t.npy"
    result = invoke("traverse", "vae", "--checkpoint", trained["vae"], "--dims", "all", "--steps", "5", "-o", out)
    assert result.exit_code == 0 and np.load(out).shape == (20, 5, 1, 28, 28)
    whole = api.traverse(api.load("vae", trained["vae"]), dims="all", steps=5).images
    np.testing.assert_allclose(np.load(out), whole, atol=1e-6)


def test_a_traversal_of_named_dimensions_around_the_prior_reads_no_data(tmp_path, trained):
    import numpy as np

    out = tmp_path / "t.npy"
    args = ("--checkpoint", trained["vae"], "--prior", "--dims", "0,3", "--steps", "3", "-o", out)
    result = invoke("traverse", "vae", *args, "--data-dir", tmp_path / "nowhere")  # would be refused if read
    assert result.exit_code == 0, result.output
    assert np.load(out).shape == (2, 3, 1, 28, 28)


def test_a_checkpoint_cannot_make_aecli_read_a_folder_unlike_its_data(tmp_path):
    import numpy as np
    from PIL import Image

    from aecli.data import DataRecipe
    from aecli.train.loop import TrainSettings, train

    rng = np.random.default_rng(0)
    own = tmp_path / "own"
    own.mkdir()
    for i in range(12):
        Image.fromarray(rng.integers(0, 256, (16, 16), dtype=np.uint8)).save(own / f"{i}.png")
    run = train(
        TrainSettings("vae", DataRecipe("folder", str(own)), epochs=1, seed=0), device="cpu", out=tmp_path / "r"
    )
    config_file = run.checkpoint / "config.json"
    config = json.loads(config_file.read_text())
    assert config["training"]["data_images"] == 12
    elsewhere = tmp_path / "elsewhere"  # a big tree the recipe is pointed at, as `/` would be
    for i in range(1100):
        (elsewhere / str(i % 10)).mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (4, 4), dtype=np.uint8)).save(elsewhere / str(i % 10) / f"{i}.png")
    config["recipe"]["data_dir"] = str(elsewhere)
    config_file.write_text(json.dumps(config))
    result = invoke("reconstruct", "vae", "--checkpoint", run.run_dir, "-n", "2", "-o", tmp_path / "r.png")
    assert result.exit_code == 1 and "is not that data" in result.stderr and "--data-dir" in result.stderr
    assert len(list((tmp_path / "cache").rglob("images.npy"))) == 1  # the training folder's; nothing read there
