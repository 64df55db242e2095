"""docs/samples.png: the same test horses through every shipped model, one row each.

    python scripts/sample_figure.py [--weights weights] [--out docs/samples.png] [--first 0] [--count 8]
"""
import argparse
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from colorlib.checkpoints import load_weights  # noqa: E402
from colorlib.colours import DEFAULT_COLOURS, load_colours  # noqa: E402
from colorlib.data import DEFAULT_DATA, load_category, to_float, to_grey  # noqa: E402
from colorlib.models import build_model  # noqa: E402
from colorlib.plots import save_sample_grid  # noqa: E402
from colorlib.train import decode  # noqa: E402

ROWS = [('RegressionCNN', 'regression_cnn'), ('CNN', 'cnn'), ('UNet', 'unet'), ('DUNet', 'dunet')]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--weights', default=str(ROOT / 'weights'))
    parser.add_argument('--out', default=str(ROOT / 'docs' / 'samples.png'))
    parser.add_argument('--first', type=int, default=0)
    parser.add_argument('--count', type=int, default=8)
    args = parser.parse_args()
    centres = load_colours(DEFAULT_COLOURS)
    _, test_x = load_category(DEFAULT_DATA, 7)
    rgb = to_float(test_x[args.first:args.first + args.count])
    grey = to_grey(rgb)
    rows = [('grey input', grey), ('truth', rgb)]
    for name, stem in ROWS:
        regression = name == 'RegressionCNN'
        model = build_model(name, 3, 32, 3 if regression else len(centres))
        load_weights(model, Path(args.weights) / f'{stem}_k3_f32.pkl').eval()
        with torch.no_grad():
            rows.append((name, decode(model(grey), None if regression else centres)))
    print(save_sample_grid(rows, args.out))


if __name__ == '__main__':
    main()
