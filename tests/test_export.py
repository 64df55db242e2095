"""colorlib.export and `colorlib export`: every shipped weights file as ONNX, run by onnxruntime, against
Model.colorize (super-resolution: against the library's torch path); the metadata; the command's one-line refusals.

The shipped files are exported once for the module (a few seconds each). Where onnx, onnxscript or onnxruntime are
missing these tests skip, except in CI (CI=true), where they fail."""
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import colorlib
from colorlib.api import Model
from colorlib.cli import main as cli_main
from colorlib.colorize import to_uint8
from colorlib.errors import FileExists, InputError
from colorlib.models import ModelConfig, build_model, context
from colorlib.superres import upsample
from colorlib.targets import TargetConfig, build_target
from conftest import call

SIZES = ((33, 47), (48, 64), (70, 21))  # one odd each way, one a multiple of 4, one tall
PARITY = 0.999  # share of pixels within 1 level of the torch path, at least


def require(name):
    """The module `name`; a test without it skips, or in CI fails (what CI installs must be there)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        message = f'{name} is not installed: pip install \'colorlib[export]\''
        if os.environ.get('CI') == 'true':
            pytest.fail(f'CI: {message}')
        pytest.skip(message)


@pytest.fixture(scope='module')
def ort():
    for name in ('onnx', 'onnxscript'):
        require(name)
    return require('onnxruntime')


@pytest.fixture(scope='module')
def exported(ort, tmp_path_factory):
    """{shipped name: its .onnx file}, each exported through the library once, when first asked for."""
    from colorlib.export import export
    folder = tmp_path_factory.mktemp('onnx')

    class Exports(dict):
        def __missing__(self, name):
            self[name] = export(name, folder / f'{name}.onnx')
            return self[name]
    return Exports()


def run_onnx(ort, path, image):
    session = ort.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    return session.run(None, {'image': image})[0]


def torch_superres(model, image):
    """The library's torch path for super-resolution weights (Model.colorize refuses them): the picture as the
    network's input, nearest-upsampled 4x, and the target's decoding of its output, read and rounded as colorize
    reads and rounds."""
    rgb = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    inputs = upsample(rgb, 'nearest')
    with torch.no_grad():
        return to_uint8(model.target.decode(model.net(inputs), inputs)[0])


def within_one(a, b):
    assert a.shape == b.shape and a.dtype == b.dtype == np.uint8
    return (np.abs(a.astype(int) - b.astype(int)).max(-1) <= 1).mean()


def picture(height, width, seed=0):
    """A smooth picture with edges (a photo's statistics, roughly), not noise."""
    y, x = np.mgrid[:height, :width] / max(height, width)
    rng = np.random.default_rng(seed)
    rgb = np.stack([np.sin(6 * x + 2 * y), np.cos(5 * y - x), np.sin(3 * x * y + 1)], -1) * 0.4 + 0.5
    rgb[height // 3:, width // 2:] *= 0.5
    return np.clip(rgb * 255 + rng.normal(0, 4, rgb.shape), 0, 255).astype(np.uint8)


@pytest.mark.parametrize('name', colorlib.names())
def test_every_shipped_file_matches_the_torch_path(name, exported, ort):
    model = colorlib.load(name)
    for height, width in SIZES:
        image = picture(height, width)
        got = run_onnx(ort, exported[name], image)
        if model.target.task == 'superres':
            assert got.shape == (4 * height, 4 * width, 3)
            expected = torch_superres(model, image)
        else:
            expected = model.colorize(image)
        assert within_one(got, expected) >= PARITY, (name, height, width)


def test_grey_and_tiny_pictures(exported, ort):
    """Grey as (H, W, 1) in the same graph, coloured as Model.colorize colours a grey (H, W) picture; and pictures
    under the pooling grid, which colorize pads as the graph does."""
    model = colorlib.load('unet_lab')
    grey = picture(37, 29)[:, :, 1]
    assert within_one(run_onnx(ort, exported['unet_lab'], grey[:, :, None]), model.colorize(grey)) >= PARITY
    for height, width in ((1, 1), (3, 6), (5, 2)):
        image = picture(height, width, seed=1)
        assert np.array_equal(run_onnx(ort, exported['unet_lab'], image), model.colorize(image))


def test_metadata_describes_the_weights(exported):
    onnx = require('onnx')
    proto = onnx.load(str(exported['unet_lab']))
    meta = {p.key: p.value for p in proto.metadata_props}
    model = colorlib.load('unet_lab')
    assert meta['colorlib.version'] == colorlib.__version__
    assert meta['colorlib.name'] == 'unet_lab' and meta['colorlib.weights'] == 'unet_lab_k3_f32.pkl'
    assert ModelConfig(**json.loads(meta['colorlib.model'])) == model.config
    target = json.loads(meta['colorlib.target'])
    assert target['kind'] == 'lab' and target['temperature'] == model.target.temperature
    assert target['bins'] == model.target.describe()['bins']
    assert int(meta['colorlib.margin']) == context(model.config) and meta['colorlib.scale'] == '1'
    superres = {p.key: p.value for p in onnx.load(str(exported['superres_unet_res'])).metadata_props}
    assert superres['colorlib.scale'] == '4' and json.loads(superres['colorlib.target'])['residual'] is True
    assert proto.opset_import[0].version >= 18


def test_the_weights_temperature_is_in_the_graph(ort, tmp_path):
    from colorlib.export import export
    image = picture(24, 40)
    mode = colorlib.load('unet_lab', temperature=0.0)
    path = export(mode, tmp_path / 'mode.onnx')
    assert json.loads({p.key: p.value for p in require('onnx').load(str(path)).metadata_props}
                      ['colorlib.target'])['temperature'] == 0
    got = run_onnx(ort, path, image)
    assert within_one(got, mode.colorize(image)) >= PARITY
    assert within_one(got, colorlib.load('unet_lab').colorize(image)) < PARITY  # the default's differ: it is used


def own_weights(path):
    """Weights of one's own, of a shape no shipped file has: a DUNet of kernel 5, dilation 2, 4 filters."""
    torch.manual_seed(0)
    target = build_target(TargetConfig())
    net = build_model(ModelConfig(name='DUNet', kernel=5, filters=4, out_channels=target.out_channels, dilation=2))
    for module in net.modules():  # BatchNorm's running figures, not the identity: the export must carry them
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 2)
    Model(net, target).save(path)
    return path


def test_command_exports_ones_own_weights_and_keeps_an_existing_file(ort, tmp_path, capsys):
    weights = own_weights(tmp_path / 'mine.pkl')
    out = tmp_path / 'out' / 'mine.onnx'
    code, stdout, stderr = call(cli_main, ['export', str(weights), '-o', str(out)], capsys)
    assert code == 0 and stderr == '' and str(out) in stdout and len(stdout.splitlines()) == 1
    image = picture(41, 23)
    assert within_one(run_onnx(ort, out, image), colorlib.load(weights).colorize(image)) >= PARITY

    before = out.read_bytes()
    code, stdout, stderr = call(cli_main, ['export', 'cnn', '-o', str(out)], capsys)
    assert code == 2 and stdout == '' and len(stderr.splitlines()) == 1
    assert '-o/--output' in stderr and 'exists' in stderr and '--overwrite' in stderr
    assert out.read_bytes() == before and sorted(p.name for p in out.parent.iterdir()) == ['mine.onnx']

    code, stdout, stderr = call(cli_main, ['export', 'cnn', '-o', str(out), '--overwrite'], capsys)
    assert code == 0 and out.read_bytes() != before
    meta = {p.key: p.value for p in require('onnx').load(str(out)).metadata_props}
    assert meta['colorlib.name'] == 'cnn'


def test_command_refuses_in_one_line_and_writes_nothing(ort, tmp_path, capsys):
    garbage = tmp_path / 'garbage.pkl'
    garbage.write_bytes(b'not weights at all')
    shipped = colorlib.api.weights_path('unet')
    kept = shipped.read_bytes()
    mine = tmp_path / 'mine.pkl'
    mine.write_bytes(colorlib.api.weights_path('cnn').read_bytes())
    cases = [(['export', str(garbage), '-o', str(tmp_path / 'a.onnx')], 'WEIGHTS'),
             (['export', 'no_such_net', '-o', str(tmp_path / 'b.onnx')], 'WEIGHTS'),
             (['export', str(mine), '-o', str(mine), '--overwrite'], '-o/--output'),  # the weights read: never
             (['export', 'unet_lab', '-o', str(shipped), '--overwrite'], '-o/--output'),  # a shipped file: never
             (['export', 'cnn', '-o', str(tmp_path) + '/'], '-o/--output'),
             (['export', 'cnn'], '-o/--output')]
    for argv, named in cases:
        code, stdout, stderr = call(cli_main, argv, capsys)
        assert code == 2 and stdout == '' and len(stderr.splitlines()) == 1 and named in stderr, (argv, stderr)
        assert 'Traceback' not in stderr
    assert shipped.read_bytes() == kept and garbage.read_bytes() == b'not weights at all'
    assert mine.read_bytes() == colorlib.api.weights_path('cnn').read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ['garbage.pkl', 'mine.pkl']


def test_weights_the_exporter_cannot_write_are_refused_before_any_file(ort, tmp_path, monkeypatch, capsys):
    """What the exporter refuses (here: a failure it raises), and a graph that would compute other pictures than
    torch's, are one-line InputErrors, and nothing is written."""
    from colorlib import export as export_module

    def failing(*args, **kwargs):
        raise RuntimeError('Unsupported operator aten::something\nmore lines')
    monkeypatch.setattr(torch.onnx, 'export', failing)
    with pytest.raises(InputError, match='cannot be exported to ONNX: Unsupported operator') as caught:
        export_module.export('cnn', tmp_path / 'x.onnx')
    assert '\n' not in str(caught.value)
    code, stdout, stderr = call(cli_main, ['export', 'cnn', '-o', str(tmp_path / 'x.onnx')], capsys)
    assert code == 2 and 'WEIGHTS' in stderr and 'cannot be exported' in stderr and len(stderr.splitlines()) == 1
    monkeypatch.undo()

    def wrong(image):  # a graph whose pictures are not the torch path's
        return torch.zeros(image.shape[0], image.shape[1], 3, dtype=torch.uint8)
    original = export_module.graph

    def graph_then_change(model):
        module = original(model)
        exported_forward = module.forward
        module.forward = lambda image: exported_forward(image) if torch.compiler.is_exporting() else wrong(image)
        return module
    monkeypatch.setattr(export_module, 'graph', graph_then_change)
    with pytest.raises(InputError, match='differ'):
        export_module.export('cnn', tmp_path / 'y.onnx')
    assert list(tmp_path.iterdir()) == []


def test_missing_extras_are_one_line_saying_how_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, 'onnxscript', None)  # importing it now fails
    code, stdout, stderr = call(cli_main, ['export', 'cnn', '-o', str(tmp_path / 'x.onnx')], capsys)
    assert code == 2 and len(stderr.splitlines()) == 1
    assert "needs onnxscript" in stderr and "pip install 'colorlib[export]'" in stderr and 'WEIGHTS' not in stderr
    assert list(tmp_path.iterdir()) == []


def test_an_output_that_exists_is_kept_by_the_library(ort, tmp_path):
    from colorlib.export import export
    out = tmp_path / 'model.onnx'
    out.write_bytes(b'mine')
    with pytest.raises(FileExists):
        export('cnn', out)
    assert out.read_bytes() == b'mine'


@pytest.mark.parametrize('model, path, replace, field', [
    ('cnn', None, False, 'path'),
    ('cnn', 5, False, 'path'),
    ('cnn', '', False, 'path'),
    ('cnn', 'a\0b.onnx', False, 'path'),
    ('cnn', 'model.onnx', 'no', 'replace'),
    ('cnn', 'mine/model.onnx', False, 'path'),  # under a file
    ('cnn', '.', True, 'path'),  # a folder
    ('nosuchnet', 'model.onnx', False, 'model'),
    ('garbage.pkl', 'model.onnx', False, 'model'),
])
def test_each_bad_argument_is_an_input_error_naming_it(ort, tmp_path, monkeypatch, model, path, replace, field):
    from colorlib.export import export
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'mine').write_bytes(b'mine')
    (tmp_path / 'garbage.pkl').write_bytes(b'not weights')
    with pytest.raises(InputError) as err:
        export(model, path, replace=replace)
    assert err.value.fields == (field,) and '\n' not in str(err.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['garbage.pkl', 'mine']


EXAMPLE = Path(__file__).resolve().parents[1] / 'examples' / 'colorize_onnx.py'
NO_TORCH = '''
import importlib.abc, runpy, sys
class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition('.')[0] in ('torch', 'colorlib', 'kornia'):
            raise ImportError(f'{name} is blocked here')
sys.meta_path.insert(0, NoTorch())
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
assert not [m for m in sys.modules if m.partition('.')[0] in ('torch', 'colorlib', 'kornia')]
'''


def without_torch(*argv, cwd):
    return subprocess.run([sys.executable, '-c', NO_TORCH, *map(str, argv)], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env={**os.environ, 'PYTHONPATH': ''})


def test_the_readme_program_colours_without_torch(exported, ort, tmp_path):
    """examples/colorize_onnx.py, the very file the README shows, in a process where importing torch (or colorlib)
    fails: in tiles, its pictures are Model.colorize's (and the library's super-resolution's)."""
    probe = tmp_path / 'probe.py'
    probe.write_text('import torch\n')
    blocked = without_torch(probe, cwd=tmp_path)
    assert blocked.returncode != 0 and 'torch is blocked here' in blocked.stderr  # the block is real
    assert EXAMPLE.read_text() in (EXAMPLE.parents[1] / 'README.md').read_text()  # shown verbatim

    image = picture(90, 70, seed=2)
    Image.fromarray(image).save(tmp_path / 'photo.png')
    Image.fromarray(image[:, :, 0]).save(tmp_path / 'grey.png')
    runs = (('unet', 'photo.png', 32), ('unet_lab', 'grey.png', 40), ('superres_cnn', 'photo.png', 24))
    for name, photo, tile in runs:
        out = tmp_path / f'{name}_{photo}'
        done = without_torch(EXAMPLE, exported[name], photo, out.name, tile, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        got = np.asarray(Image.open(out))
        model = colorlib.load(name)
        if model.target.task == 'superres':
            expected = torch_superres(model, image)
        else:
            expected = model.colorize(np.asarray(Image.open(tmp_path / photo)))
        assert within_one(got, expected) >= PARITY, name
    again = without_torch(EXAMPLE, exported['unet'], 'photo.png', 'unet_photo.png', cwd=tmp_path)
    assert again.returncode != 0 and 'FileExistsError' in again.stderr  # the program never writes over a file


GROWTH = '''
import runpy, sys, numpy as np, onnxruntime
model, side, tile = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
session = onnxruntime.InferenceSession(model, providers=['CPUExecutionProvider'])
colorize = runpy.run_path(sys.argv[4])['colorize']
ramp = np.linspace(0, 255, side, dtype=np.float32)
image = np.stack([ramp[:, None] + 0 * ramp, 0 * ramp[:, None] + ramp, (ramp[:, None] + ramp) / 2], -1).astype(np.uint8)
def status(key):
    return next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith(key)) * 1024
with open('/proc/self/clear_refs', 'w') as f:
    f.write('5')  # the peak starts again from what is resident now
before = status('VmRSS:')
colorize(session, image, tile) if tile else session.run(None, {'image': image})
print(status('VmHWM:') - before)
'''


@pytest.mark.skipif(not Path('/proc/self/clear_refs').exists(), reason='peak memory read from Linux /proc')
def test_the_program_s_memory_stays_that_of_a_tile(exported, ort, tmp_path):
    """In tiles, what colouring adds to the resident memory hardly grows from a 256x256 picture to a 768x768 one
    (the result, 3 bytes a pixel, and allocator slack); in one run it grows with the picture (the activations),
    which shows the measure can tell."""
    def added(side, tile):
        done = subprocess.run([sys.executable, '-c', GROWTH, str(exported['cnn']), str(side), str(tile), str(EXAMPLE)],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return int(done.stdout.split()[-1])
    growth_in_tiles = added(768, 128) - added(256, 128)
    growth_whole = added(768, 0) - added(256, 0)
    assert growth_whole > 150e6, growth_whole
    assert growth_in_tiles < 40e6, growth_in_tiles


@pytest.mark.parametrize('weights', ['unet_lab', 'unet'])
@pytest.mark.parametrize('value', ['-1', 'nan', 'inf'])
def test_a_refused_temperature_gets_the_same_answer_from_the_command_and_from_load(ort, weights, value, tmp_path,
                                                                                   capsys):
    """--temperature only parses: colorlib.load refuses the value, and the command says its refusal led by the
    flag, before anything is written."""
    with pytest.raises(InputError) as e:
        colorlib.load(weights, temperature=float(value))
    assert e.value.fields == ('temperature',)
    code, out, err = call(cli_main, ['export', weights, '-o', str(tmp_path / 'x.onnx'), '--temperature', value],
                          capsys)
    assert (code, out, err) == (2, '', f'colorlib export: error: --temperature: {e.value}\n')
    assert not any(tmp_path.iterdir())
