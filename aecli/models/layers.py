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
        return self.with_weight(x, self.weight, self.bias)

    def with_weight(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        """This layer's function with another weight of its kind (c_in x c_out x 4 x 4)."""
        if x.device.type != "cpu":  # a GPU's own transposed convolution is fast, and one kernel launch
            return F.conv_transpose2d(x, weight, bias, stride=2, padding=1)
        c_in, c_out = weight.shape[:2]
        taps = F.pad(weight.flatten(2), (0, 1))  # c_in x c_out x 17: the 16 taps and a zero
        phases = taps[:, :, self.phase_index]  # c_in x c_out x 2 x 2 x 3 x 3
        phased = phases.permute(1, 2, 3, 0, 4, 5).reshape(4 * c_out, c_in, 3, 3)
        bias = None if bias is None else bias.repeat_interleave(4)
        return F.pixel_shuffle(F.conv2d(x, phased, bias, padding=1), 2)


def tap_patterns(layer: nn.Conv2d | nn.ConvTranspose2d, side: int) -> torch.Tensor:
    """taps x output pixels: where each tap of the layer's kernel lands when it runs over a side x side
    map of ones (zero padding: the borders see fewer taps). Fixed by the image size, so a model
    computes them once (`with_label_maps`)."""
    taps = layer.kernel_size[0] * layer.kernel_size[1]
    one_tap_each = torch.eye(taps, device="cpu")  # on the CPU also while `_build` counts on the meta device
    ones = torch.ones(1, 1, side, side, device="cpu")
    if isinstance(layer, nn.ConvTranspose2d):
        basis = one_tap_each.reshape(1, taps, *layer.kernel_size)
        patterns = F.conv_transpose2d(ones, basis, None, layer.stride, layer.padding)
    else:
        basis = one_tap_each.reshape(taps, 1, *layer.kernel_size)
        patterns = F.conv2d(ones, basis, None, layer.stride, layer.padding)
    return patterns.flatten(2)[0]


def with_label_maps(
    layer: nn.Conv2d | nn.ConvTranspose2d, h: torch.Tensor, labels: torch.Tensor, patterns: torch.Tensor, classes: int
) -> torch.Tensor:
    """`layer` applied to h with one constant map per class appended (the label's weight on every
    pixel), without building the maps; `patterns` are the layer's `tap_patterns` at h's size.

    The layer's weight has h's channels first, then one k x k slice per class. A convolution is
    linear in its kernel, so the maps' part of the output is each image's blend of class slices
    (a one-hot label picks one) weighing the tap patterns. With 10 classes this costs about what
    the maps did; with thousands it avoids a layer of thousands of input channels, which took
    minutes per step and gigabytes per batch. Nothing here has a shape set by the batch but the
    batch, so the graph exports to ONNX with a free batch size."""
    n = layer.in_channels - classes  # from the layer, not h: a traced graph keeps weight shapes fixed
    transposed = isinstance(layer, nn.ConvTranspose2d)
    weight = layer.weight
    if transposed:  # in x out x k x k
        image_weight, class_weight = weight[:n], weight[n:]
    else:  # out x in x k x k; the class slices laid out as a transposed weight's, classes x out x k x k
        image_weight, class_weight = weight[:, :n], weight[:, n:].transpose(0, 1)
    # contiguous: a reloaded (channels-last) model must sum in the same order, to the bit
    image_weight, class_weight = image_weight.contiguous(), class_weight.contiguous()
    if isinstance(layer, SubpixelConvTranspose2d):
        image = layer.with_weight(h, image_weight, layer.bias)
    elif transposed:
        image = F.conv_transpose2d(h, image_weight, layer.bias, layer.stride, layer.padding)
    else:
        image = F.conv2d(h, image_weight, layer.bias, layer.stride, layer.padding)
    out, taps = class_weight.shape[1], patterns.shape[0]
    blended = labels.to(class_weight.dtype) @ class_weight.flatten(1)  # batch x (out x taps)
    maps = blended.reshape(-1, taps).to(h.dtype) @ patterns.to(h.dtype)  # -1: a free batch in an exported graph
    return image + maps.reshape(-1, out, *image.shape[2:])
