"""Atomic writes, and the assignment's object-pair .npy files read without unpickling anything but arrays."""
import os
import pickle

import numpy as np
import pytest

from colorlib.errors import InputError
from colorlib.files import atomic_write, read_pair, write_pair


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
        atomic_write(path, fail)
    assert path.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['out.bin']  # no temp file left behind


def test_atomic_write_keeps_the_old_file_on_interrupt(tmp_path):
    path = tmp_path / 'out.bin'
    path.write_bytes(b'old')

    def interrupt(f):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, interrupt)
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
    write_pair(path, np.ones((3, 2)), np.zeros(3))
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
