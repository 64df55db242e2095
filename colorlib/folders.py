"""Your own pictures as a data set: a folder of image files (any format Pillow reads, in nested folders too).

With train/ and test/ subfolders those are the splits; otherwise a fixed share of the files, drawn with a seed, is
held out for validation, the same on every run. Every picture is brought to one square size (its short side
resized, then the centre cut out) into the same uint8 NHWC arrays the CIFAR-10 path uses, and the arrays are cached
in an .npz keyed by the files' names, sizes and times and the image size, so a second run starts at once.
"""
import hashlib
import os
from pathlib import Path

import numpy as np
from PIL import Image

from colorlib.images import SIDES, read_image, trainable_sides
from colorlib.errors import InputError
from colorlib.files import atomic_write

IMAGE_SIZE, VAL_SHARE = 32, 0.1  # by default a folder's pictures are brought to CIFAR's size, a tenth held out


def image_files(folder):
    """Every file under `folder` whose extension Pillow knows, sorted."""
    extensions = set(Image.registered_extensions())
    return sorted(p for p in Path(folder).rglob('*') if p.is_file() and p.suffix.lower() in extensions)


def square(path, size):
    """One picture as uint8 (size, size, 3) RGB: turned upright, its short side resized to `size`, centre cut.
    16-bit grey is scaled to 8 bits (Pillow's own conversion would clip it at 255)."""
    pixels, _ = read_image(path)
    if pixels.dtype != np.uint8:
        pixels = np.round(pixels * 255).astype(np.uint8)
    with Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels).convert('RGB') as image:
        scale = size / min(image.size)
        width, height = max(size, round(image.width * scale)), max(size, round(image.height * scale))
        image = image.resize((width, height), Image.BICUBIC, reducing_gap=3.0)
        left, top = (width - size) // 2, (height - size) // 2
        return np.asarray(image.crop((left, top, left + size, top + size)))


def split(files, folder, val_share, seed):
    """(train files, test files, how): train/ and test/ subfolders if there are both, else a seeded hold-out."""
    train = [f for f in files if f.relative_to(folder).parts[0] == 'train']
    test = [f for f in files if f.relative_to(folder).parts[0] == 'test']
    if train and test:
        return train, test, 'train/ and test/ subfolders'
    if len(files) < 2:
        raise InputError(f'{folder} holds one image file; validation needs a second (or train/ and test/ subfolders)')
    order = np.random.default_rng(seed).permutation(len(files))
    held = min(max(1, round(val_share * len(files))), len(files) - 1)
    lone = ('; train/ without test/' if train else '; test/ without train/') if train or test else ''
    return ([files[i] for i in sorted(order[held:])], [files[i] for i in sorted(order[:held])],
            f'{held} of {len(files)} held out for validation, seed {seed}{lone}')


def cache_key(files, size, val_share, seed):
    """The files' names, sizes and times and the settings, hashed; a name as its bytes on disk (os.fsencode), so
    that one that is not UTF-8 hashes too (the same key as before for every UTF-8 name)."""
    h = hashlib.sha256(f'{size} {val_share} {seed}'.encode())
    for f in files:
        stat = f.stat()
        h.update(os.fsencode(f) + f'\0{stat.st_size}\0{stat.st_mtime_ns}\n'.encode())
    return h.hexdigest()[:16]


def read_squares(files, size, on_skip):
    """The pictures that read, as one uint8 array; on_skip(path, reason) for each one that does not."""
    images = []
    for path in files:
        try:
            images.append(square(path, size))
        except Exception as err:  # a broken or foreign file must not stop the others
            on_skip(path, ' '.join(str(err).split())[:200] or type(err).__name__)
    return np.stack(images) if images else np.zeros((0, size, size, 3), np.uint8)


def check_image_size(size):
    if not trainable_sides(size, size):
        raise InputError(f'image size {size}: the networks take {SIDES} (they pool twice by 2)', ['image_size'])


def load_folder(folder, size, val_share=VAL_SHARE, seed=0, cache_dir=None, on_skip=None, memory=None):
    """(train_x, test_x, summary) of a folder of pictures; see the module's docstring. An InputError when no picture
    is usable, or when the arrays would not fit in `memory` bytes."""
    folder = Path(folder)
    check_image_size(size)
    files = image_files(folder)
    if not files:
        raise InputError(f'{folder} holds no image files')
    if memory is not None and len(files) * size * size * 3 * 16 > memory:  # the bytes, then the training tensors
        fits = int(memory // (size * size * 3 * 16))
        raise InputError(f'{len(files)} images of {size}x{size} need about {len(files) * size * size * 48 / 1e9:.1f} GB '
                         f'in training, more than the {memory / 1e9:.1f} GB free; about {fits} would fit')
    train_files, test_files, how = split(files, folder, val_share, seed)
    cache = None if cache_dir is None else Path(cache_dir) / f'{folder.name}-{size}px-{cache_key(files, size, val_share, seed)}.npz'
    on_skip = on_skip or (lambda path, reason: None)
    found = cache is not None and cache.is_file()
    cached = read_cache(cache, size) if found else None
    if cached is not None:  # the skipped files are said again, as on the run that wrote it
        train_x, test_x, skipped = cached
        for line in skipped:
            on_skip(*line.split('\t', 1))
        return train_x, test_x, (f'{len(train_x)} training and {len(test_x)} test images of {size}x{size} from '
                                 f'{folder} ({how}; {len(skipped)} skipped; read from {cache})')
    rebuilt = f'; {cache} could not be read, rebuilt' if found else ''
    skipped = []

    def skip(path, reason):
        skipped.append(f'{path}\t{reason}')
        on_skip(path, reason)
    train_x, test_x = read_squares(train_files, size, skip), read_squares(test_files, size, skip)
    if len(train_x) == 0 or len(test_x) == 0:
        raise InputError(f'{folder}: no usable {"training" if len(train_x) == 0 else "test"} image '
                         f'({len(skipped)} of {len(files)} files skipped)')
    if cache is not None:
        atomic_write(cache, lambda f: np.savez(f, train_x=train_x, test_x=test_x, skipped=np.array(skipped, dtype=str)),
                     replace=True)  # the cache's own file
    return train_x, test_x, (f'{len(train_x)} training and {len(test_x)} test images of {size}x{size} from {folder} '
                             f'({how}; {len(skipped)} skipped{rebuilt})')


def read_cache(cache, size):
    """(train_x, test_x, skipped lines) from a cache load_folder wrote; None for one that cannot be read (empty,
    truncated, foreign), which is then rebuilt from the pictures rather than failing every run until it is deleted."""
    try:
        with np.load(cache) as z:
            train_x, test_x, skipped = z['train_x'], z['test_x'], z['skipped']
    except Exception:  # numpy and zipfile raise many types for a damaged file
        return None
    if skipped.dtype.kind != 'U' or any(x.dtype != np.uint8 or x.shape[1:] != (size, size, 3)
                                        for x in (train_x, test_x)):
        return None
    return train_x, test_x, skipped.tolist()
