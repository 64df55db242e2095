"""The exported model against colorlib's torch path, on this CPU: time per megapixel, peak memory on big pictures,
and what each needs installed.

    python bench/export_speed.py [--weights unet] [--megapixels 1] [--memory 1,4,16] [--out docs/export.md]

Times, best of --repeats, taken in turns so that a busy machine slows both alike: Model.colorize (torch, its
default tiles of 512), onnxruntime on the whole picture in one run, and examples/colorize_onnx.py's tiles of 512
(onnxruntime, numpy, Pillow only); both libraries on the same number of threads. Memory: the peak resident memory
of a fresh process colouring a picture of each size in --memory megapixels, whole and in tiles. Sizes: the files
each installed distribution holds (its RECORD), with what it requires, as pip installed them here.
"""
import argparse
import datetime
import importlib.metadata
import os
import runpy
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / 'examples' / 'colorize_onnx.py'


def photo(height, width):
    """A smooth colour picture with edges and a little noise (what a photo has), not noise alone."""
    y, x = np.mgrid[:height, :width].astype(np.float32)
    y, x = y / max(height, width), x / max(height, width)
    rgb = np.stack([np.sin(9 * x + 3 * y), np.cos(7 * y - 2 * x), np.sin(5 * x * y + 1)], -1) * 0.4 + 0.5
    rgb[height // 3:2 * height // 3, width // 4:] *= 0.6
    noise = np.random.default_rng(0).normal(0, 3, rgb.shape).astype(np.float32)
    return np.clip(rgb * 255 + noise, 0, 255).astype(np.uint8)


def best(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def installed_size(names, follow=True):
    """Bytes on disk of the distributions `names` and (`follow`) all they require (markers of extras left out),
    each once."""
    from packaging.requirements import Requirement
    seen, todo, total = set(), list(names), 0
    while todo:
        name = todo.pop().lower().replace('_', '-')
        if name in seen:
            continue
        seen.add(name)
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        total += sum(f.locate().stat().st_size for f in dist.files or () if f.locate().is_file())
        for text in (dist.requires or ()) if follow else ():
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({'extra': ''}):
                todo.append(req.name)
    return total, sorted(seen)


MEASURE = '''
import sys, runpy, numpy as np, onnxruntime
sys.path.insert(0, sys.argv[1])
from export_speed import photo
side, tiled, model, threads = int(sys.argv[2]), sys.argv[3] == 'tiled', sys.argv[4], int(sys.argv[5])
options = onnxruntime.SessionOptions()
options.intra_op_num_threads = threads
session = onnxruntime.InferenceSession(model, options, providers=['CPUExecutionProvider'])
colorize = runpy.run_path(sys.argv[6])['colorize']
image = photo(side, side)
def status(key):
    return next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith(key)) * 1024
with open('/proc/self/clear_refs', 'w') as f:
    f.write('5')  # the peak starts again from what is resident now: making the test picture is not colouring
before = status('VmRSS:')
out = colorize(session, image, 512) if tiled else session.run(None, {'image': image})[0]
print(before, status('VmHWM:'))
'''


def peak(model, side, tiled, threads):
    """(resident bytes before colouring, peak resident bytes while colouring) of a fresh process colouring a
    side x side picture with onnxruntime: VmRSS, and VmHWM reset once the picture is made (ru_maxrss would keep
    the forking parent's, and the making of the picture's)."""
    done = subprocess.run([sys.executable, '-c', MEASURE, str(Path(__file__).parent), str(side),
                           'tiled' if tiled else 'whole', str(model), str(threads), str(EXAMPLE)],
                          capture_output=True, text=True, check=True)
    return [int(n) for n in done.stdout.split()[-2:]]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--weights', default='unet')
    parser.add_argument('--megapixels', type=float, default=1.0, help='size of the timed picture (4:3)')
    parser.add_argument('--memory', default='1,4,16', help='picture sizes for the memory figures, megapixels')
    parser.add_argument('--whole-up-to', type=float, default=4, help='largest picture run whole (its memory grows)')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--out', default=str(ROOT / 'docs' / 'export.md'))
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import onnxruntime
    import torch

    import colorlib
    from colorlib import machine
    from colorlib.export import export

    load_before = os.getloadavg()
    threads = torch.get_num_threads()
    model = colorlib.load(args.weights)
    colorize = runpy.run_path(str(EXAMPLE))['colorize']
    width = int(round((args.megapixels * 1e6 * 4 / 3) ** 0.5))
    height = int(round(width * 3 / 4))
    image = photo(height, width)
    megapixels = height * width / 1e6
    lines = [f'`python bench/export_speed.py --weights {args.weights} --megapixels {args.megapixels:g} --memory '
             f'{args.memory}` on {datetime.date.today()}; machine: {machine.summary("cpu")}; torch '
             f'{torch.__version__}, onnxruntime {onnxruntime.__version__}, {threads} threads each.', '']
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        path = export(model, Path(tmp) / 'model.onnx')
        exported_in = time.perf_counter() - start
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        session = onnxruntime.InferenceSession(str(path), options, providers=['CPUExecutionProvider'])
        runs = {'torch: Model.colorize (tiles of 512)': lambda: model.colorize(image),
                'onnxruntime: the whole picture in one run': lambda: session.run(None, {'image': image}),
                'onnxruntime: examples/colorize_onnx.py (tiles of 512)': lambda: colorize(session, image, 512)}
        for run in runs.values():  # warm up: first runs allocate
            run()
        times = {name: [] for name in runs}
        for _ in range(args.repeats):  # in turns, so that the machine's other work falls on each alike
            for name, run in runs.items():
                times[name].append(best(run, 1))
        same = (np.abs(session.run(None, {'image': image})[0].astype(int) - model.colorize(image)).max(-1) <= 1).mean()
        lines += [f'Colouring a {width}x{height} picture ({megapixels:.2f} megapixels) with the shipped '
                  f'`{args.weights}`, best of {args.repeats} (exporting took {exported_in:.0f} s; the exported '
                  f'picture has {100 * same:.3f}% of its pixels within 1 level of Model.colorize\'s):', '',
                  '| path | seconds per megapixel |', '|---|---|']
        lines += [f'| {name} | {min(t) / megapixels:.3f} |' for name, t in times.items()]
        memory = [float(m) for m in args.memory.split(',') if m]
        lines += ['', 'Resident memory of a fresh process colouring a square picture with onnxruntime: before '
                  'colouring (the interpreter, numpy, onnxruntime, the model and the picture), and its peak while '
                  'colouring:', '',
                  '| megapixels | before | peak, whole picture in one run | peak, tiles of 512 (examples/colorize_onnx.py) |',
                  '|---|---|---|---|']
        for size in memory:
            side = int(round((size * 1e6) ** 0.5 / 4)) * 4
            before, tiles = peak(path, side, True, threads)
            whole = f'{peak(path, side, False, threads)[1] / 1e9:.2f} GB' if size <= args.whole_up_to else 'not run'
            lines.append(f'| {side * side / 1e6:.1f} | {before / 1e9:.2f} GB | {whole} | {tiles / 1e9:.2f} GB |')
    light, light_names = installed_size(['onnxruntime', 'numpy', 'pillow'])
    heavy, heavy_names = installed_size(['torch'])
    own, _ = installed_size(['torch'], follow=False)
    full, _ = installed_size(['colorlib'] if _installed('colorlib') else ['torch', 'numpy', 'matplotlib',
                                                                           'scikit-learn', 'tqdm', 'kornia', 'pillow'])
    lines += ['', 'Installed size, each with everything it requires, as pip installed it here:', '',
              '| to colour with | installed | distributions |', '|---|---|---|',
              f'| an exported file: onnxruntime, numpy, Pillow | {light / 1e6:.0f} MB | {", ".join(light_names)} |',
              f'| torch {torch.__version__} | {heavy / 1e6:.0f} MB ({own / 1e6:.0f} MB its own files) | '
              f'{", ".join(heavy_names)} |',
              f'| colorlib (torch, numpy, matplotlib, scikit-learn, tqdm, kornia, Pillow) | {full / 1e6:.0f} MB | |',
              '', f'Load average (1, 5, 15 minutes) before: {", ".join(f"{v:.2f}" for v in load_before)}; after: '
              f'{", ".join(f"{v:.2f}" for v in os.getloadavg())} (`uptime`).']
    print('\n'.join(lines))
    sys.path.insert(0, str(Path(__file__).parent))
    from train_speed import write_section
    write_section(args.out, f'export-speed {machine.cpu_name()}', lines, near='export-speed')  # one per CPU


def _installed(name):
    try:
        importlib.metadata.distribution(name)
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


if __name__ == '__main__':
    main()
