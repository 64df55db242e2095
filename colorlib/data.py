"""
CIFAR-10 loading for the colourization experiments.

Reads the official cifar-10-python.tar.gz (straight from the tar), its extracted
cifar-10-batches-py/ folder, or an .npz with train_x/train_y/test_x/test_y, and
returns uint8 NHWC RGB images in the official order. Every bad input becomes a
one-line InputError naming the file and the problem. load_images is what colorlib.fit
and the commands call: a CIFAR-10 class, or a folder of one's own pictures (colorlib.folders).
"""

import hashlib
import http.client
import pickle
import posixpath
import sys
import tarfile
import urllib.error
import urllib.request
import zipfile
import zlib
from pathlib import Path

import numpy as np
import torch

from colorlib.errors import (InputError, check_callable, check_flag, check_number, check_path, check_whole,
                             with_fields)
from colorlib.files import NumpyUnpickler, atomic_write
from colorlib.folders import IMAGE_SIZE, VAL_SHARE, load_folder
from colorlib.images import SIDES, trainable_sides
from colorlib.machine import pick_device
from colorlib.memory import available_memory
from colorlib.shipped import DEFAULT_DATA

CATEGORY = 'horse'  # the assignment's
CATEGORIES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck')
CIFAR10_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz'
CIFAR10_MD5 = 'c58f30108f718f92721af3b95e74349a'
TARBALL = 'cifar-10-python.tar.gz'
BATCHES_DIR = 'cifar-10-batches-py'
TRAIN_BATCHES = tuple(f'data_batch_{i}' for i in range(1, 6))
TEST_BATCH = 'test_batch'
NPZ_KEYS = ('train_x', 'train_y', 'test_x', 'test_y')
FULL_DATA_HINT = f'it takes the full CIFAR-10 (an .npz, {TARBALL} or {BATCHES_DIR}/)'
DOWNLOAD_DIR = Path('data')  # where download=True fetches the official archive: data/ under the current folder

# what a corrupt npz/tar/pickle can throw at us; all become InputError
_READ_ERRORS = (OSError, EOFError, ValueError, KeyError, IndexError, TypeError, AttributeError,
                zlib.error, tarfile.TarError, zipfile.BadZipFile, pickle.UnpicklingError)


def _oneline(e):
    if isinstance(e, urllib.error.URLError) and not isinstance(e, urllib.error.HTTPError):
        e = e.reason  # the real cause (refused, DNS, timeout) sits in .reason
    return ' '.join(str(e).split()) or type(e).__name__


def parse_category(value):
    """CIFAR-10 class index from a name (any case) or a number 0-9, as a user types it."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and 0 <= value < len(CATEGORIES):
        return int(value)
    s = str(value).strip().lower()
    if s in CATEGORIES:
        return CATEGORIES.index(s)
    if s.isdigit() and int(s) < len(CATEGORIES):
        return int(s)
    raise InputError(f"unknown category {str(value)!r} "
                    f"(choose a name from {', '.join(CATEGORIES)} or a number 0-9)")

# -----------------------------------------------------------------------------
# readers for the three on-disk layouts

def _read_batch(f):
    """One pickled batch -> (N,32,32,3) uint8 images, (N,) int64 labels."""
    d = NumpyUnpickler(f, encoding='bytes').load()
    x = np.asarray(d[b'data'], dtype=np.uint8)
    y = np.asarray(d[b'labels'], dtype=np.int64)
    if x.ndim != 2 or x.shape[1] != 3 * 32 * 32 or y.shape != (len(x),):
        raise ValueError(f'bad batch shapes data {x.shape}, labels {y.shape}')
    return x.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), y  # rows are channel-major: R plane, G plane, B plane


def _join(batches):
    xs, ys = zip(*batches)
    return np.ascontiguousarray(np.concatenate(xs)), np.concatenate(ys)


def _load_batches(opener, what):
    """Train = data_batch_1..5 in order, test = test_batch; opener(name) gives a binary file or None."""
    out = []
    for names in (TRAIN_BATCHES, (TEST_BATCH,)):
        batches = []
        for name in names:
            f = opener(name)
            if f is None:
                raise InputError(f'{what} lacks {BATCHES_DIR}/{name}')
            with f:
                batches.append(_read_batch(f))
        out.extend(_join(batches))
    return tuple(out)


def _load_tar(path):
    with tarfile.open(path, 'r:*') as tf:
        members = {posixpath.basename(m.name): m for m in tf.getmembers() if m.isfile()}
        return _load_batches(lambda n: tf.extractfile(members[n]) if n in members else None, path)


def _load_folder(folder):
    return _load_batches(lambda n: open(folder / n, 'rb') if (folder / n).is_file() else None, folder)


def _member_size_fits(z, key, path):
    """An array's header says its shape; check that the member holds that many bytes before numpy allocates them,
    so that a header claiming a huge shape is a one-line error, not an exhausted machine. Returns those bytes."""
    info = z.zip.getinfo(f'{key}.npy')
    with z.zip.open(info) as f:
        version = np.lib.format.read_magic(f)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read_header(f)
    size = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if size > info.file_size:
        raise InputError(f'{path}: {key} claims shape {shape} but holds only {info.file_size} bytes')
    return size


def _load_npz(path):
    with np.load(path, allow_pickle=False) as z:
        missing = [k for k in NPZ_KEYS if k not in z.files]
        if missing:
            raise InputError(f"{path} lacks key(s) {', '.join(missing)} "
                            f"(an .npz needs {', '.join(NPZ_KEYS)})")
        need = sum(_member_size_fits(z, key, path) for key in NPZ_KEYS)
        free = available_memory(torch.device('cpu'))
        if need > free:  # refused from the headers alone, before anything is decompressed
            raise InputError(f'{path}: its arrays take {need / 1e9:.3g} GB once decompressed, more than the '
                             f'{free / 1e9:.3g} GB of memory free')
        return tuple(z[k] for k in NPZ_KEYS)


def _check(arrays, path):
    """Shapes/dtypes the rest of the code relies on; reject anything else up front."""
    train_x, train_y, test_x, test_y = arrays
    for split, x, y in (('train', train_x, train_y), ('test', test_x, test_y)):
        if x.dtype != np.uint8 or x.ndim != 4 or x.shape[3] != 3:
            raise InputError(f'{path}: {split}_x is {x.dtype} {x.shape}, expected uint8 (N,H,W,3) RGB images')
        if not trainable_sides(*x.shape[1:3]):
            raise InputError(f'{path}: {split}_x holds {x.shape[1]}x{x.shape[2]} images; the networks take {SIDES} '
                             '(they pool twice by 2)')
        if y.ndim != 1 or len(y) != len(x) or not np.issubdtype(y.dtype, np.integer):
            raise InputError(f'{path}: {split}_y is {y.dtype} {y.shape}, expected {len(x)} integer labels')
    return train_x, train_y.astype(np.int64), test_x, test_y.astype(np.int64)


def is_cifar10(path):
    """Whether `path` is CIFAR-10 in one of its layouts rather than a folder of pictures."""
    path = Path(path)
    return not path.is_dir() or any((path / name).exists() for name in (TRAIN_BATCHES[0], BATCHES_DIR, TARBALL))


def load_cifar10(path):
    """(train_x, train_y, test_x, test_y): uint8 NHWC RGB and int64 labels, official order, from any layout."""
    path = Path(path)
    if not path.exists():
        raise InputError(f'no such file or folder: {path}')
    if not (path.is_file() or path.is_dir()):  # a FIFO or a device would hang the readers
        raise InputError(f'{path} is neither a regular file nor a folder')
    try:
        if path.is_dir():
            if (path / TRAIN_BATCHES[0]).is_file():
                arrays = _load_folder(path)
            elif (path / BATCHES_DIR).is_dir():
                arrays = _load_folder(path / BATCHES_DIR)
            elif (path / TARBALL).is_file():  # e.g. the folder download_cifar10 wrote into
                arrays = _load_tar(path / TARBALL)
            else:
                raise InputError(f'folder {path} holds neither {BATCHES_DIR}/ nor {TARBALL} nor the batch files')
        elif zipfile.is_zipfile(path):
            arrays = _load_npz(path)
        elif tarfile.is_tarfile(path):
            arrays = _load_tar(path)
        else:
            raise InputError(f'{path} is neither an .npz nor a {TARBALL}')
    except _READ_ERRORS as e:
        raise InputError(f'cannot read {path}: {_oneline(e)}') from None
    return _check(arrays, path)


def select_category(arrays, category, path):
    """(train_x, test_x): the images of one class (index from parse_category) of load_cifar10's arrays."""
    train_x, train_y, test_x, test_y = arrays
    train, test = train_x[train_y == category], test_x[test_y == category]
    if len(train) == 0 or len(test) == 0:
        try:
            bundled = Path(path).resolve() == DEFAULT_DATA.resolve()
        except OSError:
            bundled = False
        where = 'the bundled horse data' if bundled else str(path)
        split = '' if len(train) == len(test) else 'training ' if len(train) == 0 else 'test '
        raise InputError(f"{where} has no {CATEGORIES[category]!r} {split}images; {FULL_DATA_HINT}")
    return train, test


def load_images(data=None, category=CATEGORY, extra_categories=(), image_size=IMAGE_SIZE, val_share=VAL_SHARE,
                cache_dir=None, on_skip=None, memory=None, log=None, device=None, download=False):
    """(train_x, test_x): uint8 NHWC images of one CIFAR-10 class (the bundled horses by default; with download the
    official archive, fetched into DOWNLOAD_DIR first; training also on `extra_categories`), or the pictures of a
    folder (colorlib.folders), brought to image_size and split, refused up front if they would not fit in `memory`
    bytes (with a `device`: what the host and it have free)."""
    check_image_settings(data, extra_categories, image_size, val_share, cache_dir, on_skip, log, download)
    if memory is not None:
        check_whole(memory, 'memory', 1)
    elif device is not None:  # what the host and the device have free
        device = device if isinstance(device, torch.device) else with_fields(['device'], pick_device, device)
        memory = min(available_memory(torch.device('cpu')), available_memory(device))
    if download:  # read at call time, so that a test can serve its own archive
        data = with_fields(['download'], download_cifar10, DOWNLOAD_DIR, CIFAR10_URL, CIFAR10_MD5)
    data = DEFAULT_DATA if data is None else data
    if not is_cifar10(data):
        train_x, test_x, summary = with_fields(['data'], load_folder, data, image_size, val_share, 0, cache_dir,
                                               on_skip, memory)
        if log is not None:
            log(summary)
        return train_x, test_x
    arrays = with_fields(['data'], load_cifar10, data)
    if image_size != 32:
        raise InputError(f'image size {image_size}: CIFAR-10 images are 32x32; the size applies to a folder of '
                         'pictures', ['image_size'])
    category = with_fields(['category'], parse_category, category)
    train_x, test_x = with_fields(['category'], select_category, arrays, category, data)
    others = [with_fields(['extra_categories'], parse_category, other) for other in extra_categories]
    extra = [with_fields(['extra_categories'], select_category, arrays, other, data)[0]
             for other in others if other != category]
    return np.concatenate([train_x, *extra]), test_x


def check_image_settings(data=None, extra_categories=(), image_size=IMAGE_SIZE, val_share=VAL_SHARE, cache_dir=None,
                         on_skip=None, log=None, download=False):
    """load_images' settings, each of its type and bounds, naming the keyword: asked by load_images, and by whoever
    reads the images after other files, before it reads any. (The category is parsed where CIFAR-10 is read: a
    folder of pictures has none.)"""
    check_path(data, 'data', optional=True)
    check_flag(download, 'download')
    if download and data is not None:
        raise InputError(f'download reads the official archive, fetched into {DOWNLOAD_DIR}/: leave data out',
                         ['data', 'download'])
    check_path(cache_dir, 'cache_dir', optional=True)
    check_whole(image_size, 'image_size', 8)
    check_number(val_share, 'val_share', 0, 0.9, low_open=True)
    for name, value in (('on_skip', on_skip), ('log', log)):
        check_callable(value, name)
    if not isinstance(extra_categories, (list, tuple)):
        raise InputError(f'extra_categories must be a list of categories, not {extra_categories!r}',
                         ['extra_categories'])


def data_file(data, download):
    """The file or folder the images of load_images(data, download=download) are read from (None: the bundled
    ones), whose files a call that writes must leave alone (runfolder.read_files)."""
    return DOWNLOAD_DIR / TARBALL if download else data


def load_category(path, category):
    """(train_x, test_x): the uint8 NHWC images of one class (index from parse_category), official order."""
    return select_category(load_cifar10(path), category, path)

# -----------------------------------------------------------------------------
# download

def _md5(path):
    h = hashlib.md5()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def download_cifar10(dest_dir, url=CIFAR10_URL, md5=CIFAR10_MD5, progress=None):
    """Fetch the official tarball into dest_dir, written whole (colorlib.files.atomic_write) and only if its md5
    matches."""
    from tqdm import tqdm
    final = Path(dest_dir) / TARBALL
    if final.is_file() and _md5(final) == md5:
        return final
    progress = sys.stderr.isatty() if progress is None else progress

    def fetch(f):
        h = hashlib.md5()
        with urllib.request.urlopen(url, timeout=30) as r:
            total = int(r.headers.get('Content-Length') or 0) or None
            with tqdm(total=total, unit='B', unit_scale=True, unit_divisor=1024, desc=TARBALL, disable=not progress) as bar:
                for chunk in iter(lambda: r.read(1 << 20), b''):
                    f.write(chunk)
                    h.update(chunk)
                    bar.update(len(chunk))
        if h.hexdigest() != md5:
            raise InputError(f'{url} has md5 {h.hexdigest()}, expected {md5}; not saved')

    try:
        Path(dest_dir).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f'cannot write to {dest_dir}: {_oneline(e)}') from None
    try:
        atomic_write(final, fetch, replace=True)  # a tarball of another md5 there is replaced
    except (OSError, ValueError, http.client.HTTPException) as e:  # URLError and timeouts are OSErrors
        if isinstance(e, urllib.error.HTTPError):
            e.close()  # it holds the open response
        raise InputError(f'cannot fetch {url}: {_oneline(e)}') from None
    return final
