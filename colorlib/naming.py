"""What runs and their files are called: one place for the names that weights, experiment folders and pictures go
by, so that a run's files are spelled once."""
from pathlib import Path

from colorlib.models import MODELS

# the files a training run keeps in its experiment folder
METRICS_FILE = 'metrics.jsonl'  # one JSON line per epoch
RESUME_FILE = 'resume.pt'  # the whole training state, to continue bit for bit
CURVE_FILE = 'training_curve.png'
SAMPLES_FILE = 'samples.png'
WEIGHTS_FILE = 'weights.pkl'  # where the weights go when no other place is named


def run_name(model, target, label=None):
    """'unet', 'unet_lab', 'superres_unet_mse', 'regression_cnn', ...: the stem of experiment folders and pictures,
    from the model's name and the TargetConfig. `label` spells the model otherwise (the assignment's eval_UNet.png);
    a model made for one kind (the RegressionCNN predicts RGB) does not say it."""
    said = target.tag and (target.kind != MODELS[model].predicts or target.residual)
    tag = f'_{target.tag}' if said else ''
    return f'{target.prefix}{label or MODELS[model].stem}{tag}'


def weights_name(model, target, kernel, filters):
    """The stem of a weights file and of a run's default folder: 'unet_k3_f32', 'superres_unet_mse_k3_f32', ..."""
    return f'{run_name(model, target)}_k{kernel}_f{filters}'


EVAL_LABELS = {'RegressionCNN': 'regression'}  # the assignment's eval_<model>.png names where not the model's


def eval_file(model, target):
    """The sample grid of a model's validation: the assignment's eval_UNet.png, eval_regression.png, ..."""
    return f'eval_{run_name(model, target, EVAL_LABELS.get(model, model))}.png'


def activations_folder(model, target, index):
    """Where the activations of test image `index` go, in a folder of runs: UNet/act3, superres_UNet_mse/act0."""
    return Path(run_name(model, target, model)) / f'act{index}'


def samples_file(epoch):
    """The sample grid drawn after `epoch` (with --plot)."""
    return f'samples_epoch{epoch:03d}.png'


def palette_file(weights, kind):
    """Where a run whose colours (or Lab bins, `kind`) go with its weights also writes them in the assignment's file
    format, for -c or --bins: beside its weights, mine.pkl -> mine.colours.npy."""
    return Path(weights).with_suffix(f'.{kind}.npy')
