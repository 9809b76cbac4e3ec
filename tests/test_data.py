import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import QuietHandler, make_mnist, serving

from aecli.data import load_dataset
from aecli.data.sets import idx as idx_module
from aecli.errors import AecliError


def test_mnist_from_folder_directly_and_under_raw(tmp_path):
    flat = make_mnist(tmp_path / "flat")
    nested = make_mnist(tmp_path / "nested" / "MNIST" / "raw")
    for folder in (flat, tmp_path / "nested"):
        data = load_dataset("mnist", folder)
        assert data.train.images.shape == (64, 1, 28, 28) and data.train.images.dtype == torch.uint8
        assert data.test.labels.shape == (32,) and data.test.labels.dtype == torch.int64
        assert data.spec.num_classes == 10
    assert nested.is_dir()


def test_mnist_values_round_trip_exactly(tmp_path):
    folder = make_mnist(tmp_path, seed=5)
    rng = np.random.default_rng(5)
    expected = rng.integers(0, 256, (64, 28, 28)).astype(np.uint8)
    assert np.array_equal(load_dataset("mnist", folder).train.images[:, 0].numpy(), expected)


def test_mnist_missing_files_names_the_fix(tmp_path):
    with pytest.raises(AecliError, match="--dataset digits"):
        load_dataset("mnist", tmp_path)


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda p: p.write_bytes(b"not gzip at all"), "not a readable .gz"),
        (lambda p: p.write_bytes(gzip.compress(struct.pack(">4i", 1234, 1, 1, 1) + b"\0")), "magic"),
        (lambda p: p.write_bytes(gzip.compress(gzip.decompress(p.read_bytes())[:-10])), "header promises"),
    ],
)
def test_corrupt_idx_names_the_file(tmp_path, damage, message):
    folder = make_mnist(tmp_path)
    target = folder / "train-images-idx3-ubyte.gz"
    damage(target)
    with pytest.raises(AecliError, match=message) as info:
        load_dataset("mnist", folder)
    assert "train-images" in str(info.value)


def test_digits_are_28x28_with_a_fixed_split():
    first, second = load_dataset("digits"), load_dataset("digits")
    assert first.train.images.shape[1:] == (1, 28, 28)
    assert len(first.train) + len(first.test) == 1797
    assert torch.equal(first.test.labels, second.test.labels)
    assert first.train.images.max() > 200 and first.train.images[:, :, :4].max() == 0  # digit centred, margin blank


MNIST_FILES = list(idx_module.SETS["mnist"].files)


def use_digests(monkeypatch, files: dict) -> None:
    """Make the mnist adapter expect these digests (of the files a test serves)."""
    import dataclasses

    monkeypatch.setitem(idx_module.SETS, "mnist", dataclasses.replace(idx_module.SETS["mnist"], files=files))


@pytest.fixture
def http_folder(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    with serving(served) as url:
        yield served, url


def _hashes(folder):
    return {name: ("sha256", hashlib.sha256((folder / name).read_bytes()).hexdigest()) for name in MNIST_FILES}


def test_mnist_downloads_into_the_cache_and_reuses_it(http_folder, monkeypatch, isolated_home):
    served, url = http_folder
    make_mnist(served)
    use_digests(monkeypatch, _hashes(served))
    monkeypatch.setenv("AECLI_MNIST_URL", url)
    data = load_dataset("mnist")
    assert len(data.train) == 64
    cached = isolated_home / "cache" / "mnist"
    assert sorted(p.name for p in cached.iterdir()) == sorted(MNIST_FILES)
    for item in served.iterdir():
        item.unlink()  # the server now has nothing: the cache must be enough
    assert len(load_dataset("mnist").test) == 32


def test_download_with_wrong_checksum_leaves_no_file(http_folder, monkeypatch, isolated_home):
    served, url = http_folder
    make_mnist(served)
    use_digests(monkeypatch, dict.fromkeys(MNIST_FILES, ("sha256", "0" * 64)))
    monkeypatch.setenv("AECLI_MNIST_URL", url)
    with pytest.raises(AecliError, match="known checksum"):
        load_dataset("mnist")
    cached = isolated_home / "cache" / "mnist"
    assert not cached.exists() or list(cached.iterdir()) == []


def test_offline_mnist_error_names_the_fix(monkeypatch):
    monkeypatch.setenv("AECLI_MNIST_URL", "http://127.0.0.1:9/")
    with pytest.raises(AecliError, match="--data-dir") as info:
        load_dataset("mnist")
    assert "--dataset digits" in str(info.value)


class _Truncating(QuietHandler):
    """Promises the whole file, sends a tenth of it, and hangs up."""

    def do_GET(self):
        body = (Path(self.directory) / self.path.lstrip("/")).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 10])
        self.wfile.flush()
        self.close_connection = True


def test_interrupted_download_leaves_no_file_and_a_rerun_works(tmp_path, monkeypatch, isolated_home):
    served = make_mnist(tmp_path / "served")
    use_digests(monkeypatch, _hashes(served))
    with serving(served, _Truncating) as url:
        monkeypatch.setenv("AECLI_MNIST_URL", url)
        with pytest.raises(AecliError, match="cannot download|stopped after"):
            load_dataset("mnist")
    cached = isolated_home / "cache" / "mnist"
    assert not cached.exists() or list(cached.iterdir()) == []  # no half file, no temporary
    with serving(served) as url:  # the network is back
        monkeypatch.setenv("AECLI_MNIST_URL", url)
        assert len(load_dataset("mnist").train) == 64
