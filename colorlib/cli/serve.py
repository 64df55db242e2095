"""colorlib serve: a page in the browser that colours the photos dropped on it (colorlib.serve). Exit status: 0 when
stopped with Ctrl-C, 2 for a bad flag or a port in use."""
import sys

from colorlib.cli.build import pick_device
from colorlib.cli.common import OneLineParser, UsageError, add_device_flags, int_at_least, run_command
from colorlib.errors import InputError
from colorlib.serve import MAX_BYTES, MAX_PIXELS, serve

FLAGS = {'host': '--host', 'port': '--port', 'max_bytes': '--max-upload-mb', 'max_pixels': '--max-megapixels'}


def build_parser(prog='colorlib serve'):
    parser = OneLineParser(prog=prog, description='Serve a page that colours the photos dropped on it, with the '
                                                  'shipped networks or weights uploaded there.')
    parser.add_argument('--host', default='127.0.0.1',
                        help='address to listen on (default 127.0.0.1: this machine only; 0.0.0.0: every network)')
    parser.add_argument('--port', type=int_at_least(0), default=8000, help='port to listen on (default 8000; 0: any free one, printed)')
    parser.add_argument('--max-upload-mb', type=int_at_least(1), default=MAX_BYTES // 2 ** 20,
                        metavar='MB',
                        help=f'largest photo or weights file taken (default {MAX_BYTES // 2 ** 20})')
    parser.add_argument('--max-megapixels', type=int_at_least(1), default=MAX_PIXELS // 10 ** 6,
                        metavar='N',
                        help=f'largest picture coloured, in millions of pixels (default {MAX_PIXELS // 10 ** 6})')
    add_device_flags(parser)
    return parser


def run(args):
    device = pick_device(args.device)
    try:
        serve(args.host, args.port, args.max_upload_mb * 2 ** 20, args.max_megapixels * 10 ** 6, device,
              log=lambda line: print(line, file=sys.stderr, flush=True),
              ready=lambda url: print(f'{args.prog}: open {url} in a browser (Ctrl-C stops the server)', flush=True))
    except InputError as err:
        raise UsageError(f'{FLAGS.get(next(iter(err.fields), ""), args.prog)}: {err}') from None
    print(f'{args.prog}: stopped')


def main(argv=None, prog=None):
    parser = build_parser(prog or 'colorlib serve')
    parser.set_defaults(prog=parser.prog)
    run_command(parser, run, argv)
