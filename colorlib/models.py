"""The handout's four networks. Module names match the assignment's checkpoints key for key.

Each network says what the rest of colorlib needs to know of it: `stem`, its name in file and folder names,
`predicts`, the one target kind it is made for ('rgb' for the RegressionCNN; None: any), `settings`, the settings
of its own that its constructor takes (Setting: the DUNet's dilation), and `spread(config)`, how far its middle
filter reaches (what the receptive field, and so colorize's tiles, follow). A new network is a class here with
those attributes and one line in MODELS (or register(network) from elsewhere). Its own settings are declared on it
once: fit's and load's keywords, the command line's flag, the weights' notes, the memory check and the tiling all
follow from the declaration.

Each block is a Sequential whose indices give the checkpoint keys: downconv = conv, max-pool, BatchNorm, ReLU;
rfconv = conv, BatchNorm, ReLU; upconv = conv, upsample, BatchNorm, ReLU; finalconv = a bare convolution.
"""
import math
from dataclasses import dataclass, fields
from pathlib import Path

import torch
import torch.nn as nn

from colorlib.errors import InputError, check_flag, check_number, check_path, check_whole
from colorlib.layers import MyConv2d, MyDilatedConv2d

STRIDE = 4  # two 2x2 poolings: tiles start, and images are padded, on multiples of 4 so the pooling grid never moves


@dataclass(frozen=True)
class Setting:
    """A setting of a network or a target kind of its own, declared on its class: its keyword (fit's and load's,
    the field of the config and of the weights' notes, and the command line's flag --<name>), its default, its
    bounds (`low`, `high`; None: none), what it does (the flag's help, `{default}` filled in), and its `type`: int
    (a whole number), float, bool (True or False: a flag that takes no value) or Path (a file; then, as for a
    default of None, None is allowed). A network's whole-number setting that `sizes` the network has the memory
    check say the largest value that would fit. For a target kind's: `flags`, its flag's spellings where not
    --<name>, `metavar`, `training` (only commands that train take it) and `noted` (the weights' notes say it: it
    changes what the network computes, where the others are choices of use)."""
    name: str
    default: object
    low: float = 0
    help: str = ''
    sizes: bool = True
    type: type = int
    high: float = None
    flags: tuple = ()
    metavar: str = None
    training: bool = False
    noted: bool = False

    def check(self, value, field=None):
        """An InputError naming `field` (default: the setting's name) unless `value` is of its type and bounds."""
        field = field or self.name
        if value is None and (self.default is None or self.type is Path):
            return
        if self.type is bool:
            check_flag(value, field)
        elif self.type is Path:
            check_path(value, field)
        elif self.type is float:
            check_number(value, field, self.low, math.inf if self.high is None else self.high)
        else:
            check_whole(value, field, self.low, self.high)

    def value(self, n):
        """The n-th allowed value, n = 0, 1, ... (memory.largest's search)."""
        return self.low + n


def own_setting(config, name):
    """A declared setting's value from `config.own` (ModelConfig's and TargetConfig's attributes beyond their
    fields)."""
    for key, value in config.__dict__.get('own', ()):
        if key == name:
            return value
    raise AttributeError(f'{type(config).__name__} has no setting {name!r}')


def own_values(declared, own, settings, field=lambda key: key):
    """The (setting, value) pairs a config keeps of `declared` ({name: Setting}): each default, over it the pairs
    `own` and the keywords `settings`; a name not declared is an InputError naming field(name) (or own)."""
    values = {key: setting.default for key, setting in declared.items()}
    try:
        pairs = [(key, value) for key, value in own]
    except (TypeError, ValueError):
        raise InputError(f'own must be (setting, value) pairs, not {own!r}', [field('own')]) from None
    for key, value, named in [(*pair, 'own') for pair in pairs] + [(*item, item[0]) for item in settings.items()]:
        if key not in declared:
            raise InputError(f'no {"network" if field(key) == key else "target kind"} has a setting {key!r} (their '
                             f'own: {", ".join(declared) or "none"})', [field(named)])
        values[key] = value
    return tuple(values.items())


def down(in_channels, out_channels, kernel):
    return nn.Sequential(MyConv2d(in_channels, out_channels, kernel), nn.MaxPool2d(2),
                         nn.BatchNorm2d(out_channels), nn.ReLU())


def middle(conv):
    return nn.Sequential(conv, nn.BatchNorm2d(conv.weight.shape[0]), nn.ReLU())


def up(in_channels, out_channels, kernel):
    return nn.Sequential(MyConv2d(in_channels, out_channels, kernel), nn.Upsample(scale_factor=2),
                         nn.BatchNorm2d(out_channels), nn.ReLU())


class CNN(nn.Module):
    """Classification CNN: grey in, a score per colour class per pixel out. 32 -> 16 -> 8 -> 16 -> 32."""
    stem, predicts = 'cnn', None
    settings = ()  # ModelConfig fields of its own, passed to its constructor by name

    @staticmethod
    def spread(config):
        """Empty pixels between the middle filter's taps (0: a plain convolution)."""
        return 0

    def __init__(self, kernel, num_filters, num_colours, num_in_channels=1):
        super().__init__()
        nf = num_filters
        self.downconv1 = down(num_in_channels, nf, kernel)
        self.downconv2 = down(nf, 2 * nf, kernel)
        self.rfconv = middle(MyConv2d(2 * nf, 2 * nf, kernel))
        self.upconv1 = up(2 * nf, nf, kernel)
        self.upconv2 = up(nf, num_colours, kernel)
        self.finalconv = MyConv2d(num_colours, num_colours, kernel)

    def forward(self, x):
        x = self.downconv2(self.downconv1(x))
        x = self.upconv2(self.upconv1(self.rfconv(x)))
        return self.finalconv(x)


class RegressionCNN(CNN):
    """The same network predicting the 3 RGB values of each pixel directly (trained with MSE)."""
    stem, predicts = 'regression_cnn', 'rgb'

    def __init__(self, kernel, num_filters, num_colours=3, num_in_channels=1):
        super().__init__(kernel, num_filters, num_colours, num_in_channels)


class UNet(nn.Module):
    """The CNN with skip connections: each up block also sees the down block of its size, and the final
    convolution sees the input image."""
    stem, predicts, settings, spread = 'unet', None, (), CNN.spread

    def __init__(self, kernel, num_filters, num_colours, num_in_channels=1):
        super().__init__()
        nf = num_filters
        self.downconv1 = down(num_in_channels, nf, kernel)
        self.downconv2 = down(nf, 2 * nf, kernel)
        self.rfconv = middle(self.middle_conv(2 * nf, kernel))
        self.upconv1 = up(2 * nf + 2 * nf, nf, kernel)
        self.upconv2 = up(nf + nf, num_colours, kernel)
        self.finalconv = MyConv2d(num_colours + num_in_channels, num_colours, kernel)

    def middle_conv(self, channels, kernel):
        return MyConv2d(channels, channels, kernel)

    def forward(self, x):
        down1 = self.downconv1(x)
        down2 = self.downconv2(down1)
        mid = self.rfconv(down2)
        up1 = self.upconv1(torch.cat([mid, down2], dim=1))
        up2 = self.upconv2(torch.cat([up1, down1], dim=1))
        return self.finalconv(up2, x)  # the convolution of the two stacked, as the handout draws it


class DUNet(UNet):
    """The UNet with a dilated middle convolution: a wider receptive field for the same parameters."""
    stem, predicts = 'dunet', None
    settings = (Setting('dilation', 1, 0, 'empty pixels between the middle filter taps (0: undilated; default '
                                          '{default})'),)

    @staticmethod
    def spread(config):
        return config.dilation

    def __init__(self, kernel, num_filters, num_colours, num_in_channels=1, dilation=1):
        self.dilation = dilation
        super().__init__(kernel, num_filters, num_colours, num_in_channels)

    def middle_conv(self, channels, kernel):
        return MyDilatedConv2d(channels, channels, kernel, dilation=self.dilation)


MODELS = {'RegressionCNN': RegressionCNN, 'CNN': CNN, 'UNet': UNet, 'DUNet': DUNet}  # the registry: one line a model


def register(network, name=None):
    """Add a network (a class with the attributes above) to MODELS under `name` (default: its class name)."""
    MODELS[name or network.__name__] = network
    return network


def network_settings():
    """{name: Setting} of every registered network's own settings, in the order of MODELS."""
    return {s.name: s for network in MODELS.values() for s in network.settings}


def owners(name):
    """The names of the networks that have the setting `name` of their own."""
    return [model for model, network in MODELS.items() if any(s.name == name for s in network.settings)]


class FlipAveraged(nn.Module):
    """Test-time augmentation: the mean of the model's outputs for the image and for its mirror image (mirrored
    back). Pictures are symmetric under a horizontal flip, so both are fair guesses, and their mean is a better one."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return (self.model(x) + self.model(x.flip(-1)).flip(-1)) / 2


@dataclass(frozen=True, init=False)
class ModelConfig:
    """Everything that builds a model: stored whole with a saved run, so the run knows the model it belongs to.
    The networks' own settings (network_settings) are keywords too, each kept in `own` with its value, its
    declared default where not given, and read as an attribute (config.<setting>)."""
    name: str = 'UNet'
    kernel: int = 3
    filters: int = 32
    out_channels: int = 24  # a count: the target's (colour classes, Lab bins, or 3 for RGB)
    in_channels: int = 1  # 1 (grey or L) for colourization, 3 for super-resolution
    own: tuple = ()  # (setting, value) pairs of every registered network's own settings

    def __init__(self, name=name, kernel=kernel, filters=filters, out_channels=out_channels, in_channels=in_channels,
                 own=(), **settings):  # the defaults: the fields' above, stated once
        own = own_values(network_settings(), own, settings)
        for key, value in zip(('name', 'kernel', 'filters', 'out_channels', 'in_channels'),
                              (name, kernel, filters, out_channels, in_channels)):
            object.__setattr__(self, key, value)
        object.__setattr__(self, 'own', own)
        self.__post_init__()

    def __getattr__(self, name):  # only where no field has the name: the networks' own settings
        return own_setting(self, name)

    def __post_init__(self):
        """A model that cannot be built, or whose outputs would not line up with its inputs (an even kernel pads
        unevenly), is refused as the config is made, naming the field."""
        if self.name not in MODELS:
            raise InputError(f'unknown model {self.name!r} (choose from {", ".join(MODELS)})', ['name'])
        for name in ('kernel', 'filters', 'out_channels', 'in_channels'):
            check_whole(getattr(self, name), name, 1)
        for setting in network_settings().values():
            setting.check(getattr(self, setting.name))
        if self.kernel % 2 == 0:
            raise InputError(f'kernel {self.kernel} is even; the kernel size must be odd (1, 3, 5, ...)', ['kernel'])

    def as_dict(self):
        """The config as flat plain values (the networks' own settings beside the rest): what weights and runs
        store, and what ModelConfig(**...) reads back."""
        return {**{f.name: getattr(self, f.name) for f in fields(self) if f.name != 'own'}, **dict(self.own)}


def build_model(config):
    """The handout's network that `config` describes, with the config kept on it as `model.config`."""
    network = MODELS[config.name]
    model = network(kernel=config.kernel, num_filters=config.filters, num_colours=config.out_channels,
                    num_in_channels=config.in_channels, **{s.name: getattr(config, s.name) for s in network.settings})
    model.config = config
    return model


def context(config):
    """Pixels of context a tile of an image needs (colorlib.colorize): more than the receptive-field radius, which
    is at most (kernel // 2) * (10 + 4 * (dilation + 1)) pixels plus a few for the poolings (a 3x3 UNet's measures
    15; tests/test_colorize.py checks that each model stays inside), rounded up to the pooling grid of 4."""
    radius = (config.kernel // 2) * (10 + 4 * (MODELS[config.name].spread(config) + 1)) + 12
    return -(-radius // 4) * 4


def layer_outputs(model, x):
    """Run `model` on x and return {block name: its output}, in order, for looking at activations."""
    outputs = {}
    hooks = [block.register_forward_hook(lambda _, __, out, name=name: outputs.__setitem__(name, out))
             for name, block in model.named_children()]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for hook in hooks:
            hook.remove()
    return outputs
