"""The figures and picture grid of docs/colour-spaces.md: a UNet over 24 RGB colours against one over Lab ab bins,
both decoded in every way, on the test horses.

    python scripts/colour_space_comparison.py --rgb outputs/cs5_rgb24.pkl \
        --lab "Lab, soft, rebalanced=outputs/cs5_lab.pkl" "Lab, plain=outputs/cs5_lab_plain.pkl"
"""
import argparse
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import colorlib  # noqa: E402
from colorlib.data import load_category  # noqa: E402
from colorlib.images import to_float  # noqa: E402
from colorlib.lab import decode_lab, lab_to_rgb, rgb_to_lab  # noqa: E402
from colorlib.metrics import colourfulness, psnr, ssim  # noqa: E402
from colorlib.plots import save_sample_grid  # noqa: E402
from colorlib.shipped import DEFAULT_DATA  # noqa: E402
from colorlib.train import evaluate  # noqa: E402


@torch.no_grad()
def scores(model, x, batch_size=100):
    model.eval()
    return torch.cat([model(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rgb', required=True, help='UNet checkpoint over the 24 k-means colours')
    parser.add_argument('--lab', required=True, nargs='+', metavar='NAME=PATH',
                        help='UNet checkpoints over the Lab ab bins, each with its name in the table')
    parser.add_argument('-f', '--num-filters', type=int, help="for weights that do not say (the assignment's)")
    parser.add_argument('--temperature', type=float, default=0.38)
    parser.add_argument('--out', default=str(ROOT / 'docs' / 'colour-spaces' / 'grid.png'))
    parser.add_argument('--first', type=int, default=0)
    parser.add_argument('--count', type=int, default=8)
    args = parser.parse_args()
    torch.set_grad_enabled(False)

    _, test_x = load_category(DEFAULT_DATA, 7)
    truth = to_float(test_x)
    lightness = rgb_to_lab(truth)[:, :1] / 100

    said = {'model': 'UNet', 'filters': args.num_filters}  # what a file says itself wins; these fill the rest
    rgb = colorlib.load(args.rgb, **said)
    rgb_model, colours = rgb.net, rgb.target
    grey, classes = colours.encode(truth)
    rgb_acc = evaluate(rgb_model, colours, grey, classes)[1]
    rgb_out = colours.decode(scores(rgb_model, grey), grey)

    rows = [
        ('grey (true L, no colour)', None, lab_to_rgb(lightness, torch.zeros_like(truth[:, :2]))),
        ('RGB-24, class colours', rgb_acc, rgb_out),
        ('RGB-24, its ab on the true L', None, lab_to_rgb(lightness, rgb_to_lab(rgb_out)[:, 1:])),
    ]
    for name, path in (item.rsplit('=', 1) for item in args.lab):
        lab_loaded = colorlib.load(path, kind='lab', **said)
        lab_model, lab = lab_loaded.net, lab_loaded.target
        bins = lab.centres
        lab_in, bin_classes = lab.encode(truth)
        lab_acc = evaluate(lab_model, lab, lab_in, bin_classes)[1]
        lab_scores = scores(lab_model, lab_in)
        rows += [(f'{name}, mode', lab_acc, decode_lab(lab_scores, lab_in, bins, 0)),
                 (f'{name}, annealed mean T={args.temperature:g}', None,
                  decode_lab(lab_scores, lab_in, bins, args.temperature)),
                 (f'{name}, mean (T=1)', None, decode_lab(lab_scores, lab_in, bins, 1.0))]
    print(f'{len(truth)} test horses; truth colourfulness {colourfulness(truth):.1f}\n')
    print('| decoding | pixel accuracy | PSNR (dB) | SSIM | colourfulness |')
    print('|---|---|---|---|---|')
    for label, acc, images in rows:
        acc = '' if acc is None else f'{acc:.1f}% of {colours.out_channels if label.startswith("RGB") else len(bins)} classes'
        print(f'| {label} | {acc} | {psnr(images, truth):.2f} | {ssim(images, truth):.3f} | '
              f'{colourfulness(images):.1f} |')

    show = slice(args.first, args.first + args.count)
    grid = [('truth', truth[show])] + [(label, images[show]) for label, _, images in rows if 'T=1)' not in label]
    print(f'\n{save_sample_grid(grid, args.out, replace=True)}')  # --out names the file to write


if __name__ == '__main__':
    main()
