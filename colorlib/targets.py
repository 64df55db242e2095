"""What the network learns, as one small interface with three kinds: colour classes (the assignment's k-means
colours), Lab bins (Zhang et al.) and RGB regression. The trainer, the reports and colorize talk to a target only
through this interface, so a new kind is one more class here.

A target turns float RGB images (N, 3, H, W) in [0, 1) into the network's inputs and its targets (`encode`), scores
outputs (`loss`, and pixel accuracy where `has_accuracy`), and turns outputs back into RGB pictures (`decode`).
Colour classes and RGB regression also serve super-resolution (task 'superres'): the input is then the colour
image downsized 4x (nearest-upsampled back to full size) instead of its grey version.

A TargetConfig says which target, by keyword, and build_target makes it, reading (or fitting) its colours; the
rules of which settings go together are here and nowhere else, as InputErrors naming the fields at fault.

A kind is one class here (a subclass of Target with a `kind` of its own registers itself in TARGETS): its `kind`
(its word in configs and weights), how it is chosen (`space`, the colour space it is learnt in, and `criterion`,
its loss: the command line's --colour-space and --loss follow from them), its `palette_setting`, the tasks it
serves, `tag_of(config)` (its run-name suffix), `build(config, fit_on, palette)` and its words. Nothing else lists
the kinds.
"""
import hashlib
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from colorlib.colours import classes_to_rgb, fit_colours, load_colours, rgb_to_classes, save_colours
from colorlib.images import to_grey
from colorlib.errors import InputError, with_fields
from colorlib.lab import (DEFAULT_TEMPERATURE, decode_lab, fit_bins, lab_to_rgb, load_bins, rebalance_weights,
                          rgb_to_lab, save_bins, soft_targets, weighted_cross_entropy)
from colorlib.models import Setting, own_setting, own_values
from colorlib.superres import downsize, superres_input, upsample

TASKS = ('colour', 'superres')
TARGETS = {}  # kind -> its class (colour classes, RGB regression, Lab bins): each registers itself


@dataclass(frozen=True, init=False)
class TargetConfig:
    """What the network learns, by keyword: `kind` (TARGETS) for `task` (TASKS), and the kinds' own settings
    (target_settings: declared on their classes as models.Setting), each kept in `own` with its value, its declared
    default where not given, and read as an attribute (config.<setting>): colour classes' `colours` file (None:
    those stored with the weights, else the shipped ones), RGB's `residual` (super-resolution as a correction to
    bicubic upsampling), Lab's `bins` file, `rebalance` (lambda in [0, 1], None: none), `soft` targets and the
    decoding `temperature`. A config that cannot be built is refused as it is made, naming target.<field>."""
    kind: str = 'classes'
    task: str = 'colour'
    own: tuple = ()  # (setting, value) pairs of every registered kind's own settings

    def __init__(self, kind=kind, task=task, own=(), **settings):  # the defaults: the fields' above
        object.__setattr__(self, 'kind', kind)
        object.__setattr__(self, 'task', task)
        object.__setattr__(self, 'own', own_values(target_settings(), own, settings, lambda key: f'target.{key}'))
        self.__post_init__()

    def __getattr__(self, name):  # only where no field has the name: the kinds' own settings
        return own_setting(self, name)

    def __post_init__(self):
        for setting in target_settings().values():
            setting.check(getattr(self, setting.name), f'target.{setting.name}')
        if self.kind not in TARGETS:  # check_settings takes None for the interface; a config has a kind
            raise InputError(f'unknown target kind {self.kind!r} (choose from {", ".join(TARGETS)})', ['target.kind'])
        check_settings(self.kind, self.task, self.residual)

    @property
    def tag(self):
        """The run-name suffix: '' for colour classes, 'mse' for RGB ('res' for the residual), 'lab' for Lab bins."""
        return TARGETS[self.kind].tag_of(self)

    @property
    def prefix(self):
        """The run-name prefix: what the task adds to the names of weights, folders and pictures."""
        return 'superres_' if self.task == 'superres' else ''

    @property
    def in_channels(self):
        return 3 if self.task == 'superres' else 1


def target_settings():
    """{name: Setting} of every registered kind's own settings, in the order of TARGETS."""
    return {s.name: s for target in TARGETS.values() for s in target.settings}


def noted_fields():
    """What of a TargetConfig the weights' notes say: the kind, the task and the settings declared `noted`; the rest
    are choices of use."""
    return ('kind', 'task', *(s.name for s in target_settings().values() if s.noted))


def notes(target):
    """What a target is, as the weights' notes say it (checkpoints.save_weights, Model.about)."""
    noted = {s.name: getattr(target, s.name, s.default) for s in target_settings().values() if s.noted}
    return {'kind': target.kind, 'task': target.task, **noted, 'palette': target.describe().get(target.palette_setting)}


def palette_keys():
    """The prefixes of the tensors a kind's palette is stored under beside the weights ('colours.', 'bins.')."""
    return tuple(f'{target.palette_setting}.' for target in TARGETS.values() if target.palette_setting)


def shape_said(shape):
    return f'({", ".join(map(str, shape))}{"," if len(shape) == 1 else ""})'


def check_palette(path, palette):
    """An InputError unless each kind's tensors in `palette` (stored with the weights in `path`) are all there, of
    the shapes the kind declares (`palette_shapes`: a letter is a size of at least 2, the same wherever it is)."""
    shapes = {k: tuple(v.shape) for k, v in palette.items()}
    for target in TARGETS.values():
        declared = target.palette_shapes
        if not any(key in shapes for key in declared):
            continue
        sizes = {}
        for key, want in declared.items():
            have = shapes.get(key)
            if have is None or len(have) != len(want) or not all(
                    size == dim if isinstance(dim, int) else sizes.setdefault(dim, size) == size and size >= 2
                    for size, dim in zip(have, want)):
                expected = ' or '.join(
                    f'{shape_said(next(iter(t.palette_shapes.values())))} {t.palette_setting}' +
                    ''.join(f' and {shape_said(more)}' for more in list(t.palette_shapes.values())[1:])
                    for t in TARGETS.values() if t.palette_shapes)
                raise InputError(f'{path} holds a palette of shapes {shapes}, expected {expected}')


def check_settings(kind, task, residual=False):
    """Which settings go together; an InputError naming the field at fault and what it needs otherwise."""
    if kind is not None and kind not in TARGETS:  # None: the interface, of no kind yet
        raise InputError(f'unknown target kind {kind!r} (choose from {", ".join(TARGETS)})', ['target.kind'])
    if task not in TASKS:
        raise InputError(f'unknown task {task!r} (choose from {", ".join(TASKS)})', ['target.task'])
    residual_kind = next(name for name, target in TARGETS.items() if 'residual' in {s.name for s in target.settings})
    if residual and (task != 'superres' or kind != residual_kind):
        needs = {**({'target.task': 'superres'} if task != 'superres' else {}),
                 **({'target.kind': residual_kind} if kind != residual_kind else {})}
        raise InputError('a residual over bicubic upsampling is for super-resolution by RGB regression',
                         ['target.residual'], needs)
    if kind is not None and task not in TARGETS[kind].tasks:
        raise InputError(TARGETS[kind].tasks_said, ['target.kind', 'target.task'],
                         {'target.task': TARGETS[kind].tasks[0]})


def build_target(config, fit_on=None, palette=None):
    """The target `config` describes. Its classes come from config.colours or config.bins; else, given `fit_on`
    (uint8 NHWC training images, e.g. a folder of one's own pictures), fitted on them (k-means, 24 colours, or the
    Lab bins they use); else from `palette`, the colours stored with the weights (checkpoints.read_palette); else
    the shipped ones. A file that cannot be used is an InputError naming target.colours or target.bins, images
    that cannot be fitted one naming data."""
    return TARGETS[config.kind].build(config, fit_on, palette or {})


def palette_source(config, name, fit_on, palette, key):
    """Where a kind's classes come from (build_target's order): 'file' (config.<name> given), 'fitted' (on
    `fit_on`), 'weights' (`palette` holds `key`) or 'shipped'."""
    if getattr(config, name):
        return 'file'
    return 'fitted' if fit_on is not None else 'weights' if key in palette else 'shipped'


def configured(target, config, palette_from=None):
    target.config, target.palette_from = config, palette_from
    return target


def digest(*tensors):
    """A short content hash: what identifies a colour or bins file in a saved run."""
    h = hashlib.sha256()
    for t in tensors:
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


class Target:
    """The interface, with what the kinds share: the input of the task, the plain pictures and the baselines. A
    subclass with a `kind` of its own is a kind, registered in TARGETS as it is made."""
    palette_setting = None  # the setting naming its palette's file ('colours', 'bins'); None: it has no classes
    palette_shapes = {}  # its palette's tensors as stored with the weights (palette_state): key -> shape
    read_file = None  # reads its palette file, as given (a kind with a palette)
    palette_from = None  # where build_target took them: 'fitted', 'weights', 'file' (given) or 'shipped'
    has_accuracy = True
    out_channels = None

    kind = None  # its TargetConfig kind
    space, criterion = 'rgb', 'ce'  # how it is chosen: the colour space it is learnt in, its loss ('ce': classes)
    settings = ()  # its own settings (models.Setting): TargetConfig's keywords, the flags, the weights' notes
    tasks = TASKS  # the tasks it serves, and (tasks_said) why not the others
    tasks_said = ''
    assignment = True  # the assignment has it: its figures can be computed as the assignment did (legacy)
    words = ''  # what it is, in a few words, where a refusal says it
    classes_said = ''  # a kind of classes learnt in its own colour space: why another loss is not for it
    learns_film_colours = False  # its classes can be fitted anew on a film's colour stills (Model.fit_reference)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if 'kind' in cls.__dict__:  # a kind of its own, not a variant of one (a test's, say)
            TARGETS[cls.kind] = cls

    @classmethod
    def tag_of(cls, config):
        """Its run-name suffix for `config` (naming.run_name)."""
        return cls.kind

    @classmethod
    def build(cls, config, fit_on=None, palette=None):
        """The target of `config` (build_target, whose rules it follows)."""
        raise NotImplementedError

    def __init__(self, task='colour'):
        check_settings(self.kind, task)
        self.task = task

    @property
    def in_channels(self):
        return 3 if self.task == 'superres' else 1

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

    def chroma(self, outputs, inputs):
        """The Lab ab (N, 2, H, W) of the pictures decode() makes: all that colorize keeps of them."""
        return rgb_to_lab(self.decode(outputs, inputs))[:, 1:]

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
        """What defines the target, as plain values: stored in a saved run and compared on resuming. The kind is
        its word ('classes', 'rgb', 'lab'), as in a TargetConfig and the weights' notes."""
        return {'kind': self.kind, 'task': self.task}

    def save_palette(self, path, replace=False):
        """Write the classes' colours in the assignment's file format (for weights trained on fitted ones)."""
        raise NotImplementedError

    def palette_state(self):
        """The classes' colours as named tensors, to store with the weights ({} without classes)."""
        return {}

    @property
    def keeps_palette(self):
        """Whether its colours go with the weights it trains: those fitted on one's own pictures, or read from the
        weights a run started from, exist in no file the user could give again."""
        return self.palette_from in ('fitted', 'weights')


class ColourClasses(Target):
    """The assignment's classification: each pixel's nearest of k colours (k-means centres, (k, 3) in [0, 1])."""
    kind, palette_setting, words, learns_film_colours = 'classes', 'colours', 'colour classes', True
    settings = (Setting('colours', None, type=Path, flags=('-c', '--colours'),
                        help='k-means colour file (.npy; default: the one saved beside --checkpoint, fitted on a '
                             'folder of your pictures, or the shipped 24 horse colours)'),)
    palette_shapes = {'colours.centres': ('k', 3)}
    read_file = staticmethod(load_colours)

    @classmethod
    def tag_of(cls, config):
        return ''

    @classmethod
    def build(cls, config, fit_on=None, palette=None):
        from colorlib import shipped  # the shipped files' places: only when no file is given
        source = palette_source(config, 'colours', fit_on, palette, 'colours.centres')
        if source == 'fitted':
            centres = torch.from_numpy(with_fields(['data'], lambda: fit_colours(fit_on, 24, sample=200_000))[0])
            centres = centres.float()
        elif source == 'weights':
            centres = palette['colours.centres']
        else:
            centres = with_fields(['target.colours'], load_colours, config.colours or shipped.DEFAULT_COLOURS)
        return configured(cls(centres, config.task), config, source)

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

    def chroma(self, outputs, inputs):
        # a class has one colour, so its ab is looked up (24 conversions), not converted pixel by pixel
        ab = rgb_to_lab(self.centres.T[None, :, None])[0, 1:, 0].T  # (K, 2)
        return ab.to(outputs.device)[outputs.max(1).indices].permute(0, 3, 1, 2)  # argmax's index, at half its cost

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
    kind, has_accuracy, out_channels, criterion = 'rgb', False, 3, 'mse'
    words = 'RGB regression'
    settings = (Setting('residual', False, type=bool, noted=True,
                        help='superres with --loss mse: predict the correction to bicubic upsampling, not the image'),)

    @classmethod
    def tag_of(cls, config):
        return 'res' if config.residual else 'mse'

    @classmethod
    def build(cls, config, fit_on=None, palette=None):
        return configured(cls(config.task, config.residual), config)

    def __init__(self, task='colour', residual=False):
        super().__init__(task)
        check_settings(self.kind, task, residual)
        self.residual = residual

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
    kind, palette_setting, space, words = 'lab', 'bins', 'lab', 'Lab bins'
    settings = (
        Setting('bins', None, type=Path,
                help='Lab: ab bins file (default: as for -c; the shipped ones remake with colorlib bins)'),
        Setting('temperature', DEFAULT_TEMPERATURE, type=float,
                help='Lab: decode with the annealed mean at this temperature (0: the mode)'),
        Setting('rebalance', None, 0, type=float, high=1, metavar='LAMBDA', training=True,
                help="Lab: weight rare colours up, Zhang's lambda in [0, 1] (1: not at all; he uses 0.5)"),
        Setting('soft', False, type=bool, flags=('--soft-encode', '--soft'), training=True,
                help='Lab: spread the target over the 5 nearest bins (Gaussian, sigma 5)'))
    palette_shapes = {'bins.centres': ('K', 2), 'bins.prior': ('K',)}
    tasks, tasks_said = ('colour',), 'the ab bins are classes for colourization, not for super-resolution'
    assignment, classes_said = False, 'the ab bins are classes'
    read_file = staticmethod(load_bins)
    input_label = 'L input'

    @classmethod
    def build(cls, config, fit_on=None, palette=None):
        from colorlib import shipped  # the shipped files' places: only when no file is given
        source = palette_source(config, 'bins', fit_on, palette, 'bins.centres')
        if source == 'fitted':
            centres, prior = (torch.from_numpy(part).float() for part in with_fields(['data'], fit_bins, fit_on))
        elif source == 'weights':
            centres, prior = palette['bins.centres'], palette['bins.prior']
        else:
            centres, prior = with_fields(['target.bins'], load_bins, config.bins or shipped.DEFAULT_BINS)
        return configured(cls(centres, prior, config.rebalance, config.soft, config.temperature), config, source)

    def __init__(self, centres, prior, rebalance=None, soft=False, temperature=DEFAULT_TEMPERATURE):
        super().__init__('colour')
        self.centres, self.prior, self.rebalance, self.soft, self.temperature = centres, prior, rebalance, soft, temperature
        self.out_channels = len(centres)
        self.weights = rebalance_weights(prior, rebalance)
        if not torch.isfinite(self.weights).all():  # lambda 0 weighs a bin of prior 0 infinitely
            raise InputError(f'rebalance {rebalance} cannot weigh the bins whose prior is 0', ['target.rebalance'])
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
