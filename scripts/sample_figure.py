"""docs/samples.png: the same test horses through every shipped model, one row each.

    python scripts/sample_figure.py [--weights weights] [--out docs/samples.png] [--first 0] [--count 8]
"""
import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from colorlib.checkpoints import load_weights  # noqa: E402
from colorlib.colours import load_colours  # noqa: E402
from colorlib.data import load_category, to_float, to_grey  # noqa: E402
from colorlib.models import ModelConfig, build_model  # noqa: E402
from colorlib.plots import save_sample_grid  # noqa: E402
from colorlib.shipped import DEFAULT_COLOURS, DEFAULT_DATA  # noqa: E402
from colorlib.targets import RGB, ColourClasses  # noqa: E402
from colorlib.train import predict  # noqa: E402

ROWS = [('RegressionCNN', 'regression_cnn'), ('CNN', 'cnn'), ('UNet', 'unet'), ('DUNet', 'dunet')]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--weights', default=str(ROOT / 'weights'))
    parser.add_argument('--out', default=str(ROOT / 'docs' / 'samples.png'))
    parser.add_argument('--first', type=int, default=0)
    parser.add_argument('--count', type=int, default=8)
    args = parser.parse_args()
    classes = ColourClasses(load_colours(DEFAULT_COLOURS))
    _, test_x = load_category(DEFAULT_DATA, 7)
    rgb = to_float(test_x[args.first:args.first + args.count])
    grey = to_grey(rgb)
    rows = [('grey input', grey), ('truth', rgb)]
    for name, stem in ROWS:
        target = RGB() if name == 'RegressionCNN' else classes
        model = load_weights(build_model(ModelConfig(name, colours=target.out_channels)),
                             Path(args.weights) / f'{stem}_k3_f32.pkl')
        rows.append((name, predict(model, target, grey)))
    print(save_sample_grid(rows, args.out, replace=True))  # --out names the file to write


if __name__ == '__main__':
    main()
