"""What a run is called and what it shows: the run name, the validation figures, sample grids and
activations."""
from pathlib import Path

import torch

from colorlib.metrics import colourfulness, psnr, ssim
from colorlib.files import may_write
from colorlib.models import FlipAveraged, layer_outputs
from colorlib.plots import save_activation_tiles, save_sample_grid
from colorlib.train import evaluate, evaluate_legacy, predict

FILE_NAMES = {'RegressionCNN': 'regression_cnn', 'CNN': 'cnn', 'UNet': 'unet', 'DUNet': 'dunet'}
NUM_SAMPLES = 10


def run_name(model, target, label=None):
    """'unet', 'unet_lab', 'superres_unet_mse', 'regression_cnn', ...: the stem of experiment folders and pictures.
    `label` spells the model otherwise (the assignment's eval_UNet.png); the RegressionCNN predicts RGB by
    definition, so its name does not say mse."""
    tag = f'_{target.tag}' if target.tag and (model, target.tag) != ('RegressionCNN', 'mse') else ''
    return f'{target.prefix}{label or FILE_NAMES[model]}{tag}'


def weights_name(model, target, kernel, filters):
    """The stem of a weights file and of a run's default folder: 'unet_k3_f32', 'superres_unet_mse_k3_f32', ..."""
    return f'{run_name(model, target)}_k{kernel}_f{filters}'


def quality(pictures, truth):
    """The picture line of a validation: PSNR and SSIM against the truth, and the colourfulness of both."""
    return (f'PSNR: {psnr(pictures, truth):.2f} dB, SSIM: {ssim(pictures, truth):.4f}, '
            f'colourfulness: {colourfulness(pictures):.1f} (truth {colourfulness(truth):.1f})')


@torch.inference_mode()
def sample_rows(model, target, inputs, targets):
    """The rows of a sample grid: the input, the truth as the target encodes it, the network's pictures and the
    baselines it must beat."""
    model.eval()
    return [(target.input_label, inputs), target.truth(inputs, targets),
            *target.pictures(model(inputs), inputs), *target.baselines(inputs)]


def loss_line(loss, acc):
    return f'Val Loss: {loss:.4f}' + ('' if acc is None else f', Val Acc: {acc:.1f}%')


def validate(model, target, test_set, truth, grid_path, legacy_order=None, batch_size=100, amp=False, flips=False,
             reads=()):
    """Print the loss line (the assignment's figures), then PSNR, SSIM and colourfulness of the pictures against the
    full-colour truth (BatchNorm in eval mode) and of each baseline, and write a sample grid to grid_path.

    legacy_order: evaluate as the assignment did (BatchNorm in training mode), on the test set in that order.
    flips: also the figures of the model averaged with its mirror image (test-time augmentation), apart.
    The grid replaces an earlier one of its name, never one of the files the run `reads`."""
    inputs, targets = test_set
    if legacy_order is None:
        loss, acc = evaluate(model, target, inputs, targets, amp=amp)
    else:
        order = legacy_order.to(inputs.device)
        loss, acc = evaluate_legacy(model, target, inputs[order], targets[order], batch_size)
    print(loss_line(loss, acc))
    print(quality(predict(model, target, inputs), truth))
    for name, pictures in target.baselines(inputs):
        print(f'{name.capitalize()} {quality(pictures, truth)}')
    if flips:
        averaged = FlipAveraged(model)
        print(f'With flip averaging: {loss_line(*evaluate(averaged, target, inputs, targets, amp=amp))}; '
              f'{quality(predict(averaged, target, inputs), truth)}')
    rows = sample_rows(model, target, inputs[:NUM_SAMPLES], targets[:NUM_SAMPLES])
    print(f'Sample output available at: {save_sample_grid(rows, grid_path, replace=True, reads=reads)}')


def save_activations(model, target, rgb, out_dir, title, reads=()):
    """For one image (float RGB (1, 3, H, W)): its input, one tile sheet per block of the model, and the decoded
    output beside the truth, as PNGs in out_dir, each replacing an earlier one of its name, never
    one of the files the run `reads`."""
    out_dir = Path(out_dir)
    inputs = target.inputs(rgb)
    model.eval()
    outputs = layer_outputs(model, inputs)
    first, last = out_dir / 'input.png', out_dir / 'output.png'
    blocks = [out_dir / f'{i}_{name}.png' for i, name in enumerate(outputs, 1)]
    for path in (first, *blocks, last):  # all, before any is written
        may_write(path, True, reads)
    for path, (name, activation) in zip(blocks, outputs.items()):
        active = 100 * (activation > 0).float().mean().item()  # after ReLU: how sparse the block is
        save_activation_tiles(activation[0], path,
                              f'{title} {name}: {activation.shape[1]} channels, {active:.0f}% of values > 0',
                              replace=True, reads=reads)
    save_sample_grid([(target.input_label, inputs)], first, replace=True, reads=reads)
    save_sample_grid([('output', target.decode(outputs['finalconv'], inputs)), ('truth', rgb)], last, replace=True,
                     reads=reads)
    return out_dir
