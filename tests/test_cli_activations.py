"""Tests for colorlib.cli.activations (activations.py): one model's blocks, --all over the shipped kinds, and bad
input (exit status 2, one line naming the flag, nothing written)."""
import re
from pathlib import Path

import pytest

from colorlib.cli.activations import main
from colorlib.cli.colorization import main as main_colorization
from colorlib.shipped import DEFAULT_COLOURS
from conftest import (assert_png, assignment_colours_path, assignment_weights_path, call, needs_shared, snapshot)

REPO = Path(__file__).resolve().parents[1]
DATA = str(REPO / 'data' / 'cifar10_horse.npz')
COLOURS = str(DEFAULT_COLOURS)
C24 = str(assignment_colours_path(24))
BLOCKS = ['downconv1', 'downconv2', 'rfconv', 'upconv1', 'upconv2', 'finalconv']
EXPECTED = {'input.png', 'output.png'} | {f'{i}_{name}.png' for i, name in enumerate(BLOCKS, 1)}


def train_tiny(small_npz, flags, capsys):
    code, _, err = call(main_colorization, flags + ['-e', '1', '-b', '100', '-f', '4', '--data', small_npz, '-c',
                                                    COLOURS, '--device', 'cpu', '--checkpoint', 'tiny.pkl'], capsys)
    assert code == 0, err


def test_activations_for_superres_and_for_all_shipped_kinds(small_npz, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'w').mkdir()
    for flags, name in ((['--model', 'UNet', '--task', 'superres'], 'superres_unet'),
                        (['--model', 'UNet', '--task', 'superres', '--loss', 'mse'], 'superres_unet_mse'),
                        (['--model', 'UNet', '--task', 'superres', '--loss', 'mse', '--residual'], 'superres_unet_res'),
                        (['--model', 'CNN'], 'cnn'), (['--model', 'UNet', '--colour-space', 'lab'], 'unet_lab')):
        train_tiny(small_npz, flags, capsys)
        Path('tiny.pkl').rename(tmp_path / 'w' / f'{name}_k3_f4.pkl')

    code, out, err = call(main, ['2', '--model', 'UNet', '--task', 'superres', '-f', '4', '--checkpoint',
                                 'w/superres_unet_k3_f4.pkl', '-c', COLOURS, '--data', small_npz], capsys)
    assert code == 0, err
    assert {p.name for p in (tmp_path / 'outputs' / 'superres_UNet' / 'act2').iterdir()} == EXPECTED

    code, out, err = call(main, ['3', '--all', '--weights-dir', 'w', '-f', '4', '-c', COLOURS, '--data', small_npz],
                          capsys)
    assert code == 0, err
    written = sorted(p.parent.name for p in (tmp_path / 'outputs').glob('*/act3'))
    assert written == ['CNN', 'UNet_lab', 'superres_UNet', 'superres_UNet_mse', 'superres_UNet_res']
    for folder in written:
        assert {p.name for p in (tmp_path / 'outputs' / folder / 'act3').iterdir()} == EXPECTED
        assert_png(tmp_path / 'outputs' / folder / 'act3' / '1_downconv1.png')
    skipped = [line for line in out.splitlines() if line.startswith('Skipped')]
    assert len(skipped) == 4 and any('dunet_k3_f4.pkl' in line for line in skipped), out


def test_all_without_weights_dir_draws_every_shipped_model(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = call(main, ['0', '--all', '--data', DATA], capsys)
    assert code == 0, err
    written = sorted(p.parent.name for p in (tmp_path / 'outputs').glob('*/act0'))
    shipped = sorted(p.name for p in (REPO / 'weights').glob('*_k3_f32.pkl'))
    assert len(written) == len(shipped) == 9 and 'Skipped' not in out
    assert written == ['CNN', 'DUNet', 'RegressionCNN', 'UNet', 'UNet_lab', 'superres_CNN', 'superres_UNet',
                       'superres_UNet_mse', 'superres_UNet_res']


@needs_shared
@pytest.mark.parametrize('model', ['RegressionCNN', 'CNN', 'UNet', 'DUNet'])
def test_activations_writes_every_block(model, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    # the regression CNN predicts RGB: it must not need (or read) a colour file
    colours = str(tmp_path / 'absent.npy') if model == 'RegressionCNN' else C24
    argv = ['5', '--model', model, '--checkpoint', str(assignment_weights_path(model, 16)), '-f', '16', '-c', colours,
            '--data', DATA]
    code, out, err = call(main, argv, capsys)
    assert code == 0, err
    act_dir = tmp_path / 'outputs' / model / 'act5'
    assert {p.name for p in act_dir.iterdir()} == EXPECTED
    for name in EXPECTED:
        assert_png(act_dir / name)
    assert out.strip() == f'Activations of test image 5 written to {Path("outputs") / model / "act5"}/'


BAD_INPUT = [
    pytest.param(lambda: ['1000', '--model', 'UNet', '--data', DATA], ['index', '1000', 'out of range'],
                 id='index-1000'),
    pytest.param(lambda: ['0', '--model', 'UNet', '-f', '8', '-c', COLOURS, '--data', DATA],
                 ['--checkpoint', 'unet_k3_f8.pkl'], id='nothing-shipped-for-f8'),
    pytest.param(lambda: ['-3', '--data', DATA], ['index: -3 is out of range'], id='negative-index'),
    pytest.param(lambda: ['0', '--model', 'RegressionCNN', '--loss', 'ce', '--checkpoint', 'keep.pkl', '--data', DATA],
                 ['--loss ce', 'RegressionCNN'], id='regression-with-ce'),
    pytest.param(lambda: ['0', '--all', '--checkpoint', 'keep.pkl', '--data', DATA], ['--all', '--checkpoint'],
                 id='all-with-checkpoint'),
    pytest.param(lambda: ['0', '--all', '--weights-dir', 'a_folder', '--data', DATA], ['--weights-dir', 'a_folder'],
                 id='all-without-weights'),
    pytest.param(lambda: ['0', '--weights-dir', 'a_folder', '--data', DATA], ['--weights-dir', '--all'],
                 id='weights-dir-without-all'),
    pytest.param(lambda: ['0', '--checkpoint', 'corrupt.pkl', '--data', DATA], ['--checkpoint', 'corrupt.pkl'],
                 id='corrupt-checkpoint'),
]


@pytest.mark.parametrize('make_argv, words', BAD_INPUT)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(make_argv, words, sentinels, capsys):
    before = snapshot(sentinels)
    code, out, err = call(main, make_argv(), capsys)
    assert code == 2, (out, err)
    assert err.endswith('\n') and err.count('\n') == 1, err
    assert re.match(r'activations\.py: error: ', err) and 'Traceback' not in err + out, err
    for word in words:
        assert word in err, (word, err)
    assert snapshot(sentinels) == before


def test_the_command_is_one_call_of_colorlib_activations_with_its_flags_as_keywords(tmp_path, monkeypatch, capsys):
    from colorlib import gallery
    monkeypatch.chdir(tmp_path)
    calls = []
    monkeypatch.setattr(gallery, 'activations', lambda *args, **keywords: calls.append((args, keywords)))
    code, out, err = call(main, ['4', '--data', DATA], capsys)
    assert (code, out) == (0, ''), err  # what is drawn is said by the library's log
    code, out, err = call(main, ['2', '--all', '--weights-dir', 'w', '-f', '4', '-c', COLOURS, '--data', DATA],
                          capsys)
    assert (code, out) == (0, ''), err
    (one, keywords), (every, all_keywords) = calls
    assert one == (4, None) and every == (2, None)
    assert {k: keywords[k] for k in ('every_kind', 'weights_dir', 'data', 'runs_dir', 'log')} == dict(
        every_kind=False, weights_dir=None, data=DATA, runs_dir='outputs', log=print)
    assert {k: all_keywords[k] for k in ('every_kind', 'weights_dir', 'filters', 'colours')} == dict(
        every_kind=True, weights_dir='w', filters=4, colours=COLOURS)



@pytest.mark.parametrize('index', [-1, -100, 100])
def test_a_refused_index_gets_the_same_answer_from_the_command_and_from_python(index, small_npz, tmp_path,
                                                                               monkeypatch, capsys):
    """The index only parses: Model.activations refuses a number outside the test images (none counts from the
    end), and the command says its refusal led by the argument's name."""
    import colorlib
    from colorlib.errors import InputError
    monkeypatch.chdir(tmp_path)
    _, test_x = colorlib.load_images(small_npz)
    with pytest.raises(InputError) as e:
        colorlib.load('unet').activations(index, runs_dir='outputs', test_x=test_x)
    assert e.value.fields == ('image',)
    code, out, err = call(main, [str(index), '--data', small_npz], capsys)
    assert (code, out, err) == (2, '', f'activations.py: error: index: {e.value}\n')
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize('argv, said', [
    (['1', '--all', '--checkpoint', 'w.pkl'], '--checkpoint: every kind is drawn from its own file in weights_dir, '
                                             'not from one weights file: check --all'),
    (['1', '--weights-dir', 'w'], '--weights-dir: weights_dir is read only when every kind is drawn; it needs --all'),
], ids=['all-with-checkpoint', 'weights-dir-without-all'])
def test_the_rules_of_all_are_the_librarys_said_with_the_flags(argv, said, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = call(main, argv + ['--data', DATA], capsys)
    assert (code, out, err) == (2, '', f'activations.py: error: {said}\n')
    assert list(tmp_path.iterdir()) == []
