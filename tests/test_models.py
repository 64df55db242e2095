"""The four networks: shapes, building blocks, skip connections and compatibility with the assignment's weights."""
import pytest
import torch
import torch.nn as nn

from colorlib import shipped
from colorlib.checkpoints import load_weights
from colorlib.colours import load_colours
from colorlib.errors import InputError
from colorlib.images import to_float
from colorlib.layers import MyConv2d, MyDilatedConv2d
from colorlib.models import CNN, DUNet, MODELS, FlipAveraged, ModelConfig, RegressionCNN, UNet, build_model, layer_outputs
from colorlib.targets import ColourClasses
from conftest import assignment_colours_path, needs_shared

NAMES = ['RegressionCNN', 'CNN', 'UNet', 'DUNet']
BLOCKS = ['downconv1', 'downconv2', 'rfconv', 'upconv1', 'upconv2', 'finalconv']
ALLOWED = (MyConv2d, MyDilatedConv2d, nn.MaxPool2d, nn.BatchNorm2d, nn.ReLU, nn.Upsample, nn.Sequential)


def outputs_of(name):
    return 3 if name == 'RegressionCNN' else 24


def model_of(name, nf=8, kernel=3, in_channels=1):
    return build_model(ModelConfig(name, kernel, nf, outputs_of(name), in_channels))


def randomise(model, seed=0):
    """Random weights and BatchNorm statistics, so equal outputs cannot come from a trivial state."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for key, value in model.state_dict().items():
            if key.endswith('running_var'):
                value.copy_(torch.rand(value.shape, generator=gen) + 0.5)
            elif value.is_floating_point():
                value.copy_(torch.randn(value.shape, generator=gen) * 0.3)
    return model


@pytest.mark.parametrize('name', NAMES)
@pytest.mark.parametrize('height,width', [(32, 32), (64, 48)])
@pytest.mark.parametrize('in_channels', [1, 3])
def test_output_shape(name, height, width, in_channels):
    model = model_of(name, in_channels=in_channels)
    out = model(torch.rand(2, in_channels, height, width))
    assert out.shape == (2, outputs_of(name), height, width)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize('name', NAMES)
def test_built_only_from_the_handout_blocks(name):
    model = model_of(name)
    children = list(model.modules())[1:]
    assert children
    for module in children:
        assert isinstance(module, ALLOWED), type(module).__name__
        assert not isinstance(module, nn.Conv2d)
    assert [n for n, _ in model.named_children()] == BLOCKS
    convs = [m for m in children if isinstance(m, MyConv2d)]
    assert len(convs) == 6  # one per block


@pytest.mark.parametrize('cls', [UNet, DUNet])
@pytest.mark.parametrize('nf,colours,in_channels', [(16, 24, 1), (32, 16, 1), (8, 32, 3)])
def test_unet_skip_channels(cls, nf, colours, in_channels):
    model = cls(3, nf, colours, num_in_channels=in_channels)
    assert model.downconv1[0].weight.shape[1] == in_channels
    assert model.upconv1[0].weight.shape[:2] == (nf, 4 * nf)  # rfconv output + downconv2
    assert model.upconv2[0].weight.shape[:2] == (colours, 2 * nf)  # upconv1 output + downconv1
    assert model.finalconv.weight.shape[:2] == (colours, colours + in_channels)  # upconv2 output + input image


def test_cnn_has_no_skips():
    model = CNN(3, 16, 24)
    assert model.upconv1[0].weight.shape[:2] == (16, 32)
    assert model.upconv2[0].weight.shape[:2] == (24, 16)
    assert model.finalconv.weight.shape[:2] == (24, 24)


@pytest.mark.parametrize('cls', [UNet, DUNet])
def test_unet_skip_wiring(cls):
    """Each up block sees [previous block's output, the same-size down block's output]; finalconv sees
    [upconv2's output, the input image], in that order, as in the assignment's checkpoints (finalconv is given the
    two apart and convolves their stack)."""
    model = randomise(cls(3, 4, 6)).eval()
    inputs, outputs = {}, {}
    for name, block in model.named_children():
        block.register_forward_pre_hook(lambda _, args, name=name: inputs.__setitem__(name, torch.cat(args, 1)))
        block.register_forward_hook(lambda _, __, out, name=name: outputs.__setitem__(name, out))
    x = torch.rand(2, 1, 32, 32)
    with torch.no_grad():
        model(x)
    torch.testing.assert_close(inputs['rfconv'], outputs['downconv2'])
    torch.testing.assert_close(inputs['upconv1'], torch.cat([outputs['rfconv'], outputs['downconv2']], 1))
    torch.testing.assert_close(inputs['upconv2'], torch.cat([outputs['upconv1'], outputs['downconv1']], 1))
    torch.testing.assert_close(inputs['finalconv'], torch.cat([outputs['upconv2'], x], 1))


@pytest.mark.parametrize('dilation', [0, 1, 2])
def test_dunet_middle_conv_is_dilated(dilation):
    model = DUNet(3, 8, 24, dilation=dilation)
    conv = model.rfconv[0]
    assert isinstance(conv, MyDilatedConv2d) and conv.dilation == dilation
    assert conv.weight.shape == (16, 16, 3, 3)
    assert type(UNet(3, 8, 24).rfconv[0]) is MyConv2d
    assert sum(isinstance(m, MyDilatedConv2d) for m in model.modules()) == 1


@pytest.mark.parametrize('train', [False, True])
def test_dunet_dilation_zero_equals_unet(train):
    unet = randomise(UNet(3, 8, 24)).train(train)
    dunet = DUNet(3, 8, 24, dilation=0).train(train)
    dunet.load_state_dict(unet.state_dict(), strict=True)
    x = torch.rand(3, 1, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(dunet(x), unet(x), rtol=0, atol=0)
        # and the dilation really matters when it is not zero
        dilated = DUNet(3, 8, 24, dilation=1).train(train)
        dilated.load_state_dict(unet.state_dict(), strict=True)
        assert not torch.allclose(dilated(x), unet(x))


@pytest.mark.parametrize('name,cls', [('RegressionCNN', RegressionCNN), ('CNN', CNN), ('UNet', UNet), ('DUNet', DUNet)])
def test_build_model_by_name(name, cls):
    config = ModelConfig(name, kernel=5, filters=4, out_channels=outputs_of(name), in_channels=3, dilation=2)
    model = build_model(config)
    assert type(model) is cls and MODELS[name] is cls
    assert model.config == config  # kept on the model, for its saved runs
    assert model.downconv1[0].weight.shape == (4, 3, 5, 5)
    assert model.finalconv.weight.shape[0] == outputs_of(name)
    if name == 'DUNet':
        assert model.rfconv[0].dilation == 2


def test_model_config_defaults_are_the_shipped_unet():
    """ModelConfig() is the assignment's UNet (k=3, f=32, 24 colours, grey in): its shipped weights load strictly."""
    config = ModelConfig()
    assert (config.name, config.kernel, config.filters, config.out_channels, config.in_channels) == ('UNet', 3, 32, 24, 1)
    model = load_weights(build_model(config), shipped.weights('unet_k3_f32'))
    assert type(model) is UNet and model.config is config


def test_regression_cnn_predicts_rgb_by_default():
    assert RegressionCNN(3, 8).finalconv.weight.shape == (3, 3, 3, 3)


@pytest.mark.parametrize('name', NAMES)
def test_layer_outputs(name):
    nf, colours = 8, outputs_of(name)
    model = randomise(model_of(name, nf)).eval()
    x = torch.rand(2, 1, 32, 32)
    outputs = layer_outputs(model, x)
    assert list(outputs) == BLOCKS
    shapes = [tuple(v.shape) for v in outputs.values()]
    assert shapes == [(2, nf, 16, 16), (2, 2 * nf, 8, 8), (2, 2 * nf, 8, 8),
                      (2, nf, 16, 16), (2, colours, 32, 32), (2, colours, 32, 32)]
    with torch.no_grad():
        torch.testing.assert_close(outputs['finalconv'], model(x))
    # the hooks are gone afterwards
    assert all(not m._forward_hooks for m in model.modules())


@needs_shared
@pytest.mark.parametrize('nf', [16, 32])
@pytest.mark.parametrize('name', NAMES)
def test_assignment_checkpoints_load_strictly(name, nf, assignment_weights):
    state = assignment_weights(name, nf)
    model = model_of(name, nf)
    model.load_state_dict(state, strict=True)
    for key, value in state.items():
        assert torch.equal(model.state_dict()[key], value), key


@needs_shared
@pytest.mark.parametrize('name', ['CNN', 'UNet', 'DUNet'])
def test_assignment_weights_colour_real_horses(name, assignment_weights, horses):
    """The forward wiring (block order, which tensors are concatenated in which order) matches the assignment's:
    its trained weights predict the right colour class for far more pixels than the most common class covers
    (about 7%); swapping the UNet concatenation order drops it to about that."""
    grey, classes = ColourClasses(load_colours(assignment_colours_path(24))).encode(to_float(horses[1][:100]))
    model = model_of(name, 32)
    model.load_state_dict(assignment_weights(name, 32))
    model.eval()
    with torch.no_grad():
        accuracy = (model(grey).argmax(1) == classes).float().mean().item()
    assert accuracy > 0.35


def test_flip_averaged_is_the_mean_with_the_mirror_image():
    torch.manual_seed(0)
    model = build_model(ModelConfig('UNet', 3, 4, 24)).eval()
    x = torch.rand(2, 1, 16, 16)
    averaged = FlipAveraged(model)
    with torch.no_grad():
        expected = (model(x) + model(x.flip(-1)).flip(-1)) / 2
        torch.testing.assert_close(averaged(x), expected)
        torch.testing.assert_close(averaged(x.flip(-1)), averaged(x).flip(-1))  # it is mirror-symmetric
        assert not torch.allclose(model(x.flip(-1)), model(x).flip(-1))  # the model alone is not


@pytest.mark.parametrize('field,value', [('name', 'ResNet'), ('kernel', 2), ('kernel', 0), ('kernel', '3'),
                                         ('filters', 0), ('filters', 4.0), ('out_channels', 0), ('in_channels', 0),
                                         ('dilation', -1)])
def test_model_config_refuses_a_model_that_cannot_be_built_naming_the_field(field, value):
    with pytest.raises(InputError) as e:
        ModelConfig(**{field: value})
    assert e.value.fields == (field,)


class WideUNet(UNet):
    """A network declared in a test: one class and one registry line, as a new network is in models.py."""
    stem, predicts, settings = 'wide_unet', None, ()

    def __init__(self, kernel, num_filters, num_colours, num_in_channels=1):
        super().__init__(kernel, 2 * num_filters, num_colours, num_in_channels)

    @staticmethod
    def spread(config):
        return 2


def test_a_network_declared_once_is_built_named_tiled_and_sized(monkeypatch):
    from colorlib.memory import need_bytes
    from colorlib.models import context
    from colorlib.naming import weights_name
    from colorlib.targets import TargetConfig
    monkeypatch.setitem(MODELS, 'WideUNet', WideUNet)
    config = ModelConfig('WideUNet', 3, 4, 24)
    model = build_model(config)
    assert isinstance(model, WideUNet) and model.downconv1[0].weight.shape[0] == 8
    assert model(torch.zeros(1, 1, 8, 8)).shape == (1, 24, 8, 8)
    assert context(config) > context(ModelConfig('UNet', 3, 4, 24))  # its own spread widens colorize's margins
    assert weights_name('WideUNet', TargetConfig(), 3, 4) == 'wide_unet_k3_f4'
    assert need_bytes(config, 'train', 10, 32, 32) > need_bytes(ModelConfig('UNet', 3, 4, 24), 'train', 10, 32, 32)
