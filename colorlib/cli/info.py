"""colorlib info: this machine as colorlib sees it (colorlib.machine.report): versions, devices, the CPU and its
capabilities, the precision --amp auto picks on each device and why, threads, and the matrix-multiply rate."""
import sys

from colorlib import machine
from colorlib.cli.common import OneLineParser, a_float, flag, library_defaults, run_command


def build_parser(prog='colorlib info'):
    parser = OneLineParser(prog=prog, description='Print this machine as colorlib sees it: versions, devices, CPU, '
                                                  'the precision --amp auto picks, threads and the matmul rate.')
    parser.add_argument('--seconds', type=a_float, help='time spent on the matrix-multiply rates, all devices together')
    library_defaults(parser, machine.report, 'seconds')
    return parser


def run(args):
    with flag('--seconds'):
        for line in machine.report(args.seconds):
            print(line, flush=True)


def main(argv=None, prog='colorlib info'):
    run_command(build_parser(prog), run, argv)


if __name__ == '__main__':
    main(sys.argv[1:])
