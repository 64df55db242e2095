"""Data-parallel training under torchrun: the process group, each rank's share of an epoch, figures averaged
over ranks.

A plain `python colorization.py` run never gets here with more than one process: without torchrun (WORLD_SIZE
unset or 1) there is no process group, rank() is 0, world_size() is 1 and every helper hands back its input.
"""
import atexit
import os

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler


def launched_by_torchrun():
    return int(os.environ.get('WORLD_SIZE', '1')) > 1


def setup(device):
    """Join the process group torchrun describes in the environment and return this process's device:
    gloo on the CPU, nccl on CUDA with one GPU per local rank. Without torchrun, `device` as it is."""
    if not launched_by_torchrun():
        return device
    if device.type == 'cuda':
        device = torch.device('cuda', int(os.environ['LOCAL_RANK']))
        torch.cuda.set_device(device)
    if active():  # joined already (a second run in the same processes)
        return device
    dist.init_process_group('nccl' if device.type == 'cuda' else 'gloo')
    atexit.register(leave)
    return device


def leave():
    """Leave the process group, where joined (at exit, or where a command ends its process)."""
    if active():
        dist.destroy_process_group()


def active():
    return dist.is_available() and dist.is_initialized()


def rank():
    return dist.get_rank() if active() else 0


def world_size():
    return dist.get_world_size() if active() else 1


def shard(num_items, seed, epoch, rank, world_size):
    """This rank's indices for one epoch: torch's DistributedSampler, shuffled with seed + epoch and padded
    (by repeating a few items) so that every rank gets the same number of items, hence of steps."""
    sampler = DistributedSampler(range(num_items), num_replicas=world_size, rank=rank, shuffle=True, seed=seed)
    sampler.set_epoch(epoch)
    return torch.tensor(list(sampler))


def wrap(model):
    """DistributedDataParallel around `model` under torchrun (gradients averaged over ranks at every step,
    rank 0's BatchNorm buffers broadcast before every forward), else the model itself."""
    if not active():
        return model
    device = next(model.parameters()).device
    return DistributedDataParallel(model, device_ids=[device] if device.type == 'cuda' else None)


def sync_buffers(model):
    """Give every rank rank 0's BatchNorm running statistics, as DDP does before each training forward, so that
    evaluation and checkpoints see one model."""
    if active():
        for buffer in model.buffers():
            dist.broadcast(buffer, 0)


def _reduce(values, op):
    device = torch.device('cuda', torch.cuda.current_device()) if dist.get_backend() == 'nccl' else 'cpu'
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor, op)
    return tensor.tolist()


def average(value, weight=1.0):
    """The mean of `value` over ranks, each counted `weight` times (e.g. its number of images)."""
    if not active() or value is None:
        return value
    total, weights = _reduce([value * weight, weight], dist.ReduceOp.SUM)
    return total / weights


def any_rank(flag):
    """True on every rank when `flag` is true on at least one, so that all ranks stop at the same step."""
    if not active():
        return flag
    return _reduce([float(flag)], dist.ReduceOp.MAX)[0] > 0
