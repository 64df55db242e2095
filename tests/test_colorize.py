"""Tests for colorlib.colorize: odd image files (16-bit, palette, alpha, grey JPEG, tiny), tiling that matches one
whole-image run, and the original lightness kept. The `colorlib colorize` command is tested in tests/test_cli_*.py."""
import numpy as np
import pytest
import torch
from PIL import Image

from colorlib.colorize import (chroma_predictor, colorize_file, colorize_pixels, find_images, output_stems, predict_rows,
                               to_rgb)
from colorlib.colours import load_colours
from colorlib.images import read_image
from colorlib.lab import load_bins, rgb_to_lab
from colorlib.models import ModelConfig, context
from colorlib.shipped import DEFAULT_BINS, DEFAULT_COLOURS
from colorlib.targets import ColourClasses, LabBins
from conftest import random_model as tiny_model, smooth_rgb, write_odd_images


# -----------------------------------------------------------------------------
# reading odd files


def test_16bit_grey_png_keeps_levels_between_8bit_steps(tmp_path):
    levels = np.array([[0, 1000, 30000, 65535]], dtype=np.uint16).repeat(3, axis=0)
    path = tmp_path / 'deep.png'
    Image.fromarray(levels).save(path)
    assert Image.open(path).mode.startswith('I')  # Pillow keeps it 16-bit
    pixels, alpha = read_image(path)
    assert alpha is None and pixels.shape == (3, 4, 1) and pixels.dtype == np.float32  # one float a pixel
    np.testing.assert_allclose(pixels[0, :, 0], levels[0] / 65535, atol=1e-6)
    rgb = to_rgb(pixels)
    assert rgb.shape == (3, 3, 4) and (rgb[0] == rgb[2]).all()


def test_palette_rgba_and_grey_jpeg_read_as_rgb(tmp_path):
    colour = smooth_rgb(20, 30)
    Image.fromarray(colour).convert('P', palette=Image.Palette.ADAPTIVE, colors=16).save(tmp_path / 'pal.png')
    rgba = np.dstack([colour, np.linspace(0, 255, 30, dtype=np.uint8)[None].repeat(20, 0)])
    Image.fromarray(rgba, 'RGBA').save(tmp_path / 'alpha.png')
    Image.fromarray(colour).convert('L').save(tmp_path / 'grey.jpg', quality=95)

    rgb, alpha = read_image(tmp_path / 'pal.png')
    assert rgb.shape == (20, 30, 3) and rgb.dtype == np.uint8 and alpha is None
    palette_colours = np.asarray(Image.open(tmp_path / 'pal.png').convert('RGB'))
    np.testing.assert_array_equal(rgb, palette_colours)  # each index looked up in the palette
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) <= 16
    rgb, alpha = read_image(tmp_path / 'alpha.png')
    np.testing.assert_array_equal(alpha, rgba[..., 3])
    np.testing.assert_array_equal(rgb, colour)
    torch.testing.assert_close(to_rgb(rgb), torch.from_numpy(colour).permute(2, 0, 1).float() / 255)
    rgb, alpha = read_image(tmp_path / 'grey.jpg')
    assert rgb.shape == (20, 30, 3) and (rgb[..., 0] == rgb[..., 1]).all()


def test_odd_files_are_colourized_at_their_size_keeping_alpha(tmp_path):
    folder = tmp_path / 'in'
    sizes = write_odd_images(folder)
    files = find_images([folder, tmp_path / 'missing.jpg'])
    assert files == sorted(folder / name for name in ('alpha.png', 'deep.png', 'grey.jpg', 'pal.gif', 'tiny.png')) + [
        tmp_path / 'missing.jpg']  # a file named is taken as given, to fail on its own
    predict = chroma_predictor(tiny_model(), ColourClasses(load_colours(DEFAULT_COLOURS)))
    out = tmp_path / 'out'
    for path in files[:-1]:
        written = colorize_file(path, out, predict, torch.device('cpu'), 512, context(ModelConfig(name="DUNet")), compare=True)
        assert written == out / f'{path.stem}_colorized.png'
        result = Image.open(written)
        assert result.size == sizes[path.stem]
        assert result.mode == ('RGBA' if path.stem == 'alpha' else 'RGB')
    assert (np.asarray(Image.open(out / 'alpha_colorized.png'))[..., 3] == 128).all()
    # grey inputs: grey | result; colour inputs: grey | result | original, with a gap between
    assert Image.open(out / 'grey_compare.png').size[0] == 2 * 19 + 4
    assert Image.open(out / 'pal_compare.png').size[0] == 3 * 12 + 2 * 4
    assert len(list(out.iterdir())) == 2 * len(sizes)


def test_colorize_file_names_its_output_by_stem_and_refuses_a_broken_file(tmp_path):
    Image.fromarray(smooth_rgb(8, 8)).save(tmp_path / 'a.png')
    (tmp_path / 'broken.png').write_bytes(b'\x89PNG\r\n\x1a\n not really')
    predict = chroma_predictor(tiny_model(), ColourClasses(load_colours(DEFAULT_COLOURS)))
    out = tmp_path / 'out'
    written = colorize_file(tmp_path / 'a.png', out, predict, torch.device('cpu'), 512, 32, False, stem='a.png-2')
    assert written == out / 'a.png-2_colorized.png' and Image.open(written).size == (8, 8)
    with pytest.raises(OSError, match='broken.png'):
        colorize_file(tmp_path / 'broken.png', out, predict, torch.device('cpu'), 512, 32, True)
    assert [p.name for p in out.iterdir()] == ['a.png-2_colorized.png']  # nothing written for the broken one


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
    assert 8 < radius < context(model.config)


def test_chroma_predictor_gives_the_ab_of_the_targets_decoding():
    """Colour classes: every pixel gets the ab of one of the k colours; Lab bins: the target's temperature counts
    (0 gives the mode, 0.38 the annealed mean)."""
    rgb = torch.from_numpy(smooth_rgb(16, 24)).permute(2, 0, 1)[None].float() / 255
    centres = load_colours(DEFAULT_COLOURS)
    with torch.no_grad():
        ab = chroma_predictor(tiny_model(), ColourClasses(centres))(rgb)
    assert ab.shape == (1, 2, 16, 24)
    palette = rgb_to_lab(centres.T[None, :, :, None])[0, 1:, :, 0].T  # (24, 2)
    distance = torch.cdist(ab[0].flatten(1).T, palette, compute_mode='donot_use_mm_for_euclid_dist')  # exact, not |x|^2 - 2xy + |y|^2
    assert distance.amin(1).max() < 1e-3
    bins, prior = load_bins(DEFAULT_BINS)
    model = tiny_model(colours=len(bins))
    with torch.no_grad():
        mode = chroma_predictor(model, LabBins(bins, prior, temperature=0))(rgb)
        mean = chroma_predictor(model, LabBins(bins, prior, temperature=0.38))(rgb)
    assert mode.shape == mean.shape == (1, 2, 16, 24)
    assert (mode - mean).abs().mean() > 1


def test_tiles_with_the_default_margin_match_one_whole_image_run():
    model = tiny_model()
    predict = chroma_predictor(model, ColourClasses(load_colours(DEFAULT_COLOURS)))
    pixels = smooth_rgb(150, 133)
    whole = predict_rows(pixels, predict, tile=512, margin=0, top=0, bottom=150)
    tiled = predict_rows(pixels, predict, tile=40, margin=context(ModelConfig()), top=0, bottom=150)  # 16 tiles
    assert whole.shape == (2, 150, 133)
    # nearest-colour decoding flips on near ties, so compare the ab of nearly all pixels
    assert ((tiled - whole).abs().amax(0) < 1e-3).float().mean() > 0.999
    seams = predict_rows(pixels, predict, tile=40, margin=0, top=0, bottom=150)
    assert ((seams - whole).abs().amax(0) > 1).float().mean() > 0.01  # without context the tiles disagree
    band = predict_rows(pixels, predict, tile=40, margin=context(ModelConfig()), top=80, bottom=120)
    torch.testing.assert_close(band, tiled[:, 80:120])  # a band alone is what the whole run gives for its rows


def test_a_band_whose_whole_width_fits_in_a_tiles_pixels_goes_in_one_piece():
    """A wide, short band holding no more pixels than a tile (margins included) runs whole, not in narrow tiles
    that each repeat their margins; a wider one is tiled (memory.piece_width, which the memory estimate uses too)."""
    from colorlib.memory import piece_width
    windows = []

    def predict(rgb):
        windows.append(tuple(rgb.shape[-2:]))
        return rgb[:, :2]
    predict_rows(smooth_rgb(20, 60), predict, tile=40, margin=8, top=0, bottom=20)  # 36 x 76 <= 56 x 56
    assert windows == [(20, 60)] and piece_width(20, 60, 40, 8) == 60
    windows.clear()
    predict_rows(smooth_rgb(20, 100), predict, tile=40, margin=8, top=0, bottom=20)  # 36 x 116 > 56 x 56
    assert windows == [(20, 48), (20, 56), (20, 28)] and piece_width(20, 100, 40, 8) == 40


def test_lab_model_tiles_match_and_the_result_keeps_the_original_lightness():
    centres, prior = load_bins(DEFAULT_BINS)
    model = tiny_model(colours=len(centres))
    predict = chroma_predictor(model, LabBins(centres, prior, temperature=0.38))
    pixels = smooth_rgb(70, 90, seed=1)
    whole = predict_rows(pixels, predict, tile=512, margin=0, top=0, bottom=70)
    tiled = predict_rows(pixels, predict, tile=24, margin=context(ModelConfig()), top=0, bottom=70)
    torch.testing.assert_close(tiled, whole, atol=1e-3, rtol=0)  # the annealed mean is smooth: no ties
    result, grey = colorize_pixels(pixels, predict, tile=24, margin=context(ModelConfig()), grey=True)
    assert result.shape == grey.shape == (70, 90, 3) and result.dtype == np.uint8
    lightness = rgb_to_lab(to_rgb(pixels)[None])[0, 0]
    assert (rgb_to_lab(to_rgb(result)[None])[0, 0] - lightness).abs().mean() < 0.6  # clipping, 8 bits move it a bit
    assert (rgb_to_lab(to_rgb(grey)[None])[0, 0] - lightness).abs().max() < 1  # an 8-bit step
    assert rgb_to_lab(to_rgb(grey)[None])[0, 1:].abs().max() < 1  # grey has no colour
    assert rgb_to_lab(to_rgb(result)[None])[0, 1:].abs().mean() > 1  # the result has some


def test_bands_and_pieces_do_not_change_the_result():
    """Small bands (tile 24) and colour conversions in pieces of 500 pixels give the picture of one big piece."""
    predict = chroma_predictor(tiny_model(), ColourClasses(load_colours(DEFAULT_COLOURS)))
    pixels = smooth_rgb(70, 90, seed=2)
    big, _ = colorize_pixels(pixels, predict, tile=512, margin=context(ModelConfig()))
    small, _ = colorize_pixels(pixels, predict, tile=24, margin=context(ModelConfig()), chunk=500)
    assert (np.abs(big.astype(int) - small).max(2) <= 1).mean() > 0.999  # near-tie colour classes may flip


def test_net_size_runs_the_network_small_but_keeps_full_resolution():
    seen = []

    def predict(rgb):
        seen.append(rgb.shape[-2:])
        return torch.full((1, 2, *rgb.shape[-2:]), 20.0)
    result, _ = colorize_pixels(smooth_rgb(60, 90), predict, tile=512, margin=8, net_size=32)
    assert seen == [(32, 48)]
    assert result.shape == (60, 90, 3)
    assert (rgb_to_lab(to_rgb(result)[None])[0, 1:] - 20).abs().median() < 1  # out-of-gamut pixels are clipped


# -----------------------------------------------------------------------------
# colouring files and folders: Model.colorize_files (what `colorlib colorize` calls, once)


def colour_model():
    from colorlib.api import Model
    return Model(tiny_model(), ColourClasses(load_colours(DEFAULT_COLOURS)))


def test_colorize_files_colours_a_folder_as_colorize_does_and_skips_a_bad_picture(tmp_path):
    folder = tmp_path / 'in'
    folder.mkdir()
    rgb = smooth_rgb(24, 40)
    Image.fromarray(rgb).save(folder / 'a.png')
    Image.fromarray(rgb[:, :, 0]).save(folder / 'b.png')
    (folder / 'broken.png').write_bytes(b'\x89PNG\r\n\x1a\n not really')
    model, skipped = colour_model(), []
    done = model.colorize_files([folder], out_dir=tmp_path / 'out', compare=True, tile=16,
                                on_skip=lambda path, err: skipped.append(path))
    assert list(done.failed) == skipped == [folder / 'broken.png'] and not done.cut
    assert done.written == {folder / n: tmp_path / 'out' / f'{n[0]}_colorized.png' for n in ('a.png', 'b.png')}
    assert done.summary == f'2 of 3 images colourized into {tmp_path / "out"}/'
    for name in ('a.png', 'b.png'):  # the same colours as Model.colorize of the picture read
        written = np.asarray(Image.open(done.written[folder / name]))
        assert np.array_equal(written, model.colorize(np.asarray(Image.open(folder / name)), tile=16))
    assert (tmp_path / 'out' / 'a_compare.png').is_file()


@pytest.mark.parametrize('settings, field', [
    (dict(paths=['empty']), 'paths'),
    (dict(paths=['a.png'], save_weights='tuned.pkl'), 'save_weights'),
    (dict(paths='a.png'), 'paths'),
    (dict(paths=['a.png'], tile=2), 'tile'),
    (dict(paths=['a.png'], out_dir='a.png/x'), 'out_dir'),
    (dict(paths=['a.png'], reads=['out/a_colorized.png'], out_dir='out'), 'out_dir'),
], ids=['no-pictures', 'save-without-reference', 'paths-not-a-list', 'tile', 'out-dir-under-a-file', 'a-read-file'])
def test_colorize_files_refuses_before_any_work_naming_the_keyword(settings, field, tmp_path, monkeypatch):
    from colorlib.errors import InputError
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'empty').mkdir()
    Image.fromarray(smooth_rgb(8, 8)).save(tmp_path / 'a.png')
    before = sorted(tmp_path.rglob('*'))
    with pytest.raises(InputError) as refused:
        colour_model().colorize_files(**settings)
    assert refused.value.fields[0] == field, refused.value
    assert sorted(tmp_path.rglob('*')) == before
