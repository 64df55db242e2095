"""activations.py: every block's activations of a trained model for one test image, as tile sheets."""
from colorlib import gallery
from colorlib.cli.build import image_keywords, model_keywords, said_values, target_keywords
from colorlib.cli.common import (OneLineParser, a_path, add_data_flags, add_device_flags, add_lab_flags,
                                 add_model_flags, add_task_flags, an_int, places, run_command)


def build_parser(prog='activations.py'):
    parser = OneLineParser(prog=prog,
                           description="Save every layer's activations of a trained model for one test image.")
    parser.add_argument('image', metavar='index', type=an_int, help='test image number (0-based)')
    add_model_flags(parser, 'the weights to look into (default: the shipped ones)')
    add_task_flags(parser)
    add_lab_flags(parser)
    parser.add_argument('--all', dest='every_kind', action='store_true',
                        help='every model and task we ship, from --weights-dir (no --checkpoint)')
    add_device_flags(parser)
    parser.add_argument('--weights-dir', type=a_path, help='with --all: where the <name>_k<k>_f<f>.pkl files are '
                                              '(default: the shipped weights)')
    add_data_flags(parser)
    return parser


def run(args):
    """One call of colorlib.activations (gallery.py): the weights opened (--checkpoint, else the shipped ones the
    flags name; with --all every shipped kind's from --weights-dir), the test images read, the sheets drawn and
    said."""
    said = {'runs_dir': 'the activations (outputs/ under the current folder)'}  # the runs_dir the command sets
    with places('image', 'weights_dir', values=said_values(args), said=said):
        gallery.activations(args.image, args.checkpoint, every_kind=args.every_kind, weights_dir=args.weights_dir,
                            **model_keywords(args), **target_keywords(args), **image_keywords(args),
                            runs_dir='outputs', device=args.device, log=print)


def main(argv=None, prog=None):
    run_command(build_parser(prog or 'activations.py'), run, argv)
