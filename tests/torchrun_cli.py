"""Run by tests/test_distributed.py under torchrun: colorization.py's real command line, with each rank also
recording the training images of every epoch and its final state_dict in <folder>/rank<N>.pt (test-side only).

    torchrun --standalone --nproc_per_node 2 tests/torchrun_cli.py FOLDER [colorization.py flags]
"""
import sys
from pathlib import Path

import torch

import colorlib.cli
import colorlib.train
from colorlib import distributed

folder, argv = Path(sys.argv[1]), sys.argv[2:]
seen = []
real_train_epoch, real_train = colorlib.train.train_epoch, colorlib.cli.train


def recording_train_epoch(model, optimizer, scheduler, grey, *args, **kwargs):
    seen.append(grey.clone())
    return real_train_epoch(model, optimizer, scheduler, grey, *args, **kwargs)


def recording_train(model, *args, **kwargs):
    history = real_train(model, *args, **kwargs)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    torch.save({'seen': seen, 'state': state, 'world_size': distributed.world_size()},
               folder / f'rank{distributed.rank()}.pt')
    return history


colorlib.train.train_epoch = recording_train_epoch
colorlib.cli.train = recording_train
colorlib.cli.main(argv)
