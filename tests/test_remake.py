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
