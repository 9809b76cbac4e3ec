import pytest


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


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """A 1-epoch vae and cvae on digits, trained once for the whole session."""
    from aecli.data import DataRecipe
    from aecli.train.loop import TrainSettings, train

    root = tmp_path_factory.mktemp("trained")
    paths = {}
    for name in ("vae", "cvae"):
        result = train(
            TrainSettings(model=name, data=DataRecipe("digits"), epochs=1, seed=0), device="cpu", out=root / name
        )
        paths[name] = result.run_dir
    return paths


@pytest.fixture(scope="session")
def digits_judge_file(session_home):
    """The judge classifier for scikit-learn's digits, trained once for the whole session."""
    from aecli.data import load_dataset
    from aecli.evaluate.judge import load_judge
    from aecli.paths import data_cache

    load_judge(load_dataset("digits"))
    (path,) = (data_cache() / "classifiers").glob("digits-*.safetensors")
    return path


@pytest.fixture
def digits_judge(digits_judge_file, isolated_home):
    """This test's cache already holds the digits judge, so evaluating a digits model trains none."""
    import shutil

    target = isolated_home / "cache" / "classifiers"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(digits_judge_file, target / digits_judge_file.name)
    return target / digits_judge_file.name
