"""Layers computed another way than torch's own, with the same parameters and function."""

import torch
from torch import nn
from torch.nn import functional as F


def _phase_index() -> torch.Tensor:
    """For each output phase (a, b) and 3x3 input offset (d, e): which of the 16 taps of a 4x4
    stride-2 padding-1 transposed kernel it uses (16: none). Output row 2i + a reads input row
    i + d - 1 through kernel row a + 3 - 2d, when that lies in 0..3; columns likewise."""
    index = torch.full((2, 2, 3, 3), 16, dtype=torch.long)
    for a in range(2):
        for b in range(2):
            for d in range(3):
                for e in range(3):
                    row, col = a + 3 - 2 * d, b + 3 - 2 * e
                    if 0 <= row < 4 and 0 <= col < 4:
                        index[a, b, d, e] = row * 4 + col
    return index


class SubpixelConvTranspose2d(nn.ConvTranspose2d):
    """A 4x4, stride-2, padding-1 transposed convolution run as a 3x3 convolution into one channel
    per output phase, then a pixel shuffle.

    The parameters are the transposed convolution's (checkpoints load either way) and the outputs
    agree within float rounding. On the CPU, torch's transposed convolution with few output
    channels is slow: for the VAE's last layer (16 channels to 1) this takes about a third less
    time alone, and a seventh less inside a training step (docs/decisions.md). Elsewhere it runs
    torch's own, which is one kernel launch instead of several."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(in_channels, out_channels, 4, stride=2, padding=1)
        self.register_buffer("phase_index", _phase_index(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type != "cpu":  # a GPU's own transposed convolution is fast, and one kernel launch
            return super().forward(x)
        c_in, c_out = self.in_channels, self.out_channels
        taps = F.pad(self.weight.flatten(2), (0, 1))  # c_in x c_out x 17: the 16 taps and a zero
        phases = taps[:, :, self.phase_index]  # c_in x c_out x 2 x 2 x 3 x 3
        weight = phases.permute(1, 2, 3, 0, 4, 5).reshape(4 * c_out, c_in, 3, 3)
        bias = None if self.bias is None else self.bias.repeat_interleave(4)
        return F.pixel_shuffle(F.conv2d(x, weight, bias, padding=1), 2)
