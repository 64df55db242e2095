"""Tests for colorlib.cli.colorize (colorize.py): odd files through the real command, the exit status (0 all done,
1 some file skipped, 2 bad flags), tiles through the command line, Lab checkpoints, and the shipped default."""
import functools
import os
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorlib.checkpoints import save_weights
from colorlib.cli.colorize import main
from conftest import call, random_model as tiny_model, smooth_rgb, write_odd_images

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp('weights') / 'unet_f4.pkl'
    save_weights(tiny_model(), path)
    return str(path)


def run(argv, capsys):
    return call(main, argv, capsys)


def test_odd_files_are_colourized_and_a_non_image_is_skipped_with_status_1(checkpoint, tmp_path, capsys):
    folder = tmp_path / 'in'
    sizes = write_odd_images(folder)
    (folder / 'broken.png').write_bytes(b'\x89PNG\r\n\x1a\n not really')
    (folder / 'notes.txt').write_text('not an image')  # not an image extension: a folder scan leaves it out
    out = tmp_path / 'out'
    code, stdout, err = run([str(folder), str(tmp_path / 'missing.jpg'), '--checkpoint', checkpoint, '-f', '4',
                             '-o', str(out), '--compare'], capsys)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 2 and 'broken.png' in lines[0] and 'missing.jpg' in lines[1]
    assert all(line.startswith('colorize.py: skipped ') for line in lines)
    assert '5 of 7 images' in stdout
    for stem, size in sizes.items():
        result = Image.open(out / f'{stem}_colorized.png')
        assert result.size == size
        assert result.mode == ('RGBA' if stem == 'alpha' else 'RGB')
    assert (np.asarray(Image.open(out / 'alpha_colorized.png'))[..., 3] == 128).all()
    # grey inputs: grey | result; colour inputs: grey | result | original, with a gap between
    assert Image.open(out / 'grey_compare.png').size[0] == 2 * 19 + 4
    assert Image.open(out / 'pal_compare.png').size[0] == 3 * 12 + 2 * 4


def test_every_file_good_exits_0_and_bad_flags_exit_2(checkpoint, tmp_path, capsys):
    Image.fromarray(smooth_rgb(8, 8)).save(tmp_path / 'a.png')
    code, _, err = run([str(tmp_path / 'a.png'), '--checkpoint', checkpoint, '-f', '4', '-o', str(tmp_path / 'o')],
                       capsys)
    assert code == 0 and err == ''
    code, _, err = run([str(tmp_path / 'a.png'), '--checkpoint', checkpoint, '-f', '8', '-o', str(tmp_path)], capsys)
    assert code == 2 and err.count('\n') == 1 and '-f' in err
    code, _, err = run([str(tmp_path / 'a.png'), '-f', '8', '-o', str(tmp_path)], capsys)  # nothing shipped for f8
    assert code == 2 and '--checkpoint' in err and 'unet_k3_f8.pkl' in err
    empty = tmp_path / 'empty'
    empty.mkdir()
    code, _, err = run([str(empty), '--checkpoint', checkpoint, '-f', '4'], capsys)
    assert code == 2 and 'no image files' in err


def test_big_image_in_many_tiles_matches_one_tile_through_the_cli(checkpoint, tmp_path, capsys):
    Image.fromarray(smooth_rgb(200, 260, seed=3)).save(tmp_path / 'big.png')
    for tile in (64, 1024):  # 4 x 5 tiles, then one
        code, _, _ = run([str(tmp_path / 'big.png'), '--checkpoint', checkpoint, '-f', '4', '--tile', str(tile),
                          '-o', str(tmp_path / f'tile{tile}')], capsys)
        assert code == 0
    tiled = np.asarray(Image.open(tmp_path / 'tile64' / 'big_colorized.png')).astype(int)
    whole = np.asarray(Image.open(tmp_path / 'tile1024' / 'big_colorized.png')).astype(int)
    assert tiled.shape == (200, 260, 3)
    assert (np.abs(tiled - whole).max(2) <= 1).mean() > 0.999  # 8-bit rounding; near-tie colour classes may flip


def test_lab_checkpoint_through_the_cli(bins, tmp_path, capsys):
    save_weights(tiny_model(colours=len(bins[0])), tmp_path / 'lab.pkl')
    Image.fromarray(smooth_rgb(30, 40)).save(tmp_path / 'a.png')
    argv = [str(tmp_path / 'a.png'), '--checkpoint', str(tmp_path / 'lab.pkl'), '-f', '4', '-o', str(tmp_path / 'o')]
    for temperature in ('0', '0.38'):
        code, _, err = run(argv + ['--colour-space', 'lab', '--temperature', temperature], capsys)
        assert code == 0 and err == ''
        assert Image.open(tmp_path / 'o' / 'a_colorized.png').size == (40, 30)
    code, _, err = run(argv, capsys)  # without --colour-space lab the 24-colour model does not fit
    assert code == 2 and '--colour-space' in err
    code, _, err = run(argv + ['--colour-space', 'lab', '--model', 'RegressionCNN'], capsys)
    assert code == 2 and 'use a CNN, UNet or DUNet' in err and len(err.splitlines()) == 1


def test_without_checkpoint_the_shipped_weights_colour(tmp_path, capsys):
    """No --checkpoint: the shipped UNet (k3, f32, 24 colours) colours a grey picture."""
    grey = smooth_rgb(24, 32).mean(2).astype(np.uint8)
    Image.fromarray(grey).save(tmp_path / 'g.png')
    code, out, err = run([str(tmp_path / 'g.png'), '-o', str(tmp_path / 'o')], capsys)
    assert code == 0 and err == '' and '1 of 1 images' in out
    result = np.asarray(Image.open(tmp_path / 'o' / 'g_colorized.png')).astype(int)
    assert result.shape == (24, 32, 3)
    assert np.abs(result[..., 0] - result[..., 2]).mean() > 1  # colour where there was none


def peak_memory_of_colorize(image, checkpoint, cwd):
    """Peak resident bytes of one colorize.py process (the largest child so far: call in increasing image size)."""
    env = {**os.environ, 'PYTHONPATH': str(REPO), 'OMP_NUM_THREADS': '1'}
    subprocess.run([sys.executable, str(REPO / 'colorize.py'), str(image), '--checkpoint', checkpoint, '-f', '4',
                    '-o', str(cwd / 'out'), '--device', 'cpu'], cwd=cwd, env=env, check=True, capture_output=True)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024


def test_memory_grows_with_the_tile_not_the_image(checkpoint, tmp_path):
    """Each pixel more costs a few bytes (the input and the result, and Pillow's buffers), not the ~200 of converting
    the whole picture at once: 6 megapixels against 1.5, both past the fixed cost of a tile and a piece."""
    picture = Image.fromarray(smooth_rgb(300, 250))
    for name, size in (('medium', (1200, 1250)), ('big', (2400, 2500))):
        picture.resize(size).save(tmp_path / f'{name}.png', compress_level=1)
    medium = peak_memory_of_colorize(tmp_path / 'medium.png', checkpoint, tmp_path)
    big = peak_memory_of_colorize(tmp_path / 'big.png', checkpoint, tmp_path)
    assert (tmp_path / 'out' / 'big_colorized.png').is_file()
    assert (big - medium) / (2400 * 2500 - 1200 * 1250) < 40, (medium, big)


def test_tta_averages_the_image_with_its_mirror(checkpoint, tmp_path, capsys):
    """--tta: the colour of an image is the average over it and its mirror image, so it differs from the plain
    result, and the mirror image's result is the result mirrored."""
    picture = smooth_rgb(24, 32)
    Image.fromarray(picture).save(tmp_path / 'a.png')
    Image.fromarray(np.ascontiguousarray(picture[:, ::-1])).save(tmp_path / 'm.png')
    results = {}
    for flags in ([], ['--tta']):
        out = tmp_path / ('tta' if flags else 'plain')
        code, _, err = run([str(tmp_path / 'a.png'), str(tmp_path / 'm.png'), '--checkpoint', checkpoint, '-f', '4',
                            '-o', str(out), *flags], capsys)
        assert code == 0, err
        results[out.name] = [np.asarray(Image.open(out / f'{stem}_colorized.png')).astype(int) for stem in 'am']
    plain, tta = results['plain'], results['tta']
    assert np.abs(plain[0] - tta[0]).max() > 10
    assert np.abs(tta[1][:, ::-1] - tta[0]).max() <= 1  # up to the rounding to 8 bits


def test_pictures_of_nan_infinite_or_out_of_range_levels_are_skipped_naming_them(checkpoint, tmp_path, capsys):
    from PIL import Image
    levels = {'nan.tif': np.full((16, 16), np.nan, np.float32), 'inf.tif': np.full((16, 16), np.inf, np.float32),
              'range.tif': np.linspace(-500, 500, 256, dtype=np.float32).reshape(16, 16)}
    for name, values in levels.items():
        Image.fromarray(values, 'F').save(tmp_path / name)
    Image.fromarray(np.full((16, 16), 0.5, np.float32), 'F').save(tmp_path / 'good.tif')
    code, out, err = run([str(tmp_path / n) for n in (*levels, 'good.tif')] + ['--checkpoint', checkpoint,
                                                                            '-o', str(tmp_path / 'out')], capsys)
    assert code == 1 and '1 of 4 images colourized' in out and 'Traceback' not in err
    lines = err.strip().splitlines()
    assert len(lines) == 3 and all(f'skipped {tmp_path / n}' in line for n, line in zip(levels, lines)), err
    assert 'NaN or infinite' in lines[0] and 'NaN or infinite' in lines[1] and 'outside 0-1' in lines[2]
    assert sorted(p.name for p in (tmp_path / 'out').iterdir()) == ['good_colorized.png']


def test_the_command_is_one_call_of_colorlib_colorize_files_with_its_flags_as_keywords(checkpoint, tmp_path,
                                                                                        monkeypatch, capsys):
    from colorlib import api
    from colorlib.colorize import Colorized
    calls = []

    def recorded(paths, weights, **keywords):
        calls.append((paths, weights, keywords))
        return Colorized(Path(keywords['out_dir']), [Path(p) for p in paths], failed={Path(paths[0]): OSError()})
    monkeypatch.setattr(api, 'colorize_files', functools.wraps(api.colorize_files)(recorded))  # its defaults
    code, out, err = run(['a.png', 'pics', '--checkpoint', checkpoint, '-f', '4', '-o', 'col', '--compare', '--tile',
                          '64', '--margin', '8', '--net-size', '32', '--tta', '--temporal', 'off', '--overwrite',
                          '--reference', 'still.png', '--save-weights', 'tuned.pkl'], capsys)
    (paths, weights, keywords), = calls
    assert (paths, weights) == (['a.png', 'pics'], checkpoint)
    assert {k: keywords[k] for k in ('filters', 'out_dir', 'compare', 'temporal', 'reference', 'save_weights',
                                     'overwrite', 'tile', 'margin', 'net_size', 'flips')} == dict(
        filters=4, out_dir='col', compare=True, temporal=False, reference=['still.png'], save_weights='tuned.pkl',
        overwrite=True, tile=64, margin=8, net_size=32, flips=True)
    assert (code, out) == (1, '1 of 2 images colourized into col/\n')  # what it did, said; the status from it


def test_a_refusal_of_colorize_files_is_led_by_the_flag_of_its_keyword(checkpoint, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Image.fromarray(smooth_rgb(8, 8)).save(tmp_path / 'a.png')
    (tmp_path / 'empty').mkdir()
    for argv, said in ((['empty'], 'PATH: no image files or films in empty'),
                       (['a.png', '-o', 'a.png'], '-o/--out-dir: '),
                       (['a.png', '--save-weights', 'w.pkl'], '--save-weights: ')):
        code, _, err = run([*argv, '--checkpoint', checkpoint, '-f', '4'], capsys)
        assert code == 2 and err.startswith(f'colorize.py: error: {said}') and err.count('\n') == 1, err


@pytest.mark.parametrize('flag, keyword, value', [
    ('--tile', 'tile', 1), ('--tile', 'tile', 3), ('--margin', 'margin', -1), ('--net-size', 'net_size', 0),
    ('--net-size', 'net_size', -5)])
def test_a_refused_setting_gets_the_same_answer_from_the_command_and_from_python(flag, keyword, value, tmp_path,
                                                                                 monkeypatch, capsys):
    """The flag only parses: Model.colorize and colorize_files refuse the value, and the command says their
    refusal led by the flag."""
    import colorlib
    from colorlib.errors import InputError
    monkeypatch.chdir(tmp_path)
    Image.fromarray(smooth_rgb(8, 8)).save(tmp_path / 'a.png')
    model = colorlib.load('unet')
    for method, image in ((model.colorize, smooth_rgb(8, 8)), (model.colorize_files, ['a.png'])):
        with pytest.raises(InputError) as e:
            method(image, **{keyword: value})
        assert e.value.fields == (keyword,) and str(e.value).startswith(f'{keyword} ')
    code, out, err = run(['a.png', flag, str(value)], capsys)
    assert (code, out, err) == (2, '', f'colorize.py: error: {flag}: {e.value}\n')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['a.png']


def test_the_tile_flag_defaults_to_the_librarys_tile():
    import inspect
    from colorlib.api import Model
    from colorlib.cli.colorize import build_parser
    default = inspect.signature(Model.colorize_files).parameters['tile'].default
    assert build_parser().parse_args(['a.png']).tile == default
