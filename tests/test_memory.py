"""Tests for colorlib.memory: the parameter count, the training estimate and the largest size that fits."""
from dataclasses import replace

import torch

from colorlib.memory import available_memory, largest_fitting, parameter_count, training_bytes
from colorlib.models import ModelConfig, build_model


def test_parameter_count_is_the_models_without_building_it():
    for config in (ModelConfig('UNet', 3, 32, 24), ModelConfig('CNN', 5, 8, 24), ModelConfig('RegressionCNN', 3, 4, 3)):
        assert parameter_count(config) == sum(p.numel() for p in build_model(config).parameters())


def test_training_bytes_grow_with_the_batch_and_the_image_area():
    config = ModelConfig('UNet', 3, 32, 24)
    base = training_bytes(config, 100)
    weights = 16 * parameter_count(config)
    assert training_bytes(config, 200) - weights == 2 * (base - weights)
    assert training_bytes(config, 100, side=96) - weights == 9 * (base - weights)


def test_largest_fitting_is_the_edge_of_what_fits():
    config = ModelConfig('UNet', 3, 32, 24)
    memory = training_bytes(replace(config, filters=300), 100) + 1
    filters = largest_fitting(config, 'filters', 100, memory)
    assert filters == 300 or (training_bytes(replace(config, filters=filters), 100) <= memory
                              < training_bytes(replace(config, filters=filters + 1), 100))
    kernel = largest_fitting(config, 'kernel', 100, training_bytes(replace(config, kernel=9), 100))
    assert kernel == 9  # odd sizes only
    assert largest_fitting(config, 'filters', 100, 10) is None  # not even one filter
    assert largest_fitting(config, 'filters', 100, memory, side=64) < filters  # larger images, fewer filters


def test_available_memory_on_the_cpu_is_some_of_the_machine():
    free = available_memory(torch.device('cpu'))
    assert 0 < free < 1 << 50


def test_sizes_past_what_torch_can_count_are_more_than_any_memory():
    assert training_bytes(ModelConfig('UNet', filters=99_999_999_999), 100) > 2 ** 62


def test_a_dilated_convolution_counts_its_spread_out_filter():
    near, far = (training_bytes(ModelConfig('DUNet', filters=4, dilation=d), 10) for d in (1, 100_000))
    assert far - near > 8 * 4 * 4 * 200_003 ** 2  # the middle filter (>= 4 channels in and out) over 200,003 pixels


# ---------------------------------------------------------------------------------------------------------------------
# the one rule on every path, tried with the worst sizes in a process whose address space is limited, so that a size
# that slipped past the check fails the test (MemoryError, torch's RuntimeError, exit 1) instead of the machine

import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from colorlib.errors import TooBig  # noqa: E402
from colorlib.memory import check_fits  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
LIMIT = 4 << 30  # bytes of address space for the worst cases: torch and numpy need about 1.5 GB of it to start

WORST = r'''
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]), int(sys.argv[1])))
import numpy as np
import colorlib
from colorlib.errors import InputError

small, huge, dunet = sys.argv[2:5]
pictures = np.random.default_rng(0).integers(0, 256, (8, 32, 32, 3), dtype=np.uint8)
unet = colorlib.load('unet')
cases = {
    'fit filters': lambda: colorlib.fit(filters=100_000, train_x=pictures, test_x=pictures, epochs=1),
    'fit kernel': lambda: colorlib.fit(kernel=100_001, train_x=pictures, test_x=pictures, epochs=1),
    'fit dilation': lambda: colorlib.fit('DUNet', dilation=100_000, train_x=pictures, test_x=pictures, epochs=1),
    'fit init': lambda: colorlib.fit(init=huge, train_x=pictures, test_x=pictures, epochs=1),
    'load metadata filters': lambda: colorlib.load(huge),
    'load metadata dilation': lambda: colorlib.load(dunet),
    'load keyword filters': lambda: colorlib.load(small, filters=10 ** 6),
    'colorize net_size': lambda: unet.colorize(np.zeros((40, 50, 3), np.uint8), net_size=10 ** 6),
    'colorize net_size 20000': lambda: unet.colorize(np.zeros((40, 50, 3), np.uint8), net_size=20_000),
    'colorize tile': lambda: unet.colorize(np.zeros((3000, 3000), np.uint8), tile=100_000),
    'predict batch': lambda: unet.predict(np.zeros((40, 1024, 1024, 3), np.uint8)),
    'activations': lambda: unet.activations(np.zeros((4096, 4096, 3), np.uint8)),
    'evaluate': lambda: unet.evaluate(np.zeros((100, 1024, 1024, 3), np.uint8)),
    'evaluate batch': lambda: unet.evaluate(np.zeros((40, 256, 256, 3), np.uint8), batch_size=40),
}
said = {}
for name, case in cases.items():
    try:
        case()
        said[name] = ['done', '', []]
    except InputError as err:
        said[name] = [type(err).__name__, str(err), list(err.fields)]
    except BaseException as err:  # MemoryError, torch's RuntimeError: a size that slipped past the check
        said[name] = [type(err).__name__, str(err)[:300], []]
print(json.dumps(said))
'''


@pytest.fixture(scope='module')
def weights_files(tmp_path_factory):
    """A small UNet's weights, and copies whose notes say 1,000,000 filters, and a DUNet of dilation 10,000 (the
    tensors are the small ones: only the notes lie)."""
    import torch
    from colorlib.checkpoints import save_weights
    from colorlib.targets import TargetConfig, build_target
    folder = tmp_path_factory.mktemp('worst')
    target = build_target(TargetConfig())
    paths = {}
    for name, model, field, value in (('small', 'UNet', None, None), ('huge', 'UNet', 'filters', 10 ** 6),
                                      ('dunet', 'DUNet', 'dilation', 10_000)):
        net = build_model(ModelConfig(model, 3, 4, target.out_channels))
        save_weights(net, folder / f'{name}.pkl', target=target)
        if field:
            state = torch.load(folder / f'{name}.pkl', weights_only=True)
            state._metadata['colorlib']['model'][field] = value
            torch.save(state, folder / f'{name}.pkl')
        paths[name] = folder / f'{name}.pkl'
    return paths


def test_the_worst_sizes_are_refused_on_every_path_under_an_address_space_limit(weights_files):
    proc = subprocess.run([sys.executable, '-c', WORST, str(LIMIT), *map(str, weights_files.values())],
                          capture_output=True, text=True, timeout=300, cwd=REPO,
                          env={**os.environ, 'PYTHONPATH': str(REPO)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    said = json.loads(proc.stdout.splitlines()[-1])
    expected = {'fit filters': ['filters'], 'fit kernel': ['kernel'], 'fit dilation': ['dilation'],
                'fit init': ['init'], 'load metadata filters': ['weights'], 'load metadata dilation': ['weights'],
                'load keyword filters': ['filters'], 'colorize net_size': ['net_size'],
                'colorize net_size 20000': ['net_size'], 'colorize tile': ['tile'], 'predict batch': ['rgb_images'],
                'activations': ['image'], 'evaluate': ['test_x'], 'evaluate batch': ['batch_size']}
    for case, fields in expected.items():
        kind, message, named = said[case]
        assert kind in ('TooBig', 'InputError') and fields[0] in named, (case, said[case])
    for case in ('fit filters', 'colorize net_size', 'colorize tile', 'evaluate batch'):
        assert 'would fit' in said[case][1], said[case]
    assert 'to train' not in said['load metadata filters'][1] and 'filters=' not in said['load metadata filters'][1]
    assert said['colorize net_size'][1].startswith(str(REPO / 'weights'))  # the file, and colouring: not training
    assert 'colouring a 40x50 picture at net size 1000000' in said['colorize net_size'][1]


def test_a_refusal_says_the_action_and_never_a_model_size_of_a_file():
    config = ModelConfig('UNet', 3, 10 ** 6, 24)
    with pytest.raises(TooBig) as caught:
        check_fits(config, 'evaluate', batch_size=100, chosen=('batch_size',), source='w.pkl', free=10 ** 9)
    assert caught.value.fields == ('weights',) and 'evaluating it' in str(caught.value)
    assert 'train' not in str(caught.value) and 'filters=' not in str(caught.value)
    with pytest.raises(TooBig) as caught:
        check_fits(config, 'train', batch_size=100, free=10 ** 9)
    assert caught.value.fields[0] == 'filters' and caught.value.fits[0][0] == 'filters'
    assert check_fits(ModelConfig('UNet', 3, 4, 24), 'train', batch_size=2, free=10 ** 9) <= 10 ** 9


def limited(argv, cwd):
    """A command of the repository's in a process of LIMIT bytes of address space: (status, stdout, stderr)."""
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))
    proc = subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=300, cwd=cwd,
                          preexec_fn=limit, env={**os.environ, 'PYTHONPATH': str(REPO), 'MPLBACKEND': 'Agg'})
    return proc.returncode, proc.stdout, proc.stderr


def test_the_commands_refuse_the_worst_sizes_in_their_own_words(weights_files, tmp_path):
    Image.fromarray(np.zeros((40, 50, 3), np.uint8)).save(tmp_path / 'x.bmp')
    Image.fromarray(np.zeros((40, 50, 3), np.uint8)).save(tmp_path / 'y.png')
    code, out, err = limited([str(REPO / 'colorize.py'), 'x.bmp', 'y.png', '--net-size', '1000000', '-o', 'out'],
                             tmp_path)
    # every file refused, none coloured: status 2 (1 is for a folder with the rest done)
    assert code == 2 and 'Traceback' not in err and err.count('skipped') == 2, err
    assert '--net-size' in err and 'colouring a 40x50 picture' in err and 'would fit' in err and 'train' not in err
    assert '0 of 2 images colourized' in out
    huge = str(weights_files['huge'])
    for argv in ([str(REPO / 'colorization.py'), '--valid', '--checkpoint', huge],
                 [str(REPO / 'activations.py'), '0', '--checkpoint', huge],
                 [str(REPO / 'colorize.py'), 'x.bmp', '--checkpoint', huge],
                 [str(REPO / 'colorization.py'), '--init', huge, '-e', '1']):
        code, out, err = limited(argv, tmp_path)
        flag = '--init' if '--init' in argv else '--checkpoint'
        assert code == 2 and err.count('\n') == 1 and 'Traceback' not in err, (argv, err)
        assert f'{flag}: {huge} holds a UNet with 1000000 filters' in err and 'loading it needs' in err, err
        assert ' -f' not in err and 'would fit' not in err, err  # nothing that contradicts the file
