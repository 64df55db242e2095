"""Colour image files of any size, grey or colour, with a trained model (the library side of `colorlib colorize`).

The models are fully convolutional, so they run on the whole image; large images go through in tiles whose margins
cover the receptive field, so the seams cannot show, and band by band end to end, so memory stays bounded by the
tile and the width (a 100-megapixel photo fits in under 2 GB: bench/colorize_memory.py). Only the colour (Lab's
a and b) is taken from the network: the lightness L is the original's, at full resolution, so the result is as sharp
as the input.
"""
import errno
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from tqdm import tqdm

from colorlib.errors import InputError, WriteError, with_fields
from colorlib.files import atomic_write, check_writable
from colorlib.images import picture_size, read_image
from colorlib.fuse import inference_copy
from colorlib.lab import lab_to_uint8, lightness_of
from colorlib.memory import TILE, check_fits, piece_width
from colorlib.models import STRIDE, FlipAveraged, context
from colorlib.resample import as_seen, seen_size, upsample_rows
from colorlib.video import SUFFIXES as FILM_SUFFIXES
from colorlib.video import FilmCut, is_film, require_av



def round_up(n, multiple=STRIDE):
    return -(-n // multiple) * multiple


def to_rgb(pixels, device='cpu'):
    """A block of read_image's pixels as float RGB (3, h, w) in [0, 1]."""
    x = torch.tensor(pixels, device=device).permute(2, 0, 1)  # a copy of the block: Pillow's arrays are read-only
    x = x.float() / 255 if x.dtype == torch.uint8 else x.float()
    return x.expand(3, -1, -1) if len(x) == 1 else x


def chroma_predictor(model, target):
    """A function from an (1, 3, h, w) RGB window to the network's ab for it, (1, 2, h, w): the target's input
    for the window, and the ab of the pictures it decodes (target.chroma). The network runs with its batch norms
    folded in (colorlib.fuse), a copy made once here."""
    net = inference_copy(model)

    def predict(rgb):
        inputs = target.inputs(rgb)
        return target.chroma(net(inputs), inputs)
    return predict


@torch.inference_mode()
def predict_rows(pixels, predict, tile, margin, top, bottom, device='cpu'):
    """The network's ab (2, bottom - top, W) for rows top..bottom of read_image's pixels, computed in tiles.

    The rows are cut into tiles of `tile` pixels a side (or pieces of their whole width, where those hold no more
    pixels than a tile: memory.piece_width), each run with `margin` pixels of context on every side (cut off again
    afterwards); a window touching the bottom or right edge is padded by repeating the edge up to a
    multiple of 4. With a margin over the receptive field this equals one run on the whole image. `top` is a
    multiple of the tile, so the pooling grid never moves. Where one window covers the rows and the whole width,
    its ab is returned as it is, without a copy."""
    tile, margin = round_up(tile), round_up(margin)
    height, width = pixels.shape[:2]
    across = piece_width(min(tile, bottom - top), width, tile, margin)
    ab = None
    for y in range(top, bottom, tile):
        for left in range(0, width, across):
            y0, x0 = max(y - margin, 0), max(left - margin, 0)
            y1, x1 = min(y + tile + margin, height), min(left + across + margin, width)
            window = to_rgb(pixels[y0:y1, x0:x1], device)[None]
            h, w = window.shape[-2:]
            if h % STRIDE or w % STRIDE:
                window = F.pad(window, (0, round_up(w) - w, 0, round_up(h) - h), mode='replicate')
            low, right = min(y + tile, bottom), min(left + across, width)
            out = predict(window)[0, :, y - y0:low - y0, left - x0:right - x0]
            if ab is None and (low - y, right - left) == (bottom - top, width):
                return out
            if ab is None:
                ab = torch.empty(2, bottom - top, width, device=device, dtype=out.dtype)
            ab[:, y - top:low - top, left:right] = out
    return ab


def network_chroma(pixels, predict, tile, margin, net_size=None, device='cpu'):
    """The network's ab (2, h, w) of read_image's pixels, at the size it sees them: scaled so the shorter side is
    net_size (Pillow's bilinear filter), or as they are; in tiles (predict_rows)."""
    pixels = as_seen(pixels, net_size)
    return predict_rows(pixels, predict, tile, margin, 0, pixels.shape[0], device)


@torch.inference_mode()
def colorize_pixels(pixels, predict, tile, margin, net_size=None, grey=False, device='cpu', chunk=2 ** 18):
    """read_image's pixels -> (result, grey), (H, W, 3) uint8: the original L with the network's ab, and (with `grey`)
    L alone, else None.

    Done in bands of `tile` rows, and the colour conversions in pieces of `chunk` pixels, so that memory grows with
    the tile and the width, not with the image: beside the input and the result, a band's ab and a piece's Lab.
    With net_size the network sees the image scaled so its shorter side is net_size pixels (objects near the size
    they had in training), and its ab is scaled back up; the lightness always stays at full resolution. The colour
    conversions are colorlib.lab's frame-sized ones, in float32 on the device."""
    height, width = pixels.shape[:2]
    small = seen_size(height, width, net_size) != (height, width)
    if small:
        small_ab = network_chroma(pixels, predict, tile, margin, net_size, device)
    result = np.empty((height, width, 3), np.uint8)
    flat = np.empty_like(result) if grey else None
    band, rows = round_up(tile), max(1, chunk // width)
    for top in range(0, height, band):
        bottom = min(top + band, height)
        if not small:
            ab = predict_rows(pixels, predict, tile, margin, top, bottom, device)
        else:
            ab = upsample_rows(small_ab, height, width, top, bottom)
        ab = ab.float()
        for y in range(top, bottom, rows):
            y1 = min(y + rows, bottom)
            lightness = lightness_of(pixels[y:y1], device)
            paint(result[y:y1], lightness, ab[0, y - top:y1 - top], ab[1, y - top:y1 - top])
            if flat is not None:
                paint(flat[y:y1], lightness, *torch.zeros_like(lightness).expand(2, -1, -1))
    return result, flat


def paint(rows, lightness, a, b):
    """lab_to_uint8 of a piece into `rows` of the result, in place on the CPU, through a copy from another device."""
    if lightness.device.type == 'cpu':
        lab_to_uint8(lightness, a, b, torch.from_numpy(rows))
    else:
        out = torch.empty(rows.shape, dtype=torch.uint8, device=lightness.device)
        rows[...] = lab_to_uint8(lightness, a, b, out).cpu().numpy()


def to_uint8(image):
    """(3, H, W) float in [0, 1] -> (H, W, 3) uint8."""
    return (image.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).cpu().numpy()


def write_png(array, path, replace=False, reads=()):
    """Written whole or not at all (colorlib.files.atomic_write: `replace`, `reads`)."""
    atomic_write(path, lambda f: Image.fromarray(array).save(f, format='PNG'), replace, reads)


def colorize_file(path, out_dir, predict, device, tile, margin, compare, net_size=None, stem=None, replace=False,
                  reads=(), config=None):
    """Read, colourize and write one file: <stem>_colorized.png, and <stem>_compare.png if `compare`; `replace`
    earlier results of those names, never one of the files in `reads` (colorlib.files.may_write). With the model's
    `config`, a picture too big to colour in the memory free is refused (a TooBig) before it is decoded."""
    stem = stem or path.stem
    if config is not None:
        check_fits(config, 'colour', device, 1, *picture_size(path), tile, margin, net_size,
                   chosen=('tile', 'net_size'))
    pixels, alpha = read_image(path)
    result, grey = colorize_pixels(pixels, predict, tile, margin, net_size, compare, device)
    if not compare:
        del pixels  # the input is not needed any more: its memory goes before the PNG encoder's
    written = out_dir / f'{stem}_colorized.png'
    write_png(result if alpha is None else np.dstack([result, alpha]), written, replace, reads)
    if compare:
        original = pixels if pixels.dtype == np.uint8 else (pixels * 255).round().astype(np.uint8).repeat(3, axis=2)
        is_grey = np.array_equal(original[:, :, 0], original[:, :, 1]) and np.array_equal(original[:, :, 1],
                                                                                           original[:, :, 2])
        gap = np.full((result.shape[0], max(4, result.shape[1] // 50), 3), 255, np.uint8)
        parts = [grey, gap, result] + ([] if is_grey else [gap, original])
        write_png(np.concatenate(parts, axis=1), out_dir / f'{stem}_compare.png', replace, reads)
    return written


def output_stems(files):
    """<stem> for each file, or <name> (a.jpg beside a.png), or <name>-<n>, so that no two outputs share a name."""
    stems, used = [], set()
    for path in files:
        stem, n = path.stem, 1
        if stem in used:
            stem = path.name
        while stem in used:
            n += 1
            stem = f'{path.name}-{n}'
        used.add(stem)
        stems.append(stem)
    return stems


def find_images(paths):
    """Files named on the command line, as given, and the image and film files (by extension) in folders named,
    sorted."""
    extensions = {ext for ext, _ in Image.registered_extensions().items()} | set(FILM_SUFFIXES)
    files = []
    for path in map(Path, paths):
        if os.path.isdir(path):  # False, not an error, for a name too long or a symlink loop: skipped when read
            files.extend(sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in extensions))
        else:
            files.append(path)
    return files


OUT_DIR = Path('outputs') / 'colorized'  # where colorize_files puts its results unless told


@dataclass
class Colorized:
    """What colorize_files did: the files it was given, the result written for each one coloured (a film cut short
    too: what decoded of it), and the error of each skipped or cut short, in the order met."""
    out_dir: Path
    named: list
    written: dict = field(default_factory=dict)  # input path -> its coloured file
    failed: dict = field(default_factory=dict)  # input path -> the error (a video.FilmCut for a film cut short)
    films: bool = False  # whether any input was a film (the summary then counts files, not images)

    @property
    def cut(self):
        return [path for path, err in self.failed.items() if isinstance(err, FilmCut)]

    @property
    def summary(self):
        """One line: how many of the files given were coloured, and where."""
        return (f'{len(self.named) - len(self.failed)} of {len(self.named)} {"files" if self.films else "images"} '
                f'colourized into {self.out_dir}/')


def unusable_paths(named):
    """{path: why} of the paths that cannot even be looked at (a symlink loop, a name too long): no output name is
    made for them. A missing file is said when it is read, as any unreadable one."""
    unusable = {}
    for path in named:
        try:
            os.stat(path)
        except OSError as err:
            if err.errno != errno.ENOENT:
                unusable[path] = err.strerror
    return unusable


def output_places(files, films, out_dir, compare, overwrite, reads):
    """{path: (stem, coloured, side by side)}, each place checked before any work: earlier PNGs of colorize are
    replaced, films only with `overwrite`."""
    outputs = {}
    for path, stem in zip(files, output_stems(files)):
        suffix = path.suffix.lower() if path in films else '.png'
        outputs[path] = (stem, *(out_dir / f'{stem}{kind}{suffix}' for kind in ('_colorized', '_compare')))
        for output in outputs[path][1:2 + compare]:
            with_fields(['out_dir'], check_writable, output, path not in films or overwrite, reads)
    return outputs


def colorize_files(model, paths, out_dir=OUT_DIR, compare=False, temporal=True, reference=None, save_weights=None,
                   overwrite=False, tile=TILE, margin=None, net_size=None, flips=False, reads=(), progress=False,
                   log=None, on_skip=None, on_note=None):
    """Model.colorize_files' work (see there; its arguments are checked there): every place checked before the
    first file is read, the model fine-tuned on `reference` first where given, then each file coloured, one that
    cannot be read or written skipped (on_skip(path, error)) and the rest done."""
    if model.target.task != 'colour':
        raise InputError(f'{model.path or "this model"} holds super-resolution weights; colorize needs colourization '
                         'ones', ['weights'])
    if save_weights is not None and not reference:
        raise InputError('only weights fine-tuned on reference pictures are saved; give reference pictures',
                         ['save_weights', 'reference'])
    out_dir = Path(out_dir)
    named = find_images(paths)
    if not named:
        raise InputError(f'no image files or films in {", ".join(map(str, paths))}', ['paths'])
    unusable = unusable_paths(named)
    files = [path for path in named if path not in unusable]
    films = {path for path in files if is_film(path)}
    if films:
        require_av()
    reads = [*files, *reads, *(reference or [])]
    outputs = output_places(files, films, out_dir, compare, overwrite, reads)
    if save_weights is not None:
        with_fields(['save_weights'], check_writable, save_weights, overwrite, reads)
    if reference:
        model = as_source('reference', model.fit_reference, reference, net_size=net_size, log=log)
        if save_weights is not None:
            as_source('save_weights', model.save, save_weights, replace=overwrite, reads=reads)
    net_size = model.net_size if net_size is None else net_size  # a tuned model colours at the size it learnt at
    predict = chroma_predictor(FlipAveraged(model.net) if flips else model.net, model.target)
    margin = context(model.config) if margin is None else margin
    done = Colorized(out_dir, named, films=bool(films))
    for path in tqdm(named, desc='colorize', unit='file' if films else 'image', disable=not progress):
        try:
            if path in unusable:
                raise OSError(unusable[path])
            stem, colorized, side_by_side = outputs[path]
            if path in films:
                model.colorize_video(path, colorized, side_by_side if compare else None, temporal, overwrite,
                                     progress=progress, log=on_note, tile=tile, margin=margin, net_size=net_size,
                                     flips=flips)
            else:
                colorize_file(path, out_dir, predict, model.device, tile, margin, compare, net_size, stem,
                              replace=True, reads=reads, config=model.config)
            done.written[path] = colorized
        except FilmCut as err:  # what decoded is coloured and published; the rest of the folder goes on
            done.written[path], done.failed[path] = err.path, err
            if on_skip is not None:
                on_skip(path, err)
        except Exception as err:  # one bad file (unreadable, not an image, truncated, full disk) must not stop the rest
            done.failed[path] = err
            if on_skip is not None:
                on_skip(path, err)
    return done


def as_source(field, make, *args, **kwargs):
    """make(*args, **kwargs), an InputError from it said to come from the setting `field` (its `source`): the file
    or pictures given there, whatever other settings it names."""
    try:
        return make(*args, **kwargs)
    except WriteError as err:
        err.fields = (field,)
        raise
    except InputError as err:
        err.source, err.fields = field, err.fields or (field,)
        raise
