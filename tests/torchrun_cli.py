"""Run by tests/test_distributed.py under torchrun: colorization.py's real command line, with each rank also
recording the training inputs of every epoch and its final state_dict in <folder>/rank<N>.pt (test-side only:
a spy on the library's colorlib.train.train_epoch, which the trainer looks up as a module global).

    torchrun --standalone --nproc_per_node 2 tests/torchrun_cli.py FOLDER [colorization.py flags]
"""
import sys
from pathlib import Path

import torch

import colorlib.train
from colorlib import distributed
from colorlib.cli.colorization import main

folder, argv = Path(sys.argv[1]), sys.argv[2:]
seen, trained = [], {}
real_train_epoch = colorlib.train.train_epoch


def recording_train_epoch(model, target, optimizer, scheduler, train_set, *args, **kwargs):
    seen.append(train_set[0].clone())
    trained.update(model=getattr(model, 'module', model), rank=distributed.rank(),
                   world_size=distributed.world_size())
    return real_train_epoch(model, target, optimizer, scheduler, train_set, *args, **kwargs)


def save_then_leave():
    """The command ends its process where it leaves the process group (cli/common.end_torchrun_process): save
    there."""
    state = {k: v.clone() for k, v in trained['model'].state_dict().items()}
    torch.save({'seen': seen, 'state': state, 'world_size': trained['world_size']},
               folder / f'rank{trained["rank"]}.pt')
    real_leave()


colorlib.train.train_epoch = recording_train_epoch
real_leave, distributed.leave = distributed.leave, save_then_leave
main(argv)
