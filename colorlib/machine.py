"""What the machine can do, asked at run time: which device to use and whether bfloat16 is fast on it.

bfloat16 autocast is a 1.4x win on a CPU with AVX512-BF16 or AMX and on a recent GPU, but on a CPU without bfloat16
arithmetic it is emulated: a matrix multiply ran 325x slower than in float32 on an AVX2-only AMD EPYC. So 'auto'
decides by the capabilities of the device in hand, never by what was fastest where colorlib was developed.
"""
import os
import platform
import warnings

import torch

from colorlib.errors import InputError, check_number, check_whole

DEVICES = ('auto', 'cpu', 'cuda', 'mps')
PRECISIONS = ('auto', 'on', 'off')  # bfloat16 autocast: where it is fast, always, never


def mps_available():
    mps = getattr(torch.backends, 'mps', None)
    return bool(mps is not None and mps.is_available())


def available(kind):
    return kind == 'cpu' or (kind == 'cuda' and torch.cuda.is_available()) or (kind == 'mps' and mps_available())


def pick_device(name='auto'):
    """'auto': CUDA, then Apple's MPS, then the CPU; a named device must be there (an InputError otherwise)."""
    if name not in DEVICES:
        raise InputError(f'unknown device {name!r} (choose from {", ".join(DEVICES)})')
    if name == 'auto':
        return torch.device(next(kind for kind in ('cuda', 'mps', 'cpu') if available(kind)))
    if not available(name):
        raise InputError(f'no {name.upper()} device is available here; use cpu')
    return torch.device(name)


def cpu_capabilities():
    """torch's view of the CPU's instruction sets (a dict of flags and a name); older torch lacks the public call,
    so its private probes answer the two questions that matter here."""
    get = getattr(getattr(torch, 'cpu', None), 'get_capabilities', None)
    if get is not None:
        try:
            return dict(get())
        except Exception:  # a torch whose probe fails on this CPU: fall through to the private helpers
            pass
    probes = getattr(torch._C, '_cpu', None)
    caps = {}
    for key, probe in (('avx512_bf16', '_is_avx512_bf16_supported'), ('amx_tile', '_is_amx_tile_supported')):
        try:
            caps[key] = bool(getattr(probes, probe)())
        except Exception:
            caps[key] = False
    return caps


def cpu_name():
    name = cpu_capabilities().get('cpu_name')
    if name:
        return str(name)
    try:
        with open('/proc/cpuinfo') as f:
            return next(line.split(':', 1)[1].strip() for line in f if line.startswith('model name'))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def fast_bf16(device):
    """(True or False, why): does `device` do bfloat16 arithmetic in hardware?"""
    device = torch.device(device)
    if device.type == 'cuda':
        index = device.index if device.index is not None else torch.cuda.current_device()
        major, minor = torch.cuda.get_device_capability(index)
        with torch.cuda.device(index):  # is_bf16_supported answers for the current device
            try:
                native = torch.cuda.is_bf16_supported(including_emulation=False)
            except TypeError:  # a torch before the including_emulation argument: compute capability 8.0 is Ampere
                native = major >= 8
        gpu = f'{torch.cuda.get_device_name(index)} (compute capability {major}.{minor})'
        return native, f'this GPU, {gpu}, has {"" if native else "no "}bfloat16 arithmetic'
    if device.type == 'cpu':
        caps = cpu_capabilities()
        units = [name for key, name in (('avx512_bf16', 'AVX512-BF16'), ('amx_bf16', 'AMX'), ('amx_tile', 'AMX'))
                 if caps.get(key)]
        if units:
            return True, f'this CPU has bfloat16 arithmetic ({units[0]})'
        return False, 'this CPU has no bfloat16 arithmetic'
    return False, f'bfloat16 is not known to be faster than float32 on {device.type}'


def check_precision(amp):
    """An InputError naming amp unless it is a precision use_bf16 takes: one of PRECISIONS, True or False."""
    if amp not in (*PRECISIONS, True, False):
        raise InputError(f'unknown precision {amp!r} (choose from {", ".join(PRECISIONS)})', ['amp'])


def use_bf16(device, amp='auto', warn=True):
    """(True or False, what to say): whether training and evaluation on `device` run under bfloat16 autocast.

    amp: 'auto' (bfloat16 only where the device has it in hardware), 'on', 'off'; True and False mean on and off.
    'on' where bfloat16 would be emulated runs as asked, with a warning (unless `warn` is false)."""
    check_precision(amp)
    amp = {True: 'on', False: 'off'}.get(amp, amp)
    if amp == 'off':
        return False, 'float32 (bfloat16 autocast turned off)'
    native, why = fast_bf16(device)
    if amp == 'auto':
        return native, f'{"bfloat16 autocast" if native else "float32"} ({why})'
    if not native and warn:
        warnings.warn(f'bfloat16 asked for, but {why}: it is emulated there and can be many times slower than '
                      'float32', RuntimeWarning, stacklevel=2)
    return True, f'bfloat16 autocast (asked for; {why})'


def sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    elif device.type == 'mps':
        torch.mps.synchronize()


MAX_SECONDS = 3600  # the longest a rate is measured for


def check_seconds(seconds):
    """An InputError naming `seconds` unless it is a time a measurement can take: above 0, at most MAX_SECONDS."""
    check_number(seconds, 'seconds', 0, MAX_SECONDS, low_open=True)


def matmul_rate(device, dtype=torch.float32, n=2048, seconds=0.5):
    """Sustained GFLOP/s of an n x n matrix multiply in `dtype` on `device`, measured for about `seconds` after
    one warm-up product: the arithmetic limit that training speed is judged against. `seconds` is above 0 and at
    most MAX_SECONDS: NaN, infinity or 1e308 would never end."""
    import time
    check_seconds(seconds)
    check_whole(n, 'n', 1, 16384)
    device = torch.device(device)
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    a @ b
    sync(device)
    count, start = 0, time.perf_counter()
    while True:
        a @ b
        count += 1
        sync(device)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return 2 * n ** 3 * count / elapsed / 1e9


def devices():
    """Every device torch sees here: the CPU, each CUDA GPU, Apple's MPS."""
    found = [torch.device('cpu')]
    if torch.cuda.is_available():
        found += [torch.device('cuda', i) for i in range(torch.cuda.device_count())]
    if mps_available():
        found.append(torch.device('mps'))
    return found


def summary(device='cpu'):
    """One line naming the machine a figure came from: its CPU (or GPU), cores, and whether bfloat16 is fast."""
    device = torch.device(device)
    fast, why = fast_bf16(device)
    if device.type == 'cuda':
        return why.replace('this GPU, ', '').replace(' has ', ': ')
    return f'{cpu_name()}, {os.cpu_count()} cores: {why.replace("this CPU has ", "")}'


# the CPU capabilities that decide how fast colorlib trains: vector width and bfloat16 arithmetic
CPU_FLAGS = ('avx2', 'fma3', 'avx512_f', 'avx512_vnni', 'avx512_bf16', 'amx_tile', 'amx_bf16')


def usable_cores():
    """The logical CPUs this process may run on (a cluster job's share, not the node's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count() or 1


def report(seconds=0.6):
    """The lines of `colorlib info`, what a bug report needs and what a cluster user checks on a new node: versions,
    the CPU and its capabilities, threads, and for each device the precision amp='auto' picks and why and its
    matrix-multiply rate, measured for `seconds` in all (checked before the first line)."""
    check_seconds(seconds)
    return report_lines(seconds)


def report_lines(seconds):
    import numpy as np
    from colorlib import __version__
    caps = cpu_capabilities()
    has = [name for name in CPU_FLAGS if caps.get(name)]
    lacks = [name for name in CPU_FLAGS if name in caps and not caps[name]]
    affinity = usable_cores()
    yield (f'colorlib {__version__}, torch {torch.__version__}, numpy {np.__version__}, '
           f'Python {platform.python_version()}')
    yield f'system: {platform.system()} {platform.release()} {platform.machine()}'
    yield f'cpu: {cpu_name()}; has {", ".join(has) or "none of " + ", ".join(CPU_FLAGS)}' + (
        f'; lacks {", ".join(lacks)}' if lacks else '')
    yield (f'threads: torch uses {torch.get_num_threads()} (interop {torch.get_num_interop_threads()}); '
           f'{affinity} of {os.cpu_count()} logical CPUs usable by this process')
    found = [(device, *use_bf16(device, 'auto')) for device in devices()]
    share = seconds / sum(1 + bf16 for _, bf16, _ in found)  # a node of eight GPUs takes no longer than a laptop
    for device, bf16, why in found:
        yield device_name(device)
        yield f'  --amp auto: {why}'
        rates = [f'float32 {matmul_rate(device, torch.float32, seconds=share):.0f} GFLOP/s']
        if bf16:  # an emulated bfloat16 product would take minutes to time
            rates.append(f'bfloat16 {matmul_rate(device, torch.bfloat16, seconds=share):.0f} GFLOP/s')
        yield f'  2048x2048 matrix multiply: {", ".join(rates)}'
    if not torch.cuda.is_available():  # what a cluster user looks for first on a node whose GPU is not seen
        built = f'this torch is built for CUDA {torch.version.cuda}' if torch.version.cuda else 'this torch has no CUDA'
        yield f'cuda: no GPU seen ({built})'


def device_name(device):
    """A device as a report names it: a GPU's model, compute capability and memory; the CPU's threads."""
    if device.type == 'cuda':
        major, minor = torch.cuda.get_device_capability(device)
        memory = torch.cuda.get_device_properties(device).total_memory / 2 ** 30
        return f'{device}: {torch.cuda.get_device_name(device)}, compute capability {major}.{minor}, {memory:.0f} GiB'
    return f'{device}: {torch.get_num_threads()} threads' if device.type == 'cpu' else str(device)
