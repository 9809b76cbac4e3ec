"""Hostile inputs on the data side: endless downloads, a data cache that cannot hold anything,
attribute tables far wider or longer than any dataset's, a cached judge of the wrong shape."""

import subprocess
import sys
import uuid

import pytest
from folders import make_class_folder
from helpers import QuietHandler, invoke, serving

from aecli.data import load_dataset
from aecli.data.sets import idx as idx_module
from aecli.errors import AecliError


class _Endless(QuietHandler):
    """Sends zeros for as long as the client reads, with no Content-Length."""

    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        try:
            while True:
                self.wfile.write(bytes(1 << 16))
        except OSError:
            pass


class _Boasting(QuietHandler):
    """Announces a file of a terabyte."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(2**40))
        self.end_headers()


@pytest.mark.parametrize("handler", [_Endless, _Boasting], ids=["endless", "announced too large"])
def test_a_download_stops_at_a_sane_size_and_keeps_nothing(tmp_path, monkeypatch, isolated_home, handler):
    monkeypatch.setattr(idx_module, "MAX_DOWNLOAD", 2**20)
    with serving(tmp_path, handler) as url:
        monkeypatch.setenv("AECLI_MNIST_URL", url)
        with pytest.raises(AecliError, match="larger than such a file can be"):
            load_dataset("mnist")
    cached = isolated_home / "cache" / "mnist"
    assert not cached.exists() or list(cached.iterdir()) == []


def test_dev_zero_as_a_mirror_is_refused(monkeypatch, isolated_home):
    monkeypatch.setattr(idx_module, "MAX_DOWNLOAD", 2**20)
    monkeypatch.setenv("AECLI_MNIST_URL", "file:///dev/zero#")
    with pytest.raises(AecliError, match="larger than such a file can be"):
        load_dataset("mnist")


@pytest.fixture
def images(tmp_path):
    return make_class_folder(tmp_path / "shapes")


def _train_on(images):
    return invoke("train", "vae", "--dataset", "folder", "--data-dir", images, "--epochs", "1")


def test_a_data_cache_that_is_a_file_is_named(tmp_path, monkeypatch, images):
    (tmp_path / "afile").write_text("x")
    monkeypatch.setenv("AECLI_DATA", str(tmp_path / "afile"))
    result = _train_on(images)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"Error: the data cache cannot hold {tmp_path}/afile/folder: {tmp_path}/afile is a file, not a folder; "
        "set AECLI_DATA to a folder"
    )


def test_a_file_where_a_cache_folder_belongs_is_named(tmp_path, monkeypatch, images):
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "folder").write_text("x")
    result = _train_on(images)
    assert result.exit_code == 1
    assert "cache/folder is a file, not a folder; remove it or set AECLI_DATA" in result.stderr


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KiB tmpfs, remounted read-only on demand."""
    mount_point = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    mount_point.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_point)]).returncode != 0:
        pytest.skip("this machine does not allow mounting a tmpfs")
    yield mount_point
    subprocess.run(["umount", str(mount_point)], check=True)


def test_a_full_or_read_only_data_cache_names_aecli_data(tmp_path, monkeypatch, small_disk):
    import numpy as np
    from PIL import Image

    big = tmp_path / "big"  # 300 colour 32x32 images: 900 KiB prepared, more than the disk holds
    big.mkdir()
    rng = np.random.default_rng(0)
    for i in range(300):
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(big / f"{i}.png")
    monkeypatch.setenv("AECLI_DATA", str(small_disk))
    full = _train_on(big)
    assert full.exit_code == 1, full.output
    assert f"Error: the data cache {small_disk} is on a full disk; free some space" in full.stderr
    assert not list(small_disk.rglob("*.npy"))  # nothing half-written left behind
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    read_only = _train_on(big)
    assert read_only.exit_code == 1
    assert "(Read-only file system); set AECLI_DATA to a writable folder" in read_only.stderr


def test_an_attribute_table_wider_than_any_dataset_is_refused(images):
    from aecli.data.tables import MAX_COLUMNS

    header = "file," + ",".join(f"a{i}" for i in range(MAX_COLUMNS + 1))
    (images / "attributes.csv").write_text(header + "\ncircle/circle_00.png" + ",1" * (MAX_COLUMNS + 1) + "\n")
    with pytest.raises(AecliError, match=f"has {MAX_COLUMNS + 2:,} columns; aecli reads at most"):
        load_dataset("folder", images)


def test_an_attribute_table_longer_than_any_dataset_is_refused(images, monkeypatch):
    monkeypatch.setattr("aecli.data.tables.MAX_ROWS", 100)
    rows = (images / "attributes.csv").read_text()
    (images / "attributes.csv").write_text(rows + "".join(f"nobody_{i}.png,1,1,x,1\n" for i in range(200)))
    with pytest.raises(AecliError, match="more than 100 lines; keep the rows of your images"):
        load_dataset("folder", images)


def test_rows_of_other_files_are_skipped_and_the_last_row_of_a_file_wins(images):
    lines = (images / "attributes.csv").read_text().splitlines()
    lines.insert(1, "ghost.png,9,9,nobody,9")
    lines.append("circle/circle_00.png,0.5,0.25,late,7")  # a later row for the same image
    (images / "attributes.csv").write_text("\n".join(lines) + "\n")
    data = load_dataset("folder", images)
    assert data.spec.attribute_names == ("brightness", "stripiness", "owner_number")
    everything = [*data.train.attributes.tolist(), *data.test.attributes.tolist()]
    assert [0.5, 0.25, 7.0] in everything and not any(row[2] == 9 for row in everything)


def test_a_huge_partition_file_keeps_only_the_images_rows(tmp_path, monkeypatch):
    from test_named_sets import make_celeba

    from aecli.data.sets.celeba import read_partition

    root = make_celeba(tmp_path / "celeba")
    with open(root / "list_eval_partition.txt", "a") as handle:
        handle.writelines(f"{i:09d}.jpg 0\n" for i in range(50_000))
    assert read_partition(root / "list_eval_partition.txt", {"000001.jpg", "000012.jpg"}) == {
        "000001.jpg": 0,
        "000012.jpg": 2,
    }
    monkeypatch.setattr("aecli.data.tables.MAX_ROWS", 1000)
    with pytest.raises(AecliError, match="more than 1,000 lines"):
        read_partition(root / "list_eval_partition.txt", {"000001.jpg"})


def test_a_cached_judge_of_the_wrong_shape_is_not_used(tmp_path):
    import torch
    from safetensors.torch import save_file

    from aecli.evaluate.judge import CAS_REFERENCE, FEATURE_COV, FEATURE_MEAN, _load, build_classifier

    model = build_classifier(1, 28, 10)
    tensors = {k: v.contiguous() for k, v in model.state_dict().items()}
    tensors.update({FEATURE_MEAN: torch.zeros(128), FEATURE_COV: torch.eye(64), CAS_REFERENCE: torch.tensor(0.9)})
    save_file(tensors, tmp_path / "judge.safetensors")
    with pytest.raises(RuntimeError, match="wrong shape"):  # load_judge trains a new one on this error
        _load(tmp_path / "judge.safetensors", build_classifier(1, 28, 10))


def test_a_held_extraction_lock_is_waited_for_with_a_message_and_a_limit(tmp_path, monkeypatch):
    import tarfile

    from aecli.data.archive import extract_tar

    archive = tmp_path / "photos.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(__file__, arcname="photos/a.txt")
    dest = tmp_path / "out" / "photos"
    dest.parent.mkdir()
    hold = "import fcntl, sys, time; f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_EX); print(1, flush=True); "
    hold += "time.sleep(60)"  # another aecli, stopped with Ctrl-Z while it held the lock
    holder = subprocess.Popen([sys.executable, "-c", hold, str(dest.parent / ".photos.lock")], stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"1"
        monkeypatch.setattr("aecli.fileio.LOCK_WAIT_SECONDS", 1)
        notes = []
        with pytest.raises(AecliError, match="another aecli has been extracting photos.tgz for over 1 s"):
            extract_tar(archive, dest, notes.append)
        assert notes == [
            f"Waiting for another aecli that is extracting photos.tgz (it holds {dest.parent}/.photos.lock)"
        ]
        assert not dest.exists()
    finally:
        holder.kill()
        holder.wait()
    assert extract_tar(archive, dest) == dest and (dest / "photos" / "a.txt").is_file()


def test_an_image_declaring_400_megapixels_is_named_before_pil_refuses_it(tmp_path):
    from helpers import declared_png

    from aecli.data import DataRecipe
    from aecli.train.loop import TrainSettings, train

    huge = declared_png(tmp_path / "huge.png", 20_000)  # 390 bytes; PIL alone raises DecompressionBombError
    faces = train(
        TrainSettings("ae", DataRecipe("lfw-mini", limit=32), epochs=1, seed=0), device="cpu", out=tmp_path / "r"
    )
    result = invoke("reconstruct", "ae", "--checkpoint", faces.run_dir, "--input", huge, "-o", tmp_path / "r.png")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"Error: image {huge} is too large (20000 x 20000); the limit is 64,000,000 pixels: shrink it or leave it out"
    )
    folder = make_class_folder(tmp_path / "shapes")
    declared_png(folder / "circle" / "0huge.png", 20_000)  # the first file, probed for the folder's common size
    trained_on_folder = _train_on(folder)
    assert trained_on_folder.exit_code == 1 and "0huge.png is too large (20000 x 20000)" in trained_on_folder.stderr


def test_names_that_are_not_utf8_are_read_and_written_as_ls_shows_them(tmp_path):
    import csv
    import os

    from aecli.data import DataRecipe
    from aecli.train.loop import TrainSettings, train

    folder = make_class_folder(tmp_path / "shapes")
    os.rename(folder / "circle", os.fsdecode(bytes(folder / "circle").replace(b"circle", b"caf\xe9")))
    run = train(
        TrainSettings("cvae", DataRecipe("folder", str(folder)), epochs=1, seed=0), device="cpu", out=tmp_path / "r"
    )
    encoded = invoke("encode", "cvae", "--checkpoint", run.run_dir, folder, "-o", tmp_path / "codes.csv")
    assert encoded.exit_code == 0, encoded.output
    rows = list(csv.DictReader(open(tmp_path / "codes.csv", encoding="utf-8")))
    assert {row["class"] for row in rows} == {"caf\\xe9", "square", "stripes"}
    assert any(row["path"].startswith("caf\\xe9/circle_") for row in rows)
    shown = invoke("tsne", "cvae", "--checkpoint", run.run_dir, "-o", tmp_path / "t.csv")
    assert shown.exit_code == 0, shown.output
    assert "caf\\xe9" in (tmp_path / "t.csv").read_text(encoding="utf-8")


def test_a_fifth_of_each_class_is_the_nearest_whole_number():
    from aecli.data.splits import test_mask

    keys = [f"{c}/{i}.png" for c, n in (("a", 2), ("b", 10), ("c", 1)) for i in range(n)]
    classes = [ord(k[0]) for k in keys]
    mask = test_mask(keys, classes)
    per_class = {c: int(sum(m for m, k in zip(mask, keys, strict=True) if k[0] == c)) for c in "abc"}
    assert per_class == {"a": 0, "b": 2, "c": 0}  # 1 of 2 would be half, not a fifth
    assert test_mask(["x.png", "y.png"], [0, 0]).sum() == 1  # but where nothing else is, one image is tested


@pytest.fixture
def class_run(tmp_path, images):
    from aecli.data import DataRecipe
    from aecli.train.loop import TrainSettings, train

    settings = TrainSettings("cvae", DataRecipe("folder", str(images)), epochs=1, seed=0)
    return train(settings, device="cpu", out=tmp_path / "run").run_dir


def test_resuming_after_a_class_folder_was_added_is_refused(class_run, images):
    import shutil

    shutil.copytree(images / "circle", images / "triangle")
    resumed = invoke("train", "cvae", "--resume", "--out", class_run, "--epochs", "2")
    assert resumed.exit_code == 1
    assert "has classes the model does not know (triangle); restore the data as it was" in resumed.stderr
    shown = invoke("reconstruct", "cvae", "--checkpoint", class_run, "-o", class_run.parent / "r.png")
    assert shown.exit_code == 1 and "point --data-dir at the data the model was trained on" in shown.stderr
    assert [p.name for p in class_run.glob("epoch-*")] == ["epoch-0001"]


def test_grey_images_for_a_colour_model_are_refused(tmp_path, class_run):
    import numpy as np
    from PIL import Image

    grey = tmp_path / "grey"
    for kind in ("circle", "square", "stripes"):
        (grey / kind).mkdir(parents=True)
        for i in range(5):
            Image.fromarray(np.full((24, 24), 40 * i, np.uint8)).save(grey / kind / f"{i}.png")
    result = invoke("eval", "cvae", "--checkpoint", class_run, "--data-dir", grey)
    assert result.exit_code == 1
    assert f"folder in {grey} has grey images but the model was trained on colour ones" in result.stderr


def test_a_cache_whose_labels_were_edited_is_read_again(tmp_path, class_run):
    import numpy as np

    (meta,) = (tmp_path / "cache" / "folder").glob("prepared-*/meta.npz")
    arrays = dict(np.load(meta))
    arrays["labels"][:] = 7  # a class the data never had
    np.savez(meta, **arrays)
    result = invoke("reconstruct", "cvae", "--checkpoint", class_run, "-o", tmp_path / "r.png")
    assert result.exit_code == 0, result.output
    assert "is damaged (ValueError); reading the images again" in result.stderr
    (meta,) = (tmp_path / "cache" / "folder").glob("prepared-*/meta.npz")
    assert np.load(meta)["labels"].max() == 2


def test_pictures_of_too_few_test_images_say_so_and_an_unlabelled_folder_needs_no_attribute(tmp_path):
    import numpy as np
    from PIL import Image

    from aecli.data import DataRecipe
    from aecli.train.loop import TrainSettings, train

    runs = {}
    for count in (6, 30):  # a fifth: 1 test image, then 6
        flat = tmp_path / f"flat{count}"
        flat.mkdir()
        for i in range(count):
            Image.fromarray(np.random.default_rng(i).integers(0, 255, (16, 16), np.uint8)).save(flat / f"{i}.png")
        settings = TrainSettings("vae", DataRecipe("folder", str(flat)), epochs=1, seed=0)
        runs[count] = train(settings, device="cpu", out=tmp_path / f"run{count}").run_dir
    between = invoke("interpolate", "vae", "--checkpoint", runs[6], "-o", tmp_path / "i.png")
    assert between.exit_code == 1 and "needs two test images; the test split has 1: add images" in between.stderr
    laid_out = invoke("tsne", "vae", "--checkpoint", runs[6], "-o", tmp_path / "t.png")
    assert laid_out.exit_code == 1 and "needs at least 2 test images" in laid_out.stderr
    assert "unexpected" not in laid_out.stderr
    laid_out = invoke("tsne", "vae", "--checkpoint", runs[30], "-o", tmp_path / "t.csv")
    assert laid_out.exit_code == 0, laid_out.output
    assert "attribute" not in laid_out.stderr and "Perplexity" not in laid_out.output
    assert len((tmp_path / "t.csv").read_text().splitlines()) == 1 + 6
