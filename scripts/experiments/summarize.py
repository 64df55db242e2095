"""Summarize an experiment's runs: docs/experiments/<experiment>.md (last-epoch table) and .png (validation
loss per epoch, one line per setting; one panel per loss, since MSE and cross-entropy differ in scale).

    python scripts/experiments/summarize.py epochs regression_e1 regression_e5 ...   # settings in table order
Settings without a docs/experiments/<experiment>/<name>.jsonl yet (e.g. array tasks still running) are left out.
"""
import json
import sys
from pathlib import Path

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

DOCS = Path('docs/experiments')


def load_runs(experiment, names):
    """{name: (command, [metrics rows])} for the settings that have finished."""
    runs = {}
    for name in names:
        metrics = DOCS / experiment / f'{name}.jsonl'
        if metrics.is_file():
            rows = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
            runs[name] = ((DOCS / experiment / f'{name}.cmd').read_text().strip(), rows)
    return runs


def table(runs):
    lines = ['| setting | epochs | train loss | val loss | val acc | seconds | command |',
             '|---|---|---|---|---|---|---|']
    for name, (command, rows) in runs.items():
        last = rows[-1]
        acc = '' if last['val_acc'] is None else f'{last["val_acc"]:.1f}%'
        lines.append(f'| {name} | {last["epoch"]} | {last["train_loss"]:.4f} | {last["val_loss"]:.4f} | {acc} | '
                     f'{last["seconds"]:.0f} | `{command}` |')
    return '\n'.join(lines) + '\n'


def plot(runs, path, title):
    kinds = {}  # loss kind -> names: MSE runs have no accuracy
    for name, (_, rows) in runs.items():
        kinds.setdefault('MSE' if rows[-1]['val_acc'] is None else 'cross-entropy', []).append(name)
    fig, axes = plt.subplots(1, len(kinds), figsize=(6 * len(kinds), 4), squeeze=False)
    for ax, (kind, names) in zip(axes[0], kinds.items()):
        for name in names:
            rows = runs[name][1]
            ax.plot([r['epoch'] for r in rows], [r['val_loss'] for r in rows], 'o-', ms=3, label=name)
        ax.set(xlabel='epoch', ylabel=f'validation loss ({kind})', title=title)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(experiment, names):
    runs = load_runs(experiment, names)
    if not runs:
        sys.exit(f'summarize.py: no finished runs under {DOCS / experiment}/')
    heading = f'# Experiment: {experiment}\n\nLast epoch of each run, on the 1000 test horses. Made by ' \
              f'`scripts/experiments/{experiment}.sh`; plot: [{experiment}.png]({experiment}.png).\n\n'
    (DOCS / f'{experiment}.md').write_text(heading + table(runs))
    plot(runs, DOCS / f'{experiment}.png', f'{experiment}: validation loss per epoch')
    print(f'{DOCS / experiment}.md, {DOCS / experiment}.png: {len(runs)} of {len(names)} settings')


if __name__ == '__main__':
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
