"""Files written whole or not at all and never over what the caller did not name (one rule, may_write), places held
for the life of a run, and the assignment's object-pair .npy files (its colour files)."""
import contextlib
import errno
import fcntl
import os
import pickle
import secrets
import stat
from pathlib import Path

import numpy as np

from colorlib.errors import Busy, FileExists, InputError, WriteError

# what a file system says when a file cannot be written there (not the errors of a network stream being saved)
STORAGE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG, errno.EIO,
                  errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG, errno.ENOENT, errno.EEXIST}


def atomic_write(path, write, replace=False, reads=()):
    """Call write(f) on a temp file beside `path`, flush it to disk, then publish it under `path`: an interrupted or
    failed write leaves what was there as it was. may_write is asked before the work and again at the moment of
    publishing; without `replace` the temp file is hard-linked to `path`, which fails if anything appeared there
    meanwhile (that is kept), so only a regular file the caller named for replacing (`replace`) is ever replaced.
    The file gets the usual mode (0666 less the umask), not mkstemp's 0600, so that a group can read what a run wrote
    on a shared folder. A file system's refusal (full disk, read-only folder, ...) is a one-line WriteError."""
    may_write(path, replace, reads)
    path = Path(path)
    tmp = path.parent / f'.{path.name[:64]}.{secrets.token_hex(4)}.tmp'  # short enough wherever `path` fits
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the kernel takes the umask off
    except OSError as err:
        raise WriteError(f'cannot write {path}: {err.strerror or err}') from None
    try:
        with os.fdopen(fd, 'wb') as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        may_write(path, replace, reads)  # again: what is there now, not what was there when the work began
        publish(tmp, path, replace)
        sync_folder(path.parent)
    except BaseException as err:
        tmp.unlink(missing_ok=True)
        if isinstance(err, OSError) and err.errno in STORAGE_ERRORS:
            raise WriteError(f'cannot write {path}: {err.strerror} (what was there is kept)') from None
        raise
    return path


def publish(tmp, path, replace):
    """Give the finished temp file its name: os.replace where replacing was asked for (may_write has just found a
    regular file or nothing there), else os.link, which never replaces anything that appeared in the meantime."""
    if replace:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise WriteError(f'cannot write {path}: a file appeared there while this run worked; it is kept') from None
    except OSError as err:
        if err.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS):
            raise
        if os.path.lexists(path):  # a file system without hard links: the closest check, then a rename
            raise WriteError(f'cannot write {path}: a file appeared there while this run worked; it is kept') from None
        os.rename(tmp, path)
    os.unlink(tmp)


def sync_folder(folder):
    """Flush a folder's entries to disk, so that a rename in it survives a crash (where the system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot sync a folder; the file itself is on disk
        pass
    finally:
        os.close(fd)


def require_file(path):
    """`path` as a Path if it is a regular file; an InputError otherwise (a FIFO or a device would never end)."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except OSError as err:
        raise InputError(f'no such file: {path}' if err.errno in (errno.ENOENT, errno.ENOTDIR)
                         else f'cannot read {path}: {err.strerror}') from None
    if not stat.S_ISREG(mode):
        raise InputError(f'{path} is a folder, not a file' if stat.S_ISDIR(mode) else f'{path} is not a regular file')
    return path


def same_file(a, b):
    """Whether paths `a` and `b` name one file (also through links); False where either cannot be looked at."""
    a, b = Path(a), Path(b)
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except (OSError, RuntimeError):  # a symlink loop, a name too long
        return False


def may_write(path, replace=False, reads=()):
    """The one rule for every file colorlib writes, asked before the work and again at the moment of writing: a
    WriteError unless `path` names a file (not a folder) that is none of the files the run `reads` nor one colorlib
    ships (is_shipped), and holds nothing
    yet, or a regular file and `replace` (the caller named it for replacing). Never a FIFO, a device or a link to one:
    writing there would block, or replace a system's node by a file."""
    text = os.fspath(path)
    if text.endswith(os.sep) or (os.altsep and text.endswith(os.altsep)):
        raise WriteError(f'cannot write {text}: the name ends in {text[-1]}, so it names a folder, not a file')
    path = Path(path)
    if is_shipped(path):
        raise WriteError(f'{path} is a file colorlib ships, and colorlib never writes it, whatever it is told: '
                         'copy it first and write the copy')
    read = next((r for r in reads if same_file(path, r)), None)
    if read is not None:
        raise WriteError(f'{path} is an input of this run ({read}); write somewhere else')
    try:
        mode = os.stat(os.path.realpath(path)).st_mode  # outputs/../x is x once outputs/ is made
    except OSError as err:
        if err.errno == errno.ENOTDIR:  # no folder can be made there: refused now, not after the work
            blocking = next((p for p in reversed(path.parents) if os.path.isfile(p)), path.parent)
            raise WriteError(f'cannot write {path}: {blocking} is a file, not a folder') from None
        if err.errno != errno.ENOENT:  # too long a name, a symlink loop, no permission
            raise WriteError(f'cannot write {path}: {err.strerror}') from None
        if os.path.lexists(path) and not replace:  # a dangling link: something is there
            raise FileExists(f'{path} exists (a link to nothing)')
        return
    if stat.S_ISDIR(mode):
        raise WriteError(f'cannot write {path}: it is a folder')
    if not stat.S_ISREG(mode):
        raise WriteError(f'cannot write {path}: it is not a regular file (a FIFO, a device or a socket), and only '
                         'regular files are ever replaced')
    if not replace:
        raise FileExists(f'{path} exists')


def is_shipped(path):
    """Whether `path` is one of the files colorlib ships (its weights, colour files and data; colorlib.shipped), in
    a checkout or an install, also through a link; a new file beside them is none of them."""
    from colorlib import shipped
    try:
        real = Path(os.path.realpath(path))
        if not real.is_file():
            return False
        return any(real.parent == Path(os.path.realpath(shipped.folder(kind))) for kind in shipped.KINDS)
    except (OSError, ValueError):
        return False


def check_writable(path, replace=False, reads=()):
    """A WriteError now, not after hours of training, where `path` could not be written: may_write's rule, a folder
    on its way that is a file, or a nearest existing folder that refuses a new file (read-only, no permission)."""
    may_write(path, replace, reads)
    path = Path(path)
    folder = path.parent
    while not os.path.lexists(folder) and folder != folder.parent:  # the folders atomic_write would make
        folder = folder.parent
    if not os.path.isdir(folder):
        raise WriteError(f'cannot write {path}: {folder} is not a folder')
    probe = folder / f'.colorlib-probe-{secrets.token_hex(4)}'
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        probe.unlink()
    except OSError as err:
        raise WriteError(f'cannot write {path}: {err.strerror} in {folder}') from None


class NumpyUnpickler(pickle.Unpickler):
    """The batches are pickles; allow only what a numpy array needs, so a hostile file cannot run code."""
    ALLOWED = {('numpy.core.multiarray', '_reconstruct'), ('numpy.core.multiarray', 'scalar'),
               ('numpy', 'ndarray'), ('numpy', 'dtype'), ('_codecs', 'encode')}

    def find_class(self, module, name):
        key = (module.replace('numpy._core', 'numpy.core'), name)
        if key not in self.ALLOWED:
            raise pickle.UnpicklingError(f'forbidden global {module}.{name}')
        if module.startswith('numpy.core') and hasattr(np, '_core'):  # numpy 2 moved it; avoid the shim's warning
            module = 'numpy._core' + module[len('numpy.core'):]
        return super().find_class(module, name)
@contextlib.contextmanager
def held(place, folder=False):
    """Hold `place` (a `folder` a run writes into, or a file it will write) for this process while the block runs,
    by an flock on a lock file (<folder>/.lock, or .<name>.lock beside the file): a second process asking for it
    meanwhile gets a one-line Busy naming the holder's pid. The kernel lets go of the lock when the process ends,
    however it ends (SIGKILL too), so a lock file left behind blocks nobody."""
    place = Path(place)
    lock = place / '.lock' if folder else place.parent / f'.{place.name[:64]}.lock'
    made = [f for f in (lock.parent, *lock.parent.parents) if not os.path.lexists(f)]  # taken away again if empty
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors='replace').strip() or 'unknown'
                os.close(fd)
                raise Busy(f'{place} is in use by another run (pid {holder}); wait for it to end') from None
            try:
                same = os.stat(lock).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:  # its holder removed it as we opened it: take a fresh one
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f'{os.getpid()}\n'.encode(), 0)
    except OSError as err:
        raise WriteError(f'cannot write {lock}: {err.strerror}') from None
    try:
        yield place
    finally:
        with contextlib.suppress(OSError):  # its folder may have gone, or been replaced by a file, meanwhile
            lock.unlink(missing_ok=True)  # while still held, so that no one waits on a file that is gone
        os.close(fd)
        for empty in made:
            try:
                os.rmdir(empty)
            except OSError:  # the run wrote into it (or another process did)
                break


def read_pair(path, what):
    """The two parts of an object-array .npy file, as the assignment writes its colour files (Python 2 ones too).

    What np.load(allow_pickle=True, encoding='latin1') does, minus its risk: an object array is a pickle, so it is
    read with an unpickler that allows numpy arrays only (no code can run). `what` names the kind of file for the
    one-line InputError on a missing or foreign file."""
    path = require_file(path)
    try:
        with open(path, 'rb') as f:
            version = np.lib.format.read_magic(f)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            if read_header(f)[2].hasobject:
                data = NumpyUnpickler(f, encoding='latin1').load()
            else:
                f.seek(0)
                data = np.lib.format.read_array(f, allow_pickle=False)
        return np.asarray(data[0], dtype=np.float64), np.asarray(data[1], dtype=np.float64)
    except Exception as err:  # numpy raises many types for a file that is not one of these
        raise InputError(f'{path} is not {what} ({type(err).__name__})') from None


def write_pair(path, first, second, replace=False):
    """The assignment's layout: a 2-element object array [first, second], written atomically."""
    data = np.empty(2, dtype=object)
    data[0], data[1] = first, second
    return atomic_write(path, lambda f: np.save(f, data, allow_pickle=True), replace)
