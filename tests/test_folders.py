"""Tests for colorlib.folders: a folder of pictures as a data set (splits, squares, skipped files, the cache)."""
import os
import sys

import numpy as np
import pytest
from PIL import Image

from colorlib.errors import InputError
from colorlib.folders import load_folder, square
from conftest import smooth_rgb


def write_pictures(folder, count, size=(40, 30), seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        Image.fromarray(smooth_rgb(size[1], size[0], seed=seed + i)).save(folder / f'p{i:03d}.png')


def test_square_resizes_the_short_side_and_cuts_the_centre(tmp_path):
    picture = np.zeros((40, 80, 3), np.uint8)  # 80 wide: thirds of red, green, blue columns-ish
    picture[:, :20] = (255, 0, 0)
    picture[:, 20:60] = (0, 255, 0)
    picture[:, 60:] = (0, 0, 255)
    Image.fromarray(picture).save(tmp_path / 'wide.png')
    out = square(tmp_path / 'wide.png', 16)  # 40x80 -> 16x32, centre 16 columns: all green
    assert out.shape == (16, 16, 3) and out.dtype == np.uint8
    assert (out[:, 2:-2, 1] > 200).all() and (out[:, 2:-2, 0] < 50).all()


def test_square_scales_16bit_grey_to_8_bits(tmp_path):
    levels = np.linspace(0, 65535, 40 * 40).reshape(40, 40).astype(np.uint16)  # a full-range ramp
    Image.fromarray(levels).save(tmp_path / 'deep.png')
    out = square(tmp_path / 'deep.png', 40)
    assert (out[..., 0] == out[..., 2]).all()
    assert out.min() == 0 and out.max() == 255 and 120 < out.mean() < 135  # not clipped to white at 255/65535


def test_a_seeded_hold_out_the_same_every_time_and_a_cache(tmp_path):
    write_pictures(tmp_path / 'pics' / 'a', 12)
    write_pictures(tmp_path / 'pics' / 'b' / 'c', 8, seed=50)
    train_x, test_x, summary = load_folder(tmp_path / 'pics', 32, 0.25, cache_dir=tmp_path / 'cache')
    assert train_x.shape == (15, 32, 32, 3) and test_x.shape == (5, 32, 32, 3)
    assert '5 of 20 held out' in summary and 'seed 0' in summary
    [cache] = list((tmp_path / 'cache').glob('pics-32px-*.npz'))
    again_x, again_test, summary = load_folder(tmp_path / 'pics', 32, 0.25, cache_dir=tmp_path / 'cache')
    assert 'read from' in summary and np.array_equal(again_test, test_x) and np.array_equal(again_x, train_x)
    uncached = load_folder(tmp_path / 'pics', 32, 0.25)
    assert np.array_equal(uncached[1], test_x)  # the same hold-out with or without the cache
    Image.fromarray(smooth_rgb(30, 40, seed=99)).save(tmp_path / 'pics' / 'a' / 'new.png')  # the key follows the files
    load_folder(tmp_path / 'pics', 32, 0.25, cache_dir=tmp_path / 'cache')
    assert len(list((tmp_path / 'cache').glob('*.npz'))) == 2
    assert load_folder(tmp_path / 'pics', 64, 0.25)[0].shape[1:] == (64, 64, 3)


@pytest.mark.parametrize('damage', [
    lambda cache: cache.write_bytes(b''),  # EOFError
    lambda cache: cache.write_bytes(cache.read_bytes()[:len(cache.read_bytes()) // 2]),  # BadZipFile
    lambda cache: np.savez(cache, train_x=np.zeros(3), test_x=np.zeros(3), skipped=np.zeros(1))],  # foreign
    ids=['empty', 'truncated', 'foreign'])
def test_a_cache_that_cannot_be_read_is_rebuilt(damage, tmp_path):
    """A damaged cache used to fail every later run on the folder until someone deleted it."""
    write_pictures(tmp_path / 'pics', 8)
    train_x, test_x, _ = load_folder(tmp_path / 'pics', 32, 0.25, cache_dir=tmp_path / 'cache')
    [cache] = list((tmp_path / 'cache').glob('pics-32px-*.npz'))
    damage(cache)
    again_x, again_test, summary = load_folder(tmp_path / 'pics', 32, 0.25, cache_dir=tmp_path / 'cache')
    assert f'{cache} could not be read, rebuilt' in summary
    assert np.array_equal(again_x, train_x) and np.array_equal(again_test, test_x)
    assert 'read from' in load_folder(tmp_path / 'pics', 32, 0.25, cache_dir=tmp_path / 'cache')[2]  # rewritten
    assert list((tmp_path / 'cache').iterdir()) == [cache]  # no temp file left


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason="Linux file systems take any bytes in a name; "
                    "others (macOS's APFS) may take UTF-8 names only")
def test_a_file_name_that_is_not_utf8_is_read_and_cached(tmp_path):
    """Such a name (a Latin-1 'café.png' copied over) used to fail the cache's key with a UnicodeEncodeError."""
    write_pictures(tmp_path / 'pics', 4)
    odd = tmp_path / 'pics' / os.fsdecode(b'caf\xe9.png')  # a lone surrogate in Python's str
    Image.fromarray(smooth_rgb(30, 40, seed=9)).save(odd, format='PNG')
    assert os.fsencode(odd.name) in os.listdir(os.fsencode(tmp_path / 'pics'))
    train_x, test_x, summary = load_folder(tmp_path / 'pics', 32, 0.2, cache_dir=tmp_path / 'cache')
    assert len(train_x) + len(test_x) == 5 and '0 skipped' in summary
    again_x, _, summary = load_folder(tmp_path / 'pics', 32, 0.2, cache_dir=tmp_path / 'cache')
    assert 'read from' in summary and np.array_equal(again_x, train_x)


def test_train_and_test_subfolders_are_the_splits(tmp_path):
    write_pictures(tmp_path / 'd' / 'train', 6)
    write_pictures(tmp_path / 'd' / 'test', 3, seed=10)
    train_x, test_x, summary = load_folder(tmp_path / 'd', 32)
    assert len(train_x) == 6 and len(test_x) == 3 and 'train/ and test/' in summary
    write_pictures(tmp_path / 'e' / 'train', 10)  # no test/: a hold-out over everything, and the line says why
    train_x, test_x, summary = load_folder(tmp_path / 'e', 32)
    assert len(train_x) == 9 and len(test_x) == 1 and 'held out' in summary and 'train/ without test/' in summary


def test_unreadable_files_are_skipped_and_named(tmp_path):
    write_pictures(tmp_path / 'd', 6)
    (tmp_path / 'd' / 'broken.png').write_bytes(b'\x89PNG\r\n\x1a\n not really')
    (tmp_path / 'd' / 'notes.txt').write_text('not a picture, not even by its name')
    skipped = []
    train_x, test_x, summary = load_folder(tmp_path / 'd', 32, 0.2, on_skip=lambda path, reason: skipped.append(path))
    assert [p.name for p in skipped] == ['broken.png'] and '1 skipped' in summary
    assert len(train_x) + len(test_x) == 6
    load_folder(tmp_path / 'd', 32, 0.2, cache_dir=tmp_path / 'cache')
    again = []
    _, _, summary = load_folder(tmp_path / 'd', 32, 0.2, cache_dir=tmp_path / 'cache',
                                on_skip=lambda path, reason: again.append((path, reason)))
    assert 'read from' in summary and '1 skipped' in summary  # the cache says the skipped files again
    assert [(path, reason) for path, reason in again] == [(str(skipped[0]), again[0][1])] and again[0][1]


@pytest.mark.parametrize('setup, size, words', [
    (lambda d: d.mkdir(), 32, ['holds no image files']),
    (lambda d: (d.mkdir(), (d / 'a.png').write_bytes(b'junk'), (d / 'b.png').write_bytes(b'junk')), 32,
     ['no usable', '2 of 2 files skipped']),
    (lambda d: write_pictures(d, 3), 30, ['30', 'multiples of 4']),
    (lambda d: write_pictures(d, 3), 4, ['4', 'at least 8']),  # one pixel left after pooling: BatchNorm fails
    (lambda d: write_pictures(d, 1), 32, ['one image file', 'train/ and test/']),
], ids=['empty', 'nothing-readable', 'size-30', 'size-4', 'one-picture'])
def test_folders_that_give_no_data_set(setup, size, words, tmp_path):
    setup(tmp_path / 'd')
    with pytest.raises(InputError) as err:
        load_folder(tmp_path / 'd', size)
    assert all(word in str(err.value) for word in words), err.value


def test_a_data_set_too_big_for_memory_is_refused_up_front(tmp_path):
    write_pictures(tmp_path / 'd', 10)
    with pytest.raises(InputError, match=r'10 images of 96x96 need about .* GB .* about 3 would fit'):
        load_folder(tmp_path / 'd', 96, memory=96 * 96 * 3 * 16 * 3.5)
