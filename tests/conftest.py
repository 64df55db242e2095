"""Shared test helpers: the ../shared fixtures (present in CI only), the bundled horse images, running a command
in-process, and the one-line library errors.

Import the marker in a test file with `from conftest import needs_shared`.
"""
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from PIL import Image

from colorlib.colours import load_colours
from colorlib.data import load_category
from colorlib.lab import load_bins
from colorlib.models import ModelConfig, build_model
from colorlib.shipped import DEFAULT_BINS, DEFAULT_COLOURS, DEFAULT_DATA

SHARED = Path(__file__).resolve().parents[1].parent / 'shared'
ASSIGNMENT_WEIGHTS = SHARED / 'reference' / 'assignment_weights'
ASSIGNMENT_COLOURS = SHARED / 'reference' / 'assignment_colours'
SKIP_SHARED = '../shared not present (CI-only fixture)'

needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=SKIP_SHARED)
FLAG = re.compile(r'(?:^|[\s(\'"])--?[A-Za-z]')  # a command-line flag such as --data or -f
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'


def call(entry, argv, capsys):
    """Run a CLI entry point in-process: (exit status, stdout, stderr)."""
    try:
        entry(argv)
        code = 0
    except SystemExit as exit_:
        code = 0 if exit_.code is None else exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_png(path):
    assert Path(path).is_file(), path
    assert Path(path).read_bytes()[:8] == PNG_MAGIC, path


def snapshot(root):
    """Every file and folder under root: its bytes and modification time (None for folders)."""
    return {p.relative_to(root): (p.read_bytes(), p.stat().st_mtime_ns) if p.is_file() else None
            for p in root.rglob('*')}


def one_line_error(excinfo, *parts):
    """The message of a library error: one line, holding each of `parts`, and naming no command-line flag."""
    msg = str(excinfo.value)
    assert msg and '\n' not in msg
    for part in parts:
        assert part in msg, (part, msg)
    assert '--' not in msg and not FLAG.search(msg), msg
    return msg


# model name -> the assignment's file stem, e.g. assignment_weights_path('UNet', 32) -> .../unet_k3_f32.pkl
WEIGHT_STEMS = {'RegressionCNN': 'regression_cnn', 'CNN': 'cnn', 'UNet': 'unet', 'DUNet': 'dunet'}


def assignment_weights_path(model, num_filters, kernel=3):
    return ASSIGNMENT_WEIGHTS / f'{WEIGHT_STEMS[model]}_k{kernel}_f{num_filters}.pkl'


def assignment_colours_path(k):
    return ASSIGNMENT_COLOURS / f'color_kmeans{k}_cat7.npy'


@pytest.fixture
def shared_dir():
    if not SHARED.is_dir():
        pytest.skip(SKIP_SHARED)
    return SHARED


@pytest.fixture
def assignment_weights(shared_dir):
    """assignment_weights('UNet', 32) -> the assignment's state_dict (CPU tensors) for that model and size."""
    def load(model, num_filters, kernel=3):
        path = assignment_weights_path(model, num_filters, kernel)
        if not path.is_file():
            pytest.skip(f'{path} not present')
        return torch.load(path, map_location='cpu', weights_only=True)
    return load


@pytest.fixture(scope='session')
def horses():
    """(train_x, test_x): the bundled CIFAR-10 horses as uint8 NHWC arrays."""
    if not DEFAULT_DATA.is_file():
        pytest.skip(f'bundled {DEFAULT_DATA} not present')
    return load_category(DEFAULT_DATA, 7)


def write_horses_npz(path, horses, num_train, num_test):
    """The first training and test horses in the .npz layout load_cifar10 reads; returns the path as a string."""
    train_x, test_x = horses
    np.savez(path, train_x=train_x[:num_train], train_y=np.full(num_train, 7), test_x=test_x[:num_test],
             test_y=np.full(num_test, 7))
    return str(path)


@pytest.fixture(scope='session')
def tiny_npz(horses, tmp_path_factory):
    """200 training and 50 test horses as an .npz for --data: enough for runs of a second or two."""
    return write_horses_npz(tmp_path_factory.mktemp('data') / 'tiny_horses.npz', horses, 200, 50)


@pytest.fixture(scope='session')
def small_npz(horses, tmp_path_factory):
    """300 training and 100 test horses in the .npz layout --data reads."""
    return write_horses_npz(tmp_path_factory.mktemp('data') / 'small_horses.npz', horses, 300, 100)


SENTINEL = b'precious bytes, do not touch'


@pytest.fixture
def sentinels(tmp_path, monkeypatch):
    """cwd = tmp_path holding files a careless run would overwrite, a corrupt checkpoint and an empty folder."""
    monkeypatch.chdir(tmp_path)
    for name in ('keep.pkl', 'outputs/eval_UNet.png', 'outputs/eval_CNN.png', 'outputs/eval_DUNet.png',
                 'outputs/unet_k3_f32/weights.pkl', 'outputs/unet_k3_f32/metrics.jsonl'):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(SENTINEL)
    (tmp_path / 'corrupt.pkl').write_bytes(b'this is not a checkpoint' * 10)
    (tmp_path / 'a_folder').mkdir()
    return tmp_path


@pytest.fixture(scope='session')
def centres():
    """The shipped 24 k-means colours, (24, 3)."""
    return load_colours(DEFAULT_COLOURS)


@pytest.fixture(scope='session')
def bins():
    """The shipped Lab ab bins and their prior."""
    return load_bins(DEFAULT_BINS)


def smooth_rgb(height, width, seed=0):
    """A colourful picture with some structure, uint8 (H, W, 3)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    base = np.stack([np.sin(6 * x + 1), np.cos(5 * y), np.sin(3 * (x + y))], axis=2) * 0.4 + 0.5
    return np.clip((base + rng.normal(0, 0.05, base.shape)) * 255, 0, 255).astype(np.uint8)


def write_odd_images(folder):
    """Image files Pillow reads in odd modes (5x7, 16-bit grey, RGBA, palette GIF, grey JPEG) and a text file;
    returns {stem: (width, height)} of the images."""
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray((np.arange(35 * 3).reshape(5, 7, 3) * 2).astype(np.uint8)).save(folder / 'tiny.png')
    Image.fromarray(np.full((9, 11), 40000, np.uint16)).save(folder / 'deep.png')
    Image.fromarray(np.dstack([smooth_rgb(17, 13), np.full((17, 13), 128, np.uint8)]), 'RGBA').save(folder / 'alpha.png')
    Image.fromarray(smooth_rgb(12, 12)).convert('P').save(folder / 'pal.gif')
    Image.fromarray(smooth_rgb(21, 19)[..., 0]).save(folder / 'grey.jpg')
    (folder / 'notes.txt').write_text('not an image')  # not an image extension: a folder scan leaves it out
    return {'tiny': (7, 5), 'deep': (11, 9), 'alpha': (13, 17), 'pal': (12, 12), 'grey': (19, 21)}


def random_model(name='UNet', colours=24, kernel=3, dilation=1, seed=0):
    """A small (-f 4) random model in eval mode, with BatchNorm statistics that are not the identity."""
    torch.manual_seed(seed)
    model = build_model(ModelConfig(name, kernel, 4, colours, dilation=dilation))
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 2)
    return model.eval()


def train_in(out_dir, model, target, train_set, val_set, config, resume=False, overwrite=False, on_epoch=None,
             log=None, stop_signal=None):
    """colorlib.train.train handed a run folder's end-of-epoch work (colorlib.runfolder.RunFolder), as fit hands it:
    its metrics, its resumable state and a line printed per epoch with `log`; on_epoch(row) after them."""
    from colorlib.runfolder import RunFolder, run_files
    from colorlib.train import epoch_line, train
    folder = RunFolder(run_files(out_dir), config, resume, overwrite)
    say = None if log is None else lambda end: log(epoch_line(end.row, config.epochs))
    callbacks = folder.callbacks(say) + ([lambda end: on_epoch(end.row)] if on_epoch else [])
    with folder.held(), folder.stops():
        return train(model, target, train_set, val_set, config, folder.state, callbacks, stop_signal, log=log,
                     on_start=folder.start)
