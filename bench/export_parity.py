"""How closely each shipped weights file's ONNX export matches colorlib's torch path, beyond the test's floor.

    python bench/export_parity.py [--out docs/export.md]

Exports every shipped file, runs it with onnxruntime on tests/test_export.py's pictures (33x47, 48x64, 70x21) and
compares with Model.colorize (super-resolution: the library's torch path, as the test does): the share of pixels
within 1 level and exactly equal, and the largest difference.
"""
import argparse
import datetime
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default=str(ROOT / 'docs' / 'export.md'))
    args = parser.parse_args()
    sys.path[:0] = [str(ROOT), str(ROOT / 'tests'), str(Path(__file__).parent)]
    import onnxruntime

    import colorlib
    from colorlib import machine
    from colorlib.export import export
    from test_export import SIZES, picture, torch_superres
    from train_speed import write_section
    lines = [f'`python bench/export_parity.py` on {datetime.date.today()}, onnxruntime {onnxruntime.__version__}; '
             f'machine: {machine.summary("cpu")}:', '',
             '| weights | ' + ' | '.join(f'{h}x{w}: within 1 / equal / largest' for h, w in SIZES) + ' |',
             '|---|' + '---|' * len(SIZES)]
    with tempfile.TemporaryDirectory() as tmp:
        for name in colorlib.names():
            model = colorlib.load(name)
            session = onnxruntime.InferenceSession(str(export(model, Path(tmp) / f'{name}.onnx')),
                                                   providers=['CPUExecutionProvider'])
            cells = []
            for height, width in SIZES:
                image = picture(height, width)
                got = session.run(None, {'image': image})[0].astype(int)
                torch_path = torch_superres(model, image) if model.target.task == 'superres' else model.colorize(image)
                diff = np.abs(got - torch_path.astype(int)).max(-1)
                cells.append(f'{100 * (diff <= 1).mean():.3f}% / {100 * (diff == 0).mean():.2f}% / {diff.max()}')
            lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
            print(lines[-1], flush=True)
    lines += ['', f'Load average at the end: {", ".join(f"{v:.2f}" for v in os.getloadavg())} (`uptime`).']
    write_section(args.out, f'export-parity {machine.cpu_name()}', lines, near='export-parity')


if __name__ == '__main__':
    main()
