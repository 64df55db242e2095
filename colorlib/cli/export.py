"""colorlib export: trained weights as one ONNX file that colours pictures with onnxruntime alone (colorlib.export).
Exit status: 0 written, 2 weights that cannot be exported or an output that cannot be written (one line)."""
import sys

from colorlib.cli.common import OneLineParser, a_float, a_path, places, run_command
from colorlib.lab import DEFAULT_TEMPERATURE


def build_parser(prog='colorlib export'):
    """The flags of export; each dest is colorlib.export.export's keyword."""
    parser = OneLineParser(prog=prog, description='Export trained weights to ONNX: uint8 RGB or grey pictures of any '
                                                  'size in, uint8 RGB out, all of the colouring inside the graph.')
    parser.add_argument('model', metavar='WEIGHTS', type=a_path,
                        help='a weights file, or the name of shipped weights (unet, cnn, unet_lab, superres_unet, ...)')
    parser.add_argument('-o', '--output', dest='path', type=a_path, required=True, help='the .onnx file to write')
    parser.add_argument('--overwrite', action='store_true', help='replace the output file if it exists')
    parser.add_argument('--temperature', type=a_float,
                        help=f'Lab weights: the annealed mean\'s temperature built into the graph (default '
                             f'{DEFAULT_TEMPERATURE})')
    return parser


def run(args):
    """One call of colorlib.export.export: the extras checked, the weights opened, the graph written."""
    from colorlib.export import export
    with places('model', 'path', 'temperature'):
        path = export(args.model, args.path, replace=args.overwrite, temperature=args.temperature)
    print(f'{args.model} exported to {path}')


def main(argv=None, prog='colorlib export'):
    run_command(build_parser(prog), run, argv)


if __name__ == '__main__':
    main(sys.argv[1:])
