"""Tests for colorlib.cli.colorization (colorization.py, color_regression.py): the assignment's reference figures,
end-to-end training runs, and bad input (exit status 2, one line on stderr naming the flag, nothing written)."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from colorlib import machine
from colorlib.checkpoints import load_weights, read_about, read_palette, read_resumable, save_weights
from colorlib.cli.activations import main as main_activations
from colorlib.cli.colorization import main, main_regression
from colorlib.cli.colorize import main as main_colorize
from colorlib.colours import load_colours
from colorlib.images import to_float
from colorlib.metrics import colourfulness, psnr, ssim
from colorlib.models import FlipAveraged, ModelConfig, build_model
from colorlib.shipped import DEFAULT_COLOURS
from colorlib.targets import RGB, ColourClasses
from colorlib.train import evaluate, predict
from conftest import (assert_png, assignment_colours_path, assignment_weights_path, call, needs_shared, snapshot,
                      write_horses_npz)

REPO = Path(__file__).resolve().parents[1]
DATA = str(REPO / 'data' / 'cifar10_horse.npz')
COLOURS = str(DEFAULT_COLOURS)  # the project's own 24 colours, absolute
C24 = str(assignment_colours_path(24))
C16 = str(assignment_colours_path(16))
BLOCKS = ['downconv1', 'downconv2', 'rfconv', 'upconv1', 'upconv2', 'finalconv']
QUALITY_LINE = re.compile(r'PSNR: (\d+\.\d{2}) dB, SSIM: (-?[01]\.\d{4}), colourfulness: (\d+\.\d) \(truth (\d+\.\d)\)')
EPOCH_LINE = re.compile(r'Epoch \[(\d+)/(\d+)\], Loss: (\d+\.\d{4}), Val Loss: (\d+\.\d{4})(?:, Val Acc: (\d+\.\d)%)?, '
                        r'Time\(s\): \d+\.\d{2}')


def weights(model, num_filters):
    return str(assignment_weights_path(model, num_filters))


regression_main = main_regression


def epoch_lines(out):
    return [line for line in out.splitlines() if line.startswith('Epoch [')]


def figure_lines(out):
    """--valid's lines but the one on how the weights were trained (ours say it; the assignment's do not)."""
    return [line for line in out.splitlines() if not line.startswith('Trained with ')]

# -----------------------------------------------------------------------------
# (1) the assignment's checkpoints reproduce its published figures


REFERENCE = [
    pytest.param('CNN', 'CNN', [], 'Val Loss: 1.5811, Val Acc: 41.2%', 'Val Loss: 1.5881, Val Acc: 41.1%', id='CNN'),
    pytest.param('UNet', 'UNet', [], 'Val Loss: 1.3786, Val Acc: 48.2%', 'Val Loss: 1.3659, Val Acc: 48.0%',
                 id='UNet'),
    pytest.param('DUNet', 'DUNet', [], 'Val Loss: 1.5181, Val Acc: 42.6%', 'Val Loss: 1.4353, Val Acc: 45.8%',
                 id='DUNet'),
    pytest.param('DUNet', 'DUNet', ['--dilation', '0'], 'Val Loss: 1.4967, Val Acc: 43.5%',
                 'Val Loss: 1.4554, Val Acc: 45.4%', id='DUNet-dilation0'),
]


@needs_shared
@pytest.mark.parametrize('legacy', [False, True], ids=['eval', 'legacy'])
@pytest.mark.parametrize('model, stem_model, extra, figures, legacy_figures', REFERENCE)
def test_valid_reproduces_the_assignment_figures(model, stem_model, extra, figures, legacy_figures, legacy,
                                                 tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    checkpoint = weights(stem_model, 32)
    argv = ['--valid', '--model', model, '--checkpoint', checkpoint, '-c', C24, '--data', DATA] + extra
    code, out, err = call(main, argv + (['--legacy-eval'] if legacy else []), capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[:2] == [f'Evaluating Model {model}: {checkpoint}', legacy_figures if legacy else figures]
    assert QUALITY_LINE.fullmatch(lines[2]) and len(lines) == 4, out
    assert lines[3] == f'Sample output available at: outputs/eval_{model}.png'
    assert_png(tmp_path / 'outputs' / f'eval_{model}.png')


@needs_shared
def test_regression_valid_reproduces_the_assignment_figure(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    checkpoint = weights('RegressionCNN', 32)
    code, out, err = call(regression_main, ['--valid', '--checkpoint', checkpoint, '--data', DATA], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[:2] == [f'Evaluating Model RegressionCNN: {checkpoint}', 'Val Loss: 0.0063']
    assert QUALITY_LINE.fullmatch(lines[2]) and len(lines) == 4, out
    assert lines[3] == 'Sample output available at: outputs/eval_regression.png'
    assert_png(tmp_path / 'outputs' / 'eval_regression.png')

def test_valid_without_checkpoint_uses_the_shipped_weights(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    shipped = str(REPO / 'weights' / 'dunet_k3_f32.pkl')
    code, out, err = call(main, ['--valid', '--model', 'DUNet', '--data', DATA], capsys)
    assert code == 0, err
    code, named, err = call(main, ['--valid', '--model', 'DUNet', '--data', DATA, '--checkpoint', shipped], capsys)
    assert code == 0, err
    assert out.splitlines()[0] == f'Evaluating Model DUNet: {shipped}'
    assert out == named

# -----------------------------------------------------------------------------
# (1b) the weights we ship beat the assignment's own checkpoints of the same model, each with its own colours

ASSIGNMENT_FIGURES = {'CNN': (1.5811, 41.2), 'UNet': (1.3786, 48.2), 'DUNet': (1.5181, 42.6),
                      'RegressionCNN': (0.00627, None)}
VALID_LINE = re.compile(r'Val Loss: (\d+\.\d{4})(?:, Val Acc: (\d+\.\d)%)?')


@pytest.mark.parametrize('model, stem', [('CNN', 'cnn'), ('UNet', 'unet'), ('DUNet', 'dunet'),
                                         ('RegressionCNN', 'regression_cnn')])
def test_shipped_weights_beat_the_assignment(model, stem, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    entry = regression_main if model == 'RegressionCNN' else main
    argv = ['--checkpoint', str(REPO / 'weights' / f'{stem}_k3_f32.pkl'), '--valid', '--data', DATA]
    code, out, err = call(entry, argv + ([] if model == 'RegressionCNN' else ['--model', model]), capsys)
    assert code == 0, err
    loss, acc = VALID_LINE.search(out).groups()
    best_loss, best_acc = ASSIGNMENT_FIGURES[model]
    if model == 'RegressionCNN':  # four printed digits are too few here: recompute the MSE
        grey, rgb = RGB().encode(to_float(np.load(DATA)['test_x']))
        net = load_weights(build_model(ModelConfig(model, out_channels=3)), REPO / 'weights' / f'{stem}_k3_f32.pkl').eval()
        with torch.no_grad():
            assert torch.mean((net(grey) - rgb) ** 2).item() < best_loss
    else:
        assert float(loss) < best_loss and float(acc) > best_acc, out

# -----------------------------------------------------------------------------
# (2) training end to end


def test_colorization_script_trains_one_epoch_then_validates_its_weights(tmp_path, monkeypatch, capsys):
    proc = subprocess.run([sys.executable, str(REPO / 'colorization.py'), '--model', 'UNet', '-e', '1', '-b', '100',
                           '--data', DATA, '-c', COLOURS, '--experiment-name', 'e2e', '--checkpoint', 'w.pkl'],
                          cwd=tmp_path, capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stderr
    assert 'Traceback' not in proc.stderr
    lines = epoch_lines(proc.stdout)
    assert len(lines) == 1
    match = EPOCH_LINE.fullmatch(lines[0])
    assert match and match.group(1, 2) == ('1', '1') and match.group(5) is not None, lines[0]
    out_dir = tmp_path / 'outputs' / 'e2e'
    rows = [json.loads(line) for line in (out_dir / 'metrics.jsonl').read_text().splitlines()]
    assert len(rows) == 1 and rows[0]['epoch'] == 1
    assert f'{rows[0]["val_loss"]:.4f}' == match.group(4) and f'{rows[0]["val_acc"]:.1f}' == match.group(5)
    assert_png(out_dir / 'training_curve.png')
    assert_png(out_dir / 'samples.png')
    assert not (out_dir / 'weights.pkl').exists()  # --checkpoint chose where the weights went

    state = torch.load(tmp_path / 'w.pkl', map_location='cpu', weights_only=True)
    expected = build_model(ModelConfig('UNet', 3, 32, 24)).state_dict()
    assert isinstance(state, dict) and all(torch.is_tensor(v) for v in state.values())
    assert set(state) == {k for k in expected if not k.endswith('num_batches_tracked')}
    assert all(state[k].shape == expected[k].shape for k in state)

    monkeypatch.chdir(tmp_path)
    code, out, err = call(main, ['--valid', '--model', 'UNet', '--checkpoint', 'w.pkl', '-c', COLOURS,
                                 '--data', DATA], capsys)
    assert code == 0, err
    said, trained, figures = out.splitlines()[:3]  # the weights say how they were trained, and --valid prints it
    assert said == 'Evaluating Model UNet: w.pkl' and trained.startswith('Trained with -e 1 -b 100 ')
    assert figures == f'Val Loss: {match.group(4)}, Val Acc: {match.group(5)}%'
    assert_png(tmp_path / 'outputs' / 'eval_UNet.png')


def test_color_regression_trains_and_plots_every_epoch(small_npz, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ['-e', '2', '-b', '50', '-f', '8', '--data', small_npz, '--plot', '--experiment-name', 'reg',
            '--device', 'cpu']
    code, out, err = call(regression_main, argv, capsys)
    assert code == 0, err
    lines = epoch_lines(out)
    assert len(lines) == 2
    for n, line in enumerate(lines, 1):
        match = EPOCH_LINE.fullmatch(line)
        assert match and match.group(1, 2) == (str(n), '2') and match.group(5) is None, line
    out_dir = tmp_path / 'outputs' / 'reg'
    rows = [json.loads(line) for line in (out_dir / 'metrics.jsonl').read_text().splitlines()]
    assert [row['epoch'] for row in rows] == [1, 2] and all(row['val_acc'] is None for row in rows)
    for name in ('samples_epoch001.png', 'samples_epoch002.png', 'training_curve.png', 'samples.png'):
        assert_png(out_dir / name)
    state = torch.load(out_dir / 'weights.pkl', map_location='cpu', weights_only=True)
    assert state['finalconv.bias'].shape == (3,) and state['downconv1.0.weight'].shape == (8, 1, 3, 3)
    assert f'Weights saved to {Path("outputs") / "reg" / "weights.pkl"}' in out.splitlines()


def test_training_without_plot_writes_no_epoch_grids(small_npz, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ['--model', 'CNN', '-e', '1', '-b', '100', '-f', '4', '--data', small_npz, '-c', COLOURS,
            '--device', 'cpu']
    code, out, err = call(main, argv, capsys)
    assert code == 0, err
    out_dir = tmp_path / 'outputs' / 'cnn_k3_f4'  # the default experiment name
    assert sorted(p.name for p in out_dir.iterdir()) == ['metrics.jsonl', 'resume.pt', 'samples.png',
                                                         'training_curve.png', 'weights.pkl']
    assert len(epoch_lines(out)) == 1

def test_amp_trains_and_validates_in_bfloat16_on_cpu(small_npz, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ['--model', 'UNet', '-e', '1', '-b', '100', '-f', '4', '--data', small_npz, '-c', COLOURS,
            '--device', 'cpu', '--amp', '--checkpoint', 'w.pkl']
    code, out, err = call(main, argv, capsys)
    assert code == 0, err
    native, why = machine.fast_bf16(torch.device('cpu'))
    assert out.splitlines()[0] == f'precision: bfloat16 autocast (asked for; {why})'
    # where bfloat16 is emulated, --amp on warns, on one line; where it is fast, nothing is said
    assert err == ('' if native else f'colorization.py: warning: bfloat16 asked for, but {why}: it is emulated there '
                                     'and can be many times slower than float32\n')
    match = EPOCH_LINE.fullmatch(epoch_lines(out)[0])
    assert match and np.isfinite(float(match.group(4)))
    state = torch.load(tmp_path / 'w.pkl', weights_only=True)
    assert state['finalconv.weight'].dtype == torch.float32  # autocast leaves the weights in float32
    code, out, err = call(main, ['--model', 'UNet', '-f', '4', '--data', small_npz, '-c', COLOURS, '--device', 'cpu',
                                 '--amp', 'on', '--valid', '--checkpoint', 'w.pkl'], capsys)
    assert code == 0 and 'Val Loss: ' in out, err


@pytest.mark.parametrize('flags, said', [([], 'float32 (bfloat16 autocast turned off)'),
                                         (['--no-amp'], 'float32 (bfloat16 autocast turned off)'),
                                         (['--amp', 'off'], 'float32 (bfloat16 autocast turned off)'),
                                         (['--amp', 'auto'], None)])
def test_training_says_its_precision_first(flags, said, small_npz, tmp_path, monkeypatch, capsys):
    """The assignment's default is float32; auto is bfloat16 only on a CPU with bfloat16 arithmetic (mocked in
    tests/test_machine.py); the choice is the first line and goes into resume.pt as what ran."""
    monkeypatch.chdir(tmp_path)
    argv = ['--model', 'CNN', '-e', '1', '-f', '4', '--data', small_npz, '-c', COLOURS, '--device', 'cpu',
            '--checkpoint', 'w.pkl', *flags]
    code, out, err = call(main, argv, capsys)
    bf16, why = machine.use_bf16(torch.device('cpu'), 'auto')
    assert code == 0 and err == '', err
    assert out.splitlines()[0] == f'precision: {said or why}'
    run = read_resumable(tmp_path / 'outputs' / 'cnn_k3_f4' / 'resume.pt')['run']
    assert run['amp'] is (bf16 if said is None else False)


@pytest.mark.parametrize('device', ['mps', 'cuda'])
def test_a_device_that_is_not_here_is_one_line(device, sentinels, monkeypatch, capsys):
    monkeypatch.setattr(machine, 'available', lambda kind: kind == 'cpu')
    before = snapshot(sentinels)
    code, _, err = call(main, TRAIN + ['--device', device], capsys)
    assert code == 2 and err.count('\n') == 1 and 'Traceback' not in err, err
    assert f'--device {device}' in err and f'no {device.upper()} device is available here' in err
    assert snapshot(sentinels) == before


def test_compile_trains_the_compiled_model_and_saves_plain_names(small_npz, tmp_path, monkeypatch, capsys):
    """torch.compile wraps the model under `_orig_mod`; the checkpoint must keep the assignment's names."""
    compiled = []

    def fake_compile(model):  # the same wrapper layout as torch.compile, without minutes of compiling on 2 cores
        wrapper = torch.nn.Module()
        wrapper._orig_mod = model
        wrapper.forward = lambda x: model(x)
        compiled.append(wrapper)
        return wrapper

    monkeypatch.setattr(torch, 'compile', fake_compile)
    monkeypatch.chdir(tmp_path)
    argv = ['--model', 'CNN', '-e', '1', '-f', '4', '--data', small_npz, '-c', COLOURS, '--device', 'cpu',
            '--compile', '--checkpoint', 'w.pkl']
    code, out, err = call(main, argv, capsys)
    assert code == 0, err
    assert len(compiled) == 1
    load_weights(build_model(ModelConfig('CNN', 3, 4, 24)), tmp_path / 'w.pkl')  # strict: no `_orig_mod.` prefixes


def test_extra_categories_and_augmentation_train_on_more_images(horses, tmp_path, monkeypatch, capsys):
    """--extra-categories adds other classes' training images (read from --data); the test set stays horses."""
    train_x, test_x = horses
    fake_deer = 255 - train_x[:200]  # any images labelled deer (4) will do
    path = tmp_path / 'mixed.npz'
    np.savez(path, train_x=np.concatenate([train_x[:100], fake_deer]), train_y=np.array([7] * 100 + [4] * 200),
             test_x=np.concatenate([test_x[:50], 255 - test_x[:10]]), test_y=np.array([7] * 50 + [4] * 10))
    monkeypatch.chdir(tmp_path)
    argv = ['--model', 'UNet', '-e', '1', '-b', '100', '-f', '4', '--data', str(path), '-c', COLOURS,
            '--device', 'cpu', '--extra-categories', 'deer', '--augment', 'hflip,vflip,shift',
            '--lr-schedule', 'cosine', '--weight-decay', '0.01', '--experiment-name', 'mixed']
    code, _, err = call(main, argv, capsys)
    assert code == 0, err
    run = read_resumable(tmp_path / 'outputs' / 'mixed' / 'resume.pt')['run']  # what the trainer was given
    assert run['data.images'] == 300  # 100 horses + 200 deer
    assert run['augment'] == ('hflip', 'vflip', 'shift')
    assert run['lr_schedule'] == 'cosine' and run['weight_decay'] == 0.01


def test_extra_categories_all_is_every_other_class(horses, tmp_path, monkeypatch, capsys):
    """Pre-training on all of CIFAR-10: --extra-categories all adds the nine other classes, the horses once."""
    train_x, test_x = horses
    labels = np.repeat(np.arange(10), 20)  # 20 images of each class, the horses' own pictures standing in for all
    path = tmp_path / 'all.npz'
    np.savez(path, train_x=train_x[:200], train_y=labels, test_x=test_x[:50], test_y=np.repeat(np.arange(10), 5))
    monkeypatch.chdir(tmp_path)
    argv = ['--model', 'CNN', '-e', '1', '-f', '4', '--data', str(path), '-c', COLOURS, '--device', 'cpu',
            '--extra-categories', 'all', '--experiment-name', 'all']
    code, _, err = call(main, argv, capsys)
    assert code == 0, err
    assert read_resumable(tmp_path / 'outputs' / 'all' / 'resume.pt')['run']['data.images'] == 200


@pytest.mark.parametrize('flag, value, words', [
    ('--augment', 'rotate', ['--augment', 'rotate', 'hflip']),
    ('--extra-categories', 'deer,zebra', ['--extra-categories', 'zebra']),
    ('--weight-decay', '-1', ['--weight-decay: weight_decay', '-1']),
    ('--lr-schedule', 'step', ['--lr-schedule', 'step']),
])
def test_bad_recipe_flags_are_one_line_errors(flag, value, words, capsys):
    code, _, err = call(main, [flag, value], capsys)
    assert code == 2 and err.count('\n') == 1 and 'Traceback' not in err
    for word in words:
        assert word in err, (word, err)

# -----------------------------------------------------------------------------
# (2b) super-resolution, --loss mse, and the PSNR/SSIM line of --valid


def train_tiny(small_npz, argv, capsys):
    """Train a tiny model for one epoch on the small horses; returns the checkpoint path."""
    code, _, err = call(main, argv + ['-e', '1', '-b', '100', '-f', '4', '--data', small_npz, '-c', COLOURS,
                                      '--device', 'cpu', '--checkpoint', 'tiny.pkl'], capsys)
    assert code == 0, err
    return 'tiny.pkl'


def quality_figures(line):
    """(PSNR, SSIM, colourfulness of the pictures, colourfulness of the truth) of a picture line."""
    match = QUALITY_LINE.fullmatch(line)
    assert match, line
    return tuple(float(x) for x in match.groups())


def library_figures(pictures, truth):
    return (round(psnr(pictures, truth), 2), round(ssim(pictures, truth), 4), round(colourfulness(pictures), 1),
            round(colourfulness(truth), 1))


@pytest.mark.parametrize('model, loss', [('UNet', 'ce'), ('CNN', 'mse')])
def test_superres_trains_then_valid_prints_psnr_beside_bilinear_and_bicubic(model, loss, small_npz, tmp_path,
                                                                            monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    flags = ['--model', model, '--task', 'superres', '--loss', loss]
    checkpoint = train_tiny(small_npz, flags, capsys)
    mse = '_mse' if loss == 'mse' else ''
    assert (tmp_path / 'outputs' / f'superres_{model.lower()}{mse}_k3_f4' / 'metrics.jsonl').is_file()
    state = torch.load(checkpoint, weights_only=True)
    assert state['downconv1.0.weight'].shape[1] == 3  # 3 input channels
    assert state['finalconv.bias'].shape == ((3,) if loss == 'mse' else (24,))

    code, out, err = call(main, ['--valid', '--checkpoint', checkpoint, '-f', '4', '--data', small_npz, '-c', COLOURS]
                          + flags, capsys)
    assert code == 0, err
    lines = figure_lines(out)
    assert len(lines) == 6 and lines[0] == f'Evaluating Model {model}: {checkpoint}', out
    assert VALID_LINE.fullmatch(lines[1]) and (loss == 'mse') == ('Val Acc' not in lines[1]), lines[1]
    net_psnr, net_ssim, _, _ = quality_figures(lines[2])
    assert lines[3].startswith('Bilinear ') and lines[4].startswith('Bicubic ')
    # the baselines, recomputed here on the same 100 test images
    truth = torch.from_numpy(np.load(small_npz)['test_x'].transpose(0, 3, 1, 2).astype(np.float32) / 256)
    small = torch.nn.functional.avg_pool2d(truth, 4)
    for line, mode in zip(lines[3:5], ('bilinear', 'bicubic')):
        up = torch.nn.functional.interpolate(small, scale_factor=4, mode=mode).clamp(0, 1)
        assert quality_figures(line.split(' ', 1)[1]) == library_figures(up, truth)
    assert 0 < net_psnr < 60 and -1 <= net_ssim <= 1
    name = f'superres_{model}{mse}'
    assert lines[5] == f'Sample output available at: {Path("outputs") / f"eval_{name}.png"}'
    assert_png(tmp_path / 'outputs' / f'eval_{name}.png')


def test_superres_residual_adds_the_network_to_bicubic(small_npz, tmp_path, monkeypatch, capsys):
    """--residual trains its own run (superres_unet_res), and a network whose last layer is zero gives bicubic's
    pictures exactly: what it learns is added to them."""
    monkeypatch.chdir(tmp_path)
    flags = ['--model', 'UNet', '--task', 'superres', '--loss', 'mse', '--residual']
    checkpoint = train_tiny(small_npz, flags, capsys)
    assert (tmp_path / 'outputs' / 'superres_unet_res_k3_f4' / 'metrics.jsonl').is_file()
    state = torch.load(checkpoint, weights_only=True)
    valid = ['--valid', '-f', '4', '--data', small_npz] + flags
    code, out, err = call(main, valid + ['--checkpoint', checkpoint], capsys)
    assert code == 0, err
    trained, bicubic = figure_lines(out)[2], figure_lines(out)[4].split(' ', 1)[1]
    assert trained != bicubic
    torch.save({k: torch.zeros_like(v) if k.startswith('finalconv') else v for k, v in state.items()}, 'zero.pkl')
    code, out, err = call(main, valid + ['--checkpoint', 'zero.pkl'], capsys)
    assert code == 0, err
    assert figure_lines(out)[2] == figure_lines(out)[4].split(' ', 1)[1] == bicubic
    assert 'eval_superres_UNet_res.png' in figure_lines(out)[5]


@pytest.mark.parametrize('entry, flags', [(main, ['--model', 'DUNet']), (main, ['--model', 'UNet', '--loss', 'mse']),
                                          (regression_main, [])])
def test_colour_valid_prints_the_psnr_of_the_decoded_pictures(entry, flags, small_npz, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    common = ['-f', '4', '--data', small_npz, '-c', COLOURS, '--device', 'cpu', '--checkpoint', 'tiny.pkl']
    code, _, err = call(entry, flags + common + ['-e', '1'], capsys)
    assert code == 0, err
    code, out, err = call(entry, flags + common + ['--valid'], capsys)
    assert code == 0, err
    lines = figure_lines(out)
    assert len(lines) == 4 and VALID_LINE.fullmatch(lines[1]), out
    # the same figures from the library: the decoded pictures against the full-colour truth
    test_x = np.load(small_npz)['test_x']
    mse = '--loss' in flags or entry is regression_main
    target = RGB() if mse else ColourClasses(load_colours(COLOURS))
    model = flags[1] if flags else 'RegressionCNN'
    net = load_weights(build_model(ModelConfig(model, 3, 4, target.out_channels)), 'tiny.pkl')
    grey, _ = target.encode(to_float(test_x))
    pictures, truth = predict(net, target, grey), to_float(test_x)
    assert quality_figures(lines[2]) == library_figures(pictures, truth)


# -----------------------------------------------------------------------------
# (4) bad input: exit 2, one line on stderr, nothing written

TRAIN = ['--model', 'UNet', '-e', '1', '--checkpoint', 'keep.pkl', '--data', DATA, '-c', COLOURS]
VALID = ['--valid', '--model', 'UNet', '--data', DATA]

BAD_INPUT = [
    # (entry point, argv, words the message must hold)
    pytest.param(main, lambda: VALID + ['--checkpoint', 'missing.pkl', '-c', COLOURS],
                 ['--checkpoint', 'missing.pkl', 'no such file'], id='missing-checkpoint'),
    pytest.param(main, lambda: VALID + ['--checkpoint', 'corrupt.pkl', '-c', COLOURS],
                 ['--checkpoint', 'corrupt.pkl', 'cannot read'], id='corrupt-checkpoint'),
    pytest.param(main, lambda: VALID + ['--checkpoint', weights('CNN', 32), '-c', C24],
                 ['--checkpoint', 'cnn_k3_f32.pkl', 'UNet'], id='cnn-checkpoint-as-unet', marks=needs_shared),
    pytest.param(main, lambda: VALID + ['--checkpoint', weights('UNet', 16), '-f', '32', '-c', C24],
                 ['--checkpoint', 'unet_k3_f16.pkl', '-f', 'filters 16, not 32'], id='f16-checkpoint-with-f32', marks=needs_shared),
    pytest.param(main, lambda: VALID + ['--checkpoint', weights('UNet', 32), '-c', C16],
                 ['-c/--colours', 'unet_k3_f32.pkl', '24', '16'], id='16-colours-for-24-colour-checkpoint',
                 marks=needs_shared),
    pytest.param(main, lambda: VALID + ['--checkpoint', 'keep.pkl', '-c', 'missing_colours.npy'],
                 ['-c/--colours', 'missing_colours.npy', 'no such file'], id='missing-colours'),
    pytest.param(main, lambda: TRAIN + ['--data', 'nowhere.npz'], ['--data', 'nowhere.npz', 'no such file'],
                 id='missing-data'),
    pytest.param(main, lambda: TRAIN + ['--category', 'zebra'], ['--category', 'zebra'], id='category-zebra'),
    pytest.param(main, lambda: TRAIN + ['--category', '12'], ['--category', '12'], id='category-12'),
    pytest.param(main, lambda: TRAIN + ['--category', 'cat'], ['--category', "'cat'", 'bundled'],
                 id='category-absent-from-bundled-data'),
    pytest.param(main, lambda: TRAIN + ['-b', '0'], ['-b: batch_size', '0'], id='batch-0'),
    pytest.param(main, lambda: TRAIN + ['-b', 'abc'], ['-b/--batch-size', "'abc'", 'not an integer'], id='batch-abc'),
    pytest.param(main, lambda: TRAIN + ['-e', '0'], ['-e: epochs', '0'], id='epochs-0'),
    pytest.param(main, lambda: TRAIN + ['-f', '0'], ['-f: filters', '0'], id='filters-0'),
    pytest.param(main, lambda: TRAIN + ['-k', '4'], ['-k: kernel 4', 'even'], id='kernel-even'),
    pytest.param(main, lambda: TRAIN + ['-k', '0'], ['-k: kernel', '0'], id='kernel-0'),
    pytest.param(main, lambda: TRAIN + ['-l', 'inf'], ['-l: learn_rate', 'inf'], id='learn-rate-inf'),
    pytest.param(main, lambda: TRAIN + ['-l', '-1'], ['-l: learn_rate', '-1'], id='learn-rate-negative'),
    pytest.param(main, lambda: TRAIN + ['--checkpoint', 'a_folder', '--experiment-name', 'new'],
                 ['--checkpoint', 'a_folder', 'folder'],
                 id='checkpoint-is-a-folder'),
    pytest.param(main, lambda: VALID + ['-c', COLOURS, '-f', '16'], ['--checkpoint', 'unet_k3_f16.pkl', 'unet_k3_f32'],
                 id='valid-without-checkpoint-nothing-shipped'),
    pytest.param(main, lambda: TRAIN + ['--legacy-eval'], ['--legacy-eval', '--valid'], id='legacy-without-valid'),
    pytest.param(main, lambda: VALID + ['--legacy-eval', '--checkpoint', 'keep.pkl', '-s', '-1', '-c', COLOURS],
                 ['-s: seed', '-1'], id='negative-seed'),
    pytest.param(main, lambda: VALID + ['--legacy-eval', '--checkpoint', 'keep.pkl', '-s', str(2 ** 32)],
                 ['-s: seed', str(2 ** 32)], id='seed-too-large'),
    pytest.param(regression_main, lambda: ['--checkpoint', 'keep.pkl', '--data', DATA, '-b', '0'],
                 ['-b: batch_size'], id='regression-batch-0'),
    pytest.param(main, lambda: TRAIN + ['--task', 'zoom'], ['--task', 'zoom'], id='task-zoom'),
    pytest.param(main, lambda: TRAIN + ['--loss', 'l1'], ['--loss', 'l1'], id='loss-l1'),
    pytest.param(main, lambda: VALID + ['--checkpoint', weights('UNet', 32), '-c', C24, '--task', 'superres'],
                 ['--checkpoint', 'super-resolution', 'check --task'], id='colour-checkpoint-for-superres',
                 marks=needs_shared),
]


@pytest.mark.parametrize('entry, make_argv, words', BAD_INPUT)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(entry, make_argv, words, sentinels, capsys):
    before = snapshot(sentinels)
    code, out, err = call(entry, make_argv(), capsys)
    assert code == 2, (out, err)
    assert err.endswith('\n') and err.count('\n') == 1, err
    assert re.match(r'(colorization|color_regression|activations)\.py: error: ', err), err
    assert 'Traceback' not in err + out
    for word in words:
        assert word in err, (word, err)
    assert snapshot(sentinels) == before


@pytest.mark.skipif(torch.cuda.is_available(), reason='a CUDA device is present')
def test_gpu_flag_without_cuda_is_a_usage_error(sentinels, capsys):
    before = snapshot(sentinels)
    code, _, err = call(main, TRAIN + ['--gpu'], capsys)
    assert code == 2 and err.count('\n') == 1 and '--device cuda/--gpu' in err
    assert snapshot(sentinels) == before


def test_training_with_a_bad_flag_leaves_a_real_checkpoint_alone(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    torch.save({'w': torch.arange(3.0)}, tmp_path / 'mine.pkl')
    before = snapshot(tmp_path)
    for bad in (['-e', '0'], ['-k', '2'], ['--category', 'cat'], ['--batch-size', '-5'], ['--no-such-flag']):
        code, _, err = call(main, ['--checkpoint', 'mine.pkl', '--data', DATA, '-c', COLOURS] + bad, capsys)
        assert code == 2 and err.count('\n') == 1, (bad, err)
        assert snapshot(tmp_path) == before, bad
    assert torch.equal(torch.load(tmp_path / 'mine.pkl', weights_only=True)['w'], torch.arange(3.0))


def test_lab_training_then_valid(small_npz, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ['--model', 'UNet', '-f', '4', '-b', '10', '--data', small_npz, '--colour-space', 'lab']
    code, out, err = call(main, argv + ['-e', '1', '--soft-encode', '--rebalance', '0.5', '--checkpoint', 'lab.pkl'],
                          capsys)
    assert code == 0, err
    assert 'Epoch [1/1]' in out and (tmp_path / 'outputs' / 'unet_lab_k3_f4' / 'samples.png').is_file()
    run = read_resumable(tmp_path / 'outputs' / 'unet_lab_k3_f4' / 'resume.pt')['run']
    assert run['target.kind'] == 'lab' and run['target.soft'] and run['target.rebalance'] == 0.5
    code, out, err = call(main, argv + ['--valid', '--checkpoint', 'lab.pkl', '--temperature', '0'], capsys)
    assert code == 0, err
    lines = figure_lines(out)
    assert lines[1].startswith('Val Loss:') and 'Val Acc:' in lines[1]
    assert lines[2].startswith('PSNR:') and lines[3] == 'Sample output available at: outputs/eval_UNet_lab.png'
    assert_png(tmp_path / 'outputs' / 'eval_UNet_lab.png')
    code, out, err = call(main, ['--model', 'UNet', '-f', '4', '--data', small_npz, '--valid', '--checkpoint',
                                 'lab.pkl'], capsys)  # the file says it holds Lab bins: no --colour-space needed
    assert code == 0 and 'outputs/eval_UNet_lab.png' in out, err
    for wrong, named in ((['--valid', '--checkpoint', 'lab.pkl', '--loss', 'mse'], '--checkpoint: lab.pkl'),
                         (['--colour-space', 'lab', '--task', 'superres', '-e', '1'], '--task superres'),
                         (['--colour-space', 'lab', '--valid', '--legacy-eval', '--checkpoint', 'lab.pkl'],
                          '--legacy-eval')):
        code, _, err = call(main, ['--model', 'UNet', '-f', '4', '--data', small_npz] + wrong, capsys)
        assert code == 2 and named in err and len(err.splitlines()) == 1, err


def test_valid_with_tta_adds_the_flip_averaged_figures_apart(small_npz, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    flags = ['--model', 'UNet', '-f', '4', '--data', small_npz, '-c', COLOURS, '--device', 'cpu', '--checkpoint', 't.pkl']
    assert call(main, flags + ['-e', '1'], capsys)[0] == 0
    code, plain, err = call(main, flags + ['--valid'], capsys)
    assert code == 0, err
    code, out, err = call(main, flags + ['--valid', '--tta'], capsys)
    assert code == 0, err
    lines = figure_lines(out)
    assert lines[:3] == figure_lines(plain)[:3]  # the plain figures first, unchanged
    tta = lines[3]
    assert tta.startswith('With flip averaging: Val Loss: ')
    target = ColourClasses(load_colours(COLOURS))
    net = FlipAveraged(load_weights(build_model(ModelConfig('UNet', 3, 4, 24)), 't.pkl'))
    inputs, classes = target.encode(to_float(np.load(small_npz)['test_x']))
    loss, acc = evaluate(net, target, inputs, classes)
    assert tta.split('; ')[0] == f'With flip averaging: Val Loss: {loss:.4f}, Val Acc: {acc:.1f}%'
    assert quality_figures(tta.split('; ')[1]) == library_figures(predict(net, target, inputs), to_float(
        np.load(small_npz)['test_x']))
    code, _, err = call(main, flags + ['--tta'], capsys)
    assert code == 2 and '--tta' in err and '--valid' in err


def test_own_pictures_train_validate_and_fine_tune(horses, tmp_path, monkeypatch, capsys):
    """A folder of 64x64 pictures unlike the horses the shipped UNet knows (their red and blue swapped): --valid
    reads it, and training from the shipped weights (--init) lowers its validation loss; a broken file is skipped
    with one line."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / 'mine' / 'nested'
    folder.mkdir(parents=True)
    for i, image in enumerate(horses[1][:100]):
        Image.fromarray(image[:, :, ::-1]).resize((64, 64), Image.BICUBIC).save(folder / f'h{i:03d}.png')
    (folder / 'broken.jpg').write_bytes(b'\xff\xd8 not a jpeg')
    shipped = str(REPO / 'weights' / 'unet_k3_f32.pkl')
    flags = ['--model', 'UNet', '--data', 'mine', '--image-size', '64', '--device', 'cpu']
    code, out, err = call(main, flags + ['--valid', '--checkpoint', shipped], capsys)
    assert code == 0, err
    assert err.strip() == f'colorization.py: skipped {Path("mine") / "nested" / "broken.jpg"}: ' + err.split(': ', 2)[2].strip()
    assert '90 training and 10 test images of 64x64 from mine (10 of 101 held out for validation, seed 0; 1 skipped)' in out
    before = float(VALID_LINE.search(out).group(1))
    code, out, err = call(main, flags + ['--init', shipped, '-e', '2', '-b', '30', '--checkpoint', 'tuned.pkl'], capsys)
    assert code == 0, err
    assert 'read from outputs/cache/' in out  # the second run reads the cache
    after = float(EPOCH_LINE.fullmatch(epoch_lines(out)[-1]).group(4))
    assert after < before - 0.05, (before, after)
    code, out, _ = call(main, flags + ['--valid', '--checkpoint', 'tuned.pkl'], capsys)
    assert code == 0 and float(VALID_LINE.search(out).group(1)) == pytest.approx(after, abs=1e-4)
    (tmp_path / 'empty').mkdir()
    code, _, err = call(main, ['--model', 'UNet', '--data', 'empty', '-e', '1'], capsys)
    assert code == 2 and err.strip() == 'colorization.py: error: --data: empty holds no image files'
    code, _, err = call(main, flags + ['--init', 'nothing.pkl', '-e', '1', '--experiment-name', 'x'], capsys)
    assert code == 2 and '--init' in err and 'nothing.pkl' in err


@pytest.mark.parametrize('size', [32, 64, 96])
@pytest.mark.parametrize('command, flags', [
    (main, ['--model', 'CNN']), (main, ['--model', 'DUNet', '--task', 'superres']),
    (main, ['--model', 'UNet', '--colour-space', 'lab']), (main, ['--model', 'UNet', '--loss', 'mse']),
    (main, ['--model', 'UNet', '--task', 'superres', '--loss', 'mse']), (main_regression, [])],
    ids=['cnn', 'superres-dunet', 'lab-unet', 'mse-unet', 'superres-mse-unet', 'regression-cnn'])
def test_every_kind_trains_and_validates_on_pictures_of_any_size(command, flags, size, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'pics').mkdir()
    for i in range(12):
        Image.fromarray(np.random.default_rng(i).integers(0, 256, (50, 70, 3), dtype=np.uint8)).save(
            tmp_path / 'pics' / f'{i}.png')
    common = flags + ['--data', 'pics', '--image-size', str(size), '-f', '4', '--device', 'cpu', '--checkpoint', 'w.pkl']
    code, out, err = call(command, common + ['-e', '1', '-b', '4'], capsys)
    assert code == 0, err
    assert f'of {size}x{size}' in out and len(epoch_lines(out)) == 1
    code, out, err = call(command, common + ['--valid'], capsys)
    assert code == 0 and VALID_LINE.search(out), err


def test_a_new_run_on_own_pictures_fits_its_colours_and_keeps_them_with_the_weights(tmp_path, monkeypatch, capsys):
    """Without -c (or --bins), a run from scratch on a folder fits 24 k-means colours (or Lab bins) on its training
    pictures, stores them in the weights file, where --valid, activations, colorize and --init find them, and writes
    them beside it in the assignment's format for -c."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'pics').mkdir()
    for i in range(12):  # blue-green pictures: nothing like the horses' browns
        picture = np.zeros((40, 40, 3), np.uint8)
        picture[..., 1:] = np.random.default_rng(i).integers(0, 256, (40, 40, 2))
        Image.fromarray(picture).save(tmp_path / 'pics' / f'{i}.png')
    flags = ['--model', 'CNN', '-f', '4', '--data', 'pics', '--device', 'cpu']
    code, out, err = call(main, flags + ['-e', '1', '--checkpoint', 'mine.pkl'], capsys)
    assert code == 0, err
    assert 'Colours of the training pictures saved with the weights, and to mine.colours.npy' in out
    centres = load_colours('mine.colours.npy')
    assert centres.shape == (24, 3) and centres[:, 0].max() < 0.05  # no red in these pictures, unlike the horses
    torch.testing.assert_close(read_palette('mine.pkl')['colours.centres'], centres)
    os.rename('mine.pkl', 'moved.pkl')  # the weights alone, without the file beside them, keep their colours
    code, out, err = call(main, flags + ['--valid', '--checkpoint', 'moved.pkl'], capsys)
    assert code == 0 and VALID_LINE.search(out), err
    code, with_file, err = call(main, flags + ['--valid', '--checkpoint', 'moved.pkl', '-c', 'mine.colours.npy'], capsys)
    assert code == 0 and figure_lines(with_file)[2:4] == figure_lines(out)[2:4], err
    code, shipped_out, _ = call(main, flags + ['--valid', '--checkpoint', 'moved.pkl', '-c', str(DEFAULT_COLOURS)],
                                capsys)  # -c given wins: another palette, other figures
    assert code == 0 and figure_lines(shipped_out)[2] != figure_lines(out)[2]
    code, _, err = call(main_activations, ['0', '--model', 'CNN', '-f', '4', '--data', 'pics', '--checkpoint',
                                           'moved.pkl'], capsys)
    assert code == 0, err
    for name, extra in (('saved', []), ('file', ['-c', 'mine.colours.npy'])):
        code, _, err = call(main_colorize, ['pics/0.png', '--model', 'CNN', '-f', '4', '--checkpoint', 'moved.pkl',
                                            '-o', name, *extra], capsys)
        assert code == 0, err
    assert (tmp_path / 'saved' / '0_colorized.png').read_bytes() == (tmp_path / 'file' / '0_colorized.png').read_bytes()
    code, out, err = call(main, flags + ['-e', '1', '--init', 'moved.pkl', '--checkpoint', 'tuned.pkl',
                                       '--experiment-name', 'tuned'], capsys)
    assert code == 0, err  # fine-tuned weights keep the colours they started with
    torch.testing.assert_close(read_palette('tuned.pkl')['colours.centres'], centres)
    code, out, err = call(main, flags + ['-e', '1', '--checkpoint', 'lab.pkl', '--colour-space', 'lab',
                                       '--experiment-name', 'lab'], capsys)
    assert code == 0 and (tmp_path / 'lab.bins.npy').is_file(), err
    assert set(read_palette('lab.pkl')) == {'bins.centres', 'bins.prior'}
    code, out, err = call(main, flags + ['--colour-space', 'lab', '--valid', '--checkpoint', 'lab.pkl'], capsys)
    assert code == 0, err
    code, _, err = call(main, flags + ['-e', '1', '--checkpoint', 'mine.pkl'], capsys)  # the sidecar is not replaced
    assert code == 2 and '--overwrite' in err


def test_our_weights_need_no_model_flags_and_flags_that_contradict_them_are_refused(tiny_npz, tmp_path, monkeypatch,
                                                                                    capsys):
    """A file colorlib wrote says its model, sizes and target: --valid, activations and colorize take them from it;
    a flag given must agree with the file (it fills in only what the assignment's files do not say)."""
    from colorlib.cli.activations import main as activations
    monkeypatch.chdir(tmp_path)
    code, _, err = call(main, ['--model', 'DUNet', '-f', '4', '--task', 'superres', '--loss', 'mse', '-e', '1',
                               '--data', tiny_npz, '--device', 'cpu', '--checkpoint', 'mine.pkl'], capsys)
    assert code == 0, err
    code, out, err = call(main, ['--valid', '--checkpoint', 'mine.pkl', '--data', tiny_npz], capsys)
    assert code == 0 and 'Evaluating Model DUNet: mine.pkl' in out and 'Bicubic PSNR' in out, err
    assert (tmp_path / 'outputs' / 'eval_superres_DUNet_mse.png').is_file()
    code, out, err = call(activations, ['1', '--checkpoint', 'mine.pkl', '--data', tiny_npz], capsys)
    assert code == 0 and 'superres_DUNet_mse' in out, err
    for flags, words in ((['--model', 'UNet'], ["'DUNet'", "'UNet'", 'check --model']),
                         (['-f', '8'], ['filters 4', 'check -f']),
                         (['--task', 'colour'], ["'superres'", '--task'])):
        code, out, err = call(main, ['--valid', '--checkpoint', 'mine.pkl', '--data', tiny_npz] + flags, capsys)
        assert code == 2 and err.count('\n') == 1 and err.startswith('colorization.py: error: --checkpoint: mine.pkl')
        assert all(word in err for word in words), (words, err)


def test_init_from_our_weights_needs_no_model_flags(tmp_path, monkeypatch, horses, capsys):
    """Our weights say what they hold: --init takes the model from the file; a model flag that contradicts it is
    one line naming the file's model."""
    monkeypatch.chdir(tmp_path)
    write_horses_npz(tmp_path / 'data.npz', horses, 100, 20)
    torch.manual_seed(0)
    save_weights(build_model(ModelConfig('DUNet', 3, 4, 24, dilation=2)), tmp_path / 'mine.pkl')
    flags = ['--init', 'mine.pkl', '--data', 'data.npz', '-e', '1', '-b', '50', '--device', 'cpu']
    code, out, err = call(main, flags + ['--checkpoint', 'tuned.pkl'], capsys)
    assert code == 0, err
    assert read_about(tmp_path / 'tuned.pkl')['model'] == ModelConfig('DUNet', 3, 4, 24, dilation=2)
    assert (tmp_path / 'outputs' / 'dunet_k3_f4' / 'metrics.jsonl').is_file()  # the run is named after the file's
    code, _, err = call(main, flags + ['--model', 'UNet', '--checkpoint', 'other.pkl'], capsys)
    assert code == 2 and err.count('\n') == 1 and '--init' in err and "'DUNet'" in err and '--model' in err, err
    assert not (tmp_path / 'other.pkl').exists()


def test_valid_is_one_call_of_colorlib_evaluate_with_its_flags_as_keywords(small_npz, tmp_path, monkeypatch, capsys):
    from colorlib import api
    monkeypatch.chdir(tmp_path)
    calls, evaluate = [], api.evaluate

    def recorded(weights, **keywords):
        calls.append((weights, keywords))
        return evaluate(weights, **keywords)
    monkeypatch.setattr(api, 'evaluate', recorded)
    code, out, err = call(main, ['--valid', '--model', 'CNN', '--legacy-eval', '--tta', '-b', '50', '-s', '3',
                                 '--data', small_npz, '--device', 'cpu'], capsys)
    assert code == 0, err
    (weights, keywords), = calls
    assert weights is None and {k: keywords[k] for k in (
        'model', 'legacy', 'flips', 'batch_size', 'seed', 'amp', 'samples_dir', 'data', 'category')} == dict(
        model='CNN', legacy=True, flips=True, batch_size=50, seed=3, amp='off', samples_dir='outputs', data=small_npz,
        category='horse')
    assert out.splitlines()[0] == f'Evaluating Model CNN: {REPO / "weights" / "cnn_k3_f32.pkl"}'
    assert out.splitlines()[-1] == f'Sample output available at: {Path("outputs") / "eval_CNN.png"}'
    assert_png(tmp_path / 'outputs' / 'eval_CNN.png')


def test_evaluate_writes_the_sample_grid_where_asked_and_refuses_lab_legacy(small_npz, tmp_path):
    import colorlib
    from colorlib.errors import InputError
    test_x = colorlib.load_images(small_npz)[1][:20]
    result = colorlib.load('cnn').evaluate(test_x, samples_dir=tmp_path, amp='auto')
    assert result['samples'] == tmp_path / 'eval_CNN.png' and 'samples' not in colorlib.load('cnn').evaluate(test_x)
    assert_png(result['samples'])
    with pytest.raises(InputError) as refused:
        colorlib.load('unet_lab').evaluate(test_x, legacy=True, samples_dir=tmp_path / 'lab')
    assert refused.value.fields == ('legacy',) and not (tmp_path / 'lab').exists()
