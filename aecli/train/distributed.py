"""Data-parallel training under torchrun: one process per device, rank 0 the only writer.

`torchrun --nproc-per-node N -m aecli train ...` sets RANK, WORLD_SIZE and LOCAL_RANK. Without
them (a plain `aecli train`) nothing here imports torch.distributed and training runs as always.
"""

import os
import sys
from dataclasses import dataclass
from datetime import timedelta

import torch
from torch import nn

from aecli.errors import AecliError

TIMEOUT = timedelta(minutes=30)  # rank 0 scores and saves each epoch while the others wait
joined = False  # set once this process has joined a torchrun job's process group


@dataclass(frozen=True)
class Group:
    rank: int = 0
    world: int = 1

    @property
    def writer(self) -> bool:
        """Only rank 0 writes checkpoints, metrics and pointers, and only it prints."""
        return self.rank == 0

    @property
    def parallel(self) -> bool:
        return self.world > 1


SINGLE = Group()


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def current() -> Group:
    """This process's place in the job, read from torchrun's variables (no torch.distributed import)."""
    if not launched_by_torchrun():
        return SINGLE
    return Group(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]))


def join(device: torch.device) -> tuple[Group, torch.device]:
    """Join the job: NCCL with one GPU per process on CUDA, gloo on the CPU (with the cores shared out)."""
    import torch.distributed as dist

    group = current()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    elif device.type == "cpu":  # N processes on one machine: each its share of the cores, not all of them
        per_node = int(os.environ.get("LOCAL_WORLD_SIZE", str(group.world)))
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // per_node))
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", timeout=TIMEOUT)
    global joined
    joined = True
    return group, device


def exit_worker(code: int | str | None) -> None:
    """End a torchrun worker without the interpreter's shutdown, once everything is written and flushed.

    DDP keeps the process group, and gloo's worker threads with it, alive past destroy_process_group.
    A worker thread releasing a finished collective's tensor while Python finalizes aborts the process
    ("terminate called without an active exception"), and torchrun then fails the job
    (docs/decisions.md has how often).
    """
    if isinstance(code, str):  # sys.exit("message"): Python would have printed it
        print(code, file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code if isinstance(code, int) else 0 if code is None else 1)


def leave() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def broadcast(value, group: Group):
    """Rank 0's value (any picklable object) on every rank."""
    if not group.parallel:
        return value
    import torch.distributed as dist

    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def all_sum(values: list[float], group: Group) -> list[float]:
    """Element-wise sums over every rank (in float64 on the CPU: gloo and NCCL both take it)."""
    if not group.parallel:
        return values
    import torch.distributed as dist

    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else "cpu"
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return tensor.tolist()


class LossModule(nn.Module):
    """forward(x, y) = model.loss(x, y): DDP syncs gradients of what runs through forward()."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.model.loss(x, y)


def data_parallel(model: nn.Module, device: torch.device) -> nn.Module:
    import warnings

    from torch.nn.parallel import DistributedDataParallel

    # A weight with a size-1 dimension (the last transposed convolution's 16 x 1 x 4 x 4) has both
    # layouts' strides; its gradient arrives in the other one, and DDP copies 256 numbers into its
    # bucket instead of viewing them. Giving the weight those strides would turn the first
    # convolution's output (and its pooling) to the slower layout, so only the warning goes.
    warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(LossModule(model), device_ids=ids)


def shard(order: torch.Tensor, group: Group) -> torch.Tensor:
    """This rank's part of an epoch's shuffled order: every rank the same count (DDP steps in lockstep),
    no image twice; the few left over (fewer than the number of ranks) wait for another epoch."""
    if not group.parallel:
        return order
    usable = len(order) - len(order) % group.world
    return order[:usable][group.rank :: group.world]


def check_replicas(model: nn.Module, group: Group) -> None:
    """Every rank must end with the same weights; a difference means the job went wrong."""
    if not group.parallel:
        return
    checksum = sum(p.detach().double().sum().item() for p in model.parameters())
    sums = all_sum([checksum if r == group.rank else 0.0 for r in range(group.world)], group)
    if any(s != sums[0] for s in sums):
        raise AecliError(f"the training processes ended with different weights ({sums}); rerun the job")


def lost_peer(exc: Exception) -> AecliError:
    """One line for a job whose other process died (killed, out of memory) mid-step."""
    import re

    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    first = re.sub(r"^\[[^\]]*\]\s*", "", first)  # gloo opens with its source file and line
    error = AecliError(
        f"another training process of this torchrun job stopped ({first[:160]}); the last complete epoch is kept; "
        "rerun the same torchrun command with --resume"
    )
    error.from_any_rank = True  # whichever rank survives says it
    return error
