"""Tests for colorlib.reconcile: what weights say against what is given, and the settings split by who takes them
(the refusals through load and fit: tests/test_api.py, tests/test_checkpoints.py)."""
import pytest

from colorlib.errors import InputError
from colorlib.models import network_settings
from colorlib.reconcile import Opened, agree, model_fields, open_weights, own_settings, weights_path


def test_agree_takes_what_is_said_and_refuses_a_contradiction_naming_it():
    assert agree('w.pkl', {'kernel': 3}, {'kernel': None, 'filters': 8}, 'model') == {'kernel': 3, 'filters': 8}
    with pytest.raises(InputError, match=r'^w\.pkl holds a model with kernel 3, not 5$') as refused:
        agree('w.pkl', {'kernel': 3}, {'kernel': 5}, 'model')
    assert refused.value.fields == ('kernel',)
    with pytest.raises(InputError) as refused:
        agree('w.pkl', {'kind': 'classes'}, {'kind': 'rgb'}, 'target')
    assert refused.value.fields == ('target.kind',)


def test_the_networks_own_settings_are_model_fields_and_split_from_the_rest():
    own = set(network_settings())
    assert own and set(model_fields()) == {'name', 'kernel', 'filters'} | own
    name = next(iter(own))
    assert own_settings({name: 2, 'kind': 'lab', 'epochs': 1}) == ({name: 2}, {'kind': 'lab', 'epochs': 1})


def test_open_weights_gives_the_network_and_target_a_file_holds():
    opened = open_weights(weights_path('unet'))
    assert isinstance(opened, Opened) and opened.net.config.name == 'UNet' and opened.target.kind == 'classes'
    with pytest.raises(InputError) as refused:
        open_weights(weights_path('unet'), filters=8)
    assert refused.value.fields == ('filters',)
