"""Tests for colorlib.runfolder: the files a run writes, which of them it may replace, and the run folder's
end-of-epoch work as train is handed it (the loop itself: tests/test_train.py and tests/test_resume.py)."""
import json

import pytest
import torch

from colorlib.runfolder import RunFolder, replaceable, run_files
from colorlib.train import EpochEnd, TrainConfig


def test_run_files_names_every_file_a_run_writes(tmp_path):
    files = run_files(tmp_path / 'run', epochs=2)
    assert sorted(files) == ['curve', 'metrics', 'resume', 'samples', 'samples_1', 'samples_2', 'weights']
    assert files['weights'] == tmp_path / 'run' / 'weights.pkl'
    assert run_files(tmp_path / 'run', tmp_path / 'mine.pkl')['weights'] == tmp_path / 'mine.pkl'


def test_resume_replaces_the_folders_files_and_weights_kept_in_it_only(tmp_path):
    inside, outside = run_files(tmp_path / 'run'), run_files(tmp_path / 'run', tmp_path / 'mine.pkl')
    assert all(replaceable(inside, resume=True).values())
    assert not replaceable(outside, resume=True)['weights'] and replaceable(outside, resume=True)['metrics']
    assert all(replaceable(outside, overwrite=True).values()) and not any(replaceable(outside).values())


def test_its_callbacks_write_the_metrics_each_epoch_and_the_state_every_save_every(tmp_path):
    folder = RunFolder(run_files(tmp_path), TrainConfig(epochs=3, save_every=2))
    said, history = [], []
    callbacks = folder.callbacks(lambda end: said.append(end.row['epoch']))
    with folder.held():
        folder.start()
        for epoch in (1, 2, 3):
            history.append({'epoch': epoch, 'loss': 1.0 / epoch})
            for callback in callbacks:
                callback(EpochEnd(history[-1], history, lambda: {'epoch': epoch, 'weights': torch.ones(1)}))
            state = torch.load(tmp_path / 'resume.pt', weights_only=True) if epoch > 1 else None
            assert state is None or state['epoch'] == (2 if epoch == 2 else 3)
    rows = [json.loads(line) for line in (tmp_path / 'metrics.jsonl').read_text().splitlines()]
    assert rows == history and said == [1, 2, 3] and folder.last_good().startswith('the last good state (epoch 3)')
    assert not (tmp_path / 'samples_1.png').exists()  # no grids unless asked


def test_a_run_that_writes_nothing_says_so_when_it_stops(tmp_path):
    from colorlib.errors import NonFiniteLoss
    folder = RunFolder({}, TrainConfig())
    assert folder.callbacks() == [] and not folder.writes
    with pytest.raises(NonFiniteLoss, match=r'^training stopped in epoch 1: bad; no state was saved$'):
        with folder.stops():
            raise NonFiniteLoss('training stopped in epoch 1: bad')
