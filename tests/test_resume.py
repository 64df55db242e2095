"""Resumable runs (colorlib.train with resume=True, --resume, --save-every): a run stopped at a step boundary
or between epochs and resumed ends with the same weights as one that was never stopped."""
import json
import signal
from pathlib import Path

import pytest
import torch

from colorlib.checkpoints import read_resumable, read_weights
from colorlib.cli import main
from colorlib.colours import DEFAULT_COLOURS, load_colours
from colorlib.errors import UsageError
from colorlib.models import build_model
from colorlib.train import Interrupted, make_dataset, train

COLOURS = str(DEFAULT_COLOURS)


@pytest.fixture(scope='module')
def sets(horses):
    centres = load_colours(DEFAULT_COLOURS)
    train_x, test_x = horses
    return make_dataset(train_x[:100], centres, False), make_dataset(test_x[:20], centres, False)


def fresh_model(seed=0):
    torch.manual_seed(seed)
    return build_model('UNet', 3, 4, 24)


def stop_after(steps):
    """A stop_signal that reports SIGTERM from the (steps + 1)-th step boundary on."""
    calls = []

    def stop_signal():
        calls.append(1)
        return signal.SIGTERM if len(calls) > steps else None
    return stop_signal


RECIPE = dict(epochs=3, batch_size=20, learn_rate=0.01, seed=4, augmentations=['hflip', 'shift'],
              lr_schedule='cosine', weight_decay=0.01)  # every piece of state that a resume must carry


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def without_seconds(history):
    return [{k: v for k, v in row.items() if k != 'seconds'} for row in history]


def test_stopped_mid_epoch_and_resumed_equals_uninterrupted(sets, tmp_path):
    whole = fresh_model()
    expected = train(whole, *sets, out_dir=tmp_path / 'whole', **RECIPE)

    stopped = fresh_model()
    with pytest.raises(Interrupted, match=r'SIGTERM in epoch 2, before step 4: .*resume\.pt.*--resume'):
        train(stopped, *sets, out_dir=tmp_path / 'run', stop_signal=stop_after(5 + 3), **RECIPE)  # 5 steps/epoch
    state = read_resumable(tmp_path / 'run' / 'resume.pt')
    assert state['epoch'] == 1 and state['position'][1] == 3
    assert len((tmp_path / 'run' / 'metrics.jsonl').read_text().splitlines()) == 1

    resumed = fresh_model(seed=1)  # other initial weights: everything must come from the checkpoint
    history = train(resumed, *sets, out_dir=tmp_path / 'run', resume=True, stop_signal=stop_after(10 ** 9), **RECIPE)
    assert_same_weights(resumed.state_dict(), whole.state_dict())
    assert without_seconds(history) == without_seconds(expected)
    rows = [json.loads(line) for line in (tmp_path / 'run' / 'metrics.jsonl').read_text().splitlines()]
    assert without_seconds(rows) == without_seconds(expected)


def test_save_every_n_epochs_and_after_the_last(sets, tmp_path):
    saved_at = []

    def note_epoch(epoch):
        path = tmp_path / 'resume.pt'
        saved_at.append(read_resumable(path)['epoch'] if path.exists() else None)

    train(fresh_model(), *sets, out_dir=tmp_path, on_epoch=note_epoch, save_every=2,
          **{**RECIPE, 'augmentations': [], 'epochs': 3})
    assert saved_at == [None, 2, 3]


def test_resume_refuses_other_flags(sets, tmp_path):
    train(fresh_model(), *sets, out_dir=tmp_path, **{**RECIPE, 'epochs': 1})
    with pytest.raises(UsageError, match=r'^--resume: the saved run had -b 20, this one has -b 10; resume with'):
        train(fresh_model(), *sets, out_dir=tmp_path, resume=True, **{**RECIPE, 'epochs': 1, 'batch_size': 10})
    with pytest.raises(UsageError, match=r'^--resume: the saved run had -e 1, this one has -e 2'):  # cosine: fixed
        train(fresh_model(), *sets, out_dir=tmp_path, resume=True, **{**RECIPE, 'epochs': 2})


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
