"""The command line: `colorlib COMMAND ...` (or `python -m colorlib`), one small module per command, and the
top-level scripts of a checkout (colorization.py, ...) as one-line shims onto the same commands."""
import sys

from colorlib import __version__

COMMANDS = {  # name -> (module, function, what it does)
    'colorization': ('colorization', 'main', 'train or validate a colour-class CNN, UNet or DUNet (the assignment)'),
    'color_regression': ('colorization', 'main_regression', 'train or validate the RGB regression CNN'),
    'activations': ('activations', 'main', "draw every layer's activations for one test image"),
    'colorize': ('colorize', 'main', 'colour your own image files, any size'),
    'colours': ('remake', 'main_colours', 'fit the k-means colour files on the training images'),
    'bins': ('remake', 'main_bins', "find the Lab ab bins the training images use"),
    'serve': ('serve', 'main', 'a page in the browser that colours the photos dropped on it'),
    'export': ('export', 'main', 'a trained model as one ONNX file, to colour without torch (onnxruntime)'),
    'info': ('info', 'main', 'this machine as colorlib sees it (paste it into a bug report)'),
}
USAGE = 'usage: colorlib [--version] COMMAND [flags]   (colorlib COMMAND --help for its flags)\n\ncommands:\n' + \
    '\n'.join(f'  {name:18}{what}' for name, (_, _, what) in COMMANDS.items()) + '\n'


def main(argv=None):
    """Dispatch to the command named first; its flags are its own."""
    import importlib
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ('-h', '--help'):
        print(USAGE, end='', file=sys.stdout if argv else sys.stderr)
        sys.exit(0 if argv else 2)
    if argv[0] == '--version':
        print(f'colorlib {__version__}')
        return
    if argv[0] not in COMMANDS:
        print(f'colorlib: error: unknown command {argv[0]!r} (choose from {", ".join(COMMANDS)})', file=sys.stderr)
        sys.exit(2)
    module, function, _ = COMMANDS[argv[0]]
    command = getattr(importlib.import_module(f'colorlib.cli.{module}'), function)
    command(argv[1:], prog=f'colorlib {argv[0]}')
