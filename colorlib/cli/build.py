"""Flags to the library's objects: the target, the model's config, the images, the device, the weights' files, and
every output place checked before the work starts."""
import os
import sys
from pathlib import Path

import numpy as np
import torch

from colorlib import distributed, machine, shipped
from colorlib.checkpoints import read_palette
from colorlib.cli.common import UsageError, flag
from colorlib.colours import fit_colours, load_colours
from colorlib.data import download_cifar10, is_cifar10, load_cifar10, parse_category, select_category
from colorlib.errors import FileExists, WriteError
from colorlib.files import check_writable
from colorlib.folders import image_files, load_folder
from colorlib.lab import fit_bins, load_bins
from colorlib.memory import available_memory, largest_fitting, training_bytes
from colorlib.models import ModelConfig
from colorlib.report import weights_name
from colorlib.targets import RGB, ColourClasses, LabBins


def saved_palette(args):
    """The colours or bins stored with the weights the run starts from or looks at (--init when training, else
    --checkpoint) by a run that fitted its own on a folder of pictures; {} for weights on a file's colours."""
    training = hasattr(args, 'valid') and not args.valid
    name = '--init' if training else '--checkpoint'
    weights = getattr(args, name.strip('-'), None)
    if not weights or not Path(weights).is_file():
        return {}  # no weights, or the shipped ones: the load says what is wrong with a missing file
    with flag(name):
        return read_palette(weights)


def fitted_file(checkpoint, kind):
    """Where a run that fitted its own colours or bins also writes them in the assignment's file format, for -c or
    --bins: beside its weights, mine.pkl -> mine.colours.npy."""
    return Path(checkpoint).with_suffix(f'.{kind}.npy')


def make_target(args, fit_on=None):
    """What the network learns, from --loss, --task, --colour-space and their files. fit_on: training images to fit
    the colours (k-means, 24) or Lab bins on when no file is given (a folder of the user's own pictures). Without
    either, the colours stored with the weights (saved_palette), else the shipped ones."""
    loss, space, task = getattr(args, 'loss', None), getattr(args, 'colour_space', 'rgb'), getattr(args, 'task', 'colour')
    if args.model == 'RegressionCNN':
        if loss == 'ce':
            raise UsageError('--loss ce: the RegressionCNN predicts RGB; use --loss mse or a CNN, UNet or DUNet')
        loss = 'mse'
    residual = getattr(args, 'residual', False)
    if residual and (task != 'superres' or loss != 'mse'):
        raise UsageError('--residual: a correction to bicubic upsampling is for --task superres with --loss mse')
    if space == 'lab':
        if task == 'superres' or loss == 'mse':
            raise UsageError('--colour-space lab: the ab bins are classes for colourization; use a CNN, UNet or DUNet '
                             'without --task superres or --loss mse')
        saved = {} if args.bins or fit_on is not None else saved_palette(args)
        if fit_on is not None and not args.bins:
            with flag('--data'):
                centres, prior = (torch.from_numpy(part).float() for part in fit_bins(fit_on))
        elif 'bins.centres' in saved:
            centres, prior = saved['bins.centres'], saved['bins.prior']
        else:
            with flag('--bins'):
                centres, prior = load_bins(args.bins or shipped.DEFAULT_BINS)
        with flag('--rebalance'):
            return LabBins(centres, prior, getattr(args, 'rebalance', None), getattr(args, 'soft_encode', False),
                           args.temperature)
    if loss == 'mse':
        return RGB(task, residual)
    saved = {} if args.colours or fit_on is not None else saved_palette(args)
    if fit_on is not None and not args.colours:
        with flag('--data'):
            return ColourClasses(torch.from_numpy(fit_colours(fit_on, 24, sample=200_000)[0]).float(), task)
    if 'colours.centres' in saved:
        return ColourClasses(saved['colours.centres'], task)
    with flag('-c/--colours'):
        return ColourClasses(load_colours(args.colours or shipped.DEFAULT_COLOURS), task)


def model_config(args, target, device, batch_size=100, side=32):
    """The model the flags describe, refused up front if training it on batches of `side`-pixel images would not fit
    in the device's memory."""
    config = ModelConfig(args.model, args.kernel, args.num_filters, target.out_channels, target.in_channels,
                         args.dilation)
    need, free = training_bytes(config, batch_size, side), available_memory(device)
    if need > free:
        fits = [f'{flag} {value}' for flag, field in (('-f', 'filters'), ('-k', 'kernel'))
                if (value := largest_fitting(config, field, batch_size, free, side)) is not None]
        raise UsageError(f'-f/-k: a {args.model} with {args.num_filters} filters of {args.kernel}x{args.kernel} needs '
                         f'about {need / 1e9:.3g} GB to train, more than the {free / 1e9:.1f} GB free on {device.type}'
                         + (f'; {" or ".join(fits)} would fit' if fits else ''))
    return config


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
    """Every file a command reads, so that none is ever written over: --data (and each picture of a --data folder),
    -c, --bins, --init, the shipped colours and bins it falls back on, and `more` (e.g. the weights it looks at)."""
    data = getattr(args, 'data', None)
    files = [p for p in (data, getattr(args, 'colours', None), getattr(args, 'bins', None),
                         getattr(args, 'init', None), *more) if p]
    files += [shipped.DEFAULT_COLOURS, shipped.DEFAULT_BINS]
    if data and os.path.isdir(data):
        files += image_files(data)
    return files


def checkpoint_path(args, target):
    """--checkpoint, or the shipped weights of the model the flags describe."""
    if args.checkpoint:
        return args.checkpoint
    with flag('--checkpoint'):
        return str(shipped.weights(weights_name(args.model, target, args.kernel, args.num_filters)))


def load_images(args, device=torch.device('cpu')):
    """Train and test images of the chosen category (training also on any extra categories), downloading the
    official archive into ./data first if asked; or the pictures of a folder (--data FOLDER), cached in
    outputs/cache/, refused up front if they would not fit in the memory of the host and of the `device` they go
    to."""
    with flag('--download'):
        data = download_cifar10(Path('data')) if args.download else args.data
    if not is_cifar10(data):
        if args.image_size % 4:
            raise UsageError(f'--image-size: {args.image_size} is not a multiple of 4')

        def skipped(path, reason):
            if distributed.rank() == 0:  # once, not once a process
                print(f'{args.prog}: skipped {path}: {reason}', file=sys.stderr)
        with flag('--data'):
            train_x, test_x, summary = load_folder(data, args.image_size, args.val_share, 0, Path('outputs') / 'cache',
                                                   skipped, min(map(available_memory, {torch.device('cpu'), device})))
        if distributed.rank() == 0:
            print(summary)
        return train_x, test_x
    with flag('--data'):
        arrays = load_cifar10(data)
    if args.image_size != 32:
        raise UsageError(f'--image-size {args.image_size}: CIFAR-10 images are 32x32; the size applies to a folder of '
                         'your pictures (--data FOLDER)')
    with flag('--category'):
        category = parse_category(args.category)
        train_x, test_x = select_category(arrays, category, data)
    with flag('--extra-categories'):
        extra = [select_category(arrays, other, data)[0] for other in getattr(args, 'extra_categories', [])
                 if other != category]
    return np.concatenate([train_x, *extra]), test_x


def pick_device(name):
    with flag(f'--device {name}' + ('/--gpu' if name == 'cuda' else '')):
        return machine.pick_device(name)
