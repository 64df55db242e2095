"""Resumable runs (colorlib.train with resume=True, --resume, --save-every): a run stopped at a step boundary
or between epochs and resumed ends with the same weights as one that was never stopped."""
import json
import signal
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from conftest import train_in

from colorlib.checkpoints import read_resumable, read_weights
from colorlib.cli.colorization import main
from colorlib.colours import load_colours
from colorlib.images import to_float
from colorlib.errors import ConfigMismatch, InputError
from colorlib.models import ModelConfig, build_model
from colorlib.shipped import DEFAULT_COLOURS
from colorlib.targets import ColourClasses
from colorlib.train import Interrupted, TrainConfig

COLOURS = str(DEFAULT_COLOURS)


@pytest.fixture(scope='module')
def target():
    return ColourClasses(load_colours(DEFAULT_COLOURS))


@pytest.fixture(scope='module')
def sets(horses, target):
    train_x, test_x = horses
    return target.encode(to_float(train_x[:100])), target.encode(to_float(test_x[:20]))


def fresh_model(seed=0):
    torch.manual_seed(seed)
    return build_model(ModelConfig('UNet', 3, 4, 24))


def stop_after(steps):
    """A stop_signal that reports SIGTERM from the (steps + 1)-th step boundary on."""
    calls = []

    def stop_signal():
        calls.append(1)
        return signal.SIGTERM if len(calls) > steps else None
    return stop_signal


RECIPE = TrainConfig(epochs=3, batch_size=20, learn_rate=0.01, seed=4, augment=('hflip', 'shift'),
                     lr_schedule='cosine', weight_decay=0.01, warmup=0.5, ema=0.9,
                     label_smoothing=0.1)  # every piece of state that a resume must carry


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def without_seconds(history):
    return [{k: v for k, v in row.items() if k != 'seconds'} for row in history]


def test_stopped_mid_epoch_and_resumed_equals_uninterrupted(sets, target, tmp_path):
    whole = fresh_model()
    expected = train_in(tmp_path / 'whole', whole, target, *sets, RECIPE)

    stopped = fresh_model()
    with pytest.raises(Interrupted, match=r'^stopped by SIGTERM in epoch 2, before step 4: the training state is in '
                                          r'.*resume\.pt$'):
        train_in(tmp_path / 'run', stopped, target, *sets, RECIPE, stop_signal=stop_after(5 + 3))  # 5 steps/epoch
    state = read_resumable(tmp_path / 'run' / 'resume.pt')
    assert state['epoch'] == 1 and state['position'][1] == 3
    assert len((tmp_path / 'run' / 'metrics.jsonl').read_text().splitlines()) == 1

    resumed = fresh_model(seed=1)  # other initial weights: everything must come from the checkpoint
    history = train_in(tmp_path / 'run', resumed, target, *sets, RECIPE, resume=True,
                       stop_signal=stop_after(10 ** 9))
    assert_same_weights(resumed.state_dict(), whole.state_dict())
    assert without_seconds(history) == without_seconds(expected)
    rows = [json.loads(line) for line in (tmp_path / 'run' / 'metrics.jsonl').read_text().splitlines()]
    assert without_seconds(rows) == without_seconds(expected)


def test_save_every_n_epochs_and_after_the_last(sets, target, tmp_path):
    saved_at = []

    def note_epoch(row):
        path = tmp_path / 'resume.pt'
        saved_at.append(read_resumable(path)['epoch'] if path.exists() else None)

    train_in(tmp_path, fresh_model(), target, *sets, replace(RECIPE, augment=(), epochs=3, save_every=2),
             on_epoch=note_epoch)
    assert saved_at == [None, 2, 3]


def test_resume_refuses_another_run(sets, target, tmp_path):
    train_in(tmp_path, fresh_model(), target, *sets, replace(RECIPE, epochs=1))
    before = (tmp_path / 'resume.pt').read_bytes()
    with pytest.raises(ConfigMismatch, match=r'^the saved run had batch_size 20, this one has 10$') as mismatch:
        train_in(tmp_path, fresh_model(), target, *sets, replace(RECIPE, epochs=1, batch_size=10), resume=True)
    assert mismatch.value.differences == [('batch_size', 20, 10)] and mismatch.value.fields == ('batch_size',)
    with pytest.raises(ConfigMismatch, match=r'^the saved run had epochs 1, this one has 2$'):  # cosine: fixed
        train_in(tmp_path, fresh_model(), target, *sets, replace(RECIPE, epochs=2), resume=True)
    assert (tmp_path / 'resume.pt').read_bytes() == before


def test_resume_refuses_other_colours_of_the_same_number(sets, target, tmp_path):
    train_in(tmp_path, fresh_model(), target, *sets, replace(RECIPE, epochs=1))
    other = ColourClasses(target.centres * 0.9 + 0.05)  # another colour file with as many colours
    assert other.out_channels == target.out_channels
    with pytest.raises(ConfigMismatch, match=r'^the saved run had target\.colours \w+, this one has \w+$') as mismatch:
        train_in(tmp_path, fresh_model(), other, *sets, replace(RECIPE, epochs=1), resume=True)
    assert [field for field, _, _ in mismatch.value.differences] == ['target.colours']


def test_resume_names_the_kind_as_the_weights_do_and_takes_the_old_class_name(sets, target, tmp_path):
    constant = replace(RECIPE, epochs=1, lr_schedule='constant', warmup=0.0)
    train_in(tmp_path, fresh_model(), target, *sets, constant)
    state = torch.load(tmp_path / 'resume.pt', weights_only=True)
    assert state['run']['target.kind'] == 'classes' == target.kind
    state['run']['target.kind'] = 'ColourClasses'  # as resume.pt said before
    torch.save(state, tmp_path / 'resume.pt')
    history = train_in(tmp_path, fresh_model(), target, *sets, replace(constant, epochs=2), resume=True)
    assert [row['epoch'] for row in history] == [1, 2]
    state['run']['target.kind'] = 'LabBins'  # another kind's old name is still another kind
    torch.save(state, tmp_path / 'resume.pt')
    with pytest.raises(ConfigMismatch, match=r'^the saved run had target\.kind lab, this one has classes$'):
        train_in(tmp_path, fresh_model(), target, *sets, replace(constant, epochs=2), resume=True)


def test_resume_refuses_a_state_missing_a_part(sets, target, tmp_path):
    train_in(tmp_path, fresh_model(), target, *sets, replace(RECIPE, epochs=1))
    state = torch.load(tmp_path / 'resume.pt', weights_only=True)
    del state['rng']
    torch.save(state, tmp_path / 'resume.pt')
    with pytest.raises(InputError, match=r'resume\.pt is an incomplete training state \(it lacks rng\)'):
        train_in(tmp_path, fresh_model(), target, *sets, replace(RECIPE, epochs=1), resume=True)


def call(argv, capsys):
    try:
        main(argv)
        code = 0
    except SystemExit as exit_:
        code = exit_.code or 0
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_resume_trains_on_to_the_same_weights(tiny_npz, tmp_path, monkeypatch, capsys):
    """-e 1, then --resume -e 2 (a constant learning rate lets a finished run go on) == -e 2 in one go."""
    monkeypatch.chdir(tmp_path)
    flags = ['--model', 'CNN', '-f', '2', '-b', '50', '--data', tiny_npz, '-c', COLOURS, '--device', 'cpu',
             '--augment', 'hflip']
    assert call(flags + ['-e', '2', '--experiment-name', 'whole'], capsys)[0] == 0
    assert call(flags + ['-e', '1', '--experiment-name', 'parts'], capsys)[0] == 0
    code, out, err = call(flags + ['-e', '2', '--experiment-name', 'parts', '--resume'], capsys)
    assert code == 0, err
    assert [line[:12] for line in out.splitlines() if line.startswith('Epoch')] == ['Epoch [2/2],']
    whole, parts = Path('outputs/whole'), Path('outputs/parts')
    assert_same_weights(read_weights(parts / 'weights.pkl'), read_weights(whole / 'weights.pkl'))
    assert len((parts / 'metrics.jsonl').read_text().splitlines()) == 2


@pytest.mark.parametrize('extra, words', [
    ([], ['--resume', 'no such file', 'resume.pt']),
    (['-b', '10'], ['--resume', '-b 50', '-b 10']),
], ids=['nothing-to-resume', 'other-batch-size'])
def test_cli_bad_resume_is_one_line_and_exit_2(extra, words, tiny_npz, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    flags = ['--model', 'CNN', '-f', '2', '-b', '50', '-e', '1', '--data', tiny_npz, '-c', COLOURS, '--device', 'cpu']
    if extra:
        assert call(flags, capsys)[0] == 0
    before = {p: p.read_bytes() for p in Path('outputs').rglob('*') if p.is_file()} if extra else {}
    code, out, err = call(flags + extra + ['--resume'], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert all(word in err for word in words), err
    assert {p: p.read_bytes() for p in Path('outputs').rglob('*') if p.is_file()} == before  # nothing touched
