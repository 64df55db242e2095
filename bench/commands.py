"""The commands users run most, whole processes, side by side in one run, several times, interleaved:

- `colorization.py --model UNet --valid` (the shipped UNet) against a bare `python -c "import torch"`;
- default training, `colorization.py --model UNet -e 2` (batch 100), against the assignment's path for 2 epochs
  (bench/time_to_quality.py --assignment-loop --epochs 2: numpy colour classes, per-batch tensors).

    python bench/commands.py [--runs 3] [--out docs/performance.md]

Writes one row per kind of machine (colorlib.machine.summary) into docs/performance.md.
"""
import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

ASSIGNMENT = "assignment's path"
COMMANDS = {  # name -> the whole process
    'import torch': [sys.executable, '-c', 'import torch'],
    '--valid': [sys.executable, str(ROOT / 'colorization.py'), '--model', 'UNet', '--valid'],
    'default training': [sys.executable, str(ROOT / 'colorization.py'), '--model', 'UNet', '-e', '2', '--device',
                         'cpu', '--experiment-name', 'bench', '--checkpoint', 'bench.pkl', '--overwrite'],
    ASSIGNMENT: [sys.executable, str(ROOT / 'bench' / 'time_to_quality.py'), '--assignment-loop',
                          '--epochs', '2'],
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--out', default=str(ROOT / 'docs' / 'performance.md'))
    args = parser.parse_args()
    from colorlib import machine
    from time_to_quality import timed
    from train_speed import write_machine_row
    where = machine.summary('cpu')
    print(f'machine: {where}', flush=True)
    load_before = os.getloadavg()[0]
    seconds = {name: [] for name in COMMANDS}
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(1, args.runs + 1):
            for name, command in COMMANDS.items():
                seconds[name].append(timed(command, tmp)[0])
            print(f'run {run}: ' + ', '.join(f'{name} {s[-1]:.1f} s' for name, s in seconds.items()), flush=True)
    median = {name: statistics.median(s) for name, s in seconds.items()}
    ratios = [a / d for a, d in zip(seconds[ASSIGNMENT], seconds['default training'])]  # run by run, side by side
    intro = [
        '`python bench/commands.py --runs N`: whole processes, interleaved, N times, medians. `--valid` is '
        '`colorization.py --model UNet --valid` (the shipped weights: loss, PSNR, SSIM, colourfulness, sample grid) '
        'against a bare `python -c "import torch"` (goal: within 2.5x); default training is `colorization.py --model '
        "UNet -e 2` (batch 100) against the assignment's path for 2 epochs (goal: 1.5x as fast; the speed-up of the "
        'medians, and in brackets the lowest and highest of the runs, each side by side). One row per kind of '
        'machine.', '']
    header = ['| machine | date, runs, load | import torch (s) | --valid (s) | --valid / import torch | '
              "default training (s) | assignment's path (s) | speed-up |", '|---|---|---|---|---|---|---|---|']
    write_machine_row(args.out, 'commands', intro, header, where, args.runs, load_before, [
        f'{median["import torch"]:.1f}', f'{median["--valid"]:.1f}',
        f'**{median["--valid"] / median["import torch"]:.2f}x**', f'{median["default training"]:.1f}',
        f'{median[ASSIGNMENT]:.1f}',
        f'**{median[ASSIGNMENT] / median["default training"]:.2f}x** ({min(ratios):.2f}-{max(ratios):.2f})'])

if __name__ == '__main__':
    main()
