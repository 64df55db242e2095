"""colorlib export: trained weights as one ONNX file that colours pictures with onnxruntime alone (colorlib.export).
Exit status: 0 written, 2 weights that cannot be exported or an output that cannot be written (one line)."""
import sys

from colorlib.cli.common import OneLineParser, UsageError, a_float, a_path, flag, run_command
from colorlib.errors import FileExists, InputError
from colorlib.lab import DEFAULT_TEMPERATURE


def build_parser(prog='colorlib export'):
    parser = OneLineParser(prog=prog, description='Export trained weights to ONNX: uint8 RGB or grey pictures of any '
                                                  'size in, uint8 RGB out, all of the colouring inside the graph.')
    parser.add_argument('weights', metavar='WEIGHTS', type=a_path,
                        help='a weights file, or the name of shipped weights (unet, cnn, unet_lab, superres_unet, ...)')
    parser.add_argument('-o', '--output', type=a_path, required=True, help='the .onnx file to write')
    parser.add_argument('--overwrite', action='store_true', help='replace the output file if it exists')
    parser.add_argument('--temperature', type=a_float,
                        help=f'Lab weights: the annealed mean\'s temperature built into the graph (default '
                             f'{DEFAULT_TEMPERATURE})')
    return parser


def run(args):
    from colorlib.api import load
    from colorlib.export import check_installed, export
    try:
        check_installed()
    except InputError as err:  # not the weights' fault: no flag leads it
        raise UsageError(str(err)) from None
    with flag('WEIGHTS'):
        model = load(args.weights, temperature=args.temperature)
    try:
        with flag('WEIGHTS', writes='-o/--output'):
            path = export(model, args.output, replace=args.overwrite)
    except UsageError as err:
        if isinstance(err.__context__, FileExists):
            raise UsageError(f'{err} (--overwrite replaces it)') from None
        raise
    print(f'{model.run_name} exported to {path}')


def main(argv=None, prog='colorlib export'):
    run_command(build_parser(prog), run, argv)


if __name__ == '__main__':
    main(sys.argv[1:])
