"""Atomic writes, and the assignment's object-pair .npy files read without unpickling anything but arrays."""
import os
import pickle
import shutil
import subprocess
import sys

import numpy as np
import pytest

from colorlib.errors import Busy, FileExists, InputError, WriteError
from colorlib.files import atomic_write, held, is_shipped, may_write, read_pair, write_pair


@pytest.fixture
def restore_umask():
    """Put the umask back as it was after the test."""
    old = os.umask(0o022)
    os.umask(old)
    yield
    os.umask(old)


def test_atomic_write_writes_and_makes_folders(tmp_path):
    path = tmp_path / 'a' / 'b' / 'out.bin'
    assert atomic_write(path, lambda f: f.write(b'hello')) == path
    assert path.read_bytes() == b'hello'
    assert os.listdir(path.parent) == ['out.bin']


def test_atomic_write_syncs_the_file_and_its_folder_before_and_after_the_rename(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def fsync(fd):
        synced.append(os.path.isdir(f'/proc/self/fd/{fd}') and os.readlink(f'/proc/self/fd/{fd}'))
        real_fsync(fd)
    monkeypatch.setattr(os, 'fsync', fsync)
    atomic_write(tmp_path / 'out.bin', lambda f: f.write(b'data'))
    assert synced == [False, str(tmp_path)]  # the temp file's data, then the folder that holds the new name


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path):
    path = tmp_path / 'out.bin'
    path.write_bytes(b'old')

    def fail(f):
        f.write(b'half of the new')
        raise RuntimeError('disk full')

    with pytest.raises(RuntimeError, match='disk full'):
        atomic_write(path, fail, replace=True)
    assert path.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['out.bin']  # no temp file left behind


def test_atomic_write_keeps_the_old_file_on_interrupt(tmp_path):
    path = tmp_path / 'out.bin'
    path.write_bytes(b'old')

    def interrupt(f):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, interrupt, replace=True)
    assert path.read_bytes() == b'old' and os.listdir(tmp_path) == ['out.bin']


@pytest.mark.parametrize('mask', [0o022, 0o027, 0o002])
def test_atomic_write_mode_follows_the_umask(tmp_path, restore_umask, mask):
    os.umask(mask)
    path = atomic_write(tmp_path / 'out.bin', lambda f: f.write(b'x'))
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
    assert os.umask(mask) == mask  # atomic_write left the umask as it was


def test_pair_round_trip(tmp_path):
    centres = np.random.default_rng(0).random((24, 3))
    path = write_pair(tmp_path / 'colours.npy', centres, 0.125)
    data = np.load(path, allow_pickle=True, encoding='latin1')  # as the assignment reads it
    assert data.dtype == object and data.shape == (2,)
    np.testing.assert_array_equal(data[0], centres)
    assert data[1] == 0.125
    first, second = read_pair(path, 'a colour file')
    assert first.dtype == np.float64 and second.dtype == np.float64
    np.testing.assert_array_equal(first, centres)
    assert second == 0.125


def test_write_pair_replaces_atomically(tmp_path):
    path = tmp_path / 'bins.npy'
    write_pair(path, np.zeros((2, 2)), np.ones(2))
    write_pair(path, np.ones((3, 2)), np.zeros(3), replace=True)
    first, second = read_pair(path, 'a bins file')
    assert first.shape == (3, 2) and second.shape == (3,)
    assert os.listdir(tmp_path) == ['bins.npy']


def test_read_pair_of_a_plain_array(tmp_path):
    path = tmp_path / 'plain.npy'
    np.save(path, np.arange(6.0).reshape(2, 3))
    first, second = read_pair(path, 'a pair')
    np.testing.assert_array_equal(first, [0, 1, 2])
    np.testing.assert_array_equal(second, [3, 4, 5])


def test_read_pair_missing_file(tmp_path):
    path = tmp_path / 'absent.npy'
    with pytest.raises(InputError, match='no such file') as err:
        read_pair(path, 'a colour file')
    assert str(path) in str(err.value)


@pytest.mark.parametrize('content', [b'', b'not a numpy file at all', b'\x93NUMPY\x01\x00garbage'])
def test_read_pair_garbage(tmp_path, content):
    path = tmp_path / 'garbage.npy'
    path.write_bytes(content)
    with pytest.raises(InputError) as err:
        read_pair(path, 'a colour file')
    assert str(path) in str(err.value) and 'a colour file' in str(err.value)
    assert '\n' not in str(err.value)


class Hostile:
    """Unpickling this makes a folder: the proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.mkdir, (self.marker,)


def test_read_pair_of_a_hostile_pickle_runs_no_code(tmp_path):
    marker = tmp_path / 'pwned'
    path = tmp_path / 'colours.npy'
    data = np.empty(2, dtype=object)
    data[0], data[1] = Hostile(str(marker)), 0.5
    np.save(path, data, allow_pickle=True)
    with pytest.raises(InputError) as err:
        read_pair(path, 'a colour file')
    assert str(path) in str(err.value)
    assert not marker.exists()
    np.load(path, allow_pickle=True)  # the file is a real attack: a plain np.load runs it
    assert marker.is_dir()


def test_read_pair_of_a_raw_pickle(tmp_path):
    path = tmp_path / 'colours.npy'
    path.write_bytes(pickle.dumps([np.zeros((2, 3)), 0.5]))  # not .npy at all
    with pytest.raises(InputError, match='colours.npy'):
        read_pair(path, 'a colour file')


# -----------------------------------------------------------------------------
# the one rule for writing, at the moment of writing too, and places held by a run


def test_may_write_refuses_a_place_under_a_file_before_the_work(tmp_path):
    (tmp_path / 'afile').write_bytes(b'keep')
    with pytest.raises(WriteError) as excinfo:
        may_write(tmp_path / 'afile' / 'out.onnx')
    assert 'is a file, not a folder' in str(excinfo.value)
    assert (tmp_path / 'afile').read_bytes() == b'keep'


def test_may_write_lets_through_only_new_files_and_regular_files_named_for_replacing(tmp_path):
    (tmp_path / 'old').write_bytes(b'old')
    os.mkfifo(tmp_path / 'fifo')
    os.symlink('fifo', tmp_path / 'to-fifo')
    os.symlink('nowhere', tmp_path / 'dangling')
    os.symlink('loop', tmp_path / 'loop')
    may_write(tmp_path / 'new')
    may_write(tmp_path / 'old', replace=True)
    cases = [('old', False, FileExists, 'exists'), ('dangling', False, FileExists, 'link to nothing'),
             ('fifo', True, WriteError, 'not a regular file'), ('to-fifo', True, WriteError, 'not a regular file'),
             ('loop', True, WriteError, 'symbolic links'), ('.', True, WriteError, 'folder'),
             ('x' * 300, False, WriteError, 'too long')]
    for name, replace, error, words in cases:
        with pytest.raises(error, match=words):
            may_write(tmp_path / name, replace)
    with pytest.raises(WriteError, match='names a folder'):
        may_write(f'{tmp_path}/new/')
    with pytest.raises(WriteError, match='input of this run'):
        may_write(tmp_path / 'old', True, reads=[tmp_path / '.' / 'old'])


def test_a_file_that_appears_while_writing_is_kept(tmp_path):
    """Checked when the work starts and nothing there; then someone writes the file before the temp is published."""
    path = tmp_path / 'out.bin'

    def write(f):
        f.write(b'ours')
        path.write_bytes(b'theirs')

    with pytest.raises(WriteError, match='exists'):
        atomic_write(path, write)
    assert path.read_bytes() == b'theirs' and os.listdir(tmp_path) == ['out.bin']


def test_a_fifo_that_appears_while_writing_is_not_replaced_even_when_replacing(tmp_path):
    path = tmp_path / 'out.bin'
    with pytest.raises(WriteError, match='not a regular file'):
        atomic_write(path, lambda f: os.mkfifo(path), replace=True)
    assert not path.is_file() and os.listdir(tmp_path) == ['out.bin']


def test_a_held_place_is_refused_to_another_process_naming_the_holder(tmp_path):
    other = [sys.executable, '-c', 'import sys; from colorlib.files import held\ntry:\n'
             '    held(sys.argv[1], folder=True).__enter__()\nexcept Exception as e:\n    print(e)', str(tmp_path)]
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join(sys.path)}
    with held(tmp_path, folder=True):
        with pytest.raises(Busy, match=f'pid {os.getpid()}'):  # another open file: refused in this process too
            held(tmp_path, folder=True).__enter__()
        said = subprocess.run(other, capture_output=True, text=True, env=env).stdout
        assert f'in use by another run (pid {os.getpid()})' in said, said
    assert os.listdir(tmp_path) == []  # let go, and the lock file taken away
    with held(tmp_path / 'sub' / 'w.pkl'):
        assert (tmp_path / 'sub' / '.w.pkl.lock').is_file()
    assert os.listdir(tmp_path) == []  # the folder it made for its lock is gone too


def test_letting_go_of_a_place_whose_folder_became_a_file_is_quiet(tmp_path):
    with held(tmp_path / 'dd' / 'w.pkl'):
        shutil.rmtree(tmp_path / 'dd')
        (tmp_path / 'dd').write_text('a file where the folder was')  # the lock's folder replaced meanwhile
    assert (tmp_path / 'dd').read_text() == 'a file where the folder was'


def test_a_shipped_file_is_never_written_whatever_the_flags(tmp_path):
    import colorlib
    from colorlib import shipped
    for path in (shipped.DEFAULT_COLOURS, shipped.DEFAULT_BINS, shipped.DEFAULT_DATA, shipped.weights('unet_k3_f32')):
        before = path.read_bytes()
        for replace in (False, True):
            with pytest.raises(WriteError, match='colorlib ships.*copy it first'):
                may_write(path, replace)
        assert path.read_bytes() == before
    link = tmp_path / 'link.pkl'
    link.symlink_to(shipped.weights('unet_k3_f32'))
    with pytest.raises(WriteError, match='copy it first'):
        may_write(link, True)
    model = colorlib.load('cnn')
    before = model.path.read_bytes()
    with pytest.raises(InputError) as caught:
        model.save(model.path, replace=True)
    assert caught.value.fields == ('path',) and model.path.read_bytes() == before
    assert colorlib.load('unet').config.name == 'UNet'
    model.save(tmp_path / 'copy.pkl')  # a copy elsewhere is the user's to write
    assert not may_write(tmp_path / 'new.pkl') and not is_shipped(shipped.folder('weights') / 'new.pkl')


def test_an_empty_path_is_never_the_current_folder(tmp_path, monkeypatch):
    import colorlib
    monkeypatch.chdir(tmp_path)
    pictures = np.zeros((4, 8, 8, 3), np.uint8)
    for setting in ('out_dir', 'weights', 'data', 'colours', 'bins', 'init'):
        with pytest.raises(InputError) as caught:
            colorlib.fit(model='CNN', filters=2, epochs=1, train_x=pictures, test_x=pictures, **{setting: ''})
        assert caught.value.fields in ((setting,), (f'target.{setting}',)), caught.value.fields
    for call in (lambda: colorlib.load(''), lambda: colorlib.load_images(''), lambda: colorlib.load('cnn').save('')):
        with pytest.raises(InputError, match='empty path'):
            call()
    assert list(tmp_path.iterdir()) == []
