"""Run names, sample grid rows and activation pictures."""
import pytest
import torch
from PIL import Image

from colorlib import shipped
from colorlib.images import to_float
from colorlib.models import ModelConfig, build_model
from colorlib.naming import run_name
from colorlib.report import quality, quality_line, sample_rows, save_activations
from colorlib.targets import RGB, ColourClasses, LabBins, TargetConfig


@pytest.fixture(scope='module')
def rgb(horses):
    return to_float(horses[1][:3])


def tiny_model(name, target):
    torch.manual_seed(0)
    return build_model(ModelConfig(name, 3, 4, out_channels=target.out_channels, in_channels=target.in_channels))


@pytest.mark.parametrize('model, kind, task, want', [
    ('CNN', 'classes', 'colour', 'cnn'),
    ('UNet', 'classes', 'colour', 'unet'),
    ('DUNet', 'classes', 'colour', 'dunet'),
    ('RegressionCNN', 'rgb', 'colour', 'regression_cnn'),
    ('UNet', 'lab', 'colour', 'unet_lab'),
    ('CNN', 'classes', 'superres', 'superres_cnn'),
    ('UNet', 'classes', 'superres', 'superres_unet'),
    ('UNet', 'rgb', 'superres', 'superres_unet_mse'),
    ('UNet', 'residual', 'superres', 'superres_unet_res'),
])
def test_run_name_of_every_shipped_model(model, kind, task, want):
    config = TargetConfig(kind='rgb', task=task, residual=True) if kind == 'residual' else TargetConfig(kind=kind,
                                                                                                      task=task)
    assert run_name(model, config) == want
    assert shipped.weights(f'{want}_k3_f32').is_file()  # the names the shipped weights go by


def test_run_name_with_a_label():
    assert run_name('UNet', TargetConfig(), 'UNet') == 'UNet'
    assert run_name('UNet', TargetConfig(task='superres'), 'UNet') == 'superres_UNet'
    assert run_name('UNet', TargetConfig(kind='lab'), 'UNet') == 'UNet_lab'
    assert run_name('UNet', TargetConfig(kind='rgb'), 'UNet') == 'UNet_mse'
    assert run_name('RegressionCNN', TargetConfig(kind='rgb'), 'regression') == 'regression'


def test_run_name_of_other_rgb_models():
    assert run_name('CNN', TargetConfig(kind='rgb')) == 'cnn_mse'
    assert run_name('DUNet', TargetConfig(kind='rgb', task='superres')) == 'superres_dunet_mse'
    assert run_name('RegressionCNN', TargetConfig(kind='rgb', task='superres')) == 'superres_regression_cnn'
    assert run_name('UNet', TargetConfig(kind='rgb', task='superres', residual=True)) == 'superres_unet_res'
    assert run_name('RegressionCNN', TargetConfig(kind='rgb', task='superres', residual=True)) == \
        'superres_regression_cnn_res'


@pytest.mark.parametrize('kind, labels', [
    ('classes-colour', ['grey input', 'truth (24 colours)', 'output']),
    ('classes-superres', ['downsized input', 'truth (24 colours)', 'output', 'bilinear', 'bicubic']),
    ('rgb-colour', ['grey input', 'truth', 'output']),
    ('rgb-superres', ['downsized input', 'truth', 'output', 'bilinear', 'bicubic']),
    ('lab', ['L input', 'truth ({} ab bins)', 'annealed mean, T=0.38', 'mode']),
])
def test_sample_rows(kind, labels, centres, bins, rgb):
    task = 'superres' if kind.endswith('superres') else 'colour'
    target = {'classes': lambda: ColourClasses(centres, task), 'rgb': lambda: RGB(task),
              'lab': lambda: LabBins(*bins)}[kind.split('-')[0]]()
    model = tiny_model('UNet', target).train()
    inputs, targets = target.encode(rgb)
    rows = sample_rows(model, target, inputs, targets)
    assert [label for label, _ in rows] == [label.format(len(bins[0])) for label in labels]
    assert not model.training  # the pictures come from the model in eval mode
    assert rows[0][1] is inputs and rows[0][1].shape == (3, target.in_channels, 32, 32)
    assert all(pictures.shape == (3, 3, 32, 32) for _, pictures in rows[1:])
    with torch.no_grad():
        torch.testing.assert_close(rows[2][1], target.decode(model(inputs), inputs))
    torch.testing.assert_close(rows[1][1], target.truth(inputs, targets)[1])


@pytest.mark.parametrize('name, blocks', [
    ('CNN', ['downconv1', 'downconv2', 'rfconv', 'upconv1', 'upconv2', 'finalconv']),
    ('UNet', ['downconv1', 'downconv2', 'rfconv', 'upconv1', 'upconv2', 'finalconv']),
])
def test_save_activations(name, blocks, centres, rgb, tmp_path):
    target = ColourClasses(centres)
    out_dir = save_activations(tiny_model(name, target), target, rgb[:1], tmp_path / 'acts', f'{name} test')
    want = {'input.png', 'output.png', *(f'{i}_{block}.png' for i, block in enumerate(blocks, 1))}
    assert {p.name for p in out_dir.iterdir()} == want
    for path in out_dir.iterdir():
        with Image.open(path) as image:
            assert image.format == 'PNG' and min(image.size) > 50


def test_save_activations_superres(centres, rgb, tmp_path):
    target = RGB('superres')
    out_dir = save_activations(tiny_model('UNet', target), target, rgb[:1], tmp_path, 'superres')
    assert len(list(out_dir.glob('*.png'))) == 8


def test_the_quality_line_of_pictures_too_small_for_ssim():
    truth = torch.rand(2, 3, 8, 8)
    line = quality_line(quality(truth * 0.5, truth))
    assert 'SSIM: n/a (pictures under 11 pixels)' in line and line.startswith('PSNR: ')
