"""The built wheel: it holds the shipped files and, installed away from the checkout, runs from an empty folder."""
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import colorlib
from colorlib.cli.colorization import main
from conftest import call

REPO = Path(__file__).resolve().parents[1]
PACKAGE_FILES = ['setup.cfg', 'pyproject.toml', 'README.md', 'colorlib', 'weights', 'colours', 'data']
SHIPPED = ['colorlib/shipped/weights/unet_k3_f32.pkl', 'colorlib/shipped/colours/colour_kmeans24_cat7.npy',
           'colorlib/shipped/data/cifar10_horse.npz']


def pip(*args):
    proc = subprocess.run([sys.executable, '-m', 'pip', '--disable-pip-version-check', '--no-input', *args],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    """The wheel built as `pip wheel .` builds it (pyproject's build backend in an isolated environment, which pip
    fills from the package registry), from a copy of the package's files that git tracks or would (not ignored
    ones; every file of them outside a git checkout): the checkout gets no build/ or egg-info."""
    listed = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard', '--',
                             *PACKAGE_FILES], cwd=REPO, capture_output=True)
    names = (listed.stdout.decode().split('\0') if listed.returncode == 0 else
             [str(p.relative_to(REPO)) for name in PACKAGE_FILES for p in [REPO / name, *(REPO / name).rglob('*')]
              if '__pycache__' not in p.parts])
    root = tmp_path_factory.mktemp('package')
    src, dist = root / 'src', root / 'dist'
    for name in names:
        if name and (REPO / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, src / name)
    pip('wheel', '--no-deps', '-w', str(dist), str(src))
    [path] = dist.glob('colorlib-*.whl')
    return path


@pytest.fixture(scope='module')
def site(wheel):
    """The wheel installed in a folder of its own, without .pyc files, so anything written there shows."""
    site = wheel.parent.parent / 'site'
    pip('install', '--no-deps', '--no-index', '--no-compile', '--target', str(site), str(wheel))
    return site


def run(site, cwd, *args):
    env = {**os.environ, 'PYTHONPATH': str(site), 'PYTHONDONTWRITEBYTECODE': '1'}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def files_under(folder):
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob('*') if p.is_file())


def test_wheel_holds_the_shipped_files(wheel):
    assert wheel.name == f'colorlib-{colorlib.__version__}-py3-none-any.whl'
    names = zipfile.ZipFile(wheel).namelist()
    assert all(name in names for name in SHIPPED)
    assert 'colorlib/cli/__init__.py' in names
    assert not any(name.startswith(('tests/', 'weights/', 'colours/', 'data/')) for name in names)


def test_installed_copy_is_used(site, tmp_path):
    proc = run(site, tmp_path, sys.executable, '-c', 'import colorlib; print(colorlib.__file__)')
    assert proc.returncode == 0, proc.stderr
    assert Path(proc.stdout.strip()) == site / 'colorlib' / '__init__.py'
    proc = run(site, tmp_path, sys.executable, '-m', 'colorlib', '--version')
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f'colorlib {colorlib.__version__}\n'


def test_valid_from_an_empty_folder(site, tmp_path, monkeypatch, capsys):
    before = files_under(site / 'colorlib')
    proc = run(site, tmp_path, str(site / 'bin' / 'colorlib'), 'colorization', '--model', 'UNet', '--valid')
    assert proc.returncode == 0, proc.stderr
    monkeypatch.chdir(tmp_path / '..')  # the checkout's own figures for the same shipped weights, in-process
    code, checkout, _ = call(main, ['--model', 'UNet', '--valid'], capsys)
    assert code == 0 and proc.stdout.splitlines()[1:3] == checkout.splitlines()[1:3]
    assert proc.stdout.splitlines()[1].startswith('Val Loss: ')
    assert str(site / 'colorlib' / 'shipped' / 'weights' / 'unet_k3_f32.pkl') in proc.stdout
    assert files_under(tmp_path) == ['outputs/eval_UNet.png']
    assert files_under(site / 'colorlib') == before


def test_colorize_from_an_empty_folder(site, tmp_path):
    photo = tmp_path / 'in' / 'photo.png'
    photo.parent.mkdir()
    pixels = np.random.default_rng(0).integers(0, 256, (24, 40, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(photo)
    cwd = tmp_path / 'empty'
    cwd.mkdir()
    proc = run(site, cwd, str(site / 'bin' / 'colorlib'), 'colorize', str(photo))
    assert proc.returncode == 0, proc.stderr
    assert files_under(cwd) == ['outputs/colorized/photo_colorized.png']
    with Image.open(cwd / 'outputs' / 'colorized' / 'photo_colorized.png') as image:
        assert image.size == (40, 24)


def test_the_installed_shipped_files_are_read_only_to_colorlib(site, tmp_path):
    """Whatever it is told: a shipped file of the install is refused for writing, with the advice to copy it."""
    before = {p: p.read_bytes() for p in (site / 'colorlib' / 'shipped').rglob('*') if p.is_file()}
    script = ('import colorlib\nm = colorlib.load("cnn")\ntry:\n    m.save(m.path, replace=True)\n'
              'except colorlib.errors.InputError as err:\n    print(err.fields, err)\n')
    proc = run(site, tmp_path, sys.executable, '-c', 'import colorlib.errors\n' + script)
    assert proc.returncode == 0 and "('path',)" in proc.stdout and 'copy it first' in proc.stdout, proc.stderr
    weights = str(site / 'colorlib' / 'shipped' / 'weights' / 'unet_k3_f32.pkl')
    proc = run(site, tmp_path, str(site / 'bin' / 'colorlib'), 'colorization', '--model', 'UNet', '-e', '1',
               '--checkpoint', weights, '--overwrite')
    assert proc.returncode == 2 and 'copy it first' in proc.stderr and proc.stderr.count('\n') == 1, proc.stderr
    assert {p: p.read_bytes() for p in before} == before
