"""The target interface: one contract every kind meets (colour classes, RGB regression, Lab bins; colour and
superres), then what each kind does of its own."""
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from colorlib.errors import InputError
from colorlib.images import to_float
from colorlib.models import ModelConfig, build_model
from colorlib.superres import downsize, upsample
from colorlib.targets import RGB, ColourClasses, LabBins, Target, TargetConfig, build_target
from conftest import one_line_error

# name -> (make(centres, bins), in_channels, out_channels (None: the number of bins), has_accuracy)
CASES = {
    'classes-colour': (lambda c, b: ColourClasses(c), 1, 24, True),
    'classes-superres': (lambda c, b: ColourClasses(c, 'superres'), 3, 24, True),
    'rgb-colour': (lambda c, b: RGB(), 1, 3, False),
    'rgb-superres': (lambda c, b: RGB('superres'), 3, 3, False),
    'rgb-residual': (lambda c, b: RGB('superres', residual=True), 3, 3, False),
    'lab-plain': (lambda c, b: LabBins(*b), 1, None, True),
    'lab-rebalanced-soft': (lambda c, b: LabBins(*b, rebalance=0.5, soft=True), 1, None, True),
}


@pytest.fixture(scope='module')
def rgb(horses):
    """Four real test horses, float (4, 3, 32, 32) in [0, 1)."""
    return to_float(horses[1][:4])


@pytest.fixture(params=list(CASES))
def case(request, centres, bins):
    """(target, expected in_channels, expected out_channels, expected has_accuracy, make)."""
    make, in_channels, out_channels, accuracy = CASES[request.param]
    return make(centres, bins), in_channels, out_channels or len(bins[0]), accuracy, make


def best_outputs(target, targets):
    """What a perfect network would output: sharp one-hot scores for classes, the RGB itself for regression."""
    if target.has_accuracy:
        return 50 * F.one_hot(targets, target.out_channels).permute(0, 3, 1, 2).float()
    return targets.clone()


def tiny_model(name, target):
    return build_model(ModelConfig(name, 3, 4, out_channels=target.out_channels, in_channels=target.in_channels))

# -----------------------------------------------------------------------------
# the contract


def test_channels_match_encode_and_models(case, rgb):
    target, in_channels, out_channels, _, _ = case
    assert (target.in_channels, target.out_channels) == (in_channels, out_channels)
    inputs, _ = target.encode(rgb)
    assert inputs.shape == (4, in_channels, 32, 32) and inputs.dtype == torch.float32
    for name in ('CNN', 'UNet', 'DUNet'):
        model = tiny_model(name, target).eval()
        with torch.no_grad():
            assert model(inputs).shape == (4, out_channels, 32, 32), name


def test_encode_targets(case, rgb):
    target, _, out_channels, accuracy, _ = case
    _, targets = target.encode(rgb)
    if accuracy:
        assert targets.shape == (4, 32, 32) and targets.dtype == torch.int64
        assert targets.min() >= 0 and targets.max() < out_channels
        assert len(targets.unique()) > 3  # real horses use several classes
    else:
        assert targets.shape == (4, 3, 32, 32) and targets.dtype == torch.float32


def test_loss_is_finite_scalar_with_gradients(case, rgb):
    target = case[0]
    inputs, targets = target.encode(rgb)
    model = tiny_model('UNet', target)
    loss = target.loss(model(inputs), targets)
    assert loss.dim() == 0 and torch.isfinite(loss) and loss > 0
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)


def test_decode_gives_pictures_in_range(case, rgb):
    target = case[0]
    inputs, _ = target.encode(rgb)
    outputs = 5 * torch.randn(4, target.out_channels, 32, 32, generator=torch.Generator().manual_seed(0))
    pictures = target.decode(outputs, inputs)
    assert pictures.shape == (4, 3, 32, 32)
    assert pictures.min() >= 0 and pictures.max() <= 1


def test_decoding_the_best_outputs_gives_the_truth(case, rgb):
    target = case[0]
    inputs, targets = target.encode(rgb)
    label, truth = target.truth(inputs, targets)
    assert isinstance(label, str) and label.startswith('truth')
    assert truth.shape == (4, 3, 32, 32)
    torch.testing.assert_close(target.decode(best_outputs(target, targets), inputs), truth, atol=1e-3, rtol=0)
    assert (truth - rgb).abs().mean() < 0.05  # the truth is the picture, up to the classes' quantisation


def test_has_accuracy_matches_kind(case):
    target, _, _, accuracy, _ = case
    assert target.has_accuracy is accuracy
    assert target.has_accuracy == (not isinstance(target, RGB))


def test_pictures_first_row_is_decode(case, rgb):
    target = case[0]
    inputs, _ = target.encode(rgb)
    outputs = torch.randn(4, target.out_channels, 32, 32, generator=torch.Generator().manual_seed(1))
    rows = target.pictures(outputs, inputs)
    assert all(isinstance(label, str) and pictures.shape == (4, 3, 32, 32) for label, pictures in rows)
    torch.testing.assert_close(rows[0][1], target.decode(outputs, inputs), atol=0, rtol=0)


def test_baselines(case, rgb):
    target = case[0]
    inputs, _ = target.encode(rgb)
    baselines = target.baselines(inputs)
    if target.task == 'colour':
        assert baselines == []
        return
    assert [name for name, _ in baselines] == ['bilinear', 'bicubic']
    for name, pictures in baselines:  # upsampled from the very image the input was made of
        torch.testing.assert_close(pictures, upsample(downsize(rgb), name), atol=1e-6, rtol=0)
        assert pictures.min() >= 0 and pictures.max() <= 1


def test_describe_is_plain_and_follows_the_centres(case, centres, bins):
    target, make = case[0], case[-1]
    described = target.describe()
    assert json.loads(json.dumps(described)) == described
    assert described['kind'] == target.kind and described['task'] == target.task  # its word, as in the weights
    moved = make((centres + 0.01).clamp(0, 1), (bins[0] + 1, bins[1]))
    assert moved.out_channels == target.out_channels
    if isinstance(target, RGB):
        assert moved.describe() == described  # no centres to follow
    else:
        assert moved.describe() != described


def test_describe_tells_the_cases_apart(centres, bins):
    described = [json.dumps(make(centres, bins).describe(), sort_keys=True) for make, *_ in CASES.values()]
    assert len(set(described)) == len(CASES)


def test_unknown_task():
    with pytest.raises(InputError, match='superres') as e:
        RGB('denoise')
    assert e.value.fields == ('target.task',)

# -----------------------------------------------------------------------------
# each kind


@pytest.mark.parametrize('task', ['colour', 'superres'])
def test_colour_classes_are_the_nearest_centre(task, centres, rgb):
    inputs, targets = ColourClasses(centres, task).encode(rgb)
    pixels = rgb.double().permute(0, 2, 3, 1)[..., None, :]
    distance = ((pixels - centres.double()) ** 2).sum(-1)  # (N, H, W, k)
    got = distance.gather(-1, targets[..., None])[..., 0]
    torch.testing.assert_close(got, distance.min(-1).values, atol=1e-6, rtol=0)  # a nearest one, ties allowed
    want_inputs = rgb.mean(1, keepdim=True) if task == 'colour' else upsample(downsize(rgb), 'nearest')
    torch.testing.assert_close(inputs, want_inputs)


def test_colour_classes_loss_is_cross_entropy(centres, rgb):
    target = ColourClasses(centres)
    _, targets = target.encode(rgb)
    outputs = torch.randn(4, 24, 32, 32)
    torch.testing.assert_close(target.loss(outputs, targets), F.cross_entropy(outputs, targets))


@pytest.mark.parametrize('task', ['colour', 'superres'])
def test_rgb_targets_are_the_picture_and_loss_is_mse(task, rgb):
    target = RGB(task)
    _, targets = target.encode(rgb)
    torch.testing.assert_close(targets, rgb, atol=0, rtol=0)
    outputs = torch.rand(4, 3, 32, 32)
    torch.testing.assert_close(target.loss(outputs, targets), ((outputs - rgb) ** 2).mean())
    assert target.decode(torch.full_like(rgb, 2.0), None).max() == 1  # clamped to [0, 1]


def test_residual_targets_are_what_bicubic_misses(rgb):
    target = RGB('superres', residual=True)
    inputs, targets = target.encode(rgb)
    bicubic = upsample(downsize(rgb), 'bicubic')
    torch.testing.assert_close(targets, rgb - bicubic, atol=1e-6, rtol=0)
    torch.testing.assert_close(target.decode(torch.zeros_like(rgb), inputs), bicubic, atol=1e-6, rtol=0)
    outputs = 0.1 * torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    # the same loss as predicting the picture itself: the MSE of bicubic plus the outputs against the truth
    torch.testing.assert_close(target.loss(outputs, targets), ((outputs + bicubic - rgb) ** 2).mean())
    assert TargetConfig(kind='rgb', task='superres', residual=True).tag == 'res'
    assert TargetConfig(kind='rgb', task='superres').tag == 'mse'


def test_residual_needs_superres():
    with pytest.raises(InputError, match='super-resolution') as e:
        RGB('colour', residual=True)
    assert e.value.fields == ('target.residual',) and e.value.needs == {'target.task': 'superres'}


def srgb_lightness(rgb):
    """CIE L* of sRGB in [0, 1] (D65), written out independently of kornia: (N, 3, H, W) -> (N, 1, H, W)."""
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    y = 0.2126 * linear[:, 0] + 0.7152 * linear[:, 1] + 0.0722 * linear[:, 2]
    f = np.where(y > (6 / 29) ** 3, np.cbrt(y), y / (3 * (6 / 29) ** 2) + 4 / 29)
    return (116 * f - 16)[:, None]


def test_lab_inputs_are_lightness_over_100(bins, rgb):
    target = LabBins(*bins)
    inputs, targets = target.encode(rgb)
    np.testing.assert_allclose(inputs.numpy(), srgb_lightness(rgb.double().numpy()) / 100, atol=2e-3)
    torch.testing.assert_close(target.inputs(rgb), inputs)
    assert target.input_label == 'L input' and target.task == 'colour'


def test_lab_rebalance_and_soft_change_the_loss(bins, rgb):
    plain = LabBins(*bins)
    _, targets = plain.encode(rgb)
    outputs = torch.randn(4, plain.out_channels, 32, 32, generator=torch.Generator().manual_seed(2))
    loss = plain.loss(outputs, targets)
    torch.testing.assert_close(loss, F.cross_entropy(outputs, targets))  # no weights, one-hot
    torch.testing.assert_close(LabBins(*bins, rebalance=1.0).loss(outputs, targets), loss)  # lambda 1: uniform
    others = [LabBins(*bins, rebalance=0.5).loss(outputs, targets), LabBins(*bins, soft=True).loss(outputs, targets),
              LabBins(*bins, rebalance=0.5, soft=True).loss(outputs, targets)]
    assert all(abs(other - loss) > 1e-3 for other in others)
    assert abs(others[0] - others[2]) > 1e-3 and abs(others[1] - others[2]) > 1e-3


def test_lab_pictures_are_annealed_mean_and_mode(bins, rgb):
    target = LabBins(*bins, temperature=0.5)
    inputs, _ = target.encode(rgb)
    outputs = torch.randn(4, target.out_channels, 32, 32)
    (mean_label, mean), (mode_label, mode) = target.pictures(outputs, inputs)
    assert mean_label == 'annealed mean, T=0.5' and mode_label == 'mode'
    torch.testing.assert_close(mode, target.decode(outputs, inputs, temperature=0))
    assert (mean - mode).abs().max() > 0.01


def test_base_target_is_abstract(rgb):
    with pytest.raises(NotImplementedError):
        Target().encode(rgb)


# -----------------------------------------------------------------------------
# configs: the rules of which settings go together, said once


@pytest.mark.parametrize('settings, field, needs', [
    (dict(kind='rgb', residual=True), 'target.residual', {'target.task': 'superres'}),
    (dict(kind='classes', task='superres', residual=True), 'target.residual', {'target.kind': 'rgb'}),
    (dict(kind='lab', residual=True), 'target.residual', {'target.task': 'superres', 'target.kind': 'rgb'}),
    (dict(kind='lab', task='superres'), 'target.kind', {'target.task': 'colour'}),  # and target.task
    (dict(kind='hsv'), 'target.kind', {}),
    (dict(task='denoise'), 'target.task', {}),
    (dict(kind='lab', rebalance=1.5), 'target.rebalance', {}),
    (dict(kind='lab', temperature=float('nan')), 'target.temperature', {}),
], ids=['residual-colour', 'residual-classes', 'residual-lab', 'lab-superres', 'kind', 'task', 'rebalance',
        'temperature'])
def test_a_config_that_cannot_be_built_names_its_fields(settings, field, needs):
    with pytest.raises(InputError) as e:
        TargetConfig(**settings)
    one_line_error(e)
    assert e.value.fields[0] == field and e.value.needs == needs


def test_build_target_of_each_kind(centres, bins):
    classes = build_target(TargetConfig())
    assert isinstance(classes, ColourClasses) and classes.out_channels == 24 and classes.config == TargetConfig()
    residual = build_target(TargetConfig(kind='rgb', task='superres', residual=True))
    assert isinstance(residual, RGB) and residual.residual and residual.in_channels == 3
    lab = build_target(TargetConfig(kind='lab', rebalance=0.5, soft=True, temperature=0.2))
    assert isinstance(lab, LabBins) and (lab.rebalance, lab.soft, lab.temperature) == (0.5, True, 0.2)


def test_build_target_takes_the_stored_palette_unless_a_file_is_given(tmp_path):
    stored = {'colours.centres': torch.rand(5, 3)}
    assert torch.equal(build_target(TargetConfig(), palette=stored).centres, stored['colours.centres'])
    (tmp_path / 'bad.npy').write_bytes(b'not a colour file')
    with pytest.raises(InputError) as e:
        build_target(TargetConfig(colours=str(tmp_path / 'bad.npy')), palette=stored)
    one_line_error(e, 'bad.npy', 'not a colour file')
    assert e.value.fields == ('target.colours',)
    with pytest.raises(InputError) as e:
        build_target(TargetConfig(kind='lab', bins=str(tmp_path / 'none.npy')))
    assert e.value.fields == ('target.bins',)


def test_build_target_fits_the_colours_on_given_pictures(horses):
    fitted = build_target(TargetConfig(), fit_on=horses[0][:20])
    assert fitted.out_channels == 24 and not torch.equal(fitted.centres, build_target(TargetConfig()).centres)


@pytest.mark.parametrize('kind', ['classes', 'lab'])
def test_a_palette_goes_with_the_weights_only_where_no_file_holds_it(kind, tmp_path):
    """Colours fitted on one's pictures, or read from weights, are kept with new weights; a file's or the shipped
    ones are not (they can be given again)."""
    config, file = TargetConfig(kind=kind), 'bins' if kind == 'lab' else 'colours'
    shipped = build_target(config)
    assert (shipped.palette_from, shipped.keeps_palette) == ('shipped', False)
    saved = tmp_path / f'mine.{file}.npy'
    shipped.save_palette(saved)
    given = build_target(TargetConfig(kind=kind, **{file: str(saved)}))
    assert (given.palette_from, given.keeps_palette) == ('file', False)
    stored = build_target(config, palette=shipped.palette_state())
    assert (stored.palette_from, stored.keeps_palette) == ('weights', True)
    pictures = (np.random.default_rng(0).random((8, 8, 8, 3)) * 255).astype(np.uint8)
    fitted = build_target(config, fit_on=pictures)
    assert (fitted.palette_from, fitted.keeps_palette) == ('fitted', True)
    assert build_target(TargetConfig(kind='rgb')).keeps_palette is False


def test_colour_classes_chroma_is_the_ab_of_their_decoding():
    """ColourClasses.chroma looks each class's ab up: the same as converting the decoded picture."""
    from colorlib.colours import load_colours
    from colorlib.lab import rgb_to_lab
    from colorlib.shipped import DEFAULT_COLOURS
    target = ColourClasses(load_colours(DEFAULT_COLOURS))
    outputs = torch.randn(2, 24, 9, 11)
    outputs[:, 3] = outputs[:, 7]  # ties: the first of the equal scores wins, as argmax has it
    torch.testing.assert_close(target.chroma(outputs, None), rgb_to_lab(target.decode(outputs, None))[:, 1:],
                               atol=1e-4, rtol=0)
