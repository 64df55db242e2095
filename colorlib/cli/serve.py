"""colorlib serve: a page in the browser that colours the photos dropped on it (colorlib.serve), or with --write-site
that page as plain files. Exit status: 0 when stopped with Ctrl-C (or the site written), 2 for a bad flag, a port in
use or a folder that is there."""
import sys

from colorlib.cli.build import said_values
from colorlib.cli.common import (OneLineParser, UsageError, a_path, add_device_flags, an_int, flag, library_defaults,
                                 run_command)
from colorlib.serve import MAX_BYTES, MAX_PIXELS, serve, write_site

MB, MEGAPIXEL = 2 ** 20, 10 ** 6  # the units of --max-upload-mb and --max-megapixels


def in_megabytes(text):
    """A number of megabytes as typed, in bytes (the library's max_bytes); its bounds are the library's."""
    return an_int(text) * MB


def in_megapixels(text):
    """A number of millions of pixels as typed, in pixels (the library's max_pixels); its bounds are the library's."""
    return an_int(text) * MEGAPIXEL


def build_parser(prog='colorlib serve'):
    """The flags of serve; each dest is the library's keyword (serve.serve, serve.write_site), its default the
    library's."""
    parser = OneLineParser(prog=prog, description='Serve a page that colours the photos dropped on it, with the '
                                                  'shipped networks or weights uploaded there.')
    parser.add_argument('--host', help='address to listen on (default %(default)s: this machine only; 0.0.0.0: '
                                       'every network)')
    parser.add_argument('--port', type=an_int, help='port to listen on (default %(default)s; 0: any free one, printed)')
    parser.add_argument('--max-upload-mb', dest='max_bytes', type=in_megabytes, metavar='MB',
                        help=f'largest photo or weights file taken (default {MAX_BYTES // MB})')
    parser.add_argument('--max-megapixels', dest='max_pixels', type=in_megapixels, metavar='N',
                        help=f'largest picture coloured, in millions of pixels (default {MAX_PIXELS // MEGAPIXEL})')
    parser.add_argument('--in-browser', dest='runtime', type=a_path, metavar='DIR',
                        help="onnxruntime-web's dist folder (npm install onnxruntime-web): the page can then colour "
                             'in the browser itself, with the network exported to ONNX, the photo never sent')
    parser.add_argument('--write-site', dest='folder', type=a_path, metavar='OUT',
                        help='with --in-browser: write the page, the networks exported and onnxruntime-web into the '
                             'new folder OUT, to host as plain files on any web server, and exit')
    add_device_flags(parser)
    library_defaults(parser, serve, 'host', 'port', 'max_bytes', 'max_pixels')
    return parser


def run(args):
    """One call: serve.write_site with --write-site, else serve.serve until Ctrl-C."""
    if args.folder and not args.runtime:
        raise UsageError('--write-site: the page as plain files colours in the browser: give --in-browser DIR too')
    with flag(writes='--write-site', values=said_values(args)):
        if args.folder:
            folder = write_site(args.folder, args.runtime, max_pixels=args.max_pixels, device=args.device)
            print(f'{args.prog}: wrote the page into {folder}/; any web server of that folder serves it')
            return
        serve(args.host, args.port, args.max_bytes, args.max_pixels, args.device,
              log=lambda line: print(line, file=sys.stderr, flush=True), runtime=args.runtime,
              ready=lambda url: print(f'{args.prog}: open {url} in a browser (Ctrl-C stops the server)', flush=True))
    print(f'{args.prog}: stopped')


def main(argv=None, prog=None):
    parser = build_parser(prog or 'colorlib serve')
    parser.set_defaults(prog=parser.prog)
    run_command(parser, run, argv)
