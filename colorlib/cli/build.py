"""Flags to the library's keywords, as the commands share them: the model's and the target's settings, the images,
the device."""
import sys
from pathlib import Path

from colorlib import distributed, machine, reconcile
from colorlib.cli.common import DEFAULT, flag, kind_of_flags, network_flags
from colorlib.data import download_cifar10
from colorlib.targets import TargetConfig
from colorlib.targets import target_settings as declared_target_settings


def target_settings(args):
    """The TargetConfig settings the flags give (None: not given): the kind from --loss and --colour-space."""
    kind = kind_of_flags(getattr(args, 'colour_space', None), getattr(args, 'loss', None))
    return {'kind': kind, 'task': getattr(args, 'task', None),
            **{name: getattr(args, name, None) for name in declared_target_settings()}}  # each flag's dest: its setting


def target_from_flags(args):
    """The TargetConfig of the flags (the model's and target's defaults where not given)."""
    settings = target_settings(args)
    with flag(values={'target.kind': settings['kind'] or TargetConfig.kind,
                      'target.task': settings['task'] or TargetConfig.task}):
        return reconcile.target_config(args.model or DEFAULT.name, **settings)


def model_settings(args):
    """The model's settings the flags give (None: not given; the weights', else ModelConfig's, then), as the keywords
    fit, evaluate, colorize_files and activations take: --model, -k, -f and each network's own."""
    return dict(model=args.model, kernel=args.kernel, filters=args.filters, **network_flags(args))


def kind_values(args):
    """The target kind the flags choose (the library's default where they do not), by which a refusal naming the
    kind says it (in_flag_terms' `values`)."""
    return {'target.kind': target_settings(args)['kind'] or TargetConfig.kind}


def image_settings(args):
    """The keywords load_images takes, as the data flags give them: --data (fetched with --download), --category,
    --image-size, --val-share, a folder's cache in outputs/cache/, and its unusable pictures said (skipped)."""
    return dict(data=data_path(args), category=args.category, image_size=args.image_size, val_share=args.val_share,
                cache_dir=Path('outputs') / 'cache', on_skip=skipped(args))


def data_path(args):
    """--data, or the official archive fetched into ./data first with --download."""
    with flag('--download'):
        return download_cifar10(Path('data')) if args.download else args.data


def skipped(args):
    """What is said of a picture of a --data folder that cannot be used: once, not once a process."""
    def say(path, reason):
        if distributed.rank() == 0:
            print(f'{args.prog}: skipped {path}: {reason}', file=sys.stderr)
    return say


def pick_device(name):
    with flag(f'--device {name}' + ('/--gpu' if name == 'cuda' else '')):
        return machine.pick_device(name)
