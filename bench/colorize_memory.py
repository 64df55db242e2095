"""Peak memory of `colorize.py` on a large image: it grows with the tile and the width, not with the image.

    python bench/colorize_memory.py [--megapixels 100] [--out docs/performance.md]

Writes a PNG of the asked size (a smooth colour picture, small on disk), colourizes it with the shipped UNet in a
fresh process, and reads that process's peak resident memory (ru_maxrss of the child), beside the same for a
64x64 image (what the interpreter, torch and the model take whatever the image).
"""
import argparse
import datetime
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
Image.MAX_IMAGE_PIXELS = None  # our own test picture; Pillow's bomb guard is for files from elsewhere


def write_picture(path, side):
    """A side x side RGB PNG: a colour gradient, written band by band so that making it stays small too."""
    x = np.linspace(0, 255, side, dtype=np.float32)
    rows = np.linspace(0, 255, side, dtype=np.float32)
    with open(path, 'wb') as f:
        image = Image.new('RGB', (side, side))
        for top in range(0, side, 1024):
            y = rows[top:top + 1024, None]
            band = np.stack([np.broadcast_to(x, (len(y), side)), np.broadcast_to(y, (len(y), side)),
                             (x + y) / 2], axis=2).astype(np.uint8)
            image.paste(Image.fromarray(band), (0, top))
            del band
        image.save(f, format='PNG', compress_level=1)


def peak_of_colorize(image, out_dir):
    """(peak resident memory in bytes, seconds) of one colorize.py process on `image`."""
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run([sys.executable, str(ROOT / 'colorize.py'), str(image), '-o', str(out_dir), '--device', 'cpu'],
                   check=True, stdout=subprocess.DEVNULL)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert peak >= before, 'a later child must be the larger one to be measured'
    return peak * 1024, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--megapixels', type=float, default=100)
    parser.add_argument('--out', default=str(ROOT / 'docs' / 'performance.md'))
    args = parser.parse_args()
    side = int(round((args.megapixels * 1e6) ** 0.5 / 4)) * 4
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        write_picture(tmp / 'small.png', 64)
        write_picture(tmp / 'big.png', side)
        small_peak, _ = peak_of_colorize(tmp / 'small.png', tmp / 'out')
        big_peak, seconds = peak_of_colorize(tmp / 'big.png', tmp / 'out')
        size = (tmp / 'big.png').stat().st_size
    pixels = side * side
    from train_speed import write_section  # importing it puts this checkout first on sys.path, for colorlib
    from colorlib import machine
    line = (f'`python bench/colorize_memory.py --megapixels {args.megapixels:g}` on {datetime.date.today()}: '
            f'colorize.py on a {side}x{side} PNG ({pixels / 1e6:.0f} megapixels, {size / 1e6:.0f} MB on disk) '
            f'peaked at **{big_peak / 1e9:.2f} GB** resident in {seconds:.0f} s, against {small_peak / 1e9:.2f} GB for a '
            f'64x64 image: {(big_peak - small_peak) / pixels:.1f} bytes a pixel beyond the interpreter, torch and '
            f'the model (the input and the result, 3 bytes each, and the PNG codec\'s buffers). '
            f'Machine: {machine.summary("cpu")}.')
    print(line)
    write_section(args.out, 'colorize-memory', [line])


if __name__ == '__main__':
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
