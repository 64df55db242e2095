"""activations.py: every block's activations of a trained model for one test image, as tile sheets."""
import argparse
from pathlib import Path

from colorlib import shipped
from colorlib.checkpoints import TARGET_FIELDS, read_about
from colorlib.cli.build import check_output, read_images, open_model, pick_device, files_read
from colorlib.cli.common import (DEFAULT, OneLineParser, UsageError, a_path, add_data_flags, add_device_flags,
                                 add_lab_flags, add_model_flags, add_task_flags, flag, int_at_least, run_command)
from colorlib.naming import run_name, weights_name
from colorlib.targets import TargetConfig

def build_parser(prog='activations.py'):
    parser = OneLineParser(prog=prog, description="Save every layer's activations of a trained model for one test image.")
    parser.add_argument('index', type=int_at_least(0), help='test image number (0-based)')
    add_model_flags(parser, 'the weights to look into (default: the shipped ones)')
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
    checked before the drawing (it replaces earlier pictures of those names, never a file the run reads)."""
    checkpoint, model = open_model(args, device)
    name = run_name(model.config.name, model.target.config, model.config.name)
    out_dir = Path('outputs') / name / f'act{args.index}'
    reads = files_read(args, checkpoint)
    place = 'the activations (outputs/ under the current folder)'
    check_output(out_dir / 'input.png', place, reads, overwrite=True)
    with flag(place):
        model.activations(test_x[args.index], out_dir, reads)
    print(f'Activations of test image {args.index} written to {out_dir}/')


def shipped_kinds():
    """(model name, TargetConfig) of every shipped weights file, as the files say, in the order --all draws them."""
    kinds = []
    for path in sorted(shipped.folder('weights').glob('*.pkl')):
        with flag('--all'):
            about = read_about(path)
        kinds.append((about['model'].name, TargetConfig(**{k: about['target'][k] for k in TARGET_FIELDS})))
    return kinds


def run(args):
    if args.all and args.checkpoint:
        raise UsageError('--all takes the weights from --weights-dir; leave out --checkpoint')
    if args.weights_dir and not args.all:
        raise UsageError('--weights-dir only applies with --all')
    device = pick_device(args.device)
    _, test_x = read_images(args, device)
    if args.index >= len(test_x):
        raise UsageError(f'index: {args.index} is out of range; there are {len(test_x)} test images (0-{len(test_x) - 1})')
    if not args.all:
        return draw(args, test_x, device)
    weights_dir = Path(args.weights_dir) if args.weights_dir else shipped.folder('weights')
    kernel, filters = args.kernel or DEFAULT.kernel, args.filters or DEFAULT.filters
    found = 0
    for model, target in shipped_kinds():
        path = weights_dir / f'{weights_name(model, target, kernel, filters)}.pkl'
        if not path.is_file():
            print(f'Skipped {model} ({run_name(model, target)}): no {path}')
            continue
        found += 1
        draw(argparse.Namespace(**{**vars(args), 'checkpoint': str(path)}), test_x, device)
    if not found:
        raise UsageError(f'--weights-dir: no weights for --all in {weights_dir} '
                         f'(e.g. unet_k{kernel}_f{filters}.pkl)')


def main(argv=None, prog=None):
    run_command(build_parser(prog or 'activations.py'), run, argv)
