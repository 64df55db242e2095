"""MyConv2d and MyDilatedConv2d against torch's own convolution, in float64 so tolerances stay tight."""
import math

import pytest
import torch
import torch.nn.functional as F

import colorlib.layers
from colorlib.layers import MyConv2d, MyDilatedConv2d

TIGHT = dict(rtol=1e-10, atol=1e-10)


def make(layer_cls, in_c, out_c, k, seed=0, **kwargs):
    torch.manual_seed(seed)
    layer = layer_cls(in_c, out_c, k, **kwargs).double()
    with torch.no_grad():  # non-zero bias so a dropped bias would show
        layer.bias.normal_()
    return layer


@pytest.mark.parametrize('k', [1, 3, 5, 7])
def test_myconv_equals_conv2d(k):
    layer = make(MyConv2d, 3, 4, k)
    x = torch.randn(2, 3, 9, 11, dtype=torch.float64)
    out = layer(x)
    assert out.shape == (2, 4, 9, 11)  # 'same' size, non-square too
    torch.testing.assert_close(out, F.conv2d(x, layer.weight, layer.bias, padding=k // 2), **TIGHT)


@pytest.mark.parametrize('cls,extra', [(MyConv2d, {}), (MyDilatedConv2d, {'dilation': 2})])
def test_parameters_are_weight_and_bias_only(cls, extra):
    layer = cls(5, 7, 3, **extra)
    shapes = {name: tuple(p.shape) for name, p in layer.named_parameters()}
    # the dilated layer keeps the k x k taps as its parameter, so checkpoints match the plain layer
    assert shapes == {'weight': (7, 5, 3, 3), 'bias': (7,)}
    assert set(layer.state_dict()) == {'weight', 'bias'}


def test_myconv_initialisation_like_nn_conv2d():
    layer = MyConv2d(8, 16, 3)
    bound = 1 / math.sqrt(8 * 3 * 3)
    for p in (layer.weight, layer.bias):
        assert p.abs().max() <= bound
        assert p.std() > bound / 4  # actually spread out, not zeros or a constant


@pytest.mark.parametrize('in_c,out_c', [(1, 1), (2, 5), (6, 3)])
@pytest.mark.parametrize('k', [3, 5])
@pytest.mark.parametrize('d', [0, 1, 2, 3])
def test_dilated_equals_conv2d_forward_and_backward(d, k, in_c, out_c):
    layer = make(MyDilatedConv2d, in_c, out_c, k, seed=d * 100 + k, dilation=d)
    x = torch.randn(2, in_c, 13, 10, dtype=torch.float64, requires_grad=True)
    out = layer(x)
    assert out.shape == (2, out_c, 13, 10)

    w = layer.weight.detach().clone().requires_grad_()
    b = layer.bias.detach().clone().requires_grad_()
    x_ref = x.detach().clone().requires_grad_()
    ref = F.conv2d(x_ref, w, b, dilation=d + 1, padding=(k // 2) * (d + 1))
    torch.testing.assert_close(out, ref, **TIGHT)

    upstream = torch.randn_like(ref)
    got = torch.autograd.grad((out * upstream).sum(), [x, layer.weight, layer.bias])
    want = torch.autograd.grad((ref * upstream).sum(), [x_ref, w, b])
    for g, r, name in zip(got, want, ['input', 'weight', 'bias']):
        assert g.shape == r.shape, name
        torch.testing.assert_close(g, r, **TIGHT, msg=f'gradient w.r.t. {name}')


def test_dilation_zero_is_the_plain_convolution():
    plain = make(MyConv2d, 3, 4, 3)
    dilated = MyDilatedConv2d(3, 4, 3, dilation=0).double()
    dilated.load_state_dict(plain.state_dict())
    x = torch.randn(1, 3, 8, 8, dtype=torch.float64)
    torch.testing.assert_close(dilated(x), plain(x), **TIGHT)


def test_dilated_receptive_field_of_an_impulse():
    """d=1, k=3 (the handout's Figure 1): one bright pixel reaches a 5x5 footprint, taps 2 pixels apart."""
    layer = MyDilatedConv2d(1, 1, 3, dilation=1).double()
    with torch.no_grad():
        layer.weight.copy_(torch.arange(1.0, 10.0).view(1, 1, 3, 3))
        layer.bias.zero_()
    x = torch.zeros(1, 1, 11, 11, dtype=torch.float64)
    x[0, 0, 5, 5] = 1
    out = layer(x)[0, 0].detach()

    rows, cols = out.nonzero(as_tuple=True)
    assert len(rows) == 9
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (3, 7, 3, 7)
    # cross-correlation: the impulse response is the kernel flipped, sampled every second pixel
    torch.testing.assert_close(out[3:8:2, 3:8:2], layer.weight[0, 0].detach().flip(0, 1))
    assert out[4:7:2].abs().sum() == 0 and out[:, 4:7:2].abs().sum() == 0  # the holes between taps


def test_dilated_forward_does_not_use_the_dilation_argument(monkeypatch):
    calls = []
    real = F.conv2d

    def spy(*args, **kwargs):
        calls.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(colorlib.layers.F, 'conv2d', spy)
    layer = make(MyDilatedConv2d, 2, 3, 3, dilation=2)
    x = torch.randn(1, 2, 12, 12, dtype=torch.float64)
    out = layer(x)
    assert calls, 'expected the forward to do its arithmetic with F.conv2d'
    for args, kwargs in calls:
        positional = args[5] if len(args) > 5 else 1  # conv2d(input, weight, bias, stride, padding, dilation, ...)
        assert kwargs.get('dilation', 1) in (1, (1, 1)) and positional in (1, (1, 1))
    monkeypatch.undo()
    ref = F.conv2d(x, layer.weight, layer.bias, dilation=3, padding=3)
    torch.testing.assert_close(out, ref, **TIGHT)


@pytest.mark.parametrize('parts', [(24, 1), (3, 3), (8, 5, 2)])
def test_stacked_inputs_are_the_convolution_of_their_concatenation(parts):
    """conv(a, b) is conv(cat([a, b])): the same outputs and the same gradients for the weight, bias and inputs."""
    torch.manual_seed(0)
    conv = MyConv2d(sum(parts), 6, 3)
    xs = [torch.randn(2, c, 8, 8, requires_grad=True) for c in parts]
    upstream = torch.randn(2, 6, 8, 8)
    together = conv(torch.cat(xs, 1))
    grads = torch.autograd.grad(together, [conv.weight, conv.bias, *xs], upstream)
    apart = conv(*xs)
    torch.testing.assert_close(apart, together, rtol=1e-5, atol=1e-5)
    for mine, theirs in zip(torch.autograd.grad(apart, [conv.weight, conv.bias, *xs], upstream), grads):
        torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-4)
