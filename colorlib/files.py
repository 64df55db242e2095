"""Files written whole or not at all, and the assignment's object-pair .npy files (its colour files)."""
import errno
import os
import pickle
import secrets
from pathlib import Path

import numpy as np

from colorlib.errors import InputError, WriteError

# what a file system says when a file cannot be written there (not the errors of a network stream being saved)
STORAGE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG, errno.EIO,
                  errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG, errno.ENOENT, errno.EEXIST}


def atomic_write(path, write):
    """Call write(f) on a temp file beside `path`, flush it to disk, then rename it over `path`: an interrupted or
    failed write leaves the old file as it was. The file gets the usual mode (0666 less the umask), not mkstemp's
    0600, so that a group can read what a run wrote on a shared folder. A file system's refusal (full disk,
    read-only folder, ...) is a one-line WriteError."""
    path = Path(path)
    tmp = path.parent / f'.{path.name}.{secrets.token_hex(4)}.tmp'
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
        os.replace(tmp, path)
        sync_folder(path.parent)
    except BaseException as err:
        tmp.unlink(missing_ok=True)
        if isinstance(err, OSError) and err.errno in STORAGE_ERRORS:
            raise WriteError(f'cannot write {path}: {err.strerror} (what was there is kept)') from None
        raise
    return path


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
    if not path.is_file():
        raise InputError(f'{path} is a folder, not a file' if path.is_dir() else f'{path} is not a regular file'
                         if path.exists() else f'no such file: {path}')
    return path


def check_writable(path):
    """A WriteError now, not after hours of training, where `path` could not be written: it is a folder, a folder
    on its way is a file, or the nearest existing folder refuses a new file (read-only, no permission)."""
    path = Path(path)
    if path.is_dir():
        raise WriteError(f'cannot write {path}: it is a folder')
    folder = path.parent
    while not folder.exists() and folder != folder.parent:  # the folders atomic_write would make
        folder = folder.parent
    if not folder.is_dir():
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


def write_pair(path, first, second):
    """The assignment's layout: a 2-element object array [first, second], written atomically."""
    data = np.empty(2, dtype=object)
    data[0], data[1] = first, second
    return atomic_write(path, lambda f: np.save(f, data, allow_pickle=True))
