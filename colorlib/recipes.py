"""Training recipes: named sets of colorlib.fit's training keywords (TrainConfig's fields), written here and nowhere
else. fit(recipe=...) trains with them; a keyword given explicitly wins over its recipe (the command line's
--recipe is the same keyword, its flags the others)."""
import difflib

from colorlib.errors import InputError
from colorlib.models import ModelConfig
from colorlib.naming import run_name

CLASSIFIER = {'seed': 0, 'lr_schedule': 'cosine', 'batch_size': 100, 'augment': ('hflip', 'shift')}

RECIPES = {  # recipe -> {run name (naming.run_name), or '*' for any: {fit keyword: value}}
    # the assignment's own settings: 25 epochs of Adam at 1e-3, batch 100, no schedule, no augmentation
    'assignment': {'*': {}},
    # the assignment's UNet figure (eval mode) at least 8x sooner, bench/time_to_quality.py: two epochs of small
    # batches at a high learning rate, warmed up and annealed; tuned in float32 on a CPU without bfloat16 arithmetic
    # (seeds 0, 1, 2 all reach it), in bfloat16 only where the machine has it (amp='auto')
    'fast': {'*': {'epochs': 2, 'batch_size': 16, 'learn_rate': 0.04, 'lr_schedule': 'cosine', 'warmup': 0.4,
                   'amp': 'auto'}},
    # what made the shipped weights (scripts/train_weights.sh)
    'best': {
        # these are fine-tuned with their recipe from weights pre-trained on all of CIFAR-10 (scripts/train_weights.sh)
        'unet': {**CLASSIFIER, 'epochs': 100, 'learn_rate': 0.001, 'amp': 'auto', 'ema': 0.999},
        'dunet': {**CLASSIFIER, 'epochs': 40, 'learn_rate': 0.001, 'amp': 'auto', 'ema': 0.999},
        'cnn': {**CLASSIFIER, 'epochs': 50, 'learn_rate': 0.001, 'amp': 'auto', 'ema': 0.999},
        'unet_lab': {**CLASSIFIER, 'epochs': 5, 'learn_rate': 0.003},  # with soft=True, rebalance=0.5
        'regression_cnn': {'seed': 0, 'lr_schedule': 'cosine', 'epochs': 40, 'learn_rate': 0.001, 'batch_size': 20,
                           'amp': 'auto'},
        'superres_cnn': {'seed': 0, 'lr_schedule': 'cosine', 'epochs': 8, 'learn_rate': 0.002, 'batch_size': 100,
                         'augment': ('hflip',)},
        'superres_unet': {'seed': 0, 'lr_schedule': 'cosine', 'epochs': 12, 'learn_rate': 0.003, 'batch_size': 100,
                          'augment': ('hflip',)},
        'superres_unet_mse': {'seed': 0, 'lr_schedule': 'cosine', 'epochs': 20, 'learn_rate': 0.002,
                              'batch_size': 25, 'augment': ('hflip',)},
        'superres_unet_res': {'seed': 0, 'lr_schedule': 'cosine', 'epochs': 20, 'learn_rate': 0.001, 'batch_size': 50,
                              'augment': ('hflip',), 'amp': 'auto'},
    },
}


def recipe_settings(recipe, model=ModelConfig.name, target=None):
    """The fit keywords `recipe` sets for a run of `model` learning `target` (a TargetConfig; needed only by a
    recipe written per run). An InputError naming 'recipe' for an unknown recipe (with the nearest name) or one
    with nothing for this run (with the runs it has)."""
    if not isinstance(recipe, str) or recipe not in RECIPES:
        near = difflib.get_close_matches(recipe, list(RECIPES), n=1) if isinstance(recipe, str) else []
        hint = f'; did you mean {near[0]}?' if near else ''
        raise InputError(f'unknown recipe {recipe!r} (choose from {", ".join(RECIPES)}){hint}', ['recipe'])
    runs = RECIPES[recipe]
    if '*' in runs:  # one recipe for every run
        return dict(runs['*'])
    run = run_name(model, target)
    if run not in runs:
        raise InputError(f'recipe {recipe}: no recipe of that name for {run} (it has {", ".join(runs)})', ['recipe'])
    return dict(runs[run])
