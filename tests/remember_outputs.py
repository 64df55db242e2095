"""What the commands do, as a record: for a fixed set of commands (training, --valid, --init, --resume after a stop,
colorize, activations, the remakers and a set of refusals), each one's exit status, its stdout and stderr lines and
a digest of every file it writes. tests/test_remember_outputs.py runs them and compares with the record taken before
the command line was rebuilt on the library (tests/records/outputs_before.json), so that "nothing changes for the user"
is checked, not eyeballed.

    python tests/remember_outputs.py run OUT.json                            # what the code does now
    python tests/remember_outputs.py record tests/records/outputs_before.json   # retake the record: see below

The commands run in this one process, one after another, each in the same scratch folder (later steps read what
earlier ones wrote), with one CPU thread so that the arithmetic, and so the digests, repeat on the same machine. A
record says which machine made it (`machine`): file digests and printed figures are compared only on that machine;
elsewhere the exit statuses, the refusals and the names of the files written still are.

The record was taken with the code before the rebuild (commit d325b10) and this script: to retake it with more steps,
`git archive d325b10 | tar -x -C DIR`, copy this script into DIR/tests/, and run it there with PYTHONPATH=DIR (and
COLORLIB_SHARED=<the shared folder> where ../shared is not beside DIR).
"""
import contextlib
import hashlib
import io
import json
import os
import platform
import re
import signal
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
# the assignment's own weights: a checkout's ../shared (CI), a worktree's ../../shared, or COLORLIB_SHARED
SHARED_WEIGHTS = next((Path(place) / 'reference' / 'assignment_weights' for place in (
    os.environ.get('COLORLIB_SHARED', ''), REPO.parent / 'shared', REPO.parents[1] / 'shared')
    if place and (Path(place) / 'reference' / 'assignment_weights').is_dir()), Path('/nowhere'))

TINY = ['--data', 'tiny.npz', '-b', '10', '-e', '1', '-f', '4']  # 40 training and 20 test horses: a second a run

# (name, command and flags, what to do before): every step runs in the same folder, in this order
STEPS = [
    # training and what reads its files
    ('train', ['colorization', *TINY, '--experiment-name', 'run1'], None),
    ('train_again_refused', ['colorization', *TINY, '--experiment-name', 'run1'], None),
    ('valid_own', ['colorization', '--valid', '--checkpoint', 'outputs/run1/weights.pkl', '--data', 'tiny.npz'], None),
    ('valid_own_contradicted', ['colorization', '--valid', '--checkpoint', 'outputs/run1/weights.pkl', '--model', 'CNN',
                                '--data', 'tiny.npz'], None),
    ('valid_shipped', ['colorization', '--valid', '--data', 'tiny.npz'], None),
    ('valid_shipped_legacy_tta', ['colorization', '--valid', '--model', 'CNN', '--legacy-eval', '--data', 'tiny.npz'],
     None),
    ('valid_shipped_tta', ['colorization', '--valid', '--model', 'DUNet', '--tta', '--data', 'tiny.npz'], None),
    ('valid_regression', ['color_regression', '--valid', '--data', 'tiny.npz'], None),
    ('valid_superres', ['colorization', '--valid', '--task', 'superres', '--data', 'tiny.npz'], None),
    ('valid_lab', ['colorization', '--valid', '--colour-space', 'lab', '--data', 'tiny.npz'], None),
    ('init', ['colorization', *TINY, '--init', 'outputs/run1/weights.pkl', '--experiment-name', 'run2'], None),
    ('init_contradicted', ['colorization', *TINY, '--init', 'outputs/run1/weights.pkl', '--model', 'CNN',
                           '--experiment-name', 'run3'], None),
    ('stopped', ['colorization', '--data', 'tiny.npz', '-b', '10', '-e', '2', '-f', '4', '--experiment-name', 'stop',
                 '--lr-schedule', 'cosine', '--ema', '0.9', '--augment', 'hflip,shift'], 'stop_after_first_epoch'),
    ('resume_other_flags', ['colorization', '--data', 'tiny.npz', '-b', '20', '-e', '2', '-f', '4', '--experiment-name',
                            'stop', '--lr-schedule', 'cosine', '--ema', '0.9', '--augment', 'hflip,shift', '--resume'],
     None),
    ('resume', ['colorization', '--data', 'tiny.npz', '-b', '10', '-e', '2', '-f', '4', '--experiment-name', 'stop',
                '--lr-schedule', 'cosine', '--ema', '0.9', '--augment', 'hflip,shift', '--resume'], None),
    ('train_regression', ['color_regression', *TINY, '--experiment-name', 'reg', '--plot'], None),
    ('train_dunet', ['colorization', *TINY, '--model', 'DUNet', '--dilation', '2', '-k', '5',
                     '--experiment-name', 'dunet', '--checkpoint', 'dunet.pkl'], None),
    ('train_lab', ['colorization', *TINY, '--colour-space', 'lab', '--rebalance', '0.5', '--soft-encode',
                   '--label-smoothing', '0.1', '--experiment-name', 'lab'], None),
    ('train_superres', ['colorization', *TINY, '--task', 'superres', '--loss', 'mse', '--residual',
                        '--experiment-name', 'sr'], None),
    ('train_own_pictures', ['colorization', '--data', 'pics', '-b', '4', '-e', '1', '-f', '4', '--model', 'CNN',
                            '--experiment-name', 'own', '--checkpoint', 'own.pkl'], None),
    ('valid_own_pictures', ['colorization', '--valid', '--checkpoint', 'own.pkl', '--data', 'pics'], None),
    ('sync_bn_one_process', ['colorization', *TINY, '--sync-bn', '--device', 'cpu', '--experiment-name', 'sync'], None),
    ('torchrun', ['colorization', *TINY, '--experiment-name', 'ddp', '--device', 'cpu'], 'torchrun'),
    ('torchrun_resume_more', ['colorization', *TINY[:-4], '-e', '2', '-f', '4', '--experiment-name', 'ddp',
                              '--device', 'cpu', '--resume'], 'torchrun'),
    ('recipe_fast', ['colorization', '--recipe', 'fast', '--data', 'tiny.npz', '-e', '1', '-f', '4',
                     '--experiment-name', 'fast'], None),
    # colouring pictures, activations, the remakers
    ('colorize_shipped', ['colorize', 'pics/a.png', 'pics/b.png', '-o', 'col', '--compare'], None),
    ('colorize_own', ['colorize', 'pics', '-o', 'col_own', '--checkpoint', 'outputs/run1/weights.pkl', '--tta',
                      '--net-size', '16', '--tile', '8'], None),
    ('colorize_dunet_margin', ['colorize', 'pics/a.png', '-o', 'col_dunet', '--checkpoint', 'dunet.pkl',
                               '--margin', '4', '--tile', '12'], None),
    ('colorize_lab', ['colorize', 'pics/a.png', '-o', 'col_lab', '--colour-space', 'lab'], None),
    ('activations_shipped', ['activations', '3', '--data', 'tiny.npz'], None),
    ('activations_own', ['activations', '0', '--checkpoint', 'outputs/run1/weights.pkl', '--data', 'tiny.npz'], None),
    ('activations_all', ['activations', '1', '--all', '--data', 'tiny.npz'], None),
    ('colours', ['colours', '-k', '3', '5', '-o', 'cols', '--data', 'tiny.npz'], None),
    ('colours_again_refused', ['colours', '-k', '3', '-o', 'cols', '--data', 'tiny.npz'], None),
    ('bins', ['bins', '-o', 'cols', '--data', 'tiny.npz'], None),
    ('train_on_remade_colours', ['colorization', *TINY, '-c', 'cols/colour_kmeans5_cat7.npy', '--experiment-name',
                                 'k5'], None),
]

# refusals: flags alone, or flags with files; nothing may be written (checked: the record holds no files for them)
BAD = {
    'ema_high': ['--ema', '0.999999'], 'ema_one': ['--ema', '1'],
    'label_smoothing_high': ['--label-smoothing', '0.995'],
    'label_smoothing_one': ['--label-smoothing', '1'], 'filters_zero': ['-f', '0'], 'filters_word': ['-f', 'many'],
    'kernel_even': ['-k', '2'], 'kernel_zero': ['-k', '0'], 'epochs_zero': ['-e', '0'], 'batch_zero': ['-b', '0'],
    'learn_rate_negative': ['-l', '-1'], 'learn_rate_nan': ['-l', 'nan'], 'learn_rate_zero': ['-l', '0'],
    'seed_negative': ['-s', '-1'], 'seed_huge': ['-s', str(2 ** 32)], 'warmup_negative': ['--warmup', '-1'],
    'weight_decay_inf': ['--weight-decay', 'inf'], 'dilation_negative': ['--dilation', '-1'],
    'save_every_zero': ['--save-every', '0'], 'model_unknown': ['--model', 'Foo'],
    'augment_unknown': ['--augment', 'x'],
    'lr_schedule_unknown': ['--lr-schedule', 'x'], 'rebalance_high': ['--rebalance', '2'],
    'temperature_negative': ['--temperature', '-1'], 'category_unknown': ['--category', 'unicorn'],
    'extra_unknown': ['--extra-categories', 'unicorn'], 'image_size_small': ['--image-size', '7'],
    'val_share_high': ['--val-share', '0.95'], 'experiment_dots': ['--experiment-name', '..'],
    'lab_mse': ['--colour-space', 'lab', '--loss', 'mse'], 'residual_colour': ['--residual'],
    'residual_ce': ['--task', 'superres', '--residual'], 'legacy_without_valid': ['--legacy-eval'],
    'tta_without_valid': ['--tta'], 'init_with_valid': ['--valid', '--init', 'outputs/run1/weights.pkl'],
    'valid_missing': ['--valid', '--checkpoint', 'nope.pkl'],
    'valid_corrupt': ['--valid', '--checkpoint', 'corrupt.pkl'],
    'data_missing': ['--data', 'nope.npz'], 'colours_missing': ['-c', 'nope.npy'],
    'init_missing': ['--init', 'nope.pkl'],
    'recipe_unknown': ['--recipe', 'x'], 'recipe_best_cnn_lab': ['--recipe', 'best', '--colour-space', 'lab',
                                                                 '--model', 'CNN'],
    'legacy_lab': ['--valid', '--legacy-eval', '--colour-space', 'lab'], 'filters_too_many': ['-f', '100000000'],
    'dilation_too_wide': ['--model', 'DUNet', '--dilation', '100000'],
    'label_smoothing_rgb': ['--loss', 'mse', '--label-smoothing', '0.1'],
    'device_unknown': ['--device', 'tpu'],
    'checkpoint_is_run_file': ['--checkpoint', 'outputs/refused_checkpoint_is_run_file/metrics.jsonl'],
    'resume_nothing': ['--resume'], 'batch_zero_valid': ['--valid', '-b', '0'],
    'seed_huge_valid': ['--valid', '--legacy-eval', '-s', str(2 ** 32)], 'kernel_even_valid': ['--valid', '-k', '2'],
    'filters_zero_valid': ['--valid', '-f', '0'], 'temperature_nan_valid': ['--valid', '--temperature', 'nan'],
    'dilation_cnn_own_weights': ['--valid', '--checkpoint', 'outputs/run1/weights.pkl', '--dilation', '2'],
}
STEPS += [(f'refuse_{name}', ['colorization', *TINY, '--experiment-name', f'refused_{name}', *flags], None)
          for name, flags in BAD.items()]
STEPS += [
    ('refuse_regression_lab', ['color_regression', *TINY, '--colour-space', 'lab'], None),
    ('refuse_regression_model', ['color_regression', *TINY, '--model', 'UNet'], None),
    ('refuse_colorize_superres', ['colorize', 'pics/a.png', '-o', 'x', '--task', 'superres'], None),
    ('refuse_colorize_tile', ['colorize', 'pics/a.png', '-o', 'x', '--tile', '2'], None),
    ('refuse_colorize_net_size', ['colorize', 'pics/a.png', '-o', 'x', '--net-size', '0'], None),
    ('refuse_colorize_nothing', ['colorize', 'empty', '-o', 'x'], None),
    ('refuse_colorize_kernel', ['colorize', 'pics/a.png', '-o', 'x', '-k', '5'], None),
    ('refuse_colorize_missing', ['colorize', 'pics/a.png', 'nope.png', '-o', 'col_missing'], None),
    ('refuse_activations_index', ['activations', '99999', '--data', 'tiny.npz'], None),
    ('refuse_activations_all_checkpoint', ['activations', '1', '--all', '--checkpoint', 'dunet.pkl'], None),
    ('refuse_activations_weights_dir', ['activations', '1', '--weights-dir', 'cols'], None),
    ('refuse_activations_all_empty', ['activations', '1', '--all', '--weights-dir', 'empty', '--data', 'tiny.npz'],
     None),
    ('refuse_colours_k', ['colours', '-k', '1', '-o', 'cols2', '--data', 'tiny.npz'], None),
    ('refuse_bins_again', ['bins', '-o', 'cols', '--data', 'tiny.npz'], None),
    ('refuse_unknown_command', ['nosuch'], None),
]
if (SHARED_WEIGHTS / 'unet_k3_f32.pkl').is_file():  # the assignment's own files (CI's ../shared)
    STEPS += [('valid_assignment_unet', ['colorization', '--valid', '--checkpoint',
                                         str(SHARED_WEIGHTS / 'unet_k3_f32.pkl'), '--data', 'tiny.npz'], None),
              ('valid_assignment_cnn_legacy', ['colorization', '--valid', '--model', 'CNN', '--legacy-eval',
                                               '--checkpoint', str(SHARED_WEIGHTS / 'cnn_k3_f32.pkl'),
                                               '--data', 'tiny.npz'], None),
              ('init_assignment', ['colorization', *TINY[:-2], '--init', str(SHARED_WEIGHTS / 'unet_k3_f32.pkl'),
                                   '--experiment-name', 'from_assignment'], None),
              ('valid_assignment_as_dunet', ['colorization', '--valid', '--model', 'DUNet', '--checkpoint',
                                              str(SHARED_WEIGHTS / 'unet_k3_f32.pkl'), '--data', 'tiny.npz'], None)]


def make_inputs(folder):
    """The files the steps read: 40 training and 20 test horses, a folder of 12 small pictures, a corrupt file."""
    from colorlib.data import load_category
    from colorlib.shipped import DEFAULT_DATA
    train_x, test_x = load_category(DEFAULT_DATA, 7)
    np.savez(folder / 'tiny.npz', train_x=train_x[:40], train_y=np.full(40, 7), test_x=test_x[:20],
             test_y=np.full(20, 7))
    (folder / 'pics').mkdir()
    for i in range(12):
        Image.fromarray(train_x[100 + i].repeat(2, 0).repeat(2, 1)).save(folder / 'pics' / f'{"abcdefghijkl"[i]}.png')
    (folder / 'corrupt.pkl').write_bytes(b'not a checkpoint' * 8)
    (folder / 'empty').mkdir()


def plain(value):
    """A value of a checkpoint as JSON: tensors as a digest, containers element by element."""
    if torch.is_tensor(value):
        return 'tensor:' + digest(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return repr(value)
    return value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)


def digest(tensor):
    tensor = tensor.detach().cpu().contiguous()
    return hashlib.sha256(f'{tensor.dtype}{tuple(tensor.shape)}'.encode() + tensor.view(-1).view(torch.uint8)
                          .numpy().tobytes() if tensor.numel() else b'').hexdigest()[:16]


def sha(data):
    return hashlib.sha256(data).hexdigest()[:16]


def without_seconds(rows):
    return [{k: v for k, v in row.items() if k != 'seconds'} for row in rows]


def describe_file(path):
    """What a written file holds, in parts that can be compared one by one: `bytes` (its digest), and for weights
    and training states their tensors (`tensors`), what they say of themselves (`about`, `run`) and the rest."""
    data = path.read_bytes()
    found = {'bytes': sha(data)}
    if path.suffix in ('.pkl', '.pt'):
        state = torch.load(io.BytesIO(data), map_location='cpu', weights_only=True)
        if path.suffix == '.pkl':
            found['tensors'] = sha(json.dumps(plain(dict(state))).encode())
            found['about'] = plain(getattr(state, '_metadata', {}).get('colorlib'))
        else:
            found['tensors'] = sha(json.dumps(plain({k: v for k, v in state.items()
                                                     if k not in ('history', 'run')})).encode())
            found['history'] = without_seconds(state['history'])
            found['run'] = plain(state['run'])
    elif path.name == 'metrics.jsonl':
        found['rows'] = without_seconds([json.loads(line) for line in data.decode().splitlines()])
    return found


NUMBERS = re.compile(r'\d+(\.\d+)?(e[+-]?\d+)?')
CACHE = re.compile(r'-[0-9a-f]{16}\.npz')  # a picture folder's cache is named by the folder's place


def normal(text, folder):
    """Lines without what changes from run to run: the scratch folder, where ../shared is, the seconds an epoch
    took, free memory."""
    lines = []
    text = text.replace(str(folder), '<tmp>').replace(str(SHARED_WEIGHTS.parents[1]), '<shared>')
    for line in text.replace(str(REPO), '<repo>').splitlines():
        line = CACHE.sub('-<place>.npz', re.sub(r'Time\(s\): [\d.]+', 'Time(s): <s>', line))
        if ' GB' in line:  # what is free on this machine, and so what would fit
            line = NUMBERS.sub('<n>', line)
        lines.append(line)
    return lines


def files_of(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob('*')) if p.is_file()}


@contextlib.contextmanager
def stop_after_first_epoch():
    """SIGTERM to this process once the first epoch has trained, as SLURM sends before a time limit: the run saves
    where it is at the next step and stops (a spy on the trainer's epoch, as tests/torchrun_cli.py uses)."""
    import colorlib.train
    real = colorlib.train.train_epoch
    calls = []

    def epoch_then_stop(*args, **kwargs):
        loss = real(*args, **kwargs)
        calls.append(1)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGTERM)
        return loss
    colorlib.train.train_epoch = epoch_then_stop
    try:
        yield
    finally:
        colorlib.train.train_epoch = real


def run_step(argv, folder, before=None):
    """One command in-process (under torchrun with 2 CPU processes where `before` says so): (exit status, stdout,
    stderr)."""
    if before == 'torchrun':
        import subprocess
        env = {**os.environ, 'PYTHONPATH': str(REPO), 'OMP_NUM_THREADS': '1'}
        done = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2',
                               '-m', 'colorlib', *argv], cwd=folder, env=env, capture_output=True, text=True)
        return done.returncode, done.stdout, done.stderr
    from colorlib.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            (stop_after_first_epoch() if before == 'stop_after_first_epoch' else contextlib.nullcontext()):
        try:
            main(argv)
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    return code, out.getvalue(), err.getvalue()


def machine():
    from colorlib.machine import cpu_name
    return f'{platform.machine()} {cpu_name()}, torch {torch.__version__}'


def run_all(steps=STEPS):
    """{'machine': ..., 'steps': {name: {'argv', 'status', 'stdout', 'stderr', 'files'}}} of every step."""
    torch.set_num_threads(1)
    os.environ.setdefault('MPLBACKEND', 'Agg')
    record = {'machine': machine(), 'steps': {}}
    start = os.getcwd()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch).resolve()
        make_inputs(folder)
        os.chdir(folder)
        try:
            for name, argv, before in steps:
                seen = files_of(folder)
                status, out, err = run_step(argv, folder, before)
                now = files_of(folder)
                written = {CACHE.sub('-<place>.npz', path): describe_file(folder / path)
                           for path, data in now.items() if seen.get(path) != data}
                gone = sorted(set(seen) - set(now))
                shown = [arg.replace(str(SHARED_WEIGHTS.parents[1]), '<shared>') for arg in argv]
                record['steps'][name] = {'argv': shown, 'status': status, 'stdout': normal(out, folder),
                                         'stderr': normal(err, folder), 'files': written,
                                         **({'removed': gone} if gone else {})}
        finally:
            os.chdir(start)
    return record


TIMED = ('metrics.jsonl', 'resume.pt')  # files that hold the seconds an epoch took: their bytes differ run to run


def differences(before, now):
    """What differs between two records, as lines '<step>: <what>'; figures and file contents only where both
    records come from the same machine."""
    same_machine = before['machine'] == now['machine']
    found = []
    for name, was in before['steps'].items():
        if name not in now['steps']:
            found.append(f'{name}: not run now')
            continue
        is_ = now['steps'][name]
        for key in ('status', 'stderr', 'removed') + (('stdout',) if same_machine else ()):
            if was.get(key) != is_.get(key):
                found.append(f'{name}: {key} was {was.get(key)!r}, is {is_.get(key)!r}')
        if sorted(was['files']) != sorted(is_['files']):
            found.append(f'{name}: wrote {sorted(was["files"])}, now {sorted(is_["files"])}')
            continue
        for path, parts in was['files'].items():
            for part, value in parts.items():
                if (part == 'bytes' and path.endswith(TIMED)) or (not same_machine and part != 'about'):
                    continue
                if is_['files'][path].get(part) != value:
                    found.append(f'{name}: {path} {part} was {value!r}, is {is_["files"][path].get(part)!r}')
    return found


if __name__ == '__main__':
    if len(sys.argv) != 3 or sys.argv[1] not in ('record', 'run'):
        sys.exit(__doc__)
    sys.path.insert(0, str(REPO))
    result = run_all()
    Path(sys.argv[2]).write_text(json.dumps(result, indent=1, sort_keys=True) + '\n')
