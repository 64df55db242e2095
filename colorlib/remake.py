"""Remake the colour files colorlib ships from training images (`colorlib colours`, `colorlib bins`): k-means
colours for the colour classes, and the ab bins of the Lab target. Every file's place is checked before any fitting,
and everything is fitted before anything is written, so a setting the images cannot take writes nothing."""
from pathlib import Path

from colorlib.colours import check_clusters, fit_colours, save_colours
from colorlib.data import (CATEGORY, IMAGE_SIZE, VAL_SHARE, check_image_settings, data_file, load_images,
                           parse_category)
from colorlib.errors import InputError, WriteError, check_flag, check_path, check_whole, with_fields
from colorlib.files import check_writable
from colorlib.images import as_uint8
from colorlib.lab import GRID, fit_bins, save_bins

OUT_DIR = 'colours'  # where the remade files go unless told: the folder the shipped ones are in, in a checkout
KS = (16, 24, 32)  # the numbers of colours shipped


def colours_file(k, category):
    return f'colour_kmeans{k}_cat{category}.npy'


def bins_file(category):
    return f'lab_bins{GRID}_cat{category}.npy'


def remake_colours(images=None, k=KS, out_dir=OUT_DIR, category=CATEGORY, seed=0, overwrite=False, reads=(), data=None,
                   download=False, image_size=IMAGE_SIZE, val_share=VAL_SHARE, cache_dir=None, on_skip=None, log=None):
    """k-means colour files (colours.fit_colours) of uint8 NHWC `images`, else of the training images of `data` and
    `category` (load_images, with download, image_size, val_share, cache_dir, on_skip and log), one for each number
    of colours in `k`, as out_dir/colour_kmeans<k>_cat<category>.npy; an existing file is replaced only with
    `overwrite`, never one of `reads` or the files the images came from. Every setting and place is checked before
    any image is read. Returns {path: (k, distortion)}."""
    check_image_settings(data, (), image_size, val_share, cache_dir, on_skip, log, download)
    out_dir, category, reads = checked(out_dir, category, overwrite, reads, images, data_file(data, download))
    if not isinstance(k, (list, tuple)) or not k:
        raise InputError(f'k must be a list of numbers of colours, not {k!r}', ['k'])
    for each in k:
        check_whole(each, 'k', 2)
    check_whole(seed, 'seed', 0, 2 ** 32 - 1)
    paths = {each: out_dir / colours_file(each, category) for each in k}
    for path in paths.values():
        with_fields(['out_dir'], check_writable, path, overwrite, reads)
    images = training_images(images, data, category, image_size, val_share, cache_dir, on_skip, log, download)
    check_clusters(images, k)  # every k checked before any k-means runs
    fits = {each: with_fields(['k'], fit_colours, images, each, seed) for each in k}
    for each, path in paths.items():
        written(save_colours, 'k', path, *fits[each], overwrite)  # the loader's checks, made before writing
    return {path: (each, fits[each][1]) for each, path in paths.items()}


def remake_bins(images=None, out_dir=OUT_DIR, category=CATEGORY, overwrite=False, reads=(), data=None,
                download=False, image_size=IMAGE_SIZE, val_share=VAL_SHARE, cache_dir=None, on_skip=None, log=None):
    """The ab bins file (lab.fit_bins) of uint8 NHWC `images`, else of the training images of `data` and `category`
    (as remake_colours reads them), as out_dir/lab_bins<grid>_cat<category>.npy; an existing file is replaced only
    with `overwrite`, never one of `reads` or the files the images came from. Returns (path, number of bins)."""
    check_image_settings(data, (), image_size, val_share, cache_dir, on_skip, log, download)
    out_dir, category, reads = checked(out_dir, category, overwrite, reads, images, data_file(data, download))
    path = out_dir / bins_file(category)
    with_fields(['out_dir'], check_writable, path, overwrite, reads)
    images = training_images(images, data, category, image_size, val_share, cache_dir, on_skip, log, download)
    centres, prior = with_fields(['data'], fit_bins, images)
    written(save_bins, 'data', path, centres, prior, overwrite)  # the loader's checks, made before writing
    return path, len(centres)


def checked(out_dir, category, overwrite, reads, images, data):
    """The arguments both take, checked: (out_dir as a Path, category as its number, the files never written over:
    `reads`, and where the images are read the data's, runfolder.read_files)."""
    from colorlib.api import check_reads
    from colorlib.runfolder import read_files
    check_path(out_dir, 'out_dir')
    check_flag(overwrite, 'overwrite')
    check_reads(reads)
    reads = [*reads, *(read_files(data, None, None, None) if images is None else [])]
    return Path(out_dir), with_fields(['category'], parse_category, category), reads


def training_images(images, data, category, image_size, val_share, cache_dir, on_skip, log, download):
    """`images` as uint8 (as_uint8), else the training images of `data` and `category` (load_images, on the host)."""
    if images is None:
        images = load_images(data, category, (), image_size, val_share, cache_dir, on_skip, log=log, device='cpu',
                             download=download)[0]
    return as_uint8(images, 'images')


def written(save, field, path, *args):
    """save(path, *args): a file that cannot be written names out_dir, one its loader would refuse `field`."""
    try:
        return save(path, *args)
    except WriteError as err:
        err.fields = ('out_dir',)
        raise
    except InputError as err:
        err.fields = err.fields or (field,)
        raise
