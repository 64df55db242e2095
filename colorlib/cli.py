"""The command line of colorization.py and color_regression.py: flags, checks, then train or validate."""
import argparse
import math
import signal
import sys
from pathlib import Path

import numpy as np
import torch

from colorlib import distributed
from colorlib.augment import AUGMENTATIONS
from colorlib.checkpoints import load_weights, save_weights
from colorlib.colours import DEFAULT_COLOURS, classes_to_rgb, load_colours
from colorlib.data import CATEGORIES, DEFAULT_DATA, download_cifar10, load_category, parse_category, to_float
from colorlib.errors import UsageError
from colorlib.lab import DEFAULT_BINS, DEFAULT_TEMPERATURE, lab_to_rgb, load_bins, make_lab_dataset, make_loss
from colorlib.metrics import psnr, ssim
from colorlib.models import MODELS, build_model, layer_outputs
from colorlib.preemption import catch_stop_signals
from colorlib.plots import save_activation_tiles, save_sample_grid, save_training_curve
from colorlib.superres import downsize, upsample
from colorlib.train import (TASKS, Interrupted, assignment_test_order, compute_loss, evaluate, evaluate_legacy,
                            make_dataset, predict, to_pictures, train)

FILE_NAMES = {'RegressionCNN': 'regression_cnn', 'CNN': 'cnn', 'UNet': 'unet', 'DUNet': 'dunet'}
NUM_SAMPLES = 10
# (model, task, loss, colour space) of every checkpoint we ship in weights/, in the order activations.py --all
# draws them
SHIPPED = [('CNN', 'colour', 'ce', 'rgb'), ('UNet', 'colour', 'ce', 'rgb'), ('DUNet', 'colour', 'ce', 'rgb'),
           ('RegressionCNN', 'colour', 'mse', 'rgb'), ('UNet', 'colour', 'ce', 'lab'), ('CNN', 'superres', 'ce', 'rgb'),
           ('UNet', 'superres', 'ce', 'rgb'), ('UNet', 'superres', 'mse', 'rgb')]


def run_name(model, task, loss, colour_space='rgb'):
    """'unet', 'unet_lab', 'superres_unet', 'superres_unet_mse', ...: the stem of weight files and experiment
    folders."""
    mse = '_mse' if loss == 'mse' and model != 'RegressionCNN' else ''
    lab = '_lab' if colour_space == 'lab' else ''
    return f'{"superres_" if task == "superres" else ""}{FILE_NAMES[model]}{mse}{lab}'


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line on stderr (no usage block), exit status 2."""

    def error(self, message):
        self.exit(2, f'{self.prog}: error: {message}\n')


def int_at_least(low):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f'{text!r} is not an integer') from None
        if value < low:
            raise argparse.ArgumentTypeError(f'{value} is out of range (at least {low})')
        return value
    return parse


def odd_kernel(text):
    value = int_at_least(1)(text)
    if value % 2 == 0:
        raise argparse.ArgumentTypeError(f'{value} is even; the kernel size must be odd (1, 3, 5, ...)')
    return value


def finite_float(low, inclusive=False):
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f'{text!r} is not a number') from None
        if not (math.isfinite(value) and (value >= low if inclusive else value > low)):
            raise argparse.ArgumentTypeError(f'{value} is out of range (a finite number {">=" if inclusive else ">"} {low})')
        return value
    return parse


def seed(text):
    """numpy's global generator (the --legacy-eval test order) takes seeds 0 to 2**32 - 1 only."""
    value = int_at_least(0)(text)
    if value >= 2 ** 32:
        raise argparse.ArgumentTypeError(f'{value} is out of range (at most {2 ** 32 - 1})')
    return value


def augmentation_list(text):
    kinds = [k for k in text.split(',') if k]
    unknown = [k for k in kinds if k not in AUGMENTATIONS]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(f'unknown augmentation {",".join(unknown) or text!r} '
                                         f'(choose from {", ".join(AUGMENTATIONS)}, comma-separated)')
    return kinds


def category_list(text):
    try:
        return [parse_category(name) for name in text.split(',') if name]
    except UsageError as err:
        raise argparse.ArgumentTypeError(str(err).removeprefix('--category: ')) from None


def add_data_flags(parser):
    parser.add_argument('--data', default=str(DEFAULT_DATA),
                        help='an .npz, cifar-10-python.tar.gz or cifar-10-batches-py/ (default: the bundled horses)')
    parser.add_argument('--download', action='store_true', help='fetch the official CIFAR-10 archive into data/')
    parser.add_argument('--category', default='horse', help=f'class to colour, by name or 0-9: {", ".join(CATEGORIES)}')


def add_task_flags(parser, loss=True):
    parser.add_argument('--task', choices=TASKS, default='colour',
                        help='colour: grey in, colours out; superres: 4x-downsized colour image in, full resolution out')
    if loss:
        parser.add_argument('--loss', choices=['ce', 'mse'],
                            help='ce: cross-entropy over the colour classes (default); mse: predict RGB directly')


def resolve_loss(args):
    """The RegressionCNN always predicts RGB (mse); the other models default to colour classes (ce)."""
    loss = getattr(args, 'loss', None)
    if args.model == 'RegressionCNN':
        if loss == 'ce':
            raise UsageError('--loss ce: the RegressionCNN predicts RGB; use --loss mse or a CNN, UNet or DUNet')
        return 'mse'
    return loss or 'ce'


def add_model_flags(parser, models, default_model,
                    checkpoint_help='weights to validate with --valid, or where training saves them'):
    parser.add_argument('--model', choices=models, default=default_model)
    parser.add_argument('--checkpoint', help=checkpoint_help)
    parser.add_argument('-k', '--kernel', type=odd_kernel, default=3, help='convolution kernel size (odd)')
    parser.add_argument('-f', '--num-filters', '--num_filters', dest='num_filters', type=int_at_least(1), default=32)
    parser.add_argument('-c', '--colours', default=str(DEFAULT_COLOURS), help='k-means colour file (.npy)')
    parser.add_argument('--dilation', type=int_at_least(0), default=1,
                        help='DUNet: empty pixels between the middle filter taps (0: undilated)')


def unit_interval(text):
    value = finite_float(0, inclusive=True)(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f'{value} is out of range (0 to 1)')
    return value


def add_lab_flags(parser):
    parser.add_argument('--colour-space', '--color-space', dest='colour_space', choices=['rgb', 'lab'], default='rgb',
                        help='rgb: grey in, k-means colours (-c) out; lab: L in, ab bins (--bins) out (Zhang et al.)')
    parser.add_argument('--bins', default=str(DEFAULT_BINS), help='Lab: ab bins file (remake: python -m colorlib.lab)')
    parser.add_argument('--temperature', type=finite_float(0, inclusive=True), default=DEFAULT_TEMPERATURE,
                        help='Lab: decode with the annealed mean at this temperature (0: the mode)')


def build_parser(regression=False):
    prog = 'color_regression.py' if regression else 'colorization.py'
    what = 'RGB regression' if regression else 'colour-class'
    parser = OneLineParser(prog=prog, description=f'Train or validate a {what} colourization CNN on CIFAR-10.')
    models = ['RegressionCNN'] if regression else ['CNN', 'UNet', 'DUNet']
    add_model_flags(parser, models, models[-1] if regression else 'UNet')
    add_task_flags(parser, loss=not regression)
    parser.add_argument('--valid', action='store_true', help='evaluate --checkpoint on the test images, no training')
    parser.add_argument('--legacy-eval', action='store_true',
                        help="with --valid: the assignment's figures (BatchNorm in training mode, its test order)")
    parser.add_argument('-l', '--learn-rate', '--learn_rate', dest='learn_rate', type=finite_float(0), default=0.001)
    parser.add_argument('-b', '--batch-size', '--batch_size', dest='batch_size', type=int_at_least(1), default=100)
    parser.add_argument('-e', '--epochs', type=int_at_least(1), default=25)
    parser.add_argument('-s', '--seed', type=seed, default=0)
    parser.add_argument('--device', choices=['auto', 'cpu', 'cuda'], default='auto')
    parser.add_argument('--gpu', action='store_const', const='cuda', dest='device', help='same as --device cuda')
    parser.add_argument('--amp', action='store_true', help='bfloat16 mixed precision (autocast)')
    parser.add_argument('--compile', action='store_true', help='torch.compile the model (pays off for long runs)')
    parser.add_argument('--plot', action='store_true', help='write a sample grid after every epoch')
    parser.add_argument('--lr-schedule', choices=['constant', 'cosine'], default='constant',
                        help='constant (the assignment) or cosine annealing to zero over the run')
    parser.add_argument('--weight-decay', type=finite_float(0, inclusive=True), default=0.0, help='decoupled (AdamW) weight decay')
    parser.add_argument('--augment', type=augmentation_list, default=[],
                        help=f'random {", ".join(AUGMENTATIONS)} of the training images, comma-separated')
    parser.add_argument('--extra-categories', type=category_list, default=[],
                        help='also train on these CIFAR-10 classes (e.g. deer,dog; needs the full --data)')
    parser.add_argument('--experiment-name', '--experiment_name', dest='experiment_name',
                        help='folder under outputs/ (default: model_k<kernel>_f<filters>)')
    parser.add_argument('--resume', action='store_true',
                        help='continue the run saved in outputs/<experiment>/resume.pt (same flags)')
    parser.add_argument('--save-every', type=int_at_least(1), default=1,
                        help='write outputs/<experiment>/resume.pt every N epochs (and after the last)')
    parser.add_argument('--sync-bn', action='store_true',
                        help='under torchrun on GPUs: BatchNorm statistics over the global batch (SyncBatchNorm)')
    if not regression:
        add_lab_flags(parser)
        parser.add_argument('--rebalance', type=unit_interval, metavar='LAMBDA',
                            help="Lab: weight rare colours up, Zhang's lambda in [0, 1] (1: not at all; he uses 0.5)")
        parser.add_argument('--soft-encode', action='store_true',
                            help='Lab: spread the target over the 5 nearest bins (Gaussian, sigma 5)')
    add_data_flags(parser)
    return parser


def pick_device(name):
    if name == 'auto':
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    if name == 'cuda' and not torch.cuda.is_available():
        raise UsageError('--device cuda/--gpu: no CUDA device is available here; use --device cpu')
    return torch.device(name)


# channels_last on every device: cuDNN's convolutions want it, and on our CPU it evaluated faster than NCHW in three
# of four benchmark runs and trained as fast within the noise (docs/performance.md)
LAYOUT = torch.channels_last


def to_device(tensors, device):
    """The whole data set moves to the device once; batches are then slices of it, with no host copies."""
    return tuple(t.to(device, memory_format=LAYOUT) if t.dim() == 4 else t.to(device)
                 for t in tensors)


def load_images(args):
    """Train and test images of the chosen category (training also on any extra categories), downloading
    the official archive first if asked."""
    data = download_cifar10(Path('data')) if args.download else args.data
    train_x, test_x = load_category(data, parse_category(args.category))
    extra = [load_category(data, category)[0] for category in getattr(args, 'extra_categories', [])]
    return np.concatenate([train_x, *extra]), test_x


def sample_rows(model, inputs, target, centres, task, temperature=None):
    """The picture rows: input, truth, network output, and for super-resolution bilinear upsampling; for Lab
    (a temperature) the output decoded both ways, the annealed mean and the mode, on the input's L."""
    if temperature is not None:
        truth = lab_to_rgb(inputs, centres.to(inputs.device)[target].permute(0, 3, 1, 2))
        return [('L input', inputs), (f'truth ({len(centres)} ab bins)', truth),
                (f'annealed mean, T={temperature:g}', predict(model, inputs, centres, temperature=temperature)),
                ('mode', predict(model, inputs, centres, temperature=0))]
    truth = target if centres is None else classes_to_rgb(target, centres)
    label = 'truth' if centres is None else f'truth ({len(centres)} colours)'
    rows = [('grey input' if task == 'colour' else 'downsized input', inputs), (label, truth),
            ('output', predict(model, inputs, centres))]
    if task == 'superres':  # the nearest-upsampled input pools back to the 8x8 image exactly
        rows.append(('bilinear', upsample(downsize(inputs), 'bilinear')))
    return rows


def quality(pictures, truth):
    """The PSNR/SSIM line of --valid."""
    return f'PSNR: {psnr(pictures, truth):.2f} dB, SSIM: {ssim(pictures, truth):.4f}'


def validate(args, model, centres, loss_fn, test_set, truth, num_train):
    """The loss line (the assignment's figures), then PSNR and SSIM of the decoded pictures against the
    full-colour, full-resolution truth (BatchNorm in eval mode), and for super-resolution the same figures
    for bilinear and bicubic upsampling of the 8x8 input."""
    inputs, target = test_set
    if args.legacy_eval:
        order = assignment_test_order(num_train, len(inputs), args.seed).to(inputs.device)
        loss, acc = evaluate_legacy(model, inputs[order], target[order], args.batch_size)
    else:
        loss, acc = evaluate(model, inputs, target, amp=args.amp, loss_fn=loss_fn)
    print(f'Evaluating Model {args.model}: {args.checkpoint}')
    print(f'Val Loss: {loss:.4f}' + ('' if acc is None else f', Val Acc: {acc:.1f}%'))
    print(quality(predict(model, inputs, centres, temperature=temperature(args)), truth))
    if args.task == 'superres':
        for mode in ('bilinear', 'bicubic'):
            print(f'{mode.capitalize()} {quality(upsample(downsize(truth), mode), truth)}')
    name = 'regression' if args.model == 'RegressionCNN' else args.model + ('_mse' if centres is None else '')
    name = f'superres_{name}' if args.task == 'superres' else f'{name}_lab' if is_lab(args) else name
    rows = sample_rows(model, inputs[:NUM_SAMPLES], target[:NUM_SAMPLES], centres, args.task, temperature(args))
    path = save_sample_grid(rows, Path('outputs') / f'eval_{name}.png')
    print(f'Sample output available at: {path}')


def is_lab(args):
    return getattr(args, 'colour_space', 'rgb') == 'lab'


def temperature(args):
    """How Lab bins decode to pictures; None for the RGB colours."""
    return args.temperature if is_lab(args) else None


def build(args):
    """The class centres (k-means colours, Lab's ab bins, or None when predicting RGB), the loss and the model
    the flags ask for."""
    loss = resolve_loss(args)
    if is_lab(args):
        if args.task == 'superres' or loss == 'mse':
            raise UsageError('--colour-space lab: the ab bins are classes for colourization; use a CNN, UNet or DUNet '
                             'without --task superres or --loss mse')
        centres, prior = load_bins(args.bins)
        loss_fn = make_loss(centres, prior, getattr(args, 'rebalance', None), getattr(args, 'soft_encode', False))
    else:
        centres, loss_fn = None if loss == 'mse' else load_colours(args.colours), compute_loss
    model = build_model(args.model, args.kernel, args.num_filters, 3 if centres is None else len(centres),
                        num_in_channels=3 if args.task == 'superres' else 1, dilation=args.dilation)
    return centres, model, loss_fn


def dataset(args, images, centres):
    """(input, target) tensors of uint8 images for the flags' task and colour space."""
    if is_lab(args):
        return make_lab_dataset(images, centres)
    return make_dataset(images, centres, centres is None, args.task)


def run(args):
    if args.valid and not args.checkpoint:
        raise UsageError('--valid needs --checkpoint PATH (the weights to evaluate)')
    if args.legacy_eval and not args.valid:
        raise UsageError('--legacy-eval only applies with --valid')
    if args.valid and distributed.launched_by_torchrun():
        raise UsageError('--valid runs in one process: start it with python, not torchrun')
    device = distributed.setup(pick_device(args.device))
    if args.sync_bn and distributed.active() and device.type != 'cuda':
        raise UsageError("--sync-bn: PyTorch's SyncBatchNorm runs on GPUs only; on the CPU leave it out "
                         "(each process then normalises with its own batch's statistics)")
    if args.legacy_eval and is_lab(args):
        raise UsageError('--legacy-eval reproduces the assignment, which has no --colour-space lab')
    torch.manual_seed(args.seed)
    centres, model, loss_fn = build(args)
    if args.sync_bn and distributed.active():
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    if args.valid:
        load_weights(model, args.checkpoint)
    train_x, test_x = load_images(args)
    test_set = to_device(dataset(args, test_x, centres), device)
    model.to(device, memory_format=LAYOUT)
    if args.valid:
        return validate(args, model, centres, loss_fn, test_set, to_float(test_x).to(device), len(train_x))

    stem = run_name(args.model, args.task, resolve_loss(args), getattr(args, 'colour_space', 'rgb'))
    experiment = args.experiment_name or f'{stem}_k{args.kernel}_f{args.num_filters}'
    out_dir = Path('outputs') / experiment
    checkpoint = Path(args.checkpoint or out_dir / 'weights.pkl')
    if checkpoint.is_dir():  # found now, not by a crash after the whole run
        raise UsageError(f'--checkpoint: {checkpoint} is a folder; give the path of the weights file to write')
    train_set = to_device(dataset(args, train_x, centres), device)
    samples = test_set[0][:NUM_SAMPLES], test_set[1][:NUM_SAMPLES]

    def plot_epoch(epoch):
        if args.plot:
            save_sample_grid(sample_rows(model, *samples, centres, args.task, temperature(args)),
                             out_dir / f'samples_epoch{epoch:03d}.png')

    with catch_stop_signals() as stop_signal:
        try:
            history = train(model, train_set, test_set, args.epochs, args.batch_size, args.learn_rate, args.seed,
                            out_dir, on_epoch=plot_epoch, augmentations=args.augment, lr_schedule=args.lr_schedule,
                            weight_decay=args.weight_decay, amp=args.amp, compile_model=args.compile,
                            resume=args.resume, save_every=args.save_every,
                            stop_signal=stop_signal, loss_fn=loss_fn)
        except Interrupted as stop:
            if distributed.rank() == 0:
                print(stop, flush=True)
            sys.exit(128 + (stop_signal() or signal.SIGTERM))  # what the shell reports for a death by that signal
    if distributed.rank() != 0:
        return
    print(f'Training curve: {save_training_curve(history, out_dir / "training_curve.png")}')
    rows = sample_rows(model, *samples, centres, args.task, temperature(args))
    print(f'Samples: {save_sample_grid(rows, out_dir / "samples.png")}')
    save_weights(model, checkpoint)
    print(f'Weights saved to {checkpoint}')


def build_activations_parser():
    parser = OneLineParser(prog='activations.py',
                           description='Save every layer\'s activations of a trained model for one test image.')
    parser.add_argument('index', type=int_at_least(0), help='test image number (0-based)')
    add_model_flags(parser, list(MODELS), 'UNet')
    add_task_flags(parser)
    add_lab_flags(parser)
    parser.add_argument('--all', action='store_true',
                        help='every model and task we ship, from --weights-dir (no --checkpoint): '
                             + ', '.join(run_name(*shipped) for shipped in SHIPPED))
    parser.add_argument('--weights-dir', default='weights', help='with --all: where the <name>_k<k>_f<f>.pkl files are')
    add_data_flags(parser)
    return parser


def save_activations(args, test_x):
    """outputs/<model>[_superres][_mse][_lab]/act<N>/: input.png, one tile sheet per block, and the decoded output."""
    centres, model, _ = build(args)
    load_weights(model, args.checkpoint)
    rgb = to_float(test_x[args.index:args.index + 1])
    inputs = dataset(args, test_x[args.index:args.index + 1], centres)[0]
    mse = '_mse' if centres is None and args.model != 'RegressionCNN' else ''
    lab = '_lab' if is_lab(args) else ''
    out_dir = Path('outputs') / f'{args.model}{"_superres" if args.task == "superres" else ""}{mse}{lab}' / f'act{args.index}'
    model.eval()
    outputs = layer_outputs(model, inputs)
    for i, (name, activation) in enumerate(outputs.items(), 1):
        active = 100 * (activation > 0).float().mean().item()  # after ReLU: how sparse the block is
        title = f'{args.model}{" super-resolution" if args.task == "superres" else ""} {name}: ' \
                f'{activation.shape[1]} channels, {active:.0f}% of values > 0'
        save_activation_tiles(activation[0], out_dir / f'{i}_{name}.png', title)
    label = 'downsized input' if args.task == 'superres' else 'L input' if lab else 'grey input'
    save_sample_grid([(label, inputs)], out_dir / 'input.png')
    output = to_pictures(outputs['finalconv'], inputs, centres, temperature(args))
    save_sample_grid([('output', output), ('truth', rgb)], out_dir / 'output.png')
    print(f'Activations of test image {args.index} written to {out_dir}/')


def run_activations(args):
    if args.all and args.checkpoint:
        raise UsageError('--all takes the shipped weights from --weights-dir; leave out --checkpoint')
    if not args.all and not args.checkpoint:
        raise UsageError('--checkpoint PATH is needed: activations of untrained weights say nothing')
    _, test_x = load_images(args)
    if args.index >= len(test_x):
        raise UsageError(f'index: {args.index} is out of range; there are {len(test_x)} test images (0-{len(test_x) - 1})')
    if not args.all:
        return save_activations(args, test_x)
    found = 0
    for model, task, loss, space in SHIPPED:
        checkpoint = Path(args.weights_dir) / f'{run_name(model, task, loss, space)}_k{args.kernel}_f{args.num_filters}.pkl'
        if not checkpoint.is_file():
            print(f'Skipped {model} ({task}, {loss}, {space}): no {checkpoint}')
            continue
        found += 1
        save_activations(argparse.Namespace(**{**vars(args), 'model': model, 'task': task, 'loss': loss,
                                               'colour_space': space, 'checkpoint': str(checkpoint)}), test_x)
    if not found:
        raise UsageError(f'--weights-dir: no weights for --all in {args.weights_dir} (e.g. unet_k{args.kernel}_f{args.num_filters}.pkl)')


def run_cli(parser, runner, argv=None):
    """Parse, run, and turn a UsageError into one line on stderr and exit status 2."""
    args = parser.parse_args(argv)
    try:
        runner(args)
    except UsageError as err:
        print(f'{parser.prog}: error: {err}', file=sys.stderr)
        sys.exit(2)


def main_activations(argv=None):
    run_cli(build_activations_parser(), run_activations, argv)


def main(argv=None, regression=False):
    run_cli(build_parser(regression), run, argv)
