"""Flags to the library's keywords and calls the commands share: the target's settings, the weights to open, the
images, the device, and every output place checked before the work starts."""
import sys
from pathlib import Path

import torch

from colorlib import api, distributed, machine, reconcile, runfolder
from colorlib.cli.common import DEFAULT, UsageError, flag, kind_of_flags, network_flags
from colorlib.data import download_cifar10
from colorlib.errors import FileExists, WriteError
from colorlib.files import check_writable
from colorlib.targets import TargetConfig
from colorlib.targets import target_settings as declared_target_settings


def target_settings(args):
    """The TargetConfig settings the flags give (None: not given): the kind from --loss and --colour-space."""
    kind = kind_of_flags(getattr(args, 'colour_space', None), getattr(args, 'loss', None))
    return {'kind': kind, 'task': getattr(args, 'task', None),
            **{name: getattr(args, name, None) for name in declared_target_settings()}}  # each flag's dest: its setting


def target_from_flags(args):
    """The TargetConfig of the flags (the model's and target's defaults where not given)."""
    settings = target_settings(args)
    with flag(values={'target.kind': settings['kind'] or TargetConfig.kind,
                      'target.task': settings['task'] or TargetConfig.task}):
        return reconcile.target_config(args.model or DEFAULT.name, **settings)


def open_model(args, device):
    """(path, Model) of --checkpoint, or of the shipped weights the flags name (colorlib.reconcile.open_weights): what
    the file says it holds, the flags given filling what it does not say (the assignment's files) and refused where
    they contradict it."""
    settings = target_settings(args)
    model_settings = dict(model=args.model, kernel=args.kernel, filters=args.filters, **network_flags(args))
    with flag('--checkpoint', values={'target.kind': settings['kind'] or TargetConfig.kind}):
        path = args.checkpoint or str(reconcile.shipped_weights(**model_settings, **settings))
        return path, api.open_weights(path, **model_settings, device=device, **settings)


def check_output(path, name, inputs=(), overwrite=False, hint='give --overwrite to replace it'):
    """Before any work: `path` (set by flag `name`) may be written by colorlib.files' one rule (none of the run's
    `inputs`, no existing file unless `overwrite`, and then only a regular file) and its folder takes a new file.
    The writers ask the same rule again at the moment of writing."""
    try:
        check_writable(path, overwrite, inputs)
    except FileExists as err:
        raise UsageError(f'{name}: {err}; {hint}') from None
    except WriteError as err:
        raise UsageError(f'{name}: {err}') from None


def files_read(args, *more):
    """Every file a command reads, so that none is ever written over (colorlib.runfolder.read_files: --data and each
    picture of a --data folder, -c, --bins, --init, the shipped colours and bins), and `more` (e.g. the weights it
    looks at)."""
    return runfolder.read_files(getattr(args, 'data', None), getattr(args, 'colours', None), getattr(args, 'bins', None),
                          getattr(args, 'init', None)) + [p for p in more if p]


def data_path(args):
    """--data, or the official archive fetched into ./data first with --download."""
    with flag('--download'):
        return download_cifar10(Path('data')) if args.download else args.data


def skipped(args):
    """What is said of a picture of a --data folder that cannot be used: once, not once a process."""
    def say(path, reason):
        if distributed.rank() == 0:
            print(f'{args.prog}: skipped {path}: {reason}', file=sys.stderr)
    return say


def read_images(args, device=torch.device('cpu')):
    """Train and test images of the chosen category (training also on any extra categories), or the pictures of a
    folder (--data FOLDER), cached in outputs/cache/, refused up front if they would not fit in the memory of the
    host and of the `device` they go to (colorlib.data.load_images)."""
    data = data_path(args)
    with flag():
        return api.load_images(data, args.category, getattr(args, 'extra_categories', []), args.image_size,
                               args.val_share, Path('outputs') / 'cache', skipped(args), device=device,
                               log=print if distributed.rank() == 0 else None)


def pick_device(name):
    with flag(f'--device {name}' + ('/--gpu' if name == 'cuda' else '')):
        return machine.pick_device(name)
