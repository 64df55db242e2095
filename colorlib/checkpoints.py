"""Plain state_dict weights in the assignment's layout, and resumable training states with the description of their
run, both written atomically and read with weights_only=True.

Our weights say what they hold: the model's config and the target (its kind, task and the digest of its colours)
ride in the state_dict's `_metadata`, where PyTorch keeps its own notes and where `model.load_state_dict` looks only
for the names of modules, so the assignment's strict loader still loads the file. Colours fitted on a run's own
pictures are stored as tensors beside the weights ('colours.centres', ...), as before.
"""
import io
import re
import warnings
from collections import OrderedDict
from dataclasses import asdict

import torch

from colorlib import distributed
from colorlib.errors import ConfigMismatch, InputError
from colorlib.files import atomic_write, require_file
from colorlib.models import MODELS, ModelConfig, build_model, network_settings
from colorlib.targets import TARGETS, check_palette, digest, noted_fields, notes, palette_keys, target_settings

RESUMABLE_PARTS = ('model', 'optimizer', 'scheduler', 'rng', 'epoch', 'position', 'history', 'run')
# settings a resumed run may change: how the arithmetic is done and how often the state is saved, not what is
# learned (a preempted job may come back on a node whose precision --amp auto decides otherwise)
FREE_ON_RESUME = ('compile', 'save_every', 'amp', 'colorlib')  # (and the colorlib version that saved it)


ABOUT = 'colorlib'  # the entry of the state_dict's _metadata that says what the weights hold


def save_weights(model, path, palette=None, target=None, replace=False, reads=(), run=None):
    """The model's state_dict, written atomically; BatchNorm's num_batches_tracked counters are left out, as in
    the assignment's own files. `palette`: the colours of a run that fitted its own (Target.palette_state()),
    stored with the weights so that they are never used with other colours. What the weights hold (the model's
    config, and the target's kind, task and colours' digest) goes with them (see the module's docstring), and with
    `run` how they were trained (describe_run's plain values: the training settings, the data's digest, the
    colorlib version). `replace`, `reads`: as for colorlib.files.atomic_write."""
    state = OrderedDict((k, v.detach().cpu()) for k, v in model.state_dict().items()
                        if not k.endswith('num_batches_tracked'))
    state.update({k: v.detach().cpu() for k, v in (palette or {}).items()})
    about = {}
    if isinstance(getattr(model, 'config', None), ModelConfig):
        about['model'] = model.config.as_dict()
    if target is not None:
        about['target'] = notes(target)
    if run:
        about['run'] = dict(run)
    if about:
        state._metadata = {ABOUT: about}  # no module versions: BatchNorm then takes files without num_batches_tracked
    return write_torch(state, path, replace, reads)


def read_about(path, state=None):
    """What the weights in `path` say they hold: {'model': ModelConfig, 'target': {kind, task, residual, palette},
    'run': {how they were trained}}, each missing where not said (the assignment's files say nothing, ours before
    0.2 say no run)."""
    state = read_weights(path) if state is None else state
    metadata = getattr(state, '_metadata', None) or {}
    if not isinstance(metadata, dict):
        raise InputError(f'{path} holds notes (_metadata) that are a {type(metadata).__name__}, not a dict: it was not '
                         'written by torch or colorlib')
    about = metadata.get(ABOUT)
    if about is None:
        return {}
    if not isinstance(about, dict) or not all(isinstance(about.get(k, {}), dict) for k in ('model', 'target')):
        raise InputError(f'{path} says what it holds in a form colorlib does not write ({type(about).__name__} '
                         f'{str(about)[:60]!r}): it was edited or is foreign')
    try:
        said = {}
        if 'model' in about:
            said['model'] = ModelConfig(**model_in_current_words(about['model']))
        if 'target' in about:
            declared = target_settings()  # a setting noted since the file was written: its default
            said['target'] = {k: about['target'].get(k, declared[k].default) if k in declared else about['target'][k]
                              for k in (*noted_fields(), 'palette')}
        if 'run' in about:
            said['run'] = current_words(about['run'])
        return said
    except (TypeError, KeyError, ValueError, InputError) as err:
        raise InputError(f'{path} says it holds something colorlib cannot read ({str(err)[:100]})') from None


def read_palette(path, state=None):
    """The palette stored with the weights in `path` ({} for the assignment's files and ours on its colours);
    `state`: the file's contents where already read (read_weights)."""
    state = read_weights(path) if state is None else state
    palette = {k: v for k, v in state.items() if k.startswith(palette_keys())}
    check_palette(path, palette)  # each kind's tensors of the shapes it declares
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
        raise InputError(f'cannot read {path}: {load_failure(err)}') from None


def load_failure(err):
    """torch.load's failure in one whole line: for a file weights_only refuses, the unpickler's own sentence (which
    global the file asks for), not torch's advice to load it unsafely; else the first line of what was said."""
    text = re.sub(r'\x1b\[[0-9;]*m', '', str(err)).strip()
    found = re.search(r'WeightsUnpickler error: (.*)', text)
    if found:
        said = found.group(1).split(' Please use')[0].strip()
        return f'{said} (colorlib reads tensors and plain containers only, and never runs code from a file)'
    return ' '.join(text.splitlines()[0].split()) if text else type(err).__name__


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




def summary_fields():
    """ModelConfig's fields, in order, the networks' own settings last."""
    return ('name', 'kernel', 'filters', 'out_channels', 'in_channels', *network_settings())


def summarize(state, about=None):
    """What a state_dict holds: ModelConfig's fields, 'name' as the tuple of the models it can be; from what the
    file says (read_about), else read off its shapes (the assignment's files), where networks that differ in a
    setting of their own only, or a CNN and a RegressionCNN with 3 colours, look alike and those settings are
    unknown. None if it is not one of ours."""
    if about and 'model' in about:
        return {**about['model'].as_dict(), 'name': (about['model'].name,)}
    weights = {k: tuple(v.shape) for k, v in state.items()
               if not k.startswith(palette_keys()) and not k.endswith('num_batches_tracked')}
    try:
        first, outputs = weights['downconv1.0.weight'], weights['finalconv.bias']
    except KeyError:
        return None
    sizes = {'kernel': first[-1], 'filters': first[0], 'out_channels': outputs[0], 'in_channels': first[1]}
    with torch.device('meta'):  # no memory is used
        names = tuple(name for name in MODELS if weights == {
            k: tuple(v.shape) for k, v in build_model(ModelConfig(name=name, **sizes)).state_dict().items()
            if not k.endswith('num_batches_tracked')}) if sizes['kernel'] % 2 else ()  # ours are odd
    return {'name': names or None, **sizes, **dict.fromkeys(network_settings())}  # None: no model has its keys


def describe(summary):
    what = 'RGB' if summary['out_channels'] == 3 else f'{summary["out_channels"]} colours'
    task = ' for super-resolution' if summary['in_channels'] == 3 else ''
    return f'{"/".join(summary["name"] or ["network"])} (k={summary["kernel"]}, f={summary["filters"]}, {what}){task}'


def differences(found, wanted):
    """The ModelConfig fields in which two summaries differ (a field one of them does not know never does)."""
    return [field for field in summary_fields() if None not in (found[field], wanted[field]) and (
            not set(found[field]) & set(wanted[field]) if field == 'name' else found[field] != wanted[field])]


def load_weights(model, path, state=None):
    """Load `path` into `model` (strict); on a mismatch an InputError whose fields name the ModelConfig fields
    that disagree with the file. `state`: the file's contents where already read (read_weights)."""
    state = read_weights(path) if state is None else state
    found = summarize(state, read_about(path, state))
    state = {k: v for k, v in state.items() if not k.startswith(palette_keys())}
    config = getattr(model, 'config', None)
    wanted = ({**config.as_dict(), 'name': (config.name,)} if isinstance(config, ModelConfig)
              else summarize(model.state_dict()))
    if found is None:
        raise InputError(f'{path} is not a colorlib or assignment checkpoint (no downconv1/upconv1/finalconv)')
    fields = differences(found, wanted)
    if fields:
        own = ''.join(f' ({k} {found[k]}, not {wanted[k]})' for k in fields if k in network_settings())
        raise InputError(f'{path} holds a {describe(found)} checkpoint but {describe(wanted)} is asked for{own}',
                         fields)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise InputError(f'{path} does not fit {describe(wanted)}: {str(err).splitlines()[-1].strip()[:200]}') from None
    return model


def save_resumable(state, path, replace=False):
    """A training state (tensors, numbers, strings and plain containers only, so that it reads back with
    weights_only=True), written atomically like the weights."""
    return write_torch(state, path, replace)


def write_torch(obj, path, replace=False, reads=()):
    """torch.save of `obj` to `path` (atomic_write), serialised in memory first: torch.save writing to the file
    itself turns a full disk's OSError into a RuntimeError, which would not be a one-line WriteError."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return atomic_write(path, lambda f: f.write(buffer.getbuffer()), replace, reads)


def read_resumable(path):
    """The training state save_resumable wrote; an InputError for a missing, foreign or incomplete file."""
    state = _load_safely(path)
    if not isinstance(state, dict) or not {'model', 'optimizer'} & state.keys():
        raise InputError(f'{path} is not a resumable training state')
    missing = [part for part in RESUMABLE_PARTS if part not in state]
    if missing:
        raise InputError(f'{path} is an incomplete training state (it lacks {", ".join(missing)})')
    if isinstance(state['run'], dict):
        state['run'] = current_words(state['run'])
    weights = state['model'] if isinstance(state['model'], dict) else {}
    if not all(torch.isfinite(v).all() for v in weights.values() if torch.is_tensor(v) and v.is_floating_point()):
        raise InputError(f'{path} holds non-finite weights (NaN or infinity)')
    return state


def describe_run(model, target, config, train_set):
    """What defines a run, flat (field -> plain value): the training settings, the model, the target, the training
    images, the number of processes (with the precision that ran) and the colorlib version. Stored in resume.pt and
    compared on resuming (check_same_run), and with the weights the run saves."""
    from colorlib import __version__
    network = getattr(model, 'config', None)  # a network of colorlib.models, or another (its class names it)
    network = network.as_dict() if isinstance(network, ModelConfig) else {'name': type(model).__name__}
    return {**asdict(config), **network, **{f'target.{k}': v for k, v in target.describe().items()},
            'data.images': len(train_set[0]), 'data.digest': digest(*train_set),  # inputs and targets
            'processes': distributed.world_size(), 'colorlib': __version__}


def current_words(run):
    """A run's description in today's words: runs saved before named the target kind by its class ('ColourClasses',
    'RGB', 'LabBins') where the weights and TargetConfig say its kind ('classes', 'rgb', 'lab'), and the model's
    output channels 'colours' where ModelConfig says 'out_channels'; read in today's words, a resume.pt saved then
    still resumes, and old weights' `about` reads like new ones'."""
    old = {target.__name__: kind for kind, target in TARGETS.items()}
    kind = run.get('target.kind')
    run = model_in_current_words(run)
    return {**run, 'target.kind': old[kind]} if isinstance(kind, str) and kind in old else run


def model_in_current_words(said):
    """A model's fields (weights' notes, a run's description) with the output channels as today's 'out_channels',
    where files written before say 'colours' (the file of colours is 'target.colours' there)."""
    said = dict(said)
    if 'colours' in said and 'out_channels' not in said:
        said['out_channels'] = said.pop('colours')
    return said


def check_same_run(saved, now):
    """A ConfigMismatch naming every difference but FREE_ON_RESUME's; the number of epochs may grow under a constant
    learning rate, to train on."""
    saved = current_words(saved)
    differences = [(field, saved.get(field), value) for field, value in now.items() if saved.get(field) != value
                   and field not in FREE_ON_RESUME
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
