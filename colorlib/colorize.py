"""colorize.py: colour your own image files, any size, with a trained model.

The models are fully convolutional, so they run on the whole image; large images go through in tiles whose margins
cover the receptive field, so the seams cannot show and the network's memory stays bounded. Only the colour (Lab's
a and b) is taken from the network: the lightness L is the original's, at full resolution, so the result is as sharp
as the input.
"""
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps
from tqdm import tqdm

from colorlib.checkpoints import load_weights
from colorlib.cli import (OneLineParser, add_lab_flags, add_model_flags, build, int_at_least, is_lab, pick_device,
                          run_cli)
from colorlib.data import to_grey
from colorlib.errors import UsageError
from colorlib.lab import decode_ab, lab_to_rgb, rgb_to_lab
from colorlib.models import MODELS
from colorlib.train import decode

STRIDE = 4  # two 2x2 poolings: tiles start, and images are padded, on multiples of 4 so the pooling grid never moves
FAILED = 1  # exit status when some file could not be read or written (2 stays for bad flags)


def build_parser():
    parser = OneLineParser(prog='colorize.py', description='Colourize image files of any size with a trained model.')
    parser.add_argument('paths', nargs='+', metavar='PATH', help='image files, or folders of them')
    add_model_flags(parser, list(MODELS), 'UNet', checkpoint_help='weights of a trained model (its flags must match)')
    add_lab_flags(parser)
    parser.add_argument('-o', '--out-dir', default='outputs/colorized', help='where the PNGs go')
    parser.add_argument('--compare', action='store_true', help='also write grey | result | original side by side')
    parser.add_argument('--tile', type=int_at_least(STRIDE), default=512,
                        help='largest piece (pixels a side, rounded up to a multiple of 4) the network sees at once')
    parser.add_argument('--margin', type=int_at_least(0),
                        help='context around each tile (default: over the receptive field of the model)')
    parser.add_argument('--net-size', type=int_at_least(1), metavar='N',
                        help='the network sees the image scaled to N pixels on its shorter side (default: full size); '
                             'the colour is scaled back up, the lightness stays full size')
    parser.add_argument('--device', choices=['auto', 'cpu', 'cuda'], default='auto')
    parser.set_defaults(task='colour')  # the models colour grey images; super-resolution weights do not apply
    return parser


def round_up(n, multiple=STRIDE):
    return -(-n // multiple) * multiple


def default_margin(kernel, dilation=1):
    """Context each tile needs: more than the receptive-field radius of the CNN/UNet/DUNet, which is at most
    (kernel // 2) * (10 + 4 * (dilation + 1)) pixels plus a few for the poolings (a 3x3 UNet's measures 15,
    tests/test_colorize.py checks each model stays inside)."""
    return round_up((kernel // 2) * (10 + 4 * (dilation + 1)) + 12)


def read_image(path):
    """(H, W, 3) float32 RGB in [0, 1] and the alpha channel (H, W) uint8 or None, from any file Pillow reads:
    8- or 16-bit, grey, palette, with alpha or a transparent colour, turned upright by its EXIF tag."""
    with Image.open(path) as image:
        image = ImageOps.exif_transpose(image)
        if image.mode in ('I', 'I;16', 'I;16B', 'I;16L', 'F'):  # 16-bit (or 32-bit) grey: keep every level
            values = np.asarray(image, dtype=np.float32)
            peak = 1.0 if image.mode == 'F' else 65535.0 if values.max() > 255 or 'I;16' in image.mode else 255.0
            grey = np.clip(values / peak, 0, 1)
            return np.repeat(grey[:, :, None], 3, axis=2), None
        has_alpha = image.mode in ('RGBA', 'LA', 'PA', 'La', 'RGBa') or 'transparency' in image.info
        rgba = np.asarray(image.convert('RGBA' if has_alpha else 'RGB'))
    return rgba[:, :, :3].astype(np.float32) / 255, rgba[:, :, 3] if has_alpha else None


def chroma_predictor(model, centres, temperature, lab):
    """A function from an (1, 3, h, w) RGB window to the network's ab for it, (1, 2, h, w).

    RGB models see the channel mean (their training input) and their decoded colours give ab; Lab models see L/100
    and their bin scores give ab directly (annealed mean, or the mode at temperature 0)."""
    def predict(rgb):
        if lab:
            return decode_ab(model(rgb_to_lab(rgb)[:, :1] / 100), centres, temperature)
        return rgb_to_lab(decode(model(to_grey(rgb)), centres))[:, 1:]
    return predict


@torch.no_grad()
def predict_tiled(rgb, predict, tile, margin):
    """The network's ab (2, H, W) for a (3, H, W) RGB image in [0, 1], computed in tiles.

    The image is cut into tiles of `tile` pixels a side, each run with `margin` pixels of context on every side
    (cut off again afterwards); a window touching the bottom or right edge is padded by repeating the edge up to a
    multiple of 4. With a margin over the receptive field this equals one run on the whole image."""
    tile, margin = round_up(tile), round_up(margin)
    _, height, width = rgb.shape
    ab = rgb.new_empty(2, height, width)
    for top in range(0, height, tile):
        for left in range(0, width, tile):
            y0, x0 = max(top - margin, 0), max(left - margin, 0)
            y1, x1 = min(top + tile + margin, height), min(left + tile + margin, width)
            window = rgb[None, :, y0:y1, x0:x1]
            h, w = window.shape[-2:]
            padded = F.pad(window, (0, round_up(w) - w, 0, round_up(h) - h), mode='replicate')
            bottom, right = min(top + tile, height), min(left + tile, width)
            ab[:, top:bottom, left:right] = predict(padded)[0, :, top - y0:bottom - y0, left - x0:right - x0]
    return ab


@torch.no_grad()
def colorize_array(rgb, predict, tile, margin, net_size=None):
    """(3, H, W) RGB in [0, 1] -> (result, grey), each (3, H, W): the original L with the predicted ab, and L alone.

    With net_size the network sees the image scaled so its shorter side is net_size pixels (objects near the size
    they had in training), and its ab is scaled back up; the lightness always stays at full resolution."""
    height, width = rgb.shape[-2:]
    small = rgb
    if net_size is not None and net_size != min(height, width):
        scale = net_size / min(height, width)
        size = (max(1, round(height * scale)), max(1, round(width * scale)))
        small = F.interpolate(rgb[None], size=size, mode='bilinear', antialias=True, align_corners=False)[0].clamp(0, 1)
    ab = predict_tiled(small, predict, tile, margin)[None]
    if ab.shape[-2:] != (height, width):
        ab = F.interpolate(ab, size=(height, width), mode='bilinear', align_corners=False)
    lightness = rgb_to_lab(rgb[None])[:, :1] / 100
    return lab_to_rgb(lightness, ab)[0], lab_to_rgb(lightness, torch.zeros_like(ab))[0]


def to_uint8(image):
    """(3, H, W) float in [0, 1] -> (H, W, 3) uint8."""
    return (image.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).cpu().numpy()


def write_png(array, path):
    """Written to a temp file beside `path` and renamed, so an interrupted run leaves no half-written PNG."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.name}.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            Image.fromarray(array).save(f, format='PNG')
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def colorize_file(path, out_dir, predict, device, tile, margin, compare, net_size=None, stem=None):
    """Read, colourize and write one file: <stem>_colorized.png, and <stem>_compare.png with --compare."""
    stem = stem or path.stem
    rgb, alpha = read_image(path)
    image = torch.from_numpy(rgb).permute(2, 0, 1).to(device)
    result, grey = (to_uint8(x) for x in colorize_array(image, predict, tile, margin, net_size))
    written = out_dir / f'{stem}_colorized.png'
    write_png(result if alpha is None else np.dstack([result, alpha]), written)
    if compare:
        original = (rgb * 255).round().astype(np.uint8)
        is_grey = np.array_equal(original[:, :, 0], original[:, :, 1]) and np.array_equal(original[:, :, 1],
                                                                                           original[:, :, 2])
        gap = np.full((result.shape[0], max(4, result.shape[1] // 50), 3), 255, np.uint8)
        parts = [grey, gap, result] + ([] if is_grey else [gap, original])
        write_png(np.concatenate(parts, axis=1), out_dir / f'{stem}_compare.png')
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
    """Files named on the command line, as given, and the image files (by extension) in folders named, sorted."""
    extensions = {ext for ext, _ in Image.registered_extensions().items()}
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in extensions))
        else:
            files.append(path)
    return files


def load_model(args):
    """The model from the flags, built as colorization.py builds it, its class centres and whether they are Lab's."""
    centres, model, _ = build(args)
    load_weights(model, args.checkpoint)
    return model.eval(), centres, is_lab(args)


def run(args):
    if not args.checkpoint:
        raise UsageError('--checkpoint PATH is needed: the weights of a trained model')
    device = pick_device(args.device)
    model, centres, lab = load_model(args)
    predict = chroma_predictor(model.to(device), None if centres is None else centres.to(device), args.temperature, lab)
    margin = args.margin
    if margin is None:
        margin = default_margin(args.kernel, args.dilation if args.model == 'DUNet' else 0)
    out_dir = Path(args.out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f'-o/--out-dir: {out_dir} is a file, not a folder')
    out_dir.mkdir(parents=True, exist_ok=True)
    files = find_images(args.paths)
    if not files:
        raise UsageError(f'PATH: no image files in {", ".join(args.paths)}')
    failed = 0
    for path, stem in tqdm(list(zip(files, output_stems(files))), desc='colorize', unit='image',
                           disable=not sys.stderr.isatty()):
        try:
            colorize_file(path, out_dir, predict, device, args.tile, margin, args.compare, args.net_size, stem)
        except Exception as err:  # one bad file (unreadable, not an image, truncated, full disk) must not stop the rest
            reason = ' '.join(str(err).split()) or type(err).__name__
            tqdm.write(f'colorize.py: skipped {path}: {reason[:200]}', file=sys.stderr)
            failed += 1
    print(f'{len(files) - failed} of {len(files)} images colourized into {out_dir}/')
    if failed:
        sys.exit(FAILED)


def main(argv=None):
    run_cli(build_parser(), run, argv)
