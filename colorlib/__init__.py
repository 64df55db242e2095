"""colorlib: the CSC321/CSC421 colourization assignment as a small library (data, targets, models, training,
reports) with a thin command line on top (colorlib.cli).

The verbs a notebook needs are here (colorlib.api): load (trained weights), fit (train a network), load_images,
names, the commands' own calls evaluate, colorize_files and activations (colorlib.gallery) (weights opened, images
read, the work done, in one call), and the configs TargetConfig, ModelConfig, TrainConfig. They are imported on first use, so that
`colorlib --version` need not import torch. (No verb shares a module's name: colorlib.train and colorlib.images are
modules, so training is `fit` and the data set is `load_images`.)
"""
__version__ = '0.1.0'

VERBS = {'load': 'api', 'fit': 'api', 'load_images': 'api', 'names': 'api', 'Model': 'api', 'Run': 'api',
         'evaluate': 'api', 'colorize_files': 'api', 'Evaluation': 'api', 'activations': 'gallery',
         'TargetConfig': 'targets', 'ModelConfig': 'models', 'TrainConfig': 'train'}
__all__ = list(VERBS)


def __getattr__(name):
    if name not in VERBS:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    import importlib
    return getattr(importlib.import_module(f'colorlib.{VERBS[name]}'), name)
