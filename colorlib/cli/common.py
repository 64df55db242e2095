"""What the commands share: one-line errors, the library's errors said in flag terms, flag types and the shared
flags."""
import argparse
import atexit
import contextlib
import dataclasses
import gc
import inspect
import os
import sys
import warnings

from colorlib import distributed, shipped
from colorlib.augment import AUGMENTATIONS
from colorlib.data import CATEGORIES, load_images, parse_category
from colorlib.errors import ConfigMismatch, FileExists, InputError, TooBig, WriteError
from colorlib.machine import DEVICES, PRECISIONS
from colorlib.models import MODELS, ModelConfig, network_settings, owners
from colorlib.preemption import Stopped, raise_stop_signals
from pathlib import Path

from colorlib.targets import TARGETS, TASKS, target_settings
from colorlib.train import LR_SCHEDULES, TrainConfig


# settings that no one flag sets, said in words; every other setting is the `dest` of the flag that sets it, read off
# the parser of the command (flag_names), a target's setting also as target.<setting>
SAID = {'name': '--model', 'out_channels': '-c/--colours/--loss or --colour-space/--bins', 'in_channels': '--task',
        'target.kind': '--loss or --colour-space', 'out_dir': '--experiment-name', 'weights': '--checkpoint',
        'data.images': 'training images (--data, --category, --extra-categories)',
        'data.digest': 'training data (--data, --category, --extra-categories)', 'processes': 'torchrun processes',
        'colorlib': 'colorlib version'}
COMMAND = []  # the parser of the command running (run_command): its flags name the settings


def flag_names(parser=None):
    """{setting: the flag that sets it} of `parser` (default: the command running, else one with every shared
    flag, as training has them): each flag's dest is the library's keyword, said by the flag's first spelling (or
    its action's `said`)."""
    if parser is None:
        parser = COMMAND[-1] if COMMAND else shared_parser()
    flags = {}
    for action in parser._actions:
        if action.option_strings and action.dest != 'help':
            flags.setdefault(action.dest, getattr(action, 'said', action.option_strings[0]))
    targets = {f'target.{k}': flags[k] for k in ('kind', 'task', *target_settings()) if k in flags}
    return {**flags, **targets, **SAID}


def flag_of(field):
    return flag_names().get(field, field)


def __getattr__(name):  # FLAGS: the table of the command running, for those who read it whole
    if name == 'FLAGS':
        return flag_names()
    raise AttributeError(name)


# A command's process ends when its command does: frozen, what is left skips the interpreter's last sweep over every
# object (torch, its compiler stack, matplotlib), about a second of every command's exit on a 2-core machine.
atexit.register(gc.freeze)


def spell(field, value):
    """A setting as the flags that give it: ('target.kind', 'rgb') -> '--loss mse', ('target.task', 'superres')
    -> '--task superres', ('target.residual', True) -> '--residual', ('device', 'cuda') -> '--device cuda/--gpu'."""
    if field == 'target.kind':
        return kind_flag(value)
    if value is True or value is None:
        return flag_of(field)
    return '/'.join([f'{flag_of(field)} {value}', *value_flags(field, value)])


def value_flags(field, value):
    """The flags of the command running that set `field` to `value` alone (--gpu: --device cuda)."""
    parser = COMMAND[-1] if COMMAND else shared_parser()
    return [action.option_strings[0] for action in parser._actions
            if action.dest == field and action.nargs == 0 and action.const == value]


def kind_flag(kind):
    """A target kind (targets.TARGETS) as the flag that chooses it: --colour-space where it is learnt in a colour
    space of its own, else --loss."""
    target = TARGETS[kind]
    return f'--colour-space {target.space}' if target.space != 'rgb' else f'--loss {target.criterion}'


def kind_of_flags(space, loss):
    """The target kind --colour-space and --loss choose (None: neither says; the library's default), or a
    UsageError where no kind is learnt so."""
    if space in (None, 'rgb') and loss is None:
        return None
    chosen = [kind for kind, target in TARGETS.items()
              if target.space == (space or 'rgb') and (loss is None or target.criterion == loss)]
    if not chosen:
        said = next(target.classes_said for target in TARGETS.values() if target.space == space)
        raise UsageError(f'--colour-space {space}: {said}; leave out --loss {loss}')
    return chosen[0]


def own_value_fields():
    """The target's settings that take a value (a file, a number), whose refusal is led by their flag."""
    return [f'target.{name}' for name, setting in target_settings().items() if setting.type is not bool]



def in_flag_terms(err, name=None, values=None):
    """A library InputError in flag terms: led by `name`, or by the flag of the first setting at fault where none is
    named or where that setting's own file or value is at fault (with its value from `values`: spell), then the
    message, what it needs, and the flags of the other fields to check. A size too big (TooBig) is led by the flags
    of its settings, and what would fit said in flags."""
    if isinstance(err, TooBig):
        lead = name if name and set(err.fields) <= {'weights', 'init'} else '/'.join(flag_of(f) for f in err.fields)
        fits = ' or '.join(f'{flag_of(f)} {v}' for f, v in err.fits)
        return f'{lead + ": " if lead else ""}{err.stem}{f"; {fits} would fit" if fits else ""}'
    fields = [f for f in err.fields if f != err.source]
    name = name or (flag_of(err.source) if err.source else None)
    about_value = fields and str(err).startswith(f'{fields[0].removeprefix("target.")} ')  # 'kernel 2 is even'
    if fields and (name is None or fields[0] in own_value_fields() or about_value):
        field = fields.pop(0)
        name = spell(field, (values or {}).get(field))
    needs = needed(err)
    values = values or {}
    named = [spell(f, values[f]) if f in values else flag_of(f) for f in fields]
    named = [flag for flag in named if flag != name]  # the flag the line starts with is not said twice
    check = f': check {", ".join(named)}' if named else ''
    return f'{name + ": " if name else ""}{err}{needs}{check}'


def needed(err):
    """What an InputError's setting needs (its `needs`), said in flags: '; it needs --all'."""
    return f'; it needs {" ".join(spell(f, v) for f, v in err.needs.items())}' if err.needs else ''


NAME_MAX = 255  # bytes in one file name, on every common file system


class UsageError(Exception):
    """A bad flag or flag value; the command prints it on one line and exits with status 2."""


@contextlib.contextmanager
def flag(name=None, writes=None, values=None):
    """Library errors inside the block become UsageErrors that start with the flag the input came from (`writes`:
    the flag of the place the block writes to, for a write that fails; see in_flag_terms() for `values`)."""
    try:
        yield
    except WriteError as err:  # led by the place written, else by the setting it names (--download's data/)
        raise UsageError(f'{writes or name}: {err}' if writes or name else in_flag_terms(err, None, values)) from None
    except ConfigMismatch as err:
        raise UsageError(f'{name}: {mismatch(err)}; resume with the same flags') from None
    except InputError as err:
        raise UsageError(in_flag_terms(err, name, values)) from None


def mismatch(err):
    """A ConfigMismatch's differences in flag terms."""
    return '; '.join(f'the saved run had {flag_of(f)} {saved}, this one has {flag_of(f)} {now}'
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
    COMMAND.append(parser)
    try:
        run_parsed(parser, runner, args)
    except SystemExit as end:
        end_torchrun_process(end.code)
        raise
    else:
        end_torchrun_process(0)
    finally:
        COMMAND.pop()


def end_torchrun_process(status):
    """Under torchrun, end the process here with `status`: leave the process group, then exit at once. A normal exit
    tears down torch's and gloo's threads while the DDP model still holds the group (destroy_process_group does not
    free it), and that can abort (SIGABRT, 'terminate called without an active exception': seen once in CI, on rank
    1 while rank 0 was exiting too)."""
    if not distributed.active():
        return
    distributed.leave()
    if status is not None and not isinstance(status, int):  # sys.exit('message'): said, then status 1
        print(status, file=sys.stderr)
        status = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status or 0)


def run_parsed(parser, runner, args):
    """run_command's work once the flags are parsed (see there)."""
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


def an_int(text):
    """A whole number as typed; its bounds are the library's (the function it goes to refuses what is out of
    range, and the command says that refusal led by the flag)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not an integer') from None


def a_float(text):
    """A number as typed; its bounds are the library's."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not a number') from None


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


def library_defaults(parser, function, *keywords):
    """The flags of `keywords` (each its dest) default to `function`'s own defaults for them: each default stated
    once, in the library."""
    parameters = inspect.signature(function).parameters
    parser.set_defaults(**{name: parameters[name].default for name in keywords})


def add_device_flags(parser):
    parser.add_argument('--device', choices=DEVICES, default='auto',
                        help='auto: a CUDA GPU, else Apple\'s MPS, else the CPU')
    parser.add_argument('--gpu', action='store_const', const='cuda', dest='device', help='same as --device cuda')


def add_model_flags(parser, checkpoint_help, models=tuple(MODELS), default_model=None):
    """--model, --checkpoint (also --weights, the library's keyword), -k, -f, -c, and a flag for each network's own
    setting (models.Setting: --<name>): left None when not given (the defaults: ModelConfig's), so that the settings
    of a checkpoint that says what it holds fill them; given ones must agree with it."""
    parser.add_argument('--model', choices=list(models), default=default_model,
                        help=f'default: what --checkpoint holds, else {ModelConfig.name}')
    parser.add_argument('--checkpoint', '--weights', dest='checkpoint', type=a_path, help=checkpoint_help)
    parser.add_argument('-k', '--kernel', type=an_int,
                        help=f'convolution kernel size (odd; default {ModelConfig.kernel})')
    parser.add_argument('-f', '--num-filters', '--num_filters', '--filters', dest='filters', type=an_int,
                        help=f'number of filters (default {ModelConfig.filters})')
    add_target_flag(parser, 'colours')
    for name, setting in network_settings().items():
        parser.add_argument(f'--{name.replace("_", "-")}', type=an_int,
                            help=f'{"/".join(owners(name))}: {setting.help.format(default=setting.default)}')


def network_flags(args):
    """The networks' own settings the flags give (None: not given), as the keywords fit and load take."""
    return {name: getattr(args, name, None) for name in network_settings()}


def add_task_flags(parser, loss=True):
    parser.add_argument('--task', choices=TASKS,
                        help='colour: grey in, colours out; superres: 4x-downsized colour image in, full resolution out')
    if loss:
        parser.add_argument('--loss', choices=list(dict.fromkeys(t.criterion for t in TARGETS.values())),
                            help='ce: cross-entropy over the colour classes (default); mse: predict RGB directly')
    add_target_flag(parser, 'residual')


def add_lab_flags(parser, training=False):
    parser.add_argument('--colour-space', '--color-space', dest='colour_space',
                        choices=list(dict.fromkeys(t.space for t in TARGETS.values())),
                        help='rgb: grey in, k-means colours (-c) out; lab: L in, ab bins (--bins) out (Zhang et al.)')
    for name, setting in target_settings().items():  # the kinds' own settings (-c and --residual: see above)
        if name not in TARGET_FLAGS_ELSEWHERE and (training or not setting.training):
            add_target_flag(parser, name)


TARGET_FLAGS_ELSEWHERE = ('colours', 'residual')  # beside the model's flags and the task's
SETTING_TYPES = {int: an_int, float: a_float, Path: a_path}  # a setting's type as its flag parses it


def add_target_flag(parser, name):
    """The flag of a target kind's own setting, from its declaration (targets.target_settings: models.Setting):
    --<name> or its `flags`, its dest the keyword, None when not given (the library's default then), a bool one
    taking no value; a first spelling of one letter (-c) is said with the others (-c/--colours) in refusals."""
    setting = target_settings()[name]
    spellings = setting.flags or (f'--{name.replace("_", "-")}',)
    kind = ({'action': 'store_true'} if setting.type is bool else
            {'type': SETTING_TYPES[setting.type], **({'metavar': setting.metavar} if setting.metavar else {})})
    action = parser.add_argument(*spellings, dest=name, default=None, **kind,
                                 help=setting.help.format(default=setting.default))
    if not spellings[0].startswith('--'):
        action.said = '/'.join(spellings)  # how errors name it (flag_names), as the handout's users know it


def add_data_flags(parser):
    parser.add_argument('--data', type=a_path, default=str(shipped.DEFAULT_DATA),
                        help='an .npz, cifar-10-python.tar.gz, cifar-10-batches-py/, or a folder of your pictures '
                             '(default: the bundled horses)')
    parser.add_argument('--download', action='store_true', help='fetch the official CIFAR-10 archive into data/')
    parser.add_argument('--category', help=f'class to colour, by name or 0-9: {", ".join(CATEGORIES)}')
    parser.add_argument('--image-size', type=an_int, metavar='N',
                        help='a folder of pictures: bring each to NxN (short side resized, centre cut; N a multiple '
                             'of 4, at least 8)')
    parser.add_argument('--val-share', type=a_float,
                        help='a folder of pictures without train/ and test/: the share held out for validation')
    library_defaults(parser, load_images, 'category', 'image_size', 'val_share')
    parser.set_defaults(prog=parser.prog)


def add_training_flags(parser):
    """How a run trains: TrainConfig's fields, each flag's dest its field, its default TrainConfig's own."""
    parser.add_argument('-l', '--learn-rate', '--learn_rate', dest='learn_rate', type=a_float)
    parser.add_argument('-b', '--batch-size', '--batch_size', dest='batch_size', type=an_int)
    parser.add_argument('-e', '--epochs', type=an_int)
    parser.add_argument('-s', '--seed', type=an_int)
    parser.add_argument('--amp', nargs='?', const='on', choices=PRECISIONS,
                        help='bfloat16 mixed precision (autocast): auto uses it only where the device has bfloat16 '
                             'arithmetic (recipes ask for auto); --amp alone is on (emulated, slow, on a CPU without '
                             'it)')
    parser.add_argument('--no-amp', dest='amp', action='store_const', const='off', help='same as --amp off')
    parser.add_argument('--compile', action='store_true', help='torch.compile the model (pays off for long runs)')
    parser.add_argument('--lr-schedule', choices=LR_SCHEDULES,
                        help='constant (the assignment), or annealed to zero over the run on a cosine or a line')
    parser.add_argument('--warmup', type=a_float, metavar='EPOCHS',
                        help='raise the learning rate linearly from near zero over this many epochs first')
    parser.add_argument('--ema', type=a_float, metavar='DECAY',
                        help='evaluate and keep an exponential moving average of the weights (e.g. 0.99; 0: none)')
    parser.add_argument('--label-smoothing', type=a_float, metavar='EPS',
                        help='colour classes: train against targets smoothed by EPS (0: none)')
    parser.add_argument('--weight-decay', type=a_float, help='decoupled (AdamW) weight decay')
    parser.add_argument('--augment', type=augmentation_list,
                        help=f'random {", ".join(AUGMENTATIONS)} of the training images, comma-separated, or none '
                             '(to take away a recipe\'s)')
    parser.add_argument('--save-every', type=an_int,
                        help='write outputs/<experiment>/resume.pt every N epochs (and after the last)')
    parser.set_defaults(**{f.name: f.default for f in dataclasses.fields(TrainConfig)})  # the library's defaults


def add_run_flags(parser):
    """Where a run starts from and writes: --init, --plot, --experiment-name, --resume, --overwrite, --sync-bn."""
    parser.add_argument('--init', metavar='CHECKPOINT', type=a_path,
                        help='start training from these weights (fine-tuning, e.g. the shipped ones on your pictures)')
    parser.add_argument('--plot', '--epoch-samples', dest='epoch_samples', action='store_true',
                        help='write a sample grid after every epoch')
    parser.add_argument('--experiment-name', '--experiment_name', dest='experiment_name', type=folder_name,
                        help='folder under outputs/, a plain name (default: model_k<kernel>_f<filters>)')
    parser.add_argument('--resume', action='store_true',
                        help='continue the run saved in outputs/<experiment>/resume.pt (same flags)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing --checkpoint, or start an experiment folder that holds a run again')
    parser.add_argument('--sync-bn', action='store_true',
                        help='under torchrun on GPUs: BatchNorm statistics over the global batch (SyncBatchNorm)')


def shared_parser():
    """A parser with every shared flag, as training has them: where no command runs, its flags name the settings."""
    parser = OneLineParser()
    add_model_flags(parser, 'weights')
    add_task_flags(parser)
    add_training_flags(parser)
    add_run_flags(parser)
    add_device_flags(parser)
    add_lab_flags(parser, training=True)
    add_data_flags(parser)
    return parser


@contextlib.contextmanager
def places(*fields, values=None, said=None):
    """flag() around one library call whose keywords `fields` are places or arguments the command names by its own
    flags (out_dir: '-o/--out-dir'; paths: the positional 'PATH', as the parser spells them), and `said` ({keyword:
    words}) those it sets itself (activations' runs_dir): a refusal about one is led by its flag or words, a file
    there already says that --overwrite replaces it; the rest as flag() says them (see in_flag_terms for
    `values`)."""
    spelled = {action.dest: '/'.join(action.option_strings[:2]) or action.metavar or action.dest
               for action in COMMAND[-1]._actions if action.dest in fields}
    spelled.update(said or {})
    try:
        yield
    except InputError as err:
        place = spelled.get(err.fields[0]) if err.fields and not (err.source or isinstance(err, TooBig)) else None
        if place is None:
            with flag(values=values):
                raise
        hint = '; give --overwrite to replace it' if isinstance(err, FileExists) else ''
        others = [spelled.get(f) or flag_of(f) for f in err.fields[1:]]
        raise UsageError(f'{place}: {err}{needed(err)}{hint}{": check " + ", ".join(others) if others else ""}') \
            from None
