"""Flips and shifts move the input (grey, or the downsized colour image of super-resolution) and its target
(colour classes or RGB) together, and only as far as they should."""
import pytest
import torch

from colorlib.augment import MAX_SHIFT, augment


def batch(n=64, size=8):
    grey = torch.rand(n, 1, size, size)
    target = (grey[:, 0] * 1000).long()  # a target that is a function of the pixel: pairs must stay aligned
    return grey, target


@pytest.mark.parametrize('kinds', [['hflip'], ['vflip'], ['shift'], ['hflip', 'vflip', 'shift']])
def test_input_and_target_move_together(kinds):
    grey, target = batch()
    out_grey, out_target = augment(grey, target, kinds, torch.Generator().manual_seed(0))
    assert out_grey.shape == grey.shape and out_target.shape == target.shape
    assert torch.equal((out_grey[:, 0] * 1000).long(), out_target)


@pytest.mark.parametrize('kinds', [['hflip'], ['vflip'], ['shift'], ['hflip', 'vflip', 'shift']])
def test_colour_input_and_rgb_target_move_together(kinds):
    """Super-resolution with RGB regression: a 3-channel input and a 3-channel float target."""
    inputs = torch.rand(64, 3, 8, 8)
    target = inputs.flip(1) * 2  # each pixel's target is a function of the same pixel, channels included
    out_inputs, out_target = augment(inputs, target, kinds, torch.Generator().manual_seed(0))
    assert out_inputs.shape == inputs.shape and out_target.shape == target.shape
    assert torch.equal(out_inputs.flip(1) * 2, out_target)
    assert not torch.equal(out_inputs, inputs)  # something moved


@pytest.mark.parametrize('kind, dim', [('hflip', -1), ('vflip', -2)])
def test_flips_flip_about_half_the_images(kind, dim):
    grey, target = batch(n=400)
    out, _ = augment(grey, target, [kind], torch.Generator().manual_seed(1))
    flipped = torch.tensor([torch.equal(o, g.flip(dim)) for o, g in zip(out, grey)])
    kept = torch.tensor([torch.equal(o, g) for o, g in zip(out, grey)])
    assert torch.all(flipped ^ kept)
    assert 150 < flipped.sum() < 250


def test_shift_is_a_translation_with_repeated_edges():
    grey = torch.rand(200, 1, 4, 4)
    out, _ = augment(grey, grey[:, 0].clone(), ['shift'], torch.Generator().manual_seed(2))
    seen = set()
    for o, g in zip(out, grey):
        # find the offset that explains this output: out[i, j] = g[clamp(i + dy), clamp(j + dx)]
        for dy in range(-MAX_SHIFT, MAX_SHIFT + 1):
            for dx in range(-MAX_SHIFT, MAX_SHIFT + 1):
                rows = (torch.arange(4) + dy).clamp(0, 3)
                cols = (torch.arange(4) + dx).clamp(0, 3)
                if torch.equal(o[0], g[0][rows][:, cols]):
                    seen.add((dy, dx))
                    break
            else:
                continue
            break
        else:
            pytest.fail('an output is not a clamped translation of its input')
    assert len(seen) > 10  # offsets vary from image to image


def test_same_generator_seed_same_result_and_unknown_kind():
    grey, target = batch()
    a = augment(grey, target, ['hflip', 'shift'], torch.Generator().manual_seed(3))
    b = augment(grey, target, ['hflip', 'shift'], torch.Generator().manual_seed(3))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    with pytest.raises(ValueError):
        augment(grey, target, ['rotate'])


def test_crops_move_input_and_target_alike_and_keep_classes_whole():
    gen = torch.Generator().manual_seed(0)
    grey = torch.rand(6, 1, 16, 16, generator=gen)
    rgb = grey.repeat(1, 3, 1, 1)
    out_grey, out_rgb = augment(grey, rgb, ['crop'], torch.Generator().manual_seed(1))
    assert out_grey.shape == grey.shape and torch.allclose(out_rgb, out_grey.repeat(1, 3, 1, 1))
    assert not torch.allclose(out_grey, grey)  # something was cropped
    classes = torch.randint(0, 24, (6, 16, 16), generator=gen)
    _, out_classes = augment(grey, classes, ['crop'], torch.Generator().manual_seed(1))
    assert out_classes.dtype == torch.long and out_classes.shape == classes.shape
    assert set(out_classes.unique().tolist()) <= set(classes.unique().tolist())  # nearest: no blended classes
    _, same = augment(grey, classes, ['crop'], torch.Generator().manual_seed(1))
    assert torch.equal(same, out_classes)  # the generator decides
