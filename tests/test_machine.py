"""Tests for colorlib.machine: the device 'auto' picks and the precision 'auto' picks, on machines of each kind
(mocked), and the matmul rate."""
import contextlib
import warnings

import pytest
import torch

from colorlib import machine
from colorlib.errors import InputError

CPU = torch.device('cpu')


def pretend(monkeypatch, cuda=False, mps=False, cpu_caps=None, gpu=(8, 0), native_gpu=None):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: cuda)
    monkeypatch.setattr(machine, 'mps_available', lambda: mps)
    if cpu_caps is not None:
        monkeypatch.setattr(machine, 'cpu_capabilities', lambda: {'cpu_name': 'Test CPU', **cpu_caps})
    monkeypatch.setattr(torch.cuda, 'current_device', lambda: 0)
    monkeypatch.setattr(torch.cuda, 'device', lambda index: contextlib.nullcontext())
    monkeypatch.setattr(torch.cuda, 'get_device_capability', lambda index=None: gpu)
    monkeypatch.setattr(torch.cuda, 'get_device_name', lambda index=None: 'Test GPU')
    native = gpu >= (8, 0) if native_gpu is None else native_gpu
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', lambda including_emulation=True: native)


@pytest.mark.parametrize('cuda, mps, expected', [(True, True, 'cuda'), (False, True, 'mps'), (False, False, 'cpu')])
def test_auto_picks_cuda_then_mps_then_the_cpu(cuda, mps, expected, monkeypatch):
    pretend(monkeypatch, cuda=cuda, mps=mps)
    assert machine.pick_device('auto').type == expected
    assert machine.pick_device('cpu').type == 'cpu'


@pytest.mark.parametrize('name', ['cuda', 'mps'])
def test_a_device_that_is_not_there_is_one_line(name, monkeypatch):
    pretend(monkeypatch)
    with pytest.raises(InputError, match=rf'^no {name.upper()} device is available here; use cpu$'):
        machine.pick_device(name)


@pytest.mark.parametrize('caps, fast, unit', [
    ({'avx2': True, 'avx512_bf16': False, 'amx_bf16': False}, False, None),
    ({'avx2': True, 'avx512_bf16': True, 'amx_bf16': False}, True, 'AVX512-BF16'),
    ({'avx2': True, 'avx512_bf16': False, 'amx_bf16': True}, True, 'AMX'),
], ids=['avx2-only', 'avx512-bf16', 'amx'])
def test_auto_precision_on_a_cpu_follows_its_bfloat16_arithmetic(caps, fast, unit, monkeypatch):
    pretend(monkeypatch, cpu_caps=caps)
    bf16, why = machine.use_bf16(CPU, 'auto')
    assert bf16 is fast
    assert why == ('bfloat16 autocast (this CPU has bfloat16 arithmetic (AVX512-BF16))' if unit == 'AVX512-BF16' else
                   'bfloat16 autocast (this CPU has bfloat16 arithmetic (AMX))' if unit else
                   'float32 (this CPU has no bfloat16 arithmetic)')
    assert machine.use_bf16(CPU, 'off') == (False, 'float32 (bfloat16 autocast turned off)')
    assert machine.use_bf16(CPU, False)[0] is False
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # 'on' where it is slow warns: tested below
        assert machine.use_bf16(CPU, True)[0] is True


def test_on_without_bfloat16_arithmetic_runs_but_warns(monkeypatch):
    pretend(monkeypatch, cpu_caps={'avx512_bf16': False})
    with pytest.warns(RuntimeWarning, match='emulated'):
        assert machine.use_bf16(CPU, 'on')[0] is True
    pretend(monkeypatch, cpu_caps={'avx512_bf16': True})
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # no warning where it is fast
        assert machine.use_bf16(CPU, 'on')[0] is True


@pytest.mark.parametrize('capability, native, fast', [((8, 0), None, True), ((9, 0), None, True), ((7, 5), None, False),
                                                      ((7, 0), None, False)])
def test_auto_precision_on_a_gpu_needs_compute_capability_8(capability, native, fast, monkeypatch):
    pretend(monkeypatch, cuda=True, gpu=capability, native_gpu=native)
    bf16, why = machine.use_bf16(torch.device('cuda'), 'auto')
    assert bf16 is fast and f'compute capability {capability[0]}.{capability[1]}' in why


def test_an_older_torch_without_including_emulation_falls_back_on_the_capability(monkeypatch):
    pretend(monkeypatch, cuda=True, gpu=(8, 6))

    def old_is_bf16_supported():  # torch before 2.3 takes no argument and counts emulation as support
        return True
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', old_is_bf16_supported)
    assert machine.use_bf16(torch.device('cuda'), 'auto')[0] is True
    pretend(monkeypatch, cuda=True, gpu=(7, 5))
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', old_is_bf16_supported)
    assert machine.use_bf16(torch.device('cuda'), 'auto')[0] is False


def test_mps_trains_in_float32_on_auto():
    bf16, why = machine.use_bf16(torch.device('mps'), 'auto')
    assert not bf16 and why.startswith('float32')


@pytest.mark.parametrize('bf16, amx, fast', [(False, False, False), (True, False, True), (False, True, True)])
def test_a_torch_without_get_capabilities_asks_its_private_probes(bf16, amx, fast, monkeypatch):
    class Probes:  # torch._C._cpu of a torch before get_capabilities
        _is_avx512_bf16_supported = staticmethod(lambda: bf16)
        _is_amx_tile_supported = staticmethod(lambda: amx)
    monkeypatch.delattr(torch.cpu, 'get_capabilities', raising=False)
    monkeypatch.setattr(torch._C, '_cpu', Probes, raising=False)
    assert machine.cpu_capabilities() == {'avx512_bf16': bf16, 'amx_tile': amx}
    assert machine.use_bf16(CPU, 'auto')[0] is fast


def test_a_torch_whose_probes_fail_says_float32(monkeypatch):
    def broken():
        raise RuntimeError('no cpuinfo')
    monkeypatch.setattr(torch.cpu, 'get_capabilities', broken, raising=False)
    monkeypatch.setattr(torch._C, '_cpu', None, raising=False)
    assert machine.cpu_capabilities() == {'avx512_bf16': False, 'amx_tile': False}
    assert machine.use_bf16(CPU, 'auto') == (False, 'float32 (this CPU has no bfloat16 arithmetic)')


def test_each_gpu_is_asked_about_itself(monkeypatch):
    """A node with an older and a newer GPU: the answer is the named device's, whichever is current."""
    capabilities, current = [(7, 5), (8, 0)], [0]

    class device:  # torch.cuda.device: the current device inside the block
        def __init__(self, index):
            self.index = index

        def __enter__(self):
            self.before, current[0] = current[0], self.index

        def __exit__(self, *_):
            current[0] = self.before
    pretend(monkeypatch, cuda=True)
    monkeypatch.setattr(torch.cuda, 'current_device', lambda: current[0])
    monkeypatch.setattr(torch.cuda, 'device', device)
    monkeypatch.setattr(torch.cuda, 'get_device_capability', lambda index=None: capabilities[index])
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported',
                        lambda including_emulation=True: capabilities[current[0]] >= (8, 0))
    assert machine.fast_bf16('cuda:1')[0] is True and machine.fast_bf16('cuda:0')[0] is False
    assert machine.fast_bf16('cuda')[0] is False and current == [0]


def test_unknown_settings_are_one_line():
    with pytest.raises(InputError, match='unknown precision'):
        machine.use_bf16(CPU, 'sometimes')
    with pytest.raises(InputError, match='unknown device'):
        machine.pick_device('tpu')


def test_the_matmul_rate_is_a_positive_rate_in_the_time_asked():
    assert 0 < machine.matmul_rate(CPU, n=256, seconds=0.05) < 1e6
