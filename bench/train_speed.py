"""How close training and evaluation come to this machine's arithmetic limit; writes docs/performance.md.

    python bench/train_speed.py [--device cpu|cuda] [--epochs 2] [--out docs/performance.md]

The limit is the fp32 matrix-multiply rate measured here; an epoch's floor is its FLOPs (counted with
torch.utils.flop_counter, forward and backward) divided by that rate.
"""
import argparse
import datetime
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from colorlib.colours import DEFAULT_COLOURS, load_colours  # noqa: E402
from colorlib.data import DEFAULT_DATA, load_category  # noqa: E402
from colorlib.models import build_model  # noqa: E402
from colorlib.train import compute_loss, evaluate, make_dataset, train_epoch  # noqa: E402

MODELS = ('RegressionCNN', 'CNN', 'UNet', 'DUNet')


def sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize()


def matmul_rate(device, n=2048, seconds=2.0):
    """Sustained fp32 GFLOP/s of an n x n matrix multiply."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    a @ b
    sync(device)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        count += 1
    sync(device)
    return 2 * n ** 3 * count / (time.perf_counter() - start) / 1e9


def train_flops_per_image(model, grey, target, batch=10):
    with FlopCounterMode(display=False) as counter:
        compute_loss(model(grey[:batch]), target[:batch]).backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / batch


def time_epochs(model, train_set, batch_size, epochs, device):
    """Seconds per epoch of the real training loop, after one warm-up epoch."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0)
    generator = torch.Generator().manual_seed(0)
    train_epoch(model, optimizer, scheduler, *train_set, batch_size, generator)
    sync(device)
    start = time.perf_counter()
    for _ in range(epochs):
        train_epoch(model, optimizer, scheduler, *train_set, batch_size, generator)
    sync(device)
    return (time.perf_counter() - start) / epochs


def time_eval(model, test_set, device, repeats=3):
    evaluate(model, *test_set)
    sync(device)
    start = time.perf_counter()
    for _ in range(repeats):
        evaluate(model, *test_set)
    sync(device)
    return (time.perf_counter() - start) / repeats


def time_process(args):
    start = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / 'colorization.py'), *args], cwd='/tmp', check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--epochs', type=int, default=2, help='timed epochs per setting, after a warm-up one')
    parser.add_argument('--out', default=str(ROOT / 'docs' / 'performance.md'))
    args = parser.parse_args()
    device = torch.device(args.device)

    start = time.perf_counter()
    centres = load_colours(DEFAULT_COLOURS)
    train_x, test_x = load_category(DEFAULT_DATA, 7)
    load_seconds = time.perf_counter() - start
    start = time.perf_counter()
    train_sets = {r: make_dataset(train_x, centres, r) for r in (False, True)}
    classes_seconds = time.perf_counter() - start
    test_sets = {r: make_dataset(test_x, centres, r) for r in (False, True)}
    train_sets = {r: tuple(t.to(device) for t in s) for r, s in train_sets.items()}
    test_sets = {r: tuple(t.to(device) for t in s) for r, s in test_sets.items()}

    rate = matmul_rate(device)
    print(f'fp32 matmul: {rate:.1f} GFLOP/s on {device} ({torch.get_num_threads()} threads)', flush=True)
    rows = []
    for name in MODELS:
        regression = name == 'RegressionCNN'
        torch.manual_seed(0)
        model = build_model(name, 3, 32, 3 if regression else len(centres)).to(device)
        flops = train_flops_per_image(model, *train_sets[regression])
        floor = flops * len(train_x) / (rate * 1e9)
        row = {'model': name, 'mflop': flops / 1e6, 'floor': floor}
        for batch in (100, 10):
            row[batch] = time_epochs(model, train_sets[regression], batch, args.epochs, device)
        row['eval'] = time_eval(model, test_sets[regression], device)
        rows.append(row)
        print(f"{name}: {row['mflop']:.1f} MFLOP/image, epoch {row[100]:.2f} s (b100), {row[10]:.2f} s (b10), "
              f"floor {floor:.2f} s, eval {row['eval']:.3f} s", flush=True)
    process = time_process(['--model', 'UNet', '-e', '1', '--device', device.type, '--experiment-name', 'bench'])
    print(f'colorization.py --model UNet -e 1: {process:.1f} s', flush=True)

    n = len(train_x)
    lines = [
        '# Performance', '',
        f'Written by `python bench/train_speed.py --device {device.type}` on {datetime.date.today()}: '
        f'{platform.processor() or platform.machine()}, {os.cpu_count()} cores, '
        f'{torch.cuda.get_device_name() if device.type == "cuda" else "CPU"}, torch {torch.__version__}, '
        f'{torch.get_num_threads()} threads.', '',
        f'- fp32 matmul rate (the limit): **{rate:.1f} GFLOP/s**',
        f'- data load {load_seconds:.2f} s; pixel -> colour class for {n + len(test_x)} images ({n} train): '
        f'{classes_seconds:.2f} s (both tasks)',
        f'- whole `colorization.py --model UNet -e 1` process, start to finish: **{process:.1f} s**', '',
        f'Epochs are {n} images; the floor is FLOPs per epoch / matmul rate.', '',
        '| model | MFLOP/image (train step) | epoch b100 (s) | images/s b100 | GFLOP/s | epoch / floor | '
        'epoch b10 (s) | b10 / b100 | eval 1000 (s) |',
        '|---|---|---|---|---|---|---|---|---|',
    ]
    for r in rows:
        lines.append(f"| {r['model']} | {r['mflop']:.1f} | {r[100]:.2f} | {n / r[100]:.0f} | "
                     f"{r['mflop'] * n / r[100] / 1e3:.1f} | {r[100] / r['floor']:.2f} | {r[10]:.2f} | "
                     f"{r[10] / r[100]:.2f} | {r['eval']:.3f} |")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text('\n'.join(lines) + '\n')
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
