"""The handout's hand-made convolutions: our own weight and bias, F.conv2d (or, for the grey image on the CPU, a
batched matmul) doing the arithmetic."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv2d(x, weight, bias, padding):
    """F.conv2d, except for a one-channel input (the grey image) on the CPU: oneDNN's kernel for that shape ran at
    4 GFLOP/s on our CPU, so there the k*k shifted copies of each pixel's neighbourhood are weighted by one matmul,
    written channels_last like the rest of the network (several times faster; bench/train_speed.py)."""
    if x.device.type != 'cpu' or x.shape[1] != 1:
        return F.conv2d(x, weight, bias, padding=padding)
    n, _, height, width = x.shape
    k = weight.shape[-1]
    out_h, out_w = height + 2 * padding - k + 1, width + 2 * padding - k + 1
    padded = F.pad(x[:, 0], (padding,) * 4)
    taps = torch.stack([padded[:, i:i + out_h, j:j + out_w] for i in range(k) for j in range(k)], -1)
    out = torch.addmm(bias, taps.view(-1, k * k), weight.flatten(1).t())  # (pixels, out channels)
    return out.view(n, out_h, out_w, -1).permute(0, 3, 1, 2)


class MyConv2d(nn.Module):
    """A 'same' convolution with its own parameters (padding kernel_size // 2 keeps the image size)."""

    def __init__(self, in_channels, out_channels, kernel_size, padding=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.padding = kernel_size // 2 if padding is None else padding
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.empty(out_channels))
        self.reset_parameters()

    def reset_parameters(self):
        # The same uniform initialisation nn.Conv2d uses, so training behaves like the stock layer.
        bound = 1 / math.sqrt(self.weight[0].numel())
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return conv2d(x, self.weight, self.bias, self.padding)


class MyDilatedConv2d(MyConv2d):
    """A dilated convolution as in the handout's Figure 1: `dilation` empty pixels between filter taps.

    dilation=1 spreads a 3x3 filter over 5x5 pixels. The spread-out filter is built from the weight with
    ordinary (differentiable) tensor operations, so gradients reach the 3x3 taps; dilation=0 is a plain conv.
    """

    def __init__(self, in_channels, out_channels, kernel_size, dilation=1):
        self.dilation = dilation
        spread = kernel_size + (kernel_size - 1) * dilation
        super().__init__(in_channels, out_channels, kernel_size, padding=spread // 2)

    def spread_weight(self):
        step = self.dilation + 1
        out_c, in_c, k, _ = self.weight.shape
        size = k + (k - 1) * self.dilation
        spread = self.weight.new_zeros(out_c, in_c, size, size)
        spread[:, :, ::step, ::step] = self.weight
        return spread

    def forward(self, x):
        return F.conv2d(x, self.spread_weight(), self.bias, padding=self.padding)
