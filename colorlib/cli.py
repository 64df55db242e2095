"""The command line of colorization.py and color_regression.py: flags, checks, then train or validate."""
import argparse
import math
import sys
from functools import partial
from pathlib import Path

import numpy as np
import torch

from colorlib.augment import AUGMENTATIONS
from colorlib.checkpoints import load_weights, save_weights
from colorlib.colours import DEFAULT_COLOURS, classes_to_rgb, load_colours
from colorlib.data import CATEGORIES, DEFAULT_DATA, download_cifar10, load_category, parse_category, to_float, to_grey
from colorlib.errors import UsageError
from colorlib.lab import (DEFAULT_BINS, DEFAULT_TEMPERATURE, decode_lab, lab_to_rgb, load_bins, make_lab_dataset,
                          make_loss)
from colorlib.models import MODELS, build_model, layer_outputs
from colorlib.plots import save_activation_tiles, save_sample_grid, save_training_curve
from colorlib.train import assignment_test_order, compute_loss, decode, evaluate, evaluate_legacy, make_dataset, train

FILE_NAMES = {'RegressionCNN': 'regression_cnn', 'CNN': 'cnn', 'UNet': 'unet', 'DUNet': 'dunet'}
NUM_SAMPLES = 10


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line on stderr (no usage block), exit status 2."""

    def error(self, message):
        self.exit(2, f'{self.prog}: error: {message}\n')


def int_at_least(low):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f'{text!r} is not an integer') from None
        if value < low:
            raise argparse.ArgumentTypeError(f'{value} is out of range (at least {low})')
        return value
    return parse


def odd_kernel(text):
    value = int_at_least(1)(text)
    if value % 2 == 0:
        raise argparse.ArgumentTypeError(f'{value} is even; the kernel size must be odd (1, 3, 5, ...)')
    return value


def finite_float(low, inclusive=False):
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f'{text!r} is not a number') from None
        if not (math.isfinite(value) and (value >= low if inclusive else value > low)):
            raise argparse.ArgumentTypeError(f'{value} is out of range (a finite number {">=" if inclusive else ">"} {low})')
        return value
    return parse


def seed(text):
    """numpy's global generator (the --legacy-eval test order) takes seeds 0 to 2**32 - 1 only."""
    value = int_at_least(0)(text)
    if value >= 2 ** 32:
        raise argparse.ArgumentTypeError(f'{value} is out of range (at most {2 ** 32 - 1})')
    return value


def augmentation_list(text):
    kinds = [k for k in text.split(',') if k]
    unknown = [k for k in kinds if k not in AUGMENTATIONS]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(f'unknown augmentation {",".join(unknown) or text!r} '
                                         f'(choose from {", ".join(AUGMENTATIONS)}, comma-separated)')
    return kinds


def category_list(text):
    try:
        return [parse_category(name) for name in text.split(',') if name]
    except UsageError as err:
        raise argparse.ArgumentTypeError(str(err).removeprefix('--category: ')) from None


def add_data_flags(parser):
    parser.add_argument('--data', default=str(DEFAULT_DATA),
                        help='an .npz, cifar-10-python.tar.gz or cifar-10-batches-py/ (default: the bundled horses)')
    parser.add_argument('--download', action='store_true', help='fetch the official CIFAR-10 archive into data/')
    parser.add_argument('--category', default='horse', help=f'class to colour, by name or 0-9: {", ".join(CATEGORIES)}')


def add_model_flags(parser, models, default_model,
                    checkpoint_help='weights to validate with --valid, or where training saves them'):
    parser.add_argument('--model', choices=models, default=default_model)
    parser.add_argument('--checkpoint', help=checkpoint_help)
    parser.add_argument('-k', '--kernel', type=odd_kernel, default=3, help='convolution kernel size (odd)')
    parser.add_argument('-f', '--num-filters', '--num_filters', dest='num_filters', type=int_at_least(1), default=32)
    parser.add_argument('-c', '--colours', default=str(DEFAULT_COLOURS), help='k-means colour file (.npy)')
    parser.add_argument('--dilation', type=int_at_least(0), default=1,
                        help='DUNet: empty pixels between the middle filter taps (0: undilated)')


def unit_interval(text):
    value = finite_float(0, inclusive=True)(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f'{value} is out of range (0 to 1)')
    return value


def add_lab_flags(parser):
    parser.add_argument('--colour-space', '--color-space', dest='colour_space', choices=['rgb', 'lab'], default='rgb',
                        help='rgb: grey in, k-means colours (-c) out; lab: L in, ab bins (--bins) out (Zhang et al.)')
    parser.add_argument('--bins', default=str(DEFAULT_BINS), help='Lab: ab bins file (remake: python -m colorlib.lab)')
    parser.add_argument('--temperature', type=finite_float(0, inclusive=True), default=DEFAULT_TEMPERATURE,
                        help='Lab: decode with the annealed mean at this temperature (0: the mode)')


def build_parser(regression=False):
    prog = 'color_regression.py' if regression else 'colorization.py'
    what = 'RGB regression' if regression else 'colour-class'
    parser = OneLineParser(prog=prog, description=f'Train or validate a {what} colourization CNN on CIFAR-10.')
    models = ['RegressionCNN'] if regression else ['CNN', 'UNet', 'DUNet']
    add_model_flags(parser, models, models[-1] if regression else 'UNet')
    parser.add_argument('--valid', action='store_true', help='evaluate --checkpoint on the test images, no training')
    parser.add_argument('--legacy-eval', action='store_true',
                        help="with --valid: the assignment's figures (BatchNorm in training mode, its test order)")
    parser.add_argument('-l', '--learn-rate', '--learn_rate', dest='learn_rate', type=finite_float(0), default=0.001)
    parser.add_argument('-b', '--batch-size', '--batch_size', dest='batch_size', type=int_at_least(1), default=100)
    parser.add_argument('-e', '--epochs', type=int_at_least(1), default=25)
    parser.add_argument('-s', '--seed', type=seed, default=0)
    parser.add_argument('--device', choices=['auto', 'cpu', 'cuda'], default='auto')
    parser.add_argument('--gpu', action='store_const', const='cuda', dest='device', help='same as --device cuda')
    parser.add_argument('--plot', action='store_true', help='write a sample grid after every epoch')
    parser.add_argument('--lr-schedule', choices=['constant', 'cosine'], default='constant',
                        help='constant (the assignment) or cosine annealing to zero over the run')
    parser.add_argument('--weight-decay', type=finite_float(0, inclusive=True), default=0.0, help='decoupled (AdamW) weight decay')
    parser.add_argument('--augment', type=augmentation_list, default=[],
                        help=f'random {", ".join(AUGMENTATIONS)} of the training images, comma-separated')
    parser.add_argument('--extra-categories', type=category_list, default=[],
                        help='also train on these CIFAR-10 classes (e.g. deer,dog; needs the full --data)')
    parser.add_argument('--experiment-name', '--experiment_name', dest='experiment_name',
                        help='folder under outputs/ (default: model_k<kernel>_f<filters>)')
    if not regression:
        add_lab_flags(parser)
        parser.add_argument('--rebalance', type=unit_interval, metavar='LAMBDA',
                            help="Lab: weight rare colours up, Zhang's lambda in [0, 1] (1: not at all; he uses 0.5)")
        parser.add_argument('--soft-encode', action='store_true',
                            help='Lab: spread the target over the 5 nearest bins (Gaussian, sigma 5)')
    add_data_flags(parser)
    return parser


def pick_device(name):
    if name == 'auto':
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    if name == 'cuda' and not torch.cuda.is_available():
        raise UsageError('--device cuda/--gpu: no CUDA device is available here; use --device cpu')
    return torch.device(name)


def load_images(args):
    """Train and test images of the chosen category (training also on any extra categories), downloading
    the official archive first if asked."""
    data = download_cifar10(Path('data')) if args.download else args.data
    train_x, test_x = load_category(data, parse_category(args.category))
    extra = [load_category(data, category)[0] for category in getattr(args, 'extra_categories', [])]
    return np.concatenate([train_x, *extra]), test_x


def sample_rows(model, grey, target, centres, temperature=None):
    """Input, truth and output rows; with a temperature the classes are ab bins, decoded with L by both methods."""
    with torch.no_grad():
        model.eval()
        outputs = model(grey)
    if temperature is not None:
        truth = lab_to_rgb(grey, centres.to(grey.device)[target].permute(0, 3, 1, 2))
        return [('L input', grey), (f'truth ({len(centres)} ab bins)', truth),
                (f'annealed mean, T={temperature:g}', decode_lab(outputs, grey, centres, temperature)),
                ('mode', decode_lab(outputs, grey, centres, 0))]
    truth = target if centres is None else classes_to_rgb(target, centres)
    label = 'truth' if centres is None else f'truth ({len(centres)} colours)'
    return [('grey input', grey), (label, truth), ('output', decode(outputs, centres))]


def validate(args, model, centres, test_set, num_train, regression, loss_fn=compute_loss, temperature=None):
    grey, target = test_set
    if args.legacy_eval:
        order = assignment_test_order(num_train, len(grey), args.seed).to(grey.device)
        grey, target = grey[order], target[order]
        loss, acc = evaluate_legacy(model, grey, target, args.batch_size)
    else:
        loss, acc = evaluate(model, grey, target, loss_fn=loss_fn)
    print(f'Evaluating Model {args.model}: {args.checkpoint}')
    print(f'Val Loss: {loss:.4f}' + ('' if acc is None else f', Val Acc: {acc:.1f}%'))
    name = 'regression' if regression else args.model
    rows = sample_rows(model, grey[:NUM_SAMPLES], target[:NUM_SAMPLES], centres, temperature)
    path = save_sample_grid(rows, Path('outputs') / f'eval_{name}.png')
    print(f'Sample output available at: {path}')


def run(args, regression):
    if args.valid and not args.checkpoint:
        raise UsageError('--valid needs --checkpoint PATH (the weights to evaluate)')
    if args.legacy_eval and not args.valid:
        raise UsageError('--legacy-eval only applies with --valid')
    lab = getattr(args, 'colour_space', 'rgb') == 'lab'
    if args.legacy_eval and lab:
        raise UsageError('--legacy-eval reproduces the assignment, which has no --colour-space lab')
    device = pick_device(args.device)
    if lab:
        centres, prior = load_bins(args.bins)
        loss_fn, temperature = make_loss(centres, prior, args.rebalance, args.soft_encode), args.temperature
        dataset = partial(make_lab_dataset, centres=centres)
    else:
        centres = None if regression else load_colours(args.colours)
        loss_fn, temperature = compute_loss, None
        dataset = partial(make_dataset, centres=centres, regression=regression)
    torch.manual_seed(args.seed)
    model = build_model(args.model, args.kernel, args.num_filters, 3 if regression else len(centres),
                        dilation=args.dilation)
    if args.valid:
        load_weights(model, args.checkpoint)
    train_x, test_x = load_images(args)
    test_set = tuple(t.to(device) for t in dataset(test_x))
    model.to(device)
    if args.valid:
        return validate(args, model, centres, test_set, len(train_x), regression, loss_fn, temperature)

    space = '_lab' if lab else ''
    experiment = args.experiment_name or f'{FILE_NAMES[args.model]}{space}_k{args.kernel}_f{args.num_filters}'
    out_dir = Path('outputs') / experiment
    checkpoint = Path(args.checkpoint or out_dir / 'weights.pkl')
    if checkpoint.is_dir():  # found now, not by a crash after the whole run
        raise UsageError(f'--checkpoint: {checkpoint} is a folder; give the path of the weights file to write')
    train_set = tuple(t.to(device) for t in dataset(train_x))
    samples = test_set[0][:NUM_SAMPLES], test_set[1][:NUM_SAMPLES]

    def plot_epoch(epoch):
        if args.plot:
            rows = sample_rows(model, *samples, centres, temperature)
            save_sample_grid(rows, out_dir / f'samples_epoch{epoch:03d}.png')

    history = train(model, train_set, test_set, args.epochs, args.batch_size, args.learn_rate, args.seed,
                    out_dir, on_epoch=plot_epoch, augmentations=args.augment, lr_schedule=args.lr_schedule,
                    weight_decay=args.weight_decay, loss_fn=loss_fn)
    print(f'Training curve: {save_training_curve(history, out_dir / "training_curve.png")}')
    print(f'Samples: {save_sample_grid(sample_rows(model, *samples, centres, temperature), out_dir / "samples.png")}')
    save_weights(model, checkpoint)
    print(f'Weights saved to {checkpoint}')


def build_activations_parser():
    parser = OneLineParser(prog='activations.py',
                           description='Save every layer\'s activations of a trained model for one test image.')
    parser.add_argument('index', type=int_at_least(0), help='test image number (0-based)')
    add_model_flags(parser, list(MODELS), 'UNet')
    add_data_flags(parser)
    return parser


def run_activations(args):
    """outputs/<model>/act<N>/: input.png, one tile sheet per block, and the decoded output."""
    if not args.checkpoint:
        raise UsageError('--checkpoint PATH is needed: activations of untrained weights say nothing')
    regression = args.model == 'RegressionCNN'
    centres = None if regression else load_colours(args.colours)
    model = build_model(args.model, args.kernel, args.num_filters, 3 if regression else len(centres),
                        dilation=args.dilation)
    load_weights(model, args.checkpoint)
    _, test_x = load_images(args)
    if args.index >= len(test_x):
        raise UsageError(f'index: {args.index} is out of range; there are {len(test_x)} test images (0-{len(test_x) - 1})')
    rgb = to_float(test_x[args.index:args.index + 1])
    grey = to_grey(rgb)
    out_dir = Path('outputs') / args.model / f'act{args.index}'
    model.eval()
    outputs = layer_outputs(model, grey)
    for i, (name, activation) in enumerate(outputs.items(), 1):
        title = f'{args.model} {name}: {activation.shape[1]} channels'
        save_activation_tiles(activation[0], out_dir / f'{i}_{name}.png', title)
    save_sample_grid([('grey input', grey)], out_dir / 'input.png')
    save_sample_grid([('output', decode(outputs['finalconv'], centres)), ('truth', rgb)], out_dir / 'output.png')
    print(f'Activations of test image {args.index} written to {out_dir}/')


def run_cli(parser, runner, argv=None):
    """Parse, run, and turn a UsageError into one line on stderr and exit status 2."""
    args = parser.parse_args(argv)
    try:
        runner(args)
    except UsageError as err:
        print(f'{parser.prog}: error: {err}', file=sys.stderr)
        sys.exit(2)


def main_activations(argv=None):
    run_cli(build_activations_parser(), run_activations, argv)


def main(argv=None, regression=False):
    run_cli(build_parser(regression), lambda args: run(args, regression), argv)
