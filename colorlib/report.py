"""What a model shows: the validation figures, sample grids and the activations of each block."""
from pathlib import Path

import torch

from colorlib.metrics import SSIM_WINDOW, colourfulness, psnr, ssim
from colorlib.files import may_write
from colorlib.memory import check_fits
from colorlib.models import FlipAveraged, layer_outputs
from colorlib.plots import activation_tiles, sample_grid, save_figure
from colorlib.train import evaluate, evaluate_legacy, predict

NUM_SAMPLES = 10


def quality(pictures, truth):
    """PSNR and SSIM of pictures against the truth, and the colourfulness of both."""
    return {'psnr': psnr(pictures, truth), 'ssim': ssim(pictures, truth), 'colourfulness': colourfulness(pictures),
            'truth_colourfulness': colourfulness(truth)}


def quality_line(q):
    ssim = f'n/a (pictures under {SSIM_WINDOW} pixels)' if q['ssim'] is None else f'{q["ssim"]:.4f}'
    return (f'PSNR: {q["psnr"]:.2f} dB, SSIM: {ssim}, colourfulness: {q["colourfulness"]:.1f} '
            f'(truth {q["truth_colourfulness"]:.1f})')


def loss_line(loss, acc):
    return f'Val Loss: {loss:.4f}' + ('' if acc is None else f', Val Acc: {acc:.1f}%')


def figures(model, target, test_set, truth, legacy_order=None, batch_size=100, amp=False, flips=False):
    """The validation figures as a dict: the loss and pixel accuracy (the assignment's figures; accuracy None
    without classes), the quality of the pictures against the full-colour truth (BatchNorm in eval mode), the
    same of each baseline ('baselines': {name: quality}), and with `flips` of the model averaged with its mirror
    image ('flips': {loss, accuracy, quality}).

    legacy_order: evaluate as the assignment did (BatchNorm in training mode), on the test set in that order."""
    inputs, targets = test_set
    if legacy_order is None:
        loss, acc = evaluate(model, target, inputs, targets, batch_size, amp)
    else:
        order = legacy_order.to(inputs.device)
        loss, acc = evaluate_legacy(model, target, inputs[order], targets[order], batch_size)
    result = {'loss': loss, 'accuracy': acc, **quality(predict(model, target, inputs, batch_size), truth),
              'baselines': {name: quality(pictures, truth) for name, pictures in target.baselines(inputs)}}
    if flips:
        averaged = FlipAveraged(model)
        flip_loss, flip_acc = evaluate(averaged, target, inputs, targets, batch_size, amp)
        result['flips'] = {'loss': flip_loss, 'accuracy': flip_acc,
                           **quality(predict(averaged, target, inputs, batch_size), truth)}
    return result


def lines(result):
    """figures() as the lines the command line prints: the loss line, the picture line, one per baseline and the
    flip-averaged figures."""
    said = [loss_line(result['loss'], result['accuracy']), quality_line(result)]
    said += [f'{name.capitalize()} {quality_line(q)}' for name, q in result['baselines'].items()]
    if 'flips' in result:
        flips = result['flips']
        said.append(f'With flip averaging: {loss_line(flips["loss"], flips["accuracy"])}; {quality_line(flips)}')
    return said


@torch.inference_mode()
def sample_rows(model, target, inputs, targets):
    """The rows of a sample grid: the input, the truth as the target encodes it, the network's pictures and the
    baselines it must beat."""
    model.eval()
    return [(target.input_label, inputs), target.truth(inputs, targets),
            *target.pictures(model(inputs), inputs), *target.baselines(inputs)]


def samples(model, target, inputs, targets):
    """The sample grid of the first NUM_SAMPLES test images, as a figure."""
    return sample_grid(sample_rows(model, target, inputs[:NUM_SAMPLES], targets[:NUM_SAMPLES]))


def activations(model, target, rgb, title=''):
    """For one image (float RGB (1, 3, H, W)): {name: figure}, its input ('input'), one tile sheet per block of
    the model ('1_downconv1', ...) and the decoded output beside the truth ('output'); refused before it runs where
    it would not fit in memory (colorlib.memory.check_fits)."""
    config = getattr(model, 'config', None)
    if config is not None:
        check_fits(config, 'activations', rgb.device, 1, *rgb.shape[-2:], chosen=(), picture_field='image')
    inputs = target.inputs(rgb)
    model.eval()
    outputs = layer_outputs(model, inputs)
    pictures = {'input': sample_grid([(target.input_label, inputs)])}
    for i, (name, activation) in enumerate(outputs.items(), 1):
        active = 100 * (activation > 0).float().mean().item()  # after ReLU: how sparse the block is
        pictures[f'{i}_{name}'] = activation_tiles(
            activation[0], f'{title} {name}: {activation.shape[1]} channels, {active:.0f}% of values > 0'.strip())
    pictures['output'] = sample_grid([('output', target.decode(outputs['finalconv'], inputs)), ('truth', rgb)])
    return pictures


def save_activations(model, target, rgb, out_dir, title, reads=()):
    """activations() as PNGs in out_dir: input.png, 1_downconv1.png, ..., output.png, each replacing an earlier one
    of its name, never one of the files the run `reads`; all are checked before any is written."""
    out_dir = Path(out_dir)
    pictures = activations(model, target, rgb, title)
    for name in pictures:
        may_write(out_dir / f'{name}.png', True, reads)
    for name, fig in pictures.items():
        save_figure(fig, out_dir / f'{name}.png', replace=True, reads=reads)
    return out_dir
