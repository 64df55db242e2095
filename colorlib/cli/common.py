"""What the commands share: one-line errors, the library's errors said in flag terms, flag types and the shared
flags."""
import argparse
import atexit
import contextlib
import gc
import os
import sys
import warnings

import numpy as np

from colorlib import shipped
from colorlib.augment import AUGMENTATIONS
from colorlib.data import CATEGORIES, parse_category
from colorlib.errors import ConfigMismatch, InputError, TooBig, WriteError
from colorlib.lab import DEFAULT_TEMPERATURE
from colorlib.machine import DEVICES
from colorlib.models import MODELS
from colorlib.preemption import Stopped, raise_stop_signals
from colorlib.targets import TASKS

# the flag that sets each field of the library's configs and run descriptions
FLAGS = {'epochs': '-e', 'batch_size': '-b', 'learn_rate': '-l', 'seed': '-s', 'lr_schedule': '--lr-schedule',
         'weight_decay': '--weight-decay', 'augment': '--augment', 'amp': '--amp', 'warmup': '--warmup', 'ema': '--ema',
         'label_smoothing': '--label-smoothing', 'save_every': '--save-every', 'compile': '--compile',
         'name': '--model', 'kernel': '-k', 'filters': '-f', 'colours': '-c/--colours/--loss or --colour-space/--bins',
         'in_channels': '--task', 'dilation': '--dilation', 'target.kind': '--loss or --colour-space',
         'target.task': '--task',
         'target.colours': '-c/--colours', 'target.bins': '--bins', 'target.rebalance': '--rebalance',
         'target.soft': '--soft-encode', 'target.residual': '--residual', 'target.temperature': '--temperature',
         'data': '--data', 'category': '--category', 'extra_categories': '--extra-categories',
         'image_size': '--image-size', 'device': '--device', 'out_dir': '--experiment-name', 'weights': '--checkpoint',
         'resume': '--resume', 'init': '--init', 'model': '--model', 'seconds': '--seconds', 'k': '-k',
         'tile': '--tile', 'net_size': '--net-size', 'margin': '--margin',
         'data.images': 'training images (--data, --category, --extra-categories)',
         'data.digest': 'training data (--data, --category, --extra-categories)', 'processes': 'torchrun processes'}

KIND_FLAGS = {'classes': '--loss ce', 'rgb': '--loss mse', 'lab': '--colour-space lab'}  # a target kind as flags
# the model and target flags default to None, so that a checkpoint's own settings fill what is not given
MODEL_DEFAULTS = {'model': 'UNet', 'kernel': 3, 'num_filters': 32, 'dilation': 1, 'task': 'colour',
                  'colour_space': 'rgb', 'residual': False}

# A command's process ends when its command does: frozen, what is left skips the interpreter's last sweep over every
# object (torch, its compiler stack, matplotlib), about a second of every command's exit on a 2-core machine.
atexit.register(gc.freeze)


def spell(field, value):
    """A setting as the flags that give it: ('target.kind', 'rgb') -> '--loss mse', ('target.task', 'superres')
    -> '--task superres', ('target.residual', True) -> '--residual'."""
    if field == 'target.kind':
        return KIND_FLAGS[value]
    return FLAGS.get(field, field) if value is True or value is None else f'{FLAGS.get(field, field)} {value}'


OWN_VALUE_FIELDS = ('target.colours', 'target.bins', 'target.rebalance', 'target.temperature')  # lead with their flag


def in_flag_terms(err, name=None, values=None):
    """A library InputError in flag terms: led by `name`, or by the flag of the first setting at fault where none is
    named or where that setting's own file or value is at fault (a kind with its value from `values`), then the
    message, what it needs, and the flags of the other fields to check. A size too big (TooBig) is led by the flags
    of its settings, and what would fit said in flags."""
    if isinstance(err, TooBig):
        lead = name if name and set(err.fields) <= {'weights', 'init'} else '/'.join(FLAGS.get(f, f) for f in err.fields)
        fits = ' or '.join(f'{FLAGS.get(f, f)} {v}' for f, v in err.fits)
        return f'{lead + ": " if lead else ""}{err.stem}{f"; {fits} would fit" if fits else ""}'
    fields = list(err.fields)
    if fields and (name is None or fields[0] in OWN_VALUE_FIELDS):
        field = fields.pop(0)
        name = spell(field, (values or {}).get(field)) if field == 'target.kind' else FLAGS.get(field, field)
    needs = f'; it needs {" ".join(spell(f, v) for f, v in err.needs.items())}' if err.needs else ''
    values = values or {}
    named = [spell(f, values[f]) if f in values else FLAGS.get(f, f) for f in fields]
    named = [flag for flag in named if flag != name]  # the flag the line starts with is not said twice
    check = f': check {", ".join(named)}' if named else ''
    return f'{name + ": " if name else ""}{err}{needs}{check}'


def with_model_defaults(args):
    """The flags with the model's and target's defaults filled in where not given."""
    for dest, value in MODEL_DEFAULTS.items():
        if getattr(args, dest, value) is None:
            setattr(args, dest, value)
    return args


NAME_MAX = 255  # bytes in one file name, on every common file system


class UsageError(Exception):
    """A bad flag or flag value; the command prints it on one line and exits with status 2."""


@contextlib.contextmanager
def flag(name=None, writes=None, values=None):
    """Library errors inside the block become UsageErrors that start with the flag the input came from (`writes`:
    the flag of the place the block writes to, for a write that fails; see in_flag_terms() for `values`)."""
    try:
        yield
    except WriteError as err:
        raise UsageError(f'{writes or name}: {err}' if writes or name else str(err)) from None
    except ConfigMismatch as err:
        raise UsageError(f'{name}: {mismatch(err)}; resume with the same flags') from None
    except InputError as err:
        raise UsageError(in_flag_terms(err, name, values)) from None


def mismatch(err):
    """A ConfigMismatch's differences in flag terms."""
    return '; '.join(f'the saved run had {FLAGS.get(f, f)} {saved}, this one has {FLAGS.get(f, f)} {now}'
                     for f, saved, now in err.differences)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line on stderr (no usage block), exit status 2."""

    def error(self, message):
        self.exit(2, f'{self.prog}: error: {message}\n')


def run_command(parser, runner, argv=None):
    """Parse, run, and turn a UsageError into one line on stderr and exit status 2, a warning into one line. SIGTERM
    and SIGUSR1 end the command as an exception (colorlib.preemption.Stopped), so that a file being written is
    cleaned up, then in one line with the status a shell gives a death by that signal."""
    for stream in (sys.stdout, sys.stderr):  # a name the output's encoding cannot spell is escaped, not a crash
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors='backslashreplace')
    args = parser.parse_args(argv)

    def one_line(message, *_, **__):  # a library warning is said like an error: the command, then the message
        print(f'{parser.prog}: warning: {message}', file=sys.stderr, flush=True)
    with warnings.catch_warnings(), raise_stop_signals():
        warnings.showwarning = one_line
        try:
            runner(args)
        except UsageError as err:
            print(f'{parser.prog}: error: {err}', file=sys.stderr)
            sys.exit(2)
        except KeyboardInterrupt as err:  # Ctrl-C: one line, and the status a shell gives a death by SIGINT
            print(f'{parser.prog}: interrupted{f"; {err}" if str(err) else ""}', file=sys.stderr)
            sys.exit(130)
        except Stopped as err:
            print(f'{parser.prog}: {err}', file=sys.stderr)
            sys.exit(128 + err.signal)
        except BrokenPipeError:  # the reader went away (`| head`): quiet, as a shell tool ends, with SIGPIPE's status
            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit's flush
            sys.exit(128 + 13)

# -----------------------------------------------------------------------------
# flag types


def int_at_least(low):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f'{text!r} is not an integer') from None
        if value < low:
            raise argparse.ArgumentTypeError(f'{value} is out of range (at least {low})')
        return value
    return parse


def a_name(text):
    """A file or folder name as typed: not empty (that would be the current folder) and free of NUL bytes."""
    if not text or '\0' in text:
        raise argparse.ArgumentTypeError(f'{text!r} is not a path')
    return text


def a_path(text):
    """a_name, each of whose parts fits the file system's limit on a name."""
    long = next((part for part in a_name(text).split(os.sep) if len(os.fsencode(part)) > NAME_MAX), None)
    if long:
        raise argparse.ArgumentTypeError(f'{long[:20]}... is {len(os.fsencode(long))} bytes long, more than the '
                                         f'{NAME_MAX} a file name may have')
    return text


def folder_name(text):
    """One plain folder name (under outputs/): no '..', no '/', not empty, and short enough for the file system."""
    if text in ('', '.', '..') or '/' in text or os.sep in text or '\0' in text:
        raise argparse.ArgumentTypeError(f'{text!r} is not a plain folder name (no "/", not "." or "..")')
    if len(os.fsencode(text)) > NAME_MAX:
        raise argparse.ArgumentTypeError(f'{text[:20]}... is {len(os.fsencode(text))} bytes long, more than the '
                                         f'{NAME_MAX} a file name may have')
    return text


def odd_kernel(text):
    value = int_at_least(1)(text)
    if value % 2 == 0:
        raise argparse.ArgumentTypeError(f'{value} is even; the kernel size must be odd (1, 3, 5, ...)')
    return value


def finite_float(low, inclusive=False, high=None):
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f'{text!r} is not a number') from None
        above = value >= low if inclusive else value > low
        if not (np.isfinite(value) and above and (high is None or value <= high)):
            bounds = f'{low} to {high}' if high is not None else f'a finite number {">=" if inclusive else ">"} {low}'
            raise argparse.ArgumentTypeError(f'{value} is out of range ({bounds})')
        return value
    return parse


def seed(text):
    """numpy's global generator (the --legacy-eval test order) takes seeds 0 to 2**32 - 1 only."""
    value = int_at_least(0)(text)
    if value >= 2 ** 32:
        raise argparse.ArgumentTypeError(f'{value} is out of range (at most {2 ** 32 - 1})')
    return value


def augmentation_list(text):
    """Comma-separated kinds; 'none' for no augmentation (to take away a recipe's)."""
    if text == 'none':
        return ()
    kinds = [k for k in text.split(',') if k]
    unknown = [k for k in kinds if k not in AUGMENTATIONS]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(f'unknown augmentation {",".join(unknown) or text!r} '
                                         f'(choose from {", ".join(AUGMENTATIONS)}, comma-separated, or none)')
    return tuple(kinds)


def category_list(text):
    """Comma-separated class names or numbers; 'all' for every class (the main one is left out where it is used)."""
    if text == 'all':
        return list(range(len(CATEGORIES)))
    try:
        return [parse_category(name) for name in text.split(',') if name]
    except InputError as err:
        raise argparse.ArgumentTypeError(str(err)) from None

# -----------------------------------------------------------------------------
# the shared flags


def add_device_flags(parser):
    parser.add_argument('--device', choices=DEVICES, default='auto',
                        help='auto: a CUDA GPU, else Apple\'s MPS, else the CPU')
    parser.add_argument('--gpu', action='store_const', const='cuda', dest='device', help='same as --device cuda')


def add_model_flags(parser, checkpoint_help, models=tuple(MODELS), default_model=None):
    """--model, --checkpoint, -k, -f, -c, --dilation: left None when not given (MODEL_DEFAULTS), so that the settings
    of a checkpoint that says what it holds fill them; given ones must agree with it."""
    parser.add_argument('--model', choices=list(models), default=default_model,
                        help=f'default: what --checkpoint holds, else {MODEL_DEFAULTS["model"]}')
    parser.add_argument('--checkpoint', type=a_path, help=checkpoint_help)
    parser.add_argument('-k', '--kernel', type=odd_kernel, help='convolution kernel size (odd; default 3)')
    parser.add_argument('-f', '--num-filters', '--num_filters', dest='num_filters', type=int_at_least(1),
                        help='number of filters (default 32)')
    parser.add_argument('-c', '--colours', type=a_path,
                        help='k-means colour file (.npy; default: the one saved beside --checkpoint, '
                             'fitted on a folder of your pictures, or the shipped 24 horse colours)')
    parser.add_argument('--dilation', type=int_at_least(0),
                        help='DUNet: empty pixels between the middle filter taps (0: undilated; default 1)')


def add_task_flags(parser, loss=True):
    parser.add_argument('--task', choices=TASKS,
                        help='colour: grey in, colours out; superres: 4x-downsized colour image in, full resolution out')
    if loss:
        parser.add_argument('--loss', choices=['ce', 'mse'],
                            help='ce: cross-entropy over the colour classes (default); mse: predict RGB directly')
    parser.add_argument('--residual', action='store_true', default=None,
                        help='superres with --loss mse: predict the correction to bicubic upsampling, not the image')


def add_lab_flags(parser, training=False):
    parser.add_argument('--colour-space', '--color-space', dest='colour_space', choices=['rgb', 'lab'],
                        help='rgb: grey in, k-means colours (-c) out; lab: L in, ab bins (--bins) out (Zhang et al.)')
    parser.add_argument('--bins', type=a_path,
                        help='Lab: ab bins file (default: as for -c; the shipped ones remake with colorlib bins)')
    parser.add_argument('--temperature', type=finite_float(0, inclusive=True), default=DEFAULT_TEMPERATURE,
                        help='Lab: decode with the annealed mean at this temperature (0: the mode)')
    if training:
        parser.add_argument('--rebalance', type=finite_float(0, inclusive=True, high=1), metavar='LAMBDA',
                            help="Lab: weight rare colours up, Zhang's lambda in [0, 1] (1: not at all; he uses 0.5)")
        parser.add_argument('--soft-encode', action='store_true',
                            help='Lab: spread the target over the 5 nearest bins (Gaussian, sigma 5)')


def add_data_flags(parser):
    parser.add_argument('--data', type=a_path, default=str(shipped.DEFAULT_DATA),
                        help='an .npz, cifar-10-python.tar.gz, cifar-10-batches-py/, or a folder of your pictures '
                             '(default: the bundled horses)')
    parser.add_argument('--download', action='store_true', help='fetch the official CIFAR-10 archive into data/')
    parser.add_argument('--category', default='horse', help=f'class to colour, by name or 0-9: {", ".join(CATEGORIES)}')
    parser.add_argument('--image-size', type=int_at_least(8), default=32, metavar='N',
                        help='a folder of pictures: bring each to NxN (short side resized, centre cut; N a multiple '
                             'of 4, at least 8)')
    parser.add_argument('--val-share', type=finite_float(0, high=0.9), default=0.1,
                        help='a folder of pictures without train/ and test/: the share held out for validation')
    parser.set_defaults(prog=parser.prog)
