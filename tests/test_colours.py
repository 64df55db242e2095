"""Colour files in the assignment's format, and the pixel <-> colour class conversions."""
import os

import numpy as np
import pytest
import torch

from colorlib import shipped
from colorlib.colours import classes_to_rgb, fit_colours, load_colours, rgb_to_classes, save_colours
from colorlib.images import to_float
from colorlib.errors import InputError
from colorlib.files import write_pair
from conftest import assignment_colours_path, needs_shared, one_line_error

COLOURS_DIR = shipped.folder('colours')


def np_load(path):
    """How the assignment itself reads a colour file."""
    return np.load(path, allow_pickle=True, encoding='latin1')


def brute_force_classes(rgb, centres):
    """Nearest centre by explicit squared distances, in float64: (N, 3, H, W) -> (N, H, W), and the distances."""
    pixels = rgb.double().permute(0, 2, 3, 1)[..., None, :]  # (N, H, W, 1, 3)
    dist = ((pixels - centres.double()) ** 2).sum(-1)  # (N, H, W, k)
    return dist.argmin(-1), dist


def assert_nearest(got, rgb, centres):
    """got must be a nearest centre; where the brute force picks another, it must be an exact tie."""
    want, dist = brute_force_classes(rgb, centres)
    assert got.shape == want.shape and got.dtype == torch.int64
    differ = got != want
    assert differ.float().mean() < 1e-4
    if differ.any():
        d_got = dist.gather(-1, got[..., None])[..., 0][differ]
        d_want = dist.gather(-1, want[..., None])[..., 0][differ]
        torch.testing.assert_close(d_got, d_want, rtol=0, atol=1e-12)


@needs_shared
@pytest.mark.parametrize('k', [16, 24, 32])
def test_assignment_colour_files_load(k):
    centres = load_colours(assignment_colours_path(k))
    assert centres.shape == (k, 3) and centres.dtype == torch.float32
    assert centres.min() >= 0 and centres.max() <= 1
    np.testing.assert_allclose(centres.numpy(), np_load(assignment_colours_path(k))[0], rtol=1e-6)


@pytest.mark.parametrize('k', [16, 24, 32])
def test_shipped_colour_files(k):
    path = COLOURS_DIR / f'colour_kmeans{k}_cat7.npy'
    assert path.is_file()
    data = np_load(path)
    assert data.dtype == object and data.shape == (2,)
    centres = load_colours(path)
    assert centres.shape == (k, 3)
    assert centres.min() >= 0 and centres.max() <= 1
    assert len(torch.unique(centres, dim=0)) == k
    assert 0 < float(data[1]) < 0.2


@needs_shared
@pytest.mark.parametrize('k', [16, 24, 32])
def test_shipped_colours_fit_like_the_assignments(k):
    """Fitted on the same horse pixels scaled the same way, our k-means is as tight as the assignment's."""
    ours = float(np_load(COLOURS_DIR / f'colour_kmeans{k}_cat7.npy')[1])
    theirs = float(np_load(assignment_colours_path(k))[1])
    assert abs(ours - theirs) / theirs < 0.05


def test_shipped_distortion_is_the_mean_distance_on_training_pixels(horses):
    path = COLOURS_DIR / 'colour_kmeans16_cat7.npy'
    centres = torch.from_numpy(np_load(path)[0].astype(np.float64))
    rgb = torch.from_numpy(horses[0]).permute(0, 3, 1, 2).double() / 256
    nearest = centres[rgb_to_classes(rgb, centres)].permute(0, 3, 1, 2)
    distortion = (rgb - nearest).pow(2).sum(1).sqrt().mean().item()
    assert distortion == pytest.approx(float(np_load(path)[1]), rel=1e-3)


@pytest.mark.parametrize('distortion', [0.123, np.float64(0.5)])
def test_save_load_round_trip_in_the_assignment_format(tmp_path, distortion):
    centres = np.random.default_rng(0).random((5, 3))
    path = tmp_path / 'colours.npy'
    save_colours(path, centres, distortion)
    data = np_load(path)
    assert data.dtype == object and data.shape == (2,)
    np.testing.assert_array_equal(data[0], centres)
    assert float(data[1]) == float(distortion)
    loaded = load_colours(path)
    assert loaded.shape == (5, 3) and loaded.dtype == torch.float32
    np.testing.assert_allclose(loaded.numpy(), centres, rtol=1e-6)


def test_save_colours_writes_the_name_given(tmp_path):
    path = tmp_path / 'my.colours'
    save_colours(path, torch.rand(4, 3), 0.1)  # a tensor works too
    assert [p.name for p in tmp_path.iterdir()] == ['my.colours']
    assert load_colours(path).shape == (4, 3)


@needs_shared
def test_resaving_the_assignment_file_keeps_its_content(tmp_path):
    original = np_load(assignment_colours_path(24))
    path = tmp_path / 'copy.npy'
    save_colours(path, original[0], original[1])
    copy = np_load(path)
    np.testing.assert_array_equal(copy[0], original[0])
    assert copy[1] == original[1]


def test_load_colours_errors(tmp_path):
    with pytest.raises(InputError) as e:
        load_colours(tmp_path / 'nothing.npy')
    assert one_line_error(e, 'nothing.npy').startswith('no such file: ')
    junk = tmp_path / 'junk.npy'
    junk.write_bytes(os.urandom(300))
    with pytest.raises(InputError) as e:
        load_colours(junk)
    assert one_line_error(e, 'is not a colour file').startswith(str(junk))
    wrong = tmp_path / 'wrong.npy'
    with pytest.raises(InputError) as e:  # the writer refuses what the loader refuses: nothing is written
        save_colours(wrong, np.zeros((4, 2)), 0.0)
    assert one_line_error(e, '(4, 2)', 'expected (k, 3)') and not wrong.exists()
    write_pair(wrong, np.zeros((4, 2)), 0.0)
    with pytest.raises(InputError) as e:
        load_colours(wrong)
    assert one_line_error(e, '(4, 2)', 'expected (k, 3)').startswith(str(wrong))


def test_hostile_colour_file_cannot_run_code(tmp_path):
    """A colour file is a pickle inside an .npy; loading one must never run what it names."""
    marker = tmp_path / 'pwned'

    class Evil:
        def __reduce__(self):
            return (os.system, (f'touch {marker}',))

    data = np.empty(2, dtype=object)
    data[0], data[1] = Evil(), 0.1
    path = tmp_path / 'evil.npy'
    np.save(path, data, allow_pickle=True)
    assert b'system' in path.read_bytes()
    with pytest.raises(InputError) as e:
        load_colours(path)
    one_line_error(e, str(path), 'is not a colour file')
    assert not marker.exists()


def test_rgb_to_classes_random_images():
    gen = torch.Generator().manual_seed(0)
    centres = torch.rand(24, 3, generator=gen)
    rgb = torch.rand(4, 3, 16, 20, generator=gen)
    got = rgb_to_classes(rgb, centres)
    assert got.shape == (4, 16, 20) and got.dtype == torch.int64
    assert_nearest(got, rgb, centres)
    # chunks of 3 images go through the loop twice, the second one ragged
    assert torch.equal(rgb_to_classes(rgb, centres, chunk=3), got)


def test_rgb_to_classes_real_horses(horses):
    centres = load_colours(COLOURS_DIR / 'colour_kmeans24_cat7.npy')
    rgb = to_float(horses[1][:200])
    got = rgb_to_classes(rgb, centres)
    assert got.shape == (200, 32, 32)
    assert_nearest(got, rgb, centres)
    assert len(torch.unique(got)) == 24  # real images use every colour


def test_classes_to_rgb_inverts_on_the_centres():
    centres = torch.rand(24, 3, generator=torch.Generator().manual_seed(1))
    classes = torch.arange(24).view(1, 4, 6).repeat(2, 1, 1)
    rgb = classes_to_rgb(classes, centres)
    assert rgb.shape == (2, 3, 4, 6)
    assert torch.equal(rgb[1, :, 2, 3], centres[15])  # class 2 * 6 + 3
    assert torch.equal(rgb_to_classes(rgb, centres), classes)


def test_fit_colours_finds_two_obvious_clusters():
    rng = np.random.default_rng(0)
    red, blue = np.array([200, 30, 40]), np.array([20, 60, 220])
    which = rng.random((6, 8, 8)) < 0.3
    images = np.where(which[..., None], red, blue) + rng.integers(-3, 4, size=(6, 8, 8, 3))
    images = images.astype(np.uint8)
    centres, distortion = fit_colours(images, 2, seed=0)
    assert centres.shape == (2, 3)
    want = np.stack([blue, red]) / 256  # scaled like the network's input; sorted by red
    np.testing.assert_allclose(centres[np.argsort(centres[:, 0])], want, atol=0.005)
    pixels = images.reshape(-1, 3) / 256
    mean_distance = np.sqrt(((pixels[:, None] - centres) ** 2).sum(-1)).min(1).mean()
    assert distortion == pytest.approx(mean_distance)
    assert distortion < 0.02

