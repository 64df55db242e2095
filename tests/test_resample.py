"""Tests for colorlib.resample: the network's colour scaled back up band by band is the whole scaled up."""
import numpy as np
import torch

from colorlib.resample import resize, upsample_rows


def test_upsampled_rows_are_rows_of_the_whole_upsampled_picture():
    ab = torch.randn(2, 7, 11)
    whole = torch.nn.functional.interpolate(ab[None], size=(30, 41), mode='bilinear', align_corners=False)[0]
    for top, bottom in ((0, 30), (0, 4), (12, 20), (28, 30)):
        torch.testing.assert_close(upsample_rows(ab, 30, 41, top, bottom), whole[:, top:bottom], atol=1e-5, rtol=0)


def test_resize_takes_rgb_and_float_grey():
    rgb = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    grey = np.random.default_rng(1).random((20, 30, 1), dtype=np.float32)
    assert resize(rgb, 10, 15).shape == (10, 15, 3) and resize(rgb, 10, 15).dtype == np.uint8
    small = resize(grey, 10, 15)
    assert small.shape == (10, 15, 1) and small.dtype == np.float32
    assert abs(small.mean() - grey.mean()) < 0.02


def test_seen_size_scales_the_shorter_side_to_net_size():
    from colorlib.resample import as_seen, seen_size
    assert seen_size(40, 60, None) == (40, 60) and seen_size(40, 60, 40) == (40, 60)
    assert seen_size(40, 60, 20) == (20, 30) and seen_size(60, 40, 80) == (120, 80)
    pixels = np.zeros((40, 60, 3), np.uint8)
    assert as_seen(pixels, 40) is pixels and as_seen(pixels, 20).shape == (20, 30, 3)
