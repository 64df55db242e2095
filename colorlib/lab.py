"""Zhang-style colour classes in CIE Lab: the network sees lightness L and scores quantised (a, b) bins.

Colorful Image Colorization (Zhang, Isola and Efros, ECCV 2016): ab is cut into a grid of 10x10 cells and the
cells the training images use (at least 0.01% of their pixels) are the classes; a rare colour can be boosted
(`rebalance_weights`), the target can be spread over the nearest bins (`soft_targets`), and the scores are
decoded with the annealed mean. A bins file is a numpy object array [bin centres (K, 2) in ab, prior (K,)], like
the k-means colour files. Remake ours with:  colorlib bins
"""
import numpy as np
import torch
import torch.nn.functional as F

from colorlib.colours import check_centres, rgb_to_classes
from colorlib.images import to_float
from colorlib.errors import InputError
from colorlib.files import read_pair, write_pair

GRID = 10
DEFAULT_TEMPERATURE = 0.38
SOFT_NEIGHBOURS, SOFT_SIGMA = 5, 5.0
MIN_SHARE = 1e-4


def rgb_to_lab(rgb):
    """(N, 3, H, W) sRGB in [0, 1] -> (L in [0, 100], a, b), by kornia."""
    import kornia  # here, not at the top: its import costs half a second that RGB runs need not pay
    return kornia.color.rgb_to_lab(rgb.clamp(0, 1))


def lab_to_rgb(lightness, ab):
    """L in [0, 1] (N, 1, H, W) (i.e. L/100, the network's input) and ab (N, 2, H, W) -> sRGB clipped to [0, 1]."""
    import kornia
    return kornia.color.lab_to_rgb(torch.cat([100 * lightness, ab], 1), clip=True)


# The constants kornia's rgb_to_lab and lab_to_rgb use (D65 white, 2-degree observer), for the frame-sized paths below
WHITE = (0.95047, 1.0, 1.08883)
LINEAR_TO_Y = (0.212671, 0.715160, 0.072169)  # the middle row of kornia's linear sRGB -> XYZ matrix
XYZ_TO_LINEAR = ((3.2404813432005266, -1.5371515162713185, -0.4985363261688878),
                 (-0.9692549499965682, 1.8759900014898907, 0.0415559265582928),
                 (0.0556466391351772, -0.2040413383665112, 1.0573110696453443))


def srgb_to_linear(v):
    """sRGB levels in [0, 1] -> linear light (numpy or torch)."""
    lib = torch if torch.is_tensor(v) else np
    return lib.where(v > 0.04045, ((v + 0.055) / 1.055) ** 2.4, v / 12.92)


def linear_to_srgb(v):
    """Linear light -> sRGB levels, for v >= 0 (numpy)."""
    return np.where(v > 0.0031308, 1.055 * np.maximum(v, 0.0031308) ** (1 / 2.4) - 0.055, v * 12.92)


# Tables for the frame-sized conversions below, which meet every pixel of a film: an 8-bit level's share of Y in
# each channel, and the 8-bit sRGB level of linear light in steps of 1 / GAMMA_STEPS (a step moves the output by
# 0.05 of a level at most, where sRGB is steepest, near black)
LEVEL_TO_Y = torch.from_numpy(np.float32(srgb_to_linear(np.arange(256) / 255)[None] * np.array(LINEAR_TO_Y)[:, None]))
GAMMA_STEPS = 1 << 16
LINEAR_TO_LEVEL = torch.from_numpy(np.uint8(np.clip(np.round(
    linear_to_srgb(np.arange(GAMMA_STEPS + 1) / GAMMA_STEPS) * 255), 0, 255)))


def look_up(table, index):
    """table[index] for an integer tensor index (int32 is the fastest on the CPU): torch.index_select, several times
    faster there than indexing, and torch's own, so that its threads are not left spinning beside numpy's one."""
    return torch.index_select(table.to(index.device), 0, index.reshape(-1)).view(index.shape)


def luminance_of(pixels, device='cpu'):
    """CIE Y relative to the white, (H, W) float32 on `device`, of read_image's pixels ((H, W, 3) or (H, W, 1),
    uint8 or float 0-1), in their own channels-last layout; 8-bit RGB goes through LEVEL_TO_Y."""
    x = torch.from_numpy(np.require(pixels, requirements='CW')).to(device)  # a copy only of read-only pixels
    if x.dtype == torch.uint8 and x.shape[-1] == 3:
        y = look_up(LEVEL_TO_Y[0], x[..., 0].to(torch.int32))
        y += look_up(LEVEL_TO_Y[1], x[..., 1].to(torch.int32))
        return y.add_(look_up(LEVEL_TO_Y[2], x[..., 2].to(torch.int32)))
    x = x.float().div_(255) if x.dtype == torch.uint8 else x.float().clamp(0, 1)
    linear = srgb_to_linear(x)
    if linear.shape[-1] == 1:  # grey: r = g = b, so Y is their common value times the row's sum
        return linear[..., 0] * sum(LINEAR_TO_Y)
    return linear[..., 0] * LINEAR_TO_Y[0] + linear[..., 1] * LINEAR_TO_Y[1] + linear[..., 2] * LINEAR_TO_Y[2]


def lightness_from(luminance):
    """L in [0, 100] of CIE Y (luminance_of's), as a new tensor."""
    f = torch.where(luminance > 0.008856, luminance.clamp(min=0.008856).pow_(1 / 3), luminance * 7.787 + 4 / 29)
    return f.mul_(116).sub_(16)


def lightness_of(pixels, device='cpu'):
    """L in [0, 100] (H, W) float32 on `device` of read_image's pixels ((H, W, 3) or (H, W, 1), uint8 or float 0-1):
    what rgb_to_lab(...)[:, 0] gives, without the a and b nobody reads, in the pixels' own channels-last layout
    (kornia's whole conversion of a frame costs two to ten times as much; 8-bit RGB through a table, five times
    less again). Equal to it up to float rounding."""
    return lightness_from(luminance_of(pixels, device))


def from_f(f):
    """Lab's f(t) undone: t = X/Xn, Y/Yn or Z/Zn of f (a new tensor)."""
    return torch.where(f > 0.2068966, f * f * f, (f - 4 / 29) / 7.787)


# XYZ (relative to the white) -> linear sRGB, in steps of LINEAR_TO_LEVEL
XYZ_TO_STEPS = [[c * white * GAMMA_STEPS for c, white in zip(row, WHITE)] for row in XYZ_TO_LINEAR]


def xyz_to_uint8(x, y, z, out):
    """CIE X/Xn, Y/Yn, Z/Zn (each (H, W) float) -> 8-bit sRGB written into `out` ((H, W, 3) uint8, their device),
    clipped to [0, 255], channel by channel: a matrix row, then LINEAR_TO_LEVEL."""
    for channel, (cx, cy, cz) in enumerate(XYZ_TO_STEPS):
        steps = (x * cx).add_(y, alpha=cy).add_(z, alpha=cz).add_(0.5).clamp_(0, GAMMA_STEPS).to(torch.int32)
        out[..., channel] = look_up(LINEAR_TO_LEVEL, steps)
    return out


def lab_to_uint8(lightness, a, b, out):
    """Lab (each (H, W) float, L in [0, 100]) -> sRGB written into `out`, an (H, W, 3) uint8 tensor on their device,
    as lab_to_rgb(..., clip=True) then rounding to 8 bits gives it, with few temporaries: the colouring of a frame
    or a band of a photo. Equal to that up to float rounding (a level at most, rarely)."""
    fy = (lightness + 16) / 116
    return xyz_to_uint8(from_f(a / 500 + fy), from_f(fy), from_f((fy - b / 200).clamp_(min=0)), out)


def fit_bins(images, grid=GRID, min_share=MIN_SHARE):
    """The cells of the ab grid that pixels of uint8 NHWC images fall in, as (centres (K, 2), prior (K,)).

    A cell holding under `min_share` of the pixels is dropped (its few pixels, often stray noise, belong to the
    nearest kept bin instead): each bin is an output channel of the last two layers, whose cost grows with K^2.
    The prior is each kept bin's share of the pixels nearest to it.
    """
    def ab_of(start):
        return rgb_to_lab(to_float(images[start:start + 1000]))[:, 1:]
    counts = {}
    for start in range(0, len(images), 1000):
        ab = ab_of(start).permute(0, 2, 3, 1).reshape(-1, 2)
        cells, n = torch.unique(torch.round(ab.double() / grid).long(), dim=0, return_counts=True)
        for cell, count in zip(map(tuple, cells.tolist()), n.tolist()):
            counts[cell] = counts.get(cell, 0) + count
    total = sum(counts.values())
    cells = sorted(cell for cell, count in counts.items() if count >= min_share * total)
    if len(cells) < 2:  # a bins file load_bins would refuse
        raise InputError(f'the images use {len(cells)} cell(s) of the ab grid (grey pictures have no colour); Lab '
                         'classes need at least 2')
    centres = torch.tensor(cells, dtype=torch.float64) * grid
    prior = sum(torch.bincount(rgb_to_classes(ab_of(start), centres).flatten(), minlength=len(cells)).double()
                for start in range(0, len(images), 1000))
    return centres.numpy(), (prior / prior.sum()).numpy()


def save_bins(path, centres, prior, replace=False):
    """Refused (InputError) for bins that load_bins would refuse: no file is written that cannot be read."""
    centres, prior = np.asarray(centres, dtype=np.float64), np.asarray(prior, dtype=np.float64)
    check_bins(path, centres, prior)
    return write_pair(path, centres, prior, replace)


def load_bins(path):
    """(centres (K, 2), prior (K,)) float tensors from a bins file."""
    return check_bins(path, *read_pair(path, 'an ab bins file'))


def check_bins(path, centres, prior):
    """What a bins file must hold: K >= 2 distinct finite centres in ab's range and a prior that is a distribution."""
    if centres.ndim != 2 or centres.shape[1] != 2 or prior.shape != (len(centres),):
        raise InputError(f'{path} holds shapes {centres.shape} and {prior.shape}, expected (K, 2) and (K,)')
    if len(centres) < 2:
        raise InputError(f'{path} holds {len(centres)} bin(s); classes need at least 2')
    if not (np.isfinite(prior).all() and (prior >= 0).all() and prior.sum() > 0):
        raise InputError(f'{path} holds a prior that is not a distribution (non-finite or negative shares, or none)')
    return check_centres(path, centres, -128, 128, 'bins'), torch.from_numpy(prior).float()


def rebalance_weights(prior, lam):
    """Zhang's class weights: proportional to 1 / ((1 - lam) * prior + lam / K), scaled so the expected weight
    under the prior is 1. lam = 1 weighs every pixel alike; lam = 0 makes every bin equally important in total;
    Zhang uses 0.5. None means no rebalancing (all ones)."""
    if lam is None:
        return torch.ones_like(prior)
    weights = 1 / ((1 - lam) * prior + lam / len(prior))
    return weights / (prior * weights).sum()


def soft_targets(centres, neighbours=SOFT_NEIGHBOURS, sigma=SOFT_SIGMA):
    """(K, K) table: row k spreads bin k over its `neighbours` nearest bins with a Gaussian of width sigma."""
    distance = torch.cdist(centres.double(), centres.double())
    near, index = distance.topk(min(neighbours, len(centres)), largest=False)
    table = torch.zeros_like(distance).scatter_(1, index, torch.exp(-near ** 2 / (2 * sigma ** 2)))
    return (table / table.sum(1, keepdim=True)).float()


def weighted_cross_entropy(outputs, target, weights, table=None, smoothing=0.0):
    """Cross-entropy over the bins, each pixel weighted by its true bin's rebalancing weight (`weights`, see
    rebalance_weights), against the one-hot target or, given a soft_targets table, its spread over the nearest
    bins; smoothing mixes in the uniform distribution (label smoothing)."""
    soft = target if table is None else table.to(outputs.device)[target].permute(0, 3, 1, 2)
    per_pixel = F.cross_entropy(outputs, soft, reduction='none', label_smoothing=smoothing)
    return (weights.to(outputs.device)[target] * per_pixel).mean()


def decode_ab(outputs, centres, temperature=DEFAULT_TEMPERATURE):
    """Bin scores (N, K, H, W) -> ab (N, 2, H, W): the annealed mean, i.e. the mean of the bins under the softmax
    sharpened by 1/temperature (1: the plain mean, dull; towards 0: the mode, vivid but patchy); 0 gives the mode."""
    centres = centres.to(outputs.device)
    if temperature < torch.finfo(outputs.dtype).tiny:  # 0, or so small that it is 0 in the scores' precision
        return centres[outputs.argmax(1)].permute(0, 3, 1, 2)
    # the top score taken off first: a tiny temperature then sends the others to -inf, not inf - inf (NaN)
    probs = torch.softmax((outputs - outputs.amax(1, keepdim=True)) / temperature, dim=1)
    return torch.einsum('nkhw,kc->nchw', probs, centres)


def decode_lab(outputs, lightness, centres, temperature=DEFAULT_TEMPERATURE):
    """Bin scores and the input L/100 -> sRGB (N, 3, H, W) in [0, 1]."""
    return lab_to_rgb(lightness, decode_ab(outputs, centres, temperature))

