"""Image quality figures for decoded pictures: PSNR, SSIM and colourfulness.

pred and truth are (N, 3, H, W) float tensors in [0, 1]; each function returns the mean over the batch. All three
are a few tensor operations in float32: `--valid` prints them, so they must cost well under a second for the 1000
test pictures (an 11x11 float64 convolution took seven seconds on a 2-core CPU).
"""
import torch

SSIM_WINDOW, SSIM_SIGMA = 11, 1.5  # the usual Gaussian window of Wang et al. (2004)


def psnr(pred, truth):
    """Peak signal-to-noise ratio in dB, computed per image and averaged (a per-batch MSE would weight
    the easy images less); infinite for a perfect copy."""
    mse = (pred.float() - truth.float()).pow(2).flatten(1).mean(1)
    return (10 * torch.log10(1 / mse)).mean().item()


def gaussian_window(size, device):
    """The 1-D Gaussian window as a (size, size - 10) matrix whose columns are the window at each position where it
    fits: x @ window averages the rows of x locally, the border cropped."""
    taps = torch.arange(SSIM_WINDOW, dtype=torch.float32, device=device) - SSIM_WINDOW // 2
    g = torch.exp(-taps ** 2 / (2 * SSIM_SIGMA ** 2))
    offset = torch.arange(size, device=device)[:, None] - torch.arange(size - SSIM_WINDOW + 1, device=device)
    inside = (offset >= 0) & (offset < SSIM_WINDOW)
    return torch.where(inside, (g / g.sum())[offset.clamp(0, SSIM_WINDOW - 1)], 0.0)


def ssim(pred, truth):
    """Structural similarity (Wang et al. 2004), 1 for a perfect copy, as scikit-image's structural_similarity
    (gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1) and torchmetrics compute it: local
    statistics under an 11x11 Gaussian window (sigma 1.5), kept only where the window fits inside the image (the
    border cropped, nothing padded), averaged over pixels and channels per image, then over the images.

    The window is separable, so each local mean is one matrix product for the columns and one for the rows, over the
    five statistics at once (5x faster than the same separable window as two convolutions here); float32 is enough
    for figures printed to four places. None for pictures smaller than the window, where it is not defined."""
    pred, truth = pred.float(), truth.float()
    h, w = pred.shape[-2:]
    if min(h, w) < SSIM_WINDOW:
        return None
    stats = torch.stack([pred, truth, pred * pred, truth * truth, pred * truth])
    mu_p, mu_t, pp, tt, pt = gaussian_window(h, pred.device).T @ stats @ gaussian_window(w, pred.device)
    var_p, var_t, cov = pp - mu_p ** 2, tt - mu_t ** 2, pt - mu_p * mu_t
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
