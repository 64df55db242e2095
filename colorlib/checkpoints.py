"""Plain state_dict weights in the assignment's layout, and resumable training states with the description of their
run, both written atomically and read with weights_only=True."""
import warnings
from dataclasses import asdict

import torch

from colorlib import distributed
from colorlib.errors import ConfigMismatch, InputError
from colorlib.files import atomic_write, require_file
from colorlib.targets import digest

RESUMABLE_PARTS = ('model', 'optimizer', 'scheduler', 'rng', 'epoch', 'position', 'history', 'run')
FREE_ON_RESUME = ('compile', 'save_every')  # settings a resumed run may change: they do not change the result


PALETTE_KEYS = ('colours.', 'bins.')  # a target's palette stored beside the weights (Target.palette_state)


def save_weights(model, path, palette=None, replace=False, reads=()):
    """The model's state_dict, written atomically; BatchNorm's num_batches_tracked counters are left out, as in
    the assignment's own files. `palette`: the colours of a run that fitted its own (Target.palette_state()),
    stored with the weights so that they are never used with other colours. `replace`, `reads`: as for
    colorlib.files.atomic_write."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items() if not k.endswith('num_batches_tracked')}
    state.update({k: v.detach().cpu() for k, v in (palette or {}).items()})
    return atomic_write(path, lambda f: torch.save(state, f), replace, reads)


def read_palette(path):
    """The palette stored with the weights in `path` ({} for the assignment's files and ours on its colours)."""
    palette = {k: v for k, v in read_weights(path).items() if k.startswith(PALETTE_KEYS)}
    shapes = {k: tuple(v.shape) for k, v in palette.items()}
    colours, bins = shapes.get('colours.centres'), shapes.get('bins.centres')
    if (colours and (len(colours) != 2 or colours[1] != 3 or colours[0] < 2) or bins and (
            len(bins) != 2 or bins[1] != 2 or bins[0] < 2 or shapes.get('bins.prior') != bins[:1])):
        raise InputError(f'{path} holds a palette of shapes {shapes}, expected (k, 3) colours or (K, 2) bins and (K,)')
    return palette


def _load_safely(path):
    """torch.load(weights_only=True) of `path` onto the CPU; an InputError for a missing or corrupt file."""
    path = require_file(path)
    try:
        # weights_only=True runs no code, so any exception just means garbage; random bytes give IndexError,
        # KeyError, UnicodeDecodeError... and a pickle-protocol UserWarning that would break the one-line error.
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return torch.load(path, map_location='cpu', weights_only=True)
    except Exception as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InputError(f'cannot read {path}: {reason[:200]}') from None


def read_weights(path):
    """The state_dict in `path`, on the CPU; an InputError for a missing, corrupt or foreign file, or one holding
    non-finite numbers."""
    state = _load_safely(path)
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise InputError(f'{path} is not a plain state_dict of tensors')
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise InputError(f'{path} holds non-finite numbers (NaN or infinity) in {bad[0]}')
    return state


SUMMARY_FIELDS = ('name', 'kernel', 'filters', 'colours', 'in_channels')  # ModelConfig's fields the shapes tell


def summarize(state):
    """What a state_dict holds, read off its shapes: (model, kernel, filters, outputs, input channels), or None
    if unknown. UNet and DUNet have the same shapes, and so do a CNN and a RegressionCNN with 3 colours."""
    try:
        first, up1, outputs = state['downconv1.0.weight'], state['upconv1.0.weight'], state['finalconv.bias']
    except KeyError:
        return None
    filters, in_channels, kernel, outputs = first.shape[0], first.shape[1], first.shape[-1], outputs.numel()
    if up1.shape[1] == 4 * filters:
        model = 'UNet/DUNet'
    else:
        model = 'RegressionCNN' if outputs == 3 else 'CNN'
    return model, kernel, filters, outputs, in_channels


def describe(summary):
    model, kernel, filters, outputs, in_channels = summary
    what = 'RGB' if outputs == 3 else f'{outputs} colours'
    task = ' for super-resolution' if in_channels == 3 else ''
    return f'{model} (k={kernel}, f={filters}, {what}){task}'


def load_weights(model, path):
    """Load `path` into `model` (strict); on a mismatch an InputError whose fields name the ModelConfig fields
    that disagree with the file."""
    state = {k: v for k, v in read_weights(path).items() if not k.startswith(PALETTE_KEYS)}
    found, wanted = summarize(state), summarize(model.state_dict())
    if found is None:
        raise InputError(f'{path} is not a colorlib or assignment checkpoint (no downconv1/upconv1/finalconv)')
    if found != wanted:
        fields = [field for field, a, b in zip(SUMMARY_FIELDS, found, wanted) if a != b]
        raise InputError(f'{path} holds a {describe(found)} checkpoint but {describe(wanted)} is asked for', fields)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise InputError(f'{path} does not fit {describe(wanted)}: {str(err).splitlines()[-1].strip()[:200]}') from None
    return model


def save_resumable(state, path, replace=False):
    """A training state (tensors, numbers, strings and plain containers only, so that it reads back with
    weights_only=True), written atomically like the weights."""
    return atomic_write(path, lambda f: torch.save(state, f), replace)


def read_resumable(path):
    """The training state save_resumable wrote; an InputError for a missing, foreign or incomplete file."""
    state = _load_safely(path)
    if not isinstance(state, dict) or not {'model', 'optimizer'} & state.keys():
        raise InputError(f'{path} is not a resumable training state')
    missing = [part for part in RESUMABLE_PARTS if part not in state]
    if missing:
        raise InputError(f'{path} is an incomplete training state (it lacks {", ".join(missing)})')
    weights = state['model'] if isinstance(state['model'], dict) else {}
    if not all(torch.isfinite(v).all() for v in weights.values() if torch.is_tensor(v) and v.is_floating_point()):
        raise InputError(f'{path} holds non-finite weights (NaN or infinity)')
    return state


def describe_run(model, target, config, train_set):
    """What defines a run, flat (field -> plain value): the training settings, the model, the target, the training
    images and the number of processes. Stored in resume.pt and compared on resuming."""
    settings = {k: v for k, v in asdict(config).items() if k not in FREE_ON_RESUME}
    return {**settings, **asdict(model.config), **{f'target.{k}': v for k, v in target.describe().items()},
            'data.images': len(train_set[0]), 'data.digest': digest(*train_set),  # inputs and targets
            'processes': distributed.world_size()}


def check_same_run(saved, now):
    """A ConfigMismatch naming every difference; the number of epochs may grow under a constant learning rate,
    to train on."""
    differences = [(field, saved.get(field), value) for field, value in now.items() if saved.get(field) != value
                   and not (field == 'epochs' and value > saved[field] and now['lr_schedule'] == 'constant')]
    if differences:
        raise ConfigMismatch(differences)


def training_state(model, optimizer, scheduler, generator, epoch, history, run, position=None, ema=None):
    """Everything a run needs to continue bit for bit, as tensors and plain containers (weights_only-loadable)."""
    return {'model': model.state_dict(), 'optimizer': optimizer.state_dict(), 'scheduler': scheduler.state_dict(),
            'ema': None if ema is None else ema.state_dict(),
            'rng': {'train': generator.get_state(), 'torch': torch.get_rng_state(),
                    'cuda': torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []},
            'epoch': epoch, 'position': position, 'history': history, 'run': run}


def restore(state, model, optimizer, scheduler, generator, ema=None):
    """Load a training_state (already checked to be of the same run) into the live objects."""
    model.load_state_dict(state['model'])
    if ema is not None:
        ema.load_state_dict(state['ema'])
    optimizer.load_state_dict(state['optimizer'])
    scheduler.load_state_dict(state['scheduler'])
    generator.set_state(state['rng']['train'])
    torch.set_rng_state(state['rng']['torch'])
    if state['rng']['cuda'] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['rng']['cuda'])
