"""colorize.py: colour your own image files and films, any size, grey or colour, with a trained model (see README:
"Colourize your own photos", "Colour a film"). Exit status: 0 all done, 1 some file skipped or a film cut short (each
named on stderr) with the rest done, 2 bad flags or checkpoint, or every file refused and nothing coloured."""
import errno
import os
import sys
from pathlib import Path

from tqdm import tqdm

from colorlib.cli.build import check_output, open_model, pick_device, files_read
from colorlib.cli.common import (OneLineParser, UsageError, a_name, a_path, add_device_flags, add_lab_flags,
                                 add_model_flags, flag, in_flag_terms, int_at_least, run_command)
from colorlib.errors import InputError
from colorlib.colorize import STRIDE, chroma_predictor, colorize_file, find_images, output_stems
from colorlib.models import FlipAveraged, context
from colorlib.video import FilmCut, is_film, require_av

FAILED = 1  # exit status when some file could not be read or written and the rest was done
REFUSED = 2  # every file refused, nothing coloured: as for bad flags


def build_parser(prog='colorize.py'):
    parser = OneLineParser(prog=prog, description='Colourize image files and films of any size with a trained model.')
    parser.add_argument('paths', nargs='+', metavar='PATH', type=a_name,  # one that cannot be looked at is skipped
                        help='image files and films (.mp4, .mov, .mkv, .webm, .avi, animated .gif), or folders of them')
    add_model_flags(parser, 'weights of a trained model (default: the shipped ones of --model); our files say what '
                            'they hold, the assignment\'s need their flags')
    add_lab_flags(parser)
    parser.add_argument('-o', '--out-dir', type=a_path, default='outputs/colorized',
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
    parser.add_argument('--tile', type=int_at_least(STRIDE), default=512,
                        help='largest piece (pixels a side, rounded up to a multiple of 4) the network sees at once')
    parser.add_argument('--margin', type=int_at_least(0),
                        help='context around each tile (default: over the receptive field of the model)')
    parser.add_argument('--net-size', type=int_at_least(1), metavar='N',
                        help='the network sees the image scaled to N pixels on its shorter side (default: full size); '
                             'the colour is scaled back up, the lightness stays full size')
    parser.add_argument('--tta', dest='flips', action='store_true',
                        help='average the network with its mirror image (test-time augmentation; twice the work)')
    add_device_flags(parser)
    parser.set_defaults(prog=prog)
    return parser


def run(args):
    device = pick_device(args.device)
    checkpoint, model = open_model(args, device)
    if model.target.task != 'colour':
        raise UsageError(f'--checkpoint: {checkpoint} holds super-resolution weights; colorize needs colourization '
                         'ones')
    if args.save_weights and not args.reference:
        raise UsageError('--save-weights keeps the weights fine-tuned on --reference; give --reference')
    out_dir = Path(args.out_dir)
    named = find_images(args.paths)
    if not named:
        raise UsageError(f'PATH: no image files or films in {", ".join(args.paths)}')

    def skip(path, err):
        said = in_flag_terms(err) if isinstance(err, InputError) else str(err)
        reason = ' '.join(said.split()) or type(err).__name__
        tqdm.write(f'{args.prog}: skipped {path}: {reason[:600]}', file=sys.stderr)
    unusable = {}  # what cannot even be looked at (a symlink loop, a name too long): no output name is made for it
    for path in named:
        try:
            os.stat(path)
        except OSError as err:
            if err.errno != errno.ENOENT:  # a missing file is said when it is read, as any unreadable one
                unusable[path] = err.strerror
    files = [path for path in named if path not in unusable]
    films = {path for path in files if is_film(path)}
    if films:
        with flag():
            require_av()
    stems = output_stems(files)
    reads = [*files, *files_read(args, checkpoint), *(args.reference or [])]
    outputs, stem_of = {}, dict(zip(files, stems))  # path -> (colorized, compare)
    for path, stem in zip(files, stems):
        suffix = path.suffix.lower() if path in films else '.png'
        outputs[path] = tuple(out_dir / f'{stem}{kind}{suffix}' for kind in ('_colorized', '_compare'))
        for output in outputs[path][:1 + args.compare]:  # earlier PNGs of colorize are replaced, films only if asked
            check_output(output, '-o/--out-dir', reads, overwrite=path not in films or args.overwrite)
    if args.save_weights:
        check_output(args.save_weights, '--save-weights', reads, overwrite=args.overwrite)
    if args.reference:
        with flag('--reference'):
            model = model.fit_reference(args.reference, net_size=args.net_size, log=print)
        if args.save_weights:
            with flag('--save-weights'):
                model.save(args.save_weights, replace=args.overwrite, reads=reads)
    predict = chroma_predictor(FlipAveraged(model.net) if args.flips else model.net, model.target)
    margin = context(model.config) if args.margin is None else args.margin
    failed, cut, shown = 0, 0, sys.stderr.isatty()
    for path in tqdm(named, desc='colorize', unit='file' if films else 'image', disable=not shown):
        try:
            if path in unusable:
                raise OSError(unusable[path])
            if path in films:
                colorized, compare = outputs[path]
                model.colorize_video(path, colorized, compare if args.compare else None, args.temporal == 'on',
                                     args.overwrite, progress=shown, log=lambda said: tqdm.write(
                                         f'{args.prog}: {said}', file=sys.stderr),
                                     tile=args.tile, margin=margin, net_size=args.net_size, flips=args.flips)
            else:
                colorize_file(path, out_dir, predict, device, args.tile, margin, args.compare, args.net_size,
                              stem_of[path], replace=True, reads=reads, config=model.config)
        except FilmCut as err:  # what decoded is coloured and published; the rest of the folder goes on
            tqdm.write(f'{args.prog}: {" ".join(str(err).split())}', file=sys.stderr)
            failed, cut = failed + 1, cut + 1
        except Exception as err:  # one bad file (unreadable, not an image, truncated, full disk) must not stop the rest
            skip(path, err)
            failed += 1
    print(f'{len(named) - failed} of {len(named)} {"files" if films else "images"} colourized into {out_dir}/')
    if failed:
        sys.exit(REFUSED if failed == len(named) and not cut else FAILED)


def main(argv=None, prog=None):
    run_command(build_parser(prog or 'colorize.py'), run, argv)
