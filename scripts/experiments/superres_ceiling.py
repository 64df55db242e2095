"""How far can 4x super-resolution of the test horses go at all? A yardstick for the UNet's figure.

The super-resolution goal (1.5 dB over bicubic) was set from ESPCN's gains on large natural images. This trains a
network built for the job instead of the handout's UNet: it works on the 8x8 image itself (a stack of residual
blocks, as in EDSR), then spreads each pixel's channels over its 4x4 block (sub-pixel convolution, as in ESPCN),
and adds bicubic upsampling. Same data, target (colorlib.targets.RGB, residual), loss, PSNR and training loop
(colorlib.train) as `colorization.py --task superres --loss mse --residual`.
If this network, with many times the UNet's parameters, stays below the goal, the goal is not the UNet's to meet.

    python scripts/experiments/superres_ceiling.py --channels 64 --blocks 8 --epochs 20
    python scripts/experiments/superres_ceiling.py --data ../shared/data/cifar10.npz --all-categories --epochs 6
"""
import argparse
import json

import torch
import torch.nn as nn
import torch.nn.functional as F

from colorlib.checkpoints import read_weights, save_weights
from colorlib.data import DEFAULT_DATA, load_cifar10, parse_category
from colorlib.errors import InputError
from colorlib.files import check_writable
from colorlib.images import to_float
from colorlib.metrics import psnr, ssim
from colorlib.superres import FACTOR, downsize
from colorlib.targets import RGB
from colorlib.train import TrainConfig, predict, train


class Block(nn.Module):
    """conv, ReLU, conv, plus the input: the EDSR residual block (no BatchNorm)."""

    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return x + self.conv2(F.relu(self.conv1(x)))


class SubPixelSR(nn.Module):
    """The target's input (the small image, nearest-upsampled) in, the correction to its bicubic upsampling out,
    at full size; the network itself works on the small image, which pooling the input gives back exactly."""

    def __init__(self, channels, blocks):
        super().__init__()
        self.head = nn.Conv2d(3, channels, 3, padding=1)
        self.body = nn.Sequential(*[Block(channels) for _ in range(blocks)])
        self.tail = nn.Conv2d(channels, 3 * FACTOR ** 2, 3, padding=1)

    def forward(self, upsampled):
        x = self.head(downsize(upsampled))
        x = x + self.body(x)
        return F.pixel_shuffle(self.tail(x), FACTOR)


def check_save(path, init, overwrite):
    """Before the first step: --save replaces no input, and no file unless --overwrite, and can be written."""
    check_writable(path, replace=overwrite, reads=[init] if init else [])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--data', default=str(DEFAULT_DATA))
    p.add_argument('--all-categories', action='store_true', help='train on every class (tested on horses still)')
    p.add_argument('--channels', type=int, default=64)
    p.add_argument('--blocks', type=int, default=8)
    p.add_argument('--epochs', type=int, default=20)
    p.add_argument('--batch-size', type=int, default=25)
    p.add_argument('--learn-rate', type=float, default=2e-3)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--save', help='write the weights here (state dict)')
    p.add_argument('--init', help='start from these weights (state dict)')
    p.add_argument('--overwrite', action='store_true', help='let --save replace an existing file')
    args = p.parse_args()
    torch.manual_seed(args.seed)
    model = SubPixelSR(args.channels, args.blocks)
    try:  # before the first step, not after the last
        if args.save:
            check_save(args.save, args.init, args.overwrite)
    except InputError as err:
        p.error(f'--save: {err}')
    try:
        if args.init:
            model.load_state_dict(read_weights(args.init))
    except InputError as err:
        p.error(f'--init: {err}')
    except RuntimeError:
        p.error(f'--init: {args.init} does not hold a --channels {args.channels} --blocks {args.blocks} network')

    train_x, train_y, test_x, test_y = load_cifar10(args.data)
    horse = parse_category('horse')
    target = RGB('superres', residual=True)  # the same data, loss and PSNR as the UNet's --residual runs
    train_set = target.encode(to_float(train_x if args.all_categories else train_x[train_y == horse]))
    truth = to_float(test_x[test_y == horse])
    test_set = target.encode(truth)
    # a warm-up over the first 2% of the steps, then annealed to zero on a cosine; random mirror images
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, learn_rate=args.learn_rate, seed=args.seed,
                         lr_schedule='cosine', warmup=0.02 * args.epochs, augment=('hflip',))
    print(json.dumps({'parameters': sum(p.numel() for p in model.parameters()), **vars(args)}), flush=True)

    def report(row):
        pictures = predict(model, target, test_set[0], 500)
        print(json.dumps({'epoch': row['epoch'], 'train_loss': round(row['train_loss'], 6),
                          'psnr': round(psnr(pictures, truth), 3), 'ssim': round(ssim(pictures, truth), 4),
                          'seconds': round(row['seconds'], 1)}), flush=True)
    train(model, target, train_set, test_set, config, on_epoch=lambda end: report(end.row))
    if args.save:
        save_weights(model, args.save, replace=args.overwrite)


if __name__ == '__main__':
    main()
