"""Tests for colorlib.remake: the colour files remade from Python, as `colorlib colours` and `colorlib bins` make
them, and refused (naming the keyword) before anything is fitted or written."""
import numpy as np
import pytest

from colorlib.colours import load_colours
from colorlib.errors import FileExists, InputError
from colorlib.lab import load_bins
from colorlib.remake import remake_bins, remake_colours
from conftest import smooth_rgb


@pytest.fixture(scope='module')
def images():
    return np.stack([smooth_rgb(32, 32, seed) for seed in range(8)])  # 8192 pixels


def test_remake_colours_writes_a_file_for_each_k_and_keeps_what_exists(images, tmp_path):
    made = remake_colours(images, k=[2, 4], out_dir=tmp_path, category='deer')
    assert {path.name: k for path, (k, _) in made.items()} == {'colour_kmeans2_cat4.npy': 2,
                                                                'colour_kmeans4_cat4.npy': 4}
    for path, (k, distortion) in made.items():
        assert load_colours(path).shape == (k, 3) and distortion > 0
    with pytest.raises(FileExists) as refused:
        remake_colours(images, k=[2], out_dir=tmp_path, category='deer', seed=1)
    assert refused.value.fields == ('out_dir',)
    assert remake_colours(images, k=[2], out_dir=tmp_path, category=4, seed=1, overwrite=True)


def test_remake_colours_checks_every_k_before_any_file(images, tmp_path):
    with pytest.raises(InputError) as refused:
        remake_colours(images, k=[2, 100], out_dir=tmp_path)
    assert refused.value.fields == ('k',) and list(tmp_path.iterdir()) == []


def test_remake_bins_writes_the_bins_the_images_use(images, tmp_path):
    path, count = remake_bins(images, out_dir=tmp_path)
    centres, prior = load_bins(path)
    assert path.name == 'lab_bins10_cat7.npy' and len(centres) == count == len(prior) > 1
    with pytest.raises(InputError) as refused:
        remake_bins(images, out_dir=tmp_path, reads=[path], overwrite=True)
    assert refused.value.fields == ('out_dir',)


def test_the_remakers_read_the_training_images_of_data_themselves(tiny_npz, tmp_path):
    """What `colorlib colours` and `colorlib bins` call: the images of `data` and `category` read, once every
    setting and place is checked."""
    from colorlib.data import load_images
    train_x = load_images(tiny_npz)[0]
    assert remake_bins(data=tiny_npz, out_dir=tmp_path / 'read')[1] == remake_bins(train_x, out_dir=tmp_path)[1]
    made = remake_colours(data=tiny_npz, k=[3], out_dir=tmp_path / 'read', seed=2)
    assert [k for k, _ in made.values()] == [3]
    for setting, field in (({'k': [1]}, 'k'), ({'image_size': 4}, 'image_size'), ({'category': 'dragon'}, 'category')):
        with pytest.raises(InputError) as refused:
            remake_colours(data=tmp_path / 'nope.npz', out_dir=tmp_path / 'none', **setting)
        assert refused.value.fields == (field,)
    assert not (tmp_path / 'none').exists()


def test_the_remakers_never_write_over_the_data_they_read(tiny_npz, tmp_path):
    """A data file that has the name of the colour file to write (an .npz by its contents) is refused as an input."""
    data = tmp_path / 'colour_kmeans3_cat7.npy'
    data.write_bytes(open(tiny_npz, 'rb').read())
    with pytest.raises(InputError) as refused:
        remake_colours(data=data, k=[3], out_dir=tmp_path, overwrite=True)
    assert refused.value.fields == ('out_dir',) and 'input of this run' in str(refused.value)
    assert data.read_bytes() == open(tiny_npz, 'rb').read()
