"""SIGTERM and SIGUSR1, what SLURM sends before a time limit or a preemption, turned into a flag that training
reads at step boundaries, so that a run saves where it is and stops cleanly instead of dying mid-step."""
import contextlib
import signal

STOP_SIGNALS = tuple(getattr(signal, name) for name in ('SIGTERM', 'SIGUSR1') if hasattr(signal, name))


@contextlib.contextmanager
def catch_stop_signals():
    """Within the block SIGTERM/SIGUSR1 no longer kill the process; the yielded function returns the first one
    caught (a signal.Signals) or None. The previous handlers come back afterwards."""
    caught = []

    def handler(signum, frame):
        caught.append(signal.Signals(signum))

    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield lambda: caught[0] if caught else None
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
