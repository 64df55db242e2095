"""Images as colorlib takes them in: files read by Pillow (any format, bit depth and orientation), and uint8 NHWC
arrays turned into the float NCHW tensors the networks see. The data sets (colorlib.data, colorlib.folders) and
colorize read through here."""

import numpy as np
import torch
from PIL import Image, ImageOps

from colorlib.files import require_file


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
            peak = 1.0 if image.mode == 'F' else 65535.0 if values.max() > 255 or 'I;16' in image.mode else 255.0
            return np.clip(values / peak, 0, 1)[:, :, None], None
        has_alpha = image.mode in ('RGBA', 'LA', 'PA', 'La', 'RGBa') or 'transparency' in image.info
        mode = 'RGBA' if has_alpha else 'RGB'
        rgba = np.asarray(image if image.mode == mode else image.convert(mode))
    if not has_alpha:
        return rgba, None
    return np.ascontiguousarray(rgba[:, :, :3]), np.ascontiguousarray(rgba[:, :, 3])


def to_float(images):
    """uint8 NHWC -> float NCHW in [0, 1), divided by 256 as the assignment does."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 256


def to_grey(rgb):
    """(N,3,H,W) -> (N,1,H,W): the plain channel mean the assignment uses as the network's input."""
    return rgb.mean(dim=1, keepdim=True)
