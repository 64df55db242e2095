"""colorlib serve: a page in the browser that colours the photos dropped on it (colorlib.serve), or with --write-site
that page as plain files. Exit status: 0 when stopped with Ctrl-C (or the site written), 2 for a bad flag, a port in
use or a folder that is there."""
import sys

from colorlib.cli.build import pick_device
from colorlib.cli.common import OneLineParser, UsageError, a_path, add_device_flags, int_at_least, run_command
from colorlib.errors import InputError
from colorlib.serve import MAX_BYTES, MAX_PIXELS, serve, write_site

FLAGS = {'host': '--host', 'port': '--port', 'max_bytes': '--max-upload-mb', 'max_pixels': '--max-megapixels',
         'runtime': '--in-browser', 'folder': '--write-site'}


def build_parser(prog='colorlib serve'):
    parser = OneLineParser(prog=prog, description='Serve a page that colours the photos dropped on it, with the '
                                                  'shipped networks or weights uploaded there.')
    parser.add_argument('--host', default='127.0.0.1',
                        help='address to listen on (default 127.0.0.1: this machine only; 0.0.0.0: every network)')
    parser.add_argument('--port', type=int_at_least(0), default=8000,
                        help='port to listen on (default 8000; 0: any free one, printed)')
    parser.add_argument('--max-upload-mb', type=int_at_least(1), default=MAX_BYTES // 2 ** 20,
                        metavar='MB',
                        help=f'largest photo or weights file taken (default {MAX_BYTES // 2 ** 20})')
    parser.add_argument('--max-megapixels', type=int_at_least(1), default=MAX_PIXELS // 10 ** 6,
                        metavar='N',
                        help=f'largest picture coloured, in millions of pixels (default {MAX_PIXELS // 10 ** 6})')
    parser.add_argument('--in-browser', type=a_path, metavar='DIR',
                        help="onnxruntime-web's dist folder (npm install onnxruntime-web): the page can then colour "
                             'in the browser itself, with the network exported to ONNX, the photo never sent')
    parser.add_argument('--write-site', type=a_path, metavar='OUT',
                        help='with --in-browser: write the page, the networks exported and onnxruntime-web into the '
                             'new folder OUT, to host as plain files on any web server, and exit')
    add_device_flags(parser)
    return parser


def run(args):
    device = pick_device(args.device)
    if args.write_site and not args.in_browser:
        raise UsageError('--write-site: the page as plain files colours in the browser: give --in-browser DIR too')
    try:
        if args.write_site:
            folder = write_site(args.write_site, args.in_browser, max_pixels=args.max_megapixels * 10 ** 6,
                                device=device)
            print(f'{args.prog}: wrote the page into {folder}/; any web server of that folder serves it')
            return
        serve(args.host, args.port, args.max_upload_mb * 2 ** 20, args.max_megapixels * 10 ** 6, device,
              log=lambda line: print(line, file=sys.stderr, flush=True), runtime=args.in_browser,
              ready=lambda url: print(f'{args.prog}: open {url} in a browser (Ctrl-C stops the server)', flush=True))
    except InputError as err:
        flag = FLAGS.get(next(iter(err.fields), None))
        raise UsageError(f'{flag}: {err}' if flag else str(err)) from None
    print(f'{args.prog}: stopped')


def main(argv=None, prog=None):
    parser = build_parser(prog or 'colorlib serve')
    parser.set_defaults(prog=parser.prog)
    run_command(parser, run, argv)
