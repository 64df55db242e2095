"""Images as colorlib takes them in: files read by Pillow (any format, bit depth and orientation), and uint8 NHWC
arrays turned into the float NCHW tensors the networks see. The data sets (colorlib.data, colorlib.folders) and
colorize read through here."""

import numpy as np
import torch
from PIL import Image, ImageOps

from colorlib.errors import InputError
from colorlib.files import require_file

SHAPES = {4: '(N, H, W, 3)', 3: '(H, W, 3)'}  # images given as arrays: a batch, or one picture
SIDES = 'sides that are multiples of 4, at least 8'  # what the networks train on: trainable_sides


def trainable_sides(height, width):
    """Whether the networks train on pictures of this size: they pool twice by 2 and upsample back (multiples of 4),
    and BatchNorm needs more than one value per channel after the pooling, also in a batch of one picture."""
    return height % 4 == 0 and width % 4 == 0 and min(height, width) >= 8


def read_image(path):
    """The pixels and the alpha channel ((H, W) uint8, or None) of any file Pillow reads: 8- or 16-bit, grey, palette,
    with alpha or a transparent colour, turned upright by its EXIF tag. Pixels are (H, W, 3) uint8 RGB, or for 16-
    and 32-bit grey (H, W, 1) float32 in [0, 1], every level kept: a byte or four a pixel, not the twelve of float
    RGB. Regular files only: a FIFO or a device would never end."""
    require_file(path)
    with Image.open(path) as image:
        image.load()
        ImageOps.exif_transpose(image, in_place=True)  # no copy: a 100-megapixel image is 400 MB in Pillow
        if image.mode in ('I', 'I;16', 'I;16B', 'I;16L', 'F'):  # 16-bit (or 32-bit) grey: keep every level
            values = np.asarray(image, dtype=np.float32)
            check_levels(path, values, image.mode)
            peak = 1.0 if image.mode == 'F' else 65535.0 if values.max() > 255 or 'I;16' in image.mode else 255.0
            return np.clip(values / peak, 0, 1)[:, :, None], None
        has_alpha = image.mode in ('RGBA', 'LA', 'PA', 'La', 'RGBa') or 'transparency' in image.info
        mode = 'RGBA' if has_alpha else 'RGB'
        rgba = np.asarray(image if image.mode == mode else image.convert(mode))
    if not has_alpha:
        return rgba, None
    return np.ascontiguousarray(rgba[:, :, :3]), np.ascontiguousarray(rgba[:, :, 3])


def check_levels(path, values, mode):
    """An InputError unless a grey picture's levels mean something: finite, and 0-1 for floating point ('F'), 0-65535
    for integers. NaN would become black, and -500..500 a clipped guess, without a word."""
    if values.size and not np.isfinite(values).all():
        bad = int((~np.isfinite(values)).sum())
        raise InputError(f'{path} holds {bad} pixel(s) that are NaN or infinite; it is no picture to colour')
    if values.size:
        low, high = float(values.min()), float(values.max())
        top = 1.0 if mode == 'F' else 65535.0
        if low < 0 or high > top:
            raise InputError(f'{path} holds levels from {low:g} to {high:g}, outside 0-{top:g} for a '
                             f'{"floating-point" if mode == "F" else "32-bit"} picture')


def picture_size(path):
    """(height, width) of a picture file, from its header: nothing is decoded (colorlib.memory checks it first)."""
    require_file(path)
    with Image.open(path) as image:
        width, height = image.size
    return height, width


def as_uint8(images, name, ndim=4):
    """The one rule for pictures given as arrays, everywhere in the API: uint8 (0-255), or floating point in [0, 1]
    (turned into uint8 here, so that both mean the same wherever they go), RGB in the last axis. Anything else is an
    InputError naming `name`: uint16, int64 or float 0-255 would pass for near-white pictures, an alpha channel would
    be folded into the grey input, and an empty array ends in a division by zero."""
    try:
        array = np.ascontiguousarray(images)  # a view of negative strides too, as torch.from_numpy takes none
    except (ValueError, TypeError) as err:  # a ragged list, or something that is no array
        raise InputError(f'{name} is not an array of pictures ({" ".join(str(err).split())[:120]})', [name]) from None
    if array.dtype != np.uint8 and not np.issubdtype(array.dtype, np.floating):
        raise InputError(f'{name} is an array of {array.dtype}; pictures are uint8 (0-255) or float (0-1)', [name])
    if array.ndim != ndim or array.shape[-1] != 3:
        raise InputError(f'{name} has shape {array.shape}, not {SHAPES[ndim]} (RGB, no alpha)', [name])
    if array.size == 0:
        raise InputError(f'{name} holds no pixels (shape {array.shape})', [name])
    if array.dtype != np.uint8:
        low, high = array.min(), array.max()
        if not (low >= 0 and high <= 1):  # NaN fails too
            raise InputError(f'{name} is float from {low} to {high}; float pictures are 0-1 (0-255 ones are uint8)',
                             [name])
        array = (array * 255).round().astype(np.uint8)
    return array


def to_float(images):
    """uint8 NHWC -> float NCHW in [0, 1), divided by 256 as the assignment does."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 256


def to_grey(rgb):
    """(N,3,H,W) -> (N,1,H,W): the plain channel mean the assignment uses as the network's input."""
    return rgb.mean(dim=1, keepdim=True)
