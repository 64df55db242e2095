"""Image quality figures for decoded pictures: PSNR and SSIM (kornia) and colourfulness.

pred and truth are (N, 3, H, W) float tensors in [0, 1]; each function returns the mean over the batch.
"""
import torch

SSIM_WINDOW = 11  # the usual Gaussian window of Wang et al. (2004), sigma 1.5


def psnr(pred, truth):
    """Peak signal-to-noise ratio in dB, computed per image and averaged (a per-batch MSE would weight
    the easy images less); infinite for a perfect copy."""
    import kornia  # imported on first use: half a second of start-up that training need not pay
    per_image = [kornia.metrics.psnr(p, t, max_val=1.0) for p, t in zip(pred.float(), truth.float())]
    return torch.stack(per_image).mean().item()


def ssim(pred, truth):
    """Structural similarity, 1 for a perfect copy: kornia's SSIM map averaged over pixels, channels and images."""
    import kornia
    return kornia.metrics.ssim(pred.float(), truth.float(), SSIM_WINDOW, max_val=1.0).mean().item()


def colourfulness(images):
    """Hasler & Suesstrunk (2003) colourfulness on the 0-255 scale of their paper (0: grey, ~33 moderately,
    ~59 quite, ~109 extremely colourful): std and mean of the opponent channels rg = R - G and
    yb = (R + G) / 2 - B, combined as sigma + 0.3 mu, per image, averaged over the batch."""
    images = images.float() * 255
    r, g, b = images[:, 0], images[:, 1], images[:, 2]
    rg, yb = (r - g).flatten(1), (0.5 * (r + g) - b).flatten(1)
    sigma = (rg.var(1, unbiased=False) + yb.var(1, unbiased=False)).sqrt()
    mu = (rg.mean(1) ** 2 + yb.mean(1) ** 2).sqrt()
    return (sigma + 0.3 * mu).mean().item()
