"""Tests for colorlib.fuse: a network with its batch norms folded in computes what the network computes."""
import pytest
import torch

from colorlib.fuse import inference_copy
from colorlib.models import FlipAveraged
from conftest import random_model


def count_norms(net):
    return sum(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())


@pytest.mark.parametrize('name', ['CNN', 'UNet', 'DUNet', 'RegressionCNN'])
def test_folded_copy_computes_the_same_and_leaves_the_net_alone(name):
    net = random_model(name, colours=3 if name == 'RegressionCNN' else 24)
    for module in net.modules():  # scales of both signs: a max-pool block with a negative one stays as it was
        if isinstance(module, torch.nn.BatchNorm2d):
            module.weight.data.uniform_(-1, 1)
    weights = {k: v.clone() for k, v in net.state_dict().items()}
    x = torch.rand(2, 1, 36, 44)
    fused = inference_copy(net)
    assert fused is not net and count_norms(fused) < count_norms(net)
    with torch.no_grad():
        torch.testing.assert_close(fused(x), net(x), atol=1e-4, rtol=1e-4)
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in weights.items())


def test_a_max_pool_before_a_negative_scale_is_not_folded():
    net = random_model('CNN')
    net.downconv1[2].weight.data.fill_(-1)  # every scale of the first block negative: a max would become a min
    fused = inference_copy(net)
    assert isinstance(fused.downconv1[2], torch.nn.BatchNorm2d)
    assert not isinstance(fused.rfconv[1], torch.nn.BatchNorm2d)
    x = torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(fused(x), net(x), atol=1e-4, rtol=1e-4)


def test_a_training_net_is_not_folded_and_a_changed_one_is_folded_again():
    net = random_model('UNet')
    assert inference_copy(net.train()) is net.train()  # batch statistics: nothing to fold
    net.eval()
    first = inference_copy(net)
    assert inference_copy(net) is first  # kept: films fold once, not once a frame
    assert inference_copy(FlipAveraged(net).eval()) is not first
    with torch.no_grad():
        net.finalconv.weight.mul_(2)  # what an optimiser's step does: in place
    again = inference_copy(net)
    assert again is not first
    x = torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(again(x), net(x), atol=1e-4, rtol=1e-4)
