"""Flags to the library's keywords, as the commands share them: the model's and the target's settings, the images,
and the values a refusal says them with. Nothing here calls the library: each command makes its one call."""
import sys
from pathlib import Path

from colorlib.cli.common import kind_of_flags, network_flags
from colorlib.targets import TargetConfig
from colorlib.targets import target_settings as declared_target_settings  # the kinds' declared settings


def target_keywords(args):
    """The TargetConfig settings the flags give (None: not given): the kind from --loss and --colour-space."""
    kind = kind_of_flags(getattr(args, 'colour_space', None), getattr(args, 'loss', None))
    return {'kind': kind, 'task': getattr(args, 'task', None),
            **{name: getattr(args, name, None) for name in declared_target_settings()}}  # each flag's dest: its setting


def model_keywords(args):
    """The model's settings the flags give (None: not given; the weights', else ModelConfig's, then), as the keywords
    fit, evaluate, colorize_files and activations take: --model, -k, -f and each network's own."""
    return dict(model=args.model, kernel=args.kernel, filters=args.filters, **network_flags(args))


def said_values(args):
    """The target kind (the library's default where the flags choose none) and the device the flags give, by which
    a refusal naming them says them (in_flag_terms' `values`: '--loss mse', '--device cuda/--gpu')."""
    kind = target_keywords(args)['kind'] or TargetConfig.kind
    return {'target.kind': kind, 'device': getattr(args, 'device', None)}


def image_keywords(args):
    """The keywords load_images takes, as the data flags give them: --data, or with --download the official archive
    (the library fetches it into data/ first; --data, always given its default, is then left out), --category,
    --image-size, --val-share, a folder's cache in outputs/cache/, and its unusable pictures said (skipped)."""
    return dict(data=None if args.download else args.data, download=args.download, category=args.category,
                image_size=args.image_size, val_share=args.val_share, cache_dir=Path('outputs') / 'cache',
                on_skip=skipped(args))


def skipped(args):
    """What is said of a picture of a --data folder that cannot be used (the library says each once, not once a
    process)."""
    def say(path, reason):
        print(f'{args.prog}: skipped {path}: {reason}', file=sys.stderr)
    return say
