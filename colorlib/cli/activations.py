"""activations.py: every block's activations of a trained model for one test image, as tile sheets."""
import argparse
from pathlib import Path

import torch

from colorlib import shipped
from colorlib.checkpoints import load_weights
from colorlib.cli.build import checkpoint_path, load_images, make_target, model_config
from colorlib.cli.common import (OneLineParser, UsageError, add_data_flags, add_lab_flags, add_model_flags,
                                 add_task_flags, flag, int_at_least, run_command)
from colorlib.data import to_float
from colorlib.models import MODELS, build_model
from colorlib.report import run_name, save_activations, weights_name

# the flags of every model we ship in weights/, in the order --all draws them
SHIPPED = [{'model': 'CNN'}, {'model': 'UNet'}, {'model': 'DUNet'}, {'model': 'RegressionCNN', 'loss': 'mse'},
           {'model': 'UNet', 'colour_space': 'lab'}, {'model': 'CNN', 'task': 'superres'},
           {'model': 'UNet', 'task': 'superres'}, {'model': 'UNet', 'task': 'superres', 'loss': 'mse'},
           {'model': 'UNet', 'task': 'superres', 'loss': 'mse', 'residual': True}]


def build_parser(prog='activations.py'):
    parser = OneLineParser(prog=prog, description="Save every layer's activations of a trained model for one test image.")
    parser.add_argument('index', type=int_at_least(0), help='test image number (0-based)')
    add_model_flags(parser, list(MODELS), 'UNet', 'the weights to look into (default: the shipped ones)')
    add_task_flags(parser)
    add_lab_flags(parser)
    parser.add_argument('--all', action='store_true',
                        help='every model and task we ship, from --weights-dir (no --checkpoint)')
    parser.add_argument('--weights-dir', help='with --all: where the <name>_k<k>_f<f>.pkl files are '
                                              '(default: the shipped weights)')
    add_data_flags(parser)
    return parser


def draw(args, test_x):
    """outputs/<run name>/act<N>/: input.png, one tile sheet per block, and the decoded output."""
    target = make_target(args)
    model = build_model(model_config(args, target, torch.device('cpu')))
    with flag('--checkpoint'):
        load_weights(model, checkpoint_path(args, target))
    name = run_name(args.model, target, args.model)
    out_dir = Path('outputs') / name / f'act{args.index}'
    with flag('index'):
        save_activations(model, target, to_float(test_x[args.index:args.index + 1]), out_dir, name)
    print(f'Activations of test image {args.index} written to {out_dir}/')


def run(args):
    if args.all and args.checkpoint:
        raise UsageError('--all takes the weights from --weights-dir; leave out --checkpoint')
    if args.weights_dir and not args.all:
        raise UsageError('--weights-dir only applies with --all')
    _, test_x = load_images(args)
    if args.index >= len(test_x):
        raise UsageError(f'index: {args.index} is out of range; there are {len(test_x)} test images (0-{len(test_x) - 1})')
    if not args.all:
        return draw(args, test_x)
    weights_dir = Path(args.weights_dir) if args.weights_dir else shipped.folder('weights')
    found = 0
    for flags in SHIPPED:
        one = argparse.Namespace(**{**vars(args), 'task': 'colour', 'loss': None, 'colour_space': 'rgb',
                                    'residual': False, **flags})
        one.checkpoint = str(weights_dir / f'{weights_name(one.model, make_target(one), one.kernel, one.num_filters)}.pkl')
        if not Path(one.checkpoint).is_file():
            kind = f'{one.loss or "ce"}{", residual" if one.residual else ""}'
            print(f'Skipped {one.model} ({one.task}, {kind}, {one.colour_space}): no {one.checkpoint}')
            continue
        found += 1
        draw(one, test_x)
    if not found:
        raise UsageError(f'--weights-dir: no weights for --all in {weights_dir} '
                         f'(e.g. unet_k{args.kernel}_f{args.num_filters}.pkl)')


def main(argv=None, prog=None):
    run_command(build_parser(prog or 'activations.py'), run, argv)
