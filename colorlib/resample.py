"""Pictures scaled to the size the network sees them at, and the network's colour scaled back up to theirs."""
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def resize(pixels, height, width):
    """read_image's pixels scaled to (height, width) by Pillow's bilinear filter, which widens when it shrinks."""
    if pixels.dtype == np.uint8:
        return np.asarray(Image.fromarray(pixels).resize((width, height), Image.BILINEAR))
    return np.asarray(Image.fromarray(pixels[:, :, 0], 'F').resize((width, height), Image.BILINEAR))[:, :, None]


def seen_size(height, width, net_size):
    """(height, width) of a picture as the network sees it with net_size: its shorter side scaled to net_size."""
    if net_size is None:
        return height, width
    scale = net_size / min(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def as_seen(pixels, net_size):
    """read_image's pixels as the network sees them with net_size (resize), or themselves at that size."""
    size = seen_size(*pixels.shape[:2], net_size)
    return pixels if size == pixels.shape[:2] else resize(pixels, *size)


def upsample_rows(ab, height, width, top, bottom):
    """Rows top..bottom of `ab` (2, h, w) scaled to (height, width) bilinearly, exactly as F.interpolate(...,
    align_corners=False) scales the whole of it, without making the whole."""
    ys = (torch.arange(top, bottom, device=ab.device) + 0.5) / height * 2 - 1
    xs = (torch.arange(width, device=ab.device) + 0.5) / width * 2 - 1
    grid = torch.stack(torch.meshgrid(xs, ys, indexing='xy'), dim=-1)[None].to(ab.dtype)
    return F.grid_sample(ab[None], grid, mode='bilinear', padding_mode='border', align_corners=False)[0]
