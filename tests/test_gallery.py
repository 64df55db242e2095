"""Tests for colorlib.gallery: every shipped kind of model's activations of one test image, from Python as
`colorlib activations --all` draws them."""
from pathlib import Path

import pytest

import colorlib
from colorlib.errors import InputError
from colorlib.gallery import all_activations, shipped_kinds


def test_all_activations_draws_each_kind_found_and_refuses_a_folder_with_none(horses, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'w').mkdir()
    run = colorlib.fit(model='CNN', filters=4, epochs=1, batch_size=20, train_x=horses[0][:40],
                       test_x=horses[1][:8], device='cpu')
    run.model.save(tmp_path / 'w' / 'cnn_k3_f4.pkl')
    said = []
    written = all_activations(1, weights_dir='w', filters=4, runs_dir='runs', test_x=horses[1][:5], log=said.append)
    assert written == [Path('runs') / 'CNN' / 'act1']
    assert {p.name for p in written[0].iterdir()} >= {'input.png', 'output.png', '1_downconv1.png'}
    skipped = [line for line in said if line.startswith('Skipped')]
    assert len(skipped) == len(shipped_kinds()) - 1 and 'dunet_k3_f4.pkl' in ' '.join(skipped)
    assert said[0] == f'Activations of test image 1 written to {written[0]}/'
    with pytest.raises(InputError) as refused:
        all_activations(1, weights_dir='w', filters=8, test_x=horses[1][:5])
    assert refused.value.fields == ('weights_dir',) and 'cnn' not in str(refused.value)


def test_a_file_in_weights_dir_that_cannot_be_read_is_refused_naming_weights_dir_as_its_source(horses, tmp_path):
    (tmp_path / 'cnn_k3_f32.pkl').write_bytes(b'not weights' * 8)
    with pytest.raises(InputError) as refused:
        all_activations(1, weights_dir=tmp_path, runs_dir=tmp_path / 'runs', test_x=horses[1][:5])
    assert refused.value.source == 'weights_dir' and 'cnn_k3_f32.pkl' in str(refused.value)
    assert not (tmp_path / 'runs').exists()
