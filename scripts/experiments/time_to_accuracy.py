"""docs/experiments/time_to_accuracy.png: validation accuracy against training seconds, one line per run; a run
in stages (pre-training, then fine-tuning) is its logs joined by '+', each stage's seconds after the last's.

    python scripts/experiments/time_to_accuracy.py NAME=metrics.jsonl NAME=first.jsonl+second.jsonl ...
"""
import json
import sys
from pathlib import Path

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

OUT = Path('docs/experiments/time_to_accuracy.png')


def main(runs):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, paths in (run.split('=', 1) for run in runs):
        seconds, accuracy = [], []
        for path in paths.split('+'):
            rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
            start = seconds[-1] if seconds else 0
            seconds += [start + r['seconds'] for r in rows]
            accuracy += [r['val_acc'] for r in rows]
        ax.plot(seconds, accuracy, 'o-', ms=3, label=name)
    ax.axhline(48.2, color='grey', ls='--', lw=1, label="the assignment's UNet (48.2%)")
    ax.set(xscale='log', xlabel='training seconds (log scale)', ylabel='validation accuracy (%)',
           title='UNet: accuracy against time')
    ax.legend()
    fig.tight_layout()
    fig.savefig(OUT, dpi=100)
    print(OUT)


if __name__ == '__main__':
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
