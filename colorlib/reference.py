"""Learn a film's own colours from colour stills of it: Model.fit_reference.

The shipped UNet learnt the colours of CIFAR-10 horses; a film has its own. A colour still of the film (its first
frame in colour, a hand-coloured keyframe) shows them, and a small network learns them in seconds on a CPU: it is
trained on random crops of the still (and their mirror images), with the 24 colour classes fitted to the still
(k-means, as for one's own pictures), starting from the model's weights. The networks see the channel mean as grey,
a film shows its lightness: each still is first shifted so that the two agree (as_grey_film_shows). Training runs as
colorlib's fast recipe does (small batches, a learning rate warmed up and annealed), bfloat16 only where the CPU
does it in hardware (machine.use_bf16), so a 2-core CPU without bfloat16 arithmetic does it in float32 in a few
seconds. Fitted and coloured at half the film's size (net_size=half_size(frame)), each crop holds four times the
picture: +0.5 to +1.7 dB over the full size at the same cost on three real clips in a trial (docs/video.md).

Several stills (one per scene) train one network on all of them, with one palette fitted to all: the network then
tells the scenes apart by the grey picture itself, so each frame takes the colours of the still it looks like with
no bookkeeping of which still goes with which frame. Figures: bench/video_quality.py, docs/video.md.
"""
import contextlib
import dataclasses

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from colorlib.resample import as_seen, seen_size
from colorlib.colours import fit_colours
from colorlib.errors import InputError, TooBig, check_whole, with_fields
from colorlib.images import as_uint8, read_image
from colorlib.recipes import RECIPES

PALETTE_SAMPLE = 16384  # pixels the colour classes are fitted on: k-means on more takes seconds
CROP = 32  # the side of the training crops: the pictures the networks learnt on
MIN_SIDE = CROP  # a reference smaller than one crop has nothing to learn from
MIN_CHROMA = 2.0  # mean |a| + |b| (Lab) under which a reference is grey: there are no colours to learn
CROPS_PER_STILL = 1000  # each still gets as many crops as one alone does (pan's two stills: +7.0 dB with 1000 in
# all, +8.3 with 2000, in twice the time; bench/video_quality.py)
PICTURE_BYTES = 64  # a reference per pixel while it is resized and greyed: uint8 and float copies of RGB and Lab
CROP_BYTES = CROP * CROP * 3 * 3  # a uint8 crop, and twice that again while training reads it
# the fast recipe at a lower learning rate (0.01: +1.4 dB over 0.04 and +0.3 over 0.003 on the cartoon, in a
# trial), with the crops' mirror images
RECIPE = {**RECIPES['fast']['*'], 'learn_rate': 0.01, 'augment': ('hflip',)}


@contextlib.contextmanager
def flushed_denormals():
    """Fine-tuning makes numbers below float32's normal range (denormals) in the backward pass, which an x86 CPU
    computes many times slower than normal ones: flushed to zero, a fit took 4.2 CPU s instead of 12.9 (carphone's
    still, 1 thread). torch cannot say what the setting was, so it is put back to its default, off."""
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


def read_reference(picture, index):
    """One reference as (H, W, 3) uint8 RGB: an array (uint8, or float 0-1) or a picture file. An InputError naming
    `reference` for anything else, a grey picture or one too small to crop."""
    name = 'reference' if index is None else f'reference[{index}]'
    if isinstance(picture, (str, bytes)) or hasattr(picture, '__fspath__'):
        try:
            pixels, _ = read_image(picture)
        except InputError as err:
            raise InputError(f'{name}: {err}', ['reference']) from None
        except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as err:
            raise InputError(f'{name} {picture} is not a picture Pillow reads ({err})', ['reference']) from None
        if pixels.dtype != np.uint8:
            raise InputError(f'{name} {picture} is a grey picture: a reference shows colours', ['reference'])
    else:
        try:
            pixels = as_uint8(picture, name, ndim=3)
        except InputError as err:
            raise InputError(str(err), ['reference']) from None
    height, width = pixels.shape[:2]
    if min(height, width) < MIN_SIDE:
        raise InputError(f'{name} is {width}x{height}: a reference needs at least {MIN_SIDE} pixels a side',
                         ['reference'])
    from colorlib.lab import rgb_to_lab
    lab = rgb_to_lab(torch.from_numpy(pixels[::4, ::4].copy()).permute(2, 0, 1)[None].float() / 255)
    if lab[:, 1:].abs().sum(1).mean().item() < MIN_CHROMA:
        raise InputError(f'{name} is grey (or nearly): a reference shows the colours to learn', ['reference'])
    return pixels


def as_list(pictures):
    """One picture or several: a single array of shape (H, W, 3), a path, or a list or tuple of them."""
    if isinstance(pictures, (list, tuple)):
        if not pictures:
            raise InputError('reference: no pictures given', ['reference'])
        return [read_reference(p, i) for i, p in enumerate(pictures)]
    return [read_reference(pictures, None)]


def random_crops(pictures, count, rng):
    """`count` CROP x CROP crops, taken evenly from each picture at random places, as uint8 NHWC."""
    crops = np.empty((count, CROP, CROP, 3), np.uint8)
    for i in range(count):
        picture = pictures[i % len(pictures)]
        y = rng.integers(0, picture.shape[0] - CROP + 1)
        x = rng.integers(0, picture.shape[1] - CROP + 1)
        crops[i] = picture[y:y + CROP, x:x + CROP]
    return crops


def half_size(frame):
    """The net_size to fit and colour a film at: half its frames' shorter side, but never under two crops (a still
    that is a crop or two across has too few different crops to learn from), nor over the frame."""
    side = min(np.shape(frame)[:2])
    return max(min(side, 2 * CROP), side // 2)


def fitted_palette(pictures, old, rng):
    """The pictures' own colour classes, as many as `old` (k-means on a sample of their pixels), put in the order
    of the nearest old ones (a least-cost matching), so that each of the network's outputs starts as a colour near
    the one it learnt: fine-tuning starts close instead of from a shuffled palette."""
    from scipy.optimize import linear_sum_assignment
    pixels = np.concatenate([p.reshape(-1, 3) for p in pictures])
    sample = pixels[rng.choice(len(pixels), PALETTE_SAMPLE, replace=len(pixels) < PALETTE_SAMPLE)]
    centres = torch.from_numpy(with_fields(['reference'], fit_colours, sample[None], len(old))[0]).float()
    _, order = linear_sum_assignment(torch.cdist(old.float(), centres).numpy())
    return centres[order]


def as_grey_film_shows(picture):
    """The picture with each pixel's colour moved (the same amount on R, G and B) so that its channel mean, the
    grey the networks learn from, is its Lab lightness as a grey picture: the grey a black-and-white film, or a
    colour film greyed, shows them. Trained on the plain mean, a network sees saturated colours lighter or darker
    than the film will show them (a cartoon's saturated blue by 17 levels of 255 on average) and learns little that
    holds for the film; the colour differences between channels, which the colour classes hold, are kept."""
    from colorlib.lab import lab_to_rgb, rgb_to_lab
    rgb = torch.tensor(picture).permute(2, 0, 1)[None].float() / 255  # a copy: a resized picture is read-only
    lightness = rgb_to_lab(rgb)[:, :1] / 100
    grey = lab_to_rgb(lightness, torch.zeros_like(lightness).expand(-1, 2, -1, -1))[:, :1]
    moved = (rgb + grey - rgb.mean(1, keepdim=True)).clamp(0, 1)
    return (moved[0] * 255).round().byte().permute(1, 2, 0).numpy()


def check_memory(pictures, crops, net_size, free=None):
    """A TooBig naming `net_size` or `crops` where the pictures as the network will see them, or the crops, would not
    fit in the memory free now: asked before anything of their size is allocated."""
    from colorlib.memory import available_memory
    free = available_memory(torch.device('cpu')) if free is None else free
    sizes = [seen_size(*p.shape[:2], net_size) for p in pictures]
    need = PICTURE_BYTES * sum(h * w for h, w in sizes)
    if need > free:
        height, width = max(sizes, key=lambda s: s[0] * s[1])
        raise TooBig(f'the references at net_size {net_size} are up to {width}x{height} and need about '
                     f'{need / 1e9:.3g} GB, more than the {free / 1e9:.3g} GB free', ['net_size'],
                     [('net_size', max(1, int(net_size * (free / need) ** 0.5 * 0.95)))] if net_size else ())
    need = CROP_BYTES * (crops + max(16, crops // 20))
    if need > free:
        raise TooBig(f'{crops} crops need about {need / 1e9:.3g} GB, more than the {free / 1e9:.3g} GB free',
                     ['crops'], [('crops', int(free / CROP_BYTES / 1.05))] if free >= 21 * CROP_BYTES else ())


def reference_run(model, pictures, crops=None, net_size=None, seed=0, **settings):
    """colorlib.fit's keywords that train `model` further on colour pictures of the film (one or several, arrays
    or files), with its colour classes fitted to them (Model.fit_reference makes the call, so this module needs
    nothing of colorlib.api). `crops` random CROP-pixel crops of the pictures are the training set (another 5%
    check it; by default CROPS_PER_STILL for each picture); with `net_size` they are taken as
    Model.colorize(..., net_size) will show the frames. settings:
    TrainConfig's fields over RECIPE (epochs, learn_rate, ...). The model given is left as it is."""
    from colorlib.targets import build_target
    if model.target.task != 'colour' or not model.target.learns_film_colours:
        raise InputError('fit_reference learns colour classes: use a colour-classes model such as the shipped '
                         'UNet', ['model'])
    if crops is not None:
        check_whole(crops, 'crops', 20)
    check_whole(seed, 'seed', 0, 2 ** 32 - 1)
    if net_size is not None:
        check_whole(net_size, 'net_size', 1)
    pictures = as_list(pictures)
    crops = CROPS_PER_STILL * len(pictures) if crops is None else crops
    check_memory(pictures, crops, net_size)
    pictures = [as_grey_film_shows(as_seen(p, net_size)) for p in pictures]
    for index, picture in enumerate(pictures):
        if min(picture.shape[:2]) < MIN_SIDE:
            raise InputError(f'reference {index} is {min(picture.shape[:2])} pixels at net_size {net_size}: '
                             f'under {MIN_SIDE}', ['net_size'])
    rng = np.random.default_rng(seed)
    train_x = random_crops(pictures, crops, rng)
    test_x = random_crops(pictures, max(16, crops // 20), rng)
    target = build_target(dataclasses.replace(model.target.config, colours=None),
                          palette={'colours.centres': fitted_palette(pictures, model.target.centres, rng)})
    return dict(init=model, target=target, train_x=train_x, test_x=test_x, device=model.device,
                **{**RECIPE, 'seed': seed, **settings})
