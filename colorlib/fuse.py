"""A network made ready for colouring: each evaluation-mode BatchNorm folded into the convolution before it.

In evaluation BatchNorm is a fixed scale and shift per channel, so it is the same as scaling that channel's filter
and bias: the copy computes the same numbers (up to float rounding) with one pass over each activation fewer, and
the ReLU of an up block runs before its nearest-neighbour upsampling, on a quarter of the pixels (the two commute).
On a 2-core CPU the batch norms, ReLUs and upsamplings are a third of a UNet's time (bench/video_speed.py). Only
colouring uses the copy; the network and its weights are left as they are.
"""
import copy
import weakref

import torch
import torch.nn as nn

from colorlib.layers import MyConv2d


RECENT = []  # (the net's type, weak references to its tensors, their versions and places, the folded copy)
KEEP = 4  # copies kept: a film's frames, a model and its mirror-averaged wrapper, a few models in turn


def inference_copy(net):
    """A copy of `net` with its blocks of (convolution, [max-pool or nearest upsampling], BatchNorm, ReLU) folded;
    `net` itself if it is training (its BatchNorms then use each batch's own statistics).

    Copying costs a film about a tenth of a small frame's time, so the last few copies are kept and given again
    while the net's parameters and buffers are the same tensors, unchanged: an in-place change (an optimiser's
    step, load_state_dict) moves a tensor's version counter, a move to another device or dtype its storage."""
    if net.training:
        return net
    tensors = [*net.parameters(), *net.buffers()]
    state = [(t._version, t.data_ptr(), t.dtype, t.device) for t in tensors]
    for kind, refs, kept, fused in RECENT:
        if (kind is type(net) and kept == state and len(refs) == len(tensors)
                and all(ref() is t for ref, t in zip(refs, tensors))):
            return fused
    fused = copy.deepcopy(net)
    fold_blocks(fused)
    RECENT.insert(0, (type(net), [weakref.ref(t) for t in tensors], state, fused))
    del RECENT[KEEP:]
    return fused


def fold_blocks(module):
    for name, child in module.named_children():
        if isinstance(child, nn.Sequential):
            setattr(module, name, folded(child))
        else:
            fold_blocks(child)


@torch.no_grad()
def folded(block):
    """The Sequential `block` with its BatchNorm folded into its convolution, or as it is where that is not exact:
    another pattern of layers, or a max-pool before the BatchNorm with a negative scale (a max does not commute
    with a flip of sign)."""
    layers = list(block)
    if not (len(layers) in (3, 4) and isinstance(layers[0], MyConv2d) and isinstance(layers[-2], nn.BatchNorm2d)
            and isinstance(layers[-1], nn.ReLU)):
        return block
    conv, norm, between = layers[0], layers[-2], layers[1:-2]
    if norm.training or not norm.track_running_stats:
        return block
    scale = norm.running_var.add(norm.eps).rsqrt()
    scale = scale * norm.weight if norm.affine else scale
    shift = -norm.running_mean * scale + (norm.bias if norm.affine else 0)
    if between and isinstance(between[0], nn.MaxPool2d):
        if not (scale > 0).all():
            return block
        order = [conv, between[0], nn.ReLU(inplace=True)]
    elif between and isinstance(between[0], nn.Upsample) and between[0].mode == 'nearest':
        order = [conv, nn.ReLU(inplace=True), between[0]]
    elif not between:
        order = [conv, nn.ReLU(inplace=True)]
    else:
        return block
    conv.weight.mul_(scale[:, None, None, None])
    conv.bias.mul_(scale).add_(shift)
    return nn.Sequential(*order)
