"""A network with a setting of its own is declared once, on its class (models.Setting), and registered: this file
declares one, and fit trains it, its weights save and load with the setting, the command line has its flag, a
refused value names it, and the memory check says what of it would fit, with no library file touched. So is a
target kind: one class that registers itself (targets.TARGETS), which fit learns, the weights name and the
command line chooses; with a setting and a palette of its own declared on it, TargetConfig carries the setting, the
command line has its flag, the weights note it and store the palette, and a bad value or palette is refused."""
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import colorlib
from colorlib.cli.colorization import build_parser
from colorlib.cli.common import flag_names, in_flag_terms, kind_flag, kind_of_flags
from colorlib.errors import InputError, TooBig
from colorlib.layers import MyConv2d
from colorlib.memory import check_fits, need_bytes
from colorlib.models import MODELS, ModelConfig, Setting, context, register
from colorlib.checkpoints import read_palette
from colorlib.colours import fit_colours, load_colours, save_colours
from colorlib.targets import RGB, TARGETS, ColourClasses, TargetConfig, build_target, configured, digest, palette_source


class Widened(torch.nn.Module):
    """A test network: a convolution in, one in the middle, one out, `width_mult` times `num_filters` wide."""
    stem, predicts = 'widened', None
    settings = (Setting('width_mult', 2, 1, 'how many times num_filters the layers are wide (default {default})'),)

    @staticmethod
    def spread(config):
        return config.width_mult  # not what a width does to the receptive field: to see the tiles follow it

    def __init__(self, kernel, num_filters, num_colours, num_in_channels=1, width_mult=2):
        super().__init__()
        wide = num_filters * width_mult
        self.downconv1 = torch.nn.Sequential(MyConv2d(num_in_channels, wide, kernel), torch.nn.ReLU())
        self.rfconv = torch.nn.Sequential(MyConv2d(wide, wide, kernel), torch.nn.BatchNorm2d(wide), torch.nn.ReLU())
        self.finalconv = MyConv2d(wide, num_colours, kernel)

    def forward(self, x):
        return self.finalconv(self.rfconv(self.downconv1(x)))


@pytest.fixture
def widened(monkeypatch):
    monkeypatch.setitem(MODELS, 'Widened', Widened)  # registered for this test only
    return register(Widened)


def test_a_registered_network_trains_saves_and_loads_with_its_own_setting(widened, horses, tmp_path):
    pictures = horses[1][:8]
    run = colorlib.fit('Widened', width_mult=3, filters=2, epochs=1, batch_size=4, train_x=pictures,
                       test_x=pictures, out_dir=tmp_path / 'run', device='cpu')
    assert run.model.config.width_mult == 3 and run.model.net.rfconv[0].weight.shape[0] == 6
    assert run.model.about['model']['width_mult'] == 3  # the weights' notes say it
    loaded = colorlib.load(run.files['weights'])
    assert loaded.config == run.model.config and loaded.config.width_mult == 3
    for key, value in run.model.net.state_dict().items():
        if not key.endswith('num_batches_tracked'):  # left out of weights files, as in the assignment's
            assert torch.equal(value.cpu(), loaded.net.state_dict()[key]), key
    with pytest.raises(InputError) as refused:  # a setting given must agree with what the file says
        colorlib.load(run.files['weights'], width_mult=2)
    assert refused.value.fields == ('width_mult',)
    assert context(loaded.config) > context(ModelConfig('Widened', width_mult=1))  # the tiles' margin follows it


def test_its_flag_comes_from_the_declaration_and_a_refused_value_names_it(widened):
    parser = build_parser()
    assert parser.parse_args(['--width-mult', '5']).width_mult == 5
    assert parser.parse_args([]).width_mult is None  # not given: the file's, else the declared default
    assert flag_names(parser)['width_mult'] == '--width-mult'
    said = next(a.help for a in parser._actions if a.dest == 'width_mult')
    assert said == 'Widened: how many times num_filters the layers are wide (default 2)'
    with pytest.raises(InputError) as refused:
        colorlib.fit('Widened', width_mult=0, epochs=1)
    assert refused.value.fields == ('width_mult',)
    assert in_flag_terms(refused.value, values={}).startswith('--width-mult: width_mult must be a whole number')


def test_the_memory_check_covers_its_own_setting(widened, horses):
    config = ModelConfig('Widened', filters=64, width_mult=4)
    free = (need_bytes(config, 'train') + need_bytes(ModelConfig('Widened', filters=64, width_mult=1), 'train')) // 2
    with pytest.raises(TooBig) as refused:  # the parameters grow with the width, as counted on the meta device
        check_fits(config, 'train', 'cpu', free=free)
    fits = dict(refused.value.fits)
    assert 'width_mult' in refused.value.fields and 1 <= fits['width_mult'] < 4
    assert 'width_mult 4' in str(refused.value)
    with pytest.raises(TooBig) as refused:  # fit asks the same rule before building the network
        colorlib.fit('Widened', width_mult=10 ** 7, filters=64, epochs=1, train_x=horses[1][:8],
                     test_x=horses[1][:8], device='cpu')
    assert 'width_mult' in refused.value.fields


@pytest.fixture
def l1_kind():
    class L1RGB(RGB):
        """A test kind: RGB regression trained on the mean absolute error."""
        kind, criterion, settings, words = 'rgb_l1', 'l1', (), 'RGB regression by L1'

        @classmethod
        def tag_of(cls, config):
            return 'l1'

        @classmethod
        def build(cls, config, fit_on=None, palette=None):
            return configured(cls(config.task), config)

        def loss(self, outputs, target, smoothing=0.0):
            return F.l1_loss(outputs, target)
    try:
        yield L1RGB
    finally:
        TARGETS.pop('rgb_l1')  # registered as the class was made; for this test only


def test_a_kind_declared_as_one_class_is_learnt_saved_and_chosen_by_the_flags(l1_kind, horses, tmp_path):
    assert TARGETS['rgb_l1'] is l1_kind and TargetConfig(kind='rgb_l1').tag == 'l1'
    pictures = horses[1][:8]
    run = colorlib.fit('UNet', kind='rgb_l1', filters=2, epochs=1, batch_size=4, train_x=pictures, test_x=pictures,
                       runs_dir=tmp_path, device='cpu')
    assert isinstance(run.model.target, l1_kind) and run.files['weights'].parent.name == 'unet_l1_k3_f2'
    loaded = colorlib.load(run.files['weights'])
    assert loaded.target.kind == 'rgb_l1' and loaded.about['target'] == run.model.about['target']
    assert kind_of_flags(None, 'l1') == 'rgb_l1' and kind_flag('rgb_l1') == '--loss l1'
    assert build_parser().parse_args(['--loss', 'l1']).loss == 'l1'
    with pytest.raises(InputError) as refused:  # its checks are the interface's: no residual but RGB's
        TargetConfig(kind='rgb_l1', task='superres', residual=True)
    assert in_flag_terms(refused.value, values={}).endswith('it needs --loss mse')


@pytest.fixture
def tinted_kind():
    class Tinted(ColourClasses):
        """A test kind: colour classes from a palette file of its own (`tints`), trained against targets smoothed by a
        setting of its own (`tint_smoothing`), which changes what the network learns: the weights note it."""
        kind, criterion, palette_setting, words = 'tinted', 'tinted_ce', 'tints', 'tinted classes'
        learns_film_colours = False
        settings = (Setting('tints', None, type=Path, help='Tinted: tints file (.npy)'),
                    Setting('tint_smoothing', 0.1, 0, type=float, high=0.5, noted=True,
                            help='Tinted: its own label smoothing (default {default})'))
        palette_shapes = {'tints.centres': ('k', 3)}
        read_file = staticmethod(load_colours)

        @classmethod
        def tag_of(cls, config):
            return 'tinted'

        @classmethod
        def build(cls, config, fit_on=None, palette=None):
            source = palette_source(config, 'tints', fit_on, palette, 'tints.centres')
            if source == 'fitted':
                centres = torch.from_numpy(fit_colours(fit_on, 6, sample=2000)[0]).float()
            else:
                centres = palette['tints.centres'] if source == 'weights' else load_colours(config.tints)
            return configured(cls(centres, config.task, config.tint_smoothing), config, source)

        def __init__(self, centres, task='colour', tint_smoothing=0.1):
            super().__init__(centres, task)
            self.tint_smoothing = tint_smoothing

        def loss(self, outputs, target, smoothing=0.0):
            return F.cross_entropy(outputs, target, label_smoothing=self.tint_smoothing)

        def describe(self):
            return {**super().describe(), 'tints': digest(self.centres)}

        def palette_state(self):
            return {'tints.centres': self.centres}
    try:
        yield Tinted
    finally:
        TARGETS.pop('tinted')


def test_a_kind_with_a_setting_and_a_palette_of_its_own_is_learnt_saved_and_loaded(tinted_kind, horses, tmp_path):
    pictures = horses[1][:8]
    config = TargetConfig(kind='tinted', tint_smoothing=0.3)
    assert config.tint_smoothing == 0.3 and TargetConfig().tint_smoothing == 0.1  # the declared default
    target = build_target(config, fit_on=pictures)  # its palette fitted on the pictures: it goes with the weights
    run = colorlib.fit('UNet', target=target, filters=2, epochs=1, batch_size=4, train_x=pictures, test_x=pictures,
                       out_dir=tmp_path / 'run', device='cpu')
    assert run.model.net.config.out_channels == len(target.centres)
    assert run.model.about['target']['tint_smoothing'] == 0.3  # the weights note it
    assert torch.equal(read_palette(run.files['weights'])['tints.centres'], target.centres)
    loaded = colorlib.load(run.files['weights'])
    assert isinstance(loaded.target, tinted_kind) and loaded.target.palette_from == 'weights'
    assert loaded.target.tint_smoothing == 0.3 and torch.equal(loaded.target.centres, target.centres)
    assert loaded.about['target'] == run.model.about['target']
    with pytest.raises(InputError) as refused:  # a noted setting given must agree with the file
        colorlib.load(run.files['weights'], tint_smoothing=0.2)
    assert refused.value.fields == ('target.tint_smoothing',)
    save_colours(tmp_path / 'tints.npy', target.centres.double().numpy(), float('nan'))
    by_file = colorlib.fit('UNet', kind='tinted', tints=tmp_path / 'tints.npy', tint_smoothing=0.2, filters=2,
                           epochs=1, batch_size=4, train_x=pictures, test_x=pictures, device='cpu')
    assert by_file.model.target.tint_smoothing == 0.2 and by_file.model.target.palette_from == 'file'


def test_its_flags_come_from_the_declarations_and_bad_values_and_palettes_are_refused(tinted_kind, tmp_path):
    parser = build_parser()
    args = parser.parse_args(['--loss', 'tinted_ce', '--tints', 'mine.npy', '--tint-smoothing', '0.25'])
    assert (args.tints, args.tint_smoothing) == ('mine.npy', 0.25) and kind_of_flags(None, args.loss) == 'tinted'
    assert parser.parse_args([]).tint_smoothing is None  # not given: the declared default
    assert flag_names(parser)['target.tint_smoothing'] == '--tint-smoothing'
    for refuse in (lambda: colorlib.fit('UNet', kind='tinted', tint_smoothing=0.9, epochs=1),
                   lambda: colorlib.load('unet', tint_smoothing='high')):
        with pytest.raises(InputError) as refused:
            refuse()
        assert refused.value.fields == ('tint_smoothing',)
        assert in_flag_terms(refused.value, values={}).startswith('--tint-smoothing: tint_smoothing must be a finite')
    with pytest.raises(InputError) as refused:
        TargetConfig(kind='tinted', tint_smoothing=-1)
    assert refused.value.fields == ('target.tint_smoothing',)
    with pytest.raises(InputError) as refused:  # no kind has the setting: said with those that are
        TargetConfig(kind='tinted', tint_sharpness=1)
    assert refused.value.fields == ('target.tint_sharpness',) and 'tint_smoothing' in str(refused.value)
    weights = tmp_path / 'bad.pkl'  # a stored palette of the wrong shape: refused, naming the declared shapes
    torch.save({'finalconv.bias': torch.zeros(3), 'tints.centres': torch.zeros(5, 2)}, weights)
    with pytest.raises(InputError, match=r'expected \(k, 3\) colours or \(K, 2\) bins and \(K,\) or \(k, 3\) tints'):
        read_palette(weights)
