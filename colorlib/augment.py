"""Random flips, shifts and crops applied to a whole batch at once, to the grey input and its target alike."""
import torch
import torch.nn.functional as F

AUGMENTATIONS = ('hflip', 'vflip', 'shift', 'crop')
MAX_SHIFT = 4
MIN_CROP = 0.7  # a crop keeps 70% to 100% of each side, scaled back up to the full size


def flip(images, mask, dim):
    """Flip the images whose mask entry is True along `dim`, leaving the others as they are."""
    shape = (-1,) + (1,) * (images.dim() - 1)
    return torch.where(mask.view(shape), images.flip(dim), images)


def shift(images, rows, cols):
    """Translate each image by its own offset, repeating the edge pixels (indices clamped at the border).

    images: (N, C, H, W) or (N, H, W); rows: (N, H) and cols: (N, W) source indices per image.
    """
    batch = torch.arange(len(images), device=images.device)[:, None, None]
    if images.dim() == 3:
        return images[batch, rows[:, :, None], cols[:, None, :]]
    return images.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)


def crop(images, grid):
    """Sample the images on the crops' grid: bilinear for pictures, nearest for class indices (N, H, W)."""
    if images.is_floating_point():
        return F.grid_sample(images, grid.to(images.dtype), mode='bilinear', padding_mode='border', align_corners=False)
    picked = F.grid_sample(images[:, None].float(), grid, mode='nearest', padding_mode='border', align_corners=False)
    return picked[:, 0].to(images.dtype)


def augment(grey, target, kinds, generator=None):
    """Apply each augmentation in `kinds` to a random choice of images (half for flips, all for shifts and crops)."""
    n, height, width = len(grey), grey.shape[-2], grey.shape[-1]
    device = grey.device
    for kind in kinds:
        if kind in ('hflip', 'vflip'):
            mask = torch.rand(n, generator=generator, device=device) < 0.5
            dim = -1 if kind == 'hflip' else -2
            grey, target = flip(grey, mask, dim), flip(target, mask, dim)
        elif kind == 'shift':
            offsets = torch.randint(-MAX_SHIFT, MAX_SHIFT + 1, (n, 2), generator=generator, device=device)
            rows = (torch.arange(height, device=device) + offsets[:, :1]).clamp(0, height - 1)
            cols = (torch.arange(width, device=device) + offsets[:, 1:]).clamp(0, width - 1)
            grey, target = shift(grey, rows, cols), shift(target, rows, cols)
        elif kind == 'crop':  # a random square of each image, of 70% to 100% of its side, scaled back up
            scale = MIN_CROP + (1 - MIN_CROP) * torch.rand(n, generator=generator, device=device)
            centre = (2 * torch.rand(n, 2, generator=generator, device=device) - 1) * (1 - scale)[:, None]
            theta = torch.zeros(n, 2, 3, device=device)
            theta[:, 0, 0], theta[:, 1, 1], theta[:, :, 2] = scale, scale, centre
            grid = F.affine_grid(theta, (n, 1, height, width), align_corners=False)
            grey, target = crop(grey, grid), crop(target, grid)
        else:
            raise ValueError(f'unknown augmentation {kind!r}')
    return grey, target
