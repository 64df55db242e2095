"""Tests for colorlib.colorize: odd image files (16-bit, palette, alpha, grey JPEG, tiny, not an image), tiling that
matches one whole-image run, the original lightness kept, and the exit status."""
import numpy as np
import pytest
import torch
from PIL import Image

from colorlib.checkpoints import save_weights
from colorlib.colorize import (chroma_predictor, colorize_array, default_margin, main, output_stems, predict_tiled,
                               read_image)
from colorlib.colours import DEFAULT_COLOURS, load_colours
from colorlib.lab import DEFAULT_BINS, load_bins, rgb_to_lab
from colorlib.models import build_model


def tiny_model(name='UNet', colours=24, kernel=3, dilation=1, seed=0):
    """A small random model in eval mode, with BatchNorm statistics that are not the identity."""
    torch.manual_seed(seed)
    model = build_model(name, kernel, 4, colours, dilation=dilation)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 2)
    return model.eval()


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp('weights') / 'unet_f4.pkl'
    save_weights(tiny_model(), path)
    return str(path)


def smooth_rgb(height, width, seed=0):
    """A colourful picture with some structure, uint8 (H, W, 3)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    base = np.stack([np.sin(6 * x + 1), np.cos(5 * y), np.sin(3 * (x + y))], axis=2) * 0.4 + 0.5
    return np.clip((base + rng.normal(0, 0.05, base.shape)) * 255, 0, 255).astype(np.uint8)


def run(argv, capsys):
    try:
        main(argv)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err

# -----------------------------------------------------------------------------
# reading odd files


def test_16bit_grey_png_keeps_levels_between_8bit_steps(tmp_path):
    levels = np.array([[0, 1000, 30000, 65535]], dtype=np.uint16).repeat(3, axis=0)
    path = tmp_path / 'deep.png'
    Image.fromarray(levels).save(path)
    assert Image.open(path).mode.startswith('I')  # Pillow keeps it 16-bit
    rgb, alpha = read_image(path)
    assert alpha is None and rgb.shape == (3, 4, 3)
    np.testing.assert_allclose(rgb[0, :, 0], levels[0] / 65535, atol=1e-6)
    assert (rgb[..., 0] == rgb[..., 2]).all()


def test_palette_rgba_and_grey_jpeg_read_as_rgb(tmp_path):
    colour = smooth_rgb(20, 30)
    Image.fromarray(colour).convert('P', palette=Image.Palette.ADAPTIVE, colors=16).save(tmp_path / 'pal.png')
    rgba = np.dstack([colour, np.linspace(0, 255, 30, dtype=np.uint8)[None].repeat(20, 0)])
    Image.fromarray(rgba, 'RGBA').save(tmp_path / 'alpha.png')
    Image.fromarray(colour).convert('L').save(tmp_path / 'grey.jpg', quality=95)

    rgb, alpha = read_image(tmp_path / 'pal.png')
    assert rgb.shape == (20, 30, 3) and alpha is None
    palette_colours = np.asarray(Image.open(tmp_path / 'pal.png').convert('RGB'))
    np.testing.assert_allclose(rgb * 255, palette_colours, atol=1e-3)  # each index looked up in the palette
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) <= 16
    rgb, alpha = read_image(tmp_path / 'alpha.png')
    np.testing.assert_array_equal(alpha, rgba[..., 3])
    np.testing.assert_allclose(rgb * 255, colour, atol=1e-3)
    rgb, alpha = read_image(tmp_path / 'grey.jpg')
    assert rgb.shape == (20, 30, 3) and (rgb[..., 0] == rgb[..., 1]).all()


def test_odd_files_are_colourized_and_a_non_image_is_skipped_with_status_1(checkpoint, tmp_path, capsys):
    folder = tmp_path / 'in'
    folder.mkdir()
    Image.fromarray((np.arange(35 * 3).reshape(5, 7, 3) * 2).astype(np.uint8)).save(folder / 'tiny.png')  # 5x7
    Image.fromarray(np.full((9, 11), 40000, np.uint16)).save(folder / 'deep.png')
    rgba = np.dstack([smooth_rgb(17, 13), np.full((17, 13), 128, np.uint8)])
    Image.fromarray(rgba, 'RGBA').save(folder / 'alpha.png')
    Image.fromarray(smooth_rgb(12, 12)).convert('P').save(folder / 'pal.gif')
    Image.fromarray(smooth_rgb(21, 19)[..., 0]).save(folder / 'grey.jpg')
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
    sizes = {'tiny': (7, 5), 'deep': (11, 9), 'alpha': (13, 17), 'pal': (12, 12), 'grey': (19, 21)}
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
    code, _, err = run([str(tmp_path / 'a.png'), '-o', str(tmp_path)], capsys)
    assert code == 2 and '--checkpoint' in err
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


def test_outputs_of_same_named_inputs_do_not_clash(tmp_path):
    files = [tmp_path / 'a.png', tmp_path / 'a.jpg', tmp_path / 'x' / 'a.png', tmp_path / 'b.png']
    assert output_stems(files) == ['a', 'a.jpg', 'a.png', 'b']
    assert output_stems([tmp_path / 'a.png', tmp_path / 'x' / 'a.png', tmp_path / 'y' / 'a.png']) == [
        'a', 'a.png', 'a.png-2']

# -----------------------------------------------------------------------------
# tiles, receptive field, lightness


@pytest.mark.parametrize('name, kernel, dilation', [('UNet', 3, 0), ('CNN', 3, 0), ('UNet', 5, 0), ('DUNet', 3, 1)])
def test_receptive_field_is_inside_the_default_margin(name, kernel, dilation):
    """Change one input pixel: every output pixel that moves lies within the margin colorize.py gives the model."""
    model = tiny_model(name, kernel=kernel, dilation=dilation)
    x = torch.rand(1, 1, 96, 96)
    y = x.clone()
    y[0, 0, 48, 48] += 1
    with torch.no_grad():
        changed = (model(x) - model(y)).abs().amax(1)[0] > 0
    rows, cols = torch.nonzero(changed, as_tuple=True)
    radius = max((rows - 48).abs().max().item(), (cols - 48).abs().max().item())
    assert 8 < radius < default_margin(kernel, dilation)


def test_tiles_with_the_default_margin_match_one_whole_image_run():
    model = tiny_model()
    predict = chroma_predictor(model, load_colours(DEFAULT_COLOURS), None, lab=False)
    rgb = torch.from_numpy(smooth_rgb(150, 133)).permute(2, 0, 1).float() / 255
    whole = predict_tiled(rgb, predict, tile=512, margin=0)
    tiled = predict_tiled(rgb, predict, tile=40, margin=default_margin(3, 0))  # 16 tiles
    assert whole.shape == (2, 150, 133)
    # nearest-colour decoding flips on near ties, so compare the ab of nearly all pixels
    assert ((tiled - whole).abs().amax(0) < 1e-3).float().mean() > 0.999
    seams = predict_tiled(rgb, predict, tile=40, margin=0)
    assert ((seams - whole).abs().amax(0) > 1).float().mean() > 0.01  # without context the tiles disagree


def test_lab_model_tiles_match_and_the_result_keeps_the_original_lightness():
    centres, _ = load_bins(DEFAULT_BINS)
    model = tiny_model(colours=len(centres))
    predict = chroma_predictor(model, centres, 0.38, lab=True)
    rgb = torch.from_numpy(smooth_rgb(70, 90, seed=1)).permute(2, 0, 1).float() / 255
    whole = predict_tiled(rgb, predict, tile=512, margin=0)
    tiled = predict_tiled(rgb, predict, tile=24, margin=default_margin(3, 0))
    torch.testing.assert_close(tiled, whole, atol=1e-3, rtol=0)  # the annealed mean is smooth: no ties
    result, grey = colorize_array(rgb, predict, tile=24, margin=default_margin(3, 0))
    lightness = rgb_to_lab(rgb[None])[0, 0]
    assert (rgb_to_lab(result[None])[0, 0] - lightness).abs().mean() < 0.5  # L in [0, 100]; clipping moves it a bit
    assert (rgb_to_lab(grey[None])[0, 0] - lightness).abs().max() < 0.5
    assert rgb_to_lab(grey[None])[0, 1:].abs().max() < 0.5  # grey has no colour
    assert rgb_to_lab(result[None])[0, 1:].abs().mean() > 1  # the result has some


def test_net_size_runs_the_network_small_but_keeps_full_resolution():
    seen = []

    def predict(rgb):
        seen.append(rgb.shape[-2:])
        return torch.full((1, 2, *rgb.shape[-2:]), 20.0)
    rgb = torch.from_numpy(smooth_rgb(60, 90)).permute(2, 0, 1).float() / 255
    result, _ = colorize_array(rgb, predict, tile=512, margin=8, net_size=32)
    assert seen == [(32, 48)]
    assert result.shape == (3, 60, 90)
    assert (rgb_to_lab(result[None])[0, 1:] - 20).abs().median() < 0.5  # out-of-gamut pixels are clipped


def test_lab_checkpoint_through_the_cli(tmp_path, capsys):
    centres, _ = load_bins(DEFAULT_BINS)
    save_weights(tiny_model(colours=len(centres)), tmp_path / 'lab.pkl')
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
