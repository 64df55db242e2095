"""SIGTERM and SIGUSR1, what SLURM sends before a time limit or a preemption, turned into a flag that training
reads at step boundaries, so that a run saves where it is and stops cleanly instead of dying mid-step; in the
other commands, into an exception, so that a file being written is cleaned up."""
import contextlib
import signal

STOP_SIGNALS = tuple(getattr(signal, name) for name in ('SIGTERM', 'SIGUSR1') if hasattr(signal, name))


@contextlib.contextmanager
def stop_signals_to(handler):
    """Within the block SIGTERM/SIGUSR1 call handler(signum, frame); the previous handlers come back afterwards."""
    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextlib.contextmanager
def catch_stop_signals():
    """Within the block SIGTERM/SIGUSR1 no longer kill the process; the yielded function returns the first one
    caught (a signal.Signals) or None."""
    caught = []
    with stop_signals_to(lambda signum, frame: caught.append(signal.Signals(signum))):
        yield lambda: caught[0] if caught else None


class Stopped(BaseException):
    """A stop signal outside training, raised wherever the command is, so that what it was writing is cleaned up on
    the way out (colorlib.files.atomic_write removes its temp file) instead of being left by the signal's kill."""

    def __init__(self, signum):
        self.signal = signal.Signals(signum)
        super().__init__(f'stopped by {self.signal.name}')


def raise_stopped(signum, frame):
    raise Stopped(signum)


def raise_stop_signals():
    """Within the block SIGTERM/SIGUSR1 raise Stopped; catch_stop_signals, inside it, takes them over for training."""
    return stop_signals_to(raise_stopped)
