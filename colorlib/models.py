"""The handout's four networks. Module names match the assignment's checkpoints key for key.

Each network says what the rest of colorlib needs to know of it: `stem`, its name in file and folder names,
`predicts`, the one target kind it is made for ('rgb' for the RegressionCNN; None: any), `settings`, the
ModelConfig fields of its own that its constructor takes (the DUNet's dilation), and `spread(config)`, how far its
middle filter reaches (what the receptive field, and so colorize's tiles, follow). A new network is a class here
with those attributes and one line in MODELS.

Each block is a Sequential whose indices give the checkpoint keys: downconv = conv, max-pool, BatchNorm, ReLU;
rfconv = conv, BatchNorm, ReLU; upconv = conv, upsample, BatchNorm, ReLU; finalconv = a bare convolution.
"""
from dataclasses import dataclass

import torch
import torch.nn as nn

from colorlib.errors import InputError, check_whole
from colorlib.layers import MyConv2d, MyDilatedConv2d


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
    stem, predicts, settings = 'dunet', None, ('dilation',)

    @staticmethod
    def spread(config):
        return config.dilation

    def __init__(self, kernel, num_filters, num_colours, num_in_channels=1, dilation=1):
        self.dilation = dilation
        super().__init__(kernel, num_filters, num_colours, num_in_channels)

    def middle_conv(self, channels, kernel):
        return MyDilatedConv2d(channels, channels, kernel, dilation=self.dilation)


MODELS = {'RegressionCNN': RegressionCNN, 'CNN': CNN, 'UNet': UNet, 'DUNet': DUNet}  # the registry: one line a model


class FlipAveraged(nn.Module):
    """Test-time augmentation: the mean of the model's outputs for the image and for its mirror image (mirrored
    back). Pictures are symmetric under a horizontal flip, so both are fair guesses, and their mean is a better one."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return (self.model(x) + self.model(x.flip(-1)).flip(-1)) / 2


@dataclass(frozen=True)
class ModelConfig:
    """Everything that builds a model: stored whole with a saved run, so the run knows the model it belongs to."""
    name: str = 'UNet'
    kernel: int = 3
    filters: int = 32
    colours: int = 24  # output channels: colour classes, Lab bins, or 3 for RGB
    in_channels: int = 1  # 1 (grey or L) for colourization, 3 for super-resolution
    dilation: int = 1  # DUNet only: empty pixels between the middle filter's taps

    def __post_init__(self):
        """A model that cannot be built, or whose outputs would not line up with its inputs (an even kernel pads
        unevenly), is refused as the config is made, naming the field."""
        if self.name not in MODELS:
            raise InputError(f'unknown model {self.name!r} (choose from {", ".join(MODELS)})', ['name'])
        for name, low in (('kernel', 1), ('filters', 1), ('colours', 1), ('in_channels', 1), ('dilation', 0)):
            check_whole(getattr(self, name), name, low)
        if self.kernel % 2 == 0:
            raise InputError(f'kernel {self.kernel} is even; the kernel size must be odd (1, 3, 5, ...)', ['kernel'])


def build_model(config):
    """The handout's network that `config` describes, with the config kept on it as `model.config`."""
    network = MODELS[config.name]
    model = network(kernel=config.kernel, num_filters=config.filters, num_colours=config.colours,
                    num_in_channels=config.in_channels, **{name: getattr(config, name) for name in network.settings})
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
