"""The files colorlib ships: the weights/, colours/ and data/ folders at the top of the repository.

Building the package (setup.cfg's package_dir) maps them into this package, so an installed colorlib finds them
beside this file; a checkout, or an editable install of one, finds them at the top of the repository."""
from pathlib import Path

from colorlib.errors import InputError

HERE = Path(__file__).resolve().parent
KINDS = ('weights', 'colours', 'data')  # the folders of shipped files: read-only to colorlib (files.is_shipped)


def folder(kind):
    """weights, colours or data: inside the installed package, else in the checkout."""
    inside = HERE / kind
    return inside if inside.is_dir() else HERE.parents[1] / kind


DEFAULT_DATA = folder('data') / 'cifar10_horse.npz'
DEFAULT_COLOURS = folder('colours') / 'colour_kmeans24_cat7.npy'
DEFAULT_BINS = folder('colours') / 'lab_bins10_cat7.npy'


def weights(stem):
    """The shipped weights file `stem`.pkl (e.g. unet_k3_f32); an InputError naming what is shipped otherwise."""
    path = folder('weights') / f'{stem}.pkl'
    if not path.is_file():
        names = sorted(p.stem for p in folder('weights').glob('*.pkl'))
        raise InputError(f'no shipped weights {stem}.pkl (colorlib ships {", ".join(names) or "none"})')
    return path
