"""Random flips and shifts applied to a whole batch at once, to the grey input and its target alike."""
import torch

AUGMENTATIONS = ('hflip', 'vflip', 'shift')
MAX_SHIFT = 4


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


def augment(grey, target, kinds, generator=None):
    """Apply each augmentation in `kinds` to a random choice of images (half for flips, all for shifts)."""
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
        else:
            raise ValueError(f'unknown augmentation {kind!r}')
    return grey, target
