import numpy as np
import pytest

import colorlib
from colorlib.errors import InputError
from colorlib.temporal import colour_frames


@pytest.fixture(scope='module')
def unet():
    return colorlib.load('unet')


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
        list(colour_frames(unet, [np.zeros((8, 8), np.uint16)], temporal=False))
    assert err.value.fields == ('frames[0]',)
