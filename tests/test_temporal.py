from unittest import mock

import numpy as np
import pytest
import torch

import colorlib
from colorlib.errors import InputError
from colorlib.lab import rgb_to_lab
from colorlib import temporal
from colorlib.temporal import Steady, colour_frames, fitted, optical_flow


@pytest.fixture(scope='module')
def unet():
    return colorlib.load('unet')


def scene(seed, height=48, width=64):
    """A smooth colour picture: a few blurred blobs."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (height // 8, width // 8, 3), dtype=np.uint8)
    return np.kron(small, np.ones((8, 8, 1), np.uint8))


def chroma(frames):
    return rgb_to_lab(torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float() / 255)[:, 1:]


def flicker(frames):
    ab = chroma(frames)
    return (ab[1:] - ab[:-1]).abs().mean().item()


def test_frame_by_frame_is_colorize(unet):
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (24, 36, 3), dtype=np.uint8) for _ in range(3)]
    out = list(colour_frames(unet, iter(frames), temporal=False))
    assert len(out) == 3
    for frame, coloured in zip(frames, out):
        assert coloured.dtype == np.uint8 and coloured.shape == frame.shape
        assert np.array_equal(coloured, unet.colorize(frame))


def test_bad_frame_is_refused(unet):
    with pytest.raises(InputError) as err:
        list(colour_frames(unet, [np.zeros((8, 8), np.uint16)]))
    assert err.value.fields == ('frames[0]',)
    with pytest.raises(InputError) as err:
        list(colour_frames(unet, [], temporal='yes'))
    assert err.value.fields == ('temporal',)
    for workers in (0, 1.5, True, 10 ** 6):
        with pytest.raises(InputError) as err:
            list(colour_frames(unet, [], workers=workers))
        assert err.value.fields == ('workers',)


@pytest.mark.parametrize('temporal', [False, True])
def test_several_frames_at_once_colour_as_one_at_a_time(unet, temporal):
    """The network on two frames at once, each in its own thread with one torch thread: the same frames, in order."""
    frames = [np.roll(scene(12), 3 * t, axis=1) for t in range(6)] + [scene(13)] * 2
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        one = list(colour_frames(unet, frames, temporal=temporal))
        two = list(colour_frames(unet, iter(frames), temporal=temporal, workers=2))
    finally:
        torch.set_num_threads(before)
    assert len(two) == len(frames) and all(np.array_equal(a, b) for a, b in zip(one, two))


def test_flow_finds_a_shift():
    grey = torch.from_numpy(scene(1, 64, 96).mean(-1) / 255).float()
    grey = torch.nn.functional.avg_pool2d(grey[None, None], 5, 1, 2)[0, 0]  # smooth, so gradients exist
    current, previous = grey[8:56, 8:88], grey[5:53, 12:92]  # previous(x + (-4, 3)) = current(x)
    flow = optical_flow(current[None, None], previous[None, None])
    assert flow[0, 0, 8:-8, 8:-8].median().item() == pytest.approx(-4, abs=0.3)
    assert flow[0, 1, 8:-8, 8:-8].median().item() == pytest.approx(3, abs=0.3)


def test_temporal_steadies_a_still_scene_with_noise(unet):
    rng = np.random.default_rng(2)
    still = scene(3)
    frames = [np.clip(still + rng.normal(0, 6, still.shape), 0, 255).astype(np.uint8) for _ in range(8)]
    plain = list(colour_frames(unet, frames, temporal=False))
    steady = list(colour_frames(unet, frames))
    assert flicker(steady) < 0.6 * flicker(plain)
    # steadier, not greyer: the mean saturation is the network's
    saturation = [chroma(frames).norm(dim=1).mean().item() for frames in (plain, steady)]
    assert saturation[1] == pytest.approx(saturation[0], rel=0.15)
    # lightness is the input's: only the colour is steadied
    lightness = rgb_to_lab(torch.from_numpy(np.stack(steady + frames)).permute(0, 3, 1, 2).float() / 255)[:, 0]
    assert (lightness[:8] - lightness[8:]).abs().mean().item() < 1.5


def test_a_cut_starts_afresh(unet):
    first, second = scene(4), 255 - scene(5) // 2
    frames = [first] * 4 + [second] * 2
    steady = list(colour_frames(unet, frames))
    alone = list(colour_frames(unet, frames[4:]))
    assert all(np.array_equal(a, b) for a, b in zip(steady[4:], alone))  # no colour of the old scene carried over
    assert not np.array_equal(steady[4], steady[3])


def test_a_cut_to_a_scene_of_the_same_grey_levels_starts_afresh(unet):
    """The new scene is the old one turned upside down: the same grey levels, nowhere the same picture."""
    first = scene(14)
    frames = [first] * 3 + [np.ascontiguousarray(first[::-1, ::-1])] * 2
    steady = list(colour_frames(unet, frames))
    alone = list(colour_frames(unet, frames[3:]))
    assert all(np.array_equal(a, b) for a, b in zip(steady[3:], alone))


def test_a_steady_scene_is_not_a_cut(unet):
    """A shift of a few pixels is motion, not a new scene: the colours carried differ from the frame's alone."""
    frames = [np.roll(scene(15), 2 * t, axis=1) for t in range(4)]
    steady = list(colour_frames(unet, frames))
    assert not np.array_equal(steady[3], next(colour_frames(unet, frames[3:])))


def test_the_fit_widens_with_the_speed():
    """Still: the fit of RADIUS; fast: close to SMOOTH_RADIUS's; FAST of the side a frame: half way."""
    torch.manual_seed(1)
    grey = torch.rand(1, 1, 40, 80)
    chroma = 20 * torch.randn(1, 2, 40, 80)
    sharp, speed = fitted(grey, chroma), torch.ones(1, 1, 40, 80)
    with mock.patch.object(temporal, 'RADIUS', temporal.SMOOTH_RADIUS), \
            mock.patch.object(temporal, 'EPS', temporal.SMOOTH_EPS):
        smooth = fitted(grey, chroma)
    assert not torch.allclose(sharp, smooth, atol=1)
    assert torch.equal(fitted(grey, chroma, 0 * speed), sharp)
    assert torch.allclose(fitted(grey, chroma, 1e6 * speed), smooth, atol=1e-2)
    half = fitted(grey, chroma, temporal.FAST * 80 * speed)
    assert torch.allclose(half, (sharp + smooth) / 2, atol=1e-4)


def test_a_new_size_starts_afresh(unet):
    frames = [scene(6), scene(6), scene(7, 40, 56)]
    steady = list(colour_frames(unet, frames))
    assert steady[2].shape == (40, 56, 3) and np.array_equal(steady[2], next(colour_frames(unet, frames[2:])))


def test_chroma_texture_goes_colour_edges_stay():
    """The network's chroma is fitted to the lightness: noise where the lightness is flat goes, an edge of colour
    on an edge of lightness stays."""
    torch.manual_seed(0)
    lightness = torch.full((40, 80), 30.0)
    lightness[:, 40:] = 70
    chroma = torch.zeros(1, 2, 40, 80)
    chroma[:, 0, :, :40], chroma[:, 0, :, 40:] = 20, -20
    noisy = chroma + 6 * torch.randn_like(chroma)
    slope, offset = Steady()(lightness, noisy[0])
    out = slope * lightness / 100 + offset
    assert (out - chroma).abs().mean() < 0.3 * (noisy - chroma).abs().mean()
    assert out[:, 0, :, :38].mean().item() == pytest.approx(20, abs=1.5)
    assert out[:, 0, :, 42:].mean().item() == pytest.approx(-20, abs=1.5)


def test_a_large_frame_is_steadied_at_its_size(unet):
    rng = np.random.default_rng(8)
    still = np.kron(scene(9, 8, 56), np.ones((5, 8, 1), np.uint8))  # 40 x 448: steadied at 29 x 320
    frames = [np.clip(still + rng.normal(0, 6, still.shape), 0, 255).astype(np.uint8) for _ in range(5)]
    plain = list(colour_frames(unet, frames, temporal=False))
    steady = list(colour_frames(unet, frames))
    assert steady[0].shape == still.shape
    assert flicker(steady) < 0.6 * flicker(plain)


def test_paint_is_the_fit_applied_at_full_size_piece_by_piece():
    """paint scales the fit's coefficients up and colours the lightness with them, a few rows at a time, as one
    conversion of the whole frame does."""
    from colorlib.lab import lab_to_uint8, lightness_from
    from colorlib.temporal import paint
    torch.manual_seed(1)
    luminance = torch.rand(37, 53)
    lightness = lightness_from(luminance)
    slope, offset = torch.randn(1, 2, 9, 13) * 20, torch.randn(1, 2, 9, 13) * 20
    up = torch.nn.functional.interpolate(torch.cat([slope, offset], 1), size=(37, 53), mode='bilinear',
                                         align_corners=False)[0]
    ab = up[:2] * lightness / 100 + up[2:]
    expected = lab_to_uint8(lightness, ab[0], ab[1], torch.empty(37, 53, 3, dtype=torch.uint8)).numpy()
    got = paint(lightness, luminance, slope, offset, chunk=200)  # pieces of 3 rows
    assert got.shape == (37, 53, 3) and np.abs(got.astype(int) - expected).max() <= 1


@pytest.mark.parametrize('workers', [1, 2])
def test_the_network_runs_ahead_in_a_thread_in_order_and_stops_with_the_frames(unet, workers):
    """The temporal mode runs the network in threads of its own: a bad frame after good ones is refused after their
    colours, and closing the frames early leaves no thread behind."""
    import itertools
    import threading
    frames = [scene(10), scene(10), np.zeros((8, 8), np.uint16), scene(10)]
    coloured = colour_frames(unet, frames, workers=workers)
    assert next(coloured).shape == (48, 64, 3) and next(coloured).shape == (48, 64, 3)
    with pytest.raises(InputError) as err:
        next(coloured)
    assert err.value.fields == ('frames[2]',)

    def network_threads():
        return [t for t in threading.enumerate() if t.name.startswith('colorlib-network')]
    endless = colour_frames(unet, itertools.repeat(scene(11)), workers=workers)  # a source that never ends
    next(endless)
    assert network_threads()
    endless.close()
    assert not network_threads()
