"""An adversarial round over the classes of issue 31 (sizes, shipped files, weights' notes, numbers without bounds,
the API's exceptions, the environment, pictures, messages, the notebooks' switch): each case says what colorlib
promises for it, runs it, and counts those handled as promised. Every case runs under an address-space limit, in a
temporary folder; the shipped files are hashed before and after, and the folder the round starts in is watched, so
that a case that takes the machine down or loses a file cannot pass.

    python scripts/adversarial_round.py [--limit-gb 4] [--only CLASS] [--verbose]

Prints one line per case not handled, then `tried N, handled M (P%)`; exit status 1 if any was not.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# ---------------------------------------------------------------------------------------------------------------------
# the Python API's cases, run in one child process under the limit: name -> (code, what is promised)
# promised: ('error', field) an InputError naming field; ('works',) returns; ('error-text', field, words) also says
# words

API_SETUP = r'''
import json, os, resource, sys
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import numpy as np
import torch
import colorlib
from collections import OrderedDict
from colorlib import shipped
from colorlib.errors import InputError
folder = sys.argv[2]
pictures = np.random.default_rng(0).integers(0, 256, (8, 32, 32, 3), dtype=np.uint8)
unet = colorlib.load('unet')
cnn = colorlib.load('cnn')
fit = lambda **kw: colorlib.fit(**{'model': 'CNN', 'filters': 2, 'epochs': 1, 'train_x': pictures, 'test_x': pictures,
                                   'device': 'cpu', **kw})

def noted(name, change):
    state = torch.load(shipped.weights('unet_k3_f32'), weights_only=True)
    change(state)
    torch.save(state, f'{folder}/{name}.pkl')
    return f'{folder}/{name}.pkl'

def set_model(field, value):
    return lambda s: s._metadata['colorlib']['model'].__setitem__(field, value)

def set_notes(notes):
    return lambda s: setattr(s, '_metadata', notes)

def set_kind(kind):
    return lambda s: s._metadata['colorlib']['target'].__setitem__('kind', kind)

open(f'{folder}/garbage.pkl', 'wb').write(b'not a pickle at all')
open(f'{folder}/empty.pkl', 'wb').close()
import fractions
torch.save({'a': fractions.Fraction(1, 3)}, f'{folder}/code.pkl')
'''

API_CASES = {
    # 1. sizes
    'size: fit filters 1e5': ("fit(filters=100_000)", ('error-text', 'filters', ['would fit', 'training'])),
    'size: fit filters 1e7': ("fit(filters=10_000_000)", ('error', 'filters')),
    'size: fit filters 1e11': ("fit(filters=99_999_999_999)", ('error', 'filters')),
    'size: fit kernel 10001': ("fit(kernel=10_001)", ('error', 'kernel')),
    'size: fit kernel 100001': ("fit(kernel=100_001)", ('error', 'kernel')),
    'size: fit DUNet dilation 1e4': ("fit(model='DUNet', dilation=10_000, filters=32)", ('error', 'dilation')),
    'size: fit DUNet dilation 1e6': ("fit(model='DUNet', dilation=10**6)", ('error', 'dilation')),
    'size: fit batch 1e9 on 8 pictures': ("fit(batch_size=10**9)", ('works',)),
    'size: fit init from huge notes': ("colorlib.fit(init=noted('huge', set_model('filters', 10**6)), "
                                       "train_x=pictures, test_x=pictures, epochs=1)", ('error', 'init')),
    'api: Model.fit init': ("cnn.fit(init='unet')", ('error', 'init')),
    'api: Model.fit bogus keyword': ("cnn.fit(epoch=1)", ('error-text', 'epoch', ['did you mean epochs'])),
    'api: fit init contradicted': ("fit(init=shipped.weights('unet_k3_f32'))", ('error', 'model')),
    'size: load notes filters 1e6': ("colorlib.load(noted('huge', set_model('filters', 10**6)))",
                                     ('error-text', 'weights', ['loading'])),
    'size: load notes filters 1e9': ("colorlib.load(noted('huger', set_model('filters', 10**9)))", ('error', 'weights')),
    'size: load notes kernel 100001': ("colorlib.load(noted('kern', set_model('kernel', 100_001)))",
                                       ('error', 'weights')),
    'size: load notes DUNet dilation 1e4': (
        "colorlib.load(noted('dil', lambda s: (set_model('name', 'DUNet')(s), set_model('dilation', 10_000)(s))))",
        ('error', 'weights')),
    'size: load keyword filters 1e6': ("colorlib.load('unet', filters=10**6)", ('error', 'filters')),
    'size: colorize net_size 1e6': ("unet.colorize(np.zeros((40, 50, 3), np.uint8), net_size=10**6)",
                                    ('error-text', 'net_size', ['colouring', 'would fit'])),
    'size: colorize net_size 2e4': ("unet.colorize(np.zeros((40, 50, 3), np.uint8), net_size=20_000)",
                                    ('error', 'net_size')),
    'size: colorize net_size 1e9': ("unet.colorize(np.zeros((40, 50, 3), np.uint8), net_size=10**9)",
                                    ('error', 'net_size')),
    'size: colorize tile 1e9 small picture': ("unet.colorize(np.zeros((40, 50, 3), np.uint8), tile=10**9)", ('works',)),
    'size: colorize tile 1e5 big grey': ("unet.colorize(np.zeros((3000, 3000), np.uint8), tile=100_000)",
                                         ('error', 'tile')),
    'size: predict 64 of 1024x1024': ("unet.predict(np.zeros((64, 1024, 1024, 3), np.uint8))",
                                      ('error', 'rgb_images')),
    'size: activations 4096x4096': ("unet.activations(np.zeros((4096, 4096, 3), np.uint8))", ('error', 'image')),
    'size: evaluate batch 1e9 on 8': ("unet.evaluate(pictures, batch_size=10**9)", ('works',)),
    'size: evaluate 40 of 256x256 batch 40': ("unet.evaluate(np.zeros((40, 256, 256, 3), np.uint8), batch_size=40)",
                                              ('error', 'batch_size')),
    # 2. shipped files
    **{f'shipped: save over {name}': (f"m = colorlib.load('{name}'); m.save(m.path, replace=True)", ('error', 'path'))
       for name in ('unet', 'cnn', 'dunet', 'regression_cnn', 'unet_lab', 'superres_unet')},
    'shipped: save over the colour file': ("cnn.save(shipped.DEFAULT_COLOURS, replace=True)", ('error', 'path')),
    'shipped: save over the data': ("cnn.save(shipped.DEFAULT_DATA, replace=True)", ('error', 'path')),
    'shipped: save through a link': ("os.symlink(shipped.weights('unet_k3_f32'), f'{folder}/link.pkl'); "
                                     "cnn.save(f'{folder}/link.pkl', replace=True)", ('error', 'path')),
    'shipped: fit weights onto shipped': ("fit(out_dir=f'{folder}/run', weights=shipped.weights('cnn_k3_f32'), "
                                          "overwrite=True)", ('error', 'weights')),
    'shipped: fit out_dir empty': ("fit(out_dir='')", ('error', 'out_dir')),
    'shipped: fit out_dir blank': ("fit(out_dir='  ')", ('error', 'out_dir')),
    'shipped: fit weights empty': ("fit(out_dir=f'{folder}/run2', weights='')", ('error', 'weights')),
    'shipped: save empty': ("cnn.save('')", ('error', 'path')),
    'shipped: load_images cache_dir empty': ("colorlib.load_images(cache_dir='')", ('error', 'cache_dir')),
    # 3. weights' notes
    'notes: _metadata a list': ("colorlib.load(noted('list', set_notes(['a'])))", ('error', 'weights')),
    'notes: _metadata a string': ("colorlib.load(noted('str', set_notes('x')))", ('error', 'weights')),
    'notes: _metadata an int': ("colorlib.load(noted('int', set_notes(5)))", ('error', 'weights')),
    'notes: colorlib entry a string': ("colorlib.load(noted('entry', set_notes({'colorlib': 'x'})))",
                                       ('error', 'weights')),
    'notes: model a list': ("colorlib.load(noted('mlist', set_notes({'colorlib': {'model': [1]}})))",
                            ('error', 'weights')),
    'notes: filters a string': ("colorlib.load(noted('fstr', set_model('filters', 'a')))", ('error', 'weights')),
    'notes: filters negative': ("colorlib.load(noted('fneg', set_model('filters', -3)))", ('error', 'weights')),
    'notes: kernel even': ("colorlib.load(noted('keven', set_model('kernel', 4)))", ('error', 'weights')),
    'notes: name unknown': ("colorlib.load(noted('nm', set_model('name', 'ResNet')))", ('error', 'weights')),
    'notes: target a list': ("colorlib.load(noted('tl', lambda s: s._metadata['colorlib'].__setitem__('target', [])))",
                             ('error', 'weights')),
    # 4. numbers without bounds
    **{f'numbers: evaluate batch_size={v!r}': (f"unet.evaluate(pictures, batch_size={v!r})", ('error', 'batch_size'))
       for v in (0, -1, 2.5, '10', True)},
    'numbers: evaluate num_train -5': ("unet.evaluate(pictures, num_train=-5)", ('error', 'num_train')),
    'numbers: evaluate seed -1': ("unet.evaluate(pictures, seed=-1)", ('error', 'seed')),
    'numbers: fit resume no': ("fit(resume='no', out_dir=f'{folder}/r')", ('error', 'resume')),
    'numbers: fit overwrite false': ("fit(overwrite='false')", ('error', 'overwrite')),
    'numbers: save replace no': ("cnn.save(f'{folder}/x.pkl', replace='no')", ('error', 'replace')),
    **{f'numbers: colorize tile={v}': (f"unet.colorize(pictures[0], tile={v})", ('error', 'tile')) for v in (1, 3, 0)},
    'numbers: colorize margin -1': ("unet.colorize(pictures[0], margin=-1)", ('error', 'margin')),
    'numbers: colorize net_size 0': ("unet.colorize(pictures[0], net_size=0)", ('error', 'net_size')),
    'numbers: fit epochs 0': ("fit(epochs=0)", ('error', 'epochs')),
    'numbers: fit learn_rate nan': ("fit(learn_rate=float('nan'))", ('error', 'learn_rate')),
    'numbers: fit ema 1': ("fit(ema=1.0)", ('error', 'ema')),
    'numbers: fit temperature inf': ("fit(temperature=float('inf'))", ('error', 'temperature')),
    'numbers: fit rebalance 2': ("fit(rebalance=2)", ('error', 'rebalance')),
    'numbers: load_images val_share 0': ("colorlib.load_images(val_share=0)", ('error', 'val_share')),
    'numbers: load_images image_size 4': ("colorlib.load_images(image_size=4)", ('error', 'image_size')),
    'numbers: matmul seconds nan': ("from colorlib import machine; machine.matmul_rate('cpu', seconds=float('nan'))",
                                    ('error', 'seconds')),
    # 5. the API's exceptions
    'api: predict ragged': ("unet.predict([[[0, 1, 2]], [[1, 2, 3], [4, 5, 6]]])", ('error', 'rgb_images')),
    'api: colorize negative-stride view': ("unet.colorize(pictures[0][::-1, ::-1])", ('works',)),
    'api: predict negative-stride view': ("unet.predict(pictures[:, ::-1])", ('works',)),
    'api: fit seed a': ("fit(seed='a')", ('error', 'seed')),
    'api: fit init 5': ("fit(init=5)", ('error', 'init')),
    'api: fit out_dir 5': ("fit(out_dir=5)", ('error', 'out_dir')),
    'api: save None': ("cnn.save(None)", ('error', 'path')),
    'api: save 5': ("cnn.save(5)", ('error', 'path')),
    'api: load NUL': ("colorlib.load('a\\0b.pkl')", ('error', 'weights')),
    'api: fit data NUL': ("fit(data='a\\0b')", ('error', 'data')),
    'api: save NUL': ("cnn.save('a\\0b.pkl')", ('error', 'path')),
    'api: load kernal': ("colorlib.load('unet', kernal=5)", ('error-text', 'kernal', ['did you mean kernel'])),
    'api: fit bogus': ("fit(bogus=3)", ('error', 'bogus')),
    'api: fit epoch': ("fit(epoch=3)", ('error-text', 'epoch', ['did you mean epochs'])),
    'api: load missing': ("colorlib.load(f'{folder}/nope.pkl')", ('error', 'weights')),
    'api: load folder': ("colorlib.load(folder)", ('error', 'weights')),
    'api: load garbage': ("colorlib.load(f'{folder}/garbage.pkl')", ('error', 'weights')),
    'api: load empty file': ("colorlib.load(f'{folder}/empty.pkl')", ('error', 'weights')),
    'api: fit init missing': ("fit(init='/nope.pkl')", ('error', 'init')),
    'api: save existing': ("cnn.save(f'{folder}/twice.pkl'); cnn.save(f'{folder}/twice.pkl')", ('error', 'path')),
    'api: save into a folder': ("cnn.save(folder)", ('error', 'path')),
    'api: activations True': ("unet.activations(True)", ('error', 'image')),
    'api: activations out of range': ("unet.activations(10**6)", ('error', 'image')),
    'api: fit category dragon': ("fit(category='dragon')", ('error', 'category')),
    'api: fit extra_categories a string': ("fit(extra_categories='cat')", ('error', 'extra_categories')),
    'api: fit log a string': ("fit(log='print')", ('error', 'log')),
    'api: fit target a string': ("fit(target='classes')", ('error', 'target')),
    'api: fit device gpu9': ("fit(device='gpu9')", ('error', 'device')),
    'api: load device 5': ("colorlib.load('unet', device=5)", ('error', 'device')),
    'api: fit train_x without test_x': ("colorlib.fit(train_x=pictures)", ('error', 'test_x')),
    'api: predict int64 pictures': ("unet.predict(pictures.astype(np.int64))", ('error', 'rgb_images')),
    'api: predict 0-255 floats': ("unet.predict(pictures.astype(np.float32))", ('error', 'rgb_images')),
    'api: predict odd sides': ("unet.predict(pictures[:, :30, :30])", ('error', 'rgb_images')),
    # a second, fresh batch (written after the first round's fixes, run once before any further change)
    'fresh: fit empty train_x': ("fit(train_x=np.zeros((0, 32, 32, 3), np.uint8))", ('error', 'train_x')),
    'fresh: predict 4x4 pictures': ("unet.predict(np.zeros((1, 4, 4, 3), np.uint8))", ('error', 'rgb_images')),
    'fresh: evaluate one 8x8 picture': ("unet.evaluate(np.zeros((1, 8, 8, 3), np.uint8))", ('works',)),
    'fresh: colorize uint16 grey': ("unet.colorize(np.zeros((16, 16), np.uint16))", ('error', 'image')),
    'fresh: colorize 1x1 picture': ("unet.colorize(np.zeros((1, 1, 3), np.uint8))", ('works',)),
    'fresh: colorize float grey (H, W, 1)': ("unet.colorize(np.full((16, 16, 1), 0.5, np.float32))", ('works',)),
    'fresh: colorize empty picture': ("unet.colorize(np.zeros((0, 0, 3), np.uint8))", ('error', 'image')),
    'fresh: colorize superres weights': ("colorlib.load('superres_unet').colorize(pictures[0])",
                                         ('error', 'task')),
    'fresh: activations -1': ("unet.activations(-1)", ('error', 'image')),  # a test image's number: 0-based, as the
    # command line's index (issue 30: the bound is the library's, the same from Python and the command)
    'fresh: activations numpy index': ("unet.activations(np.int64(3))", ('works',)),
    'fresh: save to a name ending in /': ("cnn.save(f'{folder}/sub/')", ('error', 'path')),
    'fresh: save a Path': ("from pathlib import Path; cnn.save(Path(folder) / 'p.pkl')", ('works',)),
    'fresh: fit amp maybe': ("fit(amp='maybe')", ('error', 'amp')),
    'fresh: fit device cuda without one': ("fit(device='cuda')", ('error', 'device')),
    'fresh: fit out_dir a file': ("open(f'{folder}/afile', 'w').close(); fit(out_dir=f'{folder}/afile')",
                                  ('error', 'out_dir')),
    'fresh: fit weights ending in /': ("fit(out_dir=f'{folder}/r3', weights=f'{folder}/w/')", ('error', 'weights')),
    'fresh: load a colour file as weights': ("colorlib.load(shipped.DEFAULT_COLOURS)", ('error', 'weights')),
    'fresh: load colours empty': ("colorlib.load('unet', colours='')", ('error', 'colours')),
    'fresh: load colours a bins file': ("colorlib.load('unet', colours=shipped.DEFAULT_BINS)", ('error', 'colours')),
    'fresh: load temperature -1': ("colorlib.load('unet_lab', temperature=-1)", ('error', 'temperature')),
    'fresh: load bins missing': ("colorlib.load('unet_lab', bins='/nope.npy')", ('error', 'bins')),
    'fresh: evaluate 0-255 floats': ("unet.evaluate(pictures.astype(np.float64))", ('error', 'test_x')),
    'fresh: evaluate legacy yes': ("unet.evaluate(pictures, legacy='yes')", ('error', 'legacy')),
    'fresh: colorize flips 1': ("unet.colorize(pictures[0], flips=1)", ('error', 'flips')),
    'fresh: load_images memory 0': ("colorlib.load_images(memory=0)", ('error', 'memory')),
    'fresh: load_images data /dev/zero': ("colorlib.load_images('/dev/zero')", ('error', 'data')),
    'fresh: TrainConfig augment one name': ("colorlib.TrainConfig(augment='hflip')", ('works',)),
    'fresh: TrainConfig augment unknown': ("colorlib.TrainConfig(augment='flip')", ('error', 'augment')),
    'fresh: ModelConfig filters 1e12 is a config': ("colorlib.ModelConfig(filters=10**12)", ('works',)),
    'fresh: load ModelConfig-sized huge keyword kernel': ("colorlib.load('unet', kernel=10**6 + 1)", ('error', 'kernel')),
    'fresh: fit dilation on a UNet 1e6': ("fit(model='UNet', dilation=10**6)", ('works',)),
    # 7. pictures
    'pictures: colorize NaN float': ("unet.colorize(np.full((16, 16, 3), np.nan))", ('error', 'image')),
    'pictures: colorize grey float -500..500': ("unet.colorize(np.linspace(-500, 500, 256).reshape(16, 16))",
                                                ('error', 'image')),
    'pictures: colorize inf grey': ("unet.colorize(np.full((16, 16), np.inf))", ('error', 'image')),
    # 8. messages
    'messages: load empty path': ("colorlib.load('')", ('error-text', 'weights', ['empty path'])),
    'messages: edited kind lab': ("colorlib.load(noted('klab', set_kind('lab')))", ('error-text', 'weights', ['edited'])),
    'messages: edited kind rgb': ("colorlib.load(noted('krgb', set_kind('rgb')))", ('error-text', 'weights', ['edited'])),
    'messages: unpickler sentence whole': ("colorlib.load(f'{folder}/code.pkl')",
                                           ('error-text', 'weights', ['by default.', 'never runs code'])),
}

API_RUN = r'''
said = {}
for name, (code, promise) in json.loads(sys.argv[3]).items():
    try:
        exec(code)
        said[name] = ['works', '', []]
    except InputError as err:
        said[name] = ['InputError', str(err), list(err.fields)]
    except BaseException as err:
        said[name] = [type(err).__name__, str(err)[:300], []]
print('RESULT ' + json.dumps(said))
'''


def api_round(limit, folder, only):
    cases = {n: c for n, c in API_CASES.items() if only is None or n.startswith(only)}
    if not cases:
        return []
    proc = subprocess.run([sys.executable, '-c', API_SETUP + API_RUN, str(limit), str(folder), json.dumps(cases)],
                          capture_output=True, text=True, timeout=1800, cwd=folder,
                          env={**os.environ, 'PYTHONPATH': str(ROOT), 'MPLBACKEND': 'Agg'})
    lines = [line for line in proc.stdout.splitlines() if line.startswith('RESULT ')]
    if not lines:
        return [(name, False, f'the child died: status {proc.returncode}, {proc.stderr[-300:]}') for name in cases]
    said = json.loads(lines[-1][len('RESULT '):])
    results = []
    for name, (_, promise) in cases.items():
        kind, message, fields = said[name]
        if promise[0] == 'works':
            ok = kind == 'works'
        else:
            ok = (kind == 'InputError' and any(f == promise[1] or f.endswith('.' + promise[1]) for f in fields)
                  and '\n' not in message and all(w in message for w in (promise[2] if len(promise) > 2 else [])))
        results.append((name, ok, f'{kind} {fields} {message[:200]}'))
    return results


# ---------------------------------------------------------------------------------------------------------------------
# the command line's cases: (argv, env, exit status promised, words its stderr must hold); one line or works, never a
# traceback

def cli_cases(folder):
    huge = str(folder / 'huge.pkl')
    shipped_weights = str(ROOT / 'weights' / 'unet_k3_f32.pkl')
    return {
        'cli size: colorize --net-size 1000000': (['colorize', 'x.png', '--net-size', '1000000'], {}, 2,
                                                  ['--net-size', 'colouring']),
        'cli size: colorize --net-size 20000': (['colorize', 'x.png', '--net-size', '20000'], {}, 2, ['--net-size']),
        'cli size: colorize --tile 1000000000': (['colorize', 'x.png', '--tile', '1000000000'], {}, 0, []),
        'cli size: train -f 1000000': (['colorization', '--model', 'UNet', '-f', '1000000', '-e', '1'], {}, 2,
                                       ['-f', 'would fit']),
        'cli size: train DUNet --dilation 100000': (['colorization', '--model', 'DUNet', '--dilation', '100000'], {},
                                                    2, ['--dilation']),
        'cli size: --valid huge notes': (['colorization', '--valid', '--checkpoint', huge], {}, 2,
                                         ['--checkpoint', 'loading it']),
        'cli size: activations huge notes': (['activations', '0', '--checkpoint', huge], {}, 2, ['--checkpoint']),
        'cli size: colorize huge notes': (['colorize', 'x.png', '--checkpoint', huge], {}, 2, ['--checkpoint']),
        'cli size: --init huge notes': (['colorization', '--init', huge, '-e', '1'], {}, 2, ['--init']),
        'cli shipped: train over shipped weights': (['colorization', '--model', 'UNet', '-e', '1', '--checkpoint',
                                                     shipped_weights, '--overwrite'], {}, 2, ['copy it first']),
        'cli shipped: colours over shipped': (['colours', '-k', '24', '-o', str(ROOT / 'colours'), '--overwrite'], {},
                                              2, ['copy it first']),
        'cli shipped: bins over shipped': (['bins', '-o', str(ROOT / 'colours'), '--overwrite'], {}, 2,
                                           ['copy it first']),
        'cli notes: --valid list notes': (['colorization', '--valid', '--checkpoint', str(folder / 'list.pkl')], {},
                                          2, ['--checkpoint']),
        'cli notes: colorize string notes': (['colorize', 'x.png', '--checkpoint', str(folder / 'str.pkl')], {}, 2,
                                             ['--checkpoint']),
        **{f'cli numbers: info --seconds {v}': (['info', f'--seconds={v}'], {}, 2, ['--seconds'])
           for v in ('nan', 'inf', '1e308', '-1', '0')},
        'cli env: MPLBACKEND bogus --valid': (['colorization', '--model', 'UNet', '--valid'], {'MPLBACKEND': 'bogus'},
                                              0, []),
        'cli env: MPLBACKEND bogus activations': (['activations', '0'], {'MPLBACKEND': 'bogus'}, 0, []),
        'cli env: ascii output, non-ASCII folder': (['colorize', 'x.png', '-o', 'sortie-\u00e9'],
                                                    {'PYTHONIOENCODING': 'ascii'}, 0, []),
        'cli env: MPLCONFIGDIR missing': (['activations', '1'], {'MPLCONFIGDIR': '/proc/none/such'}, 0, []),
        'cli env: HOME unwritable': (['activations', '2'], {'HOME': '/proc/none', 'XDG_CONFIG_HOME': ''}, 0, []),
        'cli env: TMPDIR missing': (['colorize', 'x.png', '-o', 'tmpdir'], {'TMPDIR': '/proc/none'}, 0, []),
        'cli env: LC_ALL=C, LANG unset': (['colorize', 'x.png', '-o', 'c-locale'], {'LC_ALL': 'C', 'LANG': ''}, 0, []),
        'cli env: PYTHONIOENCODING ascii, --help': (['colorize', '--help'], {'PYTHONIOENCODING': 'ascii'}, 0, []),
        'fresh cli: --valid --checkpoint empty': (['colorization', '--valid', '--checkpoint', ''], {}, 2, []),
        'fresh cli: colorize a colour file as weights': (['colorize', 'x.png', '--checkpoint',
                                                          str(ROOT / 'colours' / 'colour_kmeans24_cat7.npy')], {}, 2,
                                                         ['--checkpoint']),
        'fresh cli: activations 100000': (['activations', '100000'], {}, 2, ['index']),
        'fresh cli: train -b 0': (['colorization', '-b', '0'], {}, 2, ['-b']),
        'fresh cli: --valid -b 1000000000': (['colorization', '--model', 'CNN', '--valid', '-b', '1000000000'], {}, 2,
                                             ['-b', 'evaluating', 'would fit']),  # all 1000 at once: over the limit
        'fresh cli: train with MPLBACKEND bogus': (['colorization', '--model', 'CNN', '-f', '4', '-e', '1',
                                                    '--experiment-name', 'mpl'], {'MPLBACKEND': 'bogus'}, 0, []),
        'fresh cli: colorize empty folder': (['colorize', 'emptydir'], {}, 2, ['no image files']),
        'cli pictures: NaN, inf and -500..500 TIFFs': (['colorize', 'nan.tif', 'inf.tif', 'range.tif', 'x.png', '-o',
                                                       'pics'], {}, 1, ['nan.tif', 'inf.tif', 'range.tif']),
        'cli messages: colours -k 10000': (['colours', '-k', '10000', '-o', 'made'], {}, 2,
                                           ['too many clusters for the data']),
    }


def cli_round(limit, folder, only, verbose):
    import resource

    def limited():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    results = []
    for name, (argv, env, status, words) in cli_cases(folder).items():
        if only is not None and not name.startswith(only):
            continue
        try:
            proc = subprocess.run([sys.executable, '-m', 'colorlib', *argv], cwd=folder, capture_output=True,
                                  text=True, timeout=600, preexec_fn=limited,
                                  env={**os.environ, 'PYTHONPATH': str(ROOT), **env})
        except subprocess.TimeoutExpired:
            results.append((name, False, 'timed out'))
            continue
        err = proc.stderr
        lines = [line for line in err.splitlines() if line.strip()]
        expected_lines = 3 if 'TIFFs' in name else (1 if status else 0)
        ok = (proc.returncode == status and 'Traceback' not in err and len(lines) == expected_lines
              and all(w in err for w in words))
        results.append((name, ok, f'status {proc.returncode}: {err.strip()[-300:]}'))
        if verbose:
            print(name, ok, proc.returncode, err.strip()[-200:], flush=True)
    return results


def notebook_round():
    """The notebooks' quick switch over the usual spellings (each notebook's own line, run as it is)."""
    results = []
    for notebook in sorted(ROOT.glob('notebooks/*.ipynb')):
        line = next(line for cell in json.loads(notebook.read_text())['cells'] for line in cell['source']
                    if line.startswith('QUICK ='))
        for value, quick in (('1', True), ('true', True), ('Yes', True), ('ON', True), ('0', False), ('no', False),
                             ('', False)):
            scope = {'os': type('env', (), {'environ': {'COLORLIB_QUICK': value}})}
            exec(line, scope)
            results.append((f'notebook {notebook.stem}: COLORLIB_QUICK={value!r}', scope['QUICK'] is quick, ''))
    return results


def make_inputs(folder):
    import numpy as np
    import torch
    from PIL import Image
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (40, 50, 3), dtype=np.uint8)).save(folder / 'x.png')
    (folder / 'emptydir').mkdir()
    for name, values in (('nan', np.full((16, 16), np.nan)), ('inf', np.full((16, 16), np.inf)),
                         ('range', np.linspace(-500, 500, 256).reshape(16, 16))):
        Image.fromarray(values.astype(np.float32), 'F').save(folder / f'{name}.tif')
    original = ROOT / 'weights' / 'unet_k3_f32.pkl'
    for name, change in (('huge', lambda s: s._metadata['colorlib']['model'].__setitem__('filters', 10 ** 6)),
                         ('list', lambda s: setattr(s, '_metadata', ['a'])),
                         ('str', lambda s: setattr(s, '_metadata', 'notes'))):
        state = torch.load(original, weights_only=True)
        change(state)
        torch.save(state, folder / f'{name}.pkl')


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
        make_inputs(folder)
        results = api_round(limit, folder, args.only) + cli_round(limit, folder, args.only, args.verbose)
        if args.only is None or args.only.startswith('notebook'):
            results += notebook_round()
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
