"""Plain state_dict weights in the assignment's layout, written atomically and read with weights_only=True."""
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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items() if not k.endswith('num_batches_tracked')}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.name}.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            torch.save(state, f)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def read_weights(path):
    """The state_dict in `path`, on the CPU; a UsageError for a missing, corrupt or foreign file."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f'--checkpoint: no such file: {path}')
    try:
        # weights_only=True runs no code, so any exception just means garbage; random bytes give IndexError,
        # KeyError, UnicodeDecodeError... and a pickle-protocol UserWarning that would break the one-line error.
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            state = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UsageError(f'--checkpoint: cannot read {path}: {reason[:200]}') from None
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise UsageError(f'--checkpoint: {path} is not a plain state_dict of tensors')
    return state


def load_weights(model, path, description):
    """Load `path` into `model` (strict), naming the first mismatch so the user can pick the right flags."""
    state = read_weights(path)
    expected = {k: v for k, v in model.state_dict().items() if not k.endswith('num_batches_tracked')}
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(k for k in set(state) - set(expected) if not k.endswith('num_batches_tracked'))
    if missing or unexpected:
        what = f'lacks {missing[0]}' if missing else f'has an unexpected {unexpected[0]}'
        raise UsageError(f'--checkpoint: {path} is not a {description} checkpoint (it {what}); check --model')
    if 'finalconv.bias' in state and state['finalconv.bias'].shape != expected['finalconv.bias'].shape:
        raise UsageError(f'-c/--colours: {path} predicts {state["finalconv.bias"].numel()} outputs but '
                         f'{description} has {expected["finalconv.bias"].numel()}; pass the colours file it was trained with')
    for key, value in expected.items():
        if state[key].shape != value.shape:
            raise UsageError(f'--checkpoint: {path} does not fit {description}: {key} has shape '
                             f'{tuple(state[key].shape)}, expected {tuple(value.shape)}; check -k, -f and -c')
    model.load_state_dict(state, strict=True)
    return model
