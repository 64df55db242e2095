"""What the network learns, as one small interface with three kinds: colour classes (the assignment's k-means
colours), Lab bins (Zhang et al.) and RGB regression. The trainer, the reports and colorize talk to a target only
through this interface, so a new kind is one more class here.

A target turns float RGB images (N, 3, H, W) in [0, 1) into the network's inputs and its targets (`encode`), scores
outputs (`loss`, and pixel accuracy where `has_accuracy`), and turns outputs back into RGB pictures (`decode`).
Colour classes and RGB regression also serve super-resolution (task 'superres'): the input is then the colour
image downsized 4x (nearest-upsampled back to full size) instead of its grey version.
"""
import hashlib

import torch
import torch.nn.functional as F

from colorlib.colours import classes_to_rgb, rgb_to_classes, save_colours
from colorlib.data import to_grey
from colorlib.errors import InputError
from colorlib.lab import (DEFAULT_TEMPERATURE, decode_lab, lab_to_rgb, rebalance_weights, rgb_to_lab, save_bins,
                          soft_targets, weighted_cross_entropy)
from colorlib.superres import downsize, superres_input, upsample

TASKS = ('colour', 'superres')


def digest(*tensors):
    """A short content hash: what identifies a colour or bins file in a saved run."""
    h = hashlib.sha256()
    for t in tensors:
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


class Target:
    """The interface, with what the kinds share: the input of the task, the plain pictures and the baselines."""
    tag = ''  # the run-name suffix: '' for colour classes, 'mse' for RGB, 'lab' for Lab bins
    palette = None  # the kind of file its classes come from ('colours', 'bins'); None: no classes
    has_accuracy = True
    out_channels = None

    def __init__(self, task='colour'):
        if task not in TASKS:
            raise ValueError(f'unknown task {task!r} (choose from {", ".join(TASKS)})')
        self.task = task

    @property
    def in_channels(self):
        return 3 if self.task == 'superres' else 1

    @property
    def prefix(self):
        """The run-name prefix: what the task adds to the names of weights, folders and pictures."""
        return 'superres_' if self.task == 'superres' else ''

    @property
    def input_label(self):
        return 'downsized input' if self.task == 'superres' else 'grey input'

    def inputs(self, rgb):
        """What the network sees of float RGB images."""
        return superres_input(rgb) if self.task == 'superres' else to_grey(rgb)

    def encode(self, rgb):
        """(inputs, targets) of float RGB images."""
        raise NotImplementedError

    def loss(self, outputs, target, smoothing=0.0):
        """The training loss; `smoothing` softens class targets (label smoothing) and is 0 for evaluation."""
        raise NotImplementedError

    def decode(self, outputs, inputs):
        """The network's outputs as RGB pictures (N, 3, H, W) in [0, 1]."""
        raise NotImplementedError

    def truth(self, inputs, target):
        """(label, pictures): the targets as RGB, i.e. the best the network could do."""
        raise NotImplementedError

    def pictures(self, outputs, inputs):
        """(label, pictures) rows of a sample grid; the first is what decode() gives and the figures score."""
        return [('output', self.decode(outputs, inputs))]

    def baselines(self, inputs):
        """(name, pictures) of the plain methods the network must beat: for super-resolution, upsampling."""
        if self.task != 'superres':
            return []
        small = downsize(inputs)  # the nearest-upsampled input pools back to the small image exactly
        return [(mode, upsample(small, mode)) for mode in ('bilinear', 'bicubic')]

    def describe(self):
        """What defines the target, as plain values: stored in a saved run and compared on resuming."""
        return {'kind': type(self).__name__, 'task': self.task}

    def save_palette(self, path, replace=False):
        """Write the classes' colours in the assignment's file format (for weights trained on fitted ones)."""
        raise NotImplementedError

    def palette_state(self):
        """The classes' colours as named tensors, to store with the weights ({} without classes)."""
        return {}


class ColourClasses(Target):
    """The assignment's classification: each pixel's nearest of k colours (k-means centres, (k, 3) in [0, 1])."""
    palette = 'colours'

    def __init__(self, centres, task='colour'):
        super().__init__(task)
        self.centres = centres
        self.out_channels = len(centres)

    def encode(self, rgb):
        return self.inputs(rgb), rgb_to_classes(rgb, self.centres)

    def loss(self, outputs, target, smoothing=0.0):
        return F.cross_entropy(outputs, target, label_smoothing=smoothing)

    def decode(self, outputs, inputs):
        return classes_to_rgb(outputs.argmax(1), self.centres)

    def truth(self, inputs, target):
        return f'truth ({len(self.centres)} colours)', classes_to_rgb(target, self.centres)

    def describe(self):
        return {**super().describe(), 'colours': digest(self.centres)}

    def save_palette(self, path, replace=False):
        return save_colours(path, self.centres.double().numpy(), float('nan'), replace)  # no k-means distortion to record

    def palette_state(self):
        return {'colours.centres': self.centres}


class RGB(Target):
    """Regression: the network predicts each pixel's RGB directly, trained with the mean squared error. With
    `residual` (super-resolution only) it predicts what bicubic upsampling of the small image gets wrong, so that
    it starts from bicubic's pictures instead of learning to upsample from scratch; the loss is the same MSE."""
    has_accuracy = False
    out_channels = 3

    def __init__(self, task='colour', residual=False):
        super().__init__(task)
        if residual and task != 'superres':
            raise ValueError('a residual over bicubic upsampling needs the super-resolution task')
        self.residual = residual
        self.tag = 'res' if residual else 'mse'

    def base(self, inputs):
        """What the network's outputs are added to: bicubic upsampling of the small image, or nothing."""
        return upsample(downsize(inputs), 'bicubic') if self.residual else 0

    def encode(self, rgb):
        inputs = self.inputs(rgb)
        return inputs, rgb - self.base(inputs)

    def loss(self, outputs, target, smoothing=0.0):  # no classes: nothing to smooth
        return F.mse_loss(outputs, target)

    def decode(self, outputs, inputs):
        return (outputs + self.base(inputs)).clamp(0, 1)

    def truth(self, inputs, target):
        return 'truth', target + self.base(inputs)

    def describe(self):
        return {**super().describe(), **({'residual': True} if self.residual else {})}


class LabBins(Target):
    """Zhang et al.'s classification in CIE Lab: the network sees L/100 and scores the ab bins ((K, 2) centres with
    their prior); the loss may weight rare colours up (rebalance, lambda in [0, 1]) and spread the target over the
    nearest bins (soft); pictures are the annealed mean at `temperature` (0: the mode) on the input's own L."""
    tag = 'lab'
    palette = 'bins'
    input_label = 'L input'

    def __init__(self, centres, prior, rebalance=None, soft=False, temperature=DEFAULT_TEMPERATURE):
        super().__init__('colour')
        self.centres, self.prior, self.rebalance, self.soft, self.temperature = centres, prior, rebalance, soft, temperature
        self.out_channels = len(centres)
        self.weights = rebalance_weights(prior, rebalance)
        if not torch.isfinite(self.weights).all():  # lambda 0 weighs a bin of prior 0 infinitely
            raise InputError(f'rebalance {rebalance} cannot weigh the bins whose prior is 0')
        self.table = soft_targets(centres) if soft else None

    def inputs(self, rgb):
        return rgb_to_lab(rgb)[:, :1] / 100

    def encode(self, rgb):
        lab = rgb_to_lab(rgb)
        return lab[:, :1] / 100, rgb_to_classes(lab[:, 1:], self.centres)

    def loss(self, outputs, target, smoothing=0.0):
        return weighted_cross_entropy(outputs, target, self.weights, self.table, smoothing)

    def decode(self, outputs, inputs, temperature=None):
        return decode_lab(outputs, inputs, self.centres, self.temperature if temperature is None else temperature)

    def truth(self, inputs, target):
        ab = self.centres.to(inputs.device)[target].permute(0, 3, 1, 2)
        return f'truth ({len(self.centres)} ab bins)', lab_to_rgb(inputs, ab)

    def pictures(self, outputs, inputs):
        return [(f'annealed mean, T={self.temperature:g}', self.decode(outputs, inputs)),
                ('mode', self.decode(outputs, inputs, temperature=0))]

    def describe(self):
        return {**super().describe(), 'bins': digest(self.centres, self.prior), 'rebalance': self.rebalance,
                'soft': self.soft}

    def save_palette(self, path, replace=False):
        return save_bins(path, self.centres.double().numpy(), self.prior.double().numpy(), replace)

    def palette_state(self):
        return {'bins.centres': self.centres, 'bins.prior': self.prior}
