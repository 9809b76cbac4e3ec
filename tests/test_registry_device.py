import pytest
import torch

from aecli.data import DATASETS
from aecli.device import resolve_device, seed_everything
from aecli.errors import UsageError
from aecli.models import MODELS
from aecli.registry import Registry


def test_registry_registers_and_lists_valid_names():
    registry = Registry("thing")
    registry.register("b")(1)
    registry.register("a")(2)
    assert registry.get("a") == 2
    assert registry.names() == ["a", "b"]
    with pytest.raises(UsageError, match="choose one of: a, b"):
        registry.get("c")
    with pytest.raises(ValueError, match="twice"):
        registry.register("a")(3)


def test_builtin_registries():
    assert {"ae", "vae", "cvae"} <= set(MODELS.names())  # the three the tool is about
    for name in MODELS.names():  # each registered under the name it answers to
        assert MODELS.get(name).name == name
    assert {"mnist", "digits"} <= set(DATASETS.names())


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in {"cpu", "cuda", "mps"}
    with pytest.raises(UsageError, match="choose one of"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(UsageError, match="not available"):
            resolve_device("cuda")


def test_seed_everything_repeats_draws():
    seed_everything(3)
    first = torch.rand(5)
    seed_everything(3)
    assert torch.equal(first, torch.rand(5))
