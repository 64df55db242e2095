"""colorlib info: versions, the CPU and its capabilities, each device with the precision --amp auto picks and why,
threads and a measured matmul rate, in a couple of seconds."""
import re

import numpy as np
import pytest
import torch

import colorlib
from colorlib import machine
from colorlib.cli import main
from conftest import call


def test_info_says_what_a_bug_report_needs(capsys):
    code, out, err = call(main, ['info', '--seconds', '0.05'], capsys)
    assert code == 0 and err == '', err
    lines = out.splitlines()
    assert lines[0] == (f'colorlib {colorlib.__version__}, torch {torch.__version__}, numpy {np.__version__}, '
                        f'Python {lines[0].rsplit(" ", 1)[1]}')
    assert lines[2].startswith(f'cpu: {machine.cpu_name()}; has ')
    assert re.match(rf'threads: torch uses {torch.get_num_threads()} ', lines[3])
    assert lines[4] == f'cpu: {torch.get_num_threads()} threads'
    assert lines[5] == f'  --amp auto: {machine.use_bf16(torch.device("cpu"), "auto")[1]}'
    rate = re.fullmatch(r'  2048x2048 matrix multiply: float32 (\d+) GFLOP/s(, bfloat16 (\d+) GFLOP/s)?', lines[6])
    assert rate and int(rate.group(1)) > 0
    assert (rate.group(2) is not None) == machine.fast_bf16(torch.device('cpu'))[0]  # timed only where it is fast
    if not torch.cuda.is_available():
        assert re.fullmatch(r'cuda: no GPU seen \(this torch (is built for CUDA [\d.]+|has no CUDA)\)', lines[7])


def test_info_names_the_bfloat16_units_it_finds(monkeypatch, capsys):
    caps = {'cpu_name': 'Test CPU', 'avx2': True, 'avx512_f': True, 'avx512_bf16': True, 'amx_bf16': False}
    monkeypatch.setattr(machine, 'cpu_capabilities', lambda: caps)
    monkeypatch.setattr(machine, 'matmul_rate', lambda device, dtype=torch.float32, **_: 100.0)
    code, out, _ = call(main, ['info'], capsys)
    assert code == 0
    assert 'cpu: Test CPU; has avx2, avx512_f, avx512_bf16; lacks amx_bf16' in out
    assert '  --amp auto: bfloat16 autocast (this CPU has bfloat16 arithmetic (AVX512-BF16))' in out
    assert '  2048x2048 matrix multiply: float32 100 GFLOP/s, bfloat16 100 GFLOP/s' in out


def test_info_times_every_device_within_its_budget(monkeypatch, capsys):
    """A node of several GPUs: each rate gets its share of --seconds, so the whole stays within it."""
    gpus = [torch.device('cuda', i) for i in range(4)]
    monkeypatch.setattr(machine, 'devices', lambda: [torch.device('cpu'), *gpus])
    monkeypatch.setattr(machine, 'use_bf16', lambda device, amp: (device.type == 'cuda', 'why'))
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(machine, 'device_name', str)
    asked = []
    monkeypatch.setattr(machine, 'matmul_rate', lambda device, dtype, seconds: asked.append(seconds) or 1.0)
    code, out, _ = call(main, ['info', '--seconds', '0.9'], capsys)
    assert code == 0 and len(asked) == 9 and sum(asked) == pytest.approx(0.9)  # the CPU's float32, 4 GPUs x 2
    assert 'no GPU seen' not in out


@pytest.mark.parametrize('seconds', ['nan', 'inf', '1e308', '-1', '0', '3601'])
def test_a_measuring_time_that_would_never_end_or_is_none_is_refused_before_any_line(seconds, capsys):
    from colorlib.cli.info import main
    from colorlib.errors import InputError
    from colorlib.machine import matmul_rate
    from conftest import call
    with pytest.raises(InputError) as e:  # the library's own bound: the same answer from Python
        matmul_rate('cpu', seconds=float(seconds))
    with pytest.raises(InputError) as report:
        machine.report(float(seconds))  # the command's one call: refused before a line is made
    assert e.value.fields == report.value.fields == ('seconds',) and str(e.value) == str(report.value)
    code, out, err = call(main, [f'--seconds={seconds}'], capsys)
    assert (code, out, err) == (2, '', f'colorlib info: error: --seconds: {e.value}\n')
