"""SIGTERM/SIGUSR1 (colorlib.preemption): caught as a flag, and a real run that gets one saves and exits cleanly,
then resumes to the same weights as a run that never stopped."""
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from colorlib.checkpoints import read_resumable, read_weights
from colorlib.cli.colorization import main
from colorlib.preemption import Stopped, catch_stop_signals, raise_stop_signals
from colorlib.shipped import DEFAULT_COLOURS

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGUSR1], ids=['SIGTERM', 'SIGUSR1'])
def test_stop_signals_become_a_flag_and_the_old_handler_returns(sig):
    before = signal.getsignal(sig)
    with catch_stop_signals() as stop_signal:
        assert stop_signal() is None
        os.kill(os.getpid(), sig)  # would end pytest without the handler
        assert stop_signal() == sig
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop_signal() == sig  # the first one counts
    assert signal.getsignal(sig) == before


@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGUSR1], ids=['SIGTERM', 'SIGUSR1'])
def test_outside_training_a_stop_signal_is_an_exception_and_training_takes_it_over(sig):
    before = signal.getsignal(sig)
    with pytest.raises(Stopped, match=f'stopped by {sig.name}') as stopped, raise_stop_signals():
        with catch_stop_signals() as stop_signal:  # training's own handling, inside a command
            os.kill(os.getpid(), sig)
            assert stop_signal() == sig
        os.kill(os.getpid(), sig)  # back in the command: the signal unwinds it
    assert stopped.value.signal == sig and signal.getsignal(sig) == before


def flags(tiny_npz):
    return ['--model', 'CNN', '-f', '2', '-b', '50', '-e', '6', '--data', tiny_npz, '-c', str(DEFAULT_COLOURS),
            '--device', 'cpu', '--augment', 'shift']


@pytest.fixture(scope='module')
def one_thread():
    """The signalled subprocess runs with one thread; the in-process runs must too, since the CPU's
    convolutions sum in another order with another thread count and bit-for-bit equality is the point."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='module')
def uninterrupted(tiny_npz, tmp_path_factory, one_thread):
    """The weights of the same run never stopped."""
    cwd = os.getcwd()
    os.chdir(tmp_path_factory.mktemp('whole'))
    try:
        main(flags(tiny_npz))
        return read_weights('outputs/cnn_k3_f2/weights.pkl')
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGUSR1], ids=['SIGTERM', 'SIGUSR1'])
def test_a_signalled_run_saves_exits_cleanly_and_resumes(sig, tiny_npz, uninterrupted, tmp_path, monkeypatch, capsys):
    env = {**os.environ, 'PYTHONPATH': str(REPO), 'OMP_NUM_THREADS': '1'}
    run = subprocess.Popen([sys.executable, '-u', str(REPO / 'colorization.py')] + flags(tiny_npz), cwd=tmp_path,
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    precision, first = run.stdout.readline(), run.stdout.readline()
    assert precision.startswith('precision: ') and first.startswith('Epoch [1/6]'), first + run.stderr.read()
    run.send_signal(sig)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 128 + sig, err
    assert 'Traceback' not in err
    message = out.strip().splitlines()[-1]
    assert message.startswith(f'stopped by {sig.name} in epoch ') and message.endswith('with --resume to continue')
    out_dir = tmp_path / 'outputs' / 'cnn_k3_f2'
    state = read_resumable(out_dir / 'resume.pt')
    assert state['epoch'] < 6 and not (out_dir / 'weights.pkl').exists()
    assert not [p for p in out_dir.iterdir() if p.name.endswith('.tmp')]

    monkeypatch.chdir(tmp_path)
    main(flags(tiny_npz) + ['--resume'])
    assert 'Epoch [6/6]' in capsys.readouterr().out
    resumed = read_weights(out_dir / 'weights.pkl')
    assert resumed.keys() == uninterrupted.keys()
    assert all((resumed[k] == uninterrupted[k]).all() for k in resumed)
