"""Frames per second of colouring a film at 640x360 and 1920x1080 in float32, beside the network's FLOP floor;
writes docs/video.md.

    python bench/video_speed.py [--frames 24] [--big-frames 30] [--baseline REV] [--out docs/video.md]

The floor is counted as bench/train_speed.py counts it: the FLOPs of the shipped UNet's forward pass on one whole
frame (torch.utils.flop_counter) over this machine's fp32 matrix-multiply rate (colorlib.machine.matmul_rate).
Each size is timed as: the network alone on a whole frame; Model.colorize on a frame (the colour of each frame, as
temporal.colour_frames takes it frame by frame); and whole films, H.264 in and out through colorlib.video (decode,
colour and encode overlapped, audio-free), with the temporal mode off and on, the default tile and one tile a frame,
and at 1080p with net_size 240 and 180. Then the peak memory of a 1080p film in a fresh process, beside the estimate
video.frame_bytes refuses films by. Timings are the fastest of a few runs (the slow ones measure the neighbours).

Each figure is given twice: frames a second of wall-clock time, which other jobs on a shared machine slow down, and
the CPU seconds the process spends on a frame (all its threads, the codecs' included), which they slow down much
less. With --baseline REV the same measurements run with the colorlib of git revision REV (`git archive REV`) and
with this checkout's, size by size in two child processes in turn, so the table puts before and after side by side
from one run.
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parent.parent
CODE = os.environ.get('VIDEO_SPEED_CODE')  # the baseline's colorlib (--baseline), in its child process
sys.path[:0] = [CODE or str(ROOT), str(ROOT / 'bench')]

import av  # noqa: E402

import colorlib  # noqa: E402
from colorlib import machine, video  # noqa: E402
from colorlib.colorize import round_up  # noqa: E402
from colorlib.temporal import colour_frames  # noqa: E402
from colorlib.train import LAYOUT  # noqa: E402
from train_speed import write_section  # noqa: E402

SIZES = ((360, 640), (1080, 1920))


def scene(index, height, width):
    """Frame `index` of a slow pan over a smooth, textured colour picture (what an encoder and the network meet in a
    real film, more or less)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32) / max(height, width)
    x = x + index * 0.01
    base = np.stack([np.sin(6 * x + 1), np.cos(5 * y + x), np.sin(3 * (x + y))], axis=2) * 0.4 + 0.5
    texture = np.random.default_rng(index).normal(0, 0.03, base.shape).astype(np.float32)
    return np.clip((base + texture) * 255, 0, 255).astype(np.uint8)


def make_clip(path, frames, height, width):
    with av.open(str(path), 'w') as output:
        stream = output.add_stream('libx264', rate=25, options={'preset': 'ultrafast', 'crf': '18'})
        stream.width, stream.height, stream.pix_fmt = width, height, 'yuv420p'
        for index in range(frames):
            for packet in stream.encode(av.VideoFrame.from_ndarray(scene(index, height, width), format='rgb24')):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return path


def frame_flops(model, height, width):
    """FLOPs of the network's forward pass on one whole frame (padded to a multiple of 4, as colorize pads)."""
    rgb = torch.zeros(1, 3, round_up(height), round_up(width))
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model.net(model.target.inputs(rgb).contiguous(memory_format=LAYOUT))
    return counter.get_total_flops()


def best(work, repeats):
    """(seconds, CPU seconds) of the fastest of `repeats` runs of work(): wall-clock time, and the process's CPU time
    over all its threads."""
    runs = []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        work()
        runs.append((time.perf_counter() - start, time.process_time() - cpu))
    return min(runs)


def per_frame(frames, timing):
    """(frames a second, CPU seconds a frame) of `frames` frames done in `timing` (best's pair)."""
    return frames / timing[0], timing[1] / frames


def network_fps(model, height, width, repeats=3):
    x = model.target.inputs(torch.rand(1, 3, round_up(height), round_up(width))).contiguous(memory_format=LAYOUT)
    with torch.no_grad():
        model.net(x)
        return per_frame(1, best(lambda: model.net(x), repeats))


def colorize_fps(model, frames, repeats=2, **settings):
    list(colour_frames(model, frames[:1], temporal=False, **settings))  # warm-up: oneDNN's kernels for these shapes
    return per_frame(len(frames), best(lambda: list(colour_frames(model, frames, temporal=False, **settings)), repeats))


def film_fps(model, clip, frames, out, repeats=2, **settings):
    dst = out / 'out.mp4'
    return per_frame(frames, best(lambda: model.colorize_video(clip, dst, replace=True, **settings), repeats))


def profile_rows(model, frame, settings, top=12):
    """Where Model.colorize spends a frame's time (torch.profiler, self time of the top operators), as rows."""
    from torch.profiler import profile
    model.colorize(frame, **settings)
    with profile() as prof:
        for _ in range(2):
            model.colorize(frame, **settings)
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events)
    return [f'| `{e.key}` | {100 * e.self_cpu_time_total / total:.1f}% |' for e in events[:top]]


PEAK = '''
import re, sys
sys.path.insert(0, {root!r})
import colorlib
model = colorlib.load('unet')
{work}
print(int(re.search(r'VmHWM:\\s+(\\d+) kB', open('/proc/self/status').read()).group(1)) * 1024)
'''


def peak_bytes(work):
    """Peak resident memory of a fresh process that loads the UNet and runs `work` (Python source): its VmHWM, not
    ru_maxrss, which Linux carries over from the parent through exec."""
    result = subprocess.run([sys.executable, '-c', PEAK.format(root=str(ROOT), work=work)], capture_output=True,
                            text=True, check=True)
    return int(result.stdout.split()[-1])


BIG_NET_SIZES = (240, 180)  # the 1080p film is also timed at these net_size
# (key, label): the rows of the table, for each size
MEASURES = (('net', 'network alone, one whole frame'),
            ('colorize', 'frame by frame (Model.colorize), tile 512'),
            ('colorize_whole', 'frame by frame, one tile'),
            ('off', 'film, temporal off, tile 512'),
            ('off_whole', 'film, temporal off, one tile'),
            ('on', 'film, temporal on (the default)'),
            *((f'net_size {n}', f'film, temporal on, net_size {n}') for n in BIG_NET_SIZES))


def measure(model, height, width, count, out):
    """{key of MEASURES: (frames a second, CPU seconds a frame)} at one size, with `count` frames of film."""
    clip = make_clip(out / f'clip{height}.mp4', count, height, width)
    frames = [scene(i, height, width) for i in range(min(count, 4))]
    repeats = 2
    whole = max(round_up(height), round_up(width))
    row = {'net': network_fps(model, height, width),
           'colorize': colorize_fps(model, frames, tile=512),
           'colorize_whole': colorize_fps(model, frames, tile=whole),
           'off': film_fps(model, clip, count, out, repeats, temporal=False, tile=512),
           'off_whole': film_fps(model, clip, count, out, repeats, temporal=False, tile=whole),
           'on': film_fps(model, clip, count, out, repeats, temporal=True)}
    if height == 1080:
        for n in BIG_NET_SIZES:
            row[f'net_size {n}'] = film_fps(model, clip, count, out, repeats, temporal=True, net_size=n)
    return row


def child_rows(code, size, args):
    """measure()'s row at SIZES[size] from a child process running this script with the colorlib in `code`."""
    result = subprocess.run([sys.executable, __file__, '--rows', str(size), '--frames', str(args.frames),
                             '--big-frames', str(args.big_frames)], env={**os.environ, 'VIDEO_SPEED_CODE': code},
                            stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(result.stdout.splitlines()[-1])


def side_by_side(revision, args):
    """(before, after): measure()'s rows with the colorlib of git `revision` and with this checkout's, each size
    timed in turn by two child processes, the baseline's first, so that both meet much the same load."""
    before, after = [], []
    with tempfile.TemporaryDirectory() as code:
        archive = subprocess.run(['git', '-C', str(ROOT), 'archive', revision, 'colorlib'], capture_output=True,
                                 check=True).stdout
        subprocess.run(['tar', '-x', '-C', code], input=archive, check=True)
        for kind in ('weights', 'colours', 'data'):  # the shipped files, found beside the package in a checkout
            os.symlink(ROOT / kind, Path(code) / kind)
        for size in range(len(SIZES)):
            before.append(child_rows(code, size, args))
            after.append(child_rows(str(ROOT), size, args))
            print(SIZES[size], 'before', before[-1], 'after', after[-1], flush=True)
    return before, after


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--frames', type=int, default=24, help='frames of the 640x360 film')
    parser.add_argument('--big-frames', type=int, default=30,
                        help='frames of the 1920x1080 film (the encoder holds a dozen back to the end: a short film '
                             'measures that tail)')
    parser.add_argument('--baseline', metavar='REV', help='also time the colorlib of this git revision, first')
    parser.add_argument('--rows', type=int, help=argparse.SUPPRESS)  # a child of --baseline: one size's row as JSON
    parser.add_argument('--out', default=str(ROOT / 'docs' / 'video.md'))
    args = parser.parse_args()
    device = torch.device('cpu')
    model = colorlib.load('unet')
    counts = (args.frames, args.big_frames)
    if args.rows is not None:
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(measure(model, *SIZES[args.rows], counts[args.rows], Path(tmp))))
        return
    load_before = os.getloadavg()[0]
    before = after = None
    if args.baseline:
        print(f'timing {args.baseline} and this checkout in turn, load {load_before:.1f}', flush=True)
        before, after = side_by_side(args.baseline, args)
    load_between = os.getloadavg()[0]
    rate = machine.matmul_rate(device, seconds=2.0)
    print(f'fp32 matmul: {rate:.1f} GFLOP/s ({torch.get_num_threads()} threads), load {load_between:.1f}', flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for index, ((height, width), count) in enumerate(zip(SIZES, counts)):
            flops = frame_flops(model, height, width)
            row = {'size': f'{width}x{height}', 'frames': count, 'gflop': flops / 1e9, 'floor': rate * 1e9 / flops,
                   'after': after[index] if after else measure(model, height, width, count, out)}
            if height == 1080:
                make_clip(out / 'clip1080.mp4', count, height, width)
                work = (f'model.colorize_video({str(out / "clip1080.mp4")!r}, {str(out / "peak.mp4")!r}, '
                        'replace=True, temporal=True)')
                row['peak'] = peak_bytes(work)
                row['base'] = peak_bytes('import colorlib.video, av')
                with video.network_workers(device) as workers:  # as many frames at once as the film colours
                    row['estimate'] = video.frame_bytes(height, width, workers=workers)
            else:
                profiled = profile_rows(model, scene(0, height, width), {'tile': 512})
            rows.append(row)
            print(row, flush=True)
    load_after = os.getloadavg()[0]

    def cell(timing, floor):
        return f'{timing[0]:.2f} ({floor / timing[0]:.1f}x), {timing[1]:.2f} s' if timing else ''
    git = ['git', '-C', str(ROOT)]
    revision = subprocess.run([*git, 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()
    changed = subprocess.run([*git, 'diff', '--quiet', 'HEAD', '--', 'colorlib']).returncode != 0
    command = f'python bench/video_speed.py --frames {args.frames} --big-frames {args.big_frames}' + (
        f' --baseline {args.baseline}' if before else '')
    lines = [
        f'Written by `{command}` on {datetime.date.today()} (colorlib at {revision}'
        f'{" with uncommitted changes" if changed else ""}): {machine.summary(device)}, {platform.machine()}, '
        f'torch {torch.__version__}, PyAV {av.__version__}, {torch.get_num_threads()} threads, float32; load average '
        f'{load_before:.1f} at the start' + (f', {load_between:.1f} after the side-by-side runs' if before else '') +
        f', {load_after:.1f} at the end (a shared machine: other jobs took part of its 2 cores, so the frames a '
        'second are lower bounds; the CPU seconds a frame suffer less).', '',
        f'- fp32 matmul rate (the limit): **{rate:.1f} GFLOP/s**, measured under the same load; the floor is the '
        'UNet\'s forward FLOPs a frame over it', '',
        'Each cell: frames a second (in brackets: how many times the floor\'s time a frame takes), then the CPU '
        'seconds the process spent a frame (all its threads, the codecs\' included). "frame by frame" is '
        'Model.colorize on decoded frames (no film); "film" is colorize_video, an H.264 film in and out, decoding and '
        'encoding overlapped with the colouring; "one tile" runs the network on the whole frame instead of 512-pixel '
        'tiles, the default. The films run the network on a frame a core, each frame in one torch thread '
        f'(video.network_workers); the network alone and frame by frame run torch on all '
        f'{torch.get_num_threads()} threads on one frame at a time.'
        + (f' "before" is revision {args.baseline}: each size is timed in two child processes in turn, the '
           'baseline\'s first, so that both meet much the same load.' if before else ''), '',
        '| size | GFLOP a frame | floor fps | measure | ' + ('before | ' if before else '') + 'after |',
        '|---|---|---|---|' + ('---|' if before else '') + '---|']
    for index, r in enumerate(rows):
        for key, label in MEASURES:
            if key in r['after']:
                old = [cell(before[index].get(key), r['floor'])] if before else []
                lines.append(' | '.join([f"| {r['size']} ({r['frames']} frames)", f"{r['gflop']:.1f}",
                                         f"{r['floor']:.2f}", label, *old, cell(r['after'][key], r['floor'])]) + ' |')
    big = rows[-1]
    lines += ['', f"Peak resident memory colouring the {big['size']} film (temporal on) in a fresh process: "
              f"**{big['peak'] / 1e9:.2f} GB**, of which {big['base'] / 1e9:.2f} GB is the interpreter, torch, PyAV "
              f"and the model before a frame; video.frame_bytes' estimate, by which larger films are refused before "
              f"a frame is decoded: {big['estimate'] / 1e9:.2f} GB."]
    lines += ['', f'Where Model.colorize spends a {rows[0]["size"]} frame\'s time (tile 512, torch.profiler, '
              'self time; the convolutions, max-pooling, upsampling, concatenation and ReLU are the network, max the '
              'colour classes\' decoding, the rest mostly the lightness and the Lab to sRGB conversion):', '',
              '| operator | share |', '|---|---|', *profiled]
    write_section(args.out, f'video-speed cpu {machine.summary(device)}', lines)
    print('\n'.join(lines))
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
