"""Flags to the library's objects: the target, the model's config, the images, the device, the weights' files, and
every output place checked before the work starts."""
import sys
from pathlib import Path

import numpy as np
import torch

from colorlib import shipped
from colorlib.cli.common import UsageError, flag
from colorlib.colours import fit_colours, load_colours
from colorlib.data import download_cifar10, is_cifar10, load_cifar10, parse_category, select_category
from colorlib.files import check_writable
from colorlib.folders import load_folder
from colorlib.lab import fit_bins, load_bins
from colorlib.memory import available_memory, largest_fitting, training_bytes
from colorlib.models import ModelConfig
from colorlib.report import run_name
from colorlib.targets import RGB, ColourClasses, LabBins


def colour_file(args, kind, default):
    """The colour (kind 'colours') or bins file of a run: the flag's, else the one saved beside the weights the run
    starts from or looks at (--init when training, else --checkpoint) by the run that made them (fitted_file), else
    the shipped one."""
    if getattr(args, kind):
        return getattr(args, kind)
    training = hasattr(args, 'valid') and not args.valid
    weights = getattr(args, 'init', None) if training else getattr(args, 'checkpoint', None)
    beside = fitted_file(weights, kind) if weights else None
    return str(beside) if beside is not None and beside.is_file() else str(default)


def fitted_file(checkpoint, kind):
    """Where a run that fitted its own colours or bins keeps them: beside its weights, mine.pkl -> mine.colours.npy."""
    return Path(checkpoint).with_suffix(f'.{kind}.npy')


def make_target(args, fit_on=None):
    """What the network learns, from --loss, --task, --colour-space and their files. fit_on: training images to fit
    the colours (k-means, 24) or Lab bins on when no file is given (a folder of the user's own pictures)."""
    loss, space, task = getattr(args, 'loss', None), getattr(args, 'colour_space', 'rgb'), getattr(args, 'task', 'colour')
    if args.model == 'RegressionCNN':
        if loss == 'ce':
            raise UsageError('--loss ce: the RegressionCNN predicts RGB; use --loss mse or a CNN, UNet or DUNet')
        loss = 'mse'
    if space == 'lab':
        if task == 'superres' or loss == 'mse':
            raise UsageError('--colour-space lab: the ab bins are classes for colourization; use a CNN, UNet or DUNet '
                             'without --task superres or --loss mse')
        if fit_on is not None and not args.bins:
            centres, prior = (torch.from_numpy(part).float() for part in fit_bins(fit_on))
        else:
            with flag('--bins'):
                centres, prior = load_bins(colour_file(args, 'bins', shipped.DEFAULT_BINS))
        with flag('--rebalance'):
            return LabBins(centres, prior, getattr(args, 'rebalance', None), getattr(args, 'soft_encode', False),
                           args.temperature)
    if loss == 'mse':
        return RGB(task)
    if fit_on is not None and not args.colours:
        return ColourClasses(torch.from_numpy(fit_colours(fit_on, 24, sample=200_000)[0]).float(), task)
    with flag('-c/--colours'):
        return ColourClasses(load_colours(colour_file(args, 'colours', shipped.DEFAULT_COLOURS)), task)


def model_config(args, target, device, batch_size=100):
    """The model the flags describe, refused up front if training it would not fit in the device's memory."""
    config = ModelConfig(args.model, args.kernel, args.num_filters, target.out_channels, target.in_channels,
                         args.dilation)
    need, free = training_bytes(config, batch_size), available_memory(device)
    if need > free:
        fits = [f'{flag} {value}' for flag, field in (('-f', 'filters'), ('-k', 'kernel'))
                if (value := largest_fitting(config, field, batch_size, free)) is not None]
        raise UsageError(f'-f/-k: a {args.model} with {args.num_filters} filters of {args.kernel}x{args.kernel} needs '
                         f'about {need / 1e9:.3g} GB to train, more than the {free / 1e9:.1f} GB free on {device.type}'
                         + (f'; {" or ".join(fits)} would fit' if fits else ''))
    return config


def same_file(a, b):
    a, b = Path(a), Path(b)
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def check_output(path, name, inputs=(), overwrite=False, hint='give --overwrite to replace it'):
    """Before any work: `path` (set by flag `name`) replaces none of the run's `inputs`, replaces no existing file
    unless `overwrite`, and can be written."""
    clash = next((i for i in inputs if same_file(path, i)), None)
    if clash is not None:
        raise UsageError(f'{name}: {path} is an input of this run ({clash}); write somewhere else')
    if Path(path).is_file() and not overwrite:
        raise UsageError(f'{name}: {path} exists; {hint}')
    with flag(name):
        check_writable(path)


def checkpoint_path(args, target):
    """--checkpoint, or the shipped weights of the model the flags describe."""
    if args.checkpoint:
        return args.checkpoint
    with flag('--checkpoint'):
        return str(shipped.weights(f'{run_name(args.model, target)}_k{args.kernel}_f{args.num_filters}'))


def load_images(args):
    """Train and test images of the chosen category (training also on any extra categories), downloading the
    official archive into ./data first if asked; or the pictures of a folder (--data FOLDER), cached in
    outputs/cache/."""
    with flag('--download'):
        data = download_cifar10(Path('data')) if args.download else args.data
    if not is_cifar10(data):
        if args.image_size % 4:
            raise UsageError(f'--image-size: {args.image_size} is not a multiple of 4')

        def skipped(path, reason):
            print(f'{args.prog}: skipped {path}: {reason}', file=sys.stderr)
        with flag('--data'):
            train_x, test_x, summary = load_folder(data, args.image_size, args.val_share, 0, Path('outputs') / 'cache',
                                                   skipped, available_memory(torch.device('cpu')))
        print(summary)
        return train_x, test_x
    with flag('--data'):
        arrays = load_cifar10(data)
    with flag('--category'):
        train_x, test_x = select_category(arrays, parse_category(args.category), data)
        extra = [select_category(arrays, category, data)[0] for category in getattr(args, 'extra_categories', [])]
    return np.concatenate([train_x, *extra]), test_x


def pick_device(name):
    if name == 'auto':
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    if name == 'cuda' and not torch.cuda.is_available():
        raise UsageError('--device cuda/--gpu: no CUDA device is available here; use --device cpu')
    return torch.device(name)
