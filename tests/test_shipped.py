"""The shipped weights, colour files and horses: found in a checkout and in an installed package."""
from pathlib import Path

import pytest
import torch

from colorlib import shipped
from colorlib.colours import load_colours
from colorlib.data import load_category
from colorlib.errors import InputError
from colorlib.lab import load_bins

REPO = Path(__file__).resolve().parents[1]
STEMS = ['cnn_k3_f32', 'dunet_k3_f32', 'regression_cnn_k3_f32', 'superres_cnn_k3_f32', 'superres_unet_k3_f32',
         'superres_unet_mse_k3_f32', 'superres_unet_res_k3_f32', 'unet_k3_f32', 'unet_lab_k3_f32']


@pytest.mark.parametrize('kind', ['weights', 'colours', 'data'])
def test_folder_in_a_checkout(kind):
    assert shipped.folder(kind) == REPO / kind
    assert shipped.folder(kind).is_dir()


def test_folder_in_an_installed_package(tmp_path, monkeypatch):
    (tmp_path / 'colorlib' / 'shipped' / 'weights').mkdir(parents=True)
    monkeypatch.setattr(shipped, 'HERE', tmp_path / 'colorlib' / 'shipped')
    assert shipped.folder('weights') == tmp_path / 'colorlib' / 'shipped' / 'weights'
    assert shipped.folder('colours') == tmp_path / 'colours'  # not inside: the top of the repository


def test_weights():
    path = shipped.weights('unet_k3_f32')
    assert path == REPO / 'weights' / 'unet_k3_f32.pkl' and path.is_file()
    state = torch.load(path, map_location='cpu', weights_only=True)
    assert state['finalconv.weight'].shape[0] == 24


def test_every_shipped_stem():
    assert sorted(p.stem for p in shipped.folder('weights').glob('*.pkl')) == STEMS
    assert all(shipped.weights(stem).is_file() for stem in STEMS)


def test_unknown_weights_lists_what_is_shipped():
    with pytest.raises(InputError) as err:
        shipped.weights('unet_k5_f64')
    message = str(err.value)
    assert 'unet_k5_f64.pkl' in message and '\n' not in message
    assert all(stem in message for stem in STEMS)


def test_defaults_exist_and_load():
    assert shipped.DEFAULT_DATA == REPO / 'data' / 'cifar10_horse.npz'
    assert shipped.DEFAULT_COLOURS == REPO / 'colours' / 'colour_kmeans24_cat7.npy'
    assert shipped.DEFAULT_BINS == REPO / 'colours' / 'lab_bins10_cat7.npy'
    assert load_colours(shipped.DEFAULT_COLOURS).shape == (24, 3)
    centres, prior = load_bins(shipped.DEFAULT_BINS)
    assert centres.shape[1] == 2 and prior.shape == (len(centres),)
    train_x, test_x = load_category(shipped.DEFAULT_DATA, 7)
    assert train_x.shape[1:] == (32, 32, 3) and test_x.shape == (1000, 32, 32, 3)
