"""Pictures: sample grids, training curves and activation tiles, as matplotlib figures (shown inline in a notebook)
or PNG files (drawn with the Agg backend outside a notebook)."""
import math
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from colorlib.files import atomic_write


def settle_environment(notebook):
    """Before matplotlib is first imported: what its environment says that would break a run after its work is done.
    Outside a notebook the backend is Agg whatever MPLBACKEND says (a bad one would stop matplotlib's import); a
    configuration folder that cannot be written (MPLCONFIGDIR, or ~/.config/matplotlib) is replaced by a private
    folder under the temp folder, reused from run to run, instead of matplotlib's warning of several lines."""
    if not notebook:
        os.environ['MPLBACKEND'] = 'Agg'
    home = os.path.expanduser('~')
    wanted = os.environ.get('MPLCONFIGDIR') or os.path.join(
        os.environ.get('XDG_CONFIG_HOME') or os.path.join(home, '.config'), 'matplotlib')
    if usable_folder(wanted):
        return
    private = os.path.join(tempfile.gettempdir(), f'colorlib-matplotlib-{os.getuid()}')
    try:
        os.makedirs(private, mode=0o700, exist_ok=True)
    except OSError:
        return  # matplotlib's own fallback then
    if usable_folder(private) and os.stat(private).st_uid == os.getuid():
        os.environ['MPLCONFIGDIR'] = private


def usable_folder(folder):
    """Whether `folder` is, or can be made, a folder this process writes in."""
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return False
    return os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK)


def pyplot():
    """matplotlib.pyplot, imported on first use: it costs about half a second of start-up, which runs that draw
    nothing should not pay. On the Agg backend, except in a notebook's kernel, whose own backend shows figures."""
    notebook = 'ipykernel' in sys.modules
    if 'matplotlib' not in sys.modules:
        settle_environment(notebook)
    import matplotlib
    if not notebook:
        matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def new_figure(*args, **kwargs):
    """plt.subplots, the figure left out of pyplot's list of open ones: it is shown once where it is returned (a
    notebook displays it), and freed when no longer used, with no plt.close to call."""
    plt = pyplot()
    fig, axes = plt.subplots(*args, **kwargs)
    plt.close(fig)
    return fig, axes


def save_figure(fig, path, replace=False, reads=()):
    """Write the figure as a PNG, whole or not at all (colorlib.files.atomic_write: `replace`, `reads`)."""
    atomic_write(path, lambda f: fig.savefig(f, format='png', dpi=100), replace, reads)
    return Path(path)


def to_numpy_images(images):
    """(N, C, H, W) tensor in [0, 1] -> (N, H, W, 3) array; a single channel is shown as grey."""
    images = images.detach().float().cpu().clamp(0, 1).numpy()
    if images.shape[1] == 1:
        images = np.repeat(images, 3, axis=1)
    return images.transpose(0, 2, 3, 1)


def save_sample_grid(rows, path, replace=False, reads=()):
    return save_figure(sample_grid(rows), path, replace, reads)


def sample_grid(rows, pad=2):
    """One labelled row per (label, images) pair, the images side by side, about an inch each.

    The extra width and height leave room for the margins and titles, so even a single image is over 100 px wide.
    """
    count = len(rows[0][1])
    fig, axes = new_figure(len(rows), 1, figsize=(1.2 * count + 0.4, 1.6 * len(rows)), squeeze=False)
    for ax, (label, images) in zip(axes[:, 0], rows):
        images = to_numpy_images(images)
        h, w = images.shape[1:3]
        strip = np.ones((h, count * (w + pad) - pad, 3))
        for i, image in enumerate(images):
            strip[:, i * (w + pad):i * (w + pad) + w] = image
        ax.imshow(strip, interpolation='nearest')
        ax.set_title(label, loc='left', fontsize=11)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


def save_training_curve(history, path, replace=False, reads=()):
    return save_figure(training_curve(history), path, replace, reads)


def training_curve(history):
    """Train and validation loss, and validation accuracy where the task has one, per epoch."""
    epochs = [h['epoch'] for h in history]
    has_acc = any(h.get('val_acc') is not None for h in history)
    fig, axes = new_figure(1, 2 if has_acc else 1, figsize=(10 if has_acc else 5, 4), squeeze=False)
    ax = axes[0, 0]
    ax.plot(epochs, [h['train_loss'] for h in history], 'o-', label='train')
    ax.plot(epochs, [h['val_loss'] for h in history], 'o-', label='validation')
    ax.set(xlabel='epoch', ylabel='loss', title='Loss')
    ax.legend()
    if has_acc:
        ax = axes[0, 1]
        ax.plot(epochs, [h['val_acc'] for h in history], 'o-', color='tab:green')
        ax.set(xlabel='epoch', ylabel='accuracy (%)', title='Validation accuracy')
    fig.tight_layout()
    return fig


def save_activation_tiles(activation, path, title, replace=False, reads=()):
    return save_figure(activation_tiles(activation, title), path, replace, reads)


def activation_tiles(activation, title):
    """One tile per channel of a (C, H, W) activation, each scaled to its own range."""
    activation = activation.detach().float().cpu().numpy()
    channels = activation.shape[0]
    cols = math.ceil(math.sqrt(channels))
    rows = math.ceil(channels / cols)
    fig, axes = new_figure(rows, cols, figsize=(1.1 * cols, 1.1 * rows + 0.5), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis('off')
        if i < channels:
            ax.imshow(activation[i], cmap='viridis', interpolation='nearest')
    fig.suptitle(title)
    return fig
