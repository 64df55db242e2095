"""The training recipes (colorlib.recipes) as flags, for --help and the README: what each sets, spelled as a user
types it."""
from colorlib.cli.common import flag_names
from colorlib.recipes import RECIPES


def spelled(flags, parser=None):
    """A recipe's settings as flags (in `parser`'s spelling)."""
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
