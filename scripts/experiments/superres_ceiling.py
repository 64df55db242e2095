"""How far can 4x super-resolution of the test horses go at all? A yardstick for the UNet's figure.

The super-resolution goal (1.5 dB over bicubic) was set from ESPCN's gains on large natural images. This trains a
network built for the job instead of the handout's UNet: it works on the 8x8 image itself (a stack of residual
blocks, as in EDSR), then spreads each pixel's channels over its 4x4 block (sub-pixel convolution, as in ESPCN),
and adds bicubic upsampling. Same data, loss and PSNR as `colorization.py --task superres --loss mse --residual`.
If this network, with many times the UNet's parameters, stays below the goal, the goal is not the UNet's to meet.

    python scripts/experiments/superres_ceiling.py --channels 64 --blocks 8 --epochs 20
    python scripts/experiments/superres_ceiling.py --data ../shared/data/cifar10.npz --all-categories --epochs 6
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from colorlib.checkpoints import read_weights, save_weights
from colorlib.cli.build import check_output
from colorlib.cli.common import UsageError
from colorlib.data import DEFAULT_DATA, load_cifar10, parse_category, to_float
from colorlib.errors import InputError
from colorlib.metrics import psnr, ssim
from colorlib.superres import FACTOR, downsize, upsample


class Block(nn.Module):
    """conv, ReLU, conv, plus the input: the EDSR residual block (no BatchNorm)."""

    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return x + self.conv2(F.relu(self.conv1(x)))


class SubPixelSR(nn.Module):
    """The small image in, the correction to its bicubic upsampling out, at full size."""

    def __init__(self, channels, blocks):
        super().__init__()
        self.head = nn.Conv2d(3, channels, 3, padding=1)
        self.body = nn.Sequential(*[Block(channels) for _ in range(blocks)])
        self.tail = nn.Conv2d(channels, 3 * FACTOR ** 2, 3, padding=1)

    def forward(self, small):
        x = self.head(small)
        x = x + self.body(x)
        return F.pixel_shuffle(self.tail(x), FACTOR)


def evaluate(model, test, batch=500):
    model.eval()
    pictures = []
    with torch.no_grad():
        for i in range(0, len(test), batch):
            small = downsize(test[i:i + batch])
            pictures.append((model(small) + upsample(small, 'bicubic')).clamp(0, 1))
    model.train()
    pictures = torch.cat(pictures)
    return psnr(pictures, test), ssim(pictures, test)


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
            check_output(args.save, '--save', [args.init] if args.init else [], args.overwrite)
    except UsageError as err:
        p.error(str(err))
    try:
        if args.init:
            model.load_state_dict(read_weights(args.init))
    except InputError as err:
        p.error(f'--init: {err}')
    except RuntimeError:
        p.error(f'--init: {args.init} does not hold a --channels {args.channels} --blocks {args.blocks} network')

    train_x, train_y, test_x, test_y = load_cifar10(args.data)
    horse = parse_category('horse')
    train = to_float(train_x if args.all_categories else train_x[train_y == horse])
    test = to_float(test_x[test_y == horse])
    steps_per_epoch = len(train) // args.batch_size
    optimizer = torch.optim.Adam(model.parameters(), lr=args.learn_rate)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, args.learn_rate, args.epochs * steps_per_epoch,
                                                   pct_start=0.02, anneal_strategy='cos')
    print(json.dumps({'parameters': sum(p.numel() for p in model.parameters()), **vars(args)}), flush=True)
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        order = torch.randperm(len(train))
        total = 0.0
        for step in range(steps_per_epoch):
            rgb = train[order[step * args.batch_size:(step + 1) * args.batch_size]]
            rgb = torch.where(torch.rand(len(rgb), 1, 1, 1) < 0.5, rgb.flip(-1), rgb)  # random mirror image
            small = downsize(rgb)
            loss = F.mse_loss(model(small), rgb - upsample(small, 'bicubic'))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item()
        psnr_db, ssim_index = evaluate(model, test)
        print(json.dumps({'epoch': epoch, 'train_loss': round(total / steps_per_epoch, 6),
                          'psnr': round(psnr_db, 3), 'ssim': round(ssim_index, 4),
                          'seconds': round(time.perf_counter() - start, 1)}), flush=True)
    if args.save:
        save_weights(model, args.save, replace=args.overwrite)


if __name__ == '__main__':
    main()
