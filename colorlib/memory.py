"""Memory: what training a model takes and what the machine has, so that a model too big is refused up front with
the size that would fit, not found by the operating system's out-of-memory killer."""
import os
from dataclasses import replace

import torch

from colorlib.errors import TooBig
from colorlib.layers import MyDilatedConv2d
from colorlib.models import build_model

TOO_MANY = 2 ** 62  # elements: more than any machine holds


def counts(config):
    """(parameters, elements of the spread-out filters a dilated convolution builds at every step) of the model of
    `config`, counted on the meta device (no memory is used); TOO_MANY where torch cannot even count them."""
    try:
        with torch.device('meta'):
            model = build_model(config)
    except RuntimeError:  # 'Storage size calculation overflowed': sizes past any memory
        return TOO_MANY, 0
    spread = sum(m.weight[:, :, 0, 0].numel() * m.spread ** 2 for m in model.modules()
                 if isinstance(m, MyDilatedConv2d))
    return sum(p.numel() for p in model.parameters()), spread


def parameter_count(config):
    """How many parameters the model of `config` has, counted on the meta device (no memory is used)."""
    return counts(config)[0]


def training_bytes(config, batch_size, side=32):
    """A rough upper figure for the memory training takes: float32 weights, gradients and Adam's two moments, a
    dilated convolution's spread-out filter and its gradient, and the activations of a batch (about 16 maps of
    `filters` channels per pixel, kept for the backward pass)."""
    parameters, spread = counts(config)
    return 16 * parameters + 8 * spread + 4 * 16 * batch_size * side * side * max(config.filters, config.colours)


def largest_fitting(config, field, batch_size, memory, side=32):
    """The largest number of filters, odd kernel size or dilation (`field`), with which training on `side`-pixel
    images fits in `memory` bytes, the other settings as in `config`; None if not even the smallest does."""
    value = {'kernel': lambda n: 2 * n + 1, 'dilation': lambda n: n}.get(field, lambda n: n + 1)  # n = 0, 1, ...

    def fits(n):
        return training_bytes(replace(config, **{field: value(n)}), batch_size, side) <= memory
    if not fits(0):
        return None
    low, high = 0, 1
    while fits(high):
        low, high = high, 2 * high
    while high - low > 1:  # fits(low) and not fits(high)
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    return value(low)


def available_memory(device):
    """Bytes free for a run on `device`: the GPU's free memory, or the system's MemAvailable."""
    if device.type == 'cuda':
        return torch.cuda.mem_get_info(device)[0]
    try:
        with open('/proc/meminfo') as f:
            for line in f:
                if line.startswith('MemAvailable:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_AVPHYS_PAGES')


def check_fits(config, device, batch_size=100, side=32):
    """A TooBig, naming the model's size settings and the value of each that alone would fit, if training `config`
    on batches of `side`-pixel images would not fit in the memory free on `device`: refused before anything is
    allocated. (The one size check; colorlib.api calls it before it builds a model.)"""
    need, free = training_bytes(config, batch_size, side), available_memory(device)
    if need <= free:
        return
    sizes = ['filters', 'kernel'] + (['dilation'] if config.name == 'DUNet' else [])
    fits = [(field, value) for field in sizes
            if (value := largest_fitting(config, field, batch_size, free, side)) is not None]
    spread = f' (dilation {config.dilation})' if config.name == 'DUNet' else ''
    raise TooBig(f'a {config.name} with {config.filters} filters of {config.kernel}x{config.kernel}{spread} needs about '
                 f'{need / 1e9:.3g} GB to train, more than the {free / 1e9:.1f} GB free on {device.type}', sizes, fits)
