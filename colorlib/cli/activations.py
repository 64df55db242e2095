"""activations.py: every block's activations of a trained model for one test image, as tile sheets."""
import argparse
from pathlib import Path

from colorlib import shipped
from colorlib.checkpoints import load_weights
from colorlib.cli.build import (check_output, checkpoint_path, load_images, make_target, model_config, pick_device,
                                read_files)
from colorlib.cli.common import (OneLineParser, UsageError, a_path, add_data_flags, add_device_flags, add_lab_flags,
                                 add_model_flags, add_task_flags, flag, int_at_least, run_command)
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
    add_device_flags(parser)
    parser.add_argument('--weights-dir', type=a_path, help='with --all: where the <name>_k<k>_f<f>.pkl files are '
                                              '(default: the shipped weights)')
    add_data_flags(parser)
    return parser


def draw(args, test_x, device):
    """outputs/<run name>/act<N>/: input.png, one tile sheet per block, and the decoded output; the place is
    checked before the work (it replaces earlier pictures of those names, never a file the run reads)."""
    target = make_target(args)
    name = run_name(args.model, target, args.model)
    out_dir = Path('outputs') / name / f'act{args.index}'
    checkpoint = checkpoint_path(args, target)
    reads = read_files(args, checkpoint)
    place = 'the activations (outputs/ under the current folder)'
    check_output(out_dir / 'input.png', place, reads, overwrite=True)
    model = build_model(model_config(args, target, device)).to(device)
    with flag('--checkpoint'):
        load_weights(model, checkpoint)
    with flag(place):
        save_activations(model, target, to_float(test_x[args.index:args.index + 1]).to(device), out_dir, name, reads)
    print(f'Activations of test image {args.index} written to {out_dir}/')


def run(args):
    if args.all and args.checkpoint:
        raise UsageError('--all takes the weights from --weights-dir; leave out --checkpoint')
    if args.weights_dir and not args.all:
        raise UsageError('--weights-dir only applies with --all')
    device = pick_device(args.device)
    _, test_x = load_images(args, device)
    if args.index >= len(test_x):
        raise UsageError(f'index: {args.index} is out of range; there are {len(test_x)} test images (0-{len(test_x) - 1})')
    if not args.all:
        return draw(args, test_x, device)
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
        draw(one, test_x, device)
    if not found:
        raise UsageError(f'--weights-dir: no weights for --all in {weights_dir} '
                         f'(e.g. unet_k{args.kernel}_f{args.num_filters}.pkl)')


def main(argv=None, prog=None):
    run_command(build_parser(prog or 'activations.py'), run, argv)
