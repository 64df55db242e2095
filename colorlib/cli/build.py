"""Flags to the library's objects: the target, the model's config, the images, the device, the weights' files, and
every output place checked before the work starts."""
import argparse
import sys
from pathlib import Path

import torch

from colorlib import api, distributed, machine, shipped
from colorlib.cli.common import MODEL_DEFAULTS, UsageError, flag, with_model_defaults
from colorlib.data import download_cifar10
from colorlib.errors import FileExists, WriteError
from colorlib.files import check_writable
from colorlib.memory import available_memory
from colorlib.naming import weights_name
from colorlib.targets import build_target


def target_settings(args):
    """The TargetConfig settings the flags give (None: not given): the kind from --loss and --colour-space."""
    space, loss = getattr(args, 'colour_space', None), getattr(args, 'loss', None)
    if space == 'lab' and loss == 'mse':
        raise UsageError('--colour-space lab: the ab bins are classes; leave out --loss mse')
    kind = 'lab' if space == 'lab' else {'mse': 'rgb', 'ce': 'classes'}.get(loss)
    return {'kind': kind, 'task': getattr(args, 'task', None), 'colours': args.colours,
            'bins': getattr(args, 'bins', None),
            'residual': getattr(args, 'residual', None) or None, 'rebalance': getattr(args, 'rebalance', None),
            'soft': getattr(args, 'soft_encode', None) or None, 'temperature': getattr(args, 'temperature', None)}


def target_config(args):
    """The TargetConfig of the flags (the model's and target's defaults where not given)."""
    settings = target_settings(args)
    with flag(values={'target.kind': settings['kind'] or 'classes', 'target.task': settings['task'] or 'colour'}):
        return api.target_config(args.model or MODEL_DEFAULTS['model'], **settings)


def make_target(args, fit_on=None, palette=None):
    """What the network learns, from --loss, --task, --colour-space and their files. fit_on: training images to fit
    the colours (k-means, 24) or Lab bins on when no file is given (a folder of the user's own pictures). Without
    either, the `palette` stored with the weights the run starts from, else the shipped ones."""
    config = target_config(args)
    with flag(values={'target.kind': config.kind}):
        return build_target(config, fit_on, palette)


def model_config(args, target):
    """The model the flags describe (whether it fits in memory is the library's check, made before it is built)."""
    with flag('--model'):
        return api.model_config(target, name=args.model, kernel=args.kernel, filters=args.num_filters,
                                dilation=args.dilation)


def open_model(args, device):
    """The Model of --checkpoint (default: the shipped weights the flags name): what the file says it holds, the
    flags given filling what it does not say (the assignment's files) and refused where they contradict it."""
    config = target_config(args)  # what the flags alone tell, before the checkpoint is read
    if args.kernel or args.num_filters or config.colours or config.bins:  # files and sizes given are checked first
        with flag(values={'target.kind': config.kind}):
            target = build_target(config)
        model_config(with_model_defaults(argparse.Namespace(**vars(args))), target)
    path = checkpoint_path(args)
    return path, open_weights(args, path, '--checkpoint', device)


def open_weights(args, path, name, device):
    """The Model in the weights `path` (given by flag `name`): what the file says it holds (our files), the flags
    given filling what it does not say (the assignment's files) and refused where they contradict it."""
    settings = target_settings(args)
    with flag(name, values={'target.kind': settings['kind'] or 'classes'}):
        return api.open_weights(path, model=args.model, kernel=args.kernel, filters=args.num_filters,
                                dilation=args.dilation, device=device, **settings)


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


def read_files(args, *more):
    """Every file a command reads, so that none is ever written over (colorlib.api.read_files: --data and each
    picture of a --data folder, -c, --bins, --init, the shipped colours and bins), and `more` (e.g. the weights it
    looks at)."""
    return api.read_files(getattr(args, 'data', None), getattr(args, 'colours', None), getattr(args, 'bins', None),
                          getattr(args, 'init', None)) + [p for p in more if p]


def checkpoint_path(args):
    """--checkpoint, or the shipped weights of the model the flags describe (the defaults where not given)."""
    if args.checkpoint:
        return args.checkpoint
    name = weights_name(args.model or MODEL_DEFAULTS['model'], target_config(args),
                        args.kernel or MODEL_DEFAULTS['kernel'], args.num_filters or MODEL_DEFAULTS['num_filters'])
    with flag('--checkpoint'):
        return str(shipped.weights(name))


def load_images(args, device=torch.device('cpu')):
    """Train and test images of the chosen category (training also on any extra categories), downloading the
    official archive into ./data first if asked; or the pictures of a folder (--data FOLDER), cached in
    outputs/cache/, refused up front if they would not fit in the memory of the host and of the `device` they go
    to (colorlib.api.load_images)."""
    with flag('--download'):
        data = download_cifar10(Path('data')) if args.download else args.data

    def skipped(path, reason):
        if distributed.rank() == 0:  # once, not once a process
            print(f'{args.prog}: skipped {path}: {reason}', file=sys.stderr)
    with flag():
        return api.load_images(data, args.category, getattr(args, 'extra_categories', []), args.image_size,
                          args.val_share, Path('outputs') / 'cache', skipped,
                          min(map(available_memory, {torch.device('cpu'), device})),
                          log=print if distributed.rank() == 0 else None)


def pick_device(name):
    with flag(f'--device {name}' + ('/--gpu' if name == 'cuda' else '')):
        return machine.pick_device(name)
