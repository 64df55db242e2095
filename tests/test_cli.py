"""Tests for colorlib.cli: the assignment's reference figures, end-to-end training runs, activations, and bad input
(exit status 2, one line on stderr naming the flag, nothing written)."""
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from colorlib.cli import main, main_activations
from colorlib.checkpoints import load_weights
from colorlib.colours import DEFAULT_COLOURS, load_colours
from colorlib.metrics import psnr, ssim
from colorlib.models import build_model
from colorlib.train import make_dataset, predict
from conftest import assignment_colours_path, assignment_weights_path, needs_shared, write_horses_npz

REPO = Path(__file__).resolve().parents[1]
DATA = str(REPO / 'data' / 'cifar10_horse.npz')
COLOURS = str(DEFAULT_COLOURS)  # the project's own 24 colours, absolute
C24 = str(assignment_colours_path(24))
C16 = str(assignment_colours_path(16))
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'
BLOCKS = ['downconv1', 'downconv2', 'rfconv', 'upconv1', 'upconv2', 'finalconv']
QUALITY_LINE = re.compile(r'PSNR: (\d+\.\d{2}) dB, SSIM: (-?[01]\.\d{4})')
EPOCH_LINE = re.compile(r'Epoch \[(\d+)/(\d+)\], Loss: (\d+\.\d{4}), Val Loss: (\d+\.\d{4})(?:, Val Acc: (\d+\.\d)%)?, '
                        r'Time\(s\): \d+\.\d{2}')


def weights(model, num_filters):
    return str(assignment_weights_path(model, num_filters))


def regression_main(argv):
    main(argv, regression=True)


def call(entry, argv, capsys):
    """Run a CLI entry point in-process: (exit status, stdout, stderr)."""
    try:
        entry(argv)
        code = 0
    except SystemExit as exit_:
        code = 0 if exit_.code is None else exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_png(path):
    assert Path(path).is_file(), path
    assert Path(path).read_bytes()[:8] == PNG_MAGIC, path


def epoch_lines(out):
    return [line for line in out.splitlines() if line.startswith('Epoch [')]

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
        grey, rgb = make_dataset(np.load(DATA)['test_x'], None, regression=True)
        net = load_weights(build_model(model, 3, 32, 3), REPO / 'weights' / f'{stem}_k3_f32.pkl').eval()
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
    expected = build_model('UNet', 3, 32, 24).state_dict()
    assert isinstance(state, dict) and all(torch.is_tensor(v) for v in state.values())
    assert set(state) == {k for k in expected if not k.endswith('num_batches_tracked')}
    assert all(state[k].shape == expected[k].shape for k in state)

    monkeypatch.chdir(tmp_path)
    code, out, err = call(main, ['--valid', '--model', 'UNet', '--checkpoint', 'w.pkl', '-c', COLOURS,
                                 '--data', DATA], capsys)
    assert code == 0, err
    assert out.splitlines()[:2] == ['Evaluating Model UNet: w.pkl',
                                    f'Val Loss: {match.group(4)}, Val Acc: {match.group(5)}%']
    assert_png(tmp_path / 'outputs' / 'eval_UNet.png')


@pytest.fixture(scope='module')
def small_npz(horses, tmp_path_factory):
    """300 training and 100 test horses in the .npz layout --data reads."""
    return write_horses_npz(tmp_path_factory.mktemp('data') / 'small_horses.npz', horses, 300, 100)


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
    match = EPOCH_LINE.fullmatch(epoch_lines(out)[0])
    assert match and np.isfinite(float(match.group(4)))
    state = torch.load(tmp_path / 'w.pkl', weights_only=True)
    assert state['finalconv.weight'].dtype == torch.float32  # autocast leaves the weights in float32
    code, out, err = call(main, ['--model', 'UNet', '-f', '4', '--data', small_npz, '-c', COLOURS, '--device', 'cpu',
                                 '--amp', '--valid', '--checkpoint', 'w.pkl'], capsys)
    assert code == 0 and 'Val Loss: ' in out, err


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
    load_weights(build_model('CNN', 3, 4, 24), tmp_path / 'w.pkl')  # strict: no `_orig_mod.` prefixes


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
    seen = []  # what the trainer was given; the training itself is tested in test_train.py
    monkeypatch.setattr('colorlib.cli.train', lambda model, train_set, val_set, *a, **k: seen.append((train_set, k)) or [])
    monkeypatch.setattr('colorlib.cli.save_training_curve', lambda history, path: path)
    code, _, err = call(main, argv, capsys)
    assert code == 0, err
    (grey, target), kwargs = seen[0]
    assert len(grey) == 300  # 100 horses + 200 deer
    assert kwargs['augmentations'] == ['hflip', 'vflip', 'shift']
    assert kwargs['lr_schedule'] == 'cosine' and kwargs['weight_decay'] == 0.01


@pytest.mark.parametrize('flag, value, words', [
    ('--augment', 'rotate', ['--augment', 'rotate', 'hflip']),
    ('--extra-categories', 'deer,zebra', ['--extra-categories', 'zebra']),
    ('--weight-decay', '-1', ['--weight-decay', 'out of range']),
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
    match = QUALITY_LINE.fullmatch(line)
    assert match, line
    return float(match.group(1)), float(match.group(2))


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
    lines = out.splitlines()
    assert len(lines) == 6 and lines[0] == f'Evaluating Model {model}: {checkpoint}', out
    assert VALID_LINE.fullmatch(lines[1]) and (loss == 'mse') == ('Val Acc' not in lines[1]), lines[1]
    net_psnr, net_ssim = quality_figures(lines[2])
    assert lines[3].startswith('Bilinear ') and lines[4].startswith('Bicubic ')
    # the baselines, recomputed here on the same 100 test images
    truth = torch.from_numpy(np.load(small_npz)['test_x'].transpose(0, 3, 1, 2).astype(np.float32) / 256)
    small = torch.nn.functional.avg_pool2d(truth, 4)
    for line, mode in zip(lines[3:5], ('bilinear', 'bicubic')):
        up = torch.nn.functional.interpolate(small, scale_factor=4, mode=mode).clamp(0, 1)
        assert quality_figures(line.split(' ', 1)[1]) == (round(psnr(up, truth), 2), round(ssim(up, truth), 4))
    assert 0 < net_psnr < 60 and -1 <= net_ssim <= 1
    name = f'superres_{model}{mse}'
    assert lines[5] == f'Sample output available at: {Path("outputs") / f"eval_{name}.png"}'
    assert_png(tmp_path / 'outputs' / f'eval_{name}.png')


@pytest.mark.parametrize('entry, flags', [(main, ['--model', 'DUNet']), (main, ['--model', 'UNet', '--loss', 'mse']),
                                          (regression_main, [])])
def test_colour_valid_prints_the_psnr_of_the_decoded_pictures(entry, flags, small_npz, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    common = ['-f', '4', '--data', small_npz, '-c', COLOURS, '--device', 'cpu', '--checkpoint', 'tiny.pkl']
    code, _, err = call(entry, flags + common + ['-e', '1'], capsys)
    assert code == 0, err
    code, out, err = call(entry, flags + common + ['--valid'], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 4 and VALID_LINE.fullmatch(lines[1]), out
    # the same figures from the library: the decoded pictures against the full-colour truth
    test_x = np.load(small_npz)['test_x']
    mse = '--loss' in flags or entry is regression_main
    centres = None if mse else load_colours(COLOURS)
    model = flags[1] if flags else 'RegressionCNN'
    net = load_weights(build_model(model, 3, 4, 3 if mse else 24), 'tiny.pkl')
    grey, _ = make_dataset(test_x, centres, mse)
    pictures, truth = predict(net, grey, centres), make_dataset(test_x, None, True)[1]
    assert quality_figures(lines[2]) == (round(psnr(pictures, truth), 2), round(ssim(pictures, truth), 4))


def test_activations_for_superres_and_for_all_shipped_models(small_npz, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'w').mkdir()
    for flags, name in ((['--model', 'UNet', '--task', 'superres'], 'superres_unet'),
                        (['--model', 'UNet', '--task', 'superres', '--loss', 'mse'], 'superres_unet_mse'),
                        (['--model', 'CNN'], 'cnn'), (['--model', 'UNet', '--colour-space', 'lab'], 'unet_lab')):
        train_tiny(small_npz, flags, capsys)
        Path('tiny.pkl').rename(tmp_path / 'w' / f'{name}_k3_f4.pkl')
    expected = {'input.png', 'output.png'} | {f'{i}_{name}.png' for i, name in enumerate(BLOCKS, 1)}

    code, out, err = call(main_activations, ['2', '--model', 'UNet', '--task', 'superres', '-f', '4', '--checkpoint',
                                             'w/superres_unet_k3_f4.pkl', '-c', COLOURS, '--data', small_npz], capsys)
    assert code == 0, err
    assert {p.name for p in (tmp_path / 'outputs' / 'UNet_superres' / 'act2').iterdir()} == expected

    code, out, err = call(main_activations, ['3', '--all', '--weights-dir', 'w', '-f', '4', '-c', COLOURS,
                                             '--data', small_npz], capsys)
    assert code == 0, err
    written = sorted(p.parent.name for p in (tmp_path / 'outputs').glob('*/act3'))
    assert written == ['CNN', 'UNet_lab', 'UNet_superres', 'UNet_superres_mse']
    for folder in written:
        assert {p.name for p in (tmp_path / 'outputs' / folder / 'act3').iterdir()} == expected
        assert_png(tmp_path / 'outputs' / folder / 'act3' / '1_downconv1.png')
    skipped = [line for line in out.splitlines() if line.startswith('Skipped')]
    assert len(skipped) == 4 and any('dunet_k3_f4.pkl' in line for line in skipped), out

# -----------------------------------------------------------------------------
# (3) activations


@needs_shared
@pytest.mark.parametrize('model', ['RegressionCNN', 'CNN', 'UNet', 'DUNet'])
def test_activations_writes_every_block(model, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    # the regression CNN predicts RGB: it must not need (or read) a colour file
    colours = str(tmp_path / 'absent.npy') if model == 'RegressionCNN' else C24
    argv = ['5', '--model', model, '--checkpoint', weights(model, 16), '-f', '16', '-c', colours, '--data', DATA]
    code, out, err = call(main_activations, argv, capsys)
    assert code == 0, err
    act_dir = tmp_path / 'outputs' / model / 'act5'
    expected = {'input.png', 'output.png'} | {f'{i}_{name}.png' for i, name in enumerate(BLOCKS, 1)}
    assert {p.name for p in act_dir.iterdir()} == expected
    for name in expected:
        assert_png(act_dir / name)
    assert out.strip() == f'Activations of test image 5 written to {Path("outputs") / model / "act5"}/'

# -----------------------------------------------------------------------------
# (4) bad input: exit 2, one line on stderr, nothing written

SENTINEL = b'precious bytes, do not touch'


def snapshot(root):
    """Every file and folder under root: its bytes and modification time (None for folders)."""
    return {p.relative_to(root): (p.read_bytes(), p.stat().st_mtime_ns) if p.is_file() else None
            for p in root.rglob('*')}


@pytest.fixture
def sentinels(tmp_path, monkeypatch):
    """cwd = tmp_path holding files a careless run would overwrite, and a corrupt checkpoint."""
    monkeypatch.chdir(tmp_path)
    for name in ('keep.pkl', 'outputs/eval_UNet.png', 'outputs/eval_CNN.png', 'outputs/eval_DUNet.png',
                 'outputs/unet_k3_f32/weights.pkl', 'outputs/unet_k3_f32/metrics.jsonl'):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(SENTINEL)
    (tmp_path / 'corrupt.pkl').write_bytes(b'this is not a checkpoint' * 10)
    (tmp_path / 'a_folder').mkdir()
    return tmp_path


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
                 ['--checkpoint', 'unet_k3_f16.pkl', '-f', 'f=32'], id='f16-checkpoint-with-f32', marks=needs_shared),
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
    pytest.param(main, lambda: TRAIN + ['-b', '0'], ['-b/--batch-size', '0', 'out of range'], id='batch-0'),
    pytest.param(main, lambda: TRAIN + ['-b', 'abc'], ['-b/--batch-size', "'abc'", 'not an integer'], id='batch-abc'),
    pytest.param(main, lambda: TRAIN + ['-e', '0'], ['-e/--epochs', '0', 'out of range'], id='epochs-0'),
    pytest.param(main, lambda: TRAIN + ['-f', '0'], ['-f/--num-filters', '0', 'out of range'], id='filters-0'),
    pytest.param(main, lambda: TRAIN + ['-k', '4'], ['-k/--kernel', '4', 'even'], id='kernel-even'),
    pytest.param(main, lambda: TRAIN + ['-k', '0'], ['-k/--kernel', '0', 'out of range'], id='kernel-0'),
    pytest.param(main, lambda: TRAIN + ['-l', 'inf'], ['-l/--learn-rate', 'inf'], id='learn-rate-inf'),
    pytest.param(main, lambda: TRAIN + ['-l', '0'], ['-l/--learn-rate', 'out of range'], id='learn-rate-0'),
    pytest.param(main, lambda: TRAIN + ['--checkpoint', 'a_folder'], ['--checkpoint', 'a_folder', 'folder'],
                 id='checkpoint-is-a-folder'),
    pytest.param(main, lambda: VALID + ['-c', COLOURS], ['--valid', '--checkpoint'], id='valid-without-checkpoint'),
    pytest.param(main, lambda: TRAIN + ['--legacy-eval'], ['--legacy-eval', '--valid'], id='legacy-without-valid'),
    pytest.param(main, lambda: VALID + ['--legacy-eval', '--checkpoint', 'keep.pkl', '-s', '-1', '-c', COLOURS],
                 ['-s/--seed', '-1'], id='negative-seed'),
    pytest.param(main, lambda: VALID + ['--legacy-eval', '--checkpoint', 'keep.pkl', '-s', str(2 ** 32)],
                 ['-s/--seed', str(2 ** 32)], id='seed-too-large'),
    pytest.param(regression_main, lambda: ['--checkpoint', 'keep.pkl', '--data', DATA, '-b', '0'],
                 ['-b/--batch-size'], id='regression-batch-0'),
    pytest.param(main_activations, lambda: ['1000', '--model', 'UNet', '--checkpoint', weights('UNet', 32),
                                            '-c', C24, '--data', DATA],
                 ['index', '1000', 'out of range'], id='activations-index-1000', marks=needs_shared),
    pytest.param(main_activations, lambda: ['0', '--model', 'UNet', '-c', COLOURS, '--data', DATA],
                 ['--checkpoint'], id='activations-without-checkpoint'),
    pytest.param(main_activations, lambda: ['-3', '--checkpoint', 'keep.pkl'], ['index', '-3'],
                 id='activations-negative-index'),
    pytest.param(main, lambda: TRAIN + ['--task', 'zoom'], ['--task', 'zoom'], id='task-zoom'),
    pytest.param(main, lambda: TRAIN + ['--loss', 'l1'], ['--loss', 'l1'], id='loss-l1'),
    pytest.param(main, lambda: VALID + ['--checkpoint', weights('UNet', 32), '-c', C24, '--task', 'superres'],
                 ['--checkpoint', 'super-resolution', 'check --task'], id='colour-checkpoint-for-superres',
                 marks=needs_shared),
    pytest.param(main_activations, lambda: ['0', '--model', 'RegressionCNN', '--loss', 'ce', '--checkpoint',
                                            'keep.pkl', '--data', DATA], ['--loss ce', 'RegressionCNN'],
                 id='activations-regression-with-ce'),
    pytest.param(main_activations, lambda: ['0', '--all', '--checkpoint', 'keep.pkl', '--data', DATA],
                 ['--all', '--checkpoint'], id='activations-all-with-checkpoint'),
    pytest.param(main_activations, lambda: ['0', '--all', '--weights-dir', 'a_folder', '--data', DATA],
                 ['--weights-dir', 'a_folder'], id='activations-all-without-weights'),
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
