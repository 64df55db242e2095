"""Tests for colorlib.metrics: PSNR, SSIM and colourfulness on images whose figures are known."""
import math

import torch

from colorlib.metrics import colourfulness, psnr, ssim


def test_psnr_is_the_mean_of_per_image_figures():
    truth = torch.full((2, 3, 8, 8), 0.5)
    pred = truth.clone()
    pred[0] += 0.1  # MSE 0.01: 20 dB
    pred[1] += 0.01  # MSE 0.0001: 40 dB
    assert math.isclose(psnr(pred, truth), 30.0, abs_tol=1e-3)


def test_ssim_is_one_for_identical_images_and_lower_for_noise():
    truth = torch.rand(2, 3, 16, 16)
    assert math.isclose(ssim(truth, truth), 1.0, abs_tol=1e-4)
    assert ssim((truth + 0.3 * torch.randn_like(truth)).clamp(0, 1), truth) < 0.9


def test_colourfulness_of_grey_and_of_a_two_colour_image():
    assert colourfulness(torch.rand(1, 1, 8, 8).expand(1, 3, 8, 8)) == 0
    image = torch.zeros(1, 3, 2, 2)
    image[0, 0, 0] = 1  # top row red: rg = 255, yb = 127.5; bottom row black: 0, 0
    spread = math.sqrt(127.5 ** 2 + 63.75 ** 2)
    centre = math.sqrt(127.5 ** 2 + 63.75 ** 2)
    assert math.isclose(colourfulness(image), spread + 0.3 * centre, rel_tol=1e-5)
