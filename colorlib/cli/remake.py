"""colorlib colours and colorlib bins: remake the shipped colour files from the training images."""
from colorlib.cli.build import image_keywords
from colorlib.cli.common import (OneLineParser, a_path, add_data_flags, an_int, library_defaults, places,
                                 run_command)
from colorlib.lab import GRID, MIN_SHARE
from colorlib.remake import OUT_DIR, remake_bins, remake_colours


def colours_parser(prog):
    parser = OneLineParser(prog=prog, description='Fit the k-means colour files on the training images.')
    parser.add_argument('-k', type=an_int, nargs='+', help='numbers of colours')
    parser.add_argument('-o', '--out-dir', type=a_path, default=OUT_DIR, help='where the files go')
    parser.add_argument('-s', '--seed', type=an_int)
    parser.add_argument('--overwrite', action='store_true', help='replace existing colour files')
    add_data_flags(parser)
    library_defaults(parser, remake_colours, 'k', 'seed')
    return parser


def bins_parser(prog):
    parser = OneLineParser(prog=prog, description=f'Find the ab bins (grid {GRID}) the training images use.')
    parser.add_argument('-o', '--out-dir', type=a_path, default=OUT_DIR, help='where the file goes')
    parser.add_argument('--overwrite', action='store_true', help='replace an existing bins file')
    add_data_flags(parser)
    return parser


def run_colours(args):
    with places('out_dir', 'k'):
        fitted = remake_colours(k=args.k, out_dir=args.out_dir, seed=args.seed, overwrite=args.overwrite,
                                **image_keywords(args), log=print)
    for path, (k, distortion) in fitted.items():
        print(f'{path}: {k} colours, distortion {distortion:.4f}')


def run_bins(args):
    with places('out_dir'):
        path, count = remake_bins(out_dir=args.out_dir, overwrite=args.overwrite, **image_keywords(args), log=print)
    print(f'{path}: {count} ab bins (of grid {GRID}, each with at least {MIN_SHARE:.2%} of the pixels)')


def main_colours(argv=None, prog='colorlib colours'):
    run_command(colours_parser(prog), run_colours, argv)


def main_bins(argv=None, prog='colorlib bins'):
    run_command(bins_parser(prog), run_bins, argv)
