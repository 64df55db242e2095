"""docs/samples.png: the same test horses through every shipped model, one row each.

    python scripts/sample_figure.py [--weights weights] [--out docs/samples.png] [--first 0] [--count 8]
"""
import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import colorlib  # noqa: E402
from colorlib.images import to_float, to_grey  # noqa: E402
from colorlib.plots import save_sample_grid  # noqa: E402
from colorlib.train import predict  # noqa: E402

ROWS = ['regression_cnn', 'cnn', 'unet', 'dunet']  # the shipped weights, each saying what it holds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--weights', default=str(ROOT / 'weights'))
    parser.add_argument('--out', default=str(ROOT / 'docs' / 'samples.png'))
    parser.add_argument('--first', type=int, default=0)
    parser.add_argument('--count', type=int, default=8)
    args = parser.parse_args()
    _, test_x = colorlib.load_images()
    shown = test_x[args.first:args.first + args.count]
    rgb = to_float(shown)
    rows = [('grey input', to_grey(rgb)), ('truth', rgb)]
    for stem in ROWS:
        model = colorlib.load(Path(args.weights) / f'{stem}_k3_f32.pkl')
        rows.append((model.config.name, predict(model.net, model.target, model.target.inputs(rgb))))
    print(save_sample_grid(rows, args.out, replace=True))  # --out names the file to write


if __name__ == '__main__':
    main()
