"""activations.py: every block's activations of a trained model for one test image, as tile sheets."""
from colorlib.cli.build import files_read, open_model, pick_device, read_images, target_settings
from colorlib.cli.common import (OneLineParser, UsageError, a_path, add_data_flags, add_device_flags, add_lab_flags,
                                 add_model_flags, add_task_flags, an_int, network_flags, places, run_command)
from colorlib.gallery import all_activations


def build_parser(prog='activations.py'):
    parser = OneLineParser(prog=prog,
                           description="Save every layer's activations of a trained model for one test image.")
    parser.add_argument('image', metavar='index', type=an_int, help='test image number (0-based)')
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


def run(args):
    if args.all and args.checkpoint:
        raise UsageError('--all takes the weights from --weights-dir; leave out --checkpoint')
    if args.weights_dir and not args.all:
        raise UsageError('--weights-dir only applies with --all')
    device = pick_device(args.device)
    _, test_x = read_images(args, device)
    place = 'the activations (outputs/ under the current folder)'  # the runs_dir of Model.activations
    if args.all:
        with places('image', 'weights_dir', name=place):
            all_activations(args.image, weights_dir=args.weights_dir, kernel=args.kernel, filters=args.filters,
                            runs_dir='outputs', test_x=test_x, device=device, reads=files_read(args), log=print,
                            model=args.model, **network_flags(args), **target_settings(args))
        return
    checkpoint, model = open_model(args, device)
    with places('image', name=place):
        folder = model.activations(args.image, reads=files_read(args, checkpoint), runs_dir='outputs', test_x=test_x)
    print(f'Activations of test image {args.image} written to {folder}/')


def main(argv=None, prog=None):
    run_command(build_parser(prog or 'activations.py'), run, argv)
