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

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from colorlib import machine  # noqa: E402
from colorlib.colours import load_colours, rgb_to_classes  # noqa: E402
from colorlib.data import load_category  # noqa: E402
from colorlib.images import to_float  # noqa: E402
from colorlib.models import ModelConfig, build_model  # noqa: E402
from colorlib.shipped import DEFAULT_COLOURS, DEFAULT_DATA  # noqa: E402
from colorlib.targets import RGB, ColourClasses  # noqa: E402
from colorlib.train import LAYOUT, TrainConfig, evaluate, to_device, train_epoch  # noqa: E402

MODELS = ('RegressionCNN', 'CNN', 'UNet', 'DUNet')


def timed(work):
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def copy_rate(device, mib=64, repeats=10):
    """GB/s moved (read + write) by copying a large tensor: the limit of the memory-bound layers."""
    a = torch.empty(mib << 18, device=device)
    b = torch.empty_like(a)
    b.copy_(a)
    machine.sync(device)
    start = time.perf_counter()
    for _ in range(repeats):
        b.copy_(a)
    machine.sync(device)
    return 2 * a.numel() * 4 * repeats / (time.perf_counter() - start) / 1e9


# The UNet's convolutions (k3, f32, 24 colours) as (block, in channels, out channels, image side)
UNET_CONVS = [('downconv1', 1, 32, 32), ('downconv2', 32, 64, 16), ('rfconv', 64, 64, 8),
              ('upconv1', 128, 32, 8), ('upconv2', 64, 24, 16), ('finalconv', 25, 24, 32)]


def conv_rows(device, layout, batch=100, repeats=10):
    """Each UNet convolution alone, forward and backward at batch 100: how fast its shape runs."""
    rows = []
    for name, c_in, c_out, side in UNET_CONVS:
        x = torch.randn(batch, c_in, side, side, device=device).contiguous(memory_format=layout).requires_grad_(c_in > 1)
        w = torch.randn(c_out, c_in, 3, 3, device=device).contiguous(memory_format=layout).requires_grad_()
        b = torch.randn(c_out, device=device, requires_grad=True)
        wanted = [x, w, b] if x.requires_grad else [w, b]
        passes = 3 if x.requires_grad else 2  # forward, weight gradient and (not for the image) input gradient
        flops = 2 * c_in * c_out * 9 * side * side * batch * passes
        upstream = torch.randn_like(F.conv2d(x, w, b, padding=1))
        seconds = min(timed(lambda: (torch.autograd.grad(F.conv2d(x, w, b, padding=1), wanted, upstream),
                                     machine.sync(device))) for _ in range(repeats))
        rows.append(f'| {name} | {c_in} -> {c_out}, {side}x{side} | {1e3 * seconds:.1f} | {flops / seconds / 1e9:.0f} |')
    return rows


def train_flops_per_image(model, target, inputs, targets, batch=10):
    with FlopCounterMode(display=False) as counter:
        target.loss(model(inputs[:batch]), targets[:batch]).backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / batch


def time_epochs(model, target, train_set, batch_size, epochs, device, amp=False, compiled=False):
    """Seconds of the fastest of `epochs` epochs of the real training loop, after a warm-up one (the best, since
    on a shared or virtual machine the slow runs measure the neighbours). compiled: torch.compile the model; the
    compilation happens in the warm-up epoch."""
    net = torch.compile(model) if compiled else model
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0)
    generator = torch.Generator(device).manual_seed(0)
    config = TrainConfig(batch_size=batch_size, amp=amp)
    train_epoch(net, target, optimizer, scheduler, train_set, config, generator)
    machine.sync(device)
    return min(timed(lambda: (train_epoch(net, target, optimizer, scheduler, train_set, config, generator),
                              machine.sync(device))) for _ in range(epochs))


def profile_steps(model, target, train_set, batch_size, steps=5):
    """Where a UNet training step spends its time: the top operators by self time, as markdown rows."""
    from torch.profiler import profile
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0)
    generator = torch.Generator(train_set[0].device).manual_seed(0)
    subset = tuple(t[:batch_size * steps] for t in train_set)
    config = TrainConfig(batch_size=batch_size)
    train_epoch(model, target, optimizer, scheduler, subset, config, generator)  # warm-up
    with profile() as prof:
        train_epoch(model, target, optimizer, scheduler, subset, config, generator)
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events)
    return [f'| `{e.key}` | {100 * e.self_cpu_time_total / total:.1f}% |' for e in events[:10]]


def time_eval(model, target, test_set, device, repeats=5):
    """The fastest of `repeats` evaluations of the test set, after a warm-up one."""
    evaluate(model, target, *test_set)
    return min(timed(lambda: (evaluate(model, target, *test_set), machine.sync(device))) for _ in range(repeats))


STARTUP = '''
import sys
sys.path.insert(0, {root!r})
import colorlib.train
from colorlib.colours import load_colours
from colorlib.data import load_category
from colorlib.images import to_float
from colorlib.shipped import DEFAULT_COLOURS, DEFAULT_DATA
from colorlib.targets import ColourClasses
target = ColourClasses(load_colours(DEFAULT_COLOURS))
train_x, test_x = load_category(DEFAULT_DATA, 7)
train_set, test_set = target.encode(to_float(train_x)), target.encode(to_float(test_x))
'''


def time_startup(code=None):
    """A fresh interpreter importing the trainer, loading the bundled horses and making every colour
    class (or running `code`)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, '-c', code or STARTUP.format(root=str(ROOT))], check=True)
    return time.perf_counter() - start


def time_process(args):
    start = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / 'colorization.py'), *args], cwd='/tmp', check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def write_section(path, key, lines, near=None):
    """Put `lines` between the markers of section `key` in the page, keeping the page's prose around it; a new
    section goes after the last section whose key starts with `near` (another machine of the same kind of device),
    or at the end."""
    begin, end = f'<!-- bench:{key} -->', f'<!-- /bench:{key} -->'
    path = Path(path)
    page = path.read_text() if path.exists() else '# Performance\n'
    block = '\n'.join([begin, *lines, end])
    if begin in page and end in page:
        page = page[:page.index(begin)] + block + page[page.index(end) + len(end):]
    elif near is not None and f'<!-- /bench:{near}' in page:
        after = page.index('-->', page.rindex(f'<!-- /bench:{near}')) + 3
        page = page[:after] + '\n\n' + block + page[after:]
    else:
        page = page.rstrip('\n') + '\n\n' + block + '\n'
    path.write_text(page)


def write_machine_row(path, key, intro, header, where, runs, load_before, cells):
    """Print and write the section `key` as one table with a row per kind of machine: this run's row (the machine
    `where`, the date, the number of runs and the load average at its start and end, then `cells`) replaces that
    machine's earlier row, and the other machines' rows are kept."""
    row = ' | '.join([f'| {where}', f'{datetime.date.today()}, {runs}, {load_before:.1f}-{os.getloadavg()[0]:.1f}',
                      *cells]) + ' |'
    print('\n'.join(intro + header + [row]))
    begin = f'<!-- bench:{key} -->'
    page = Path(path).read_text() if Path(path).exists() else ''
    old = page[page.index(begin):page.index(f'<!-- /bench:{key} -->')] if begin in page else ''
    rows = [line for line in old.splitlines() if line.startswith('| ') and line not in header and
            not line.startswith(f'| {where} | ')]
    write_section(path, key, [*intro, *header, *rows, row])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--epochs', type=int, default=2, help='timed epochs per setting, after a warm-up one; the fastest counts')
    parser.add_argument('--out', default=str(ROOT / 'docs' / 'performance.md'))
    args = parser.parse_args()
    device = torch.device(args.device)
    load_before = os.getloadavg()[0]

    start = time.perf_counter()
    centres = load_colours(DEFAULT_COLOURS)
    train_x, test_x = load_category(DEFAULT_DATA, 7)
    load_seconds = time.perf_counter() - start
    all_rgb = to_float(np.concatenate([train_x, test_x]))
    classes_seconds = min(timed(lambda: rgb_to_classes(all_rgb, centres)) for _ in range(3))
    startup = min(time_startup() for _ in range(3))
    import_torch = min(time_startup('import torch') for _ in range(3))
    targets = {False: ColourClasses(centres), True: RGB()}
    train_sets = {r: to_device(t.encode(to_float(train_x)), device) for r, t in targets.items()}
    test_sets = {r: to_device(t.encode(to_float(test_x)), device) for r, t in targets.items()}

    rate, bandwidth = machine.matmul_rate(device, seconds=2.0), copy_rate(device)
    print(f'fp32 matmul: {rate:.1f} GFLOP/s, copy {bandwidth:.1f} GB/s on {device} ({torch.get_num_threads()} threads)',
          flush=True)
    layout = LAYOUT
    rows = []
    for name in MODELS:
        regression = name == 'RegressionCNN'
        torch.manual_seed(0)
        target = targets[regression]
        model = build_model(ModelConfig(name, out_channels=target.out_channels))
        model.to(device, memory_format=layout)
        flops = train_flops_per_image(model, target, *train_sets[regression])
        floor = flops * len(train_x) / (rate * 1e9)
        row = {'model': name, 'mflop': flops / 1e6, 'floor': floor}
        for batch in (100, 10):
            row[batch] = time_epochs(model, target, train_sets[regression], batch, args.epochs, device)
        row['eval'] = time_eval(model, target, test_sets[regression], device)
        rows.append(row)
        print(f"{name}: {row['mflop']:.1f} MFLOP/image, epoch {row[100]:.2f} s (b100), {row[10]:.2f} s (b10), "
              f"floor {floor:.2f} s, eval {row['eval']:.3f} s", flush=True)

    other = torch.contiguous_format if layout == torch.channels_last else torch.channels_last
    variants = []  # the UNet at batch 100 with the other layout, bfloat16 autocast, and torch.compile
    for label, fmt, amp, compiled in [
            ('channels_last' if other == torch.channels_last else 'NCHW (contiguous)', other, False, False),
            ('--amp (bfloat16)', layout, True, False), ('--compile', layout, False, True)]:
        torch.manual_seed(0)
        model = build_model(ModelConfig('UNet', out_channels=len(centres))).to(device, memory_format=fmt)
        data, test = (tuple(t.contiguous(memory_format=fmt) if t.dim() == 4 else t for t in dataset)
                      for dataset in (train_sets[False], test_sets[False]))
        fast, why = machine.fast_bf16(device)
        if amp and not fast:  # emulated bfloat16 takes minutes an epoch, and auto skips it
            variants.append((f'{label}: not timed, {why}', None, None))
            continue
        variants.append((label, time_epochs(model, targets[False], data, 100, args.epochs, device, amp=amp,
                                            compiled=compiled),
                         None if amp or compiled else time_eval(model, targets[False], test, device)))
        print(f'UNet {label}: epoch {variants[-1][1]:.2f} s (b100)', flush=True)
    torch.manual_seed(0)
    unet = build_model(ModelConfig('UNet', out_channels=len(centres))).to(device, memory_format=layout)
    profile_rows = profile_steps(unet, targets[False], train_sets[False], 100)
    convs = conv_rows(device, layout)
    process = time_process(['--model', 'UNet', '-e', '1', '--device', device.type, '--experiment-name', 'bench',
                            '--overwrite'])
    print(f'colorization.py --model UNet -e 1: {process:.1f} s', flush=True)

    n = len(train_x)
    lines = [
        f'Written by `python bench/train_speed.py --device {device.type}` on {datetime.date.today()}: '
        f'{machine.summary(device)}, {platform.machine()}, torch {torch.__version__}, '
        f'{torch.get_num_threads()} threads; load average {load_before:.1f} at the start, '
        f'{os.getloadavg()[0]:.1f} at the end.', '',
        f'- fp32 matmul rate (the limit): **{rate:.1f} GFLOP/s**; memory copy: {bandwidth:.1f} GB/s',
        f'- start-up (fresh interpreter: import, data load, colour classes of all {n + len(test_x)} images): '
        f'**{startup:.2f} s**; of which data load {load_seconds:.2f} s, colour classes **{classes_seconds:.2f} s**; '
        f'a fresh interpreter that only runs `import torch`: {import_torch:.2f} s',
        f'- whole `colorization.py --model UNet -e 1` process, start to finish: **{process:.1f} s**', '',
        f'Epochs are {n} images, in the {"channels_last" if layout == torch.channels_last else "NCHW"} layout; '
        f'the floor is FLOPs per epoch / matmul rate.', '',
        '| model | MFLOP/image (train step) | epoch b100 (s) | images/s b100 | GFLOP/s | epoch / floor | '
        'epoch b10 (s) | b10 / b100 | eval 1000 (s) |',
        '|---|---|---|---|---|---|---|---|---|',
    ]
    for r in rows:
        lines.append(f"| {r['model']} | {r['mflop']:.1f} | {r[100]:.2f} | {n / r[100]:.0f} | "
                     f"{r['mflop'] * n / r[100] / 1e3:.1f} | {r[100] / r['floor']:.2f} | {r[10]:.2f} | "
                     f"{r[10] / r[100]:.2f} | {r['eval']:.3f} |")
    lines += ['', '| UNet variant, batch 100 | epoch (s) | eval 1000 (s) |', '|---|---|---|']
    lines += [f'| {label} | {"" if epoch is None else f"{epoch:.2f}"} | {"" if seconds is None else f"{seconds:.3f}"} |'
              for label, epoch, seconds in variants]
    lines += ['', 'Where a UNet training step (batch 100) spends its time (torch.profiler, self time):', '',
              '| operator | share |', '|---|---|', *profile_rows]
    lines += ['', 'Each UNet convolution alone, forward and backward (input gradient too, except for the image) at '
              'batch 100, best of 10:', '', '| block | shape | ms | GFLOP/s |', '|---|---|---|---|',
              *convs]
    # one section per kind of machine (a table from another CPU is kept), after the others of its device type
    write_section(args.out, f'{device.type} {machine.summary(device)}', lines, near=device.type)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
