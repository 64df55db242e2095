"""Tests for colorlib.lab and the LabBins target: the ab bins, their file, rebalancing, soft targets, decoding."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from colorlib import shipped
from colorlib.checkpoints import load_weights
from colorlib.images import to_float
from colorlib.errors import InputError
from colorlib.files import write_pair
from colorlib.lab import (DEFAULT_TEMPERATURE, GRID, decode_ab, decode_lab, fit_bins, lab_to_rgb, load_bins,
                          rebalance_weights, rgb_to_lab, save_bins, soft_targets, weighted_cross_entropy)
from colorlib.metrics import colourfulness
from colorlib.models import ModelConfig, build_model
from colorlib.targets import LabBins
from conftest import one_line_error

DEFAULT_BINS = shipped.DEFAULT_BINS


def test_shipped_bins_cover_the_training_horses(horses):
    centres, prior = load_bins(DEFAULT_BINS)
    assert centres.shape[1] == 2 and prior.shape == (len(centres),)
    assert torch.allclose(centres / GRID, (centres / GRID).round())  # centres on the grid
    assert abs(prior.sum().item() - 1) < 1e-5 and (prior > 0).all()
    grey = torch.all(centres == 0, dim=1).nonzero().item()
    assert prior.argmax() == grey  # greyish pixels are the most common, as Zhang found
    lightness, classes = LabBins(centres, prior).encode(to_float(horses[0][:50]))
    ab = rgb_to_lab(torch.from_numpy(horses[0][:50]).permute(0, 3, 1, 2).float() / 256)[:, 1:]
    # nearly every training pixel lies in its bin's grid cell (|ab - centre| <= GRID / 2 on both axes); the rest
    # come from the rare cells that were dropped
    inside = ((ab - centres[classes].permute(0, 3, 1, 2)).abs().amax(1) <= GRID / 2 + 1e-3).float().mean()
    assert inside > 0.99
    assert lightness.shape == (50, 1, 32, 32) and 0 <= lightness.min() and lightness.max() <= 1


def test_fit_bins_counts_the_cells_used(tmp_path):
    images = np.zeros((2, 4, 4, 3), np.uint8)
    images[0, :2] = (200, 30, 30)  # 8 red pixels, 24 black
    centres, prior = fit_bins(images)
    assert len(centres) == 2
    np.testing.assert_allclose(sorted(prior), [0.25, 0.75])
    images[1, 0, 0] = (30, 200, 30)  # one green pixel in 32: dropped at a share of 5%, counted with the black ones
    centres, prior = fit_bins(images, min_share=0.05)
    assert len(centres) == 2
    np.testing.assert_allclose(sorted(prior), [0.25, 0.75])
    assert len(fit_bins(images, min_share=0.01)[0]) == 3
    save_bins(tmp_path / 'bins.npy', centres, prior)
    loaded, loaded_prior = load_bins(tmp_path / 'bins.npy')
    np.testing.assert_allclose(loaded.numpy(), centres)
    np.testing.assert_allclose(loaded_prior.numpy(), prior)


def test_bad_bins_files_are_input_errors(tmp_path):
    with pytest.raises(InputError) as e:
        load_bins(tmp_path / 'nothing.npy')
    one_line_error(e, 'no such file', 'nothing.npy')
    (tmp_path / 'junk.npy').write_bytes(b'junk')
    with pytest.raises(InputError) as e:
        load_bins(tmp_path / 'junk.npy')
    one_line_error(e, 'junk.npy', 'not an ab bins file')
    with pytest.raises(InputError) as e:  # the writer refuses what the loader refuses: nothing is written
        save_bins(tmp_path / 'rgb.npy', np.zeros((4, 3)), np.ones(4) / 4)
    one_line_error(e, '(4, 3)', 'expected (K, 2)')
    assert not (tmp_path / 'rgb.npy').exists()
    write_pair(tmp_path / 'rgb.npy', np.zeros((4, 3)), np.ones(4) / 4)
    with pytest.raises(InputError) as e:
        load_bins(tmp_path / 'rgb.npy')
    one_line_error(e, 'rgb.npy', '(4, 3)', 'expected (K, 2)')


def test_rebalance_weights():
    prior = torch.tensor([0.7, 0.2, 0.09, 0.01])
    assert torch.equal(rebalance_weights(prior, None), torch.ones(4))
    torch.testing.assert_close(rebalance_weights(prior, 1.0), torch.ones(4))  # lambda 1: uniform mixing, no boost
    for lam in (0.0, 0.5):
        weights = rebalance_weights(prior, lam)
        torch.testing.assert_close((prior * weights).sum(), torch.tensor(1.0))  # expected weight 1
        assert (weights.diff() > 0).all()  # rarer bins weigh more
    total = prior * rebalance_weights(prior, 0.0)
    torch.testing.assert_close(total, torch.full((4,), 0.25))  # lambda 0: every bin counts the same in total


def test_soft_targets_spread_each_bin_over_its_neighbours():
    centres, _ = load_bins(DEFAULT_BINS)
    table = soft_targets(centres)
    torch.testing.assert_close(table.sum(1), torch.ones(len(centres)))
    assert torch.equal(table.argmax(1), torch.arange(len(centres)))
    assert ((table > 0).sum(1) == 5).all()


def test_loss_without_options_is_cross_entropy_and_options_change_it():
    centres, prior = load_bins(DEFAULT_BINS)
    outputs = torch.randn(2, len(centres), 4, 4)
    target = torch.randint(len(centres), (2, 4, 4))
    plain = LabBins(centres, prior).loss(outputs, target)
    torch.testing.assert_close(plain, F.cross_entropy(outputs, target))
    soft = LabBins(centres, prior, soft=True).loss(outputs, target)
    rebalanced = LabBins(centres, prior, rebalance=0.5).loss(outputs, target)
    assert soft != plain and rebalanced != plain
    # the target's options are lab.weighted_cross_entropy's weights and table
    torch.testing.assert_close(soft, weighted_cross_entropy(outputs, target, torch.ones(len(centres)),
                                                            soft_targets(centres)))
    torch.testing.assert_close(rebalanced, weighted_cross_entropy(outputs, target, rebalance_weights(prior, 0.5)))


def test_annealed_mean_runs_from_the_mean_to_the_mode():
    centres = torch.tensor([[0.0, 0.0], [40.0, 0.0], [0.0, -30.0]])
    logits = torch.tensor([2.0, 1.0, 0.0]).view(1, 3, 1, 1)
    probs = torch.softmax(logits, 1)
    mean = (probs.view(3, 1) * centres).sum(0)
    torch.testing.assert_close(decode_ab(logits, centres, 1.0).flatten(), mean)
    torch.testing.assert_close(decode_ab(logits, centres, 0).flatten(), centres[0])
    torch.testing.assert_close(decode_ab(logits, centres, 0.01).flatten(), centres[0], atol=1e-3, rtol=0)
    warm = decode_ab(logits, centres, 0.38).flatten()
    assert 0 < warm[0] < mean[0]  # sharper than the mean, not yet the mode


def test_decode_lab_keeps_the_input_lightness():
    rgb = torch.rand(2, 3, 8, 8) * 0.6 + 0.2
    lab = rgb_to_lab(rgb)
    centres, _ = load_bins(DEFAULT_BINS)
    rebuilt = lab_to_rgb(lab[:, :1] / 100, lab[:, 1:])
    torch.testing.assert_close(rebuilt, rgb, atol=1e-4, rtol=0)
    decoded = decode_lab(torch.randn(2, len(centres), 8, 8), lab[:, :1] / 100, centres)
    assert (rgb_to_lab(decoded)[:, 0] - lab[:, 0]).abs().median() < 0.5


def test_lab_bins_target_decodes_at_its_temperature():
    """The target's pictures are decode_lab at its temperature (the annealed mean), plus the mode as a second row."""
    centres, prior = load_bins(DEFAULT_BINS)
    rgb = torch.rand(2, 3, 8, 8)
    outputs = torch.randn(2, len(centres), 8, 8)
    target = LabBins(centres, prior)
    lightness = target.inputs(rgb)
    torch.testing.assert_close(lightness, rgb_to_lab(rgb)[:, :1] / 100)
    torch.testing.assert_close(target.decode(outputs, lightness), decode_lab(outputs, lightness, centres,
                                                                             DEFAULT_TEMPERATURE))
    (_, annealed), (label, mode) = target.pictures(outputs, lightness)
    torch.testing.assert_close(annealed, target.decode(outputs, lightness))
    assert label == 'mode'
    torch.testing.assert_close(mode, decode_lab(outputs, lightness, centres, 0))
    torch.testing.assert_close(LabBins(centres, prior, temperature=1.0).decode(outputs, lightness),
                               decode_lab(outputs, lightness, centres, 1.0))


def test_shipped_lab_weights_colour_like_the_truth(horses):
    """The shipped Lab UNet (soft-encoded, rebalanced) decodes test horses about as colourful as the originals,
    which a plain or untrained model does not (docs/colour-spaces.md)."""
    centres, prior = load_bins(DEFAULT_BINS)
    target = LabBins(centres, prior, rebalance=0.5, soft=True)
    config = ModelConfig('UNet', 3, 32, target.out_channels)
    model = load_weights(build_model(config), shipped.weights('unet_lab_k3_f32')).eval()
    truth = to_float(horses[1][:50])
    lightness, _ = target.encode(truth)
    with torch.no_grad():
        decoded = target.decode(model(lightness), lightness)
    assert 0.7 * colourfulness(truth) < colourfulness(decoded) < 1.5 * colourfulness(truth)
    torch.manual_seed(0)
    untrained = build_model(config).eval()
    with torch.no_grad():
        assert colourfulness(target.decode(untrained(lightness), lightness)) < 0.7 * colourfulness(truth)


def test_a_tiny_temperature_decodes_the_mode_not_nan():
    scores = torch.randn(2, 5, 3, 3, generator=torch.Generator().manual_seed(0)) * 10
    centres = torch.randn(5, 2, generator=torch.Generator().manual_seed(1)) * 50
    for temperature in (1e-300, 1e-30):  # 0 in float32, and a float32 number that overflows the scores
        tiny = decode_ab(scores, centres, temperature)
        assert torch.isfinite(tiny).all() and torch.allclose(tiny, decode_ab(scores, centres, temperature=0))
    assert torch.allclose(decode_ab(scores, centres, 0.38), torch.einsum(
        'nkhw,kc->nchw', torch.softmax(scores / 0.38, dim=1), centres), atol=1e-4)  # the same as before elsewhere


def test_frame_conversions_match_the_whole_ones_up_to_rounding():
    """lightness_of and lab_to_uint8 (colorize's frame path) give kornia's L and its RGB rounded to 8 bits, for
    uint8 RGB and float grey pixels, with a level of difference at most in a few values."""
    from colorlib.colorize import to_rgb, to_uint8
    from colorlib.lab import lab_to_uint8, lightness_of
    rng = np.random.default_rng(0)
    for pixels in (rng.integers(0, 256, (40, 50, 3), dtype=np.uint8), rng.random((40, 50, 1), dtype=np.float32)):
        lab = rgb_to_lab(to_rgb(pixels)[None])
        lightness = lightness_of(pixels)
        torch.testing.assert_close(lightness, lab[0, 0], atol=1e-4, rtol=0)
        ab = lab[0, 1:] + torch.from_numpy(rng.normal(0, 30, (2, 40, 50))).float()  # colours outside sRGB too
        expected = to_uint8(lab_to_rgb(lightness[None, None] / 100, ab[None])[0]).astype(int)
        out = torch.empty(40, 50, 3, dtype=torch.uint8)
        got = lab_to_uint8(lightness, ab[0], ab[1], out).numpy().astype(int)
        assert np.abs(got - expected).max() <= 1 and (got != expected).mean() < 0.01
