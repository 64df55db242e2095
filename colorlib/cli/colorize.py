"""colorize.py: colour your own image files and films, any size, grey or colour, with a trained model (see README:
"Colourize your own photos", "Colour a film"). Exit status: 0 all done, 1 some file skipped or a film cut short (each
named on stderr) with the rest done, 2 bad flags or checkpoint, or every file refused and nothing coloured."""
import sys

from tqdm import tqdm

from colorlib import api
from colorlib.cli.build import model_keywords, said_values, target_keywords
from colorlib.cli.common import (OneLineParser, a_name, a_path, add_device_flags, add_lab_flags, add_model_flags,
                                 an_int, in_flag_terms, library_defaults, places, run_command)
from colorlib.colorize import OUT_DIR
from colorlib.errors import InputError
from colorlib.video import FilmCut

FAILED = 1  # exit status when some file could not be read or written and the rest was done
REFUSED = 2  # every file refused, nothing coloured: as for bad flags


def build_parser(prog='colorize.py'):
    parser = OneLineParser(prog=prog, description='Colourize image files and films of any size with a trained model.')
    parser.add_argument('paths', nargs='+', metavar='PATH', type=a_name,  # one that cannot be looked at is skipped
                        help='image files and films (.mp4, .mov, .mkv, .webm, .avi, animated .gif), or folders of them')
    add_model_flags(parser, 'weights of a trained model (default: the shipped ones of --model); our files say what '
                            'they hold, the assignment\'s need their flags')
    add_lab_flags(parser)
    parser.add_argument('-o', '--out-dir', type=a_path, default=str(OUT_DIR),
                        help='where the PNGs and films go (a film keeps its container: clip.mp4 -> '
                             'clip_colorized.mp4)')
    parser.add_argument('--compare', action='store_true',
                        help='also write grey | result | original side by side (films: grey | result)')
    parser.add_argument('--temporal', choices=['on', 'off'], default='on',
                        help='films: steady colours from frame to frame (off: each frame alone)')
    parser.add_argument('--reference', nargs='+', type=a_path, metavar='PICTURE',
                        help='colour pictures of the same scenes: the network is fine-tuned on them first')
    parser.add_argument('--save-weights', type=a_path, metavar='PATH',
                        help='keep the weights fine-tuned on --reference here (reuse them with --checkpoint)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace films (and --save-weights) that exist; PNGs of earlier runs are always replaced')
    parser.add_argument('--tile', type=an_int,
                        help='largest piece (pixels a side, rounded up to a multiple of 4) the network sees at once')
    parser.add_argument('--margin', type=an_int,
                        help='context around each tile (default: over the receptive field of the model)')
    parser.add_argument('--net-size', type=an_int, metavar='N',
                        help='the network sees the image scaled to N pixels on its shorter side (default: full size); '
                             'the colour is scaled back up, the lightness stays full size')
    parser.add_argument('--tta', '--flips', dest='flips', action='store_true',
                        help='average the network with its mirror image (test-time augmentation; twice the work)')
    add_device_flags(parser)
    library_defaults(parser, api.colorize_files, 'tile')
    parser.set_defaults(prog=prog)
    return parser


def run(args):
    """One call of colorlib.colorize_files: the weights opened (--checkpoint, else the shipped ones the flags name),
    every file coloured or skipped."""
    def skipped(path, err):  # one line each, beside the progress bar
        if isinstance(err, FilmCut):
            said = str(err)
        else:
            reason = ' '.join((in_flag_terms(err) if isinstance(err, InputError) else str(err)).split())
            said = f'skipped {path}: {(reason or type(err).__name__)[:600]}'
        tqdm.write(f'{args.prog}: {" ".join(said.split())}', file=sys.stderr)
    with places('out_dir', 'paths', 'save_weights', values=said_values(args)):
        done = api.colorize_files(
            args.paths, args.checkpoint, **model_keywords(args), **target_keywords(args), out_dir=args.out_dir,
            compare=args.compare, temporal=args.temporal == 'on', reference=args.reference,
            save_weights=args.save_weights, overwrite=args.overwrite, tile=args.tile, margin=args.margin,
            net_size=args.net_size, flips=args.flips, device=args.device, progress=sys.stderr.isatty(), log=print,
            on_skip=skipped, on_note=lambda said: tqdm.write(f'{args.prog}: {said}', file=sys.stderr))
    print(done.summary)
    if done.failed:
        sys.exit(REFUSED if len(done.failed) == len(done.named) and not done.cut else FAILED)


def main(argv=None, prog=None):
    run_command(build_parser(prog or 'colorize.py'), run, argv)
