import numpy as np
import pytest

import colorlib
from colorlib.errors import InputError


@pytest.fixture(scope='module')
def unet():
    return colorlib.load('unet')


def tinted(seed, size=64):
    """A picture whose colour follows its grey: dark parts deep blue, light parts orange, in smooth blobs - colours
    the shipped UNet (horses) does not give such a picture."""
    rng = np.random.default_rng(seed)
    grey = np.kron(rng.random((size // 8, size // 8)), np.ones((8, 8)))[:, :, None]
    dark, light = np.array([20, 40, 160]), np.array([250, 150, 30])
    return (dark + grey * (light - dark)).round().astype(np.uint8)


def psnr(a, b):
    return 10 * np.log10(255 ** 2 / np.mean((a.astype(float) - b.astype(float)) ** 2))


def test_a_reference_teaches_its_colours(unet, tmp_path):
    still, later = tinted(0), tinted(1)  # the same film's colours, another picture
    tuned = unet.fit_reference(still, crops=96, epochs=2)
    before, after = psnr(unet.colorize(later), later), psnr(tuned.colorize(later), later)
    assert after > before + 5  # 11.6 -> 20.7 dB when written
    assert tuned is not unet and tuned.target.keeps_palette
    path = tmp_path / 'tuned.pkl'
    tuned.save(path)
    again = colorlib.load(path)
    assert np.array_equal(again.colorize(later), tuned.colorize(later))


def test_several_references_and_files(unet, tmp_path):
    from PIL import Image
    path = tmp_path / 'still.png'
    Image.fromarray(tinted(2)).save(path)
    tuned = unet.fit_reference([path, tinted(3)], crops=40, epochs=1)
    assert tuned.colorize(tinted(4)).shape == (64, 64, 3)


@pytest.mark.parametrize('bad, says', [
    (np.full((64, 64, 3), 128, np.uint8), 'grey'),
    (tinted(0)[:20, :20], 'at least'),
    (np.zeros((64, 64), np.int32), 'int32'),
    ([], 'no pictures'),
])
def test_bad_references_are_refused(unet, bad, says):
    with pytest.raises(InputError, match=says) as err:
        unet.fit_reference(bad)
    assert err.value.fields == ('reference',)


@pytest.mark.parametrize('settings, field', [
    (dict(crops=10 ** 12), 'crops'),  # 3 PB of crops: refused before an array is made
    (dict(net_size=10 ** 6), 'net_size'),  # a 64-pixel still blown up to a million: refused before resizing
    (dict(net_size=0), 'net_size'),
    (dict(seed='a'), 'seed'),
    (dict(seed=-1), 'seed'),
])
def test_sizes_and_settings_are_checked_before_anything_is_allocated(unet, settings, field):
    with pytest.raises(InputError) as err:
        unet.fit_reference(tinted(0), **settings)
    assert err.value.fields == (field,) and '\n' not in str(err.value)
    if field in ('crops', 'net_size') and settings[field]:
        assert 'GB free' in str(err.value) and 'would fit' in str(err.value)


def test_files_that_are_no_colour_picture_are_refused(unet, tmp_path):
    from PIL import Image
    text = tmp_path / 'still.png'
    text.write_text('not a picture')
    grey = tmp_path / 'grey.png'
    Image.fromarray(np.full((64, 64), 90, np.uint8)).save(grey)
    for path, says in ((text, 'not a picture'), (grey, 'grey'), (tmp_path / 'missing.png', 'no such file')):
        with pytest.raises(InputError, match=says) as err:
            unet.fit_reference(path)
        assert err.value.fields == ('reference',)


def test_fitting_flushes_denormals_and_puts_the_default_back(unet):
    import torch
    from colorlib.reference import flushed_denormals
    tiny = torch.tensor(1e-40)  # a denormal float32: kept, unless denormals are flushed
    with flushed_denormals():
        if torch.set_flush_denormal(True):  # the CPU can flush (x86 with SSE3): it does, inside
            assert (tiny * 1).item() == 0
    assert (tiny * 1).item() != 0
    unet.fit_reference(tinted(0), crops=20, epochs=1)
    assert (tiny * 1).item() != 0


def test_half_size_is_half_the_shorter_side_and_never_under_two_crops():
    from colorlib.reference import CROP, half_size
    assert half_size(np.zeros((180, 320, 3))) == 90
    assert half_size(np.zeros((100, 150, 3))) == 2 * CROP
    assert half_size(np.zeros((40, 50, 3))) == 40  # a still under two crops is taken at its own size


def test_a_tuned_model_colours_at_the_size_it_learnt_and_its_weights_say_so(unet, tmp_path):
    still = tinted(0, size=160)
    tuned = unet.fit_reference(still, crops=40, epochs=1)
    assert tuned.net_size == 80 and unet.net_size is None  # half the still's side, the model given left as it was
    later = tinted(1, size=160)
    assert np.array_equal(tuned.colorize(later), tuned.colorize(later, net_size=80))
    assert not np.array_equal(tuned.colorize(later), tuned.colorize(later, net_size=160))
    tuned.save(tmp_path / 'tuned.pkl')
    again = colorlib.load(tmp_path / 'tuned.pkl')
    assert again.net_size == 80 and again.about['run']['net_size'] == 80
    from PIL import Image
    Image.fromarray(later).save(tmp_path / 'later.png')  # a folder of pictures is coloured at that size too
    done = again.colorize_files([tmp_path / 'later.png'], out_dir=tmp_path / 'out')
    assert np.array_equal(np.asarray(Image.open(done.written[tmp_path / 'later.png'])), tuned.colorize(later))
    assert unet.fit_reference(still, crops=40, epochs=1, net_size=96).net_size == 96


def test_each_still_gets_as_many_crops_as_one_alone(unet):
    """Several stills do not share one still's crops: a scene's still is learnt as well as a single one is."""
    from colorlib.reference import CROPS_PER_STILL, reference_run
    for stills in ([tinted(0)], [tinted(0), tinted(1)]):
        assert len(reference_run(unet, stills)['train_x']) == CROPS_PER_STILL * len(stills)
    assert len(reference_run(unet, [tinted(0), tinted(1)], crops=50)['train_x']) == 50
