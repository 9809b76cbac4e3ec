"""fashion-mnist, kmnist and celeba on the same paths as mnist and the folders: real formats, small files."""

import dataclasses
import hashlib
import json

import numpy as np
import pytest
import torch
from helpers import invoke, make_mnist, serving
from PIL import Image

from aecli.data import DataRecipe, load_dataset
from aecli.data.sets import idx
from aecli.errors import AecliError, UsageError


def test_fashion_mnist_from_a_folder_carries_its_class_names(tmp_path):
    data = load_dataset(DataRecipe("fashion-mnist", data_dir=str(make_mnist(tmp_path / "fashion"))))
    assert data.spec.class_names[7] == "Sneaker" and not data.spec.digit_classes
    assert data.train.images.shape[1:] == (1, 28, 28) and not data.spec.digit_classes


def test_kmnist_downloads_from_a_local_server_and_checks_md5(tmp_path, monkeypatch):
    served = make_mnist(tmp_path / "served")
    digests = {
        name: ("md5", hashlib.md5((served / name).read_bytes()).hexdigest()) for name in idx.SETS["kmnist"].files
    }
    monkeypatch.setitem(idx.SETS, "kmnist", dataclasses.replace(idx.SETS["kmnist"], files=digests))
    with serving(served) as url:
        monkeypatch.setenv("AECLI_KMNIST_URL", url)
        data = load_dataset(DataRecipe("kmnist"))
        assert data.spec.class_names[:3] == ("o", "ki", "su") and len(data.train) == 64
        wrong = {name: ("md5", "0" * 32) for name in digests}
        monkeypatch.setitem(idx.SETS, "kmnist", dataclasses.replace(idx.SETS["kmnist"], files=wrong))
        (tmp_path / "cache" / "kmnist" / "train-images-idx3-ubyte.gz").unlink()
        with pytest.raises(AecliError, match="known checksum"):
            load_dataset(DataRecipe("kmnist"))
    assert not (tmp_path / "cache" / "kmnist" / "train-images-idx3-ubyte.gz").exists()


def test_a_cvae_on_fashion_mnist_generates_by_class_name(tmp_path):
    folder = make_mnist(tmp_path / "fashion", n_train=128)
    trained = invoke(
        "train", "cvae", "--dataset", "fashion-mnist", "--data-dir", folder, "--epochs", "1", "--out", tmp_path / "r"
    )
    assert trained.exit_code == 0, trained.output
    result = invoke(
        "generate",
        "cvae",
        "--checkpoint",
        tmp_path / "r",
        "--class",
        "sneaker",
        "-n",
        "3",
        "-o",
        tmp_path / "s.npy",
        "--json",
    )
    assert result.exit_code == 0 and json.loads(result.stdout)["classes"] == ["Sneaker"]
    assert np.load(tmp_path / "s.npy").shape == (3, 1, 28, 28)


def make_celeba(root, count: int = 12):
    """img_align_celeba/NNNNNN.jpg (178x218 colour), list_attr_celeba.txt, list_eval_partition.txt."""
    rng = np.random.default_rng(0)
    (root / "img_align_celeba").mkdir(parents=True)
    names = ["5_o_Clock_Shadow", "Smiling", "Young"]
    attrs, parts = [str(count), " ".join(names)], []
    for i in range(1, count + 1):
        name = f"{i:06d}.jpg"
        Image.fromarray(rng.integers(0, 256, (218, 178, 3), dtype=np.uint8)).save(root / "img_align_celeba" / name)
        attrs.append(name + "  " + " ".join(str(v) for v in rng.choice([-1, 1], len(names))))
        parts.append(f"{name} {0 if i <= 8 else 1 if i <= 10 else 2}")
    (root / "list_attr_celeba.txt").write_text("\n".join(attrs) + "\n")
    (root / "list_eval_partition.txt").write_text("\n".join(parts) + "\n")
    return root


def test_celeba_reads_its_official_split_and_40_attribute_layout(tmp_path):
    data = load_dataset(DataRecipe("celeba", data_dir=str(make_celeba(tmp_path / "celeba")), image_size=32))
    assert len(data.train) == 8 and len(data.test) == 2  # validation left out
    assert data.spec.channels == 3 and data.spec.attribute_names == ("5_o_Clock_Shadow", "Smiling", "Young")
    assert set(torch.unique(data.train.attributes).tolist()) <= {-1.0, 1.0}
    with pytest.raises(UsageError, match="img_align_celeba"):
        load_dataset(DataRecipe("celeba"))
    with pytest.raises(AecliError, match="lacks list_eval_partition.txt"):
        (tmp_path / "celeba" / "list_eval_partition.txt").unlink()
        load_dataset(DataRecipe("celeba", data_dir=str(tmp_path / "celeba")))
