"""Tests for scripts/experiments/superres_ceiling.py: the yardstick network trains, scores and resumes."""
import json
import subprocess
import sys
from pathlib import Path

import torch

SCRIPT = Path(__file__).resolve().parents[1] / 'scripts' / 'experiments' / 'superres_ceiling.py'
TINY = ['--channels', '4', '--blocks', '1', '--epochs', '1', '--batch-size', '500']


def run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *TINY, *args], capture_output=True, text=True, timeout=300)


def test_trains_reports_psnr_and_starts_again_from_its_weights(tmp_path):
    weights = tmp_path / 'ceiling.pt'
    proc = run('--save', str(weights))
    assert proc.returncode == 0, proc.stderr
    header, epoch = [json.loads(line) for line in proc.stdout.splitlines()]
    assert header['parameters'] == sum(t.numel() for t in torch.load(weights, weights_only=True).values())
    assert epoch['epoch'] == 1 and 10 < epoch['psnr'] < 40 and 0 < epoch['ssim'] < 1
    proc = run('--init', str(weights), '--learn-rate', '0')
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1])['psnr'] == epoch['psnr']  # unchanged weights, same figure


def test_bad_places_fail_before_training(tmp_path):
    (tmp_path / 'folder').mkdir()
    proc = run('--save', str(tmp_path / 'folder'))
    assert proc.returncode == 2 and 'it is a folder' in proc.stderr and 'epoch' not in proc.stdout
    proc = run('--init', str(tmp_path / 'missing.pt'))
    assert proc.returncode == 2 and '--init: no such file' in proc.stderr and 'Traceback' not in proc.stderr


def test_an_existing_file_is_replaced_only_when_asked(tmp_path):
    weights = tmp_path / 'kept.pt'
    weights.write_bytes(b'earlier work')
    proc = run('--save', str(weights))
    assert proc.returncode == 2 and '--save:' in proc.stderr and 'exists' in proc.stderr and 'epoch' not in proc.stdout
    proc = run('--init', str(weights), '--save', str(weights), '--overwrite')
    assert proc.returncode == 2 and 'is an input of this run' in proc.stderr
    assert weights.read_bytes() == b'earlier work'
    proc = run('--save', str(weights), '--overwrite')
    assert proc.returncode == 0, proc.stderr
    assert torch.load(weights, weights_only=True)  # replaced by a state dict


def test_init_of_another_shape_fails_in_one_line(tmp_path):
    weights = tmp_path / 'small.pt'
    assert run('--save', str(weights)).returncode == 0
    proc = run('--init', str(weights), '--channels', '8')
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr and 'epoch' not in proc.stdout
    assert f'--init: {weights} does not hold a --channels 8 --blocks 1 network' in proc.stderr
