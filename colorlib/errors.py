"""The library's errors: one line each, naming the file or value and the problem, never a command-line flag."""
import difflib
import math
import numbers
import os


class InputError(Exception):
    """A file or value given to colorlib that it cannot use. `fields` names the settings at fault where known
    (e.g. ('filters',)), so that a front end can say them in its own terms (the command line: its flags); `needs`
    ({field: value}) the settings that would make it work, where one setting asks for others; `source` the setting
    whose file it is about, where that is not the one at fault (weights given as init that contradict a model)."""
    source = None

    def __init__(self, message, fields=(), needs=None):
        super().__init__(message)
        self.fields = tuple(fields)
        self.needs = dict(needs or {})


def with_fields(fields, make, *args, **kwargs):
    """make(*args, **kwargs), an InputError from it (of whichever kind: FileExists, Busy, ...) naming `fields` where it
    names none: the caller knows which of its settings the input came from."""
    try:
        return make(*args, **kwargs)
    except InputError as err:
        err.fields = err.fields or tuple(fields)
        raise


def check_whole(value, name, low, high=None):
    """An InputError naming `name` unless `value` is a whole number (not a bool, not '2') from low to high."""
    if not (isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= low
            and (high is None or value <= high)):
        bounds = f'of at least {low}' if high is None else f'from {low} to {high}'
        raise InputError(f'{name} must be a whole number {bounds}, not {value!r}', [name])


def check_flag(value, name):
    """An InputError naming `name` unless `value` is True or False: 'no' and 'false' are true to Python, 1 is no
    answer."""
    if not isinstance(value, bool) and type(value).__name__ != 'bool_':  # numpy's bool is one too
        raise InputError(f'{name} must be True or False, not {value!r}', [name])


def check_path(value, name, optional=False):
    """An InputError naming `name` unless `value` is a path (a str or os.PathLike) that names something: not empty
    (that would be the current folder), no NUL byte (no file system takes one). None passes where `optional`."""
    if value is None and optional:
        return
    text = os.fspath(value) if isinstance(value, (str, os.PathLike)) else None
    if not isinstance(text, str):
        raise InputError(f'{name} must be a path (a str or pathlib.Path), not {value!r}', [name])
    if not text.strip():
        raise InputError(f'{name} is an empty path {text!r}; name a file or folder ("." for the current one)', [name])
    if '\0' in text:
        raise InputError(f'{name} {text!r} holds a NUL byte, which no file name may', [name])


def check_callable(value, name):
    """An InputError naming `name` unless `value` is None or can be called."""
    if value is not None and not callable(value):
        raise InputError(f'{name} must be a function (or None), not {value!r}', [name])


def check_number(value, name, low, high=math.inf, low_open=False):
    """An InputError naming `name` unless `value` is a finite real number (not a bool, not '2') in [low, high]
    ((low, high] with `low_open`)."""
    if not (isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
            and (value > low if low_open else value >= low) and value <= high):
        bounds = f'{"above" if low_open else "at least"} {low}' + ('' if high == math.inf else f' and at most {high}')
        raise InputError(f'{name} must be a finite number {bounds}, not {value!r}', [name])


def check_keywords(given, known, where):
    """An InputError naming the first of `given` keywords that `where` does not take, with the nearest it does."""
    for name in given:
        if name not in known:
            near = difflib.get_close_matches(name, list(known), n=1)
            hint = f'; did you mean {near[0]}?' if near else f' (it takes {", ".join(sorted(known))})'
            raise InputError(f'{where} takes no keyword {name!r}{hint}', [name])


def named_keywords(method):
    """`method` with a keyword it does not take refused as check_keywords does (an InputError naming it, with the
    nearest it takes), where Python would raise its own TypeError."""
    import functools
    import inspect
    known = [name for name in inspect.signature(method).parameters if name != 'self']

    @functools.wraps(method)
    def checked(*args, **keywords):
        check_keywords(keywords, known, method.__qualname__)
        return method(*args, **keywords)
    return checked


class ConfigMismatch(InputError):
    """A saved run that differs from the one asked for; `differences` holds (field, saved, now) triples."""

    def __init__(self, differences):
        self.differences = list(differences)
        super().__init__('; '.join(f'the saved run had {field} {saved}, this one has {now}'
                                   for field, saved, now in self.differences), [d[0] for d in self.differences])


class RunExists(InputError):
    """A folder that holds an earlier run, refused unless it is resumed or started again; `said` is what it holds
    (epochs logged, the epoch of its resumable state), `resumable` whether it can be continued. A front end says
    how to continue or restart it in its own terms."""

    def __init__(self, folder, said, resumable):
        self.folder, self.said, self.resumable = folder, said, resumable
        super().__init__(f'{folder} holds a run ({said}); {"resume=True continues it, " if resumable else ""}'
                         'overwrite=True starts it again', ['out_dir'])


class WriteError(InputError):
    """A file that could not be written (a full disk, a read-only folder, ...); the file that was there is kept."""


class WeightsNotSaved(WriteError):
    """Weights that could not be written once the run had trained; `state`, the run's resumable state, still holds
    the trained model (resuming the run with other weights saves them)."""

    def __init__(self, message, state):
        self.state = state
        super().__init__(f'{message}; the trained model is in {state}', ['weights'])


class FileExists(WriteError):
    """A file to be written exists and was not named for replacing; a front end may say how to name it."""


class Busy(InputError):
    """A place another process holds for its run (colorlib.files.held); the message names that process."""


class NonFiniteLoss(Exception):
    """Training produced a loss that is NaN or infinite; `step` is the first such step of the epoch (1-based)."""

    def __init__(self, message, step=None):
        super().__init__(message)
        self.step = step


class TooBig(InputError):
    """A size that would not fit in the memory free (colorlib.memory.check_fits); `fits` holds (field, value) pairs,
    each a setting that alone would make it fit, so that a front end can say them in its own terms."""

    def __init__(self, message, fields=(), fits=()):
        self.stem, self.fits = message, list(fits)
        said = ' or '.join(f'{field}={value}' for field, value in self.fits)
        super().__init__(f'{message}; {said} would fit' if said else message, fields)
