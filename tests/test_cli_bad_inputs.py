"""Bad and odd inputs through the real commands, by category: each is refused with one line on stderr (exit status
2; 1 only where colorize skipped a file and did the rest), no traceback, and every file that was there before is
byte for byte as it was. The cases that used to lose data, hang or end in a traceback come first."""
import io
import json
import math
import os
import resource
import signal
import stat
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from colorlib.checkpoints import read_resumable, read_weights, save_resumable, save_weights
from colorlib.cli.activations import main as activations
from colorlib.cli.colorization import main as colorization, main_regression as color_regression
from colorlib.cli.colorize import main as colorize
from colorlib.cli.remake import main_bins, main_colours
from colorlib.files import held, write_pair
from colorlib.memory import available_memory
from colorlib.models import ModelConfig, build_model
from colorlib.shipped import DEFAULT_COLOURS
from conftest import call, smooth_rgb, snapshot, write_horses_npz

REPO = Path(__file__).resolve().parents[1]
COLOURS = str(DEFAULT_COLOURS)
SMALL = ['--model', 'CNN', '-f', '4', '-b', '50', '-e', '1', '--device', 'cpu']  # a run of a second or two


@pytest.fixture
def work(tmp_path, monkeypatch, horses):
    """cwd = an empty folder with tiny horse data (data.npz), a checkpoint of the SMALL model (mine.pkl), a picture
    (a.png) and a plain file (afile)."""
    monkeypatch.chdir(tmp_path)
    write_horses_npz(tmp_path / 'data.npz', horses, 100, 20)
    torch.manual_seed(0)
    save_weights(build_model(ModelConfig('CNN', 3, 4, 24)), tmp_path / 'mine.pkl')
    Image.fromarray(smooth_rgb(16, 20)).save(tmp_path / 'a.png')
    (tmp_path / 'afile').write_text('a plain file')
    return tmp_path


def refused(command, argv, capsys, root, words, code=2, new_files_ok=False, absent=()):
    """Run a command in-process; assert the one-line refusal (with `words`, without `absent`) and that nothing that
    was there changed."""
    before = snapshot(root)
    status, out, err = call(command, argv, capsys)
    assert status == code, (status, out, err)
    assert len(err.strip().splitlines()) == 1 and 'Traceback' not in out + err, err
    for word in words:
        assert word in err, (word, err)
    for word in absent:
        assert word not in err, (word, err)
    after = snapshot(root)
    assert {p: after.get(p) for p in before} == before  # what was there is untouched
    if not new_files_ok:
        assert after.keys() == before.keys(), sorted(set(after) - set(before))
    return err


def run_script(script, argv, cwd, timeout=60, limit_file_size=None, **kwargs):
    """The real script in a subprocess (for what could hang, or needs a small file-size limit: a full disk)."""
    def limit():
        # Ctrl-C reaches the command as at a terminal, however the tests were started (a shell's background job,
        # e.g. `pytest &`, ignores SIGINT, and a child would inherit that)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if limit_file_size:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG, like a full disk
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_size, limit_file_size))
    env = {**os.environ, 'PYTHONPATH': str(REPO), 'OMP_NUM_THREADS': '1'}
    return subprocess.Popen([sys.executable, '-u', str(REPO / script), *argv], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=limit, **kwargs)


def assert_one_line(proc, code, words, timeout=120, root=None, before=None):
    """A subprocess's one-line refusal; with `root` and its snapshot `before`, also that nothing there changed."""
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == code, (proc.returncode, out, err)
    assert len(err.strip().splitlines()) == 1 and 'Traceback' not in out + err, err
    for word in words:
        assert word in err, (word, err)
    if root is not None:
        after = snapshot(root)
        assert {p: after.get(p) for p in before} == before
    return out, err

# -----------------------------------------------------------------------------
# data lost before: an existing checkpoint, an input, an experiment's state, colorize's own inputs


def test_training_never_replaces_an_existing_checkpoint_unless_told(work, capsys):
    argv = SMALL + ['--data', 'data.npz', '--checkpoint', 'mine.pkl']
    refused(colorization, argv, capsys, work, ['--checkpoint', 'mine.pkl', 'exists', '--overwrite'])
    old = read_weights('mine.pkl')
    code, out, err = call(colorization, argv + ['--overwrite'], capsys)
    assert code == 0, err
    assert not all(torch.equal(old[k], v) for k, v in read_weights('mine.pkl').items())


@pytest.mark.parametrize('checkpoint', ['data.npz', 'colours.npy'])
def test_training_never_writes_over_an_input_even_with_overwrite(checkpoint, work, capsys):
    (work / 'colours.npy').write_bytes(Path(COLOURS).read_bytes())
    argv = SMALL + ['--data', 'data.npz', '-c', 'colours.npy', '--checkpoint', checkpoint, '--overwrite']
    refused(colorization, argv, capsys, work, ['--checkpoint', checkpoint, 'input of this run'])


def test_training_never_writes_over_what_it_reads_without_naming_it(work, capsys):
    """The shipped colour file a run reads when -c is not given, and the pictures of a --data folder, are inputs too."""
    shipped = Path(COLOURS).read_bytes()
    refused(colorization, SMALL + ['--data', 'data.npz', '--checkpoint', COLOURS, '--overwrite'], capsys, work,
            ['--checkpoint', 'colour_kmeans24_cat7.npy', 'colorlib ships', 'copy it first'])  # shipped: never written
    assert Path(COLOURS).read_bytes() == shipped
    (work / 'pics').mkdir()
    for i in range(4):
        Image.fromarray(smooth_rgb(36, 40, seed=i)).save(work / 'pics' / f'p{i}.png')
    refused(colorization, SMALL + ['--data', 'pics', '-c', COLOURS, '--checkpoint', 'pics/p0.png', '--overwrite'],
            capsys, work, ['--checkpoint', 'p0.png', 'input of this run'], new_files_ok=True)  # the data cache


@pytest.mark.parametrize('pixel, flags, words', [
    ((200, 40, 40), [], ['the images hold 1 distinct colour(s)']),
    ((90, 90, 90), ['--colour-space', 'lab'], ['the images use 1 cell(s) of the ab grid']),
], ids=['one-colour', 'grey-for-lab'])
def test_pictures_whose_colours_cannot_be_fitted_are_named_by_data(pixel, flags, words, work, capsys):
    (work / 'flat').mkdir()
    for i in range(4):
        Image.fromarray(np.full((32, 32, 3), pixel, np.uint8)).save(work / 'flat' / f'p{i}.png')
    err = refused(colorization, SMALL + ['--data', 'flat'] + flags, capsys, work, words, new_files_ok=True)
    assert err.startswith('colorization.py: error: --data: '), err


def test_a_folder_that_holds_files_of_a_runs_names_is_not_written_over(work, capsys):
    (work / 'outputs' / 'mine').mkdir(parents=True)
    Image.fromarray(smooth_rgb(8, 8)).save(work / 'outputs' / 'mine' / 'samples.png')  # the user's own picture
    refused(colorization, SMALL + ['--data', 'data.npz', '--experiment-name', 'mine'], capsys, work,
            ['--experiment-name', 'samples.png', 'exists', '--overwrite'])


def test_the_checkpoint_is_not_one_of_the_runs_own_files(work, capsys):
    refused(colorization, SMALL + ['--data', 'data.npz', '--experiment-name', 'exp', '--checkpoint',
                                   'outputs/exp/resume.pt'], capsys, work, ['--checkpoint', 'resume.pt', 'keeps'])


@pytest.mark.parametrize('damage, words', [
    (lambda exp: (exp / 'resume.pt').write_bytes(b'not a training state'), ['cannot be resumed', '--overwrite']),
    (lambda exp: (exp / 'metrics.jsonl').write_bytes(b'\xff\xfe\x00 not text\n'), ['1 epoch', '--overwrite']),
], ids=['garbage-resume-state', 'metrics-not-text'])
def test_a_damaged_run_in_an_experiment_folder_is_one_line(damage, words, work, capsys):
    argv = SMALL + ['--data', 'data.npz', '--experiment-name', 'exp']
    (work / 'outputs' / 'exp').mkdir(parents=True)
    damage(work / 'outputs' / 'exp')
    refused(colorization, argv, capsys, work, ['--experiment-name', 'holds a run'] + words)


def test_a_second_run_in_an_experiment_folder_is_refused_until_resumed_or_overwritten(work, capsys):
    argv = SMALL + ['--data', 'data.npz', '--experiment-name', 'exp']
    assert call(colorization, argv, capsys)[0] == 0
    refused(colorization, argv, capsys, work, ['--experiment-name', 'exp', '1 epoch', '--resume', '--overwrite'])
    assert call(colorization, argv[:-6] + ['-e', '2', '--data', 'data.npz', '--experiment-name', 'exp', '--resume'],
                capsys)[0] == 0
    assert read_resumable('outputs/exp/resume.pt')['epoch'] == 2
    assert call(colorization, argv + ['--overwrite'], capsys)[0] == 0
    assert read_resumable('outputs/exp/resume.pt')['epoch'] == 1


def test_colorize_never_replaces_an_input(work, capsys):
    Image.fromarray(smooth_rgb(8, 8, seed=1)).save(work / 'a_colorized.png')  # a user's own file of that name
    refused(colorize, ['.', '-o', '.'], capsys, work, ['-o/--out-dir', 'a_colorized.png', 'input'])

# -----------------------------------------------------------------------------
# output places that cannot be written: found before the first step


@pytest.mark.parametrize('flags, words', [
    (['--checkpoint', 'afile/w.pkl'], ['--checkpoint', 'afile', 'not a folder']),
    (['--checkpoint', 'afile/deeper/w.pkl'], ['--checkpoint', 'afile', 'not a folder']),
    (['--experiment-name', 'afile'], ['--experiment-name', 'afile']),
], ids=['checkpoint-under-a-file', 'checkpoint-deeper-under-a-file', 'experiment-folder-is-a-file'])
def test_unwritable_output_places_are_refused_before_training(flags, words, work, capsys):
    (work / 'outputs').mkdir()
    (work / 'outputs' / 'afile').write_text('a plain file where the experiment folder would be')
    refused(colorization, SMALL + ['--data', 'data.npz'] + flags, capsys, work, words)


@pytest.mark.skipif(os.geteuid() == 0, reason='root writes into read-only folders anyway')
def test_a_read_only_folder_is_refused_before_training(work, capsys):
    (work / 'ro').mkdir()
    (work / 'ro').chmod(0o555)
    try:
        refused(colorization, SMALL + ['--data', 'data.npz', '--checkpoint', 'ro/w.pkl'], capsys, work,
                ['--checkpoint', 'ro/w.pkl'])
    finally:
        (work / 'ro').chmod(0o755)


def test_colorize_output_folder_under_a_file_is_refused(work, capsys):
    refused(colorize, ['a.png', '--checkpoint', 'mine.pkl', '--model', 'CNN', '-f', '4', '-o', 'afile/out'], capsys,
            work, ['-o/--out-dir', 'afile', 'not a folder'])


def test_a_full_disk_while_saving_is_one_line_and_keeps_the_old_state(work):
    """A file-size limit makes every write past 20 kB fail as a full disk does; the resume.pt already there (from a
    run of the same folder) must survive the failed save, and no temp file may be left."""
    argv = SMALL + ['--data', 'data.npz', '--experiment-name', 'exp']
    assert run_script('colorization.py', argv, work).wait(timeout=120) == 0
    old = (work / 'outputs' / 'exp' / 'resume.pt').read_bytes()
    assert len(old) > 20_000
    before = snapshot(work)
    proc = run_script('colorization.py', argv + ['--overwrite'], work, limit_file_size=20_000)
    assert_one_line(proc, 2, ['--experiment-name', 'resume.pt', 'cannot write', 'kept'])
    after = snapshot(work)  # --overwrite lets the run rewrite its own log and pictures, nothing else
    assert {p: v for p, v in after.items() if p.parts[0] != 'outputs'} == {
        p: v for p, v in before.items() if p.parts[0] != 'outputs'}
    assert (work / 'outputs' / 'exp' / 'resume.pt').read_bytes() == old
    assert not list((work / 'outputs' / 'exp').glob('.*.tmp'))


@pytest.mark.parametrize('again, limit, lost, words', [
    ('--overwrite', 40_000, 'resume.pt', ['--experiment-name']),
    ('--resume', 100_000, 'weights.pkl', ['--checkpoint', 'the trained model is in', 'resume.pt'])])
def test_a_full_disk_within_torch_save_is_one_line_and_keeps_the_old_file(again, limit, lost, words, work):
    """With 32 filters the tensors outgrow the file's buffer, so torch.save wrote them to the file itself and turned
    the full disk into its own RuntimeError ('unexpected pos'), a traceback. Resuming the finished run trains no more
    and writes no resume.pt, so its weights meet the full disk after its pictures (under 100 kB) were written."""
    argv = [*SMALL[:2], '-f', '32', *SMALL[4:], '--data', 'data.npz', '--experiment-name', 'exp']
    assert run_script('colorization.py', argv, work).wait(timeout=120) == 0
    folder = work / 'outputs' / 'exp'
    old = {name: (folder / name).read_bytes() for name in ('resume.pt', 'weights.pkl')}
    assert len(old[lost]) > limit
    proc = run_script('colorization.py', argv + [again], work, limit_file_size=limit)
    assert_one_line(proc, 2, [*words, f'cannot write outputs/exp/{lost}', 'kept'])
    assert {name: (folder / name).read_bytes() for name in old} == old
    assert not list(folder.glob('.*.tmp'))


def test_sigterm_while_the_disk_is_full_is_one_line(work):
    argv = SMALL + ['--data', 'data.npz', '-e', '50', '--save-every', '100']  # no save before the signal
    proc = run_script('colorization.py', argv, work, limit_file_size=20_000)
    assert proc.stdout.readline().startswith('precision: ')  # the first line of training says it (issue 23)
    assert proc.stdout.readline().startswith('Epoch [1/50]')
    proc.send_signal(signal.SIGTERM)
    assert_one_line(proc, 2, ['stopped by SIGTERM', 'cannot write', 'resume.pt'])

SIGTERM_MID_WRITE = """
import os, signal, sys
from PIL import Image
def save(self, f, *args, **kwargs):  # half a picture written, then the signal, as from `kill` or a scheduler
    f.write(b'half a picture')
    os.kill(os.getpid(), signal.SIGTERM)
Image.Image.save = save
from colorlib.cli.colorize import main
main(sys.argv[1:])
"""


def test_sigterm_while_colorize_writes_is_one_line_and_leaves_no_temp_file(work):
    """The signal used to kill the command mid-write, leaving a hidden .a_colorized.png.*.tmp beside its output."""
    (work / 'out').mkdir()
    (work / 'out' / 'a_colorized.png').write_bytes(b'an earlier result')
    before = snapshot(work)
    proc = subprocess.run([sys.executable, '-c', SIGTERM_MID_WRITE, 'a.png', '--checkpoint', 'mine.pkl', '--model',
                           'CNN', '-f', '4', '-o', 'out'], cwd=work, capture_output=True, text=True, timeout=120,
                          env={**os.environ, 'PYTHONPATH': str(REPO), 'OMP_NUM_THREADS': '1'})
    assert proc.returncode == 128 + signal.SIGTERM, (proc.returncode, proc.stderr)
    assert proc.stderr.strip() == 'colorize.py: stopped by SIGTERM'
    assert snapshot(work) == before  # the earlier result kept, no temp file


# -----------------------------------------------------------------------------
# inputs that used to end in a traceback, a hang, or garbage accepted


def write_npz(path, train_x, test_x):
    np.savez(path, train_x=train_x, train_y=np.full(len(train_x), 7), test_x=test_x, test_y=np.full(len(test_x), 7))


def absurd_npz(path):
    """An .npz whose train_x header claims 10**12 images: numpy would try to allocate them."""
    write_npz(path, np.zeros((4, 32, 32, 3), np.uint8), np.zeros((2, 32, 32, 3), np.uint8))
    import zipfile
    with zipfile.ZipFile(path) as z:
        members = {name: z.read(name) for name in z.namelist()}
    members['train_x.npy'] = members['train_x.npy'].replace(b"(4, 32, 32, 3)", b"(1000000000000, 32, 32, 3)", 1)
    with zipfile.ZipFile(path, 'w') as z:
        for name, data in members.items():
            z.writestr(name, data)


DATA_CASES = [
    ('31x31', lambda p: write_npz(p, np.zeros((4, 31, 31, 3), np.uint8), np.zeros((2, 31, 31, 3), np.uint8)),
     ['31x31', 'multiples of 4']),
    ('2x2', lambda p: write_npz(p, np.zeros((4, 2, 2, 3), np.uint8), np.zeros((2, 2, 2, 3), np.uint8)), ['2x2']),
    ('4x4', lambda p: write_npz(p, np.zeros((4, 4, 4, 3), np.uint8), np.zeros((2, 4, 4, 3), np.uint8)),
     ['4x4', 'at least 8']),  # one value per channel after the pooling: BatchNorm fails on a batch of one
    ('channels-first', lambda p: write_npz(p, np.zeros((4, 3, 32, 3), np.uint8), np.zeros((2, 3, 32, 3), np.uint8)),
     ['3x32']),
    ('absurd-header', absurd_npz, ['train_x', 'claims shape', 'holds only']),
]


@pytest.mark.parametrize('name, make, words', DATA_CASES, ids=[c[0] for c in DATA_CASES])
def test_data_the_models_cannot_take(name, make, words, work, capsys):
    make(work / 'bad.npz')
    refused(colorization, SMALL + ['--data', 'bad.npz'], capsys, work, ['--data', 'bad.npz'] + words)


ODD_CENTRES = {'nan': np.full((3, 3), np.nan), 'beyond-float32': np.array([[0.1, 0.2, 0.3], [1e39, 0, 0]]),
               'twice': np.array([[0.1, 0.2, 0.3], [0.5, 0.5, 0.5], [0.1, 0.2, 0.3]]),
               'outside-0-1': np.array([[0.1, 0.2, 0.3], [2.0, 0.5, 0.5]])}


@pytest.mark.parametrize('k, words', [(0, ['0 colour(s)']), (1, ['1 colour(s)']), ('nan', ['non-finite']),
                                      ('beyond-float32', ['non-finite']), ('twice', ['same colour twice']),
                                      ('outside-0-1', ['outside [0, 1]'])])
def test_degenerate_colour_files(k, words, work, capsys):
    centres = ODD_CENTRES[k] if k in ODD_CENTRES else np.random.default_rng(0).random((k, 3))
    write_pair(work / 'c.npy', centres, 0.0)
    refused(colorization, SMALL + ['--data', 'data.npz', '-c', 'c.npy'], capsys, work, ['-c/--colours', 'c.npy'] + words)
    refused(colorize, ['a.png', '--checkpoint', 'mine.pkl', '--model', 'CNN', '-f', '4', '-c', 'c.npy'], capsys, work,
            ['-c/--colours', 'c.npy'])


@pytest.mark.parametrize('bins, prior, flags, words', [
    (np.zeros((0, 2)), np.zeros(0), [], ['--bins', '0 bin(s)']),
    (np.array([[0., 0], [10, 0], [0, 10]]), np.array([0.5, 0.5, 0.0]), ['--rebalance', '0'], ['--rebalance', 'prior is 0']),
    (np.array([[0., 0], [10, 0]]), np.array([np.nan, 1.0]), [], ['--bins', 'non-finite']),
    (np.array([[0., 0], [1e39, 0]]), np.array([0.5, 0.5]), [], ['--bins', 'non-finite']),
    (np.array([[0., 0], [10, 0], [0., 0]]), np.array([0.5, 0.25, 0.25]), [], ['--bins', 'same bin twice']),
], ids=['no-bins', 'zero-prior-rebalanced', 'nan-prior', 'beyond-float32', 'twice'])
def test_degenerate_bins_files(bins, prior, flags, words, work, capsys):
    write_pair(work / 'b.npy', bins, prior)
    argv = SMALL + ['--data', 'data.npz', '--colour-space', 'lab', '--bins', 'b.npy'] + flags
    refused(colorization, argv, capsys, work, words)


@pytest.mark.parametrize('flags, words', [
    (['-f', '1000000'], ['-f/-k', '1000000 filters', 'GB', 'would fit']),
    (['-k', '100001'], ['-f/-k', '100001x100001', '-k ', 'would fit']),
    (['-f', '99999999999'], ['-f/-k', '99999999999 filters', '-f ', 'would fit']),  # past what torch can count
], ids=['filters', 'kernel', 'filters-past-counting'])
def test_models_too_big_for_memory_say_what_fits(flags, words, work, capsys):
    refused(colorization, ['--model', 'UNet', '--data', 'data.npz'] + flags, capsys, work, words)
    # --valid does not train: sizes that no shipped file has are no file to evaluate, and nothing is said of training
    refused(colorization, ['--model', 'UNet', '--data', 'data.npz', '--valid'] + flags, capsys, work,
            ['--checkpoint', 'no shipped weights'], absent=['train', 'would fit'])


def test_a_dilation_too_wide_for_memory_says_what_fits(work, capsys):
    """The spread-out middle filter is built at every step: dilation 100000 would spread a 3x3 over 200,003 pixels."""
    refused(colorization, ['--model', 'DUNet', '--data', 'data.npz', '--dilation', '100000'], capsys, work,
            ['-f/-k/--dilation', '(dilation 100000)', '--dilation ', 'would fit'])


def test_a_learning_rate_past_float32_is_refused_before_training(work, capsys):
    refused(colorization, SMALL + ['--data', 'data.npz', '-l', '1e39'], capsys, work, ['-l', 'learn_rate', '3.4e+38'])


@pytest.mark.parametrize('part', ['run', 'rng', 'epoch', 'position', 'history', 'scheduler'])
def test_a_resume_state_missing_a_part(part, work, capsys):
    argv = SMALL + ['--data', 'data.npz', '--experiment-name', 'exp']
    assert call(colorization, argv, capsys)[0] == 0
    state = read_resumable('outputs/exp/resume.pt')
    del state[part]
    save_resumable(state, 'outputs/exp/resume.pt', replace=True)
    refused(colorization, argv[:-8] + ['-e', '2', '-f', '4', '--data', 'data.npz', '--experiment-name', 'exp',
                                       '--resume'], capsys, work, ['--resume', 'resume.pt', f'lacks {part}'])


@pytest.mark.parametrize('device', ['fifo', '/dev/zero', '/dev/urandom'])
def test_data_that_never_ends_is_refused_at_once(device, work):
    path = device
    if device == 'fifo':
        os.mkfifo(work / 'fifo')
    before = snapshot(work)
    proc = run_script('colorization.py', SMALL + ['--data', path], work)
    assert_one_line(proc, 2, ['--data', path, 'neither a regular file nor a folder'], timeout=60, root=work,
                    before=before)


@pytest.mark.parametrize('flag', ['-c', '--checkpoint', '--init'])
def test_a_fifo_for_any_file_flag_is_refused_at_once(flag, work):
    os.mkfifo(work / 'fifo')
    argv = SMALL + ['--data', 'data.npz', flag, 'fifo'] + (['--valid'] if flag == '--checkpoint' else [])
    before = snapshot(work)
    assert_one_line(run_script('colorization.py', argv, work), 2, [flag, 'fifo', 'not a regular file'], timeout=60,
                    root=work, before=before)


@pytest.mark.parametrize('device', ['fifo', '/dev/zero', '/dev/urandom'])
def test_colorize_skips_what_never_ends_and_does_the_rest(device, work):
    if device == 'fifo':
        os.mkfifo(work / 'fifo')
    before = snapshot(work)
    proc = run_script('colorize.py', [device, 'a.png', '--checkpoint', 'mine.pkl', '--model', 'CNN', '-f', '4'], work)
    out, err = assert_one_line(proc, 1, ['skipped', device, 'not a regular file'], timeout=60, root=work, before=before)
    assert '1 of 2 images' in out and (work / 'outputs' / 'colorized' / 'a_colorized.png').is_file()


@pytest.mark.parametrize('value', ['nan', 'inf'])
def test_non_finite_weights_are_refused(value, work, capsys):
    state = read_weights('mine.pkl')
    state['rfconv.0.weight'][0, 0, 0, 0] = float(value)
    torch.save(state, work / 'bad.pkl')
    words = ['--checkpoint', 'bad.pkl', 'non-finite']
    refused(colorization, ['--model', 'CNN', '-f', '4', '--data', 'data.npz', '--valid', '--checkpoint', 'bad.pkl'],
            capsys, work, words)
    refused(colorize, ['a.png', '--model', 'CNN', '-f', '4', '--checkpoint', 'bad.pkl'], capsys, work, words)
    refused(activations, ['0', '--model', 'CNN', '-f', '4', '--data', 'data.npz', '--checkpoint', 'bad.pkl'], capsys,
            work, words)


def test_a_loss_gone_non_finite_stops_training_keeping_the_last_good_state(work, capsys):
    argv = SMALL + ['--data', 'data.npz', '--experiment-name', 'exp']
    assert call(colorization, argv, capsys)[0] == 0
    good = (work / 'outputs' / 'exp' / 'resume.pt').read_bytes()
    # a resumed run keeps its recipe: another learning rate is refused before anything is touched
    refused(colorization, argv[:-8] + ['-e', '3', '-f', '4', '--data', 'data.npz', '--experiment-name', 'exp',
                                       '--resume', '-l', '1e30'], capsys, work, ['--resume', '-l 0.001', '-l 1e+30'])
    refused(colorization, SMALL + ['--data', 'data.npz', '--experiment-name', 'nan', '-e', '3', '-l', '1e30'], capsys,
            work, ['-l/--learn-rate', 'epoch 1', 'step ', 'not finite'], new_files_ok=True)
    assert not (work / 'outputs' / 'nan' / 'resume.pt').exists() and not (work / 'outputs' / 'nan' / 'weights.pkl').exists()
    assert (work / 'outputs' / 'exp' / 'resume.pt').read_bytes() == good


def test_a_run_that_saved_nothing_can_be_started_again_as_it_was(work, capsys):
    """A first epoch gone non-finite leaves no log behind that would make the same command a run to resume."""
    argv = SMALL + ['--data', 'data.npz', '--experiment-name', 'again']
    refused(colorization, argv + ['-l', '1e30'], capsys, work, ['not finite'], new_files_ok=True)
    assert not (work / 'outputs' / 'again' / 'metrics.jsonl').exists()
    code, _, err = call(colorization, argv, capsys)
    assert code == 0, err

# -----------------------------------------------------------------------------
# --resume covers every input that defines the run


@pytest.mark.parametrize('change, words', [
    (lambda work: ['-c', 'other.npy'], ['-c/--colours']),
    (lambda work: ['--data', 'other.npz'], ['training data']),
    (lambda work: ['--data', 'swapped.npz'], ['training data']),
], ids=['other-colours-same-k', 'other-data-same-size', 'other-colours-same-grey'])
def test_resume_refuses_another_run(change, words, work, horses, capsys):
    rng = np.random.default_rng(1)
    write_pair(work / 'other.npy', rng.random((24, 3)), 0.1)
    train_x, test_x = horses
    write_npz(work / 'other.npz', 255 - train_x[:100], test_x[:20])
    write_npz(work / 'swapped.npz', train_x[:100, :, :, ::-1], test_x[:20])  # red and blue swapped: the same grey
    argv = SMALL + ['--data', 'data.npz', '-e', '2', '--experiment-name', 'exp']
    assert call(colorization, argv[:-4] + ['-e', '1', '--experiment-name', 'exp'], capsys)[0] == 0
    refused(colorization, argv + ['--resume'] + change(work), capsys, work, ['--resume'] + words)


def test_resume_replaces_the_runs_own_files_but_no_other_checkpoint(work, capsys):
    """--resume names the run's folder for replacing, not a --checkpoint elsewhere (another run's, or one kept
    because it appeared while this run trained): that still needs --overwrite."""
    argv = SMALL + ['--data', 'data.npz', '-e', '2', '--experiment-name', 'exp']
    assert call(colorization, argv[:-4] + ['-e', '1', '--experiment-name', 'exp'], capsys)[0] == 0
    refused(colorization, argv + ['--resume', '--checkpoint', 'mine.pkl'], capsys, work,
            ['--checkpoint', 'mine.pkl exists', '--overwrite'])
    own = work / 'outputs' / 'exp' / 'weights.pkl'
    before = own.read_bytes()
    code, out, err = call(colorization, argv + ['--resume'], capsys)
    assert code == 0 and f'Weights saved to {Path("outputs", "exp", "weights.pkl")}' in out, err
    assert own.read_bytes() != before and read_resumable(work / 'outputs' / 'exp' / 'resume.pt')['epoch'] == 2


def test_resume_may_change_the_precision(work, capsys):
    """--amp is how the arithmetic is done, not what is learned: a preempted run may come back on a node where
    --amp auto decides otherwise, or go on in float32 where bfloat16 turned out to be emulated."""
    argv = SMALL + ['--data', 'data.npz', '-e', '2', '--experiment-name', 'exp']
    assert call(colorization, argv[:-4] + ['-e', '1', '--experiment-name', 'exp', '--amp', 'on'], capsys)[0] == 0
    code, out, err = call(colorization, argv + ['--resume', '--amp', 'off'], capsys)
    assert code == 0, err
    assert out.splitlines()[0] == 'precision: float32 (bfloat16 autocast turned off)'
    state = read_resumable(work / 'outputs' / 'exp' / 'resume.pt')
    assert state['epoch'] == 2 and state['run']['amp'] is False  # the run records what ran last

# -----------------------------------------------------------------------------
# the usual mode for what is written


def test_written_files_get_the_usual_mode(work, capsys):
    umask = os.umask(0o022)
    try:
        assert call(colorization, SMALL + ['--data', 'data.npz', '--checkpoint', 'new.pkl'], capsys)[0] == 0
    finally:
        os.umask(umask)
    for path in [work / 'new.pkl', *(work / 'outputs').rglob('*.p*')]:
        assert path.stat().st_mode & 0o777 == 0o644, path

# -----------------------------------------------------------------------------
# the inputs that were already handled, by category: still one line, exit 2, nothing touched


CATEGORIES = [
    ('checkpoint-missing', colorization, ['--valid', '--checkpoint', 'missing.pkl'], ['--checkpoint', 'no such file']),
    ('checkpoint-garbage', colorization, ['--valid', '--checkpoint', 'afile'], ['--checkpoint', 'cannot read']),
    ('checkpoint-folder', colorization, ['--valid', '--checkpoint', 'outputs'], ['--checkpoint']),
    ('checkpoint-other-model', colorization, ['--valid', '--model', 'UNet', '--checkpoint', 'mine.pkl'],
     ['--checkpoint', 'mine.pkl']),
    ('colours-missing', colorization, ['-c', 'none.npy'], ['-c/--colours', 'no such file']),
    ('colours-garbage', colorization, ['-c', 'afile'], ['-c/--colours', 'not a colour file']),
    ('bins-missing', colorization, ['--colour-space', 'lab', '--bins', 'none.npy'], ['--bins', 'no such file']),
    ('data-missing', colorization, ['--data', 'none.npz'], ['--data', 'no such file']),
    ('data-garbage', colorization, ['--data', 'afile'], ['--data', 'afile']),
    ('category', colorization, ['--category', 'zebra'], ['--category', 'zebra']),
    ('flag-batch', colorization, ['-b', '0'], ['-b: batch_size']),
    ('flag-learn-rate', colorization, ['-l', 'nan'], ['-l: learn_rate']),
    ('flag-kernel', colorization, ['-k', '2'], ['-k: kernel 2', 'even']),
    ('flag-rebalance', colorization, ['--rebalance', '2'], ['--rebalance']),
    ('resume-nothing', colorization, ['--resume', '--experiment-name', 'none'], ['--resume', 'no such file']),
    ('regression-ce', color_regression, ['--valid', '--checkpoint', 'mine.pkl', '-f', '4'], ['--checkpoint']),
    ('activations-index', activations, ['20', '--checkpoint', 'mine.pkl', '--model', 'CNN', '-f', '4'],
     ['index', '20', 'out of range']),
    ('activations-weights-dir', activations, ['0', '--all', '--weights-dir', 'outputs'], ['--weights-dir']),
    ('colorize-no-images', colorize, ['outputs', '--checkpoint', 'mine.pkl', '--model', 'CNN', '-f', '4'],
     ['no image files']),
    ('colorize-tile', colorize, ['a.png', '--tile', '2'], ['--tile']),
    ('flag-epochs', colorization, ['-e', '0'], ['-e: epochs', 'at least 1']),
    ('flag-seed', colorization, ['-s', '-1'], ['-s: seed']),
    ('flag-filters', colorization, ['-f', '0'], ['-f: filters']),
    ('flag-augment', colorization, ['--augment', 'spin'], ['--augment', 'spin']),
    ('flag-warmup', colorization, ['--warmup', '-1'], ['--warmup']),
    ('flag-ema', colorization, ['--ema', '1'], ['--ema']),
    ('flag-weight-decay', colorization, ['--weight-decay', 'inf'], ['--weight-decay']),
    ('flag-save-every', colorization, ['--save-every', '0'], ['--save-every']),
    ('flag-val-share', colorization, ['--val-share', '1.5'], ['--val-share']),
    ('flag-recipe', colorization, ['--recipe', 'slow'], ['--recipe', 'slow']),
    ('flag-image-size-cifar', colorization, ['--image-size', '64'], ['--image-size', '32x32']),
    ('flag-temperature', colorization, ['--colour-space', 'lab', '--temperature', '-1'], ['--temperature']),
    ('flag-legacy-eval-training', colorization, ['--legacy-eval'], ['--legacy-eval', '--valid']),
    ('flag-tta-training', colorization, ['--tta'], ['--tta', '--valid']),
    ('flag-init-with-valid', colorization, ['--valid', '--init', 'mine.pkl', '--checkpoint', 'mine.pkl'], ['--init']),
    ('flag-lab-superres', colorization, ['--colour-space', 'lab', '--task', 'superres'], ['--colour-space lab']),
    ('flag-residual-colour', colorization, ['--residual', '--loss', 'mse'], ['--residual', '--task superres']),
    ('flag-residual-classes', colorization, ['--residual', '--task', 'superres'], ['--residual', '--loss mse']),
    ('flag-residual-lab', colorization, ['--residual', '--colour-space', 'lab'], ['--residual', '--task superres']),
    ('flag-extra-categories', colorization, ['--extra-categories', 'deer'], ['--extra-categories', 'deer']),
    ('flag-category-number', colorization, ['--category', '11'], ['--category', '11']),
    ('regression-label-smoothing', color_regression, ['--label-smoothing', '0.1'], ['--label-smoothing']),
    ('regression-lab', color_regression, ['--colour-space', 'lab'], ['unrecognized', '--colour-space']),
    ('resume-and-init', colorization, ['--resume', '--init', 'mine.pkl'], ['--init', '--resume']),
    ('activations-negative-index', activations, ['-1', '--checkpoint', 'mine.pkl', '--model', 'CNN', '-f', '4'],
     ['index: -1 is out of range', '(0-19)']),
    ('activations-all-and-checkpoint', activations, ['0', '--all', '--checkpoint', 'mine.pkl'], ['--all']),
    ('activations-other-model', activations, ['0', '--model', 'UNet', '--checkpoint', 'mine.pkl'], ['--checkpoint']),
    ('colorize-missing-checkpoint', colorize, ['a.png', '--checkpoint', 'none.pkl'], ['--checkpoint', 'no such file']),
    ('colorize-margin', colorize, ['a.png', '--margin', '-4'], ['--margin']),
    ('colorize-net-size', colorize, ['a.png', '--net-size', '0'], ['--net-size']),
    ('colorize-superres', colorize, ['a.png', '--task', 'superres'], ['unrecognized']),
]


@pytest.mark.parametrize('name, command, flags, words', CATEGORIES, ids=[c[0] for c in CATEGORIES])
def test_already_handled_inputs_stay_handled(name, command, flags, words, work, capsys):
    (work / 'outputs').mkdir()
    data = ['--data', 'data.npz'] if '--data' not in flags and command is not colorize else []
    refused(command, flags + data + (SMALL[2:4] if command is colorization and '-f' not in flags else []), capsys,
            work, words)

# -----------------------------------------------------------------------------
# issue 24, class by class: output places that are not regular files


def make_device(path):
    """A character device like /dev/null at `path` (os.mknod needs root, or CAP_MKNOD), else a skip."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip('os.mknod is not permitted here (not root)')


@pytest.mark.parametrize('kind', ['device', 'fifo', 'link-to-device'])
@pytest.mark.parametrize('overwrite', [[], ['--overwrite']], ids=['', 'overwrite'])
def test_an_output_place_that_is_not_a_regular_file_is_never_replaced(kind, overwrite, work, capsys):
    if kind == 'fifo':
        os.mkfifo(work / 'node')
    else:
        make_device(work / ('node' if kind == 'device' else 'dev'))
        if kind == 'link-to-device':
            os.symlink('dev', work / 'node')
    refused(colorization, SMALL + ['--data', 'data.npz', '--checkpoint', 'node'] + overwrite, capsys, work,
            ['--checkpoint', 'node', 'not a regular file'])
    assert not (work / 'node').is_file() and not (work / 'outputs').exists()


def test_colorize_never_replaces_a_fifo_where_it_writes(work, capsys):
    (work / 'out').mkdir()
    os.mkfifo(work / 'out' / 'a_colorized.png')
    refused(colorize, ['a.png', '--checkpoint', 'mine.pkl', '--model', 'CNN', '-f', '4', '-o', 'out'], capsys, work,
            ['-o/--out-dir', 'a_colorized.png', 'not a regular file'])
    assert stat.S_ISFIFO(os.stat(work / 'out' / 'a_colorized.png').st_mode)

# -----------------------------------------------------------------------------
# places checked when they are written, and held for the life of a run


@pytest.mark.parametrize('held_flag', ['--experiment-name', '--checkpoint'])
def test_a_place_another_run_holds_is_refused_at_once_naming_it(held_flag, work, capsys):
    """The test process holds the place as a run does (its own lock, so another process's); the command sees it."""
    place, folder = (work / 'outputs' / 'exp', True) if held_flag == '--experiment-name' else (work / 'new.pkl', False)
    with held(place, folder=folder):
        refused(colorization, SMALL + ['--data', 'data.npz', '--experiment-name', 'exp', '--checkpoint', 'new.pkl'],
                capsys, work, [held_flag, 'in use by another run', f'pid {os.getpid()}'])
    assert call(colorization, SMALL + ['--data', 'data.npz', '--experiment-name', 'exp', '--checkpoint', 'new.pkl'],
                capsys)[0] == 0  # let go: the place is free again, and no lock file is left
    assert not list(work.rglob('*.lock'))


@pytest.mark.parametrize('shared', ['experiment', 'checkpoint'])
def test_two_runs_started_together_on_one_place_one_runs_one_is_refused(shared, work):
    """Two real processes at once, on one experiment folder or one --checkpoint: one trains and saves, the other
    is refused with one line (at once, naming the first, or on finding its finished run); nothing is lost."""
    before = snapshot(work)
    argv = SMALL + ['--data', 'data.npz', '-e', '2', '--checkpoint', 'both.pkl']
    runs = [run_script('colorization.py', argv + ['--experiment-name', 'exp' if shared == 'experiment' else f'exp{i}'],
                       work) for i in range(2)]
    results = [(proc.returncode, out, err) for proc in runs for out, err in [proc.communicate(timeout=180)]]
    assert sorted(code for code, _, _ in results) == [0, 2], results
    (_, out, _), = [r for r in results if r[0] == 0]
    (_, _, err), = [r for r in results if r[0] == 2]
    assert len(err.strip().splitlines()) == 1 and 'Traceback' not in err, err
    assert ('in use by another run (pid' in err or 'holds a run' in err or 'exists' in err), err
    winner = 'exp' if shared == 'experiment' else next(f'exp{i}' for i, r in enumerate(results) if r[0] == 0)
    assert read_resumable(work / 'outputs' / winner / 'resume.pt')['epoch'] == 2
    assert len((work / 'outputs' / winner / 'metrics.jsonl').read_text().splitlines()) == 2
    assert read_weights(work / 'both.pkl') and 'Weights saved to both.pkl' in out
    after = snapshot(work)
    assert {p: after.get(p) for p in before} == before


def test_a_file_that_appears_at_the_checkpoint_while_training_is_kept(work):
    proc = run_script('colorization.py', SMALL + ['--data', 'data.npz', '-e', '6', '--experiment-name', 'exp',
                                                  '--checkpoint', 'late.pkl'], work)
    assert proc.stdout.readline().startswith('precision: ') and proc.stdout.readline().startswith('Epoch [1/6]')
    (work / 'late.pkl').write_bytes(b'written by someone else meanwhile')
    assert_one_line(proc, 2, ['--checkpoint', 'late.pkl', 'appeared', 'kept', 'resume.pt',
                              '--resume with another --checkpoint saves it'])
    assert (work / 'late.pkl').read_bytes() == b'written by someone else meanwhile'
    assert read_resumable(work / 'outputs' / 'exp' / 'resume.pt')['epoch'] == 6  # the trained model is not lost
    assert not list(work.glob('.*.tmp'))


def test_a_sample_grid_that_appears_while_training_is_kept_naming_the_experiment(work):
    proc = run_script('colorization.py', SMALL + ['--data', 'data.npz', '-e', '6', '--experiment-name', 'exp',
                                                  '--plot'], work)
    assert proc.stdout.readline().startswith('precision: ') and proc.stdout.readline().startswith('Epoch [1/6]')
    grid = work / 'outputs' / 'exp' / 'samples_epoch004.png'
    grid.write_bytes(b'drawn by someone else meanwhile')
    assert_one_line(proc, 2, ['--experiment-name', 'samples_epoch004.png', 'appeared', 'kept'])
    assert grid.read_bytes() == b'drawn by someone else meanwhile'


def wait_for_state(proc, path, timeout=120):
    """Read the run's epoch lines until its resume.pt is there (whole: it is renamed into place when written)."""
    deadline = time.monotonic() + timeout
    while not path.is_file():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.01)


def test_a_run_killed_with_sigkill_blocks_neither_resume_nor_a_new_run(work, capsys):
    argv = SMALL + ['--data', 'data.npz', '-e', '4', '--experiment-name', 'exp']
    proc = run_script('colorization.py', argv, work)
    wait_for_state(proc, work / 'outputs' / 'exp' / 'resume.pt')
    proc.kill()
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert (work / 'outputs' / 'exp' / '.lock').is_file()  # left behind, and blocking nobody
    assert call(colorization, argv + ['--resume'], capsys)[0] == 0
    assert read_resumable('outputs/exp/resume.pt')['epoch'] == 4 and read_weights('outputs/exp/weights.pkl')
    assert call(colorization, argv[:-2] + ['-e', '1', '--experiment-name', 'exp', '--overwrite'], capsys)[0] == 0


def test_ctrl_c_is_one_line_and_keeps_the_last_epochs_state(work):
    proc = run_script('colorization.py', SMALL + ['--data', 'data.npz', '-e', '50'], work)
    wait_for_state(proc, work / 'outputs' / 'cnn_k3_f4' / 'resume.pt')
    proc.send_signal(signal.SIGINT)
    assert_one_line(proc, 130, ['interrupted', 'resume.pt', '--resume'])
    assert read_resumable(work / 'outputs' / 'cnn_k3_f4' / 'resume.pt')['epoch'] >= 1

# -----------------------------------------------------------------------------
# no command writes over a file it reads


def test_activations_never_write_over_the_pictures_they_read(work, capsys):
    flags = ['0', '--model', 'CNN', '-f', '4', '--checkpoint', 'mine.pkl']
    assert call(activations, flags + ['--data', 'data.npz'], capsys)[0] == 0
    assert len(list((work / 'outputs' / 'CNN' / 'act0').glob('*.png'))) == 8
    refused(activations, flags + ['--data', 'outputs/CNN/act0'], capsys, work,
            ['outputs/CNN/act0/input.png', 'input of this run'], new_files_ok=True)  # the data cache only


def test_valid_never_writes_over_a_picture_it_reads(work, capsys):
    (work / 'outputs').mkdir()
    for i, name in enumerate(['eval_CNN.png', 'p1.png', 'p2.png', 'p3.png']):
        Image.fromarray(smooth_rgb(32, 32, seed=i)).save(work / 'outputs' / name)
    refused(colorization, ['--valid', '--model', 'CNN', '-f', '4', '--checkpoint', 'mine.pkl', '--data', 'outputs',
                           '-c', COLOURS], capsys, work, ['--valid', 'eval_CNN.png', 'input of this run'],
            new_files_ok=True)

# -----------------------------------------------------------------------------
# non-finite states: never kept, and what is kept loads


def test_a_state_gone_non_finite_stops_training_and_what_is_kept_loads(work, capsys):
    """At -l 6e7 BatchNorm's running variances overflow while the loss stays finite (epoch 2 here); -l 1e30 makes
    the loss itself NaN. Each stops the run with one line; metrics.jsonl stays strict JSON, and resume.pt, where
    one was kept, is finite and continues (to the same end)."""
    for rate, words in (('6e7', ['finite (NaN or infinity)']), ('1e30', ['not finite'])):
        argv = SMALL + ['--data', 'data.npz', '-e', '4', '-l', rate, '--experiment-name', rate]
        err = refused(colorization, argv, capsys, work, ['-l/--learn-rate', 'training stopped in epoch'] + words,
                      new_files_ok=True)
        exp = work / 'outputs' / rate
        log = exp / 'metrics.jsonl'  # none where the first epoch failed
        for line in log.read_text().splitlines() if log.exists() else []:
            assert all(math.isfinite(v) for v in json.loads(line, parse_constant=float).values() if v is not None)
            json.loads(line, parse_constant=lambda word: pytest.fail(f'{word} in metrics.jsonl'))
        assert not (exp / 'weights.pkl').exists()
        if 'last good state' in err:
            state = read_resumable(exp / 'resume.pt')
            assert state['epoch'] >= 1 and all(torch.isfinite(v).all() for v in state['model'].values()
                                               if v.is_floating_point())
            code, _, again = call(colorization, argv + ['--resume'], capsys)  # rewrites its own metrics.jsonl
            assert code == 2 and len(again.splitlines()) == 1 and 'training stopped in epoch' in again, again
            assert read_resumable(exp / 'resume.pt')['epoch'] == state['epoch']

# -----------------------------------------------------------------------------
# paths


LONG = 'x' * 300


@pytest.mark.parametrize('flags, words', [
    (['--experiment-name', '..'], ['--experiment-name', 'plain folder name']),
    (['--experiment-name', '../weights'], ['--experiment-name', 'plain folder name']),
    (['--experiment-name', ''], ['--experiment-name', 'plain folder name']),
    (['--experiment-name', LONG], ['--experiment-name', '300 bytes']),
    (['--data', ''], ['--data', 'not a path']),
    (['--checkpoint', 'newdir/'], ['--checkpoint', 'newdir/', 'names a folder']),
    (['--checkpoint', 'a_folder'], ['--checkpoint', 'a_folder', 'is a folder']),
    (['--checkpoint', LONG + '.pkl'], ['--checkpoint', '304 bytes long']),
    (['--checkpoint', 'outputs/' + LONG + '/w.pkl'], ['--checkpoint', '300 bytes long']),
    (['--data', LONG + '.npz'], ['--data', '304 bytes long']),
    (['-c', LONG + '.npy'], ['-c/--colours', '304 bytes long']),
], ids=['dot-dot', 'dot-dot-weights', 'empty-name', 'long-name', 'empty-data', 'checkpoint-slash',
        'checkpoint-folder', 'checkpoint-long', 'checkpoint-long-folder', 'data-long', 'colours-long'])
def test_paths_that_name_no_plain_place_are_refused(flags, words, work, capsys):
    (work / 'a_folder').mkdir()
    refused(colorization, SMALL + ['--data', 'data.npz'] + flags, capsys, work, words)


@pytest.mark.parametrize('bad, reason', [('loop', 'Too many levels of symbolic links'), (LONG + '.png', 'too long')],
                         ids=['symlink-loop', 'name-too-long'])
def test_colorize_skips_a_path_it_cannot_look_at_and_does_the_rest(bad, reason, work, capsys):
    if bad == 'loop':
        os.symlink('loop', work / 'loop')
    err = refused(colorize, [bad, 'a.png', '--checkpoint', 'mine.pkl', '--model', 'CNN', '-f', '4'], capsys, work,
                  ['skipped', reason], code=1, new_files_ok=True)
    assert err.startswith(f'colorize.py: skipped {bad}: ')
    assert (work / 'outputs' / 'colorized' / 'a_colorized.png').is_file()

# -----------------------------------------------------------------------------
# remakers write nothing the trainer refuses


def test_remakers_write_nothing_the_trainer_would_refuse(work, capsys):
    two = np.zeros((40, 32, 32, 3), np.uint8)
    two[:, :16] = (200, 30, 30)  # two distinct colours
    write_npz(work / 'two.npz', two, two[:10])
    grey = np.repeat(np.asarray(horse_pixels(work))[..., :1], 3, axis=3)
    write_npz(work / 'grey.npz', grey, grey[:10])
    refused(main_colours, ['-k', '4', '--data', 'two.npz', '-o', 'c'], capsys, work, ['-k', '2 distinct colour'])
    refused(main_colours, ['-k', '2', '100000', '--data', 'data.npz', '-o', 'c'], capsys, work,
            ['-k', '100000 colours are too many clusters for the data'])  # and -k 2 is not written either
    started = time.perf_counter()  # said before any k-means runs (it took minutes, then blamed a colour file)
    refused(main_colours, ['-k', '24', '10000', '--data', 'data.npz', '-o', 'c'], capsys, work,
            ['-k', '10000 colours are too many clusters for the data', 'at most'], absent=['outside'])
    assert time.perf_counter() - started < 30
    refused(main_bins, ['--data', 'grey.npz', '-o', 'c'], capsys, work, ['--data', '1 cell', 'at least 2'])
    assert call(main_colours, ['-k', '2', '--data', 'two.npz', '-o', 'c'], capsys)[0] == 0  # what it can take


def horse_pixels(work):
    with np.load(work / 'data.npz') as z:
        return z['train_x'][:40]

# -----------------------------------------------------------------------------
# memory: refused from the headers


def promising_npz(path, images):
    """An .npz whose train_x header and zip directory both promise `images` 32x32 colour images although the file
    holds only that header: a hand-made zip64 archive of stored members (what only reading it all would find out)."""
    def npy(array, shape=None):
        f = io.BytesIO()
        np.lib.format.write_array_header_1_0(f, {'descr': np.lib.format.dtype_to_descr(array.dtype),
                                                  'fortran_order': False, 'shape': shape or array.shape})
        return f.getvalue() + (b'' if shape else array.tobytes())
    small = np.zeros((2, 32, 32, 3), np.uint8)
    members = {'train_x.npy': (npy(small, (images, 32, 32, 3)), images * 32 * 32 * 3),
               'train_y.npy': (npy(np.full(2, 7)), 0), 'test_x.npy': (npy(small), 0),
               'test_y.npy': (npy(np.full(2, 7)), 0)}
    body, directory = b'', b''
    for name, (data, promised) in members.items():
        size, crc, offset = len(data) + promised, zlib.crc32(data), len(body)
        extra = struct.pack('<HHQQ', 1, 16, size, size)
        body += struct.pack('<IHHHHHIIIHH', 0x04034b50, 45, 0, 0, 0, 0x21, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(name),
                            len(extra)) + name.encode() + extra + data
        extra = struct.pack('<HHQQQ', 1, 24, size, size, offset)
        directory += struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 45, 45, 0, 0, 0, 0x21, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                                 len(name), len(extra), 0, 0, 0, 0, 0xFFFFFFFF) + name.encode() + extra
    end = struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, len(members), len(members), len(directory), len(body), 0)
    Path(path).write_bytes(body + directory + end)


def test_an_npz_promising_more_than_the_memory_is_refused_from_its_headers(work, capsys):
    images = 2 * available_memory(torch.device('cpu')) // (32 * 32 * 3)  # twice: free memory moves meanwhile
    promising_npz(work / 'huge.npz', images)
    refused(colorization, SMALL + ['--data', 'huge.npz'], capsys, work,
            ['--data', 'huge.npz', 'GB once decompressed', 'of memory free'])

# -----------------------------------------------------------------------------
# messages


def test_a_batch_larger_than_the_data_is_taken_as_the_data(work, capsys):
    code, out, err = call(colorization, SMALL + ['--data', 'data.npz', '-b', '100000', '-f', '64'], capsys)
    assert code == 0 and 'Weights saved' in out, err


def test_activations_into_a_place_that_cannot_be_written_is_refused_before_the_work(work, capsys):
    (work / 'outputs').mkdir()
    (work / 'outputs' / 'CNN').write_text('a file where the activations folder would be')
    err = refused(activations, ['0', '--model', 'CNN', '-f', '4', '--checkpoint', 'mine.pkl', '--data', 'data.npz'],
                  capsys, work, ['outputs/CNN', 'not a folder', 'current folder'])
    assert 'index' not in err


def test_activations_take_options_before_the_index(work, capsys):
    code, out, err = call(activations, ['--model', 'CNN', '--device', 'cpu', '3', '-f', '4', '--checkpoint', 'mine.pkl',
                                        '--data', 'data.npz'], capsys)
    assert code == 0 and (work / 'outputs' / 'CNN' / 'act3' / 'output.png').is_file(), err


def test_every_setting_the_configs_refuse_is_said_as_its_flag():
    """TrainConfig and ModelConfig refuse a bad setting by its field name; the command says it as its flag."""
    from dataclasses import fields
    from colorlib.cli.common import FLAGS, in_flag_terms
    from colorlib.errors import InputError
    from colorlib.train import TrainConfig
    names = {f.name for f in fields(TrainConfig)} | set(ModelConfig().as_dict())  # the networks' own settings too
    assert names - set(FLAGS) == set()
    with pytest.raises(InputError) as e:
        TrainConfig(save_every=0)
    assert in_flag_terms(e.value) == '--save-every: save_every must be a whole number of at least 1, not 0'


def test_the_shipped_files_are_refused_for_writing_whatever_the_flags(work, capsys):
    """--overwrite names a file for replacing, but never a shipped one: the refusal says to copy it first."""
    from colorlib import shipped
    weights = shipped.weights('unet_k3_f32')
    before = {p: p.read_bytes() for p in (weights, DEFAULT_COLOURS)}
    refused(colorization, SMALL[2:] + ['--model', 'UNet', '--data', 'data.npz', '--checkpoint', str(weights),
                                       '--overwrite'], capsys, work, ['--checkpoint', 'ships', 'copy it first'])
    refused(main_colours, ['-k', '24', '-o', str(DEFAULT_COLOURS.parent), '--data', 'data.npz', '--overwrite'], capsys,
            work, ['-o/--out-dir', 'ships', 'copy it first'])
    assert {p: p.read_bytes() for p in before} == before
