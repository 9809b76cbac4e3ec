"""Device choice and seeding, the same code path on CUDA, MPS and CPU."""

import random

import numpy as np
import torch

from aecli.errors import UsageError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def resolve_device(name: str = "auto") -> torch.device:
    """CUDA, then Apple MPS, then CPU for "auto"; a named device must exist."""
    if name not in DEVICE_CHOICES:
        raise UsageError(f"unknown device {name!r}; choose one of: {', '.join(DEVICE_CHOICES)}")
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    available = {"cpu": True, "cuda": torch.cuda.is_available(), "mps": _mps_available()}
    if not available[name]:
        raise UsageError(f"device {name!r} is not available here; use --device auto or --device cpu")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    """Seed every generator aecli draws from, so a CPU run repeats exactly."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
