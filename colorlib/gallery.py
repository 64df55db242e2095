"""The activations of one test image (`colorlib activations`): of one model (activations), or of every shipped kind
of model at once (all_activations, `--all`), from the shipped weights or from a folder of weights named as they
are."""
from pathlib import Path

import numpy as np

from colorlib import shipped
from colorlib.api import check_reads, device_of, files_read, open_model, open_weights
from colorlib.checkpoints import read_about
from colorlib.data import CATEGORY, IMAGE_SIZE, VAL_SHARE, check_image_settings, load_images
from colorlib.errors import InputError, check_flag, check_keywords, check_path, with_fields
from colorlib.models import ModelConfig
from colorlib.naming import run_name, weights_name
from colorlib.reconcile import load_settings
from colorlib.targets import TargetConfig, noted_fields


def shipped_kinds():
    """(model name, TargetConfig) of every shipped weights file, as the files say, in the order they are drawn."""
    kinds = []
    for path in sorted(shipped.folder('weights').glob('*.pkl')):
        about = with_fields(['weights_dir'], read_about, path)
        kinds.append((about['model'].name, TargetConfig(**{k: about['target'][k] for k in noted_fields()})))
    return kinds


def activations(image=0, weights=None, *, every_kind=False, weights_dir=None, data=None, download=False,
                category=CATEGORY, image_size=IMAGE_SIZE, val_share=VAL_SHARE, cache_dir=None, on_skip=None,
                runs_dir='outputs', device='cpu', log=None, **settings):
    """Every block's activations of test image number `image` of `data` and `category` (load_images, with download,
    image_size, val_share, cache_dir, on_skip and log) drawn into runs_dir/<network>/act<image> (Model.activations):
    those of the weights file `weights` (None: the shipped weights that the model's and target's `settings` name, as
    load takes them), or with every_kind those of every shipped kind of model whose weights are in weights_dir
    (all_activations; default: the shipped ones). Every setting is checked before any file is read.
    log(line) hears each folder written. Returns the folders written."""
    check_keywords(settings, load_settings(), 'activations')
    check_activations_arguments(locals())
    check_image_settings(data, (), image_size, val_share, cache_dir, on_skip, log, download)
    device = device_of(device)
    model = None if every_kind else open_model(weights, device, settings)  # the file before the pictures
    test_x = load_images(data, category, (), image_size, val_share, cache_dir, on_skip, log=log, device=device,
                         download=download)[1]
    reads = files_read(data, download, settings)
    if model is None:
        return all_activations(image, weights_dir, runs_dir=runs_dir, test_x=test_x, device=device, reads=reads,
                               log=log, **settings)
    return [draw(model, image, runs_dir, test_x, reads, log)]


def check_activations_arguments(given):
    """activations()' own arguments (its locals() on entry), naming the keyword: one weights file, or every kind's
    from weights_dir."""
    check_flag(given['every_kind'], 'every_kind')
    if given['every_kind'] and given['weights'] is not None:
        raise InputError('every kind is drawn from its own file in weights_dir, not from one weights file',
                         ['weights', 'every_kind'])
    if given['weights_dir'] is not None and not given['every_kind']:
        raise InputError('weights_dir is read only when every kind is drawn', ['weights_dir'], {'every_kind': True})
    check_path(given['weights_dir'], 'weights_dir', optional=True)
    check_path(given['runs_dir'], 'runs_dir')
    if not isinstance(given['image'], (int, np.integer)) or isinstance(given['image'], bool):
        raise InputError(f'image must be the number of a test image, not {given["image"]!r}', ['image'])


def all_activations(image=0, weights_dir=None, kernel=None, filters=None, runs_dir='outputs', test_x=None,
                    device='cpu', reads=(), log=None, **settings):
    """Model.activations(image, runs_dir=...) of every shipped kind of model whose weights are in weights_dir
    (default: the shipped ones), named as they are (<run name>_k<kernel>_f<filters>.pkl, ModelConfig's sizes where
    not given); `settings`: what else the weights are opened with (api.open_weights: colours, temperature, ...).
    log(line) hears each folder written and each kind skipped for want of its file. Returns the folders written;
    a weights_dir with none of them is an InputError naming it."""
    check_path(weights_dir, 'weights_dir', optional=True)
    check_reads(reads)
    folder = Path(weights_dir) if weights_dir is not None else shipped.folder('weights')
    sizes = ModelConfig(**{k: v for k, v in dict(kernel=kernel, filters=filters).items() if v is not None})
    written = []
    for model, target in shipped_kinds():
        path = folder / f'{weights_name(model, target, sizes.kernel, sizes.filters)}.pkl'
        if not path.is_file():
            if log is not None:
                log(f'Skipped {model} ({run_name(model, target)}): no {path}')
            continue
        try:
            opened = open_weights(path, kernel=kernel, filters=filters, device=device, **settings)
        except InputError as err:  # the file found in weights_dir, and the settings it names where it refuses them
            err.source = err.source or 'weights_dir'
            raise
        written.append(draw(opened, image, runs_dir, test_x, reads, log))
    if not written:
        raise InputError(f'no weights for every shipped model in {folder} (e.g. unet_k{sizes.kernel}_f{sizes.filters}'
                         '.pkl)', ['weights_dir'])
    return written


def draw(model, image, runs_dir, test_x, reads, log):
    """Model.activations of test image number `image` into its folder in runs_dir, that folder said to `log`."""
    folder = model.activations(image, reads=reads, runs_dir=runs_dir, test_x=test_x)
    if log is not None:
        log(f'Activations of test image {image} written to {folder}/')
    return folder
