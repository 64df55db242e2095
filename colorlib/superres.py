"""Super-resolution inputs as in the handout: the image averaged down 4x per side, and its upsampled versions."""
import torch.nn.functional as F

FACTOR = 4


def downsize(rgb):
    """(N, 3, H, W) -> (N, 3, H/4, W/4): two 2x2 average pools, the handout's low-resolution image."""
    return F.avg_pool2d(F.avg_pool2d(rgb, 2), 2)


def upsample(small, mode):
    """Bring a downsized image back to full size: 'nearest' (the network's input), 'bilinear' or 'bicubic'.

    Bicubic overshoots at edges, so it is clamped to [0, 1] like every picture we score.
    """
    if mode == 'nearest':
        return F.interpolate(small, scale_factor=FACTOR, mode='nearest')
    return F.interpolate(small, scale_factor=FACTOR, mode=mode, align_corners=False).clamp(0, 1)


def superres_input(rgb):
    """The network's input: the 4x-downsized image, nearest-neighbour upsampled to the original size."""
    return upsample(downsize(rgb), 'nearest')
