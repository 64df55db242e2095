"""Every shipped kind of model at once: their activations of one test image (`colorlib activations --all`), from the
shipped weights or from a folder of weights named as they are."""
from pathlib import Path

from colorlib import shipped
from colorlib.checkpoints import read_about
from colorlib.errors import InputError, check_path, with_fields
from colorlib.models import ModelConfig
from colorlib.naming import run_name, weights_name
from colorlib.targets import TargetConfig, noted_fields


def shipped_kinds():
    """(model name, TargetConfig) of every shipped weights file, as the files say, in the order they are drawn."""
    kinds = []
    for path in sorted(shipped.folder('weights').glob('*.pkl')):
        about = with_fields(['weights_dir'], read_about, path)
        kinds.append((about['model'].name, TargetConfig(**{k: about['target'][k] for k in noted_fields()})))
    return kinds


def all_activations(image=0, weights_dir=None, kernel=None, filters=None, runs_dir='outputs', test_x=None,
                    device='cpu', reads=(), log=None, **settings):
    """Model.activations(image, runs_dir=...) of every shipped kind of model whose weights are in weights_dir
    (default: the shipped ones), named as they are (<run name>_k<kernel>_f<filters>.pkl, ModelConfig's sizes where
    not given); `settings`: what else the weights are opened with (api.open_weights: colours, temperature, ...).
    log(line) hears each folder written and each kind skipped for want of its file. Returns the folders written;
    a weights_dir with none of them is an InputError naming it."""
    from colorlib.api import check_reads, open_weights
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
