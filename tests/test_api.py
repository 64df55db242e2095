"""The Python API a notebook reads (colorlib.load, colorlib.fit and the Model they give): nothing printed or
written unless asked, pictures as arrays and figures, weights that say what they hold."""
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

import colorlib
from colorlib import machine
from colorlib.errors import Busy, InputError, RunExists
from colorlib.files import held
from conftest import needs_shared, assignment_colours_path, assignment_weights_path, one_line_error


@pytest.fixture(scope='module')
def tiny_run(horses):
    """One epoch of a 4-filter CNN on 60 horses, in memory only."""
    return colorlib.fit(model='CNN', filters=4, epochs=1, batch_size=20, train_x=horses[0][:60],
                          test_x=horses[1][:20], device='cpu')


def test_train_prints_and_writes_nothing_unless_asked(tiny_run, tmp_path, monkeypatch, capsys, horses):
    assert len(tiny_run.history) == 1 and set(tiny_run.history[0]) >= {'train_loss', 'val_loss', 'val_acc'}
    assert tiny_run.files == {} and isinstance(tiny_run.curve(), Figure)
    monkeypatch.chdir(tmp_path)
    colorlib.fit(model='RegressionCNN', filters=4, epochs=1, train_x=horses[0][:20], test_x=horses[1][:10],
                   device='cpu')
    assert list(tmp_path.iterdir()) == [] and capsys.readouterr() == ('', '')


def test_bfloat16_asked_for_where_it_is_emulated_warns_without_a_log(horses, monkeypatch, recwarn):
    monkeypatch.setattr(machine, 'cpu_capabilities', lambda: {'avx2': True})  # a CPU without bfloat16
    colorlib.fit(model='RegressionCNN', filters=4, epochs=1, train_x=horses[0][:20], test_x=horses[1][:10],
                 device='cpu', amp='on')
    assert [str(w.message).split(':')[0] for w in recwarn] == ['bfloat16 asked for, but this CPU has no bfloat16 '
                                                               'arithmetic']


def test_train_logs_and_writes_a_run_when_asked(horses, tmp_path, capsys):
    lines = []
    run = colorlib.fit(model='UNet', filters=4, epochs=2, batch_size=30, train_x=horses[0][:60],
                         test_x=horses[1][:20], out_dir=tmp_path / 'run', log=lines.append, device='cpu')
    assert lines[0].startswith('precision: ')  # what the machine decided for --amp's 'off' default
    assert [line.split(',')[0] for line in lines[1:3]] == ['Epoch [1/2]', 'Epoch [2/2]']
    assert lines[3:] == [f'Training curve: {run.files["curve"]}', f'Samples: {run.files["samples"]}',
                         f'Weights saved to {run.files["weights"]}']  # each file it wrote
    assert sorted(p.name for p in (tmp_path / 'run').iterdir()) == sorted(
        ['metrics.jsonl', 'resume.pt', 'training_curve.png', 'samples.png', 'weights.pkl'])
    with pytest.raises(RunExists) as e:  # a folder holding a run is not started again unless asked
        colorlib.fit(model='UNet', filters=4, epochs=1, train_x=horses[0][:20], test_x=horses[1][:10],
                       out_dir=tmp_path / 'run', device='cpu')
    assert e.value.fields == ('out_dir',) and e.value.resumable and 'resume.pt at epoch 2' in str(e.value)
    loaded = colorlib.load(tmp_path / 'run' / 'weights.pkl')  # no settings: the file says what it holds
    assert loaded.config == run.model.config and loaded.run_name == 'unet'
    assert loaded.evaluate(horses[1][:20])['loss'] == pytest.approx(run.history[-1]['val_loss'], rel=1e-5)
    assert capsys.readouterr() == ('', '')


def test_a_run_folder_or_weights_another_run_holds_are_refused_naming_the_setting(horses, tmp_path):
    for place, field in [(tmp_path / 'run', 'out_dir'), (tmp_path / 'mine.pkl', 'weights')]:
        with held(place, folder=field == 'out_dir'), pytest.raises(Busy) as e:
            colorlib.fit(model='CNN', filters=4, epochs=1, train_x=horses[0][:20], test_x=horses[1][:10],
                         out_dir=tmp_path / 'run', weights=tmp_path / 'mine.pkl', device='cpu')
        assert e.value.fields == (field,) and 'in use by another run' in str(e.value)
    assert not (tmp_path / 'mine.pkl').exists() and not (tmp_path / 'run' / 'metrics.jsonl').exists()


def test_what_only_a_run_with_files_can_do_needs_out_dir(horses):
    for setting in ({'weights': 'mine.pkl'}, {'resume': True}, {'epoch_samples': True}):
        with pytest.raises(InputError) as e:
            colorlib.fit(model='CNN', filters=4, epochs=1, train_x=horses[0][:20], test_x=horses[1][:10],
                         device='cpu', **setting)
        assert e.value.fields == tuple(setting) and 'out_dir' in str(e.value)


@pytest.mark.parametrize('setting,field', [
    ({'epochs': 0}, 'epochs'), ({'batch_size': 0}, 'batch_size'), ({'lr_schedule': 'cos'}, 'lr_schedule'),
    ({'epochs': '2'}, 'epochs'), ({'kernel': 2}, 'kernel'), ({'filters': 0}, 'filters'),
    ({'train_x': 'sides of 30'}, 'train_x'), ({'train_x': 'none'}, 'train_x'), ({'test_x': None}, 'test_x')])
def test_fit_refuses_bad_settings_before_anything_is_written(setting, field, horses, tmp_path):
    train_x = {'sides of 30': horses[0][:20, :30, :30], 'none': horses[0][:0]}.get(setting.get('train_x'))
    settings = {'model': 'CNN', 'filters': 4, 'epochs': 1, 'test_x': horses[1][:10], 'device': 'cpu', **setting,
                'train_x': horses[0][:20] if train_x is None else train_x}
    with pytest.raises(InputError) as e:
        colorlib.fit(out_dir=tmp_path / 'run', **settings)
    one_line_error(e)
    assert e.value.fields == (field,) and not (tmp_path / 'run').exists()


@pytest.mark.parametrize('setting, field', [({'kernel': 2}, 'kernel'), ({'model': 'ResNet'}, 'model'),
                                            ({'filters': 0}, 'filters')])
def test_model_settings_are_refused_before_any_image_is_read(setting, field, tmp_path):
    with pytest.raises(InputError) as e:
        colorlib.fit(data=tmp_path / 'no such folder', device='cpu', **setting)
    assert e.value.fields == (field,)


def test_fit_takes_one_augmentation_by_name(horses, monkeypatch):
    import colorlib.train
    kinds, real = [], colorlib.train.augment
    monkeypatch.setattr(colorlib.train, 'augment', lambda x, y, k, g=None: (kinds.append(k), real(x, y, k, g))[1])
    colorlib.fit(model='CNN', filters=4, epochs=1, augment='hflip', train_x=horses[0][:20], test_x=horses[1][:10],
                 device='cpu')
    assert kinds and set(kinds) == {('hflip',)}  # not the letters of 'hflip'


def test_fit_from_weights_takes_the_target_settings_given(horses):
    again = colorlib.fit(init=colorlib.api.weights_path('unet_lab'), rebalance=0.5, soft=True, temperature=0.1,
                         epochs=1, learn_rate=0.0, train_x=horses[0][:20], test_x=horses[1][:10], device='cpu')
    config = again.model.target.config
    assert (config.kind, config.rebalance, config.soft, config.temperature) == ('lab', 0.5, True, 0.1)


@pytest.mark.parametrize('setting,field', [({'model': 'UNet'}, 'model'), ({'filters': 32}, 'filters'),
                                           ({'kernel': 5}, 'kernel'), ({'task': 'superres'}, 'target.task'),
                                           ({'kind': 'rgb'}, 'target.kind')])
def test_fit_from_a_model_refuses_what_contradicts_it_as_from_its_file(setting, field, tiny_run, horses, tmp_path):
    tiny_run.model.save(tmp_path / 'w.pkl')
    for init in (tiny_run.model, tmp_path / 'w.pkl'):
        with pytest.raises(InputError) as e:
            colorlib.fit(init=init, epochs=1, train_x=horses[0][:20], test_x=horses[1][:10], device='cpu', **setting)
        one_line_error(e, 'not')
        assert e.value.fields == (field,)


def test_fit_from_a_model_takes_the_target_settings_given(horses):
    again = colorlib.load('unet_lab').fit(rebalance=0.5, soft=True, temperature=0.1, epochs=1, learn_rate=0.0,
                                          train_x=horses[0][:20], test_x=horses[1][:10], device='cpu')
    config = again.model.target.config
    assert (config.kind, config.rebalance, config.soft, config.temperature) == ('lab', 0.5, True, 0.1)
    assert not again.model.target.keeps_palette  # the shipped bins, as from the file: none saved beside the weights


def test_a_model_gives_arrays_and_figures(tiny_run, horses):
    model = tiny_run.model
    pictures = model.predict(horses[1][:3])
    assert pictures.shape == (3, 32, 32, 3) and pictures.dtype == np.uint8
    coloured = model.colorize(horses[1][0].mean(2).astype(np.uint8).repeat(3, 0).repeat(3, 1))  # 96x96 grey
    assert coloured.shape == (96, 96, 3) and coloured.dtype == np.uint8
    acts = model.activations(horses[1][4])
    assert list(acts)[0] == 'input' and list(acts)[-1] == 'output' and '1_downconv1' in acts
    assert all(isinstance(fig, Figure) for fig in acts.values())
    assert isinstance(model.samples(horses[1][:10]), Figure)


def test_pictures_are_uint8_or_float_from_0_to_1_alike_everywhere(tiny_run, horses):
    model, pictures = tiny_run.model, horses[1][:4]
    assert np.array_equal(model.predict(pictures / 255), model.predict(pictures))
    assert np.array_equal(model.colorize(pictures[0] / 255), model.colorize(pictures[0]))
    assert model.evaluate(pictures / 255) == model.evaluate(pictures)


def test_grey_pictures_keep_every_level_in_colorize(tiny_run):
    """A float grey picture goes in as colorize.py reads 16-bit grey, every level kept; (H, W, 1) is (H, W)."""
    model, grey = tiny_run.model, np.linspace(0, 1, 64 * 64, dtype=np.float32).reshape(64, 64)
    eight = (grey * 255).round().astype(np.uint8)
    assert np.array_equal(model.colorize(grey), model.colorize(grey[:, :, None]))
    assert np.array_equal(model.colorize(eight), model.colorize(eight[:, :, None]))
    assert not np.array_equal(model.colorize(grey), model.colorize(eight))  # the levels between bytes count


BAD_PICTURES = {  # what was once taken for near-black or near-white pictures, an alpha folded in, or a raw exception
    'uint16': (lambda m, x: m.predict(x.astype(np.uint16)), 'rgb_images'),
    'float 0-255': (lambda m, x: m.predict(x.astype(np.float32)), 'rgb_images'),
    'RGBA': (lambda m, x: m.predict(np.concatenate([x, x[..., :1]], 3)), 'rgb_images'),
    'no images': (lambda m, x: m.predict(x[:0]), 'rgb_images'),
    'colorize int64': (lambda m, x: m.colorize(x[0].astype(np.int64)), 'image'),
    'colorize float 0-255': (lambda m, x: m.colorize(x[0] * 1.0), 'image'),
    'colorize 0x0': (lambda m, x: m.colorize(x[0, :0, :0]), 'image'),
    'colorize grey float 0-255': (lambda m, x: m.colorize(x[0, :, :, 0] * 1.0), 'image'),
    'tile 0': (lambda m, x: m.colorize(x[0], tile=0), 'tile'),
    'test index out of range': (lambda m, x: m.activations(99999), 'image'),
    'test index negative': (lambda m, x: m.activations(-1), 'image'),  # a test image's number, 0-based
    'evaluate float 0-255': (lambda m, x: m.evaluate(x * 1.0), 'test_x'),
    'no weights': (lambda m, x: colorlib.load(None), 'weights')}


@pytest.mark.parametrize('case', BAD_PICTURES)
def test_other_pictures_are_refused_naming_the_argument(case, tiny_run, horses):
    call, field = BAD_PICTURES[case]
    with pytest.raises(InputError) as e:
        call(tiny_run.model, horses[1][:4])
    one_line_error(e, field)
    assert e.value.fields == (field,)


def test_fit_further_from_a_model(tiny_run, horses):
    again = tiny_run.model.fit(epochs=1, learn_rate=0.0, train_x=horses[0][:20], test_x=horses[1][:20],
                                 device='cpu')
    assert again.model.config == tiny_run.model.config
    # at learning rate 0 only BatchNorm's running statistics move: the weights are those it started from
    start, end = tiny_run.model.net.state_dict(), again.model.net.state_dict()
    assert all(torch.equal(start[k], end[k]) for k in start if k.endswith('conv.weight') or k.endswith('0.weight'))


def test_shipped_weights_by_name_and_contradictions_refused():
    unet = colorlib.load('unet')
    assert unet.run_name == 'unet' and unet.config.filters == 32 and 'unet' in colorlib.names()
    assert colorlib.load('superres_unet_res').target.residual
    with pytest.raises(InputError) as e:
        colorlib.load('unet', model='CNN')
    one_line_error(e, 'unet_k3_f32.pkl', "'UNet'", "'CNN'")
    assert e.value.fields == ('model',)  # the keyword given
    with pytest.raises(InputError) as e:
        colorlib.load('unet', kind='rgb')
    assert e.value.fields == ('target.kind',)


def test_weights_that_say_they_hold_more_than_they_do_are_refused_before_building(tmp_path):
    """A few numbers that say they are a UNet of 2000 filters (over 300 million parameters, small enough for the
    memory rule to let it be built) are refused from the parameter count on the meta device, before a minute or
    more of building it; 10000 filters are refused earlier still, by memory.check_fits (test_memory)."""
    from collections import OrderedDict
    from colorlib.checkpoints import read_weights
    state = read_weights(colorlib.shipped.weights('unet_k3_f32'))
    about = state._metadata['colorlib']
    small = OrderedDict(list(state.items())[:1])
    small._metadata = {'colorlib': {**about, 'model': {**about['model'], 'filters': 2000}}}
    torch.save(small, tmp_path / 'w.pkl')
    with pytest.raises(InputError) as e:
        colorlib.load(tmp_path / 'w.pkl')
    one_line_error(e, 'w.pkl', 'UNet of 2000 filters', 'holds 288 numbers')
    assert e.value.fields == ('weights',)


def test_weights_trained_on_other_colours_need_them_given(tmp_path):
    """A file says the digest of its colours: the shipped ones are not silently used for others; colours given win."""
    from colorlib.checkpoints import save_weights
    from colorlib.models import ModelConfig, build_model
    from colorlib.targets import ColourClasses
    other = ColourClasses(torch.rand(24, 3, generator=torch.Generator().manual_seed(0)))
    save_weights(build_model(ModelConfig(name='CNN', filters=4)), tmp_path / 'w.pkl', target=other)
    with pytest.raises(InputError) as e:
        colorlib.load(tmp_path / 'w.pkl')
    one_line_error(e, 'w.pkl', 'trained on other colours')
    assert e.value.fields == ('target.colours',)
    shipped = colorlib.shipped.DEFAULT_COLOURS
    assert colorlib.load(tmp_path / 'w.pkl', colours=shipped).config.name == 'CNN'


def test_configs_by_keyword_refuse_what_cannot_be():
    with pytest.raises(InputError) as e:
        colorlib.fit(model='RegressionCNN', kind='classes', epochs=1)
    one_line_error(e, 'RegressionCNN')
    assert e.value.fields == ('target.kind',)
    with pytest.raises(InputError) as e:
        colorlib.TargetConfig(kind='rgb', residual=True)
    assert e.value.needs == {'target.task': 'superres'}


@needs_shared
def test_the_assignments_weights_load_with_their_settings():
    unet = colorlib.load(assignment_weights_path('UNet', 32), model='UNet', colours=assignment_colours_path(24))
    figures = unet.evaluate()
    assert f'{figures["loss"]:.4f}, {figures["accuracy"]:.1f}' == '1.3786, 48.2'  # the assignment's figure


# ---------------------------------------------------------------------------------------------------------------------
# the commands' own calls: weights opened, images read and the work done in one call, every setting checked first

def test_evaluate_opens_reads_and_evaluates_in_one_call(tiny_npz, tmp_path):
    done = colorlib.evaluate(model='CNN', data=tiny_npz, legacy=True, seed=3, samples_dir=tmp_path)
    train_x, test_x = colorlib.load_images(tiny_npz)
    alone = colorlib.load('cnn').evaluate(test_x, legacy=True, seed=3, num_train=len(train_x))
    assert done.model.path == colorlib.shipped.weights('cnn_k3_f32') and done.model.run_name == 'cnn'
    assert {k: v for k, v in done.figures.items() if k != 'samples'} == alone  # legacy's order: the images read
    assert done.figures['samples'] == tmp_path / 'eval_CNN.png' and list(tmp_path.iterdir()) == [done.figures['samples']]


@pytest.mark.parametrize('setting, field', [({'batch_size': 0}, 'batch_size'), ({'seed': -1}, 'seed'),
                                            ({'amp': 'maybe'}, 'amp'), ({'image_size': 4}, 'image_size'),
                                            ({'kernel': 2}, 'kernel')])
def test_evaluate_refuses_a_bad_setting_before_any_file_is_read(setting, field, tmp_path):
    with pytest.raises(InputError) as e:
        colorlib.evaluate(tmp_path / 'nope.pkl', data=tmp_path / 'nope.npz', samples_dir=tmp_path, **setting)
    assert e.value.fields == (field,) and list(tmp_path.iterdir()) == []


def test_a_refusal_of_the_weights_opened_says_they_are_its_source(tiny_npz, tmp_path):
    """As fit says init, evaluate, colorize_files and activations say the weights a refusal came from."""
    for call in (lambda **kw: colorlib.evaluate(data=tiny_npz, **kw),
                 lambda **kw: colorlib.colorize_files(['a.png'], out_dir=tmp_path, **kw),
                 lambda **kw: colorlib.activations(0, data=tiny_npz, runs_dir=tmp_path, **kw)):
        with pytest.raises(InputError) as missing:
            call(weights=tmp_path / 'nope.pkl')
        assert missing.value.source == 'weights' and 'nope.pkl' in str(missing.value)
        with pytest.raises(InputError) as contradicted:
            call(weights=colorlib.shipped.weights('unet_k3_f32'), model='CNN')
        assert (contradicted.value.source, contradicted.value.fields) == ('weights', ('model',))
    assert list(tmp_path.iterdir()) == []


def test_colorize_files_opens_the_weights_and_colours_the_files(tmp_path):
    from PIL import Image
    from conftest import smooth_rgb
    Image.fromarray(smooth_rgb(24, 20)).save(tmp_path / 'a.png')
    done = colorlib.colorize_files([tmp_path / 'a.png'], model='CNN', out_dir=tmp_path / 'out')
    assert done.written == {tmp_path / 'a.png': tmp_path / 'out' / 'a_colorized.png'} and not done.failed
    alone = colorlib.load('cnn').colorize(np.asarray(Image.open(tmp_path / 'a.png')))
    assert np.array_equal(np.asarray(Image.open(tmp_path / 'out' / 'a_colorized.png')), alone)
    with pytest.raises(InputError) as e:  # before the weights are read
        colorlib.colorize_files([tmp_path / 'a.png'], tmp_path / 'nope.pkl', out_dir=tmp_path / 'x', tile=2)
    assert e.value.fields == ('tile',) and not (tmp_path / 'x').exists()


def test_activations_draws_one_model_or_every_kind_and_refuses_them_mixed(tiny_npz, tmp_path):
    said = []
    folders = colorlib.activations(3, model='CNN', data=tiny_npz, runs_dir=tmp_path / 'runs', log=said.append)
    assert folders == [tmp_path / 'runs' / 'CNN' / 'act3'] and (folders[0] / 'input.png').is_file()
    assert said == [f'Activations of test image 3 written to {folders[0]}/']
    with pytest.raises(InputError) as e:
        colorlib.activations(3, colorlib.shipped.weights('cnn_k3_f32'), every_kind=True, data=tiny_npz)
    assert e.value.fields == ('weights', 'every_kind')
    with pytest.raises(InputError) as e:
        colorlib.activations(3, weights_dir=tmp_path, data=tiny_npz)
    assert e.value.fields == ('weights_dir',) and e.value.needs == {'every_kind': True}
    with pytest.raises(InputError) as e:
        colorlib.activations(10 ** 6, model='CNN', data=tiny_npz, runs_dir=tmp_path / 'more')
    assert e.value.fields == ('image',) and not (tmp_path / 'more').exists()


# ---------------------------------------------------------------------------------------------------------------------
# the contract: every bad argument to a public function is an InputError whose fields name it. The arguments come from
# each function's signature, so a new one is in this test at once: it fails until ARGUMENTS says what the argument is.

import inspect  # noqa: E402

from colorlib.models import ModelConfig  # noqa: E402
from colorlib.targets import TargetConfig  # noqa: E402
from colorlib.train import TrainConfig  # noqa: E402

RAGGED = [[[0, 1, 2], [3, 4, 5]], [[6, 7, 8]]]
NUL, NAN, INF = 'a\0b', float('nan'), float('inf')
BAD = {  # the bad values of each kind of argument
    'flag': ['no', 'false', 'yes', 1, 0, None, 2.5],
    'flag or None': ['no', 'false', 'yes', 1, 0, 2.5],
    'count': [0, -1, 2.5, '10', True, None, NAN],
    'count or None': [0, -1, 2.5, '10', True, NAN],
    'odd count or None': [0, 2, -1, 2.5, '3', True],
    'whole or None': [-1, 2.5, '3', True],
    'seed': [-1, 2.5, 'a', True, 2 ** 32, None],
    'path': ['', '  ', NUL, 5, 2.5, ['x'], None],
    'path or None': ['', NUL, 5, ['x']],
    'paths': ['x.pkl', [5], [''], [NUL]],
    'init': ['', NUL, 5, ['x']],
    'pictures': [RAGGED, 'abc', 5, np.zeros((2, 8, 8)), np.full((2, 8, 8, 3), NAN), np.full((2, 8, 8, 3), 300.0),
                 np.zeros((2, 8, 8, 3), np.int64)],
    'pictures or None': [RAGGED, 'abc', 5, np.zeros((2, 8, 8)), np.full((2, 8, 8, 3), NAN)],
    'picture': [RAGGED, 'abc', 5, np.zeros((8, 8, 4)), np.full((8, 8, 3), NAN), np.full((8, 8), -3.0)],
    'picture or index': [True, 10 ** 6, -10 ** 6, RAGGED, 'abc', np.full((8, 8, 3), NAN)],
    'function or None': [5, 'print'],
    'device': ['gpu9', 5, '', None], 'device or None': ['gpu9', 5, ''],
    'model or None': ['Bogus', 5, ''],
    'model': ['Bogus', 5, '', None],
    'category': ['dragon', 10, -1, None, 2.5],
    'categories': ['horse', ['dragon'], 5, [None]],
    'target or None': ['classes', 5],
    'kind': ['bogus', 5, None], 'kind or None': ['bogus', 5],
    'task': ['bogus', 5, None], 'task or None': ['bogus', 5],
    'share of 1': [-0.1, 1.5, 'a', NAN, True], 'share of 1 or None': [-0.1, 1.5, 'a', NAN, True],
    'temperature': [-1, 'a', NAN, INF, None], 'temperature or None': [-1, 'a', NAN, INF],
    'val_share': [0, 1, 'a', NAN, None], 'image_size': [4, 2.5, '32', True, None], 'memory': [0, -1, 'a', 2.5],
    'rate': [-1, 'a', NAN, INF, None, True], 'below 1': [-0.1, 1, 'a', NAN, None],
    'own settings': ['x', 5, [('bogus', 1)], [('filters', 3)]],
    'lr_schedule': ['bogus', 5, None], 'augment': ['bogus', 5, ['flip', 'bogus']], 'amp': ['maybe', 5, None],
    'recipe or None': ['fsat', 'Fast', '', 5, ['fast']],
    'index': [True, 2.5, '3', None, 10 ** 6], 'numbers of colours': [3, [], [1], [2.5], ['4'], [True]],
}
OPENED = {'weights': 'path or None', 'device': 'device', 'model': 'model or None', 'kernel': 'odd count or None',
          'filters': 'count or None', 'kind': 'kind or None', 'task': 'task or None', 'colours': 'path or None',
          'temperature': 'temperature or None'}  # the weights a command's call opens: as load takes them
IMAGES = {'data': 'path or None', 'download': 'flag', 'category': 'category', 'image_size': 'image_size',
          'val_share': 'val_share', 'cache_dir': 'path or None', 'on_skip': 'function or None',
          'log': 'function or None'}  # as load_images
REMADE = {'images': 'pictures or None', 'out_dir': 'path', 'category': 'category', 'overwrite': 'flag',
          'reads': 'paths', **IMAGES}
ARGUMENTS = {  # (function, argument) -> its kind; a function's own table where one name means two things
    'load': {'weights': 'path', 'device': 'device'},
    'load_images': {'data': 'path or None', 'download': 'flag', 'category': 'category',
                    'extra_categories': 'categories', 'image_size': 'image_size', 'val_share': 'val_share',
                    'cache_dir': 'path or None', 'on_skip': 'function or None', 'memory': 'memory',
                    'log': 'function or None', 'device': 'device or None'},
    'fit': {'model': 'model or None', 'kernel': 'odd count or None', 'filters': 'count or None',
            'target': 'target or None', 'kind': 'kind or None', 'task': 'task or None',
            'colours': 'path or None', 'bins': 'path or None', 'residual': 'flag or None',
            'rebalance': 'share of 1 or None', 'soft': 'flag or None', 'temperature': 'temperature or None',
            'data': 'path or None', 'download': 'flag', 'category': 'category', 'extra_categories': 'categories',
            'image_size': 'image_size', 'val_share': 'val_share', 'cache_dir': 'path or None',
            'on_skip': 'function or None', 'runs_dir': 'path or None', 'train_x': 'pictures or None', 'test_x': 'pictures or None', 'init': 'init', 'out_dir': 'path or None',
            'weights': 'path or None', 'resume': 'flag', 'overwrite': 'flag', 'epoch_samples': 'flag',
            'sync_bn': 'flag', 'progress': 'flag', 'log': 'function or None', 'device': 'device',
            'on_epoch': 'function or None', 'stop_signal': 'function or None', 'recipe': 'recipe or None'},
    'evaluate': {'test_x': 'pictures or None', 'legacy': 'flag', 'flips': 'flag', 'batch_size': 'count',
                 'seed': 'seed', 'num_train': 'whole or None', 'amp': 'amp', 'samples_dir': 'path or None',
                 'reads': 'paths'},
    'predict': {'rgb_images': 'pictures'},
    'colorize': {'image': 'picture', 'tile': 'count', 'margin': 'whole or None', 'net_size': 'count or None',
                 'flips': 'flag'},
    'chroma': {'image': 'picture', 'tile': 'count', 'margin': 'whole or None', 'net_size': 'count or None',
               'flips': 'flag'},
    'samples': {'test_x': 'pictures or None'},
    'activations': {'image': 'picture or index', 'out_dir': 'path or None', 'reads': 'paths',
                    'runs_dir': 'path or None', 'test_x': 'pictures or None'},
    'colorize_files': {'paths': 'paths', 'out_dir': 'path', 'compare': 'flag', 'temporal': 'flag',
                       'reference': 'paths', 'save_weights': 'path or None', 'overwrite': 'flag', 'tile': 'count',
                       'margin': 'whole or None', 'net_size': 'count or None', 'flips': 'flag', 'reads': 'paths',
                       'progress': 'flag', 'log': 'function or None', 'on_skip': 'function or None',
                       'on_note': 'function or None'},
    'save': {'path': 'path', 'replace': 'flag', 'reads': 'paths'},
    'colorlib.evaluate': {**OPENED, **IMAGES, 'extra_categories': 'categories', 'legacy': 'flag', 'flips': 'flag',
                          'batch_size': 'count', 'seed': 'seed', 'amp': 'amp', 'samples_dir': 'path or None'},
    'colorlib.colorize_files': {**OPENED, 'paths': 'paths', 'out_dir': 'path', 'compare': 'flag', 'temporal': 'flag',
                                'reference': 'paths', 'save_weights': 'path or None', 'overwrite': 'flag',
                                'tile': 'count', 'margin': 'whole or None', 'net_size': 'count or None',
                                'flips': 'flag', 'progress': 'flag', 'log': 'function or None',
                                'on_skip': 'function or None', 'on_note': 'function or None'},
    'colorlib.activations': {**OPENED, **IMAGES, 'image': 'index', 'every_kind': 'flag',
                             'weights_dir': 'path or None', 'runs_dir': 'path'},
    'remake_colours': {**REMADE, 'k': 'numbers of colours', 'seed': 'seed'},
    'remake_bins': REMADE,
    'TrainConfig': {'epochs': 'count', 'batch_size': 'count', 'learn_rate': 'rate', 'seed': 'seed',
                    'lr_schedule': 'lr_schedule', 'weight_decay': 'rate', 'augment': 'augment', 'amp': 'amp',
                    'compile': 'flag', 'save_every': 'count', 'warmup': 'rate', 'ema': 'below 1',
                    'label_smoothing': 'below 1'},
    'ModelConfig': {'name': 'model', 'kernel': 'odd count or None', 'filters': 'count', 'out_channels': 'count',
                    'in_channels': 'count', 'own': 'own settings'},
    'TargetConfig': {'kind': 'kind', 'task': 'task', 'colours': 'path or None', 'bins': 'path or None',
                     'residual': 'flag', 'rebalance': 'share of 1 or None', 'soft': 'flag',
                     'temperature': 'temperature', 'own': 'own settings'},
}


def public_calls(model, pictures, tmp_path, data):
    """name -> (the function, the good arguments it is tried with, one at a time replaced by a bad one)."""
    from colorlib.remake import remake_bins, remake_colours
    small = pictures[:4]
    return {
        'load': (colorlib.load, {'weights': 'unet'}),
        'load_images': (colorlib.load_images, {}),
        'fit': (colorlib.fit, {'model': 'CNN', 'filters': 2, 'epochs': 1, 'train_x': small, 'test_x': small,
                               'device': 'cpu'}),
        'evaluate': (model.evaluate, {'test_x': small}),
        'predict': (model.predict, {'rgb_images': small}),
        'colorize': (model.colorize, {'image': small[0]}),
        'chroma': (model.chroma, {'image': small[0]}),
        'samples': (model.samples, {'test_x': small}),
        'activations': (model.activations, {'image': small[0]}),
        'colorize_files': (model.colorize_files, {'paths': ['nowhere.png'], 'out_dir': tmp_path / 'none'}),
        'save': (model.save, {'path': tmp_path / 'saved.pkl'}),
        'colorlib.evaluate': (colorlib.evaluate, {'data': data}),
        'colorlib.colorize_files': (colorlib.colorize_files, {'paths': ['nowhere.png'], 'out_dir': tmp_path / 'none'}),
        'colorlib.activations': (colorlib.activations, {'image': 0, 'data': data, 'runs_dir': tmp_path / 'runs'}),
        'remake_colours': (remake_colours, {'data': data, 'k': [2], 'out_dir': tmp_path / 'colours'}),
        'remake_bins': (remake_bins, {'data': data, 'out_dir': tmp_path / 'bins'}),
        'TrainConfig': (TrainConfig, {}), 'ModelConfig': (ModelConfig, {}), 'TargetConfig': (TargetConfig, {}),
    }


def names_it(err, argument):
    return any(field == argument or field.endswith(f'.{argument}') for field in err.fields)


def test_every_bad_argument_of_every_public_function_is_an_input_error_naming_it(tiny_run, horses, tiny_npz,
                                                                                   tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tried, missed = 0, []
    for name, (function, good) in public_calls(tiny_run.model, horses[1][:8], tmp_path, tiny_npz).items():
        parameters = inspect.signature(function).parameters
        takes_more = any(p.kind == p.VAR_KEYWORD for p in parameters.values())  # declared ones: TargetConfig's
        for argument in [*parameters, *(a for a in ARGUMENTS[name] if takes_more and a not in parameters)]:
            if argument in parameters and parameters[argument].kind in (inspect.Parameter.VAR_KEYWORD,
                                                                        inspect.Parameter.VAR_POSITIONAL):
                continue
            assert argument in ARGUMENTS[name], f'{name}({argument}=...) is new: say its kind in ARGUMENTS'
            for bad in BAD[ARGUMENTS[name][argument]]:
                tried += 1
                try:
                    function(**{**good, argument: bad})
                    missed.append(f'{name}({argument}={bad!r}): taken')
                except InputError as err:
                    if not names_it(err, argument):
                        missed.append(f'{name}({argument}={bad!r}): {err} names {err.fields}')
                except Exception as err:  # noqa: BLE001 - any other exception breaks the contract
                    missed.append(f'{name}({argument}={bad!r}): {type(err).__name__}: {err}')
    assert not missed, f'{len(missed)} of {tried}:\n' + '\n'.join(missed)
    assert list(tmp_path.iterdir()) == []  # no bad argument wrote anything


DEVICE_CALLS = {  # each call a command makes, given files that are not there: refused for the device before it looks
    'fit': lambda device, out: colorlib.fit(data=out / 'no.npz', out_dir=out / 'run', device=device),
    'evaluate': lambda device, out: colorlib.evaluate(out / 'no.pkl', data=out / 'no.npz', samples_dir=out,
                                                      device=device),
    'colorize_files': lambda device, out: colorlib.colorize_files([out / 'no.png'], out / 'no.pkl', out_dir=out,
                                                                  device=device),
    'activations': lambda device, out: colorlib.activations(0, out / 'no.pkl', data=out / 'no.npz', runs_dir=out,
                                                            device=device),
}


@pytest.mark.parametrize('device', ['cuda', 'mps', 'tpu'])
@pytest.mark.parametrize('call', list(DEVICE_CALLS))
def test_a_device_not_here_or_unknown_is_refused_before_any_file_is_read(call, device, tmp_path, monkeypatch):
    """The commands pass --device as typed: the library picks it and refuses one that is not here (or no device at
    all), naming 'device', before it reads the weights or the images or writes anything."""
    monkeypatch.setattr(machine, 'available', lambda kind: kind == 'cpu')
    with pytest.raises(InputError) as caught:
        DEVICE_CALLS[call](device, tmp_path)
    assert caught.value.fields == ('device',), str(caught.value)
    said = f'unknown device {device!r}' if device == 'tpu' else f'no {device.upper()} device is available here'
    assert one_line_error(caught, said) and list(tmp_path.iterdir()) == []


def test_download_with_images_given_is_refused_before_anything_is_fetched(horses, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as caught:
        colorlib.fit(model='CNN', filters=2, epochs=1, train_x=horses[0][:4], test_x=horses[1][:4], download=True,
                     device='cpu')
    assert caught.value.fields == ('download', 'train_x') and one_line_error(caught, 'train_x and test_x give')
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize('call, named, near', [
    (lambda: colorlib.load('unet', kernal=5), 'kernal', 'kernel'),
    (lambda: colorlib.fit(bogus=3), 'bogus', None),
    (lambda: colorlib.fit(epoch=2), 'epoch', 'epochs'),
    (lambda: colorlib.fit(learning_rate=0.1), 'learning_rate', 'learn_rate'),
], ids=['load-kernal', 'fit-bogus', 'fit-epoch', 'fit-learning-rate'])
def test_an_unknown_keyword_is_named_with_the_nearest_known_one(call, named, near):
    with pytest.raises(InputError) as caught:
        call()
    assert caught.value.fields == (named,) and (near is None or f'did you mean {near}?' in str(caught.value))


def test_weights_keep_the_whole_description_of_their_run(horses, tmp_path):
    """The model, the target, the training settings, the data's digest and the colorlib version, as
    colorlib.load(path).about; weights that do not say how they were made (the shipped ones) still load."""
    run = colorlib.fit(model='CNN', filters=2, epochs=1, batch_size=10, ema=0.999999, train_x=horses[0][:20],
                       test_x=horses[1][:8], out_dir=tmp_path / 'run', device='cpu')
    about = colorlib.load(tmp_path / 'run' / 'weights.pkl').about
    assert about == run.model.about
    assert about['model']['name'] == 'CNN' and about['target']['kind'] == 'classes'
    said = about['run']
    assert (said['epochs'], said['ema'], said['data.images'], said['colorlib']) == (1, 0.999999, 20, colorlib.__version__)
    assert len(said['data.digest']) == 16
    shipped = colorlib.load('unet').about
    assert 'run' not in shipped and shipped['model']['filters'] == 32


@pytest.mark.parametrize('method, args', [('colorize', (np.zeros((8, 8, 3), np.uint8),)), ('evaluate', ()),
                                          ('save', ('x.pkl',)), ('colorize_video', ('a.mp4', 'b.mp4'))])
def test_a_keyword_a_method_does_not_take_is_an_input_error_with_the_nearest(method, args):
    """Model's methods say an unknown keyword as load and fit do, not with Python's TypeError."""
    with pytest.raises(InputError) as e:
        getattr(colorlib.load('unet'), method)(*args, tiles=64)
    assert e.value.fields == ('tiles',) and 'tiles' in str(e.value)
    if method.startswith('colorize'):  # they take tile
        assert 'did you mean tile?' in str(e.value)


def test_chroma_is_the_colour_colorize_paints():
    """Model.chroma gives the network's ab at the size it saw the picture; painted on the lightness at full size
    it is Model.colorize's picture."""
    from colorlib.resample import upsample_rows
    from colorlib.lab import lab_to_uint8, lightness_of
    model = colorlib.load('unet')
    image = np.random.default_rng(3).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    for net_size, size in ((20, (20, 30)), (None, (40, 60))):
        ab = model.chroma(image, net_size=net_size)
        assert ab.shape == (2, *size) and ab.dtype == torch.float32
        full = upsample_rows(ab, 40, 60, 0, 40)
        painted = lab_to_uint8(lightness_of(image), full[0], full[1], torch.empty(40, 60, 3, dtype=torch.uint8))
        assert np.array_equal(painted.numpy(), model.colorize(image, net_size=net_size))
