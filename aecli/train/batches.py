"""Where the training split lives during a run, and how an epoch is cut into batches.

The split is placed once: on the CPU as it is (no copy, even when memory-mapped), on a GPU resident
in device memory when it fits, so a step reads its batch with one gather and no host transfer.
A split too large for the GPU stays on the host and each batch crosses through pinned memory.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import torch

from aecli.data import Split
from aecli.device import fits_on_device, to_device


@dataclass
class TrainingImages:
    images: torch.Tensor  # uint8 N x C x H x W, on the device when resident, else on the host
    labels: torch.Tensor | None  # beside the images
    device: torch.device  # where the steps run

    @classmethod
    def place(cls, split: Split, device: torch.device) -> "TrainingImages":
        home = device if fits_on_device(split.images.nbytes, device) else torch.device("cpu")
        labels = None if split.labels is None else split.labels.to(home)
        return cls(split.images.to(home), labels, device)

    @property
    def resident(self) -> bool:
        return self.images.device.type == self.device.type

    def order(self, permutation: torch.Tensor) -> torch.Tensor:
        """An epoch's image order, where the gathers run (moved once per epoch, not per step)."""
        return permutation.to(self.images.device)

    def batch(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The uint8 images and labels at index, on the device."""
        y = None if self.labels is None else to_device(self.labels[index], self.device)
        return to_device(self.images[index], self.device), y  # no copy when resident


def draw_generator(order_generator: torch.Generator, device: torch.device) -> torch.Generator:
    """The generator for a step's random draws (binarization, mirroring), on the device the steps run,
    so no noise crosses from the host. On the CPU it is the epoch's own generator, so a CPU run repeats
    exactly from its seed."""
    if device.type == "cpu":
        return order_generator
    return torch.Generator(device=device).manual_seed(order_generator.initial_seed())


def index_batches(order: torch.Tensor, batch_size: int) -> Iterator[torch.Tensor]:
    """An epoch's order in batches; a last batch of one image joins the one before (BatchNorm needs two)."""
    batches = list(order.split(batch_size))
    if len(batches) > 1 and len(batches[-1]) == 1:
        batches[-2:] = [torch.cat(batches[-2:])]
    return iter(batches)


def random_mirror(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Flip a random half of the batch left-right: twice the faces for a small dataset."""
    flip = torch.rand(len(x), generator=generator, device=generator.device) < 0.5
    return torch.where(flip.to(x.device)[:, None, None, None], x.flip(3), x)
