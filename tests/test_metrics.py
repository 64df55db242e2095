"""Tests for colorlib.metrics: PSNR and SSIM per image (SSIM checked against scikit-image), averaged over the batch,
and colourfulness."""
import math

import numpy as np
import pytest
import torch

from colorlib.metrics import colourfulness, psnr, ssim


def test_psnr_of_a_known_error():
    truth = torch.full((2, 3, 16, 16), 0.5)
    assert math.isclose(psnr(truth + 0.1, truth), 20.0, abs_tol=1e-3)  # MSE 0.01 -> 10 log10(1 / 0.01)


def test_psnr_is_the_mean_of_the_per_image_figures():
    truth = torch.full((2, 3, 16, 16), 0.5)
    pred = truth.clone()
    pred[0] += 0.1   # 20 dB
    pred[1] += 0.01  # 40 dB
    assert math.isclose(psnr(pred, truth), 30.0, abs_tol=1e-3)  # a pooled MSE would give about 23 dB


def test_psnr_of_a_perfect_copy_is_infinite():
    truth = torch.rand(1, 3, 8, 8)
    assert psnr(truth, truth) == math.inf


def test_ssim_is_one_for_a_copy_and_falls_with_noise():
    gen = torch.Generator().manual_seed(0)
    truth = torch.rand(3, 3, 32, 32, generator=gen)
    assert math.isclose(ssim(truth, truth), 1.0, abs_tol=1e-5)
    slight = (truth + 0.05 * torch.randn(truth.shape, generator=gen)).clamp(0, 1)
    heavy = (truth + 0.3 * torch.randn(truth.shape, generator=gen)).clamp(0, 1)
    assert 1.0 > ssim(slight, truth) > ssim(heavy, truth)


def test_ssim_of_pictures_smaller_than_its_window_is_not_defined():
    truth = torch.rand(2, 3, 8, 32)  # scikit-image refuses these; a report says n/a (tests/test_report.py)
    assert ssim(truth, truth) is None and ssim(truth[..., :10, :], truth[..., :10, :]) is None
    smallest = torch.rand(2, 3, 11, 11)
    assert math.isclose(ssim(smallest, smallest), 1.0, abs_tol=1e-5)


def test_colourfulness_of_grey_and_of_pure_red():
    grey = torch.rand(2, 1, 8, 8).expand(2, 3, 8, 8)
    assert colourfulness(grey) == 0.0
    red = torch.zeros(1, 3, 8, 8)
    red[:, 0] = 1.0
    # flat red: no spread, rg = 255 and yb = 127.5 everywhere -> 0.3 * sqrt(255^2 + 127.5^2)
    assert math.isclose(colourfulness(red), 0.3 * math.hypot(255, 127.5), rel_tol=1e-5)


def test_colourfulness_grows_with_saturation():
    gen = torch.Generator().manual_seed(0)
    images = torch.rand(4, 3, 16, 16, generator=gen)
    grey = images.mean(1, keepdim=True)
    faded = grey + 0.5 * (images - grey)
    assert colourfulness(images) > colourfulness(faded) > 0
    assert math.isclose(colourfulness(faded), 0.5 * colourfulness(images), rel_tol=1e-4)  # it is linear in chroma


@pytest.mark.parametrize('noise, size', [(0.02, 32), (0.1, 32), (0.3, 20)])
def test_ssim_is_scikit_images(noise, size, horses):
    """The common convention: scikit-image's structural_similarity with the Gaussian window of Wang et al. and the
    border cropped, on real horses with noise, per image, averaged."""
    skimage = pytest.importorskip('skimage.metrics', reason='scikit-image is a test dependency (pip install ".[test]")')
    gen = torch.Generator().manual_seed(1)
    truth = torch.from_numpy(horses[1][:4, :size, :size]).permute(0, 3, 1, 2).double() / 255
    pred = (truth + noise * torch.randn(truth.shape, generator=gen, dtype=torch.float64)).clamp(0, 1)
    expected = np.mean([skimage.structural_similarity(p.permute(1, 2, 0).numpy(), t.permute(1, 2, 0).numpy(),
                                                      gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                                      data_range=1.0, channel_axis=2)
                        for p, t in zip(pred, truth)])
    assert math.isclose(ssim(pred.float(), truth.float()), expected, abs_tol=1e-4)

