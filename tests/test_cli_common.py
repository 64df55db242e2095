"""The command line says the library's answers in flag terms: the flag table follows from the parser, the defaults
and bounds are the library's, and a refused value gets the same answer from the command and from Python."""
import dataclasses

import pytest

import colorlib
from colorlib.cli.colorization import build_parser, main
from colorlib.cli.common import SAID, UsageError, flag, flag_names, spell
from colorlib.errors import InputError, WriteError
from colorlib.models import ModelConfig
from colorlib.train import TrainConfig

from conftest import call


def test_every_flag_is_named_by_its_dest_and_every_setting_has_a_flag():
    parser = build_parser()
    names = flag_names(parser)
    for action in parser._actions:
        if action.option_strings and action.dest not in ('help', *SAID):
            said = getattr(action, 'said', None)  # a flag said with its companions ('-c/--colours')
            assert names[action.dest] in (*action.option_strings, said) or action.dest in ('device', 'amp'), action.dest
    assert {f.name for f in dataclasses.fields(TrainConfig)} | set(ModelConfig().as_dict()) <= set(names)


@pytest.mark.parametrize('assignment, keyword, function', [
    ('-f', 'filters', colorlib.fit), ('--checkpoint', 'weights', colorlib.fit),
    ('--plot', 'epoch_samples', colorlib.fit),
    ('--soft-encode', 'soft', colorlib.fit), ('--tta', 'flips', colorlib.Model.evaluate),
    ('--legacy-eval', 'legacy', colorlib.Model.evaluate)])
def test_a_flag_is_also_spelled_as_its_keyword_and_still_named_as_the_assignment_spelled_it(assignment, keyword,
                                                                                           function):
    import inspect
    assert keyword in inspect.signature(function).parameters  # the library's word for it
    parser = build_parser()
    action, = [a for a in parser._actions if assignment in a.option_strings]
    spelled = f'--{keyword.replace("_", "-")}'
    assert spelled in action.option_strings and action.option_strings[0] == assignment  # --help shows both
    value = [] if action.nargs == 0 else ['x.pkl' if keyword == 'weights' else '8']
    assert getattr(parser.parse_args([spelled, *value]), action.dest) == getattr(
        parser.parse_args([assignment, *value]), action.dest) != action.default
    assert flag_names(parser)[action.dest] == assignment  # a refusal still names the flag as before


def test_colorize_takes_flips_as_tta():
    from colorlib.cli.colorize import build_parser as colorize_parser
    assert colorize_parser().parse_args(['x.png', '--flips']).flips is True


def test_the_parser_defaults_are_the_librarys():
    args = build_parser().parse_args([])
    assert {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)} == dataclasses.asdict(TrainConfig())
    assert (args.model, args.kernel, args.filters, args.dilation) == (None, None, None, None)  # weights fill them


@pytest.mark.parametrize('flag, keyword, value', [
    ('--ema', 'ema', '1'), ('--label-smoothing', 'label_smoothing', '1'), ('-e', 'epochs', '0'),
    ('-b', 'batch_size', '0'), ('-l', 'learn_rate', '-1'), ('-l', 'learn_rate', 'nan'), ('-s', 'seed', '-1'),
    ('--warmup', 'warmup', '-1'), ('--weight-decay', 'weight_decay', 'inf'), ('--save-every', 'save_every', '0'),
    ('-k', 'kernel', '2'), ('-f', 'filters', '0'), ('--dilation', 'dilation', '-1'),
    ('--rebalance', 'rebalance', '2'), ('--temperature', 'temperature', '-1')])
def test_a_refused_value_gets_the_same_answer_from_the_command_and_from_python(flag, keyword, value, tmp_path,
                                                                               monkeypatch, capsys):
    number = float(value) if keyword in ('ema', 'label_smoothing', 'learn_rate', 'warmup', 'weight_decay',
                                         'rebalance', 'temperature') else int(value)
    with pytest.raises(InputError) as e:
        colorlib.fit(**{keyword: number}, data='nowhere.npz', device='cpu')
    monkeypatch.chdir(tmp_path)
    code, out, err = call(main, [flag, value, '--data', 'nowhere.npz', '--device', 'cpu'], capsys)
    assert code == 2 and err == f'colorization.py: error: {flag}: {e.value}\n'
    assert not any(tmp_path.iterdir())  # refused before anything is read or written


@pytest.mark.parametrize('flags', [['--ema', '0.999999'], ['--label-smoothing', '0.995'], ['-l', '0']])
def test_values_the_library_trains_with_are_taken_by_the_command(flags):
    """The command once refused these by bounds of its own (0.99999, 0.99, > 0) that the library did not have."""
    args = build_parser().parse_args(flags)
    TrainConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)})


def test_the_readme_table_of_names_spells_flags_the_parser_has():
    """README's "One thing, one name": each flag it lists is one colorization takes, so the table cannot drift."""
    import re
    from pathlib import Path
    readme = (Path(__file__).parents[1] / 'README.md').read_text()
    table = readme.split('## One thing, one name')[1].split('\n\n')[2]
    spelled = {flag for row in table.splitlines()[2:] for flag in re.findall(r'`(-[-\w]+)`', row.split('|')[3])}
    known = {s for action in build_parser()._actions for s in action.option_strings}
    assert {'--weights', '--flips', '--epoch-samples', '--soft'} <= spelled and spelled <= known, spelled - known


def every_commands_parser(monkeypatch):
    """{command: the parser it runs}, each command of COMMANDS run as the command line runs it, its run_command
    swapped for one that keeps the parser: a command added later is walked too."""
    import importlib
    from colorlib.cli import COMMANDS
    parsers = {}
    for name, (module, function, _) in COMMANDS.items():
        module = importlib.import_module(f'colorlib.cli.{module}')
        monkeypatch.setattr(module, 'run_command', lambda parser, runner, argv, name=name: parsers.update({
            name: parser}))
        getattr(module, function)([], prog=f'colorlib {name}')
    return parsers


def test_every_flag_type_only_parses_the_bounds_are_the_librarys(monkeypatch):
    """A flag's type turns the text into a value (a number, a path, names); no bound is checked there, so that a
    refused value gets the library's answer, the same as from Python."""
    from colorlib.cli import COMMANDS, common, serve
    parse_only = {None, common.an_int, common.a_float, common.a_name, common.a_path, common.folder_name,
                  common.augmentation_list, common.category_list, serve.in_megabytes, serve.in_megapixels}
    parsers = every_commands_parser(monkeypatch)
    assert set(parsers) == set(COMMANDS)
    for name, parser in parsers.items():
        for action in parser._actions:
            assert action.type in parse_only, (name, action.option_strings or action.dest, action.type)
    assert not hasattr(common, 'int_at_least') and not hasattr(common, 'finite_float')


@pytest.mark.parametrize('command', ['colorization', 'colours'])
@pytest.mark.parametrize('flag, keyword, value', [
    ('--image-size', 'image_size', '4'), ('--image-size', 'image_size', '-8'), ('--val-share', 'val_share', '0.95'),
    ('--val-share', 'val_share', '0'), ('--val-share', 'val_share', 'nan')])
def test_a_refused_data_setting_gets_the_same_answer_from_the_command_and_from_load_images(command, flag, keyword,
                                                                                          value, tmp_path,
                                                                                          monkeypatch, capsys):
    from colorlib.cli import main as cli_main
    with pytest.raises(InputError) as e:
        colorlib.load_images(**{keyword: int(value) if keyword == 'image_size' else float(value)})
    assert e.value.fields == (keyword,)
    monkeypatch.chdir(tmp_path)
    code, out, err = call(cli_main, [command, flag, value], capsys)
    assert (code, out, err) == (2, '', f'colorlib {command}: error: {flag}: {e.value}\n')
    assert not any(tmp_path.iterdir())


def test_the_data_flags_default_to_load_images_own_defaults():
    import inspect
    parameters = inspect.signature(colorlib.load_images).parameters
    args = build_parser().parse_args([])
    assert {k: getattr(args, k) for k in ('category', 'image_size', 'val_share')} == {
        k: parameters[k].default for k in ('category', 'image_size', 'val_share')}


def test_a_refusal_is_led_by_the_flags_that_gave_the_value():
    """A value given by a flag of its own is said with it (--gpu: --device cuda); a file the library could not write
    for a setting (--download's data/) is led by that setting's flag."""
    assert spell('device', 'cuda') == '--device cuda/--gpu' and spell('device', 'mps') == '--device mps'
    with pytest.raises(UsageError, match=r'^--device cuda/--gpu: no CUDA device'):
        with flag(values={'device': 'cuda'}):
            raise InputError('no CUDA device is available here; use cpu', ['device'])
    with pytest.raises(UsageError, match=r'^--download: cannot write data/cifar'):
        with flag():
            raise WriteError('cannot write data/cifar-10-python.tar.gz: No space left on device', ['download'])
