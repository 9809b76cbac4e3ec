import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from aecli.cli import app


@pytest.fixture(scope="session", autouse=True)
def session_home(tmp_path_factory):
    """A model home and dataset cache for session-wide fixtures, set up before any of them, so
    that no test ever reads or writes the user's real ones."""
    root = tmp_path_factory.mktemp("session-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AECLI_HOME", str(root / "home"))
        patch.setenv("AECLI_DATA", str(root / "cache"))
        yield root


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Every test gets its own empty model home and dataset cache."""
    monkeypatch.setenv("AECLI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AECLI_DATA", str(tmp_path / "cache"))
    monkeypatch.delenv("AECLI_DEBUG", raising=False)
    return tmp_path


def install_run(model: str, run_dir: Path) -> Path:
    """A copy of a trained run inside the test's model home, made the model's newest."""
    import shutil

    from aecli.runs import runs_dir, set_latest_run

    target = runs_dir(model) / Path(run_dir).name
    shutil.copytree(run_dir, target)
    assert set_latest_run(model, target)
    return target


def invoke(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def write_idx(path: Path, array: np.ndarray) -> None:
    magic = 2051 if array.ndim == 3 else 2049
    header = struct.pack(f">i{array.ndim}i", magic, *array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


def make_mnist(folder: Path, n_train: int = 64, n_test: int = 32, seed: int = 0) -> Path:
    """Four small but real-format MNIST IDX .gz files."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n))
    return folder


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """A 1-epoch vae and cvae on digits, trained once for the whole session."""
    from aecli.data import DataRecipe
    from aecli.training import TrainSettings, train

    root = tmp_path_factory.mktemp("trained")
    paths = {}
    for name in ("vae", "cvae"):
        result = train(TrainSettings(model=name, data=DataRecipe("digits"), epochs=1), device="cpu", out=root / name)
        paths[name] = result.run_dir
    return paths
