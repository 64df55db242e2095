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

from colorlib import distributed
from colorlib.augment import augment
from colorlib.checkpoints import read_resumable, save_resumable
from colorlib.colours import classes_to_rgb, rgb_to_classes
from colorlib.data import to_float, to_grey
from colorlib.errors import UsageError
from colorlib.lab import decode_lab
from colorlib.superres import superres_input


TASKS = ('colour', 'superres')


def make_dataset(images, centres, regression, task='colour'):
    """(input, target) for uint8 NHWC images: RGB in [0, 1) for regression, else colour classes.

    The input is the grey image for colourization, the 4x-downsized colour image (nearest-upsampled back
    to full size, 3 channels) for super-resolution.
    """
    rgb = to_float(images)
    target = rgb if regression else rgb_to_classes(rgb, centres)
    inputs = superres_input(rgb) if task == 'superres' else to_grey(rgb)
    return inputs, target


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


def to_pictures(outputs, inputs, centres, temperature=None):
    """decode(), or with a temperature (Lab's ab bins) their annealed mean (0: the mode) on the inputs' own L."""
    return decode(outputs, centres) if temperature is None else decode_lab(outputs, inputs, centres, temperature)


def autocast(device, amp):
    """bfloat16 mixed precision when `amp` (float32 weights, matmuls and convolutions in bfloat16)."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp)


@torch.inference_mode()
def predict(model, inputs, centres, batch_size=100, temperature=None):
    """Pictures (N, 3, H, W) of the model for all inputs (see to_pictures), with BatchNorm in eval mode."""
    model.eval()
    batches = (inputs[start:start + batch_size] for start in range(0, len(inputs), batch_size))
    return torch.cat([to_pictures(model(x), x, centres, temperature) for x in batches])


@torch.inference_mode()
def evaluate(model, grey, target, batch_size=100, amp=False, loss_fn=compute_loss):
    """Mean loss over all pixels and pixel accuracy in % (None for regression), with BatchNorm in eval mode.

    Batches of 100 keep each layer's activations in the CPU's caches: faster than 500 or 1000 at once.
    """
    model.eval()
    total_loss = torch.zeros((), device=grey.device)
    correct = torch.zeros((), device=grey.device, dtype=torch.long)
    for start in range(0, len(grey), batch_size):
        with autocast(grey.device, amp):
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


class Interrupted(Exception):
    """A stop request seen at a step boundary; `position` (order, next step, loss so far) continues the pass."""

    def __init__(self, message, position=None):
        super().__init__(message)
        self.position = position


def train_epoch(model, optimizer, scheduler, grey, target, batch_size, generator, augmentations=(), amp=False,
                position=None, should_stop=None, loss_fn=compute_loss):
    """One pass over a fresh shuffle; the loss stays on the device until the epoch ends (no per-step sync).

    The generator lives on the data's device, so shuffles and augmentations draw no numbers on the host.
    should_stop() is asked before every step; when true, Interrupted carries the position, and passing that
    position back in continues the same pass.
    """
    model.train()
    order, first_step, total = position or (torch.randperm(len(grey), generator=generator, device=generator.device),
                                            0, torch.zeros(()))
    order, total = order.to(grey.device), total.to(grey.device)
    starts = range(0, len(grey), batch_size)
    for step in tqdm(range(first_step, len(starts)), desc='train', leave=False,
                     disable=not sys.stderr.isatty() or distributed.rank() != 0):
        if should_stop is not None and should_stop():
            raise Interrupted('stop requested', (order.cpu(), step, total.cpu()))
        index = order[starts[step]:starts[step] + batch_size]
        x, y = augment(grey[index], target[index], augmentations, generator)
        with autocast(grey.device, amp):
            loss = loss_fn(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        total += loss.detach() * len(index)
    return total.item() / len(grey)


RESUME_FILE = 'resume.pt'


def training_state(model, optimizer, scheduler, generator, epoch, history, settings, position=None):
    """Everything a run needs to continue bit for bit, as tensors and plain containers (weights_only-loadable)."""
    return {'model': model.state_dict(), 'optimizer': optimizer.state_dict(), 'scheduler': scheduler.state_dict(),
            'rng': {'train': generator.get_state(), 'torch': torch.get_rng_state(),
                    'cuda': torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []},
            'epoch': epoch, 'position': position, 'history': history, 'settings': settings}


def restore(state, model, optimizer, scheduler, generator, settings):
    """Load a training_state into the live objects; a UsageError when the run's flags differ from the saved
    run's (-e may grow under a constant learning rate, to train on)."""
    for flag, value in settings.items():
        saved = state['settings'].get(flag)
        if saved != value and not (flag == '-e' and value > saved and settings['--lr-schedule'] == 'constant'):
            raise UsageError(f'--resume: the saved run had {flag} {saved}, this one has {flag} {value}; '
                             f'resume with the same flags')
    try:
        model.load_state_dict(state['model'])
        optimizer.load_state_dict(state['optimizer'])
    except (RuntimeError, ValueError, KeyError) as err:
        reason = str(err).splitlines()[0][:200]
        raise UsageError(f'--resume: the saved model does not fit (check --model, -k, -f, -c): {reason}') from None
    scheduler.load_state_dict(state['scheduler'])
    generator.set_state(state['rng']['train'])
    torch.set_rng_state(state['rng']['torch'])
    if state['rng']['cuda'] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['rng']['cuda'])


def train(model, train_set, val_set, epochs, batch_size, learn_rate, seed, out_dir, on_epoch=None,
          augmentations=(), lr_schedule='constant', weight_decay=0.0, amp=False, compile_model=False, resume=False,
          save_every=1, stop_signal=None, loss_fn=compute_loss):
    """Adam on the training set for `epochs`, evaluating after each; prints and logs one line per epoch.

    lr_schedule 'cosine' anneals the learning rate to zero over the run, step by step; weight_decay is
    decoupled (AdamW), which is plain Adam when it is 0, the assignment's setting. amp: bfloat16 autocast;
    compile_model: torch.compile the network that trains. loss_fn(outputs, target) replaces compute_loss where the
    classes have their own (Lab's rebalanced, soft-encoded cross-entropy).
    The figures go to stdout and, as JSON lines, to out_dir/metrics.jsonl (started afresh for each run).
    Every `save_every` epochs, and at the last, out_dir/resume.pt holds the whole training state; resume=True
    continues from it. stop_signal() (see colorlib.preemption) is checked at every step: once it names a signal,
    the state is saved where the run is and Interrupted is raised.
    Under torchrun each rank trains on its own shard of every epoch, the model wrapped in DDP; the figures
    are averaged over ranks and only rank 0 prints and writes.
    """
    out_dir = Path(out_dir)
    main = distributed.rank() == 0
    world = distributed.world_size()
    metrics_path = out_dir / 'metrics.jsonl'
    resume_path = out_dir / RESUME_FILE
    generator = torch.Generator(train_set[0].device).manual_seed(seed)
    net = distributed.wrap(model)
    if compile_model:  # the compiled wrapper trains; `model` keeps the plain names that checkpoints use
        net = torch.compile(net)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learn_rate, weight_decay=weight_decay)
    steps = epochs * math.ceil(math.ceil(len(train_set[0]) / world) / batch_size)
    scheduler = (torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps) if lr_schedule == 'cosine'
                 else torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0))
    settings = {'-e': epochs, '-b': batch_size, '-l': learn_rate, '-s': seed, '--lr-schedule': lr_schedule,
                '--weight-decay': weight_decay, '--augment': ','.join(augmentations) or None,
                'training images': len(train_set[0]), 'torchrun processes': world}
    history, done, position = [], 0, None
    if resume:
        state = read_resumable(resume_path)
        restore(state, model, optimizer, scheduler, generator, settings)
        history, done, position = state['history'], state['epoch'], state['position']
    if main:
        out_dir.mkdir(parents=True, exist_ok=True)
        metrics_path.write_text(''.join(json.dumps(row) + '\n' for row in history))
    should_stop = None if stop_signal is None else lambda: distributed.any_rank(stop_signal() is not None)
    val_grey, val_target = (t[distributed.rank()::world] for t in val_set)
    start_time = time.perf_counter() - (history[-1]['seconds'] if history else 0)
    for epoch in range(done + 1, epochs + 1):
        grey, target = train_set
        if world > 1:
            index = distributed.shard(len(grey), seed, epoch, distributed.rank(), world).to(grey.device)
            grey, target = grey[index], target[index]
        try:
            train_loss = train_epoch(net, optimizer, scheduler, grey, target, batch_size, generator, augmentations,
                                     amp, position, should_stop, loss_fn)
        except Interrupted as stop:
            if main:
                save_resumable(training_state(model, optimizer, scheduler, generator, epoch - 1, history,
                                              settings, stop.position), resume_path)
            step = stop.position[1]
            raise Interrupted(f'stopped by {stop_signal().name if stop_signal() else "a signal on another rank"} '
                              f'in epoch {epoch}, before step {step + 1}: the training state is in {resume_path}; '
                              f'run the same command with --resume to continue') from None
        position = None
        distributed.sync_buffers(model)
        val_loss, val_acc = evaluate(model, val_grey, val_target, amp=amp, loss_fn=loss_fn)
        row = {'epoch': epoch, 'train_loss': distributed.average(train_loss),
               'val_loss': distributed.average(val_loss, len(val_grey)),
               'val_acc': distributed.average(val_acc, len(val_grey)),
               'seconds': round(time.perf_counter() - start_time, 3)}
        history.append(row)
        if not main:
            continue
        with open(metrics_path, 'a') as f:
            f.write(json.dumps(row) + '\n')
        acc = '' if row['val_acc'] is None else f', Val Acc: {row["val_acc"]:.1f}%'
        print(f'Epoch [{epoch}/{epochs}], Loss: {row["train_loss"]:.4f}, Val Loss: {row["val_loss"]:.4f}{acc}, '
              f'Time(s): {row["seconds"]:.2f}', flush=True)
        if epoch % save_every == 0 or epoch == epochs:
            save_resumable(training_state(model, optimizer, scheduler, generator, epoch, history, settings),
                           resume_path)
        if on_epoch is not None:
            on_epoch(epoch)
    return history
