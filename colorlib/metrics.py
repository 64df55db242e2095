"""Image quality figures for decoded pictures: PSNR (kornia), SSIM and colourfulness.

pred and truth are (N, 3, H, W) float tensors in [0, 1]; each function returns the mean over the batch.
"""
import torch
import torch.nn.functional as F

SSIM_WINDOW = 11  # the usual Gaussian window of Wang et al. (2004), sigma 1.5


def psnr(pred, truth):
    """Peak signal-to-noise ratio in dB, computed per image and averaged (a per-batch MSE would weight
    the easy images less); infinite for a perfect copy."""
    import kornia  # imported on first use: half a second of start-up that training need not pay
    per_image = [kornia.metrics.psnr(p, t, max_val=1.0) for p, t in zip(pred.float(), truth.float())]
    return torch.stack(per_image).mean().item()


def ssim(pred, truth):
    """Structural similarity (Wang et al. 2004), 1 for a perfect copy, as scikit-image's structural_similarity
    (gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1) and torchmetrics compute it: local
    statistics under an 11x11 Gaussian window (sigma 1.5), kept only where the window fits inside the image (the
    border cropped, nothing padded), averaged over pixels and channels per image, then over the images."""
    pred, truth = pred.double(), truth.double()
    channels = pred.shape[1]
    taps = torch.arange(SSIM_WINDOW, dtype=torch.float64, device=pred.device) - SSIM_WINDOW // 2
    g = torch.exp(-taps ** 2 / (2 * 1.5 ** 2))
    g = g / g.sum()
    window = (g[:, None] * g[None, :]).expand(channels, 1, SSIM_WINDOW, SSIM_WINDOW)

    def local_mean(x):
        return F.conv2d(x, window, groups=channels)
    mu_p, mu_t = local_mean(pred), local_mean(truth)
    var_p = local_mean(pred * pred) - mu_p ** 2
    var_t = local_mean(truth * truth) - mu_t ** 2
    cov = local_mean(pred * truth) - mu_p * mu_t
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    index = (2 * mu_p * mu_t + c1) * (2 * cov + c2) / ((mu_p ** 2 + mu_t ** 2 + c1) * (var_p + var_t + c2))
    return index.mean((1, 2, 3)).mean().item()


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
