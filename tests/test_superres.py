"""Tests for colorlib.superres: the handout's downsized input and the bilinear/bicubic baselines."""
import pytest
import torch

from colorlib.superres import downsize, superres_input, upsample


def test_downsize_averages_each_4x4_block():
    rgb = torch.rand(2, 3, 32, 24)
    small = downsize(rgb)
    assert small.shape == (2, 3, 8, 6)
    blocks = rgb.unfold(2, 4, 4).unfold(3, 4, 4)  # (N, C, 8, 6, 4, 4)
    assert torch.allclose(small, blocks.mean((-1, -2)), atol=1e-6)


def test_superres_input_is_the_small_image_in_constant_4x4_blocks():
    rgb = torch.rand(2, 3, 32, 32)
    inputs = superres_input(rgb)
    assert inputs.shape == rgb.shape
    small = downsize(rgb)
    assert torch.equal(inputs[:, :, 4:8, 8:12], small[:, :, 1:2, 2:3].expand(2, 3, 4, 4))
    assert torch.allclose(downsize(inputs), small, atol=1e-6)  # pooling the input gives the 8x8 image back


@pytest.mark.parametrize('mode', ['nearest', 'bilinear', 'bicubic'])
def test_upsample_restores_the_size_and_keeps_a_flat_image_flat(mode):
    flat = torch.full((1, 3, 8, 6), 0.25)
    up = upsample(flat, mode)
    assert up.shape == (1, 3, 32, 24)
    assert torch.allclose(up, torch.full_like(up, 0.25), atol=1e-6)


def test_bicubic_is_clamped_and_bilinear_stays_in_range():
    small = (torch.rand(4, 3, 8, 8) > 0.5).float()  # hard edges make bicubic overshoot
    raw = torch.nn.functional.interpolate(small, scale_factor=4, mode='bicubic', align_corners=False)
    assert raw.min() < 0 and raw.max() > 1
    for mode in ('bilinear', 'bicubic'):
        up = upsample(small, mode)
        assert 0 <= up.min() and up.max() <= 1


def test_bilinear_is_smoother_than_nearest():
    small = torch.rand(2, 3, 8, 8)
    steps = {mode: upsample(small, mode).diff(dim=-1).abs().max() for mode in ('nearest', 'bilinear')}
    assert steps['bilinear'] < steps['nearest']
