"""Training and evaluation on whole-data-set tensors: a few MB, so no DataLoader, just index slices.

Nothing here knows what the network learns: the target (colorlib.targets) gives the loss, the accuracy and the
pictures; the model is any of colorlib.models built from a ModelConfig.
"""
import copy
import dataclasses
import math
import numbers
import sys
import time
from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn, update_bn
from tqdm.auto import tqdm

from colorlib import distributed, machine
from colorlib.augment import AUGMENTATIONS, augment
from colorlib.checkpoints import check_same_run, describe_run, restore, training_state
from colorlib.errors import InputError, NonFiniteLoss, check_whole
# channels_last on every device: cuDNN's convolutions want it, and on the 2-core x86_64 CPU of 2026-11-23 it evaluated
# faster than NCHW in three of four benchmark runs and trained as fast within the noise (docs/performance.md)
LAYOUT = torch.channels_last
LR_SCHEDULES = ('constant', 'cosine', 'linear')
# whole-number fields and their bounds (numpy's global generator, the --legacy-eval test order, takes seeds < 2**32)
WHOLE_FIELDS = {'epochs': (1, None), 'batch_size': (1, None), 'save_every': (1, None), 'seed': (0, 2 ** 32 - 1)}
# number fields and the range [low, high) each must be in (the optimizer holds its rates in float32)
FLOAT32_MAX = float(torch.finfo(torch.float32).max)
NUMBER_FIELDS = {'learn_rate': (0, FLOAT32_MAX), 'weight_decay': (0, FLOAT32_MAX), 'warmup': (0, math.inf),
                 'ema': (0, 1), 'label_smoothing': (0, 1)}


@dataclass(frozen=True)
class TrainConfig:
    """How a model trains: Adam(W) over `epochs` passes in batches, evaluated after each; stored with the run."""
    epochs: int = 25
    batch_size: int = 100
    learn_rate: float = 0.001
    seed: int = 0
    lr_schedule: str = 'constant'  # or 'cosine' or 'linear' (LR_SCHEDULES): annealed to zero over the run, step by step
    weight_decay: float = 0.0  # decoupled (AdamW); 0 is plain Adam, the assignment's setting
    augment: tuple = ()  # random flips and shifts (colorlib.augment.AUGMENTATIONS); one name alone is one of them
    amp: str = 'off'  # bfloat16 autocast: 'auto' (where the device does it in hardware), 'on' or 'off' (machine.py)
    compile: bool = False  # torch.compile the network that trains
    save_every: int = 1  # write the resumable state every N epochs, and after the last
    warmup: float = 0.0  # epochs over which the learning rate first rises linearly from near zero
    ema: float = 0.0  # decay of an exponential moving average of the weights, evaluated and kept (0: none)
    label_smoothing: float = 0.0  # colour classes: train against targets smoothed by this much

    def __post_init__(self):
        """A setting that cannot train is refused as the config is made, naming its field: before anything is read,
        trained or written (0 epochs would otherwise save an untrained model, batch size 0 divide by zero). A learning
        rate of 0 is allowed: only BatchNorm's running statistics then move."""
        for name, (low, high) in WHOLE_FIELDS.items():
            check_whole(getattr(self, name), name, low, high)
        for name, (low, high) in NUMBER_FIELDS.items():
            value = getattr(self, name)
            if not (isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
                    and low <= value < high):
                bounds = f'a finite number >= {low}' if high == math.inf else f'a number in [{low}, {high:.3g})'
                raise InputError(f'{name} must be {bounds}, not {value!r}', [name])
        if self.lr_schedule not in LR_SCHEDULES:
            raise InputError(f'unknown lr_schedule {self.lr_schedule!r} (choose from {", ".join(LR_SCHEDULES)})',
                             ['lr_schedule'])
        kinds = tuple(self.augment) if isinstance(self.augment, (list, tuple)) else (self.augment,)
        unknown = [kind for kind in kinds if kind not in AUGMENTATIONS]
        if unknown:
            raise InputError(f'unknown augmentation {unknown[0]!r} (choose from {", ".join(AUGMENTATIONS)})',
                             ['augment'])
        object.__setattr__(self, 'augment', kinds)  # a tuple, as stored with the run and compared on resuming
        if self.amp not in (*machine.PRECISIONS, True, False):
            raise InputError(f'unknown precision {self.amp!r} (choose from {", ".join(machine.PRECISIONS)})', ['amp'])
        if not isinstance(self.compile, bool):
            raise InputError(f'compile must be True or False, not {self.compile!r}', ['compile'])


def to_device(tensors, device):
    """The whole data set moves to the device once; batches are then slices of it, with no host copies."""
    return tuple(t.to(device, memory_format=LAYOUT) if t.dim() == 4 else t.to(device) for t in tensors)


def autocast(device, amp):
    """bfloat16 mixed precision when `amp` (float32 weights, matmuls and convolutions in bfloat16): True or False as
    train decided it, or a TrainConfig's own 'auto', 'on' or 'off' where train_epoch is called directly."""
    enabled = amp if isinstance(amp, bool) else machine.use_bf16(device, amp, warn=False)[0]
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=enabled)


def batches(tensor, batch_size):
    return (tensor[start:start + batch_size] for start in range(0, len(tensor), batch_size))


@torch.inference_mode()
def predict(model, target, inputs, batch_size=100):
    """The model's pictures (N, 3, H, W) for all inputs (target.decode), with BatchNorm in eval mode."""
    model.eval()
    return torch.cat([target.decode(model(x), x) for x in batches(inputs, batch_size)])


@torch.inference_mode()
def evaluate(model, target, inputs, targets, batch_size=100, amp=False):
    """Mean loss over all pixels and pixel accuracy in % (None where the target has none), BatchNorm in eval mode.

    Batches of 100 keep each layer's activations in the CPU's caches: faster than 500 or 1000 at once.
    """
    model.eval()
    total_loss = torch.zeros((), device=inputs.device)
    correct = torch.zeros((), device=inputs.device, dtype=torch.long)
    for x, y in zip(batches(inputs, batch_size), batches(targets, batch_size)):
        with autocast(inputs.device, amp):
            outputs = model(x)
        total_loss += target.loss(outputs, y) * len(y)
        if target.has_accuracy:
            correct += (outputs.argmax(1) == y).sum()
    accuracy = 100 * correct.item() / targets.numel() if target.has_accuracy else None
    return total_loss.item() / len(inputs), accuracy


@torch.no_grad()
def evaluate_legacy(model, target, inputs, targets, batch_size):
    """The assignment's own figures: BatchNorm in training mode (batch statistics), mean of the batch losses.

    Runs on a copy, since training-mode BatchNorm updates its running statistics.
    """
    model = copy.deepcopy(model).train()
    losses, correct = [], 0
    for x, y in zip(batches(inputs, batch_size), batches(targets, batch_size)):
        outputs = model(x)
        losses.append(target.loss(outputs, y).item())
        if target.has_accuracy:
            correct += (outputs.argmax(1) == y).sum().item()
    return float(np.mean(losses)), 100 * correct / targets.numel() if target.has_accuracy else None


def assignment_test_order(num_train, num_test, seed):
    """The test order the assignment's code produces: numpy's global generator seeded, the training images
    shuffled, then the test images shuffled (both in place, which draws the same numbers as shuffling indices)."""
    np.random.seed(seed)
    np.random.shuffle(np.arange(num_train))
    order = np.arange(num_test)
    np.random.shuffle(order)
    return torch.from_numpy(order)


class Interrupted(Exception):
    """A stop request seen at a step boundary; `position` (order, next step, loss so far) continues the pass, and
    `state` (from train) is the whole training state there, to save for resuming."""

    def __init__(self, message, position=None, state=None):
        super().__init__(message)
        self.position, self.state = position, state


def make_scheduler(optimizer, config, steps_per_epoch):
    """The learning rate step by step: constant, or annealed to zero over the run on a cosine or a line, after a
    linear warm-up of config.warmup epochs from 1% of the rate."""
    total, warm = config.epochs * steps_per_epoch, round(config.warmup * steps_per_epoch)
    schedules = torch.optim.lr_scheduler
    main = {'constant': lambda: schedules.ConstantLR(optimizer, factor=1.0),
            'cosine': lambda: schedules.CosineAnnealingLR(optimizer, max(1, total - warm)),
            'linear': lambda: schedules.LinearLR(optimizer, 1.0, 0.0, max(1, total - warm))}[config.lr_schedule]
    if not warm:
        return main()
    return schedules.SequentialLR(optimizer, [schedules.LinearLR(optimizer, 0.01, 1.0, warm), main()], [warm])


def show_progress(progress):
    """Whether to draw a progress bar: asked for (True, as in a notebook, whatever stderr is), refused (False), or
    by default (None) where stderr is a terminal; on the first process only."""
    return (sys.stderr.isatty() if progress is None else progress) and distributed.rank() == 0


def train_epoch(model, target, optimizer, scheduler, train_set, config, generator, position=None, should_stop=None,
                ema=None, progress=None):
    """One pass over a fresh shuffle; the loss stays on the device until the epoch ends (no per-step sync).

    The generator lives on the data's device, so shuffles and augmentations draw no numbers on the host.
    should_stop() is asked before every step; when true, Interrupted carries the position, and passing that
    position back in continues the same pass. A loss that is not finite (counted on the device, so without a sync
    per step) is a NonFiniteLoss at the end of the pass, naming its first step. `ema` (an AveragedModel) follows the
    weights after every step. `progress`: a bar over the steps (see show_progress).
    """
    inputs, targets = train_set
    model.train()
    order, first_step, total = position or (torch.randperm(len(inputs), generator=generator, device=generator.device),
                                            0, torch.zeros(()))
    order, total = order.to(inputs.device), total.to(inputs.device)
    finite = torch.ones((), dtype=torch.bool, device=inputs.device)  # every loss so far was finite
    finite_steps = torch.zeros((), dtype=torch.long, device=inputs.device)
    starts = range(0, len(inputs), config.batch_size)
    for step in tqdm(range(first_step, len(starts)), desc='train', leave=False, disable=not show_progress(progress)):
        if should_stop is not None and should_stop():
            check_finite(finite, first_step + finite_steps.item() + 1)  # weights after a bad step are no state
            raise Interrupted('stop requested', (order.cpu(), step, total.cpu()))
        index = order[starts[step]:starts[step] + config.batch_size]
        x, y = augment(inputs[index], targets[index], config.augment, generator)
        with autocast(inputs.device, config.amp):
            loss = target.loss(model(x), y, config.label_smoothing)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        if ema is not None:
            ema.update_parameters(model.module if hasattr(model, 'module') else model)
        total += loss.detach() * len(index)
        finite &= torch.isfinite(loss.detach())
        finite_steps += finite
    check_finite(finite, first_step + finite_steps.item() + 1)
    return total.item() / len(inputs)


def check_finite(finite, step):
    if not finite.item():
        raise NonFiniteLoss(f'the loss was not finite (NaN or infinity) at step {step}', step)


def non_finite(modules, row):
    """What is not finite after an epoch, in words, or None: a weight or buffer of `modules` (BatchNorm's running
    statistics can overflow while the loss stays finite), or a figure of the epoch's `row`."""
    if not all(torch.isfinite(t).all() for module in modules for t in (*module.parameters(), *module.buffers())
               if t.is_floating_point()):
        return 'the weights or BatchNorm statistics were no longer finite (NaN or infinity)'
    bad = [name for name, value in row.items() if isinstance(value, float) and not math.isfinite(value)]
    return f'the {" and ".join(bad)} {"was" if len(bad) == 1 else "were"} not finite' if bad else None


def epoch_line(row, epochs):
    """The line printed after each epoch, in the assignment's words."""
    acc = '' if row['val_acc'] is None else f', Val Acc: {row["val_acc"]:.1f}%'
    return (f'Epoch [{row["epoch"]}/{epochs}], Loss: {row["train_loss"]:.4f}, Val Loss: {row["val_loss"]:.4f}{acc}, '
            f'Time(s): {row["seconds"]:.2f}')


class EpochEnd(NamedTuple):
    """What train hands each of its epoch-end callbacks: the epoch's figures, the history so far (with them), and
    state(), the whole training state to continue from there (checkpoints.training_state)."""
    row: dict
    history: list
    state: Callable


def trainer_parts(model, config, images, device):
    """(the network that trains, AdamW, its schedule, the generator of shuffles and augmentations on `device`, the
    moving average or None) for `model` on `images` training images (shared among the processes)."""
    net = distributed.wrap(model)
    if config.compile:  # the compiled wrapper trains; `model` keeps the plain names that checkpoints use
        net = torch.compile(net)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learn_rate, weight_decay=config.weight_decay)
    steps = math.ceil(math.ceil(images / distributed.world_size()) / config.batch_size)
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(config.ema)) if config.ema else None
    return net, optimizer, make_scheduler(optimizer, config, steps), torch.Generator(device).manual_seed(config.seed), ema


def train(model, target, train_set, val_set, config, state=None, on_epoch=(), stop_signal=None, progress=None,
          log=None, on_start=None):
    """Train `model` to predict `target` on train_set, evaluating on val_set after each epoch; the sets are
    (inputs, targets) tensor pairs from target.encode. Returns the history: one dict of figures per epoch.

    The loop only: what happens at the end of an epoch (a metrics file, the resumable state, sample grids, a line
    printed: colorlib.runfolder) is handed to it as `on_epoch`, one function or a list, each called with an EpochEnd
    on the first process; on_start() there once the run is known to go ahead. `state`: a training state to
    continue (checkpoints.read_resumable's; a ConfigMismatch if it is another run's). log(line) gets the precision
    decided (config.amp, for the data's device: machine.use_bf16); `progress` a bar over the steps (show_progress).
    stop_signal() (see colorlib.preemption) is checked at every step: once it names a signal, Interrupted is raised
    with the position and the state there (`.state`). A loss, weight, BatchNorm statistic or validation figure that
    turns NaN or infinite stops the run with a NonFiniteLoss before any callback sees the epoch. With config.ema the
    moving average of the weights, with BatchNorm statistics recomputed for it over the training images after each
    epoch, is what is evaluated, and what `model` holds at the end. Under torchrun each rank trains on its own shard
    of every epoch, the model wrapped in DDP; the figures are averaged over ranks.
    """
    callbacks = list(on_epoch) if isinstance(on_epoch, (list, tuple)) else [on_epoch] if on_epoch else []
    asked = config.amp  # what ran, not what was asked, goes into the run
    config = dataclasses.replace(config, amp=machine.use_bf16(train_set[0].device, asked, warn=False)[0])
    world = distributed.world_size()
    net, optimizer, scheduler, generator, ema = trainer_parts(model, config, len(train_set[0]), train_set[0].device)
    run = describe_run(model, target, config, train_set)

    def snapshot(epoch, history, position=None):
        return training_state(model, optimizer, scheduler, generator, epoch, history, run, position, ema)

    history, done, position = [], 0, None
    if state is not None:
        check_same_run(state['run'], run)
        restore(state, model, optimizer, scheduler, generator, ema)
        history, done, position = state['history'], state['epoch'], state['position']
    if distributed.rank() == 0:  # said once the run is known to go ahead, with a warning where bfloat16 is emulated
        precision = machine.use_bf16(train_set[0].device, asked)[1]
        if log is not None:
            log(f'precision: {precision}')
        if on_start is not None:
            on_start()
    should_stop = None if stop_signal is None else lambda: distributed.any_rank(stop_signal() is not None)
    val_set = tuple(t[distributed.rank()::world] for t in val_set)
    start_time = time.perf_counter() - (history[-1]['seconds'] if history else 0)
    for epoch in range(done + 1, config.epochs + 1):
        epoch_set = train_set
        if world > 1:
            index = distributed.shard(len(train_set[0]), config.seed, epoch, distributed.rank(), world)
            epoch_set = tuple(t[index.to(t.device)] for t in train_set)
        try:
            train_loss = train_epoch(net, target, optimizer, scheduler, epoch_set, config, generator, position,
                                     should_stop, ema, progress)
        except Interrupted as stop:
            raise stopped(stop, stop_signal, epoch, model, snapshot, history) from None
        except NonFiniteLoss as err:
            raise NonFiniteLoss(f'training stopped in epoch {epoch}: {err}', err.step) from None
        position = None
        history.append(end_of_epoch(model, target, ema, train_set, val_set, config, epoch, train_loss, start_time))
        if distributed.rank() == 0:
            for callback in callbacks:
                callback(EpochEnd(history[-1], history, lambda: snapshot(epoch, history)))
    if ema is not None:
        model.load_state_dict(ema.module.state_dict())
    return history


def stopped(stop, stop_signal, epoch, model, snapshot, history):
    """What train raises for a stop request in `epoch`: an Interrupted saying where, with the state there, or a
    NonFiniteLoss where the weights are no longer finite (then no state of them is worth keeping)."""
    where = (f'stopped by {stop_signal().name if stop_signal() else "a signal on another rank"} in epoch {epoch}, '
             f'before step {stop.position[1] + 1}')
    bad = non_finite([model], {})
    if bad:
        return NonFiniteLoss(f'{where}: {bad}')
    return Interrupted(where, stop.position, snapshot(epoch - 1, history, stop.position))


def end_of_epoch(model, target, ema, train_set, val_set, config, epoch, train_loss, start_time):
    """The epoch's row of figures, once its BatchNorm statistics are settled (synced across ranks, or recomputed
    for the moving average) and the kept weights evaluated; a NonFiniteLoss where anything is no longer finite."""
    kept = model if ema is None else ema.module  # what is evaluated, and what the run leaves in `model`
    if ema is None:
        distributed.sync_buffers(model)
    else:  # the averaged weights get BatchNorm statistics of their own, over the training images
        update_bn(batches(train_set[0], 500), ema.module)
    val_loss, val_acc = evaluate(kept, target, *val_set, amp=config.amp)
    row = {'epoch': epoch, 'train_loss': distributed.average(train_loss),
           'val_loss': distributed.average(val_loss, len(val_set[0])),
           'val_acc': distributed.average(val_acc, len(val_set[0])),
           'seconds': round(time.perf_counter() - start_time, 3)}
    bad = non_finite([model, kept], row)
    if bad:
        raise NonFiniteLoss(f'training stopped in epoch {epoch}: {bad}')
    return row
