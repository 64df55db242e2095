"""Colour classes: k-means centres in the assignment's file format, pixel <-> class conversion.

A colour file is a numpy object array [centres (k, 3) in [0, 1], distortion], as the assignment wrote it.
Remake ours with:  colorlib colours
"""
import numpy as np
import torch
import torch.nn.functional as F

from colorlib.errors import InputError
from colorlib.files import read_pair, write_pair


def load_colours(path):
    """Centres as a (k, 3) float tensor; reads the assignment's Python 2 files unchanged."""
    return check_colours(path, read_pair(path, 'a colour file')[0])


def check_colours(path, centres):
    """What a colour file must hold: (k, 3) centres, k >= 2, finite, in [0, 1] and distinct; as float32."""
    if centres.ndim != 2 or centres.shape[1] != 3:
        raise InputError(f'{path} holds an array of shape {centres.shape}, expected (k, 3)')
    if len(centres) < 2:
        raise InputError(f'{path} holds {len(centres)} colour(s); classes need at least 2')
    return check_centres(path, centres, 0, 1, 'colours')


def check_centres(path, centres, low, high, what):
    """The centres of a colour or bins file as float32, if they are finite there, within [low, high] and distinct
    (two equal centres would make a class that no pixel can ever be)."""
    as_float = torch.from_numpy(centres).float()
    if not torch.isfinite(as_float).all():
        raise InputError(f'{path} holds non-finite {what} (NaN, infinity, or beyond float32)')
    if not ((as_float >= low) & (as_float <= high)).all():
        raise InputError(f'{path} holds {what} outside [{low:g}, {high:g}]')
    if len(torch.unique(as_float, dim=0)) < len(as_float):
        raise InputError(f'{path} holds the same {what[:-1]} twice')
    return as_float


def save_colours(path, centres, distortion, replace=False):
    """Refused (InputError) for centres that load_colours would refuse: no file is written that cannot be read."""
    centres = np.asarray(centres, dtype=np.float64)
    check_colours(path, centres)
    return write_pair(path, centres, float(distortion), replace)


MIN_PIXELS_PER_COLOUR = 1000  # a colour file's class needs this many pixels on average: colorlib colours' rule


def distinct_colours(pixels):
    """How many distinct RGB colours (N, 3) uint8 pixels hold."""
    return len(np.unique(pixels.reshape(-1, 3).astype(np.int32) @ np.array([65536, 256, 1], np.int32)))


def check_clusters(images, ks, min_pixels=MIN_PIXELS_PER_COLOUR):
    """Before any k-means runs: an InputError naming k unless each of `ks` is a number of colours the images can
    give, each colour from distinct pixels and from at least `min_pixels` of them on average: more clusters than that
    are not colours of the data but noise, and k-means over millions of pixels takes minutes for each thousand."""
    pixels = images.reshape(-1, 3)
    distinct = None
    for k in ks:
        if len(pixels) < k * min_pixels:
            raise InputError(f'{k} colours are too many clusters for the data: its {len(pixels):,} pixels give '
                             f'{len(pixels) // k:,} a colour, and a colour needs at least {min_pixels:,}; at most '
                             f'{len(pixels) // min_pixels:,} colours fit these images', ['k'])
        distinct = distinct_colours(pixels) if distinct is None else distinct
        if distinct < k:
            raise InputError(f'{k} colours are too many clusters for the data: the images hold {distinct} distinct '
                             f'colour(s), fewer than the {k} colours asked for', ['k'])


def fit_colours(images, k, seed=0, sample=None):
    """k-means over every pixel of uint8 NHWC images scaled to [0, 1) (or a seeded random `sample` of that many);
    distortion = mean distance to a centre."""
    from sklearn.cluster import KMeans
    pixels = images.reshape(-1, 3)
    if sample is not None and len(pixels) > sample:
        pixels = pixels[np.random.default_rng(seed).choice(len(pixels), sample, replace=False)]
    distinct = distinct_colours(pixels)
    if distinct < k:  # k-means would make equal centres, a colour file that load_colours refuses
        raise InputError(f'the images hold {distinct} distinct colour(s), fewer than the {k} colours asked for')
    pixels = pixels.astype(np.float64) / 256
    kmeans = KMeans(n_clusters=k, n_init=1, random_state=seed).fit(pixels)
    centres = kmeans.cluster_centers_
    nearest = centres[kmeans.labels_]
    distortion = np.sqrt(((pixels - nearest) ** 2).sum(1)).mean()
    return centres, distortion


def rgb_to_classes(rgb, centres, chunk=256):
    """Nearest centre of every pixel of (N, C, H, W) images, as (N, H, W) int64, in one vectorised pass
    (C = 3 for RGB colours, 2 for Lab's ab bins).

    |x - c|^2 = |x|^2 - 2 x.c + |c|^2, and |x|^2 does not change the argmin, so the distances are a 1x1
    convolution with weights -2c and bias |c|^2 (fast, and no copy to a pixel-major layout); chunks of
    images bound the memory of the (chunk, k, H, W) distances.
    """
    centres = centres.to(rgb)
    weight, bias = (-2 * centres)[:, :, None, None], (centres * centres).sum(1)
    out = torch.empty(rgb.shape[0], *rgb.shape[2:], dtype=torch.long, device=rgb.device)
    for start in range(0, len(rgb), chunk):
        out[start:start + chunk] = F.conv2d(rgb[start:start + chunk], weight, bias).argmin(1)
    return out


def classes_to_rgb(classes, centres):
    """(N, H, W) class indices -> (N, 3, H, W) colours."""
    return centres.to(classes.device)[classes].permute(0, 3, 1, 2)
