"""colorlib info: what a bug report needs and what a cluster user checks on a new node: versions, devices, the CPU
and its capabilities, the precision --amp auto picks on each device and why, threads, and the matrix-multiply rate."""
import os
import platform
import sys

import numpy as np
import torch

from colorlib import __version__, machine
from colorlib.cli.common import OneLineParser, a_float, flag, run_command

# the CPU capabilities that decide how fast colorlib trains: vector width and bfloat16 arithmetic
CPU_FLAGS = ('avx2', 'fma3', 'avx512_f', 'avx512_vnni', 'avx512_bf16', 'amx_tile', 'amx_bf16')


def build_parser(prog='colorlib info'):
    parser = OneLineParser(prog=prog, description='Print this machine as colorlib sees it: versions, devices, CPU, '
                                                  'the precision --amp auto picks, threads and the matmul rate.')
    parser.add_argument('--seconds', type=a_float, default=0.6,
                        help='time spent on the matrix-multiply rates, all devices together')
    return parser


def device_name(device):
    if device.type == 'cuda':
        major, minor = torch.cuda.get_device_capability(device)
        memory = torch.cuda.get_device_properties(device).total_memory / 2 ** 30
        return f'{device}: {torch.cuda.get_device_name(device)}, compute capability {major}.{minor}, {memory:.0f} GiB'
    return f'{device}: {torch.get_num_threads()} threads' if device.type == 'cpu' else str(device)


def lines(seconds):
    caps = machine.cpu_capabilities()
    has = [name for name in CPU_FLAGS if caps.get(name)]
    lacks = [name for name in CPU_FLAGS if name in caps and not caps[name]]
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
    yield (f'colorlib {__version__}, torch {torch.__version__}, numpy {np.__version__}, '
           f'Python {platform.python_version()}')
    yield f'system: {platform.system()} {platform.release()} {platform.machine()}'
    yield f'cpu: {machine.cpu_name()}; has {", ".join(has) or "none of " + ", ".join(CPU_FLAGS)}' + (
        f'; lacks {", ".join(lacks)}' if lacks else '')
    yield (f'threads: torch uses {torch.get_num_threads()} (interop {torch.get_num_interop_threads()}); '
           f'{affinity} of {os.cpu_count()} logical CPUs usable by this process')
    found = [(device, *machine.use_bf16(device, 'auto')) for device in machine.devices()]
    share = seconds / sum(1 + bf16 for _, bf16, _ in found)  # a node of eight GPUs takes no longer than a laptop
    for device, bf16, why in found:
        yield device_name(device)
        yield f'  --amp auto: {why}'
        rates = [f'float32 {machine.matmul_rate(device, torch.float32, seconds=share):.0f} GFLOP/s']
        if bf16:  # an emulated bfloat16 product would take minutes to time
            rates.append(f'bfloat16 {machine.matmul_rate(device, torch.bfloat16, seconds=share):.0f} GFLOP/s')
        yield f'  2048x2048 matrix multiply: {", ".join(rates)}'
    if not torch.cuda.is_available():  # what a cluster user looks for first on a node whose GPU is not seen
        built = f'this torch is built for CUDA {torch.version.cuda}' if torch.version.cuda else 'this torch has no CUDA'
        yield f'cuda: no GPU seen ({built})'


def run(args):
    with flag('--seconds'):
        machine.check_seconds(args.seconds)  # before any line is printed
        for line in lines(args.seconds):
            print(line, flush=True)


def main(argv=None, prog='colorlib info'):
    run_command(build_parser(prog), run, argv)


if __name__ == '__main__':
    main(sys.argv[1:])
