"""--dataset folder: the user's own images, read once, cached, and used by every command."""

import json
import os

import numpy as np
import pytest
import torch
from folders import CLASSES, PER_CLASS, SIDE, make_class_folder, odd_images
from helpers import invoke
from PIL import Image

from aecli.data import DataRecipe, load_dataset
from aecli.data.images import read_image
from aecli.errors import AecliError, UsageError


def folder(path, **options):
    return load_dataset(DataRecipe("folder", data_dir=str(path), **options))


def test_class_folders_attribute_table_and_a_split_per_class(tmp_path):
    data = folder(make_class_folder(tmp_path / "shapes"), image_size=16)
    assert data.spec.class_names == tuple(CLASSES) and data.spec.channels == 3 and data.spec.image_size == 16
    assert data.train.images.dtype == torch.uint8 and data.train.images.shape[1:] == (3, 16, 16)
    assert len(data.train) + len(data.test) == len(CLASSES) * PER_CLASS
    for c in range(len(CLASSES)):  # every class on both sides
        assert (data.test.labels == c).sum() == PER_CLASS // 5 and (data.train.labels == c).any()
    assert data.spec.attribute_names == ("brightness", "stripiness", "owner_number")
    assert not torch.isnan(data.train.attributes).any()
    red = data.train.images[data.train.labels == 0].float().mean((0, 2, 3))
    assert red[0] > red[1] + 20 and red[0] > red[2] + 20  # colour kept: the discs are red
    again = folder(tmp_path / "shapes", image_size=16)
    assert torch.equal(again.test.images, data.test.images)  # a fixed split


def test_split_by_a_table_column_keeps_each_value_on_one_side(tmp_path):
    data = folder(make_class_folder(tmp_path / "shapes"), split_by="owner")
    assert data.spec.image_size == SIDE  # the images' own side by default
    assert any("by owner" in note for note in data.notes)
    train_owners = set(data.train.attributes[:, 2].tolist())
    test_owners = set(data.test.attributes[:, 2].tolist())
    assert train_owners and test_owners and train_owners.isdisjoint(test_owners)
    with pytest.raises(UsageError, match="no such text column .*owner.*; --split-by class splits by its 3 subfolders"):
        folder(tmp_path / "shapes", split_by="colour")
    for table in (tmp_path / "shapes").glob("*.csv"):
        table.unlink()
    with pytest.raises(UsageError, match="no attribute table .*; --split-by class splits by its 3 subfolders"):
        folder(tmp_path / "shapes", split_by="owner")
    odd_images(tmp_path / "odd")  # five images, no subfolders
    with pytest.raises(UsageError, match="--split-by class: the images are not in two or more subfolders"):
        folder(tmp_path / "odd", split_by="class")


def test_odd_formats_are_converted_sensibly(tmp_path):
    files = odd_images(tmp_path / "odd")
    rgba = read_image(files["rgba"], SIDE)
    assert rgba.shape == (3, SIDE, SIDE) and (rgba[:, :, : SIDE // 2 - 1] == 255).all()  # transparent -> white
    assert read_image(files["grey"], SIDE).shape == (1, SIDE, SIDE)
    assert read_image(files["palette"], SIDE).shape == (3, SIDE, SIDE)
    sixteen = read_image(files["sixteen"], SIDE)
    assert (
        sixteen.shape == (1, SIDE, SIDE) and abs(int(sixteen.max()) - int(read_image(files["grey"], SIDE).max())) <= 1
    )
    assert read_image(files["tiff"], 12).shape == (3, 12, 12)
    data = folder(tmp_path / "odd", image_size=16)  # no classes (no subfolders): all of it, one split
    assert data.spec.class_names == () and data.spec.channels == 3 and len(data.train) + len(data.test) == 5
    grey = folder(tmp_path / "odd", image_size=16, grey=True)
    assert grey.spec.channels == 1


def test_a_grey_folder_keeps_one_channel(tmp_path):
    for i in range(6):
        Image.fromarray(np.full((20, 20), i * 40, np.uint8)).save(tmp_path / f"{i}.png")
    assert folder(tmp_path).train.images.shape[1:] == (1, 20, 20)


def test_corrupt_empty_and_imageless_folders_are_clear_errors(tmp_path):
    root = make_class_folder(tmp_path / "shapes")
    (root / "circle" / "circle_03.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(AecliError, match="circle_03.png"):
        folder(root)
    assert not list((tmp_path / "cache").rglob("prepared-*"))  # nothing half-prepared was kept
    (tmp_path / "empty").mkdir()
    with pytest.raises(AecliError, match="no PNG, JPEG"):
        folder(tmp_path / "empty")
    (tmp_path / "nested" / "a" / "b").mkdir(parents=True)
    (tmp_path / "nested" / "a" / "notes.txt").write_text("no images here")
    with pytest.raises(AecliError, match="subfolders hold none either"):
        folder(tmp_path / "nested")
    with pytest.raises(UsageError, match="needs --data-dir"):
        load_dataset(DataRecipe("folder"))


def test_the_cache_is_reused_until_a_file_changes(tmp_path, monkeypatch):
    from aecli.data import prepare

    root = make_class_folder(tmp_path / "shapes")
    first = folder(root, image_size=16)
    calls = []
    real = prepare.read_many
    monkeypatch.setattr(prepare, "read_many", lambda *a, **k: calls.append(1) or real(*a, **k))
    second = folder(root, image_size=16)
    assert calls == [] and torch.equal(first.train.images, second.train.images)
    target = root / "square" / "square_01.jpg"
    Image.fromarray(np.zeros((SIDE, SIDE, 3), np.uint8)).save(target)
    os.utime(target, ns=(1, 1))
    third = folder(root, image_size=16)
    every = [torch.cat([d.train.images, d.test.images]) for d in (first, third)]
    assert calls == [1] and not torch.equal(*every)


def test_a_damaged_cache_is_rebuilt_with_a_note(tmp_path):
    from aecli.data import Reporter

    root = make_class_folder(tmp_path / "shapes")
    expected = folder(root, image_size=16).train.images.clone()  # a copy: the cache file is memory-mapped
    (cached,) = (tmp_path / "cache" / "folder").glob("prepared-*")
    (cached / "images.npy").unlink()
    (cached / "images.npy").write_bytes(b"truncated")
    notes = []
    again = load_dataset(DataRecipe("folder", str(root), 16), reporter=Reporter(note=notes.append))
    assert any("damaged" in n for n in notes)
    assert torch.equal(again.train.images, expected)


def test_limit_takes_the_first_images_of_each_split(tmp_path):
    data = folder(make_class_folder(tmp_path / "shapes"), limit=4)
    assert len(data.train) == 4 and len(data.test) == 4


def test_options_a_dataset_does_not_use_are_usage_errors():
    with pytest.raises(UsageError, match="does not use --image-size, --grey; it takes: --data-dir, --limit"):
        load_dataset(DataRecipe("mnist", image_size=64, grey=True))
    result = invoke("train", "vae", "--image-size", "64", "--grey")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "--data-dir, --limit" in result.stderr
    result = invoke("train", "vae", "--dataset", "digits", "--crop", "0.5")
    assert result.exit_code == 2 and "does not use --crop" in result.stderr


def test_input_photos_are_read_exactly_like_training_images(tmp_path):
    from aecli.data.inputs import read_inputs

    root = make_class_folder(tmp_path / "shapes")
    data = folder(root, image_size=16, crop=0.8)
    index = int(torch.nonzero(data.test.labels == 1)[0])
    test_files = sorted((root / "square").iterdir())
    matches = [read_inputs([f], data.spec, data.recipe) for f in test_files]
    assert any(torch.equal(m[0], data.test.images[index]) for m in matches)


def test_a_dark_drawing_is_inverted_for_a_digit_model(tmp_path):
    from aecli.data import load_dataset as load
    from aecli.data.inputs import read_inputs

    digits = load("digits")
    drawing = np.full((40, 40), 255, np.uint8)
    drawing[8:32, 18:22] = 0  # a black "1" on white paper
    Image.fromarray(drawing).save(tmp_path / "one.png")
    notes = []
    pixels = read_inputs([tmp_path / "one.png"], digits.spec, digits.recipe, notes.append)
    assert pixels.shape == (1, 1, 28, 28) and pixels[0, 0, 0, 0] == 0 and pixels[0, 0, 14, 14] > 200
    assert notes and "inverted" in notes[0]


@pytest.fixture(scope="module")
def shapes_runs(tmp_path_factory):
    """A cvae and an ae trained for two epochs on a colour class folder with an attribute table."""
    root = tmp_path_factory.mktemp("shapes")
    data = make_class_folder(root / "data")
    runs = {}
    for model in ("cvae", "ae"):
        result = invoke(
            "train",
            model,
            "--dataset",
            "folder",
            "--data-dir",
            data,
            "--image-size",
            "16",
            "--epochs",
            "2",
            "--out",
            root / model,
            "--json",
        )
        assert result.exit_code == 0, result.output
        runs[model] = root / model
    return runs


def test_every_command_works_on_a_colour_class_folder(shapes_runs, tmp_path):
    cvae = ["--checkpoint", shapes_runs["cvae"]]
    ae = ["--checkpoint", shapes_runs["ae"]]
    one = invoke("generate", "cvae", *cvae, "--class", "Square", "-n", "4", "-o", tmp_path / "g.npy", "--json")
    assert one.exit_code == 0, one.output
    assert np.load(tmp_path / "g.npy").shape == (4, 3, 16, 16) and json.loads(one.stdout)["classes"] == ["square"]
    grid = invoke("generate", "cvae", *cvae, "--class", "all", "-n", "3", "-o", tmp_path / "all.png")
    assert grid.exit_code == 0 and Image.open(tmp_path / "all.png").mode == "RGB"
    wrong = invoke("generate", "cvae", *cvae, "--class", "triangle", "-o", tmp_path / "x.png")
    assert wrong.exit_code == 2 and "circle, square, stripes" in wrong.stderr
    digit = invoke("generate", "cvae", *cvae, "--digit", "1", "-o", tmp_path / "x.png")
    assert digit.exit_code == 2 and "--class" in digit.stderr
    for args, shape in (
        (["sample", "cvae", *cvae, "-n", "5", "-o", tmp_path / "s.npy"], (5, 3, 16, 16)),
        (["reconstruct", "ae", *ae, "-n", "6", "-o", tmp_path / "r.npy"], (6, 3, 16, 16)),
        (["interpolate", "ae", *ae, "-n", "4", "-o", tmp_path / "i.npy"], (4, 3, 16, 16)),
        (
            ["smile", "ae", *ae, "--attribute", "stripiness", "-n", "2", "--steps", "3", "-o", tmp_path / "m.npy"],
            (2, 3, 3, 16, 16),
        ),
    ):
        result = invoke(*args)
        assert result.exit_code == 0, result.output
        assert np.load(args[-1]).shape == shape
    tsne = invoke("tsne", "cvae", *cvae, "-n", "20", "-o", tmp_path / "t.csv", "--json")
    assert tsne.exit_code == 0, tsne.output
    evaluated = invoke("eval", "cvae", *cvae, "-k", "2", "--json")
    assert evaluated.exit_code == 0, evaluated.output
    assert set(json.loads(evaluated.stdout)["gan_test"]) == set(CLASSES)


def test_own_photos_go_through_the_same_path(shapes_runs, tmp_path):
    photo = tmp_path / "mine.jpg"
    Image.fromarray(np.full((50, 80, 3), 200, np.uint8)).save(photo)
    second = tmp_path / "also mine.png"
    Image.fromarray(np.full((30, 30), 20, np.uint8)).save(second)
    result = invoke(
        "reconstruct", "ae", "--checkpoint", shapes_runs["ae"], "--input", photo, second, "-o", tmp_path / "r.npy"
    )
    assert result.exit_code == 0, result.output
    assert np.load(tmp_path / "r.npy").shape == (2, 3, 16, 16)
    pattern = invoke(
        "reconstruct",
        "ae",
        "--checkpoint",
        shapes_runs["ae"],
        "--input",
        str(tmp_path / "*.jpg"),
        "-o",
        tmp_path / "p.npy",
    )
    assert pattern.exit_code == 0 and np.load(tmp_path / "p.npy").shape == (1, 3, 16, 16)
