import numpy as np
import pytest
import torch
from helpers import invoke, serving
from lfw_fixtures import PEOPLE, PER_PERSON, make_lfw_tgz, make_lfw_tree, make_malicious_tgz

from aecli.data import load_dataset
from aecli.data.splits import is_test_group
from aecli.data.tables import read_table
from aecli.errors import AecliError


def test_tree_with_attributes(tmp_path):
    data = load_dataset("lfw", make_lfw_tree(tmp_path / "lfw"), image_size=32, crop=1.0)
    assert data.train.images.shape[1:] == (3, 32, 32) and data.train.images.dtype == torch.uint8
    assert len(data.train) + len(data.test) == len(PEOPLE) * PER_PERSON
    assert data.spec.attribute_names == ("Male", "Smiling", "Eyeglasses")
    assert "matched for 31 of them" in data.notes[0]
    nan_rows = torch.isnan(torch.cat([data.train.attributes, data.test.attributes])[:, 0]).sum()
    assert nan_rows == 1  # the image without attributes is kept for training
    grey = load_dataset("lfw", tmp_path / "lfw", image_size=16, grey=True)
    assert grey.train.images.shape[1:] == (1, 16, 16)


def test_split_is_by_person_and_fixed():
    # fixed expected members: a change to the split (which would mix old test faces into training) fails here
    assert [p for p in PEOPLE if is_test_group(p)] == ["Cid_Gamma"]
    real = ["Aaron_Eckhart", "Colin_Powell", "George_W_Bush", "Hugo_Chavez", "Jean_Chretien", "Tony_Blair"]
    assert [p for p in real if is_test_group(p)] == ["Hugo_Chavez", "Jean_Chretien"]


def test_tgz_is_extracted_into_the_cache_and_the_prepared_tensor_reused(tmp_path, isolated_home):
    tree = make_lfw_tree(tmp_path / "tree")
    folder = tmp_path / "archive"
    folder.mkdir()
    make_lfw_tgz(tree, folder / "lfw-funneled.tgz")
    (folder / "lfw_attributes.txt").write_bytes((tree / "lfw_attributes.txt").read_bytes())
    first = load_dataset("lfw", folder, image_size=32)
    cache = isolated_home / "cache" / "lfw"
    assert len([p for p in cache.glob("prepared-*") if (p / "images.npy").is_file()]) == 1
    assert sorted(p.name for p in folder.iterdir()) == ["lfw-funneled.tgz", "lfw_attributes.txt"]  # untouched
    second = load_dataset("lfw", folder, image_size=32)
    assert torch.equal(first.train.images, second.train.images)


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink", "hardlink", "device"])
def test_malicious_archives_are_refused(tmp_path, kind):
    folder = tmp_path / "data"
    folder.mkdir()
    make_malicious_tgz(folder / "lfw.tgz", kind)
    with pytest.raises(AecliError, match="refused"):
        load_dataset("lfw", folder)
    assert not (tmp_path / "escaped.txt").exists()
    assert not list((tmp_path / "cache").rglob("images-*"))  # no prepared images were kept (none at all if no cache)


def test_attributes_with_missing_columns_name_the_file(tmp_path):
    tree = make_lfw_tree(tmp_path / "lfw")
    path = tree / "lfw_attributes.txt"
    lines = path.read_text().splitlines()
    lines[3] = "\t".join(lines[3].split("\t")[:-1])
    path.write_text("\n".join(lines))
    with pytest.raises(AecliError, match="lfw_attributes.txt line 4"):
        read_table(path, ["Ann_Alpha/Ann_Alpha_0001.jpg"])


def test_undecodable_jpeg_names_the_file(tmp_path):
    tree = make_lfw_tree(tmp_path / "lfw")
    broken = tree / "Bob_Beta" / "Bob_Beta_0002.jpg"
    good = broken.read_bytes()
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(AecliError, match="Bob_Beta_0002.jpg"):
        load_dataset("lfw", tree)
    assert not list((tmp_path / "cache" / "lfw").glob("prepared-*"))
    broken.write_bytes(good)  # the cause fixed, the same command just works
    assert len(load_dataset("lfw", tree).train) > 0


def test_download_path_from_a_local_server(tmp_path, monkeypatch):
    served = tmp_path / "served"
    tree = make_lfw_tree(tmp_path / "tree")
    served.mkdir()
    make_lfw_tgz(tree, served / "lfw.tgz")
    (served / "attrs.txt").write_bytes((tree / "lfw_attributes.txt").read_bytes())
    with serving(served) as base:
        monkeypatch.setenv("AECLI_LFW_URL", base + "lfw.tgz")
        monkeypatch.setenv("AECLI_LFW_ATTRIBUTES_URL", base + "attrs.txt")
        data = load_dataset("lfw", None, image_size=32)
        assert len(data.train) + len(data.test) == len(PEOPLE) * PER_PERSON
        assert len(data.spec.attribute_names) == 3


def test_lfw_mini_ships_offline():
    data = load_dataset("lfw-mini", None, image_size=32)
    assert data.train.images.shape == (80, 1, 32, 32) and len(data.test) == 20


@pytest.fixture(scope="module")
def face_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("faces")
    tree = make_lfw_tree(root / "lfw")
    result = invoke(
        "train",
        "ae",
        "--data-dir",
        tree,
        "--image-size",
        "32",
        "--crop",
        "1",
        "--epochs",
        "2",
        "--latent-dim",
        "8",
        "--out",
        root / "run",
        "--json",
    )
    assert result.exit_code == 0, result.output
    return root


def test_face_commands(face_run, tmp_path):
    ckpt = ["--checkpoint", face_run / "run", "--data-dir", face_run / "lfw"]
    assert invoke("reconstruct", "ae", *ckpt, "-n", "4", "-o", tmp_path / "r.npy").exit_code == 0
    assert np.load(tmp_path / "r.npy").shape == (4, 3, 32, 32)
    smile = invoke("smile", "ae", *ckpt, "-n", "3", "--steps", "4", "-o", tmp_path / "s.npy", "--json")
    assert smile.exit_code == 0, smile.output
    grid = np.load(tmp_path / "s.npy")
    assert grid.shape == (3, 4, 3, 32, 32) and grid.min() >= 0 and grid.max() <= 1
    assert not np.allclose(grid[:, 0], grid[:, -1])
    assert invoke("smile", "ae", *ckpt, "--attribute", "eyeglasses", "-o", tmp_path / "e.png").exit_code == 0
    unknown = invoke("smile", "ae", *ckpt, "--attribute", "Hat", "-o", tmp_path / "h.png")
    assert unknown.exit_code == 2 and "Smiling" in unknown.stderr
    fitted = invoke(
        "sample", "ae", "--checkpoint", face_run / "run", "-n", "6", "--seed", "0", "-o", tmp_path / "f.npy"
    )
    naive = invoke(
        "sample", "ae", "--checkpoint", face_run / "run", "-n", "6", "--seed", "0", "--naive", "-o", tmp_path / "n.npy"
    )
    assert fitted.exit_code == naive.exit_code == 0
    assert not np.allclose(np.load(tmp_path / "f.npy"), np.load(tmp_path / "n.npy"))
    tsne = invoke("tsne", "ae", *ckpt, "-o", tmp_path / "t.png")
    assert tsne.exit_code == 0, tsne.output
    metrics = invoke("eval", "ae", *ckpt, "--json")
    assert metrics.exit_code == 0 and '"psnr_db"' in metrics.stdout


def test_smile_without_attributes_is_a_clear_error(tmp_path):
    trained = invoke(
        "train", "ae", "--dataset", "lfw-mini", "--image-size", "32", "--epochs", "1", "--out", tmp_path / "r"
    )
    assert trained.exit_code == 0, trained.output
    result = invoke("smile", "ae", "--checkpoint", tmp_path / "r", "-o", tmp_path / "s.png")
    assert result.exit_code == 2 and "no attributes" in result.stderr
    assert not (tmp_path / "s.png").exists()
