"""Crafted files and unlucky moments: bounded resources, confined pointers, nothing lost."""

import gzip
import http.server
import io
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tarfile
import threading
import time
import zipfile

import numpy as np
import pytest
import torch
from helpers import install_run, invoke, make_mnist, write_idx
from PIL import Image

from aecli.errors import AecliError
from aecli.store.checkpoints import load_checkpoint


def copy_run(trained, tmp_path, model="vae"):
    target = tmp_path / f"{model}-copy"
    shutil.copytree(trained[model], target)
    return target


# resource exhaustion from small files


def test_a_compressed_trainer_state_is_refused_before_it_is_inflated(trained, tmp_path):
    run = copy_run(trained, tmp_path)
    ckpt = load_checkpoint(run)
    trainer = ckpt.path / "trainer.pt"
    repacked = tmp_path / "repacked.pt"
    with zipfile.ZipFile(trainer) as src, zipfile.ZipFile(repacked, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item.filename, src.read(item.filename))
        dst.writestr("archive/data/999", b"\0" * 50_000_000)  # 50 MB of zeros in ~50 kB
    shutil.copyfile(repacked, trainer)
    result = invoke("train", "vae", "--resume", "--out", run, "--epochs", "5")
    assert result.exit_code == 1 and "compressed members" in result.stderr


@pytest.mark.parametrize(
    "field, value, message",
    [("width", 2600, "width must lie in"), ("latent_dim", -3, "latent_dim must lie in"), ("hidden", [[[1]]], "number")],
)
def test_config_values_out_of_range_are_refused_before_allocating(trained, tmp_path, field, value, message):
    run = copy_run(trained, tmp_path)
    path = load_checkpoint(run).path / "config.json"
    config = json.loads(path.read_text())
    config["model_config"][field] = value
    path.write_text(json.dumps(config))
    result = invoke("sample", "vae", "--checkpoint", run, "-o", tmp_path / "s.png")
    assert result.exit_code == 1 and message in result.stderr and "malformed" in result.stderr


def test_a_deeply_nested_config_is_a_clear_error(trained, tmp_path):
    run = copy_run(trained, tmp_path)
    path = load_checkpoint(run).path / "config.json"
    path.write_text('{"format": 1, "model": "vae", "model_config": ' + "[" * 100_000 + "]" * 100_000 + "}")
    result = invoke("sample", "vae", "--checkpoint", run, "-o", tmp_path / "s.png")
    assert result.exit_code == 1 and "nested too deeply" in result.stderr


def test_an_idx_file_that_inflates_past_its_header_is_refused(tmp_path):
    folder = make_mnist(tmp_path / "mnist")
    header = struct.pack(">iiii", 2051, 64, 28, 28)
    with gzip.open(folder / "train-images-idx3-ubyte.gz", "wb") as handle:
        handle.write(header + b"\0" * (64 * 784))
        handle.write(b"\0" * 20_000_000)  # far more than the header promises
    result = invoke("train", "vae", "--data-dir", folder, "--epochs", "1")
    assert result.exit_code == 1 and "more data than its header promises" in result.stderr


@pytest.mark.parametrize(
    "shape, message", [((64, 30, 30), "30x30 images"), ((-5, 28, 28), "declares -5"), ((2_000_000, 28, 28), "declares")]
)
def test_idx_headers_with_impossible_dimensions(tmp_path, shape, message):
    folder = make_mnist(tmp_path / "mnist")
    with gzip.open(folder / "train-images-idx3-ubyte.gz", "wb") as handle:
        handle.write(struct.pack(">iiii", 2051, *shape) + b"\0" * 100)
    result = invoke("train", "vae", "--data-dir", folder, "--epochs", "1")
    assert result.exit_code == 1 and message in result.stderr


def test_labels_outside_the_classes(tmp_path):
    folder = make_mnist(tmp_path / "mnist")
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.full(64, 12))
    result = invoke("train", "vae", "--data-dir", folder, "--epochs", "1")
    assert result.exit_code == 1 and "label 12" in result.stderr


def test_an_attribute_file_that_never_ends_is_not_read(tmp_path):
    from lfw_fixtures import make_lfw_tree

    tree = make_lfw_tree(tmp_path / "lfw")
    (tree / "lfw_attributes.txt").unlink()
    (tree / "lfw_attributes.txt").symlink_to("/dev/zero")
    result = invoke("train", "ae", "--data-dir", tree, "--image-size", "16", "--epochs", "1")
    assert result.exit_code == 1 and "not a regular file" in result.stderr


def test_an_archive_that_expands_far_beyond_its_size_is_refused(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    with tarfile.open(folder / "lfw.tgz", "w:gz") as tar:
        info = tarfile.TarInfo("lfw/Ann_Alpha/Ann_Alpha_0001.jpg")
        info.size = 200_000_000
        tar.addfile(info, io.BytesIO(b"\0" * info.size))
    result = invoke("train", "ae", "--data-dir", folder, "--epochs", "1")
    assert result.exit_code == 1 and "would extract over" in result.stderr
    assert not list((tmp_path / "cache").rglob("Ann_Alpha_0001.jpg"))


def test_a_damaged_archive_is_one_line(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "lfw.tgz").write_bytes(gzip.compress(b"x" * 5000)[:-20])
    result = invoke("train", "ae", "--data-dir", folder, "--epochs", "1")
    assert result.exit_code == 1 and "damaged" in result.stderr and result.stderr.count("\n") == 1


def test_huge_images_and_fifos_are_refused_before_decoding(trained, tmp_path):
    big = tmp_path / "big.png"
    Image.new("L", (9000, 9000)).save(big)  # 81 megapixels, a small file
    result = invoke("reconstruct", "vae", "--checkpoint", trained["vae"], "--input", big, "-o", tmp_path / "r.png")
    assert result.exit_code == 1 and "too large (9000 x 9000)" in result.stderr
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    result = invoke("reconstruct", "vae", "--checkpoint", trained["vae"], "--input", fifo, "-o", tmp_path / "r.png")
    assert result.exit_code == 1 and "not a regular file" in result.stderr


def test_png_grids_are_capped_and_npy_is_streamed(trained, tmp_path):
    result = invoke("sample", "vae", "--checkpoint", trained["vae"], "-n", "100000", "-o", tmp_path / "s.png")
    assert result.exit_code == 2 and "write .npy" in result.stderr and not (tmp_path / "s.png").exists()
    result = invoke("sample", "vae", "--checkpoint", trained["vae"], "-n", "3000", "-o", tmp_path / "s.npy")
    assert result.exit_code == 0 and np.load(tmp_path / "s.npy", mmap_mode="r").shape == (3000, 1, 28, 28)


# confinement


def test_pointers_that_lead_outside_the_home_are_refused(trained, isolated_home, tmp_path):
    run = install_run("vae", trained["vae"])
    (run.parent / "latest").write_text("../../../../etc\n")
    result = invoke("sample", "vae", "-o", tmp_path / "s.png")
    assert result.exit_code == 1 and "leads outside" in result.stderr
    (run.parent / "latest").write_text(run.name + "\n")
    (run / "latest").write_text(str(tmp_path) + "\n")
    assert invoke("sample", "vae", "-o", tmp_path / "s.png").exit_code == 1


def test_a_moved_or_copied_home_keeps_working(trained, isolated_home, tmp_path, monkeypatch):
    install_run("vae", trained["vae"])
    moved = tmp_path / "moved-home"
    shutil.copytree(isolated_home / "home", moved)
    shutil.rmtree(isolated_home / "home")
    monkeypatch.setenv("AECLI_HOME", str(moved))
    result = invoke("sample", "vae", "-n", "4", "-o", tmp_path / "s.png")
    assert result.exit_code == 0 and "bundled" not in result.stderr


# data loss


def test_out_must_be_new_empty_or_a_run(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("precious")
    result = invoke("train", "vae", "--dataset", "digits", "--epochs", "1", "--out", mine)
    assert result.exit_code == 2 and "not empty" in result.stderr
    assert (mine / "thesis.tex").read_text() == "precious" and sorted(os.listdir(mine)) == ["thesis.tex"]
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert invoke("train", "vae", "--dataset", "digits", "--out", afile).exit_code == 2


def test_two_trainings_on_one_folder_do_not_both_run(tmp_path):
    from aecli.train.run_folder import RunFolder

    holder = RunFolder.create("vae", tmp_path / "run")
    try:
        result = invoke("train", "vae", "--dataset", "digits", "--epochs", "1", "--out", tmp_path / "run")
        assert result.exit_code == 1 and "another aecli train is using" in result.stderr
    finally:
        holder.__exit__(None, None, None)


def test_resume_never_falls_back_to_an_older_run(trained, isolated_home):
    from aecli.store.runs import new_run_dir, set_latest_run

    install_run("vae", trained["vae"])
    empty = new_run_dir("vae")  # a newer run killed before its first epoch
    set_latest_run("vae", empty)
    result = invoke("train", "vae", "--resume", "--epochs", "3")
    assert result.exit_code == 1 and "no complete epoch" in result.stderr


def test_a_tampered_trainer_state_is_refused_and_the_good_epoch_kept(trained, tmp_path):
    run = copy_run(trained, tmp_path)
    ckpt = load_checkpoint(run)
    state = torch.load(ckpt.path / "trainer.pt", weights_only=True)
    state["epochs_completed"] = -3
    torch.save(state, ckpt.path / "trainer.pt")
    result = invoke("train", "vae", "--resume", "--out", run, "--epochs", "3")
    assert result.exit_code == 1 and "cannot resume" in result.stderr
    assert ckpt.path.is_dir()
    state["epochs_completed"] = 1
    state["rng"] = torch.zeros(7, dtype=torch.uint8)
    torch.save(state, ckpt.path / "trainer.pt")
    result = invoke("train", "vae", "--resume", "--out", run, "--epochs", "3")
    assert result.exit_code == 1 and "random-number state" in result.stderr


def test_a_missing_run_pointer_still_finds_the_complete_epoch(trained, tmp_path):
    run = copy_run(trained, tmp_path)
    (run / "latest").unlink()
    assert load_checkpoint(run).training["epochs_completed"] == 1
    result = invoke("train", "vae", "--resume", "--out", run, "--epochs", "2")
    assert result.exit_code == 0, result.output


def test_interrupted_before_the_first_epoch_leaves_nothing_and_says_so(isolated_home):
    from aecli.data import DataRecipe
    from aecli.errors import TrainingInterrupted
    from aecli.train.loop import TrainSettings, train

    def stop_now(progress):
        os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(TrainingInterrupted, match="nothing was saved"):
        train(TrainSettings(model="vae", data=DataRecipe("digits"), epochs=2), device="cpu", on_progress=stop_now)
    runs = isolated_home / "home" / "runs" / "vae"
    assert not [p for p in runs.iterdir() if p.is_dir()] and not (runs / "latest").exists()


# errors that name a fix


def test_no_test_images_and_one_training_image(tmp_path):
    only = tmp_path / "one"
    only.mkdir()
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(only / "a.png")
    result = invoke("train", "vae", "--dataset", "folder", "--data-dir", only, "--epochs", "1")
    assert result.exit_code == 1 and "leaves no test images" in result.stderr


def test_seed_beyond_its_range_is_a_usage_error():
    result = invoke("train", "vae", "--dataset", "digits", "--seed", str(2**63))
    assert result.exit_code == 2 and "--seed" in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.parametrize("strength", ["nan", "inf", "-1e300"])
def test_strength_must_be_finite(strength, tmp_path):
    result = invoke("smile", "ae", "--strength", strength, "-o", tmp_path / "s.png")
    assert result.exit_code == 2 and "--strength" in result.stderr


def test_long_output_names(trained, tmp_path):
    too_long = tmp_path / ("x" * 296 + ".png")
    result = invoke("sample", "vae", "--checkpoint", trained["vae"], "-o", too_long)
    assert result.exit_code == 2 and "longer than 255 bytes" in result.stderr
    fits = tmp_path / ("y" * 241 + ".png")  # 245 bytes: the temporary name must fit too
    result = invoke("sample", "vae", "--checkpoint", trained["vae"], "-n", "4", "-o", fits)
    assert result.exit_code == 0, result.output
    assert fits.is_file()


def test_non_finite_and_duplicated_weights_are_refused(trained, tmp_path):
    from safetensors.torch import load_file, save_file

    run = copy_run(trained, tmp_path)
    weights = load_checkpoint(run).path / "model.safetensors"
    tensors = load_file(weights)
    name = sorted(tensors)[0]
    tensors[name] = torch.full_like(tensors[name], float("nan"))
    save_file(tensors, weights)
    result = invoke("sample", "vae", "--checkpoint", run, "-o", tmp_path / "s.png")
    assert result.exit_code == 1 and name in result.stderr and "NaN" in result.stderr
    raw = weights.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = raw[8 : 8 + length].decode()
    first_entry = header[1 : header.index("}") + 1]
    doubled = "{" + first_entry + "," + header[1:]
    weights.write_bytes(struct.pack("<Q", len(doubled)) + doubled.encode() + raw[8 + length :])
    with pytest.raises(AecliError, match="appears twice"):
        load_checkpoint(run)


def test_the_resume_command_is_quoted_for_the_shell(tmp_path):
    import shlex

    from aecli.train.loop import TrainSettings, resume_command

    folder = tmp_path / "it's here"
    words = shlex.split(resume_command(TrainSettings(epochs=3), folder))
    assert words[words.index("--out") + 1] == str(folder)


# leftovers


@pytest.mark.slow
def test_sigterm_during_a_long_sample_leaves_no_temporary_file(trained, tmp_path):
    command = [sys.executable, "-m", "aecli", "sample", "vae", "--checkpoint", str(trained["vae"])]
    command += ["-n", "100000", "-o", str(tmp_path / "big.npy")]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".big.npy.*")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode in (0, 130), err
    assert not list(tmp_path.glob(".big.npy.*"))


def test_a_single_training_image_is_a_clear_error(tmp_path):
    two = tmp_path / "two"
    (two / "a").mkdir(parents=True)
    (two / "b").mkdir()
    for name in ("a/x.png", "a/y.png", "b/z.png"):
        Image.fromarray(np.zeros((16, 16), np.uint8)).save(two / name)
    result = invoke("train", "ae", "--dataset", "folder", "--data-dir", two, "--limit", "1", "--epochs", "1")
    assert result.exit_code == 1 and "needs at least 2" in result.stderr, result.stderr


def test_json_output_never_holds_nan():
    from aecli.cli.app import _finite

    assert (
        json.dumps(_finite({"a": float("nan"), "b": [1.0, float("inf")]}), allow_nan=False)
        == '{"a": null, "b": [1.0, null]}'
    )


def _age(path, seconds):
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))


def test_an_abandoned_first_save_is_swept_at_the_next_start(isolated_home):
    import fcntl

    from aecli.store.runs import runs_dir
    from aecli.train.run_folder import RunFolder

    base = runs_dir("vae")
    abandoned, in_use, users = base / "20260101-000000", base / "20260101-000001", base / "20260101-000002"
    for run in (abandoned, in_use, users):
        (run / ".epoch-k1ll3d").mkdir(parents=True)
        (run / ".epoch-k1ll3d" / "model.safetensors").write_bytes(b"\0" * 1000)
    (users / "notes.txt").write_text("mine")
    for run in (abandoned, in_use, users):
        _age(run, 3600)
    held = os.open(in_use, os.O_RDONLY)
    fcntl.flock(held, fcntl.LOCK_EX)  # a run still training
    try:
        with RunFolder.create("vae", None) as folder:
            assert folder.path.is_dir()
    finally:
        os.close(held)
    assert not abandoned.exists()
    assert in_use.is_dir() and users.is_dir() and (users / "notes.txt").read_text() == "mine"


def test_stale_temporaries_of_an_output_are_swept_and_fresh_ones_kept(tmp_path):
    from aecli.fileio import write_text_atomic

    stale, fresh = tmp_path / ".big.npy.a1b2c3.tmp", tmp_path / ".big.npy.d4e5f6.tmp"
    for leftover in (stale, fresh):
        leftover.write_bytes(b"\0" * 4096)
    _age(stale, 3600)
    write_text_atomic(tmp_path / "big.npy", "x")
    assert not stale.exists() and fresh.exists()  # fresh: perhaps another process is writing it
    assert (tmp_path / "big.npy").read_text() == "x"


def _extract(archive, dest, start, results):
    from aecli.data.archive import extract_tar
    from aecli.errors import AecliError

    start.wait()
    try:
        extract_tar(archive, dest)
        results.put("ok")
    except AecliError as exc:
        results.put(str(exc))


def test_two_processes_extracting_one_archive_both_succeed(tmp_path):
    import multiprocessing

    archive = tmp_path / "photos.tgz"
    rng = np.random.default_rng(0)
    with tarfile.open(archive, "w:gz") as tar:
        for i in range(200):
            data = rng.integers(0, 256, 20_000, dtype=np.uint8).tobytes()
            member = tarfile.TarInfo(f"photos/p{i:03d}.bin")
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    dest = tmp_path / "out" / "photos"
    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(2), context.Queue()
    workers = [context.Process(target=_extract, args=(archive, dest, start, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(60)
    assert outcomes == ["ok", "ok"]
    assert len(list((dest / "photos").iterdir())) == 200
    assert not [p for p in dest.parent.iterdir() if p.name.startswith(".photos.") and p.is_dir()]


class _Trickling(http.server.BaseHTTPRequestHandler):
    """Promises 10 MB and sends a little at a time, so a download is still running when it is stopped."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(10_000_000))
        self.end_headers()
        try:
            for _ in range(600):
                self.wfile.write(b"\0" * 1000)
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass


@pytest.mark.slow
def test_sigterm_during_a_download_leaves_no_temporary_file(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Trickling)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = os.environ.copy()
    env["AECLI_MNIST_URL"] = f"http://127.0.0.1:{server.server_address[1]}/"
    cache = tmp_path / "cache"
    env["AECLI_DATA"] = str(cache)
    command = [sys.executable, "-m", "aecli", "train", "vae", "--dataset", "mnist", "--epochs", "1"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while not list(cache.rglob(".*.tmp")) and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        assert list(cache.rglob(".*.tmp")), "the download never started"
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        server.shutdown()
    assert process.returncode == 130 and err.strip().count("\n") == 0 and "interrupted" in err, err
    assert not [p for p in cache.rglob("*") if p.is_file()]  # no temporary, no half file


def test_building_a_cache_removes_only_stale_temporaries(isolated_home):
    from aecli.data.cache import prepared
    from aecli.paths import data_cache

    base = data_cache() / "folder"
    stale, live = base / ".prepared-k.dead", base / ".prepared-k.live"
    for leftover in (stale, live):
        leftover.mkdir(parents=True)
        (leftover / "images.npy").write_bytes(b"\0" * 4096)
    for item in (stale, stale / "images.npy"):
        _age(item, 3600)

    def build(tmp):
        np.save(tmp / "images.npy", np.zeros((2, 1, 4, 4), np.uint8))
        np.savez(tmp / "meta.npz", test=np.array([False, True]))

    images, meta = prepared("folder", "k", build)
    assert images.shape == (2, 1, 4, 4) and meta["test"].tolist() == [False, True]
    assert not stale.exists() and live.is_dir()  # another process may still be building that one
