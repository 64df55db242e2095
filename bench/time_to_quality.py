"""Time to the assignment's UNet figure: `colorization.py --model UNet --recipe fast` against the assignment's own
training loop, whole processes, side by side in one run, several times (this machine is shared and noisy).

    python bench/time_to_quality.py [--runs 3] [--device cpu|cuda] [--out docs/performance.md]

The figure depends on the machine (the fast recipe trains in bfloat16 only where the machine has it), so the page
keeps one row per kind of machine: its CPU or GPU and whether it does bfloat16 arithmetic, as colorlib.machine
sees them.

The target is the assignment's UNet checkpoint's figure in eval mode: validation loss <= 1.3786 and accuracy
>= 48.2% (our 24-colour file, the 1000 test horses). The assignment's loop is re-expressed here in its own manner
(`--assignment-loop`): colour classes computed with numpy up front, the images shuffled with numpy and each batch
turned into a tensor as it is used, BatchNorm left in training mode for its validation, 25 epochs of Adam at 1e-3,
batch 100, on the same UNet.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_LOSS, TARGET_ACC = 1.3786, 48.2
FAST = ['--model', 'UNet', '--recipe', 'fast']


def assignment_loop(epochs=25, batch_size=100, learn_rate=1e-3, seed=0, device='cpu', eval_figure=False):
    """The assignment's way of training, with our UNet: everything in numpy until the batch goes in; at the end
    its training curve and its weights, into the current folder, as the assignment's script writes them."""
    import torch
    import torch.nn.functional as F

    from colorlib.colours import load_colours
    from colorlib.models import ModelConfig, build_model
    from colorlib.shipped import DEFAULT_COLOURS, DEFAULT_DATA

    data = np.load(DEFAULT_DATA)
    centres = load_colours(DEFAULT_COLOURS).numpy().astype(np.float64)

    def prepare(images):
        """Grey inputs (N, 1, 32, 32) and nearest-colour classes (N, 32, 32), both numpy, all at once."""
        rgb = images.transpose(0, 3, 1, 2).astype(np.float32) / 256
        pixels = rgb.transpose(0, 2, 3, 1)[..., None, :].astype(np.float64)
        classes = np.concatenate([np.argmin(((chunk - centres) ** 2).sum(-1), axis=-1)  # 500 at a time: 300 MB
                                  for chunk in np.array_split(pixels, max(1, len(pixels) // 500))])
        return rgb.mean(1, keepdims=True), classes

    train_x, train_y = prepare(data['train_x'][data['train_y'] == 7])
    test_x, test_y = prepare(data['test_x'][data['test_y'] == 7])
    np.random.seed(seed)
    torch.manual_seed(seed)
    model = build_model(ModelConfig('UNet', 3, 32, len(centres))).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=learn_rate)
    train_losses, valid_losses = [], []
    for epoch in range(epochs):
        model.train()
        order = np.random.permutation(len(train_x))
        batch_losses = []
        for start in range(0, len(order), batch_size):
            index = order[start:start + batch_size]
            x, y = torch.from_numpy(train_x[index]).to(device), torch.from_numpy(train_y[index]).to(device)
            loss = F.cross_entropy(model(x), y)
            batch_losses.append(loss.item())  # the assignment reads every batch's loss back
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with torch.no_grad():  # its validation: BatchNorm still in training mode, batch by batch
            losses = [F.cross_entropy(model(torch.from_numpy(test_x[s:s + batch_size]).to(device)),
                                      torch.from_numpy(test_y[s:s + batch_size]).to(device)).item()
                      for s in range(0, len(test_x), batch_size)]
        train_losses.append(np.mean(batch_losses))
        valid_losses.append(np.mean(losses))
        print(f'Epoch [{epoch + 1}/{epochs}], Val Loss: {np.mean(losses):.4f}', flush=True)
    import matplotlib  # what the assignment writes at the end: its training curve and its weights
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    plt.figure()
    plt.plot(train_losses, 'ro-', label='Train')
    plt.plot(valid_losses, 'go-', label='Validation')
    plt.legend()
    with tempfile.TemporaryDirectory() as written:  # written, as the assignment does, but into a folder of its own
        plt.savefig(Path(written) / 'training_curve.png')
        torch.save(model.state_dict(), Path(written) / 'weights.pkl')
    if eval_figure:  # ours, for the comparison: the figure in eval mode, as colorlib reports it
        model.eval()
        with torch.no_grad():
            outputs = torch.cat([model(torch.from_numpy(test_x[s:s + 100]).to(device))
                                 for s in range(0, len(test_x), 100)])
        target = torch.from_numpy(test_y).to(device)
        print(f'eval mode: Val Loss: {F.cross_entropy(outputs, target).item():.4f}, '
              f'Val Acc: {100 * (outputs.argmax(1) == target).float().mean().item():.1f}%')


def timed(command, cwd):
    start = time.perf_counter()
    out = subprocess.run(command, cwd=cwd, check=True, capture_output=True, text=True).stdout
    return time.perf_counter() - start, out


def figures(text):
    loss, acc = re.findall(r'Val Loss: (\d+\.\d+), Val Acc: (\d+\.\d)%', text)[-1]
    return float(loss), float(acc)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--epochs', type=int, default=25, help="the assignment loop's epochs")
    parser.add_argument('--out', default=str(ROOT / 'docs' / 'performance.md'))
    parser.add_argument('--assignment-loop', action='store_true', help='run the assignment loop in this process')
    parser.add_argument('--eval-figure', action='store_true', help="with --assignment-loop: print its eval-mode figure")
    args = parser.parse_args()
    if args.assignment_loop:
        return assignment_loop(args.epochs, device=args.device, eval_figure=args.eval_figure)
    from colorlib import machine
    from colorlib.checkpoints import read_resumable
    from colorlib.naming import RESUME_FILE
    from train_speed import write_machine_row
    where = machine.summary(args.device)
    print(f'machine: {where}; --amp auto: {machine.use_bf16(args.device, "auto")[1]}', flush=True)
    load_before = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(1, args.runs + 1):
            fast_seconds, _ = timed([sys.executable, str(ROOT / 'colorization.py'), *FAST, '--device', args.device,
                                     '--checkpoint', 'fast.pkl', '--experiment-name', 'fast', '--overwrite'], tmp)
            _, valid = timed([sys.executable, str(ROOT / 'colorization.py'), '--model', 'UNet', '--valid',
                              '--device', args.device, '--checkpoint', 'fast.pkl'], tmp)
            slow_seconds, slow = timed([sys.executable, __file__, '--assignment-loop', '--eval-figure', '--device',
                                        args.device], tmp)
            rows.append((run, fast_seconds, figures(valid), slow_seconds, figures(slow)))
            ran = read_resumable(Path(tmp) / 'outputs' / 'fast' / RESUME_FILE)['run']  # what the recipe set
            print(f'run {run}: fast {fast_seconds:.1f} s {figures(valid)}, assignment loop {slow_seconds:.1f} s '
                  f'{figures(slow)}, ratio {slow_seconds / fast_seconds:.1f}', flush=True)
    fast, slow = (statistics.median(r[i] for r in rows) for i in (1, 3))
    ratios = sorted(s / f for _, f, _, s, _ in rows)
    met = all(loss <= TARGET_LOSS and acc >= TARGET_ACC for _, _, (loss, acc), _, _ in rows)
    (loss, acc) = rows[0][2]
    intro = [
        f'`python bench/time_to_quality.py --runs N`: the whole `colorization.py {" ".join(FAST)}` process against '
        "the assignment's loop (25 epochs, numpy classes, per-batch tensors), side by side N times, medians; the fast "
        f'figure is eval mode, target Val Loss <= {TARGET_LOSS} and Val Acc >= {TARGET_ACC}%. One row per kind of '
        'machine; the recipe column is what `fast` set when that row was measured.', '']
    header = ['| machine | date, runs, load | recipe | fast (s) | its Val Loss, Val Acc | assignment (s) | '
              'ratio (range) | target |', '|---|---|---|---|---|---|---|---|']
    recipe = (f'`-e {ran["epochs"]} -b {ran["batch_size"]} -l {ran["learn_rate"]} --lr-schedule {ran["lr_schedule"]} '
              f'--warmup {ran["warmup"]}` in {"bfloat16" if ran["amp"] else "float32"}')
    write_machine_row(args.out, 'time-to-quality', intro, header, f'{where} ({args.device})', args.runs, load_before, [
        recipe, f'{fast:.1f}', f'{loss:.4f}, {acc:.1f}%',
        f'{slow:.1f}', f'**{statistics.median(ratios):.1f}x** ({ratios[0]:.1f}-{ratios[-1]:.1f})',
        'met' if met else 'NOT met'])

if __name__ == '__main__':
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
