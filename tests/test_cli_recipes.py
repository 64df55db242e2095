"""Tests for colorlib.cli.recipes and the command's --recipe: the library's recipe (colorlib.recipes) under the
flags, a flag given wins, every recipe is listed in --help and the README, and a run trains with what its recipe
says."""
import argparse
from pathlib import Path

import pytest
import torch

from colorlib import machine
from colorlib.checkpoints import read_resumable
from colorlib.cli import recipes
from colorlib.cli.build import target_keywords
from colorlib.cli.colorization import build_parser, given_flags, main, train_settings
from colorlib.errors import InputError
from colorlib.recipes import recipe_settings
from colorlib.reconcile import target_config
from colorlib.shipped import DEFAULT_COLOURS
from conftest import call

REPO = Path(__file__).resolve().parents[1]


def parse(argv, regression=False):
    """The flags with what colorlib.fit trains with in place of the training ones: the keywords the command passes
    (train_settings) over the library's recipe for the run."""
    parser = build_parser(regression)
    args = parser.parse_args(argv)
    passed = train_settings(args, given_flags(parser, argv))
    model = args.model or 'UNet'
    recipe = recipe_settings(passed.pop('recipe'), model, target_config(model, **target_keywords(args)))
    return argparse.Namespace(**{**vars(args), **recipe, **passed})


def test_the_default_recipe_is_the_assignment():
    args = parse(['--model', 'UNet'])
    assert (args.recipe, args.epochs, args.batch_size, args.learn_rate, args.lr_schedule, args.augment, args.amp) == (
        'assignment', 25, 100, 0.001, 'constant', (), 'off')


def test_a_recipe_sets_its_flags_and_a_flag_given_wins():
    args = parse(['--model', 'UNet', '--recipe', 'best'])
    assert (args.epochs, args.learn_rate, args.batch_size, args.augment, args.lr_schedule, args.ema, args.amp) == (
        100, 0.001, 100, ('hflip', 'shift'), 'cosine', 0.999, 'auto')
    args = parse(['--model', 'UNet', '--recipe', 'best', '-e', '5', '--augment', 'vflip'])
    assert (args.epochs, args.learn_rate, args.augment) == (5, 0.001, ('vflip',))
    assert parse(['--model', 'UNet', '--recipe', 'best', '--augment', 'none']).augment == ()  # taken away
    assert parse(['--model', 'CNN', '--recipe', 'best']).epochs == 50  # per model
    assert parse(['--recipe', 'best'], regression=True).batch_size == 20
    assert parse(['--model', 'UNet', '--task', 'superres', '--loss', 'mse', '--recipe', 'best']).batch_size == 25


def test_fast_is_the_same_for_every_model():
    for model in ('CNN', 'UNet', 'DUNet'):
        args = parse(['--model', model, '--recipe', 'fast'])
        assert (args.epochs, args.batch_size, args.learn_rate, args.warmup, args.amp) == (2, 16, 0.04, 0.4, 'auto')


def test_a_recipe_with_nothing_for_this_run_is_one_line(capsys):
    with pytest.raises(InputError, match=r'^recipe best: no recipe of that name for superres_dunet'):
        parse(['--model', 'DUNet', '--task', 'superres', '--recipe', 'best'])
    code, _, err = call(main, ['--model', 'DUNet', '--task', 'superres', '--recipe', 'best'], capsys)
    assert code == 2 and err.count('\n') == 1 and '--recipe best' in err


def test_help_and_readme_list_what_each_recipe_sets(capsys):
    code, out, _ = call(main, ['--help'], capsys)
    readme = (REPO / 'README.md').read_text()
    assert code == 0
    for line in recipes.describe().splitlines():
        assert line in out
        assert f'| `{line.split(":")[0].strip()}` | `{line.split(": ", 1)[1]}` |' in readme, line


def test_a_run_trains_with_its_recipe(tiny_npz, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ['--model', 'CNN', '-f', '4', '--recipe', 'fast', '-e', '1', '--data', tiny_npz, '-c', str(DEFAULT_COLOURS),
            '--device', 'cpu', '--experiment-name', 'fast']
    code, out, err = call(main, argv, capsys)
    assert code == 0, err
    run = read_resumable(tmp_path / 'outputs' / 'fast' / 'resume.pt')['run']
    bf16 = machine.use_bf16(torch.device('cpu'), 'auto')[0]  # the recipe asks for auto: bfloat16 only if fast here
    assert (run['epochs'], run['batch_size'], run['learn_rate'], run['warmup'], run['amp']) == (1, 16, 0.04, 0.4, bf16)
    assert out.splitlines()[0] == f'precision: {machine.use_bf16(torch.device("cpu"), "auto")[1]}'


def test_each_ingredient_is_a_flag_of_its_own(tiny_npz, tmp_path, monkeypatch, capsys):
    """--ema, --label-smoothing, --warmup and --lr-schedule given alone reach the run (and its resume.pt), and change
    what it trains to."""
    monkeypatch.chdir(tmp_path)
    base = ['--model', 'CNN', '-f', '4', '-e', '1', '-b', '50', '--data', tiny_npz, '-c', str(DEFAULT_COLOURS),
            '--device', 'cpu']
    losses = {}
    for name, flags in [('plain', []), ('ema', ['--ema', '0.9']), ('smooth', ['--label-smoothing', '0.1']),
                        ('warm', ['--warmup', '0.5', '--lr-schedule', 'linear'])]:
        code, out, err = call(main, base + flags + ['--experiment-name', name], capsys)
        assert code == 0, err
        run = read_resumable(tmp_path / 'outputs' / name / 'resume.pt')['run']
        assert (run['ema'], run['label_smoothing'], run['warmup'], run['lr_schedule']) == {
            'plain': (0.0, 0.0, 0.0, 'constant'), 'ema': (0.9, 0.0, 0.0, 'constant'),
            'smooth': (0.0, 0.1, 0.0, 'constant'), 'warm': (0.0, 0.0, 0.5, 'linear')}[name]
        losses[name] = [line for line in out.splitlines() if line.startswith('Epoch [1/1]')][0].split(', Time')[0]
    assert len(set(losses.values())) == 4, losses
