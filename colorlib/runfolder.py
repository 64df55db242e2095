"""A run's files: which it writes (run_files), which it reads and so never writes over (read_files), the checks
before the first step (check_run_folder), and the folder while it trains (RunFolder: the end-of-epoch callbacks
that colorlib.train.train is handed, which write the metrics, the resumable state and the sample grids, and what a
stop says of them), then its closing files (save_run). The trainer knows nothing of files; this module is where
they are."""
import contextlib
import json
import os
from pathlib import Path

from colorlib import distributed, shipped
from colorlib.checkpoints import read_resumable, save_resumable
from colorlib.errors import FileExists, InputError, NonFiniteLoss, RunExists, WeightsNotSaved, WriteError, with_fields
from colorlib.files import atomic_write, check_writable, held, same_file
from colorlib.naming import (CURVE_FILE, METRICS_FILE, RESUME_FILE, SAMPLES_FILE, WEIGHTS_FILE, palette_file,
                             samples_file)
from colorlib.plots import save_figure, training_curve
from colorlib.report import samples
from colorlib.train import Interrupted

OUTPUTS = ('weights', 'colours', 'bins')  # what a run writes that is not its folder's: run_files


def run_files(out_dir, weights=None, target=None, epochs=0):
    """{kind: path} of the files a run writes: its folder's (metrics, resume, curve, samples, and `epochs` sample
    grids 'samples_1', ...), the weights (default out_dir/weights.pkl) and, where the target's colours go with
    them, those colours in their own file ('colours' or 'bins')."""
    out_dir = Path(out_dir)
    files = {'metrics': out_dir / METRICS_FILE, 'resume': out_dir / RESUME_FILE, 'curve': out_dir / CURVE_FILE,
             'samples': out_dir / SAMPLES_FILE}
    files.update({f'samples_{epoch}': out_dir / samples_file(epoch) for epoch in range(1, epochs + 1)})
    files['weights'] = weights if weights is not None else out_dir / WEIGHTS_FILE  # as given: 'x/' is no file
    if target is not None and target.keeps_palette:
        files[target.palette_setting] = palette_file(files['weights'], target.palette_setting)
    return files


def read_files(data, colours, bins, init):
    """Every file fit reads, so that none is ever written over: `data` (each picture of a folder too), the colours'
    and bins' files (the shipped ones it falls back on too) and the weights of `init` (a path, or a Model's)."""
    from colorlib.folders import image_files
    files = [p for p in (data, colours, bins, getattr(init, 'path', init)) if isinstance(p, (str, Path))]
    files += [shipped.DEFAULT_COLOURS, shipped.DEFAULT_BINS]
    if data is not None and os.path.isdir(data):
        files += image_files(data)
    return files


def check_run_folder(files, resume=False, overwrite=False, reads=()):
    """Before the first step (run_files' `files`): resume needs the resumable state; a folder that holds a run is a
    RunExists unless it is resumed or `overwrite`; the weights (and their colours) are none of the run's own files;
    and every file can be written by colorlib.files' one rule (none of the files the run `reads`, none there already
    unless `replaceable`)."""
    metrics, state = files['metrics'], files['resume']
    if resume and not state.is_file():
        raise InputError(f'no such file: {state} (nothing to continue)', ['resume'])
    epochs = metrics.read_bytes().count(b'\n') if metrics.is_file() else 0
    if (epochs or state.is_file()) and not (resume or overwrite):
        said, resumable = f'{epochs} epoch(s) logged', state.is_file()
        if resumable:
            try:
                said += f', {RESUME_FILE} at epoch {read_resumable(state)["epoch"]}'
            except InputError as err:
                said, resumable = f'{said}; its {RESUME_FILE} cannot be resumed: {err}', False
        raise RunExists(metrics.parent, said, resumable)
    outputs = {name: path for name, path in files.items() if name in OUTPUTS}
    folder = {name: path for name, path in files.items() if name not in outputs}
    for path in outputs.values():
        own = next((f for f in folder.values() if same_file(path, f)), None)
        if own is not None:
            raise InputError(f'{path} is where the run keeps its {own.name}; choose another file', ['weights'])
    replace = replaceable(files, resume, overwrite)
    for name, path in files.items():
        with_fields(['out_dir' if name in folder else 'weights'], check_writable, path, replace[name], reads)


def replaceable(files, resume=False, overwrite=False):
    """{name: whether files[name] may replace a file there}: each with overwrite; with resume the files of the run's
    folder, and weights (or their colours) kept in it. Weights elsewhere may be another run's or the user's."""
    if not files:
        return {}
    out_dir = files['metrics'].parent.resolve()
    return {name: overwrite or (resume and (name not in OUTPUTS or Path(path).resolve().parent == out_dir))
            for name, path in files.items()}


def write_metrics(path, history, replace=False):
    """One JSON line per epoch, the whole file rewritten atomically (a few KB): a crash never leaves half a line.
    Strict JSON: a NaN or infinity is an error here, never a bare NaN in the file (train stops before one)."""
    atomic_write(path, lambda f: f.write(''.join(json.dumps(row, allow_nan=False) + '\n' for row in history).encode()),
                 replace)


class RunFolder:
    """The run's folder while it trains (run_files' `files`; none: a run that writes nothing): the state a resumed
    run continues from, the end-of-epoch callbacks that write its metrics (one JSON line an epoch, started afresh
    for each run), its resumable state (every config.save_every epochs and at the last) and sample grids, and, as
    `stops()`, where a run that stops left its state. Files of those names already there are replaced only with
    resume or overwrite. Only the first process writes."""

    def __init__(self, files, config, resume=False, overwrite=False, reads=()):
        self.files, self.config, self.resume, self.overwrite, self.reads = files, config, resume, overwrite, reads
        self.writes = bool(files) and distributed.rank() == 0
        self.replace = replaceable(files, resume, overwrite)
        self.state, self.done, self.saved = None, 0, 0  # held() reads the state resumed; saved: the last on disk

    def start(self):
        """The log's place before the first step: a resumed log cut back to the state's epochs, an overwritten one
        emptied; a new run's log starts with its first epoch (none is left if that fails), its place checked now."""
        if self.writes and self.replace['metrics']:
            write_metrics(self.files['metrics'], self.state['history'] if self.state else [], True)
        elif self.writes:
            check_writable(self.files['metrics'])

    def callbacks(self, say=None, shown=None):
        """train's on_epoch: the metrics written, the epoch `say`d (a line printed), the resumable state saved and,
        with `shown` ((net, target, inputs, targets) of the test images), a sample grid of the epoch."""
        writes = [self.write_metrics] if self.writes else []
        keeps = [self.save_state] if self.writes else []
        grids = [self.sample_grid(*shown)] if self.writes and shown else []
        return writes + ([say] if say else []) + keeps + grids

    def write_metrics(self, end):
        """The log is the run's own once written: a file that appeared before its first write is kept."""
        epoch = end.row['epoch']
        write_metrics(self.files['metrics'], end.history, self.replace['metrics'] or epoch > self.done + 1)

    def save_state(self, end):
        epoch = end.row['epoch']
        if epoch % self.config.save_every == 0 or epoch == self.config.epochs:
            save_resumable(end.state(), self.files['resume'], self.replace['resume'] or self.saved > self.done)
            self.saved = epoch

    def sample_grid(self, net, target, inputs, targets):
        def draw(end):
            name = f'samples_{end.row["epoch"]}'
            written_late('out_dir', save_figure, samples(net, target, inputs, targets), self.files[name],
                         self.replace[name], self.reads)
        return draw

    def last_good(self):
        resume = self.files.get('resume')
        return f'the last good state (epoch {self.saved}) is in {resume}' if self.saved else 'no state was saved'

    @contextlib.contextmanager
    def stops(self):
        """train's stops said with where the state is: a stop request saves the state where the run is (an
        Interrupted naming the file), a non-finite loss names the last good state."""
        try:
            yield
        except Interrupted as stop:
            if self.writes:
                try:
                    save_resumable(stop.state, self.files['resume'], self.replace['resume'] or self.saved > self.done)
                except WriteError as err:
                    raise WriteError(f'{stop}, but {err}') from None
            kept_in = f'the training state is in {self.files["resume"]}' if self.files else 'nothing was saved'
            raise Interrupted(f'{stop}: {kept_in}', stop.position) from None
        except NonFiniteLoss as err:
            raise NonFiniteLoss(f'{err}; {self.last_good()}', err.step) from None

    @contextlib.contextmanager
    def held(self):
        """The folder and the weights held for this run (no second run writes the same files meanwhile), its places
        checked again now that they are held, and the state it resumes read (by every process)."""
        with contextlib.ExitStack() as places:
            if self.writes:
                with_fields(['out_dir'], places.enter_context, held(self.files['metrics'].parent, folder=True))
                with_fields(['weights'], places.enter_context, held(self.files['weights']))
                check_run_folder(self.files, self.resume, self.overwrite, self.reads)
            if self.resume:
                self.state = read_resumable(self.files['resume'])
                self.done = self.saved = self.state['epoch']
            yield self


def save_run(model, history, shown, files, replace, reads, log):
    """The end of a run: its training curve, the samples of `shown` (encoded test images) and its weights (with
    their colours where they keep them) into `files`. Weights that cannot be written (a file appeared there
    meanwhile, a full disk) are a WeightsNotSaved naming where the trained state still is."""
    curve = written_late('out_dir', save_figure, training_curve(history), files['curve'], replace['curve'], reads)
    log(f'Training curve: {curve}')
    pictures = written_late('out_dir', save_figure, samples(model.net, model.target, *shown), files['samples'],
                            replace['samples'], reads)
    log(f'Samples: {pictures}')
    kind = model.target.palette_setting
    try:
        written_late('weights', model.save, files['weights'], replace['weights'], reads)
        if kind in files:  # the same colours in the assignment's format, for -c or --bins
            log(f'{kind.capitalize()} of the training pictures saved with the weights, and to '
                f'{written_late("weights", model.target.save_palette, files[kind], replace[kind])}')
    except WriteError as err:
        raise WeightsNotSaved(str(err), files['resume']) from None
    log(f'Weights saved to {files["weights"]}')


def written_late(field, write, *args):
    """write(*args) once the run has trained: its WriteError names `field`, and a file that appeared there since the
    checks (a FileExists) is said to be kept, as a plain WriteError: naming the file for replacing is no longer a
    remedy."""
    try:
        return write(*args)
    except FileExists as err:
        raise WriteError(f'{err} (it appeared while this run trained; it is kept)', [field]) from None
    except WriteError as err:
        err.fields = err.fields or (field,)
        raise
