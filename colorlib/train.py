"""Training and evaluation on whole-data-set tensors: a few MB, so no DataLoader, just index slices."""
import copy
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from colorlib.augment import augment
from colorlib.colours import classes_to_rgb, rgb_to_classes
from colorlib.data import to_float, to_grey


def make_dataset(images, centres, regression):
    """(grey input, target) for uint8 NHWC images: RGB in [0, 1) for regression, else colour classes."""
    rgb = to_float(images)
    target = rgb if regression else rgb_to_classes(rgb, centres)
    return to_grey(rgb), target


def compute_loss(outputs, target):
    """MSE on RGB for the regression CNN (float target), cross-entropy per pixel over colour classes otherwise."""
    if target.is_floating_point():
        return F.mse_loss(outputs, target)
    return F.cross_entropy(outputs, target)


def decode(outputs, centres):
    """Network outputs -> (N, 3, H, W) RGB for pictures: the most likely class's colour, or the clamped RGB."""
    if centres is None:
        return outputs.clamp(0, 1)
    return classes_to_rgb(outputs.argmax(1), centres)


@torch.no_grad()
def evaluate(model, grey, target, batch_size=500, loss_fn=compute_loss):
    """Mean loss over all pixels and pixel accuracy in % (None for regression), with BatchNorm in eval mode."""
    model.eval()
    total_loss = torch.zeros((), device=grey.device)
    correct = torch.zeros((), device=grey.device, dtype=torch.long)
    for start in range(0, len(grey), batch_size):
        outputs = model(grey[start:start + batch_size])
        y = target[start:start + batch_size]
        total_loss += loss_fn(outputs, y) * len(y)
        if not y.is_floating_point():
            correct += (outputs.argmax(1) == y).sum()
    loss = total_loss.item() / len(grey)
    accuracy = None if target.is_floating_point() else 100 * correct.item() / target.numel()
    return loss, accuracy


@torch.no_grad()
def evaluate_legacy(model, grey, target, batch_size):
    """The assignment's own figures: BatchNorm in training mode (batch statistics), mean of the batch losses.

    Runs on a copy, since training-mode BatchNorm updates its running statistics.
    """
    model = copy.deepcopy(model).train()
    losses, correct = [], 0
    for start in range(0, len(grey), batch_size):
        outputs = model(grey[start:start + batch_size])
        y = target[start:start + batch_size]
        losses.append(compute_loss(outputs, y).item())
        if not y.is_floating_point():
            correct += (outputs.argmax(1) == y).sum().item()
    accuracy = None if target.is_floating_point() else 100 * correct / target.numel()
    return float(np.mean(losses)), accuracy


def assignment_test_order(num_train, num_test, seed):
    """The test order the assignment's code produces: numpy's global generator seeded, the training images
    shuffled, then the test images shuffled (both in place, which draws the same numbers as shuffling indices)."""
    np.random.seed(seed)
    np.random.shuffle(np.arange(num_train))
    order = np.arange(num_test)
    np.random.shuffle(order)
    return torch.from_numpy(order)


def train_epoch(model, optimizer, scheduler, grey, target, batch_size, generator, augmentations=(),
                loss_fn=compute_loss):
    """One pass over a fresh shuffle; the loss stays on the device until the epoch ends (no per-step sync)."""
    model.train()
    order = torch.randperm(len(grey), generator=generator).to(grey.device)
    total = torch.zeros((), device=grey.device)
    starts = range(0, len(grey), batch_size)
    for start in tqdm(starts, desc='train', leave=False, disable=not sys.stderr.isatty()):
        index = order[start:start + batch_size]
        x, y = augment(grey[index], target[index], augmentations, generator)
        loss = loss_fn(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        total += loss.detach() * len(index)
    return total.item() / len(grey)


def train(model, train_set, val_set, epochs, batch_size, learn_rate, seed, out_dir, on_epoch=None,
          augmentations=(), lr_schedule='constant', weight_decay=0.0, loss_fn=compute_loss):
    """Adam on the training set for `epochs`, evaluating after each; prints and logs one line per epoch.

    lr_schedule 'cosine' anneals the learning rate to zero over the run, step by step; weight_decay is
    decoupled (AdamW), which is plain Adam when it is 0, the assignment's setting. loss_fn(outputs, target) replaces
    compute_loss where the task has its own (the Lab bins' rebalanced, soft-encoded cross-entropy).
    The figures go to stdout and, as JSON lines, to out_dir/metrics.jsonl (started afresh for each run).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    metrics_path = out_dir / 'metrics.jsonl'
    metrics_path.write_text('')
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learn_rate, weight_decay=weight_decay)
    steps = epochs * math.ceil(len(train_set[0]) / batch_size)
    scheduler = (torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps) if lr_schedule == 'cosine'
                 else torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0))
    history = []
    start_time = time.perf_counter()
    for epoch in range(1, epochs + 1):
        train_loss = train_epoch(model, optimizer, scheduler, *train_set, batch_size, generator, augmentations,
                                 loss_fn)
        val_loss, val_acc = evaluate(model, *val_set, loss_fn=loss_fn)
        row = {'epoch': epoch, 'train_loss': train_loss, 'val_loss': val_loss, 'val_acc': val_acc,
               'seconds': round(time.perf_counter() - start_time, 3)}
        history.append(row)
        with open(metrics_path, 'a') as f:
            f.write(json.dumps(row) + '\n')
        acc = '' if val_acc is None else f', Val Acc: {val_acc:.1f}%'
        print(f'Epoch [{epoch}/{epochs}], Loss: {train_loss:.4f}, Val Loss: {val_loss:.4f}{acc}, '
              f'Time(s): {row["seconds"]:.2f}', flush=True)
        if on_epoch is not None:
            on_epoch(epoch)
    return history
