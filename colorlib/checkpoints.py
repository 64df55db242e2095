"""Plain state_dict weights in the assignment's layout, and resumable training states, both written atomically
and read with weights_only=True."""
import os
import tempfile
import warnings
from pathlib import Path

import torch

from colorlib.errors import UsageError


def save_weights(model, path):
    """Write to a temp file beside `path`, then rename: an interrupted save never clobbers the old file.

    BatchNorm's num_batches_tracked counters are left out, as in the assignment's own files.
    """
    state = {k: v.detach().cpu() for k, v in model.state_dict().items() if not k.endswith('num_batches_tracked')}
    _save_atomically(state, path)


def _save_atomically(obj, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.name}.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            torch.save(obj, f)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _load_safely(path, flag):
    """torch.load(weights_only=True) of `path` onto the CPU; a UsageError naming `flag` for a missing or
    corrupt file."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f'{flag}: no such file: {path}')
    try:
        # weights_only=True runs no code, so any exception just means garbage; random bytes give IndexError,
        # KeyError, UnicodeDecodeError... and a pickle-protocol UserWarning that would break the one-line error.
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return torch.load(path, map_location='cpu', weights_only=True)
    except Exception as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UsageError(f'{flag}: cannot read {path}: {reason[:200]}') from None


def read_weights(path):
    """The state_dict in `path`, on the CPU; a UsageError for a missing, corrupt or foreign file."""
    state = _load_safely(path, '--checkpoint')
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise UsageError(f'--checkpoint: {path} is not a plain state_dict of tensors')
    return state


def summarize(state):
    """What a state_dict holds, read off its shapes: (model, kernel, filters, outputs, input channels), or None
    if unknown. UNet and DUNet have the same shapes, and so do a CNN and a RegressionCNN with 3 colours.
    """
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
    """Load `path` into `model` (strict); on a mismatch, say which flags disagree with the checkpoint."""
    state = read_weights(path)
    found, wanted = summarize(state), summarize(model.state_dict())
    if found is None:
        raise UsageError(f'--checkpoint: {path} is not a colorlib or assignment checkpoint (no downconv1/upconv1/finalconv)')
    if found != wanted:
        names = ('--model', '-k', '-f', '-c/--colours/--loss or --colour-space/--bins', '--task')
        flags = [flag for flag, a, b in zip(names, found, wanted) if a != b]
        raise UsageError(f'--checkpoint: {path} holds a {describe(found)} checkpoint but the flags ask for '
                         f'{describe(wanted)}: check {", ".join(flags)}')
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise UsageError(f'--checkpoint: {path} does not fit {describe(wanted)}: '
                         f'{str(err).splitlines()[-1].strip()[:200]}') from None
    return model


def save_resumable(state, path):
    """A training state (tensors, numbers, strings and plain containers only, so that it reads back with
    weights_only=True), written atomically like the weights."""
    _save_atomically(state, path)


def read_resumable(path):
    """The training state save_resumable wrote; a UsageError naming --resume for a missing or foreign file."""
    state = _load_safely(path, '--resume')
    if not isinstance(state, dict) or 'model' not in state or 'optimizer' not in state:
        raise UsageError(f'--resume: {path} is not a resumable training checkpoint')
    return state
