"""Device choice and seeding, the same code path on CUDA, MPS and CPU."""

import random

import numpy as np
import torch

from aecli.errors import UsageError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "bf16")


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


def bf16_is_native(device: torch.device) -> bool:
    """True where bfloat16 matrix math runs in hardware: CUDA GPUs that have it, CPUs with AVX-512 BF16 or AMX."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")  # private, so looked up with care
        return any(getattr(torch.cpu, name, lambda: False)() for name in probes)
    return False


def use_bf16(precision: str, device: torch.device) -> bool:
    """Whether training steps run under bfloat16 autocast (evaluation always stays in float32).

    "auto" uses it only where the hardware has it natively; emulated bf16 is slower than fp32.
    """
    if precision not in PRECISIONS:
        raise UsageError(f"unknown precision {precision!r}; choose one of: {', '.join(PRECISIONS)}")
    if precision == "bf16" and device.type not in ("cpu", "cuda"):
        raise UsageError(f"--precision bf16 is not supported on {device.type}; use --precision fp32 or auto")
    return precision == "bf16" or (precision == "auto" and bf16_is_native(device))


RESIDENT_SHARE = 4  # a dataset lives on a GPU when it takes at most a quarter of its free memory
MPS_RESIDENT_BYTES = 2**30  # where this torch cannot say how much memory MPS may use


def fits_on_device(nbytes: int, device: torch.device) -> bool:
    """Whether a training split of nbytes should live on the device for the whole run: always on the CPU,
    on a GPU when it leaves room for the model, its activations and the optimizer."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return nbytes * RESIDENT_SHARE <= free
    if device.type == "mps":
        limit = getattr(getattr(torch, "mps", None), "recommended_max_memory", None)
        return nbytes * RESIDENT_SHARE <= limit() if limit else nbytes <= MPS_RESIDENT_BYTES
    return True


def to_device(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """A host tensor onto the device without blocking the host: through pinned memory on CUDA."""
    if tensor.device.type == device.type:
        return tensor
    if device.type == "cuda":
        tensor = tensor.pin_memory()
    return tensor.to(device, non_blocking=True)


def preferred_memory_format(device: torch.device) -> torch.memory_format:
    """Channels-last convolutions run faster on the CPU and on CUDA; MPS prefers the default layout."""
    return torch.contiguous_format if device.type == "mps" else torch.channels_last
