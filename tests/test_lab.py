"""Tests for colorlib.lab: the ab bins, their file, rebalancing, soft targets, decoding, Lab training via the CLI."""
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from colorlib.checkpoints import load_weights
from colorlib.cli import main
from colorlib.errors import UsageError
from colorlib.lab import (DEFAULT_BINS, GRID, decode_ab, decode_lab, fit_bins, lab_to_rgb, load_bins, make_lab_dataset,
                          make_loss, rebalance_weights, rgb_to_lab, save_bins, soft_targets)
from colorlib.metrics import colourfulness
from colorlib.models import build_model


@pytest.fixture(scope='module')
def small_npz(horses, tmp_path_factory):
    """20 training and 10 test horses in the .npz layout --data reads (89 output channels make training slow)."""
    train_x, test_x = horses
    path = tmp_path_factory.mktemp('data') / 'small_horses.npz'
    np.savez(path, train_x=train_x[:20], train_y=np.full(20, 7), test_x=test_x[:10], test_y=np.full(10, 7))
    return str(path)


def test_shipped_bins_cover_the_training_horses(horses):
    centres, prior = load_bins(DEFAULT_BINS)
    assert centres.shape[1] == 2 and prior.shape == (len(centres),)
    assert torch.allclose(centres / GRID, (centres / GRID).round())  # centres on the grid
    assert abs(prior.sum().item() - 1) < 1e-5 and (prior > 0).all()
    grey = torch.all(centres == 0, dim=1).nonzero().item()
    assert prior.argmax() == grey  # greyish pixels are the most common, as Zhang found
    lightness, classes = make_lab_dataset(horses[0][:50], centres)
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


def test_bad_bins_files_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match='--bins: no such file'):
        load_bins(tmp_path / 'nothing.npy')
    (tmp_path / 'junk.npy').write_bytes(b'junk')
    with pytest.raises(UsageError, match='not an ab bins file'):
        load_bins(tmp_path / 'junk.npy')
    save_bins(tmp_path / 'rgb.npy', np.zeros((4, 3)), np.ones(4) / 4)
    with pytest.raises(UsageError, match=r'expected \(K, 2\)'):
        load_bins(tmp_path / 'rgb.npy')


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
    plain = make_loss(centres, prior)(outputs, target)
    torch.testing.assert_close(plain, F.cross_entropy(outputs, target))
    assert make_loss(centres, prior, soft=True)(outputs, target) != plain
    assert make_loss(centres, prior, rebalance=0.5)(outputs, target) != plain


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


def test_lab_training_then_valid_via_the_cli(small_npz, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ['--model', 'UNet', '-f', '4', '-b', '10', '--data', small_npz, '--colour-space', 'lab']
    main(argv + ['-e', '1', '--soft-encode', '--rebalance', '0.5', '--checkpoint', 'lab.pkl'])
    out = capsys.readouterr().out
    assert 'Epoch [1/1]' in out and (tmp_path / 'outputs' / 'unet_lab_k3_f4' / 'samples.png').is_file()
    main(argv + ['--valid', '--checkpoint', 'lab.pkl', '--temperature', '0'])
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith('Val Loss:') and 'Val Acc:' in lines[1]
    assert lines[2].startswith('PSNR:') and lines[3] == 'Sample output available at: outputs/eval_UNet_lab.png'
    assert (tmp_path / 'outputs' / 'eval_UNet_lab.png').is_file()
    for wrong, named in ((['--valid', '--checkpoint', 'lab.pkl'], '--colour-space/--bins'),  # 89 bins, not 24 colours
                         (['--colour-space', 'lab', '--task', 'superres', '-e', '1'], '--task superres'),
                         (['--colour-space', 'lab', '--valid', '--legacy-eval', '--checkpoint', 'lab.pkl'],
                          '--legacy-eval')):
        with pytest.raises(SystemExit) as exit_:
            main(['--model', 'UNet', '-f', '4', '--data', small_npz] + wrong)
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and named in err and len(err.splitlines()) == 1, err


def test_shipped_lab_weights_colour_like_the_truth(horses):
    """The shipped Lab UNet (soft-encoded, rebalanced) decodes test horses about as colourful as the originals,
    which a plain or untrained model does not (docs/colour-spaces.md)."""
    centres, _ = load_bins(DEFAULT_BINS)
    path = Path(__file__).resolve().parents[1] / 'weights' / 'unet_lab_k3_f32.pkl'
    model = load_weights(build_model('UNet', 3, 32, len(centres)), path).eval()
    lightness, _ = make_lab_dataset(horses[1][:50], centres)
    with torch.no_grad():
        decoded = decode_lab(model(lightness), lightness, centres)
    truth = torch.from_numpy(horses[1][:50]).permute(0, 3, 1, 2).float() / 256
    assert 0.7 * colourfulness(truth) < colourfulness(decoded) < 1.5 * colourfulness(truth)
    torch.manual_seed(0)
    untrained = build_model('UNet', 3, 32, len(centres)).eval()
    with torch.no_grad():
        assert colourfulness(decode_lab(untrained(lightness), lightness, centres)) < 0.7 * colourfulness(truth)
