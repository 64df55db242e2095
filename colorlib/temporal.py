"""Colour the frames of a film: one frame in, one coloured frame out, holding only a few frames at a time.

colour_frames(model, frames) takes any iterable of (H, W, 3) uint8 RGB frames (a decoder's, a list) and yields
coloured uint8 RGB frames of the same size, lazily, so a pipeline can decode, colour and encode a long film with
bounded memory. temporal=False colours each frame alone, exactly as Model.colorize does.
"""
from colorlib.errors import InputError
from colorlib.images import as_uint8


def check_frame(frame, index):
    """One frame as colour_frames takes it: (H, W, 3) RGB, uint8 or float 0-1 (images.as_uint8)."""
    return as_uint8(frame, f'frames[{index}]', ndim=3)


def colour_frames(model, frames, temporal=True, **colorize_settings):
    """Coloured uint8 RGB frames, one per frame of `frames`, lazily. colorize_settings go to Model.colorize (tile,
    margin, net_size, flips). temporal=False: each frame coloured alone (Model.colorize)."""
    if temporal not in (True, False):
        raise InputError(f'temporal must be True or False, not {temporal!r}', ['temporal'])
    for index, frame in enumerate(frames):
        yield model.colorize(check_frame(frame, index), **colorize_settings)
