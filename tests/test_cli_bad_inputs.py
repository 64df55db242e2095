"""Bad and odd inputs through the real commands, by category: each is refused with one line on stderr (exit status
2; 1 only where colorize skipped a file and did the rest), no traceback, and every file that was there before is
byte for byte as it was. The cases that used to lose data, hang or end in a traceback come first."""
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from colorlib.checkpoints import read_resumable, read_weights, save_resumable, save_weights
from colorlib.cli.activations import main as activations
from colorlib.cli.colorization import main as colorization, main_regression as color_regression
from colorlib.cli.colorize import main as colorize
from colorlib.files import write_pair
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


def refused(command, argv, capsys, root, words, code=2, new_files_ok=False):
    """Run a command in-process; assert the one-line refusal and that nothing that was there changed."""
    before = snapshot(root)
    status, out, err = call(command, argv, capsys)
    assert status == code, (status, out, err)
    assert len(err.strip().splitlines()) == 1 and 'Traceback' not in out + err, err
    for word in words:
        assert word in err, (word, err)
    after = snapshot(root)
    assert {p: after.get(p) for p in before} == before  # what was there is untouched
    if not new_files_ok:
        assert after.keys() == before.keys(), sorted(set(after) - set(before))
    return err


def run_script(script, argv, cwd, timeout=60, limit_file_size=None, **kwargs):
    """The real script in a subprocess (for what could hang, or needs a small file-size limit: a full disk)."""
    def limit():
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
            ['--checkpoint', 'colour_kmeans24_cat7.npy', 'input of this run'])
    assert Path(COLOURS).read_bytes() == shipped
    (work / 'pics').mkdir()
    for i in range(4):
        Image.fromarray(smooth_rgb(36, 40, seed=i)).save(work / 'pics' / f'p{i}.png')
    refused(colorization, SMALL + ['--data', 'pics', '-c', COLOURS, '--checkpoint', 'pics/p0.png', '--overwrite'],
            capsys, work, ['--checkpoint', 'p0.png', 'input of this run'], new_files_ok=True)  # the data cache


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


def test_sigterm_while_the_disk_is_full_is_one_line(work):
    argv = SMALL + ['--data', 'data.npz', '-e', '50', '--save-every', '100']  # no save before the signal
    proc = run_script('colorization.py', argv, work, limit_file_size=20_000)
    assert proc.stdout.readline().startswith('Epoch [1/50]')
    proc.send_signal(signal.SIGTERM)
    assert_one_line(proc, 2, ['stopped by SIGTERM', 'cannot write', 'resume.pt'])

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
], ids=['filters', 'kernel'])
def test_models_too_big_for_memory_say_what_fits(flags, words, work, capsys):
    refused(colorization, ['--model', 'UNet', '--data', 'data.npz'] + flags, capsys, work, words)
    refused(colorization, ['--model', 'UNet', '--data', 'data.npz', '--valid'] + flags, capsys, work, words)


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

# -----------------------------------------------------------------------------
# --resume covers every input that defines the run


@pytest.mark.parametrize('change, words', [
    (lambda work: ['-c', 'other.npy'], ['-c/--colours']),
    (lambda work: ['--amp'], ['--amp False', '--amp True']),
    (lambda work: ['--data', 'other.npz'], ['training data']),
    (lambda work: ['--data', 'swapped.npz'], ['training data']),
], ids=['other-colours-same-k', 'amp', 'other-data-same-size', 'other-colours-same-grey'])
def test_resume_refuses_another_run(change, words, work, horses, capsys):
    rng = np.random.default_rng(1)
    write_pair(work / 'other.npy', rng.random((24, 3)), 0.1)
    train_x, test_x = horses
    write_npz(work / 'other.npz', 255 - train_x[:100], test_x[:20])
    write_npz(work / 'swapped.npz', train_x[:100, :, :, ::-1], test_x[:20])  # red and blue swapped: the same grey
    argv = SMALL + ['--data', 'data.npz', '-e', '2', '--experiment-name', 'exp']
    assert call(colorization, argv[:-6] + ['-e', '1', '--experiment-name', 'exp'], capsys)[0] == 0
    refused(colorization, argv + ['--resume'] + change(work), capsys, work, ['--resume'] + words)

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
    ('flag-batch', colorization, ['-b', '0'], ['-b/--batch-size']),
    ('flag-learn-rate', colorization, ['-l', 'nan'], ['-l/--learn-rate']),
    ('flag-kernel', colorization, ['-k', '2'], ['-k/--kernel', 'even']),
    ('flag-rebalance', colorization, ['--rebalance', '2'], ['--rebalance']),
    ('resume-nothing', colorization, ['--resume', '--experiment-name', 'none'], ['--resume', 'no such file']),
    ('regression-ce', color_regression, ['--valid', '--checkpoint', 'mine.pkl', '-f', '4'], ['--checkpoint']),
    ('activations-index', activations, ['20', '--checkpoint', 'mine.pkl', '--model', 'CNN', '-f', '4'],
     ['index', '20', 'out of range']),
    ('activations-weights-dir', activations, ['0', '--all', '--weights-dir', 'outputs'], ['--weights-dir']),
    ('colorize-no-images', colorize, ['outputs', '--checkpoint', 'mine.pkl', '--model', 'CNN', '-f', '4'],
     ['no image files']),
    ('colorize-tile', colorize, ['a.png', '--tile', '2'], ['--tile']),
    ('flag-epochs', colorization, ['-e', '0'], ['-e/--epochs', 'at least 1']),
    ('flag-seed', colorization, ['-s', '-1'], ['-s/--seed']),
    ('flag-filters', colorization, ['-f', '0'], ['-f/--num-filters']),
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
     ['index', 'at least 0']),
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
