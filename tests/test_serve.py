"""colorlib serve: the page's requests over HTTP (pictures, weights, bad and huge uploads, a port in use), the command
in a process of its own under an address-space limit, and the page itself in a real browser (Debian's Chromium
driven by Playwright), whose coloured photo must be Model.colorize's."""
import base64
import functools
import http.client
import http.server
import io
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import colorlib
from colorlib.checkpoints import read_weights
from colorlib.cli.serve import main
from colorlib.errors import InputError
from colorlib.images import read_image
from colorlib.serve import start
from colorlib.shipped import weights
from conftest import call

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = '/usr/bin/chromium'
CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update', '--disable-sync']


@pytest.fixture(scope='module')
def server():
    server = start(port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    assert not server.folder.exists()


def request(server, method, path, body=None, headers=None):
    """(status, headers, body) of one request to `server` (a Server, or a URL's host and port)."""
    host, port = server.server_address[:2] if hasattr(server, 'server_address') else server
    connection = http.client.HTTPConnection(host, port, timeout=60)
    try:
        connection.request(method, path, body, headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def png(pixels):
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format='PNG')
    return out.getvalue()


def refusal(status, body):
    """The server's one-line message, which names no temporary file."""
    message = json.loads(body)['error']
    assert '\n' not in message and 'colorlib-serve-' not in message and 'tmp' not in message, message
    return message


@pytest.fixture(scope='module')
def horse():
    """A test horse enlarged to an odd size, as a photo from a phone is not a multiple of 4."""
    test_x = colorlib.load_images()[1]
    return np.asarray(Image.fromarray(test_x[3]).resize((67, 45), Image.BICUBIC))


def test_page_and_networks(server):
    status, headers, body = request(server, 'GET', '/')
    assert status == 200 and headers['Content-Type'].startswith('text/html') and b'id="drop"' in body
    status, _, body = request(server, 'GET', '/networks')
    info = json.loads(body)
    names = [n['name'] for n in info['networks']]
    assert status == 200 and info['default'] == 'unet' and 'unet_lab' in names
    assert not any(name.startswith('superres') for name in names)  # they do not colour
    assert {n['name']: n['margin'] for n in info['networks']}['unet'] == 28  # a tile's context in the browser
    assert info['max_bytes'] == 64 * 2 ** 20 and info['max_pixels'] == 16_000_000
    assert request(server, 'GET', '/etc/passwd')[0] == 404


@pytest.mark.parametrize('network, net_size', [('unet', None), ('unet_lab', 24)])
def test_colours_as_model_colorize(server, horse, network, net_size):
    query = f'/colorize?network={network}' + (f'&net_size={net_size}' if net_size else '')
    status, headers, body = request(server, 'POST', query, png(horse))
    assert status == 200 and headers['Content-Type'] == 'image/png'
    got = np.asarray(Image.open(io.BytesIO(body)))
    np.testing.assert_array_equal(got, colorlib.load(network).colorize(horse, net_size=net_size))


def test_net_size_never_enlarges(server, horse):
    """A net size past the picture's shorter side is full size: memory stays the picture's."""
    big = request(server, 'POST', '/colorize?network=unet&net_size=100000', png(horse))
    full = request(server, 'POST', '/colorize?network=unet', png(horse))
    assert big[0] == full[0] == 200 and big[2] == full[2]


def test_alpha_kept(server, horse):
    rgba = np.dstack([horse, np.arange(horse.size // 3, dtype=np.uint8).reshape(horse.shape[:2])])
    status, _, body = request(server, 'POST', '/colorize?network=unet', png(rgba))
    got = np.asarray(Image.open(io.BytesIO(body)))
    assert status == 200 and got.shape == rgba.shape
    np.testing.assert_array_equal(got[:, :, 3], rgba[:, :, 3])


def test_sixteen_bit_grey_keeps_every_level(server, horse, tmp_path):
    grey = (horse.mean(axis=2) * 257).astype(np.uint16)
    Image.fromarray(grey).save(tmp_path / 'grey16.png')
    status, _, body = request(server, 'POST', '/colorize?network=unet', (tmp_path / 'grey16.png').read_bytes())
    pixels, _ = read_image(tmp_path / 'grey16.png')
    assert status == 200 and pixels.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(body))), colorlib.load('unet').colorize(pixels))


def test_others_are_served_while_a_picture_is_coloured(server, horse):
    """While the one picture at a time is being coloured (the lock held here), the page, the list and refusals are
    still answered, and the next picture waits its turn and is coloured."""
    answers = []
    with server.work:
        waiting = threading.Thread(target=lambda: answers.append(
            request(server, 'POST', '/colorize?network=unet', png(horse))))
        waiting.start()
        assert request(server, 'GET', '/')[0] == 200 and request(server, 'GET', '/networks')[0] == 200
        assert request(server, 'POST', '/colorize?network=unet', b'not a picture')[0] == 400
        assert not answers
    waiting.join(60)
    assert answers[0][0] == 200


@pytest.mark.parametrize('body, says', [
    (b'this is text, not a picture', 'not a picture'),
    (png(np.zeros((40, 40, 3), np.uint8))[:60], 'not a picture|cannot be read'),  # a PNG cut short
])
def test_not_a_picture(server, horse, body, says):
    status, _, answer = request(server, 'POST', '/colorize?network=unet', body)
    assert status == 400
    assert any(part in refusal(status, answer) for part in says.split('|'))
    assert request(server, 'POST', '/colorize?network=unet', png(horse))[0] == 200  # and it goes on serving


@pytest.mark.parametrize('query, field', [('network=nothing', 'no network'), ('network=unet&net_size=-3', 'net_size'),
                                          ('network=unet&net_size=x', 'net_size'),
                                          ('network=unet&net_size=%C2%B2', 'net_size')])  # a superscript 2
def test_bad_settings(server, horse, query, field):
    status, _, body = request(server, 'POST', f'/colorize?{query}', png(horse))
    assert status == 400 and field in refusal(status, body)


def test_upload_past_the_bound_is_refused_unread(server):
    """A body that says it is larger than the server takes is refused from its length, before a byte is read."""
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=30)
    connection.putrequest('POST', '/colorize?network=unet')
    connection.putheader('Content-Length', str(10 ** 11))  # 100 GB, never sent
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 413
    assert 'more than the 64.0 MB' in refusal(413, response.read())
    connection.close()
    status, _, body = request(server, 'POST', '/colorize?network=unet', b'', {'Content-Length': '0'})
    assert status == 400 and 'empty' in refusal(status, body)
    for length in ('9' * 5000, '-1', '1e9'):
        connection = http.client.HTTPConnection(host, port, timeout=30)
        connection.putrequest('POST', '/colorize?network=unet')
        connection.putheader('Content-Length', length)
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 400 and 'no length' in refusal(400, response.read())
        connection.close()
    assert request(server, 'GET', '/networks')[0] == 200


@pytest.fixture(scope='module')
def hundred_megapixels():
    """A real 10000x10000 PNG: a few hundred kB of file, 100 megapixels of picture."""
    out = io.BytesIO()
    Image.new('L', (10000, 10000), 128).save(out, format='PNG', compress_level=1)
    return out.getvalue()


@pytest.mark.filterwarnings('ignore::PIL.Image.DecompressionBombWarning')  # Pillow's, past 89 megapixels
def test_100_megapixels_refused_by_its_header(server, hundred_megapixels):
    status, _, body = request(server, 'POST', '/colorize?network=unet', hundred_megapixels)
    assert status == 413
    assert '10000x10000 (100.0 megapixels), more than the 16 megapixels' in refusal(status, body)


def test_weights_uploaded(server, horse):
    """Weights uploaded open with colorlib.load and colour as it does; they are kept in memory, not on disk."""
    status, _, body = request(server, 'POST', '/weights', weights('unet_lab_k3_f32').read_bytes())
    said = json.loads(body)
    assert status == 200 and said['name'] == 'unet_lab' and said['id'].startswith('upload-')
    status, _, coloured = request(server, 'POST', f'/colorize?network={said["id"]}', png(horse))
    assert status == 200
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(coloured))),
                                  colorlib.load('unet_lab').colorize(horse))
    assert list(server.folder.iterdir()) == []


def claims_too_much(path):
    """Weights that say they hold a UNet of 10000 filters (9 billion parameters) in a few numbers."""
    state = read_weights(weights('unet_k3_f32'))
    small = OrderedDict(list(state.items())[:1])
    small._metadata = {'colorlib': {**state._metadata['colorlib'],
                                    'model': {**state._metadata['colorlib']['model'], 'filters': 10000}}}
    torch.save(small, path)
    return path.read_bytes()


@pytest.mark.parametrize('make, says', [
    (lambda path: b'not weights at all', 'the uploaded file'),
    (lambda path: weights('superres_unet_k3_f32').read_bytes(), 'super-resolution'),
    (claims_too_much, '10000 filters'),
])
def test_bad_weights(server, horse, tmp_path, make, says):
    status, _, body = request(server, 'POST', '/weights', make(tmp_path / 'w.pkl'))
    assert status == 400 and says in refusal(status, body)
    assert request(server, 'POST', '/colorize?network=unet', png(horse))[0] == 200


def test_port_in_use(capsys):
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(InputError, match=f'port {port} on 127.0.0.1 is in use') as caught:
            start(port=port)
        assert caught.value.fields == ('port',)
        code, out, err = call(main, ['--port', str(port)], capsys)
    assert code == 2 and out == '' and err == f'colorlib serve: error: --port: port {port} on 127.0.0.1 is in use ' \
        '(another server listens there); choose another port\n'


@pytest.mark.parametrize('argv, says', [(['--port', '70000'], '--port: port must be a whole number from 0 to 65535'),
                                        (['--host', '203.0.113.7'], '--host: cannot listen on 203.0.113.7 port 8000')])
def test_bad_flags(capsys, argv, says):
    code, _, err = call(main, argv, capsys)
    assert code == 2 and err.startswith(f'colorlib serve: error: {says}') and err.count('\n') == 1



@pytest.mark.parametrize('flag, keyword, value, unit', [
    ('--port', 'port', -1, 1), ('--port', 'port', 70000, 1), ('--max-upload-mb', 'max_bytes', 0, 2 ** 20),
    ('--max-upload-mb', 'max_bytes', -1, 2 ** 20), ('--max-megapixels', 'max_pixels', 0, 10 ** 6)])
def test_a_refused_setting_gets_the_same_answer_from_the_command_and_from_python(flag, keyword, value, unit, capsys):
    """The flags only parse (megabytes and megapixels into the library's bytes and pixels): start refuses the
    value, and the command says its refusal led by the flag."""
    with pytest.raises(InputError) as e:
        start(**{keyword: value * unit})
    assert e.value.fields == (keyword,)
    code, out, err = call(main, [flag, str(value)], capsys)
    assert (code, out, err) == (2, '', f'colorlib serve: error: {flag}: {e.value}\n')


def test_the_flags_are_the_keywords_of_serve_with_its_defaults():
    import inspect
    from colorlib.cli.serve import build_parser
    from colorlib.serve import serve
    parameters = inspect.signature(serve).parameters
    args = vars(build_parser().parse_args([]))
    assert {k: args[k] for k in ('host', 'port', 'max_bytes', 'max_pixels')} == {
        k: parameters[k].default for k in ('host', 'port', 'max_bytes', 'max_pixels')}
    assert {'runtime', 'folder', 'device'} <= set(args)

def limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (6 * 2 ** 30, 6 * 2 ** 30))  # about 3.4 GB of it is the idle server's


def test_command_under_a_memory_limit(tmp_path, horse, hundred_megapixels):
    """`colorlib serve --port 0` in a process of its own, its address space bounded: it says where it listens,
    refuses a 100-megapixel picture and colours the next, writes nothing but into its temporary folder (TMPDIR
    here; nothing in the folder it runs in, nor in HOME), which goes when Ctrl-C stops it with status 0."""
    tmp, cwd, home = tmp_path / 'tmp', tmp_path / 'cwd', tmp_path / 'home'
    tmp.mkdir(), cwd.mkdir(), home.mkdir()
    env = {**os.environ, 'TMPDIR': str(tmp), 'PYTHONPATH': str(REPO), 'HOME': str(home)}
    env.pop('XDG_CACHE_HOME', None)
    proc = subprocess.Popen([sys.executable, '-m', 'colorlib', 'serve', '--port', '0'], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=limit_memory)
    try:
        line = proc.stdout.readline()
        assert line.startswith('colorlib serve: open http://127.0.0.1:'), line + proc.stderr.read()
        port = int(line.split('127.0.0.1:')[1].split('/')[0])
        status, _, body = request(('127.0.0.1', port), 'POST', '/colorize?network=unet', hundred_megapixels)
        assert status == 413 and '100.0 megapixels' in refusal(status, body)
        status, _, body = request(('127.0.0.1', port), 'POST', '/colorize?network=cnn', png(horse))
        assert status == 200 and np.asarray(Image.open(io.BytesIO(body))).shape == horse.shape
        assert len(list(tmp.iterdir())) == 1  # the server's own folder, and nothing left in it
        assert list(next(tmp.iterdir()).iterdir()) == []
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and out == 'colorlib serve: stopped\n', err
    assert list(tmp.iterdir()) == [] and list(cwd.iterdir()) == [] and list(home.rglob('*')) == []
    assert 'POST /colorize?network=unet HTTP/1.1" 413' in err  # one line per request on stderr


# -----------------------------------------------------------------------------
# the page in a real browser


def browser_or_skip():
    """Playwright's Chromium on Debian's binary; where either is missing a skip, but a failure in CI (CI=true)."""
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = 'the page is tested in a browser driven by Playwright: pip install playwright'
    if reason is None and not os.access(CHROMIUM, os.X_OK):
        reason = f'the page is tested in Debian\'s Chromium, and {CHROMIUM} is missing: apt-get install chromium'
    if reason:
        if os.environ.get('CI') == 'true':
            pytest.fail(f'{reason} (CI=true: the browser test must run)')
        pytest.skip(reason)
    return sync_playwright


def drop(page, *files):
    """Drop files (name, bytes, type) on the page's drop zone at once, as a drag from the desktop does."""
    page.evaluate("""(files) => {
        const transfer = new DataTransfer();
        for (const [name, data, kind] of files) {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            transfer.items.add(new File([bytes], name, { type: kind }));
        }
        document.getElementById('drop').dispatchEvent(
            new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }""", [[name, base64.b64encode(data).decode(), kind] for name, data, kind in files])


def test_page_in_a_browser(server, tmp_path):
    """Two files dropped at once: a real photo comes back coloured exactly as Model.colorize colours it (at the
    page's default net size of 64), shown beside its grey and downloadable, and a file that is not a picture gets
    its message on the page; uploaded weights join the networks."""
    sync_playwright = browser_or_skip()
    from skimage import data
    photo = tmp_path / 'chelsea.jpg'
    Image.fromarray(data.chelsea()).save(photo, quality=90)  # 451x300
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={'width': 1000, 'height': 760}, accept_downloads=True)
            page.goto(server.url)
            page.wait_for_selector('#network option[value="unet_lab"]', state='attached')
            page.select_option('#network', 'unet_lab')
            assert page.is_hidden('#in-browser-choice')  # this server was given no onnxruntime-web
            drop(page, ('not-a-photo.jpg', b'plain text', 'image/jpeg'), (photo.name, photo.read_bytes(), 'image/jpeg'))
            page.wait_for_selector('.result.done', timeout=60_000)
            assert 'not a picture' in page.inner_text('.result .message.error')
            assert page.locator('.result').count() == 2
            page.fill('.result.done .slider', '40')
            with page.expect_download() as download:
                page.click('.result.done a.download')
            saved = tmp_path / download.value.suggested_filename
            download.value.save_as(saved)
            page.screenshot(path=tmp_path / 'serve.png', full_page=True)
            if os.environ.get('COLORLIB_SCREENSHOT'):  # docs/serve.png, remade on request
                shutil.copy(tmp_path / 'serve.png', os.environ['COLORLIB_SCREENSHOT'])
            page.set_input_files('#weights', str(weights('dunet_k3_f32')))
            page.wait_for_function("document.getElementById('network').value.startsWith('upload-')")
            assert 'dunet' in page.inner_text('#notice')
        finally:
            browser.close()
    assert saved.name == 'chelsea_colorized.png'
    pixels, _ = read_image(photo)
    want = colorlib.load('unet_lab').colorize(pixels, net_size=64)
    np.testing.assert_array_equal(np.asarray(Image.open(saved)), want)
    assert (tmp_path / 'serve.png').stat().st_size > 10_000


# -----------------------------------------------------------------------------
# colouring in the browser itself: onnxruntime-web (npm) running the network exported to ONNX

RUNTIME = Path(os.environ.get('COLORLIB_ONNXRUNTIME_WEB', Path.home() / '.cache' / 'colorlib-onnxruntime-web' /
                              'node_modules' / 'onnxruntime-web' / 'dist'))


def runtime_or_skip():
    """onnxruntime-web's files, as .ci/run installs them; where missing a skip, but a failure in CI (CI=true)."""
    from colorlib.serve import RUNTIME_FILES
    if not all((RUNTIME / name).is_file() for name in RUNTIME_FILES):
        reason = (f'onnxruntime-web is not in {RUNTIME}: npm install --prefix ~/.cache/colorlib-onnxruntime-web '
                  'onnxruntime-web (or set COLORLIB_ONNXRUNTIME_WEB to its dist folder)')
        if os.environ.get('CI') == 'true':
            pytest.fail(f'{reason} (CI=true: the test must run)')
        pytest.skip(reason)
    return RUNTIME


def within_one_level(got, want):
    """The issue's parity: at least 99.9% of pixel values within 1 level."""
    assert got.shape == want.shape
    return np.mean(np.abs(got.astype(int) - want.astype(int)) <= 1)


def test_a_log_that_cannot_be_called_is_refused_before_listening():
    with pytest.raises(InputError) as caught:
        start(port=0, log=5)
    assert caught.value.fields == ('log',)


def test_runtime_folder_must_hold_onnxruntime_web(tmp_path):
    with pytest.raises(InputError, match='does not hold ort.wasm.min.js') as caught:
        start(port=0, runtime=tmp_path)
    assert caught.value.fields == ('runtime',) and 'npm install onnxruntime-web' in str(caught.value)


def test_a_device_not_here_is_refused_before_a_network_is_read(tmp_path, monkeypatch, capsys):
    """serve and write_site take the device as typed and refuse one that is not here, naming 'device', before any
    weights are read or a port or folder taken; the command says it led by the flags that chose it."""
    from colorlib import machine
    from colorlib.serve import RUNTIME_FILES, write_site
    monkeypatch.setattr(machine, 'available', lambda kind: kind == 'cpu')
    runtime = tmp_path / 'runtime'  # the files runtime_folder looks for, enough to come to the device
    runtime.mkdir()
    for name in RUNTIME_FILES:
        (runtime / name).write_bytes(b'')
    for call_it in (lambda: start(port=0, device='cuda'),
                    lambda: write_site(tmp_path / 'site', runtime, device='cuda')):
        with pytest.raises(InputError, match='no CUDA device is available here') as caught:
            call_it()
        assert caught.value.fields == ('device',)
    code, out, err = call(main, ['--gpu', '--port', '0'], capsys)
    assert code == 2 and err == ('colorlib serve: error: --device cuda/--gpu: no CUDA device is available here; use '
                                 'cpu\n')
    code, out, err = call(main, ['--device', 'mps', '--write-site', str(tmp_path / 'site'), '--in-browser',
                                 str(runtime)], capsys)
    assert code == 2 and err.startswith('colorlib serve: error: --device mps: no MPS device') and out == ''
    assert sorted(p.name for p in tmp_path.iterdir()) == ['runtime']


def test_write_site_refusals(tmp_path, capsys):
    (tmp_path / 'taken').mkdir()
    (tmp_path / 'taken' / 'index.html').write_text('mine')
    code, out, err = call(main, ['--write-site', str(tmp_path / 'site')], capsys)
    assert code == 2 and err == ('colorlib serve: error: --write-site: the page as plain files colours in the '
                                 'browser: give --in-browser DIR too\n')
    code, out, err = call(main, ['--write-site', str(tmp_path / 'site'), '--in-browser', str(tmp_path)], capsys)
    assert code == 2 and err.startswith('colorlib serve: error: --in-browser: ') and 'npm install' in err
    assert not (tmp_path / 'site').exists()
    runtime = runtime_or_skip()
    code, out, err = call(main, ['--write-site', str(tmp_path / 'taken'), '--in-browser', str(runtime)], capsys)
    assert code == 2 and 'taken exists and is not an empty folder' in err and err.count('\n') == 1
    assert (tmp_path / 'taken' / 'index.html').read_text() == 'mine'


def test_runtime_and_models_served(horse):
    """With onnxruntime-web's folder the server also gives its three files (and nothing else of that folder) and
    each network exported to ONNX, uploaded ones too (run here by onnxruntime for Python; the shipped UNet's goes
    through the browser in the next test)."""
    runtime = runtime_or_skip()
    import onnxruntime
    server = start(port=0, runtime=runtime)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert json.loads(request(server, 'GET', '/networks')[2])['in_browser'] is True
        status, headers, body = request(server, 'GET', '/runtime/ort-wasm-simd-threaded.wasm')
        assert status == 200 and headers['Content-Type'] == 'application/wasm' and body[:4] == b'\0asm'
        assert request(server, 'GET', '/runtime/package.json')[0] == 404
        assert request(server, 'GET', '/runtime/..%2F..%2Fpackage.json')[0] == 404
        assert request(server, 'GET', '/models/nothing.onnx')[0] == 404
        said = json.loads(request(server, 'POST', '/weights', weights('unet_lab_k3_f32').read_bytes())[2])
        status, _, onnx_file = request(server, 'GET', f'/models/{said["id"]}.onnx')  # uploaded weights, exported
        assert status == 200
        session = onnxruntime.InferenceSession(onnx_file, providers=['CPUExecutionProvider'])
        [got] = session.run(None, {session.get_inputs()[0].name: horse})
        assert within_one_level(got, colorlib.load('unet_lab').colorize(horse)) >= 0.999
    finally:
        server.shutdown()
        server.server_close()


def test_the_page_as_plain_files_colours_in_the_browser(tmp_path):
    """write_site's folder, served by a web server that only gives files: the page colours a dropped photo in the
    browser with onnxruntime-web, sends nothing anywhere (no POST at all), and its download is Model.colorize's
    within the export's parity."""
    from colorlib.serve import write_site
    runtime = runtime_or_skip()
    sync_playwright = browser_or_skip()
    site = write_site(tmp_path / 'site', runtime, names=['unet'])
    assert sorted(str(p.relative_to(site)) for p in site.rglob('*') if p.is_file()) == [
        'index.html', 'models/unet.onnx', 'networks', 'runtime/ort-wasm-simd-threaded.mjs',
        'runtime/ort-wasm-simd-threaded.wasm', 'runtime/ort.wasm.min.js']
    files = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(QuietFiles, directory=str(site)))
    threading.Thread(target=files.serve_forever, daemon=True).start()
    from skimage import data
    photo = tmp_path / 'coffee.png'
    Image.fromarray(data.coffee()[:397, :599]).save(photo)  # 599x397: odd sides, two tiles of 512 across
    sent = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            try:
                page = browser.new_page(viewport={'width': 1000, 'height': 700}, accept_downloads=True)
                page.on('request', lambda r: sent.append((r.method, r.url)))
                page.goto(f'http://127.0.0.1:{files.server_address[1]}/')
                page.wait_for_selector('#network option[value="unet"]', state='attached')
                assert page.is_checked('#in-browser') and page.is_hidden('#weights-choice')
                drop(page, (photo.name, photo.read_bytes(), 'image/png'))
                page.wait_for_selector('.result.done', timeout=120_000)
                with page.expect_download() as download:
                    page.click('.result.done a.download')
                saved = tmp_path / download.value.suggested_filename
                download.value.save_as(saved)
                page.screenshot(path=tmp_path / 'in-browser.png', full_page=True)
            finally:
                browser.close()
    finally:
        files.shutdown()
        files.server_close()
    assert [method for method, _ in sent if method != 'GET'] == []
    pixels, _ = read_image(photo)
    got = np.asarray(Image.open(saved).convert('RGB'))
    assert within_one_level(got, colorlib.load('unet').colorize(pixels)) >= 0.999


class QuietFiles(http.server.SimpleHTTPRequestHandler):
    """A plain file server (as any web host is), quiet in the test's output."""

    def log_message(self, *args):
        pass
