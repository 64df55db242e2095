"""colorlib colours and colorlib bins: remake the shipped colour files from the training images."""
from pathlib import Path

from colorlib.cli.build import check_output, read_images, files_read
from colorlib.cli.common import OneLineParser, a_path, add_data_flags, flag, int_at_least, run_command
from colorlib.colours import check_clusters, fit_colours, save_colours
from colorlib.data import parse_category
from colorlib.lab import GRID, MIN_SHARE, fit_bins, save_bins


def colours_parser(prog):
    parser = OneLineParser(prog=prog, description='Fit the k-means colour files on the training images.')
    parser.add_argument('-k', type=int_at_least(2), nargs='+', default=[16, 24, 32], help='numbers of colours')
    parser.add_argument('-o', '--out-dir', type=a_path, default='colours', help='where the files go')
    parser.add_argument('-s', '--seed', type=int_at_least(0), default=0)
    parser.add_argument('--overwrite', action='store_true', help='replace existing colour files')
    add_data_flags(parser)
    return parser


def bins_parser(prog):
    parser = OneLineParser(prog=prog, description=f'Find the ab bins (grid {GRID}) the training images use.')
    parser.add_argument('-o', '--out-dir', type=a_path, default='colours', help='where the file goes')
    parser.add_argument('--overwrite', action='store_true', help='replace an existing bins file')
    add_data_flags(parser)
    return parser


def run_colours(args):
    train_x, _ = read_images(args)
    paths = {k: Path(args.out_dir) / f'colour_kmeans{k}_cat{parse_category(args.category)}.npy' for k in args.k}
    for path in paths.values():
        check_output(path, '-o/--out-dir', files_read(args), args.overwrite)
    with flag('-k'):  # every -k checked before any k-means runs
        check_clusters(train_x, args.k)
    fits = {}
    for k in args.k:  # all fitted before any is written: a -k the data cannot take writes nothing
        with flag('-k'):
            fits[k] = fit_colours(train_x, k, args.seed)
    for k, path in paths.items():
        centres, distortion = fits[k]
        with flag('-k', writes='-o/--out-dir'):  # the loader's checks, made before writing
            save_colours(path, centres, distortion, args.overwrite)
        print(f'{path}: {k} colours, distortion {distortion:.4f}')


def run_bins(args):
    train_x, _ = read_images(args)
    path = Path(args.out_dir) / f'lab_bins{GRID}_cat{parse_category(args.category)}.npy'
    check_output(path, '-o/--out-dir', files_read(args), args.overwrite)
    with flag('--data'):
        centres, prior = fit_bins(train_x)
    with flag('--data', writes='-o/--out-dir'):  # the loader's checks, made before writing
        save_bins(path, centres, prior, args.overwrite)
    print(f'{path}: {len(centres)} ab bins (of grid {GRID}, each with at least {MIN_SHARE:.2%} of the pixels)')


def main_colours(argv=None, prog='colorlib colours'):
    run_command(colours_parser(prog), run_colours, argv)


def main_bins(argv=None, prog='colorlib bins'):
    run_command(bins_parser(prog), run_bins, argv)
