"""Image-quality figures for decoded colour images: PSNR and SSIM (kornia) and Hasler & Suesstrunk colourfulness.

Every function takes (N, 3, H, W) float tensors in [0, 1] and returns the mean over the batch as a float.
"""
import kornia
import torch

SSIM_WINDOW = 11


def psnr(pred, truth):
    """Peak signal-to-noise ratio in dB, per image (peak 1.0), averaged over the batch."""
    pred, truth = pred.float().clamp(0, 1), truth.float()
    return torch.stack([kornia.metrics.psnr(p, t, 1.0) for p, t in zip(pred, truth)]).mean().item()


def ssim(pred, truth):
    """Structural similarity with an 11x11 Gaussian window, averaged over pixels, channels and the batch."""
    return kornia.metrics.ssim(pred.float().clamp(0, 1), truth.float(), SSIM_WINDOW, max_val=1.0).mean().item()


def colourfulness(images):
    """Hasler & Suesstrunk (2003) colourfulness on the 0-255 scale, as in the paper (about 0: grey, over 100:
    extremely colourful): spread plus 0.3 times the mean of the opponent channels R-G and (R+G)/2-B."""
    rgb = images.float().clamp(0, 1) * 255
    r, g, b = rgb[:, 0].flatten(1), rgb[:, 1].flatten(1), rgb[:, 2].flatten(1)
    rg, yb = r - g, (r + g) / 2 - b
    spread = (rg.var(1, unbiased=False) + yb.var(1, unbiased=False)).sqrt()
    centre = (rg.mean(1) ** 2 + yb.mean(1) ** 2).sqrt()
    return (spread + 0.3 * centre).mean().item()
