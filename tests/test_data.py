"""Tests for colorlib.data: every on-disk layout reads the same, bad input is a one-line InputError that names the
file and the problem (never a command-line flag)."""

import functools
import hashlib
import http.server
import pickle
import socket
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from colorlib import data as data_module
from colorlib.data import (CATEGORIES, CIFAR10_MD5, CIFAR10_URL, download_cifar10, load_category, load_cifar10,
                           load_images, parse_category, select_category)
from colorlib.errors import InputError
from colorlib.images import to_float, to_grey
from colorlib.shipped import DEFAULT_DATA
from conftest import call, one_line_error

SHARED = Path(__file__).resolve().parent.parent.parent / 'shared' / 'data' / 'cifar10.npz'
BATCHES = [f'data_batch_{i}' for i in range(1, 6)] + ['test_batch']
# labels per batch; class 7 (horse) and 3 (cat) appear in train and test, 9 (truck) only in train
LABELS = [[7, 3, 9], [0, 7], [7], [3, 3], [9, 7], [7, 3, 1]]
PIXEL = (1, 5, 20, 123)  # (channel, row, col, value) planted in the first image of data_batch_1

# -----------------------------------------------------------------------------
# a tiny CIFAR-10 in the official format


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """The official layout in miniature: .tar.gz, extracted folder and an .npz of the same arrays."""
    root = tmp_path_factory.mktemp('cifar')
    folder = root / 'extracted' / 'cifar-10-batches-py'
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    rows = []
    for name, labels in zip(BATCHES, LABELS):
        data = rng.integers(0, 256, size=(len(labels), 3072), dtype=np.uint8)
        if name == 'data_batch_1':
            c, r, col, v = PIXEL
            data[0] = 0
            data[0, c * 1024 + r * 32 + col] = v
        rows.append(data)
        batch = {b'batch_label': name.encode(), b'labels': list(labels), b'data': data,
                 b'filenames': [f'{i}.png'.encode() for i in range(len(labels))]}
        with open(folder / name, 'wb') as f:
            pickle.dump(batch, f, protocol=2)
    with open(folder / 'batches.meta', 'wb') as f:
        pickle.dump({b'label_names': [c.encode() for c in CATEGORIES]}, f, protocol=2)
    tgz = root / 'cifar-10-python.tar.gz'
    with tarfile.open(tgz, 'w:gz') as tf:
        tf.add(folder, arcname='cifar-10-batches-py')
    # expected arrays, built independently of the loader
    to_nhwc = lambda a: a.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    expected = (to_nhwc(np.concatenate(rows[:5])), np.array(sum(LABELS[:5], []), dtype=np.int64),
                to_nhwc(rows[5]), np.array(LABELS[5], dtype=np.int64))
    npz = root / 'tiny.npz'
    np.savez(npz, train_x=expected[0], train_y=expected[1], test_x=expected[2], test_y=expected[3])
    return dict(root=root, folder=folder, tgz=tgz, npz=npz, expected=expected)


def assert_same(a, b):
    assert len(a) == len(b) == 4
    for u, v in zip(a, b):
        assert u.dtype == v.dtype and u.shape == v.shape
        np.testing.assert_array_equal(u, v)


# -----------------------------------------------------------------------------
# load_cifar10


@pytest.mark.parametrize('layout', ['tgz', 'folder', 'parent', 'npz'])
def test_every_layout_gives_the_same_arrays(tiny, layout):
    path = {'tgz': tiny['tgz'], 'folder': tiny['folder'], 'parent': tiny['folder'].parent, 'npz': tiny['npz']}[layout]
    got = load_cifar10(str(path))  # str paths as the CLI passes them
    assert_same(got, tiny['expected'])
    assert got[0].dtype == np.uint8 and got[1].dtype == np.int64
    assert got[0].shape == (10, 32, 32, 3) and got[2].shape == (3, 32, 32, 3)
    np.testing.assert_array_equal(got[1], [7, 3, 9, 0, 7, 7, 3, 3, 9, 7])


def test_folder_holding_the_downloaded_tarball(tmp_path, tiny):
    (tmp_path / 'cifar-10-python.tar.gz').write_bytes(tiny['tgz'].read_bytes())
    assert_same(load_cifar10(tmp_path), tiny['expected'])


def test_channel_major_pixel_lands_in_nhwc(tiny):
    c, r, col, v = PIXEL
    x = load_cifar10(tiny['tgz'])[0][0]
    assert x[r, col, c] == v
    assert np.count_nonzero(x) == 1


def test_missing_path(tmp_path):
    with pytest.raises(InputError) as e:
        load_cifar10(tmp_path / 'foo.npz')
    assert one_line_error(e, 'foo.npz').startswith('no such file or folder: ')


@pytest.mark.parametrize('name', ['cifar-10-python.tar.gz', 'x.npz', 'x.bin'])
def test_random_bytes_file(tmp_path, name):
    p = tmp_path / name
    p.write_bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(InputError) as e:
        load_cifar10(p)
    one_line_error(e, f'{p} is neither an .npz nor a cifar-10-python.tar.gz')


def test_truncated_tarball(tmp_path, tiny):
    p = tmp_path / 'cifar-10-python.tar.gz'
    p.write_bytes(tiny['tgz'].read_bytes()[:-200])
    with pytest.raises(InputError) as e:
        load_cifar10(p)
    assert one_line_error(e).startswith(f'cannot read {p}: ')


def test_corrupt_npz_member(tmp_path):
    p = tmp_path / 'bad.npz'
    np.savez_compressed(p, train_x=np.zeros((4, 32, 32, 3), np.uint8), train_y=np.zeros(4, np.int64),
                        test_x=np.zeros((1, 32, 32, 3), np.uint8), test_y=np.zeros(1, np.int64))
    raw = bytearray(p.read_bytes())
    raw[100:140] = b'\xff' * 40  # clobber compressed data inside the first member
    p.write_bytes(bytes(raw))
    with pytest.raises(InputError) as e:
        load_cifar10(p)
    assert one_line_error(e).startswith(f'cannot read {p}: ')


def test_npz_missing_keys(tmp_path):
    p = tmp_path / 'partial.npz'
    np.savez(p, train_x=np.zeros((2, 32, 32, 3), np.uint8), train_y=np.zeros(2, np.int64))
    with pytest.raises(InputError) as e:
        load_cifar10(p)
    one_line_error(e, str(p), 'lacks key(s) test_x, test_y')


def test_npz_wrong_dtype(tmp_path):
    p = tmp_path / 'float.npz'
    np.savez(p, train_x=np.zeros((2, 32, 32, 3), np.float32), train_y=np.zeros(2, np.int64),
             test_x=np.zeros((1, 32, 32, 3), np.uint8), test_y=np.zeros(1, np.int64))
    with pytest.raises(InputError) as e:
        load_cifar10(p)
    one_line_error(e, str(p), 'train_x is float32', 'expected uint8')


def test_folder_missing_a_batch(tmp_path, tiny):
    for name in BATCHES[:-1]:
        (tmp_path / name).write_bytes((tiny['folder'] / name).read_bytes())
    with pytest.raises(InputError) as e:
        load_cifar10(tmp_path)
    one_line_error(e, f'{tmp_path} lacks cifar-10-batches-py/test_batch')


def test_unrelated_folder(tmp_path):
    with pytest.raises(InputError) as e:
        load_cifar10(tmp_path)
    one_line_error(e, f'folder {tmp_path} holds neither')


def test_pickle_cannot_run_code(tmp_path, tiny):
    """A batch file is a pickle; a hostile one must be refused, not executed."""
    folder = tmp_path / 'cifar-10-batches-py'
    folder.mkdir()
    for name in BATCHES:
        (folder / name).write_bytes((tiny['folder'] / name).read_bytes())
    marker = tmp_path / 'pwned'

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), 'w'))
    (folder / 'test_batch').write_bytes(pickle.dumps({b'data': Evil(), b'labels': [0]}, protocol=2))
    with pytest.raises(InputError) as e:
        load_cifar10(tmp_path)
    one_line_error(e, f'cannot read {tmp_path}', 'forbidden')
    assert not marker.exists()


# -----------------------------------------------------------------------------
# categories


@pytest.mark.parametrize('value,index', [('horse', 7), ('HORSE', 7), (' Cat ', 3), ('airplane', 0), ('truck', 9),
                                         ('0', 0), ('9', 9), (7, 7), (np.int64(2), 2)])
def test_parse_category(value, index):
    assert parse_category(value) == index


@pytest.mark.parametrize('value', ['zebra', '10', '-1', '', '3.0', 10, -1, True])
def test_parse_category_rejects(value):
    with pytest.raises(InputError) as e:
        parse_category(value)
    msg = one_line_error(e, 'unknown category', 'airplane', 'truck', '0-9')
    assert repr(str(value)) in msg


def test_load_category(tiny):
    train_x, train_y, test_x, test_y = tiny['expected']
    for path in (tiny['tgz'], tiny['npz']):
        tr, te = load_category(path, 7)
        np.testing.assert_array_equal(tr, train_x[[0, 4, 5, 9]])  # official order preserved
        np.testing.assert_array_equal(te, test_x[[0]])
        tr, te = load_category(path, parse_category('cat'))
        assert len(tr) == 3 and len(te) == 1


def test_select_category_picks_from_loaded_arrays(tiny):
    """The same split as load_category, from arrays already read; the path only names the file in errors."""
    arrays = load_cifar10(tiny['npz'])
    for category in (7, 3):
        for got, want in zip(select_category(arrays, category, tiny['npz']), load_category(tiny['npz'], category)):
            np.testing.assert_array_equal(got, want)
    with pytest.raises(InputError) as e:
        select_category(arrays, parse_category('dog'), 'somewhere.npz')
    one_line_error(e, "somewhere.npz has no 'dog' images")


def test_load_category_absent(tiny):
    with pytest.raises(InputError) as e:
        load_category(tiny['npz'], parse_category('dog'))
    one_line_error(e, f"{tiny['npz']} has no 'dog' images", 'the full CIFAR-10')
    with pytest.raises(InputError) as e:
        load_category(tiny['npz'], parse_category('truck'))  # train only
    one_line_error(e, "has no 'truck' test images")


def test_horse_only_file_has_no_cats(tmp_path):
    p = tmp_path / 'horse.npz'
    x = np.zeros((3, 32, 32, 3), np.uint8)
    np.savez(p, train_x=x, train_y=np.full(3, 7), test_x=x[:1], test_y=np.full(1, 7))
    with pytest.raises(InputError) as e:
        load_category(p, parse_category('cat'))
    one_line_error(e, str(p), "no 'cat' images", 'the full CIFAR-10', 'cifar-10-python.tar.gz')


@pytest.mark.skipif(not DEFAULT_DATA.is_file(), reason=f'bundled {DEFAULT_DATA} not present')
def test_bundled_horses():
    train_x, train_y, test_x, test_y = load_cifar10(DEFAULT_DATA)
    assert train_x.shape == (5000, 32, 32, 3) and test_x.shape == (1000, 32, 32, 3)
    assert (train_y == 7).all() and (test_y == 7).all()
    tr, te = load_category(DEFAULT_DATA, parse_category('horse'))
    assert len(tr) == 5000 and len(te) == 1000
    with pytest.raises(InputError) as e:
        load_category(DEFAULT_DATA, parse_category('cat'))
    assert one_line_error(e, 'the full CIFAR-10').startswith("the bundled horse data has no 'cat' images")


@pytest.mark.skipif(not SHARED.is_file(), reason='../shared not present (CI-only fixture)')
@pytest.mark.skipif(not DEFAULT_DATA.is_file(), reason=f'bundled {DEFAULT_DATA} not present')
def test_full_cifar_horses_match_bundled_file():
    tr, te = load_category(SHARED, parse_category('horse'))
    with np.load(DEFAULT_DATA) as z:
        np.testing.assert_array_equal(tr, z['train_x'])
        np.testing.assert_array_equal(te, z['test_x'])

# -----------------------------------------------------------------------------
# download


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server(tiny):
    """Serve the tiny tarball from 127.0.0.1 on an ephemeral port."""
    handler = functools.partial(_QuietHandler, directory=str(tiny['root']))
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{httpd.server_address[1]}/cifar-10-python.tar.gz'
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_download(tmp_path, tiny, server, capsys):
    md5 = hashlib.md5(tiny['tgz'].read_bytes()).hexdigest()
    dest = tmp_path / 'new' / 'dir'
    got = download_cifar10(dest, url=server, md5=md5)
    assert capsys.readouterr().err == ''  # stderr is not a tty here, so no bar by default
    assert got == dest / 'cifar-10-python.tar.gz'
    assert got.read_bytes() == tiny['tgz'].read_bytes()
    assert [p.name for p in dest.iterdir()] == ['cifar-10-python.tar.gz']
    assert_same(load_cifar10(got), tiny['expected'])
    # already there with the right md5: no network needed
    assert download_cifar10(dest, url='http://127.0.0.1:1/nothing', md5=md5) == got


def test_download_progress_bar(tmp_path, tiny, server, capsys):
    md5 = hashlib.md5(tiny['tgz'].read_bytes()).hexdigest()
    download_cifar10(tmp_path, url=server, md5=md5, progress=True)
    assert 'cifar-10-python.tar.gz' in capsys.readouterr().err


def test_download_bad_md5(tmp_path, server):
    with pytest.raises(InputError) as e:
        download_cifar10(tmp_path, url=server, md5='0' * 32, progress=False)
    one_line_error(e, server, 'has md5', 'expected ' + '0' * 32, 'not saved')
    assert list(tmp_path.iterdir()) == []


def test_download_replaces_stale_file(tmp_path, tiny, server):
    (tmp_path / 'cifar-10-python.tar.gz').write_bytes(b'stale')
    md5 = hashlib.md5(tiny['tgz'].read_bytes()).hexdigest()
    got = download_cifar10(tmp_path, url=server, md5=md5, progress=False)
    assert got.read_bytes() == tiny['tgz'].read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ['cifar-10-python.tar.gz']


def test_download_http_error(tmp_path, server):
    url = server.replace('cifar-10-python.tar.gz', 'missing.tar.gz')
    with pytest.raises(InputError) as e:
        download_cifar10(tmp_path, url=url, progress=False)
    assert one_line_error(e, '404').startswith(f'cannot fetch {url}: ')
    assert list(tmp_path.iterdir()) == []


def test_download_unreachable(tmp_path):
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    url = f'http://127.0.0.1:{port}/x.tar.gz'  # closed port: connection refused
    with pytest.raises(InputError) as e:
        download_cifar10(tmp_path, url=url, progress=False)
    assert one_line_error(e).startswith(f'cannot fetch {url}: ')
    assert list(tmp_path.iterdir()) == []


def test_download_constants():
    assert CIFAR10_URL.endswith('/cifar-10-python.tar.gz') and len(CIFAR10_MD5) == 32


@pytest.fixture
def official(tiny, server, tmp_path, monkeypatch):
    """The tiny tarball served as the official archive, and an empty current folder for data/ to go into."""
    monkeypatch.setattr(data_module, 'CIFAR10_URL', server)
    monkeypatch.setattr(data_module, 'CIFAR10_MD5', hashlib.md5(tiny['tgz'].read_bytes()).hexdigest())
    monkeypatch.chdir(tmp_path)
    return tmp_path / 'data' / 'cifar-10-python.tar.gz'


def test_download_keyword_fetches_the_archive_into_data_then_reads_it(official, tiny):
    """download=True (the commands' --download): the archive is fetched into data/ within the library's call."""
    train_x, test_x = load_images(download=True)
    assert official.read_bytes() == tiny['tgz'].read_bytes()
    x, y, tx, ty = tiny['expected']
    np.testing.assert_array_equal(train_x, x[y == 7])
    np.testing.assert_array_equal(test_x, tx[ty == 7])


def test_download_keyword_refusals_name_it(official, monkeypatch):
    with pytest.raises(InputError) as e:
        load_images(data='mine.npz', download=True)
    assert e.value.fields == ('data', 'download') and one_line_error(e, 'leave data out')
    monkeypatch.setattr(data_module, 'CIFAR10_URL', 'http://127.0.0.1:1/cifar-10-python.tar.gz')
    with pytest.raises(InputError) as e:
        load_images(download=True)
    assert e.value.fields == ('download',) and one_line_error(e).startswith('cannot fetch ')
    assert not official.exists()


def test_the_download_flag_is_the_library_keyword(official, monkeypatch, capsys):
    """--download passes download=True to the one library call: the archive is fetched there, the bins fitted on
    it; a fetch that fails is one line led by --download, nothing written."""
    from colorlib.cli.remake import main_bins
    code, out, err = call(main_bins, ['--download', '-o', 'bins'], capsys)
    assert code == 0 and official.is_file() and list(Path('bins').glob('lab_bins*_cat7.npy')), err
    official.unlink()
    monkeypatch.setattr(data_module, 'CIFAR10_URL', 'http://127.0.0.1:1/cifar-10-python.tar.gz')
    code, out, err = call(main_bins, ['--download', '-o', 'again'], capsys)
    assert code == 2 and err.startswith('colorlib bins: error: --download: cannot fetch ') and err.count('\n') == 1
    assert not official.exists() and not Path('again').exists()

# -----------------------------------------------------------------------------
# tensors


def test_to_float_and_grey():
    x = np.zeros((2, 4, 5, 3), np.uint8)
    x[0, 1, 2] = (255, 0, 3)
    x[1, 3, 4] = (30, 60, 90)
    f = to_float(x)
    assert f.dtype == torch.float32 and f.shape == (2, 3, 4, 5)
    assert f[0, 0, 1, 2] == 255 / 256 and f[0, 1, 1, 2] == 0 and f[0, 2, 1, 2] == 3 / 256
    assert f.max() < 1
    g = to_grey(f)
    assert g.shape == (2, 1, 4, 5)
    torch.testing.assert_close(g[0, 0, 1, 2], torch.tensor(258 / 3 / 256))
    torch.testing.assert_close(g[1, 0, 3, 4], torch.tensor(60 / 256))
    torch.testing.assert_close(g, f.mean(dim=1, keepdim=True))
