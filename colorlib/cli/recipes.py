"""Training recipes: named sets of flag values, written here and nowhere else. A recipe sets the defaults of the
flags it names; a flag given on the command line wins over it."""
from colorlib.cli.build import target_from_flags
from colorlib.cli.common import DEFAULT, UsageError, flag_names
from colorlib.naming import run_name

CLASSIFIER = {'seed': 0, 'lr_schedule': 'cosine', 'batch_size': 100, 'augment': ('hflip', 'shift')}

RECIPES = {  # recipe -> {run name, or '*' for any: {flag dest: value}}
    # the assignment's own settings: 25 epochs of Adam at 1e-3, batch 100, no schedule, no augmentation
    'assignment': {'*': {}},
    # the assignment's UNet figure (eval mode) at least 8x sooner, bench/time_to_quality.py: two epochs of small
    # batches at a high learning rate, warmed up and annealed; tuned in float32 on a CPU without bfloat16 arithmetic
    # (seeds 0, 1, 2 all reach it), in bfloat16 only where the machine has it (--amp auto)
    'fast': {'*': {'epochs': 2, 'batch_size': 16, 'learn_rate': 0.04, 'lr_schedule': 'cosine', 'warmup': 0.4,
                   'amp': 'auto'}},
    # what made the shipped weights (scripts/train_weights.sh)
    'best': {
        # these are fine-tuned with their recipe from weights pre-trained on all of CIFAR-10 (scripts/train_weights.sh)
        'unet': {**CLASSIFIER, 'epochs': 100, 'learn_rate': 0.001, 'amp': 'auto', 'ema': 0.999},
        'dunet': {**CLASSIFIER, 'epochs': 40, 'learn_rate': 0.001, 'amp': 'auto', 'ema': 0.999},
        'cnn': {**CLASSIFIER, 'epochs': 50, 'learn_rate': 0.001, 'amp': 'auto', 'ema': 0.999},
        'unet_lab': {**CLASSIFIER, 'epochs': 5, 'learn_rate': 0.003},  # with --soft-encode --rebalance 0.5
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


def spelled(flags, parser=None):
    """A recipe's flags as a user types them (in `parser`'s spelling)."""
    names = flag_names(parser)
    def value(v):
        return '' if v is True else f' {",".join(v)}' if isinstance(v, tuple) else f' {v}'
    return ' '.join(f'{names[k]}{value(v)}' for k, v in flags.items()) or '(the defaults)'


def describe(parser=None):
    """Every recipe and what it sets, for `parser`'s --help (default: colorization's) and the README."""
    lines = []
    for name, runs in RECIPES.items():
        for run, flags in runs.items():
            lines.append(f'  {name}{"" if run == "*" else " " + run}: {spelled(flags, parser)}')
    return '\n'.join(lines)


def with_recipe(parser, argv, args):
    """The flags parsed again with the recipe's values as defaults, so that what the command line says wins."""
    runs = RECIPES[args.recipe]
    if '*' in runs:  # one recipe for every run
        parser.set_defaults(**runs['*'])
        return parser.parse_args(argv)
    run = run_name(args.model or DEFAULT.name, target_from_flags(args))  # names only: no file is read
    if run not in runs:
        raise UsageError(f'--recipe {args.recipe}: no recipe of that name for {run} (it has {", ".join(runs)})')
    parser.set_defaults(**runs[run])
    return parser.parse_args(argv)
