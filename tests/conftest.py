"""Shared test helpers: the ../shared fixtures (present in CI only) and the bundled horse images.

Import the marker in a test file with `from conftest import needs_shared`.
"""
from pathlib import Path

import numpy as np
import pytest
import torch

from colorlib.data import DEFAULT_DATA, load_category

SHARED = Path(__file__).resolve().parents[1].parent / 'shared'
ASSIGNMENT_WEIGHTS = SHARED / 'reference' / 'assignment_weights'
ASSIGNMENT_COLOURS = SHARED / 'reference' / 'assignment_colours'
SKIP_SHARED = '../shared not present (CI-only fixture)'

needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=SKIP_SHARED)

# model name -> the assignment's file stem, e.g. assignment_weights_path('UNet', 32) -> .../unet_k3_f32.pkl
WEIGHT_STEMS = {'RegressionCNN': 'regression_cnn', 'CNN': 'cnn', 'UNet': 'unet', 'DUNet': 'dunet'}


def assignment_weights_path(model, num_filters, kernel=3):
    return ASSIGNMENT_WEIGHTS / f'{WEIGHT_STEMS[model]}_k{kernel}_f{num_filters}.pkl'


def assignment_colours_path(k):
    return ASSIGNMENT_COLOURS / f'color_kmeans{k}_cat7.npy'


@pytest.fixture
def shared_dir():
    if not SHARED.is_dir():
        pytest.skip(SKIP_SHARED)
    return SHARED


@pytest.fixture
def assignment_weights(shared_dir):
    """assignment_weights('UNet', 32) -> the assignment's state_dict (CPU tensors) for that model and size."""
    def load(model, num_filters, kernel=3):
        path = assignment_weights_path(model, num_filters, kernel)
        if not path.is_file():
            pytest.skip(f'{path} not present')
        return torch.load(path, map_location='cpu', weights_only=True)
    return load


@pytest.fixture(scope='session')
def horses():
    """(train_x, test_x): the bundled CIFAR-10 horses as uint8 NHWC arrays."""
    if not DEFAULT_DATA.is_file():
        pytest.skip(f'bundled {DEFAULT_DATA} not present')
    return load_category(DEFAULT_DATA, 7)


def write_horses_npz(path, horses, num_train, num_test):
    """The first training and test horses in the .npz layout --data reads; returns the path as a string."""
    train_x, test_x = horses
    np.savez(path, train_x=train_x[:num_train], train_y=np.full(num_train, 7), test_x=test_x[:num_test],
             test_y=np.full(num_test, 7))
    return str(path)


@pytest.fixture(scope='session')
def tiny_npz(horses, tmp_path_factory):
    """200 training and 50 test horses as an .npz for --data: enough for runs of a second or two."""
    return write_horses_npz(tmp_path_factory.mktemp('data') / 'tiny_horses.npz', horses, 200, 50)
