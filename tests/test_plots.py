"""The pictures: real PNGs, big enough to see a 32x32 image, with their folders made on the way."""
import math

import matplotlib.image as mpimg
import numpy as np
import pytest
import torch

from colorlib.plots import save_activation_tiles, save_sample_grid, save_training_curve

PNG_MAGIC = b'\x89PNG\r\n\x1a\n'


def read_png(path):
    assert path.read_bytes()[:8] == PNG_MAGIC
    image = mpimg.imread(path)
    assert image.ndim == 3 and image.shape[2] in (3, 4)
    return image[..., :3]


def solid(count, rgb, size=32):
    return torch.tensor(rgb, dtype=torch.float32).view(1, 3, 1, 1).expand(count, 3, size, size).clone()


def red_extent(image):
    """Columns and rows of the PNG holding pure red pixels."""
    red = (image[..., 0] > 0.9) & (image[..., 1] < 0.1) & (image[..., 2] < 0.1)
    return red.any(0).sum(), red.any(1).sum()


@pytest.mark.parametrize('count', [1, 3, 10])
@pytest.mark.parametrize('labels', [['output'], ['grey input', 'truth (24 colours)', 'output']])
def test_sample_grid_images_are_at_least_100_px(tmp_path, count, labels):
    """One solid red row among grey rows: the red columns per image are its on-screen width."""
    rows = [(label, torch.full((count, 1, 32, 32), 0.5)) for label in labels[:-1]]
    rows.append((labels[-1], solid(count, (1.0, 0.0, 0.0))))
    path = save_sample_grid(rows, tmp_path / 'grid.png')
    assert path == tmp_path / 'grid.png'
    cols, height = red_extent(read_png(path))
    width = cols / count
    assert width >= 100, f'each image is only {width:.0f} px wide'
    assert abs(height - width) <= 3  # square pixels: not squashed


def test_sample_grid_shows_the_pixels(tmp_path):
    """A left-black/right-white image comes out black on the left, white on the right, and clamps to [0, 1]."""
    image = torch.zeros(1, 3, 32, 32)
    image[..., 16:] = 5.0
    path = save_sample_grid([('x', image)], tmp_path / 'g.png')
    picture = read_png(path)
    black = (picture.max(2) < 0.05)
    cols = np.flatnonzero(black.any(0))
    rows = np.flatnonzero(black.any(1))
    assert len(cols) >= 45 and len(rows) >= 90  # half an image wide, a whole image tall
    right = picture[rows[len(rows) // 2], cols.max() + 5]
    np.testing.assert_allclose(right, 1.0, atol=0.02)


def test_sample_grid_grey_and_colour_rows(tmp_path):
    grey = torch.rand(4, 1, 32, 32)
    colour = torch.rand(4, 3, 32, 32)
    path = save_sample_grid([('grey input', grey), ('output', colour)], tmp_path / 'deep' / 'er' / 's.png')
    picture = read_png(path)
    assert picture.shape[1] >= 400 and picture.shape[0] >= 200


@pytest.mark.parametrize('with_acc', [False, True])
def test_training_curve(tmp_path, with_acc):
    history = [{'epoch': e, 'train_loss': 2.0 / e, 'val_loss': 2.5 / e, 'val_acc': 30 + e if with_acc else None}
               for e in range(1, 6)]
    path = save_training_curve(history, tmp_path / 'a' / 'b' / 'curve.png')
    assert path == tmp_path / 'a' / 'b' / 'curve.png'
    picture = read_png(path)
    # the accuracy panel doubles the width
    assert picture.shape[:2] == ((400, 1000) if with_acc else (400, 500))
    green = (picture[..., 1] > 0.45) & (picture[..., 0] < 0.3) & (picture[..., 2] < 0.3)  # tab:green
    assert green.any() == with_acc


def test_training_curve_single_epoch(tmp_path):
    path = save_training_curve([{'epoch': 1, 'train_loss': 1.0, 'val_loss': 1.2}], tmp_path / 'c.png')
    assert read_png(path).shape[:2] == (400, 500)


@pytest.mark.parametrize('channels', [1, 5, 64])
def test_activation_tiles(tmp_path, channels):
    activation = torch.randn(channels, 16, 16)
    activation[0] = 0  # a dead ReLU channel: constant tiles must not break the colour scaling
    path = save_activation_tiles(activation, tmp_path / 'x' / 'y' / f'act{channels}.png', f'{channels} channels')
    assert path.parent.is_dir()
    picture = read_png(path)
    cols = math.ceil(math.sqrt(channels))
    rows = math.ceil(channels / cols)
    assert picture.shape[1] == round(110 * cols)
    assert picture.shape[0] == round(110 * rows + 50)
    # tiles are drawn in colour (viridis), not left blank
    coloured = picture.max(2) - picture.min(2) > 0.2
    assert coloured.mean() > 0.1


def test_activation_tiles_from_a_model_layer(tmp_path):
    """Works on what the CLI hands it: one image's block output, still attached to autograd."""
    conv = torch.nn.Conv2d(1, 4, 3, padding=1)
    activation = conv(torch.rand(1, 1, 8, 8))[0]
    assert activation.requires_grad
    path = save_activation_tiles(activation, tmp_path / 'a.png', 'conv')
    assert read_png(path).shape[1] == 220
