"""An adversarial round over this turn's new commands (films, ONNX export, the page; issues 32 and 33), in the shape
of scripts/adversarial_round.py: each case says what colorlib promises for it, runs it, and counts those handled as
promised. Every case runs under an address-space limit, in a temporary folder, with its own small films, pictures and
weights; the shipped files are hashed before and after, the folder the round starts in is watched, and the server is
one of the round's own on 127.0.0.1, stopped at the end.

    python scripts/adversarial_new_commands.py [--limit-gb 4] [--only CLASS] [--verbose]

Prints one line per case not handled, then `tried N, handled M (P%)`; exit status 1 if any was not.
"""
import argparse
import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# ---------------------------------------------------------------------------------------------------------------------
# the inputs: small films of every kind a user may have, good and bad, made in the round's folder

MAKE = r'''
import fractions, os, sys
import av, numpy as np, torch
from PIL import Image
from colorlib import shipped
folder = sys.argv[1]
os.chdir(folder)

def frame(index, height, width):
    rgb = np.zeros((height, width, 3), np.uint8)
    rgb[:, :] = [(40 + 15 * index) % 256, 120, 200]
    rgb[:height // 2, :width // 2] = [200, 60, 30]
    return rgb

def film(name, frames=4, size=(24, 40), codec='libx264', rate=10):
    with av.open(name, 'w') as output:
        stream = output.add_stream(codec, rate=rate)
        stream.height, stream.width = size
        stream.pix_fmt = 'yuv420p'
        for index in range(frames):
            f = av.VideoFrame.from_ndarray(frame(index, *size), format='rgb24')
            f.pts, f.time_base = index, fractions.Fraction(1, rate)
            for packet in stream.encode(f):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)

film('clip.mp4')
film('clip.mkv')
film('long.mkv', frames=40)
film('longer.mkv', frames=1500, size=(16, 24))
data = open('long.mkv', 'rb').read()
open('cut.mkv', 'wb').write(data[:len(data) * 6 // 10])
open('head.mp4', 'wb').write(open('clip.mp4', 'rb').read()[:200])
open('text.mp4', 'w').write('not a film at all\n')
open('doc.mp4', 'wb').write(b'%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n')
open('empty.mp4', 'wb').close()
open('zeros.mkv', 'wb').write(bytes(4096))
Image.fromarray(frame(0, 40, 50)).save('still.png')
os.link('still.png', 'still.mp4') if not os.path.exists('still.mp4') else None
open('huge.y4m', 'wb').write(b'YUV4MPEG2 W16000 H16000 F25:1 Ip A1:1 C420jpeg\nFRAME\n' + b'\x80' * 4096)
open('huge.mkv', 'wb').write(open('huge.y4m', 'rb').read())
open('wide.y4m', 'wb').write(b'YUV4MPEG2 W1000000 H2 F25:1 Ip A1:1 C420jpeg\nFRAME\n' + b'\x80' * 4096)
with av.open('sound.mkv', 'w') as output:
    sound = output.add_stream('aac', rate=8000, layout='mono')
    for start in range(0, 8000, 1024):
        f = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format='fltp', layout='mono')
        f.sample_rate, f.pts = 8000, start
        for packet in sound.encode(f):
            output.mux(packet)
    for packet in sound.encode():
        output.mux(packet)
with av.open('none.mkv', 'w') as output:
    stream = output.add_stream('libx264', rate=10)
    stream.width, stream.height, stream.pix_fmt = 32, 16, 'yuv420p'
    output.start_encoding()
os.mkfifo('pipe.mp4')
open('keep.mp4', 'wb').write(b'keep me')
open('keep.onnx', 'wb').write(b'keep me')
os.mkdir('adir.mp4')
os.mkdir('out')
# references
Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save('grey.png')
Image.fromarray(np.full((64, 64), 90, np.uint8)).save('grey_l.png')
Image.fromarray(frame(0, 8, 8)).save('tiny.png')
yy, xx = np.mgrid[:64, :80]
Image.fromarray(np.dstack([xx * 3, yy * 4, 255 - xx * 2 - yy]).astype(np.uint8)).save('ref.png')
open('notpic.png', 'w').write('hello')
open('cutref.png', 'wb').write(open('ref.png', 'rb').read()[:100])
Image.fromarray(np.full((32, 32), np.nan, np.float32), 'F').save('nan.tif')
# weights
state = torch.load(shipped.weights('unet_k3_f32'), weights_only=True)
state._metadata = ['a']
torch.save(state, 'badnotes.pkl')
open('garbage.pkl', 'wb').write(b'not weights')
open('empty.pkl', 'wb').close()
'''

# ---------------------------------------------------------------------------------------------------------------------
# the Python API's cases, run in one child process under the limit: name -> (code, promise)
# promised: ('error', field) an InputError naming field; ('error-text', field, words); ('works',); ('cut',) a FilmCut
# (the frames before published); ('kept', file, bytes) an error and the file still holds those bytes

API_SETUP = r'''
import json, os, resource, sys
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import numpy as np
import colorlib
from colorlib import shipped
from colorlib.errors import InputError
from colorlib.video import FilmCut
folder = sys.argv[2]
os.chdir(folder)
unet = colorlib.load('unet')
cnn = colorlib.load('cnn')
from colorlib.export import export
from colorlib.serve import start
ref = np.asarray(__import__('PIL.Image').Image.open('ref.png'))
frames = lambda src, **kw: list(unet.colorize_frames(src, **kw))
fr = lambda pictures, **kw: unet.fit_reference(pictures, **{'crops': 20, 'epochs': 1, **kw})
'''

V = "unet.colorize_video"
API_CASES = {
    # films in: not a film
    **{f'film in: {name}': (f"{V}('{name}', 'out/{i}.mp4')", ('error', 'src'))
       for i, name in enumerate(('text.mp4', 'doc.mp4', 'empty.mp4', 'zeros.mkv', 'still.mp4', 'head.mp4',
                                 'sound.mkv', 'none.mkv', 'pipe.mp4', 'adir.mp4', 'nope.mp4'))},
    'film in: huge frames refused before decoding': (f"{V}('huge.mkv', 'out/huge.mp4')", ('error-text', 'src',
                                                                                           ['16000x16000'])),
    'film in: huge y4m': (f"{V}('huge.y4m', 'out/huge2.mp4')", ('error', 'src')),
    'film in: a million pixels wide': (f"{V}('wide.y4m', 'out/wide.mp4')", ('error', 'src')),
    'film in: src None': (f"{V}(None, 'out/n.mp4')", ('error', 'src')),
    'film in: src 5': (f"{V}(5, 'out/n5.mp4')", ('error', 'src')),
    'film in: src empty': (f"{V}('', 'out/e.mp4')", ('error', 'src')),
    'film in: src NUL byte': (f"{V}('cl\\0ip.mp4', 'out/nul.mp4')", ('error', 'src')),
    'film in: cut film': (f"{V}('cut.mkv', 'out/cut.mkv')", ('cut',)),
    # films out
    'film out: exists': (f"{V}('clip.mp4', 'keep.mp4')", ('kept', 'keep.mp4', 'keep me')),
    'film out: exists, replace no': (f"{V}('clip.mp4', 'keep.mp4', replace='no')", ('error', 'replace')),
    'film out: a FIFO': (f"{V}('clip.mp4', 'pipe.mp4', replace=True)", ('error', 'dst')),
    'film out: /dev/null': (f"{V}('clip.mp4', '/dev/null', replace=True)", ('error', 'dst')),
    'film out: under a file': (f"{V}('clip.mp4', 'keep.onnx/x.mp4')", ('error', 'dst')),
    'film out: a folder': (f"{V}('clip.mp4', 'adir.mp4', replace=True)", ('error', 'dst')),
    'film out: over its own input': (f"{V}('clip.mp4', 'clip.mp4', replace=True)", ('error', 'dst')),
    'film out: unknown suffix': (f"{V}('clip.mp4', 'out/x.flv')", ('error', 'dst')),
    'film out: no suffix': (f"{V}('clip.mp4', 'out/x')", ('error', 'dst')),
    'film out: dst None': (f"{V}('clip.mp4', None)", ('error', 'dst')),
    'film out: dst 5': (f"{V}('clip.mp4', 5)", ('error', 'dst')),
    'film out: dst empty': (f"{V}('clip.mp4', '')", ('error', 'dst')),
    'film out: shipped weights as dst': (f"{V}('clip.mp4', shipped.weights('unet_k3_f32'), replace=True)",
                                         ('error', 'dst')),
    'film out: compare same as dst': (f"{V}('clip.mp4', 'out/c.mp4', compare='out/c.mp4')", ('error', 'compare')),
    'film out: compare exists': (f"{V}('clip.mp4', 'out/c2.mp4', compare='keep.mp4')",
                                 ('kept', 'keep.mp4', 'keep me')),
    'film out: compare a FIFO': (f"{V}('clip.mp4', 'out/c3.mp4', compare='pipe.mp4', replace=True)",
                                 ('error', 'compare')),
    'film out: compare 5': (f"{V}('clip.mp4', 'out/c4.mp4', compare=5)", ('error', 'compare')),
    # films: settings
    'film settings: temporal maybe': (f"{V}('clip.mp4', 'out/t.mp4', temporal='maybe')", ('error', 'temporal')),
    'film settings: temporal 2': (f"{V}('clip.mp4', 'out/t2.mp4', temporal=2)", ('error', 'temporal')),
    'film settings: progress yes': (f"{V}('clip.mp4', 'out/p.mp4', progress='yes')", ('error', 'progress')),
    'film settings: log 5': (f"{V}('clip.mp4', 'out/l.mp4', log=5)", ('error', 'log')),
    'film settings: tile 1': (f"{V}('clip.mp4', 'out/t3.mp4', tile=1)", ('error', 'tile')),
    'film settings: tile 1e9': (f"{V}('clip.mp4', 'out/t4.mp4', tile=10**9)", ('works',)),
    'film settings: margin -1': (f"{V}('clip.mp4', 'out/m.mp4', margin=-1)", ('error', 'margin')),
    'film settings: net_size 0': (f"{V}('clip.mp4', 'out/n0.mp4', net_size=0)", ('error', 'net_size')),
    'film settings: net_size 1e6': (f"{V}('clip.mp4', 'out/n6.mp4', net_size=10**6)", ('error', 'net_size')),
    'film settings: net_size 2.5': (f"{V}('clip.mp4', 'out/n25.mp4', net_size=2.5)", ('error', 'net_size')),
    'film settings: flips 1': (f"{V}('clip.mp4', 'out/f.mp4', flips=1)", ('error', 'flips')),
    'film settings: bogus keyword': (f"{V}('clip.mp4', 'out/b.mp4', tiles=64)", ('error', 'tiles')),
    # the iterator
    'frames: text file': ("frames('text.mp4')", ('error', 'src')),
    'frames: no video stream': ("frames('sound.mkv')", ('error', 'src')),
    'frames: huge frames': ("frames('huge.mkv')", ('error', 'src')),
    'frames: src None': ("frames(None)", ('error', 'src')),
    'frames: temporal maybe': ("frames('clip.mp4', temporal='maybe')", ('error', 'temporal')),
    'frames: tile 0': ("frames('clip.mp4', tile=0)", ('error', 'tile')),
    'frames: net_size -1': ("frames('clip.mp4', net_size=-1)", ('error', 'net_size')),
    'frames: a good film': ("assert len(frames('clip.mp4')) == 4", ('works',)),
    # references
    'reference: grey picture': ("fr('grey.png')", ('error', 'reference')),
    'reference: grey L picture': ("fr('grey_l.png')", ('error', 'reference')),
    'reference: tiny picture': ("fr('tiny.png')", ('error', 'reference')),
    'reference: not a picture': ("fr('notpic.png')", ('error', 'reference')),
    'reference: a cut picture': ("fr('cutref.png')", ('error', 'reference')),
    'reference: a film': ("fr('clip.mp4')", ('error', 'reference')),
    'reference: NaN TIFF': ("fr('nan.tif')", ('error', 'reference')),
    'reference: missing file': ("fr('nope.png')", ('error', 'reference')),
    'reference: a folder': ("fr('out')", ('error', 'reference')),
    'reference: a FIFO': ("fr('pipe.mp4')", ('error', 'reference')),
    'reference: empty list': ("fr([])", ('error', 'reference')),
    'reference: None': ("fr(None)", ('error', 'reference')),
    'reference: 5': ("fr(5)", ('error', 'reference')),
    'reference: list with one grey': ("fr(['ref.png', 'grey.png'])", ('error', 'reference')),
    'reference: ragged nested list': ("fr([[1, 2], [3]])", ('error', 'reference')),
    'reference: float array 0-255': ("fr(ref.astype(float))", ('error', 'reference')),
    'reference: NaN array': ("fr(np.full((64, 64, 3), np.nan))", ('error', 'reference')),
    'reference: 2-d array': ("fr(ref[..., 0])", ('error', 'reference')),
    'reference: 4 channels': ("fr(np.dstack([ref, ref[..., :1]]))", ('error', 'reference')),
    'reference: crops 5': ("fr('ref.png', crops=5)", ('error', 'crops')),
    'reference: crops 1e12': ("fr('ref.png', crops=10**12)", ('error', 'crops')),
    'reference: crops 2.5': ("fr('ref.png', crops=20.5)", ('error', 'crops')),
    'reference: net_size 1e6': ("fr('ref.png', net_size=10**6)", ('error', 'net_size')),
    'reference: net_size 4': ("fr('ref.png', net_size=4)", ('error', 'net_size')),
    'reference: seed a': ("fr('ref.png', seed='a')", ('error', 'seed')),
    'reference: epochs 0': ("fr('ref.png', epochs=0)", ('error', 'epochs')),
    'reference: bogus keyword': ("fr('ref.png', epoch=1)", ('error', 'epoch')),
    'reference: log 5': ("fr('ref.png', log=5)", ('error', 'log')),
    'reference: batch_size 1e9 on 20 crops': ("fr('ref.png', batch_size=10**9)", ('works',)),
    'reference: a regression model': ("colorlib.load('regression_cnn').fit_reference('ref.png', crops=20, epochs=1)",
                                      ('error', 'model')),
    # export
    'export: over the shipped weights': ("export(unet, shipped.weights('unet_k3_f32'), replace=True)",
                                         ('error', 'path')),
    'export: over its own weights file': ("export(unet, unet.path, replace=True)", ('error', 'path')),
    'export: existing output': ("export(unet, 'keep.onnx')", ('kept', 'keep.onnx', 'keep me')),
    'export: replace no': ("export(unet, 'out/r.onnx', replace='no')", ('error', 'replace')),
    'export: a FIFO': ("export(unet, 'pipe.mp4', replace=True)", ('error', 'path')),
    'export: /dev/null': ("export(unet, '/dev/null', replace=True)", ('error', 'path')),
    'export: a folder': ("export(unet, 'out', replace=True)", ('error', 'path')),
    'export: under a file': ("export(unet, 'keep.mp4/x.onnx')", ('error', 'path')),
    'export: path empty': ("export(unet, '')", ('error', 'path')),
    'export: path None': ("export(unet, None)", ('error', 'path')),
    'export: path 5': ("export(unet, 5)", ('error', 'path')),
    'export: path NUL': ("export(unet, 'a\\0b.onnx')", ('error', 'path')),
    'export: model garbage file': ("export('garbage.pkl', 'out/g.onnx')", ('error', 'model')),
    'export: model empty file': ("export('empty.pkl', 'out/e.onnx')", ('error', 'model')),
    'export: model bad notes': ("export('badnotes.pkl', 'out/b.onnx')", ('error', 'model')),
    'export: model unknown name': ("export('unett', 'out/u.onnx')", ('error', 'model')),
    'export: model 5': ("export(5, 'out/5.onnx')", ('error', 'model')),
    'export: model None': ("export(None, 'out/n.onnx')", ('error', 'model')),
    'export: reads one of the inputs': ("export(unet, 'ref.png', replace=True, reads=['ref.png'])", ('error', 'path')),
    # serve's start
    'start: host empty': ("start(host='')", ('error', 'host')),
    'start: host 5': ("start(host=5)", ('error', 'host')),
    'start: host unknown': ("start(host='no.such.host.invalid')", ('error', 'host')),
    'start: port -1': ("start(port=-1)", ('error', 'port')),
    'start: port 70000': ("start(port=70000)", ('error', 'port')),
    'start: port 8000.5': ("start(port=8000.5)", ('error', 'port')),
    'start: port True': ("start(port=True)", ('error', 'port')),
    'start: max_bytes 0': ("start(port=0, max_bytes=0)", ('error', 'max_bytes')),
    'start: max_pixels -1': ("start(port=0, max_pixels=-1)", ('error', 'max_pixels')),
    'start: device bogus': ("start(port=0, device='tpu')", ('error', 'device')),
    'start: runtime missing folder': ("start(port=0, runtime='/nope')", ('error', 'runtime')),
    'start: log 5': ("start(port=0, log=5)", ('error', 'log')),
}

API_RUN = r'''
said = {}
for name, (code, promise) in json.loads(sys.argv[3]).items():
    try:
        exec(code)
        said[name] = ['works', '', []]
    except FilmCut as err:
        said[name] = ['FilmCut', str(err), list(err.fields)]
    except InputError as err:
        said[name] = ['InputError', str(err), list(err.fields)]
    except BaseException as err:
        said[name] = [type(err).__name__, str(err)[:300], []]
    if promise[0] == 'kept':
        said[name].append(open(promise[1], 'rb').read() == promise[2].encode())
print('RESULT ' + json.dumps(said))
'''


def api_round(limit, folder, only):
    """The cases of each class (the words before ':') in a child of their own, so that what one class leaves
    allocated cannot fail the next."""
    results = []
    for kind in dict.fromkeys(name.split(':')[0] for name in API_CASES):
        cases = {n: c for n, c in API_CASES.items() if n.split(':')[0] == kind and (only is None or n.startswith(only))}
        if cases:
            results += api_class(limit, folder, cases)
    return results


def api_class(limit, folder, cases):
    proc = subprocess.run([sys.executable, '-c', API_SETUP + API_RUN, str(limit), str(folder), json.dumps(cases)],
                          capture_output=True, text=True, timeout=1800, cwd=folder,
                          env={**os.environ, 'PYTHONPATH': str(ROOT), 'MPLBACKEND': 'Agg'})
    lines = [line for line in proc.stdout.splitlines() if line.startswith('RESULT ')]
    if not lines:
        return [(name, False, f'the child died: status {proc.returncode}, {proc.stderr[-300:]}') for name in cases]
    said = json.loads(lines[-1][len('RESULT '):])
    results = []
    for name, (_, promise) in cases.items():
        kind, message, fields, *kept = said[name]
        if promise[0] == 'works':
            ok = kind == 'works'
        elif promise[0] == 'cut':
            ok = kind == 'FilmCut' and '\n' not in message
        elif promise[0] == 'kept':
            ok = kind == 'InputError' and kept == [True] and '\n' not in message
        else:
            ok = (kind == 'InputError' and any(f == promise[1] or f.endswith('.' + promise[1]) for f in fields)
                  and '\n' not in message and all(w in message for w in (promise[2] if len(promise) > 2 else [])))
        results.append((name, ok, f'{kind} {fields} {message[:200]}'))
    return results


# ---------------------------------------------------------------------------------------------------------------------
# the command line's cases: (argv, exit status promised, words its stderr must hold, files that must then be as they
# were or absent); one line, never a traceback

def cli_cases(folder):
    shipped_weights = str(ROOT / 'weights' / 'unet_k3_f32.pkl')
    keep = {'keep.mp4': b'keep me', 'keep.onnx': b'keep me'}
    return {
        **{f'cli film: {name}': (['colorize', name, '-o', f'o-{i}'], 2, [name], {})
           for i, name in enumerate(('text.mp4', 'doc.mp4', 'empty.mp4', 'still.mp4', 'sound.mkv', 'none.mkv',
                                     'head.mp4', 'huge.mkv', 'zeros.mkv'))},
        'cli film: a FIFO as input': (['colorize', 'pipe.mp4', '-o', 'o-fifo'], 2, ['pipe.mp4'], {}),
        'cli film: cut film, rest of folder done': (['colorize', 'cut.mkv', 'clip.mp4', '-o', 'o-cut'], 1,
                                                     ['cut.mkv'], {'o-cut/clip_colorized.mp4': None}),
        'cli film: bad film among good ones': (['colorize', 'text.mp4', 'clip.mp4', 'still.png', '-o', 'o-mix'], 1,
                                               ['text.mp4'], {'o-mix/clip_colorized.mp4': None,
                                                              'o-mix/still_colorized.png': None}),
        'cli film: existing output without --overwrite': (['colorize', 'clip.mp4', '-o', 'o-exist'], 2,
                                                          ['--overwrite'], {'o-exist/clip_colorized.mp4': b'keep me'}),
        'cli film: --reference grey': (['colorize', 'clip.mp4', '--reference', 'grey.png', '-o', 'o-r1'], 2,
                                       ['--reference'], {}),
        'cli film: --reference tiny': (['colorize', 'clip.mp4', '--reference', 'tiny.png', '-o', 'o-r2'], 2,
                                       ['--reference'], {}),
        'cli film: --reference not a picture': (['colorize', 'clip.mp4', '--reference', 'notpic.png', '-o', 'o-r3'],
                                                2, ['--reference'], {}),
        'cli film: --reference a film': (['colorize', 'clip.mp4', '--reference', 'clip.mkv', '-o', 'o-r4'], 2,
                                         ['--reference'], {}),
        'cli film: --reference missing': (['colorize', 'clip.mp4', '--reference', 'nope.png', '-o', 'o-r5'], 2,
                                          ['--reference'], {}),
        'cli film: --save-weights over shipped': (['colorize', 'clip.mp4', '--reference', 'ref.png', '--save-weights',
                                                   shipped_weights, '--overwrite', '-o', 'o-r6'], 2,
                                                  ['--save-weights'], {}),
        'cli film: --save-weights existing': (['colorize', 'clip.mp4', '--reference', 'ref.png', '--save-weights',
                                               'keep.mp4', '-o', 'o-r7'], 2, ['--save-weights'], keep),
        'cli film: --save-weights a FIFO': (['colorize', 'clip.mp4', '--reference', 'ref.png', '--save-weights',
                                             'pipe.mp4', '--overwrite', '-o', 'o-r8'], 2, ['--save-weights'], {}),
        'cli film: --temporal maybe': (['colorize', 'clip.mp4', '--temporal', 'maybe'], 2, ['--temporal'], {}),
        'cli film: --net-size 1000000': (['colorize', 'clip.mp4', '--net-size', '1000000', '-o', 'o-ns'], 2,
                                         ['--net-size'], {}),
        'cli film: -o a FIFO': (['colorize', 'clip.mp4', '-o', 'pipe.mp4'], 2, ['-o'], {}),
        'cli film: -o /dev/null': (['colorize', 'clip.mp4', '-o', '/dev/null'], 2, ['-o'], {}),
        'cli export: existing output': (['export', 'unet', '-o', 'keep.onnx'], 2, ['--overwrite'], keep),
        'cli export: over the shipped weights': (['export', 'unet', '-o', shipped_weights, '--overwrite'], 2,
                                                 ['copy it first'], {}),
        'cli export: over its own weights': (['export', 'w.pkl', '-o', 'w.pkl', '--overwrite'], 2, ['-o'], {}),
        'cli export: a FIFO': (['export', 'unet', '-o', 'pipe.mp4', '--overwrite'], 2, ['-o'], {}),
        'cli export: /dev/null': (['export', 'unet', '-o', '/dev/null', '--overwrite'], 2, ['-o'], {}),
        'cli export: a folder': (['export', 'unet', '-o', 'out', '--overwrite'], 2, ['-o'], {}),
        'cli export: under a file': (['export', 'unet', '-o', 'keep.mp4/x.onnx'], 2, ['-o'], keep),
        'cli export: garbage weights': (['export', 'garbage.pkl', '-o', 'g.onnx'], 2, ['WEIGHTS'], {}),
        'cli export: empty weights': (['export', 'empty.pkl', '-o', 'e.onnx'], 2, ['WEIGHTS'], {}),
        'cli export: bad notes': (['export', 'badnotes.pkl', '-o', 'b.onnx'], 2, ['WEIGHTS'], {}),
        'cli export: a picture as weights': (['export', 'ref.png', '-o', 'p.onnx'], 2, ['WEIGHTS'], {}),
        'cli export: unknown name': (['export', 'unett', '-o', 'u.onnx'], 2, ['WEIGHTS'], {}),
        'cli export: --temperature nan': (['export', 'unet_lab', '-o', 't.onnx', '--temperature', 'nan'], 2,
                                          ['--temperature'], {}),
        'cli export: no -o': (['export', 'unet'], 2, ['-o'], {}),
        'cli serve: --port 70000': (['serve', '--port', '70000'], 2, ['--port'], {}),
        'cli serve: --port -1': (['serve', '--port', '-1'], 2, ['--port'], {}),
        'cli serve: --host unknown': (['serve', '--host', 'no.such.host.invalid', '--port', '0'], 2, ['--host'], {}),
        'cli serve: --max-upload-mb 0': (['serve', '--max-upload-mb', '0'], 2, ['--max-upload-mb'], {}),
        'cli serve: --in-browser missing': (['serve', '--in-browser', '/nope', '--port', '0'], 2, ['--in-browser'],
                                            {}),
        'cli serve: --write-site into shipped weights': (['serve', '--write-site', str(ROOT / 'weights')], 2,
                                                         ['--write-site'], {}),
    }


def limited(limit):
    import resource
    return lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def cli_round(limit, folder, only, verbose):
    (folder / 'o-exist').mkdir()
    (folder / 'o-exist' / 'clip_colorized.mp4').write_bytes(b'keep me')
    (folder / 'w.pkl').write_bytes((ROOT / 'weights' / 'unet_k3_f32.pkl').read_bytes())
    results = []
    for name, (argv, status, words, files) in cli_cases(folder).items():
        if only is not None and not name.startswith(only):
            continue
        try:
            proc = subprocess.run([sys.executable, '-m', 'colorlib', *argv], cwd=folder, capture_output=True,
                                  text=True, timeout=600, preexec_fn=limited(limit),
                                  env={**os.environ, 'PYTHONPATH': str(ROOT), 'MPLBACKEND': 'Agg'})
        except subprocess.TimeoutExpired:
            results.append((name, False, 'timed out'))
            continue
        err = proc.stderr
        lines = [line for line in err.splitlines() if line.strip() and not line.startswith(('Fitting', 'Epoch'))]
        kept = all((folder / f).is_file() and (data is None or (folder / f).read_bytes() == data)
                   for f, data in files.items())
        left = [p.name for p in folder.rglob('*.tmp')] + [p.name for p in folder.rglob('.*') if p.is_file()]
        ok = (proc.returncode == status and 'Traceback' not in err and len(lines) == 1 and kept and not left
              and all(w in err for w in words))
        results.append((name, ok, f'status {proc.returncode}, kept {kept}, left {left}: {err.strip()[-300:]}'))
        if verbose:
            print(name, ok, proc.returncode, err.strip()[-200:], flush=True)
    return results


# ---------------------------------------------------------------------------------------------------------------------
# the page's cases: one server of the round's own, on 127.0.0.1, each request bounded; after every bad request the
# server must still answer /networks

def request(port, method, path, body=b'', headers=None, send_body=True):
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=60)
    try:
        if send_body:
            conn.request(method, path, body=body, headers=headers or {})
        else:  # a header that says more than is sent
            conn.putrequest(method, path)
            for key, value in (headers or {}).items():
                conn.putheader(key, value)
            conn.endheaders()
            conn.send(body)
        response = conn.getresponse()
        data = response.read()
        return response.status, data
    except (OSError, http.client.HTTPException) as err:
        return None, str(err).encode()
    finally:
        conn.close()


def wanted(kind, only):
    """Whether the cases of `kind` are asked for by --only."""
    return only is None or only.startswith(kind) or kind.startswith(only)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def serve_round(limit, folder, only):
    if not wanted('serve', only):
        return []
    import io

    import numpy as np
    from PIL import Image
    port = free_port()
    log = open(folder / 'serve.log', 'w')
    server = subprocess.Popen([sys.executable, '-m', 'colorlib', 'serve', '--port', str(port)], cwd=folder,
                              stdout=log, stderr=subprocess.STDOUT, preexec_fn=limited(limit),
                              env={**os.environ, 'PYTHONPATH': str(ROOT), 'MPLBACKEND': 'Agg'})
    results = []
    try:
        for _ in range(600):
            if request(port, 'GET', '/networks')[0] == 200:
                break
            if server.poll() is not None:
                return [('serve: the server starts', False, (folder / 'serve.log').read_text()[-300:])]
            time.sleep(0.2)

        def png(array):
            out = io.BytesIO()
            Image.fromarray(array).save(out, format='PNG')
            return out.getvalue()
        good = png(np.random.default_rng(0).integers(0, 256, (24, 32, 3), dtype=np.uint8))
        big = io.BytesIO()
        Image.new('L', (10_000, 10_000)).save(big, format='PNG')  # 100 megapixels, a few hundred KB
        word = lambda n: n.to_bytes(4, 'little')  # noqa: E731
        huge_bmp = b'BM' + word(54) + bytes(4) + word(54) + word(40) + word(20000) * 2 + b'\x01\x00\x18\x00' + bytes(24)
        cases = {
            'serve: a good picture': (('POST', '/colorize', good), 200),
            'serve: text as a picture': (('POST', '/colorize', b'hello, not a picture'), 400),
            'serve: a cut PNG': (('POST', '/colorize', good[:60]), 400),
            'serve: a film as a picture': (('POST', '/colorize', (folder / 'clip.mp4').read_bytes()), 400),
            'serve: 100 megapixels': (('POST', '/colorize', big.getvalue()), 413),
            'serve: a 400-megapixel BMP header': (('POST', '/colorize', huge_bmp), 413),
            'serve: a grey float NaN TIFF': (('POST', '/colorize', (folder / 'nan.tif').read_bytes()), 400),
            'serve: an empty upload': (('POST', '/colorize', b''), 400),
            'serve: unknown network': (('POST', '/colorize?network=nope', good), 400),
            'serve: net_size abc': (('POST', '/colorize?net_size=abc', good), 400),
            'serve: net_size 0': (('POST', '/colorize?net_size=0', good), 400),
            'serve: net_size 1e12': (('POST', '/colorize?net_size=1000000000000', good), 200),
            'serve: unknown route': (('POST', '/nope', good), 404),
            'serve: GET unknown': (('GET', '/../../etc/passwd', b''), 404),
            'serve: garbage weights': (('POST', '/weights', b'not weights'), 400),
            'serve: a picture as weights': (('POST', '/weights', good), 400),
            'serve: weights with bad notes': (('POST', '/weights', (folder / 'badnotes.pkl').read_bytes()), 400),
            'serve: superres weights': (('POST', '/weights', (ROOT / 'weights').joinpath(
                next(p.name for p in (ROOT / 'weights').iterdir() if p.name.startswith('superres'))).read_bytes()),
                400),
        }
        for name, ((method, path, body), status) in cases.items():
            got, data = request(port, method, path, body)
            alive = request(port, 'GET', '/networks')[0] == 200
            message = data[:200].decode(errors='replace')
            ok = got == status and alive and (status == 200 or '"error"' in message)
            results.append((name, ok, f'status {got}, alive {alive}: {message}'))
        for name, headers, body, status in (
                ('serve: Content-Length 10 GB', {'Content-Length': str(10 ** 10)}, b'x' * 100, 413),
                ('serve: Content-Length negative', {'Content-Length': '-5'}, b'', 400),
                ('serve: Content-Length not a number', {'Content-Length': 'lots'}, b'', 400),
                ('serve: Content-Length longer than the body, then closed', {'Content-Length': '1000'}, b'x' * 10,
                 None)):
            got, data = request(port, 'POST', '/colorize', body, headers, send_body=False) if status else \
                send_short(port, headers, body)
            alive = request(port, 'GET', '/networks')[0] == 200
            results.append((name, got == status and alive, f'status {got}, alive {alive}: {data[:200]!r}'))
        occupied = subprocess.run([sys.executable, '-m', 'colorlib', 'serve', '--port', str(port)], cwd=folder,
                                  capture_output=True, text=True, timeout=300, preexec_fn=limited(limit),
                                  env={**os.environ, 'PYTHONPATH': str(ROOT)})
        lines = [line for line in occupied.stderr.splitlines() if line.strip()]
        results.append(('serve: a port in use', occupied.returncode == 2 and len(lines) == 1 and '--port' in
                        occupied.stderr and 'Traceback' not in occupied.stderr, occupied.stderr[-300:]))
        results.append(('serve: still serving at the end', request(port, 'GET', '/networks')[0] == 200, ''))
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
    text = (folder / 'serve.log').read_text()
    results.append(('serve: no traceback in its log, stopped cleanly', 'Traceback' not in text and
                    server.returncode in (0, 130, -signal.SIGINT), f'status {server.returncode}: {text[-300:]}'))
    return results


def send_short(port, headers, body):
    """A client that says more than it sends and goes away: the server must let the request go."""
    with socket.create_connection(('127.0.0.1', port), timeout=30) as s:
        s.sendall(b'POST /colorize HTTP/1.1\r\nHost: x\r\n' + b''.join(f'{k}: {v}\r\n'.encode()
                                                                      for k, v in headers.items()) + b'\r\n' + body)
        s.shutdown(socket.SHUT_WR)
        try:
            data = s.recv(4096)
        except OSError as err:
            data = str(err).encode()
    return None, data


# ---------------------------------------------------------------------------------------------------------------------
# an interruption in the middle of a film: SIGTERM leaves nothing under the output's name

def sigterm_round(limit, folder, only):
    if not wanted('signal', only):
        return []
    results = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        out = folder / f'o-{sig.name}'
        proc = subprocess.Popen([sys.executable, '-m', 'colorlib', 'colorize', 'longer.mkv', '-o', str(out),
                                 '--compare'], cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=limited(limit), env={**os.environ, 'PYTHONPATH': str(ROOT)})
        try:
            for _ in range(2400):
                if out.is_dir() and any(p.suffix == '.tmp' for p in out.iterdir()) or proc.poll() is not None:
                    break
                time.sleep(0.05)
            proc.send_signal(sig)
            _, err = proc.communicate(timeout=120)
        finally:
            proc.kill()
            proc.wait()
        left = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
        lines = [line for line in err.splitlines() if line.strip()]
        results.append((f'signal: {sig.name} mid-film', proc.returncode == 128 + sig and not left and len(lines) == 1
                        and 'Traceback' not in err, f'status {proc.returncode}, left {left}: {err[-300:]}'))
    return results


def digests(folders):
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for folder in folders for p in sorted(folder.rglob('*'))
            if p.is_file()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--limit-gb', type=float, default=4.0, help='address space of each case, in GiB')
    parser.add_argument('--only', help='the cases whose name starts with this')
    parser.add_argument('--verbose', action='store_true')
    args = parser.parse_args()
    limit = int(args.limit_gb * 2 ** 30)
    shipped = [ROOT / 'weights', ROOT / 'colours', ROOT / 'data']
    before, here = digests(shipped), sorted(os.listdir('.'))
    with tempfile.TemporaryDirectory(prefix='colorlib-adversarial-') as tmp:
        folder = Path(tmp)
        subprocess.run([sys.executable, '-c', MAKE, str(folder)], check=True, timeout=600,
                       env={**os.environ, 'PYTHONPATH': str(ROOT)})
        results = (api_round(limit, folder, args.only) + cli_round(limit, folder, args.only, args.verbose)
                   + serve_round(limit, folder, args.only) + sigterm_round(limit, folder, args.only))
    lost = [p for p, d in before.items() if digests(shipped).get(p) != d]
    results.append(('no shipped file changed', not lost, ', '.join(lost)))
    results.append(('nothing written where the round started', sorted(os.listdir('.')) == here, ''))
    for name, ok, said in results:
        if not ok or args.verbose:
            print(f'{"handled" if ok else "NOT HANDLED"}: {name}: {said}')
    handled = sum(ok for _, ok, _ in results)
    print(f'tried {len(results)}, handled {handled} ({100 * handled / len(results):.1f}%)')
    sys.exit(0 if handled == len(results) else 1)


if __name__ == '__main__':
    main()
