"""Memory: what training a model takes and what the machine has, so that a model too big is refused up front with
the size that would fit, not found by the operating system's out-of-memory killer."""
import os
from dataclasses import replace

import torch

from colorlib.errors import TooBig, check_whole
from colorlib.layers import MyDilatedConv2d
from colorlib.models import MODELS, STRIDE, build_model, network_settings
from colorlib.resample import seen_size

TILE = 512  # the largest piece (pixels a side) colouring gives the network at once, unless told: it bounds memory

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
    return need_bytes(config, 'train', batch_size, side, side)


def running_bytes(config, batch_size=1, height=32, width=32):
    """A rough upper figure for the memory running a model takes without gradients (evaluating, predicting, colouring
    one tile): float32 weights, a dilated convolution's spread-out filter, and the maps of a batch alive at once
    (about 8 of `filters` channels per pixel: a block's input and output and the UNet's skip connections)."""
    parameters, spread = counts(config)
    return 4 * parameters + 4 * spread + 4 * 8 * batch_size * height * width * max(config.filters, config.out_channels,
                                                                                    config.in_channels)


def largest(fits, value=lambda n: n + 1):
    """The largest value(n), n = 0, 1, ..., for which fits(value(n)); None if not even value(0) does."""
    if not fits(value(0)):
        return None
    low, high = 0, 1
    while fits(value(high)):
        low, high = high, 2 * high
        if high > 2 ** 62:
            return value(low)
    while high - low > 1:  # fits(low) and not fits(high)
        middle = (low + high) // 2
        low, high = (middle, high) if fits(value(middle)) else (low, middle)
    return value(low)


def steps(field):
    """The values a size takes, n = 0, 1, ...: odd kernels only, a network's own setting from its lowest value
    (models.Setting), the others from 1."""
    if field == 'kernel':
        return lambda n: 2 * n + 1
    own = network_settings()
    return own[field].value if field in own else lambda n: n + 1


def largest_fitting(config, field, batch_size, memory, side=32):
    """The largest number of filters, odd kernel size or size of a network's own (`field`), with which training on
    `side`-pixel images fits in `memory` bytes, the other settings as in `config`; None if not even the smallest
    does."""
    return largest(lambda v: training_bytes(replace(config, **{field: v}), batch_size, side) <= memory, steps(field))


# ---------------------------------------------------------------------------------------------------------------------
# the one rule: what an action takes, against what is free, refused before anything is allocated

ACTIONS = ('train', 'evaluate', 'predict', 'load', 'activations', 'colour')


def in_bytes(n):
    """n bytes said in GB, or TB (PB, EB) where it is more."""
    for unit, size in (('EB', 1e18), ('PB', 1e15), ('TB', 1e12)):
        if n >= size:
            return f'{n / size:.3g} {unit}'
    return f'{n / 1e9:.3g} GB'


def model_sizes():
    """The model's settings that set its size: filters, kernel and the networks' own that do (models.Setting)."""
    return ('filters', 'kernel', *(name for name, setting in network_settings().items() if setting.sizes))


def check_pieces(tile, margin, net_size):
    """Colouring's pieces, each an InputError naming it: `tile` at least STRIDE (tiles start on the pooling grid),
    `margin` (None: the receptive field's) at least 0, `net_size` (None: full size) at least 1. Photos and films
    alike."""
    check_whole(tile, 'tile', STRIDE)
    for name, value, low in (('margin', margin, 0), ('net_size', net_size, 1)):
        if value is not None:
            check_whole(value, name, low)


def piece_width(rows, width, tile, margin):
    """How wide the pieces are that colorize runs the network on, in a band of `rows` rows (at most the tile): the
    whole width where that window, margins included, holds no more pixels than a square tile's, else the tile. A
    640x360 frame then goes in one piece, not two: every further piece repeats its margins, and a narrow one runs
    slower a pixel (a tenth of a film's time at that size, in one thread)."""
    whole = (rows + 2 * margin) * (width + 2 * margin) <= (tile + 2 * margin) ** 2
    return width if whole else tile


def colouring_bytes(config, height, width, tile=TILE, margin=0, net_size=None):
    """colorlib.colorize's memory for one (height, width) picture: the picture as read (Pillow's and numpy's copies),
    the result (and the grey one beside it), the
    picture scaled to net_size and the network's ab of it, a band of ab at full width, and the network on one tile
    with its margin (colorize_pixels)."""
    small_h, small_w = seen_size(height, width, net_size)
    scaled = 0 if (small_h, small_w) == (height, width) else 16 * small_h * small_w  # the scaled picture and its ab
    across = piece_width(min(tile, small_h), small_w, tile, margin)
    window = min(tile + 2 * margin + 8, small_h), min(across + 2 * margin + 8, small_w)
    band = 24 * (min(tile, height) + 4) * width  # a band's ab (at most the picture), and its grid to scale it up
    return 14 * height * width + scaled + band + 2 ** 26 + running_bytes(config, 1, *window)


HELD_BYTES = 32  # a picture held whole while a model runs on a set of them, per pixel: float RGB, its input, the output


def need_bytes(config, action, batch_size=1, height=32, width=32, tile=TILE, margin=0, net_size=None, pictures=0):
    """The memory `action` (ACTIONS) takes: training on batches of `batch_size` pictures of height x width, running
    the model on them, loading its weights alone, or colouring one picture of that size (colouring_bytes); and
    `pictures` of that size held whole (HELD_BYTES) beside it, as fit, evaluate and predict hold their sets."""
    return HELD_BYTES * pictures * height * width + model_bytes(config, action, batch_size, height, width, tile,
                                                                  margin, net_size)


def model_bytes(config, action, batch_size, height, width, tile, margin, net_size):
    if action == 'train':
        parameters, spread = counts(config)
        return 16 * parameters + 8 * spread + 4 * 16 * batch_size * height * width * max(config.filters,
                                                                                         config.out_channels)
    if action == 'load':
        return running_bytes(config, 0)
    if action == 'colour':
        return colouring_bytes(config, height, width, tile, margin, net_size)
    return running_bytes(config, batch_size, height, width)


def check_fits(config, action, device='cpu', batch_size=1, height=32, width=32, tile=TILE, margin=0, net_size=None,
               pictures=0, chosen=None, source=None, source_field='weights', picture_field=None, free=None):
    """The one memory rule of colorlib, asked before anything is allocated: a TooBig (an InputError) unless `action`
    on the model of `config` fits in the memory free on `device` (available_memory). The refusal names what is too
    big in the words of the action and what would fit: the largest of each setting the caller may change (`chosen`:
    the model's own sizes given as keywords or flags; 'batch_size', 'tile', 'net_size'), never a model setting that
    came from a weights file (`source`: its path, named instead, as the setting `source_field`); else the pictures
    (`picture_field`)."""
    sizes_of_model = model_sizes()
    chosen = sizes_of_model if chosen is None else chosen
    device = torch.device(device)
    free = available_memory(device) if free is None else free
    sizes = dict(batch_size=batch_size, height=height, width=width, tile=tile, margin=margin, net_size=net_size,
                 pictures=pictures)

    def fits(**change):
        model = replace(config, **{k: v for k, v in change.items() if k in sizes_of_model})
        return need_bytes(model, action, **{**sizes, **{k: v for k, v in change.items() if k in sizes}}) <= free
    need = need_bytes(config, action, **sizes)
    if need <= free:
        return need
    own = [s.name for s in MODELS[config.name].settings]  # a network's own settings are sizes only of it
    changeable = [f for f in chosen if f in sizes or f in ('filters', 'kernel', *own) and f in sizes_of_model]
    if action == 'colour' and net_size is None:
        changeable = [f for f in changeable if f != 'net_size']
    smaller = {}
    for field in changeable:
        value = largest(lambda v, f=field: fits(**{f: v}), steps(field))
        if value is not None and (field not in sizes or sizes[field] is None or value < sizes[field]):
            smaller[field] = value
    spread = ''.join(f' ({name} {getattr(config, name)})' for name in own)
    model = f'a {config.name} with {config.filters} filters of {config.kernel}x{config.kernel}{spread}'
    it = 'it' if source is not None else model
    pictures = f'{height}x{width} picture'
    scaled = f' at net size {net_size}' if net_size is not None else ''
    held = f'{sizes["pictures"]} {pictures}s in batches of {batch_size}'
    doing = {'train': f'training {it} on {held}' if sizes['pictures'] else
             f'training {it} on batches of {batch_size} {pictures}s',
             'evaluate': f'evaluating {it} on {held}', 'predict': f'predicting with {it} on {held}',
             'activations': f'drawing the activations of {it} for a {pictures}',
             'load': f'loading {it}',
             'colour': f'colouring a {pictures}{scaled} in tiles of {tile} with {it}'}[action]
    message = (f'{source} holds {model}; ' if source is not None else '') + \
        f'{doing} needs about {in_bytes(need)}, more than the {in_bytes(free)} free on {device.type}'
    fields = [f for f in changeable if f in smaller or f in sizes_of_model] or [picture_field or source_field]
    raise TooBig(message, fields or list(chosen[:1]), list(smaller.items()))


def available_memory(device):
    """Bytes free for a run on `device`: the GPU's free memory, or the system's MemAvailable, less where this process
    may use less (an address-space limit, `ulimit -v`, or its control group's memory.max)."""
    device = torch.device(device)
    if device.type == 'cuda':
        return torch.cuda.mem_get_info(device)[0]
    free = None
    try:
        with open('/proc/meminfo') as f:
            for line in f:
                if line.startswith('MemAvailable:'):
                    free = int(line.split()[1]) * 1024
    except OSError:
        pass
    if free is None:
        free = os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_AVPHYS_PAGES')
    return min([free, *process_limits()])


def process_limits():
    """Bytes this process may still take by its own limits: what an address-space limit leaves above its present
    size, and what its control group's memory.max leaves above memory.current (none where unlimited or unknown)."""
    import resource
    limits = []
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        try:
            with open('/proc/self/statm') as f:
                size = int(f.read().split()[0]) * os.sysconf('SC_PAGE_SIZE')
        except OSError:
            size = 0
        limits.append(max(0, soft - size))
    try:
        with open('/sys/fs/cgroup/memory.max') as f:
            top = f.read().strip()
        with open('/sys/fs/cgroup/memory.current') as f:
            used = int(f.read())
        if top != 'max':
            limits.append(max(0, int(top) - used))
    except (OSError, ValueError):
        pass
    return limits
