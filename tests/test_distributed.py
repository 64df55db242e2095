"""Tests for colorlib.distributed: the epoch shards, and a real two-process torchrun run on the CPU (gloo)."""
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from colorlib import distributed
from colorlib.checkpoints import read_palette, read_resumable, read_weights
from colorlib.cli.colorization import main
from colorlib.data import load_category
from colorlib.images import to_float, to_grey
from colorlib.shipped import DEFAULT_COLOURS

REPO = Path(__file__).resolve().parents[1]
TORCHRUN = [sys.executable, '-m', 'torch.distributed.run']


@pytest.mark.parametrize('num_items, world_size', [(200, 2), (201, 2), (10, 3), (7, 1)])
def test_shards_split_every_epoch_between_the_ranks(num_items, world_size):
    for epoch in (1, 2):
        shards = [distributed.shard(num_items, 5, epoch, rank, world_size) for rank in range(world_size)]
        assert len({len(s) for s in shards}) == 1  # same number of steps on every rank
        assert len(shards[0]) == -(-num_items // world_size)
        everything = torch.cat(shards)
        assert sorted(set(everything.tolist())) == list(range(num_items))
        assert len(everything) - num_items < world_size  # padding repeats at most world_size - 1 items
        if len(everything) == num_items:
            assert len(set(everything.tolist())) == num_items  # disjoint
        assert torch.equal(shards[0], distributed.shard(num_items, 5, epoch, 0, world_size))  # reproducible
    assert not torch.equal(distributed.shard(200, 5, 1, 0, 2), distributed.shard(200, 5, 2, 0, 2))  # reshuffled
    assert not torch.equal(distributed.shard(200, 5, 1, 0, 2), distributed.shard(200, 6, 1, 0, 2))


def test_without_torchrun_there_is_no_process_group(monkeypatch):
    monkeypatch.delenv('WORLD_SIZE', raising=False)
    assert distributed.setup(torch.device('cpu')) == torch.device('cpu')
    assert not distributed.active()
    assert (distributed.rank(), distributed.world_size()) == (0, 1)
    assert distributed.average(1.5, 10) == 1.5 and distributed.any_rank(True) is True


def test_valid_under_torchrun_is_refused_before_any_process_group(monkeypatch, capsys):
    monkeypatch.setenv('WORLD_SIZE', '2')
    with pytest.raises(SystemExit) as exit_:
        main(['--valid', '--checkpoint', 'weights.pkl'])
    assert exit_.value.code == 2 and not distributed.active()
    assert capsys.readouterr().err.strip() == ('colorization.py: error: --valid runs in one process: start it with '
                                               'python, not torchrun')


def flags(tiny_npz):
    return ['--model', 'UNet', '-f', '4', '-e', '4', '-b', '25', '--data', tiny_npz, '-c', str(DEFAULT_COLOURS),
            '--device', 'cpu', '--augment', 'hflip', '--experiment-name', 'ddp']


def torchrun(script, argv, cwd):
    env = {**os.environ, 'PYTHONPATH': str(REPO), 'OMP_NUM_THREADS': '1'}
    return subprocess.Popen(TORCHRUN + ['--standalone', '--nproc_per_node', '2', str(script)] + argv, cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_torchrun_two_cpu_processes_stop_resume_share_each_epoch_and_end_with_one_model(tiny_npz, tmp_path):
    """colorization.py under torchrun with 2 CPU processes, stopped by SIGTERM after its first epoch, then
    resumed with each process also recording (test-side, tests/torchrun_cli.py) what it trained on and its
    final weights."""
    work = tmp_path / 'work'
    work.mkdir()
    # SIGTERM to torchrun reaches both processes; they agree on one step, rank 0 saves, both exit
    run = torchrun(REPO / 'colorization.py', flags(tiny_npz), work)
    precision, first = run.stdout.readline(), run.stdout.readline()
    assert precision.startswith('precision: ') and first.startswith('Epoch [1/4]'), first + run.stderr.read()
    run.send_signal(signal.SIGTERM)
    out, err = run.communicate(timeout=120)
    stops = [line for line in out.splitlines() if line.startswith('stopped by SIGTERM in epoch')]
    assert len(stops) == 1, out + err[-3000:]
    done = read_resumable(work / 'outputs' / 'ddp' / 'resume.pt')['epoch']
    assert 1 <= done < 4 and not (work / 'outputs' / 'ddp' / 'weights.pkl').exists()

    resumed = torchrun(REPO / 'tests' / 'torchrun_cli.py', [str(tmp_path)] + flags(tiny_npz) + ['--resume'], work)
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err[-3000:]
    ranks = [torch.load(tmp_path / f'rank{r}.pt', weights_only=True) for r in (0, 1)]
    assert [r['world_size'] for r in ranks] == [2, 2]
    # the training images each rank saw in each epoch, identified by their bytes: disjoint halves of the 200
    grey = to_grey(to_float(load_category(tiny_npz, 7)[0]))  # the network's input, as ColourClasses encodes it
    index_of = {image.numpy().tobytes(): i for i, image in enumerate(grey)}
    assert len(index_of) == 200 and len(ranks[0]['seen']) == 4 - done
    for epoch in range(4 - done):
        seen = [[index_of[image.numpy().tobytes()] for image in r['seen'][epoch]] for r in ranks]
        assert [len(s) for s in seen] == [100, 100]
        assert set(seen[0]).isdisjoint(seen[1]) and set(seen[0]) | set(seen[1]) == set(range(200))

    # one model: identical weights and BatchNorm statistics on both ranks, and that is what was saved
    state0, state1 = ranks[0]['state'], ranks[1]['state']
    assert state0.keys() == state1.keys()
    for key in state0:
        assert torch.equal(state0[key], state1[key]), key
    saved = read_weights(work / 'outputs' / 'ddp' / 'weights.pkl')
    assert all(torch.equal(saved[k], state0[k]) for k in saved)

    # rank 0 alone printed and wrote: each line and each metrics row once, no stray files
    lines = out.splitlines()
    epochs = [line[:12] for line in lines if line.startswith('Epoch [')]
    assert epochs == [f'Epoch [{e}/4],' for e in range(done + 1, 5)]
    assert len([line for line in lines if line.startswith('Weights saved to')]) == 1
    rows = [json.loads(line) for line in (work / 'outputs' / 'ddp' / 'metrics.jsonl').read_text().splitlines()]
    assert [row['epoch'] for row in rows] == [1, 2, 3, 4]
    assert sorted(p.name for p in (work / 'outputs').rglob('*')) == [
        'ddp', 'metrics.jsonl', 'resume.pt', 'samples.png', 'training_curve.png', 'weights.pkl']


def test_torchrun_on_a_folder_of_pictures_says_things_once_stops_and_resumes(tmp_path):
    """Folder data under torchrun with 2 CPU processes: the skipped file and the data-set line are said once (not once
    a process), the colours fitted on the pictures are the same in both, and a stopped run resumes to the end."""
    (tmp_path / 'pics').mkdir()
    for i in range(24):
        Image.fromarray(np.random.default_rng(i).integers(0, 256, (40, 48, 3), dtype=np.uint8)).save(
            tmp_path / 'pics' / f'{i}.png')
    (tmp_path / 'pics' / 'broken.png').write_bytes(b'\x89PNG\r\n\x1a\n not really')
    argv = ['--model', 'CNN', '-f', '4', '-e', '30', '-b', '4', '--data', 'pics', '--device', 'cpu',
            '--experiment-name', 'ddp', '--checkpoint', 'w.pkl']
    run = torchrun(REPO / 'colorization.py', argv, tmp_path)
    lines = [run.stdout.readline() for _ in range(3)]  # the data set's line, the precision, the first epoch
    assert lines[1].startswith('precision: ') and lines[2].startswith('Epoch [1/30]'), ''.join(lines) + run.stderr.read()
    run.send_signal(signal.SIGTERM)
    out, err = run.communicate(timeout=120)
    out = ''.join(lines) + out
    assert out.count('22 training and 2 test images of 32x32 from pics') == 1, out
    assert err.count('skipped pics/broken.png') == 1, err[-3000:]
    assert read_resumable(tmp_path / 'outputs' / 'ddp' / 'resume.pt')['epoch'] < 30  # 30 epochs take seconds
    run = torchrun(REPO / 'colorization.py', argv + ['--resume'], tmp_path)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 0, err[-3000:]
    assert read_resumable(tmp_path / 'outputs' / 'ddp' / 'resume.pt')['epoch'] == 30
    assert read_palette(tmp_path / 'w.pkl')['colours.centres'].shape == (24, 3)


ENDS = '''
import atexit, sys, torch, torch.distributed as dist
from colorlib import distributed
from colorlib.cli.common import OneLineParser, UsageError, run_command

def runner(args):
    distributed.setup(torch.device('cpu'))
    total = torch.ones(1)
    dist.all_reduce(total)
    print(f'rank {distributed.rank()} of {int(total)}')
    if args.refuse and distributed.rank() == 1:
        raise UsageError('refused on rank 1')

atexit.register(print, 'the interpreter tore down', flush=True)
parser = OneLineParser(prog='ends')
parser.add_argument('--refuse', action='store_true')
run_command(parser, runner, sys.argv[1:])
print('never here', flush=True)
'''


@pytest.mark.parametrize('refuse', [False, True])
def test_a_command_under_torchrun_ends_each_rank_with_its_status_and_all_it_printed(tmp_path, refuse):
    """run_command ends a torchrun'd process itself (colorlib.cli.common.end_torchrun_process): every line printed
    comes out, the status is the command's, and the process ends at once, without the interpreter's teardown (where
    torch's and gloo's threads can abort it)."""
    script = tmp_path / 'ends.py'
    script.write_text(ENDS)
    run = torchrun(script, ['--refuse'] if refuse else [], tmp_path)
    out, err = run.communicate(timeout=120)
    assert sorted(re.findall(r'rank \d of \d', out)) == ['rank 0 of 2', 'rank 1 of 2']  # the two ranks' lines may mix
    assert 'never here' not in out and 'terminate called' not in err
    if refuse:
        assert run.returncode != 0 and 'ends: error: refused on rank 1' in err
    else:
        assert run.returncode == 0 and 'tore down' not in out, err
