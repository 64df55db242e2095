"""Colour classes: k-means centres in the assignment's file format, pixel <-> class conversion.

A colour file is a numpy object array [centres (k, 3) in [0, 1], distortion], as the assignment wrote it.
Remake ours with:  python -m colorlib.colours
"""
import argparse
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from colorlib.errors import UsageError

COLOURS_DIR = Path(__file__).resolve().parent.parent / 'colours'
DEFAULT_COLOURS = COLOURS_DIR / 'colour_kmeans24_cat7.npy'


def read_pair(path):
    """The two parts of an object-array file as the assignment's colour files are written (Python 2 ones too).

    What np.load(allow_pickle=True, encoding='latin1') does, minus its risk: the file is an object array, i.e. a
    pickle, and the flags take any path, so it is unpickled with the numpy-only unpickler (no code can run).
    """
    from colorlib.data import NumpyUnpickler
    with open(path, 'rb') as f:
        version = np.lib.format.read_magic(f)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        if read_header(f)[2].hasobject:
            data = NumpyUnpickler(f, encoding='latin1').load()
        else:
            f.seek(0)
            data = np.lib.format.read_array(f, allow_pickle=False)
    return data[0], data[1]


def load_colours(path):
    """Centres as a (k, 3) float tensor; reads the assignment's Python 2 files unchanged."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f'-c/--colours: no such file: {path}')
    try:
        centres = np.asarray(read_pair(path)[0], dtype=np.float64)
    except Exception as err:  # numpy raises many types for a file that is not a colour file
        raise UsageError(f'-c/--colours: {path} is not a colour file ({type(err).__name__})') from None
    if centres.ndim != 2 or centres.shape[1] != 3:
        raise UsageError(f'-c/--colours: {path} holds an array of shape {centres.shape}, expected (k, 3)')
    return torch.from_numpy(centres).float()


def save_colours(path, centres, distortion):
    data = np.empty(2, dtype=object)
    data[0], data[1] = np.asarray(centres, dtype=np.float64), float(distortion)
    with open(path, 'wb') as f:  # np.save(path) would add '.npy' to any other name
        np.save(f, data, allow_pickle=True)


def fit_colours(images, k, seed=0):
    """k-means over every pixel of uint8 NHWC images scaled to [0, 1); distortion = mean distance to a centre."""
    from sklearn.cluster import KMeans
    pixels = images.reshape(-1, 3).astype(np.float64) / 256
    kmeans = KMeans(n_clusters=k, n_init=1, random_state=seed).fit(pixels)
    centres = kmeans.cluster_centers_
    nearest = centres[kmeans.labels_]
    distortion = np.sqrt(((pixels - nearest) ** 2).sum(1)).mean()
    return centres, distortion


def rgb_to_classes(rgb, centres, chunk=256):
    """Nearest centre of every pixel of (N, C, H, W) images, as (N, H, W) int64, in one vectorised pass
    (C = 3 for RGB colours, 2 for Lab's ab bins).

    |x - c|^2 = |x|^2 - 2 x.c + |c|^2, and |x|^2 does not change the argmin, so the distances are a 1x1
    convolution with weights -2c and bias |c|^2 (fast, and no copy to a pixel-major layout); chunks of
    images bound the memory of the (chunk, k, H, W) distances.
    """
    centres = centres.to(rgb)
    weight, bias = (-2 * centres)[:, :, None, None], (centres * centres).sum(1)
    out = torch.empty(rgb.shape[0], *rgb.shape[2:], dtype=torch.long, device=rgb.device)
    for start in range(0, len(rgb), chunk):
        out[start:start + chunk] = F.conv2d(rgb[start:start + chunk], weight, bias).argmin(1)
    return out


def classes_to_rgb(classes, centres):
    """(N, H, W) class indices -> (N, 3, H, W) colours."""
    return centres.to(classes.device)[classes].permute(0, 3, 1, 2)


def main():
    from colorlib.data import DEFAULT_DATA, load_category
    parser = argparse.ArgumentParser(description='Fit the k-means colour files on the training images.')
    parser.add_argument('--data', default=str(DEFAULT_DATA))
    parser.add_argument('--category', default='horse')
    parser.add_argument('-k', type=int, nargs='+', default=[16, 24, 32])
    parser.add_argument('-o', '--out-dir', default=str(COLOURS_DIR))
    parser.add_argument('-s', '--seed', type=int, default=0)
    args = parser.parse_args()
    from colorlib.data import parse_category
    category = parse_category(args.category)
    train_x, _ = load_category(args.data, category)
    for k in args.k:
        centres, distortion = fit_colours(train_x, k, args.seed)
        path = Path(args.out_dir) / f'colour_kmeans{k}_cat{category}.npy'
        save_colours(path, centres, distortion)
        print(f'{path}: {k} colours, distortion {distortion:.4f}')


if __name__ == '__main__':
    main()
