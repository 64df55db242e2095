"""A page in the browser that colours photos: the library side of `colorlib serve` (the page is page/index.html).

Python's own http.server and one static page, no web framework: nothing to install beyond colorlib, and the page
is a plain file that a test drives in a real browser (README: "A page in the browser", for why not Gradio). The
server answers four requests:

    GET  /                                 the page
    GET  /networks                         the shipped colourizers and the server's bounds, as JSON
    POST /weights                          a weights file (the body), opened by colorlib.load: {"id", "name", ...}
    POST /colorize?network=unet&net_size=N a picture (the body): the picture coloured by Model.colorize, as PNG

and, given onnxruntime-web's files (`runtime`), the page can colour in the browser itself, the photo never leaving it:

    GET  /runtime/ort.wasm.min.js, ...     onnxruntime-web (npm), as `npm install onnxruntime-web` leaves it
    GET  /models/unet.onnx                 the network exported by colorlib.export, made on first asking

A request the server refuses gets {"error": one line} with a 4xx status, and the server goes on serving. An upload
is bounded in bytes before it is read and a picture in pixels by its header, before it is decoded. Uploads are
written only into the server's own temporary folder, deleted as soon as they are read, and the folder goes when
the server closes. One picture is coloured (or weights file opened) at a time, so memory is that of one picture
however many people use the page.
"""
import contextlib
import errno
import http.server
import io
import json
import os
import secrets
import shutil
import socket
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
from PIL import Image

from colorlib import __version__
from colorlib.errors import InputError, check_callable, check_whole

PAGE = Path(__file__).resolve().parent / 'page' / 'index.html'
MAX_BYTES = 64 * 2 ** 20  # an upload: a photo or a weights file
MAX_PIXELS = 16_000_000  # a picture: about 17 s on two CPU cores, at the 107 s the README's colorize took for 100
# what the page needs of onnxruntime-web's dist/ folder to run a model on the CPU in WebAssembly, and its types
RUNTIME_FILES = {'ort.wasm.min.js': 'text/javascript', 'ort-wasm-simd-threaded.mjs': 'text/javascript',
                 'ort-wasm-simd-threaded.wasm': 'application/wasm'}
RUNTIME_HINT = 'npm install onnxruntime-web, then give its node_modules/onnxruntime-web/dist folder'
KEPT_WEIGHTS = 4  # uploaded networks kept in memory, the oldest dropped first
UPLOADS_AT_ONCE = 4  # bodies being received at one time; more get "busy, try again"


class TooLarge(InputError):
    """An upload or a picture past the server's bounds (HTTP 413)."""


class TooMany(InputError):
    """More uploads at once than the server takes (HTTP 503)."""


def megabytes(n):
    return f'{n / 2 ** 20:.1f} MB'


def described(name, model):
    """What the page is told of a network: its name, what it is, and the context its tiles need when the browser
    colours in tiles (the receptive field, as Model.colorize's margin)."""
    from colorlib.models import context
    return {'name': name, 'about': repr(model), 'margin': context(model.config)}


def colourizers(device):
    """The shipped networks that colour (not the super-resolution ones), by name, loaded once."""
    from colorlib.api import load, names
    models = {name: load(name, device=device) for name in names()}
    return {name: model for name, model in models.items() if model.target.task == 'colour'}


class Server(http.server.ThreadingHTTPServer):
    """The HTTP server with what its requests share: the networks, the bounds, the temporary folder, the lock that
    lets one picture be coloured at a time."""
    daemon_threads = True

    def __init__(self, address, networks, max_bytes, max_pixels, device, log, runtime=None):
        self.networks, self.max_bytes, self.max_pixels, self.device, self.log = \
            networks, max_bytes, max_pixels, device, log
        self.runtime = runtime  # onnxruntime-web's folder, or None: colouring on the server only
        self.uploaded = OrderedDict()  # id -> Model, from POST /weights
        self.exported = {}  # network name or id -> its ONNX file's bytes
        self.work = threading.Lock()
        self.slots = threading.BoundedSemaphore(UPLOADS_AT_ONCE)
        self.folder = None  # made once the server listens
        self.address_family = socket.getaddrinfo(*address, type=socket.SOCK_STREAM)[0][0]
        super().__init__(address, Handler)
        self.folder = Path(tempfile.mkdtemp(prefix='colorlib-serve-'))

    @property
    def url(self):
        host, port = self.server_address[:2]
        return f'http://{f"[{host}]" if ":" in host else host}:{port}/'

    def server_close(self):
        super().server_close()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    def network(self, name):
        """The Model called `name`: a shipped one, or one uploaded here."""
        model = self.networks.get(name) or self.uploaded.get(name)
        if model is None:
            raise InputError(f'no network {name[:60]!r} here (choose from {", ".join(self.networks)}, or upload '
                             f'weights; only the last {KEPT_WEIGHTS} uploaded are kept)', ['network'])
        return model


def runtime_folder(folder):
    """`folder` as a Path where it holds the onnxruntime-web files the page runs on (RUNTIME_FILES), and colorlib's
    export can be imported; an InputError naming what is missing otherwise."""
    folder = Path(folder)
    missing = [name for name in RUNTIME_FILES if not (folder / name).is_file()]
    if missing:
        raise InputError(f'{folder} does not hold {", ".join(missing)} of onnxruntime-web ({RUNTIME_HINT})',
                         ['runtime'])
    from colorlib.errors import with_fields
    from colorlib.export import check_installed
    with_fields(['runtime'], check_installed)  # the export extra
    return folder


def start(host='127.0.0.1', port=8000, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS, device='cpu', log=None,
          runtime=None):
    """A Server bound to host:port (port 0: any free one; its .url says which), ready for serve_forever(); close it
    with server_close() or `with`. `log` is called with one line per request (None: quiet). `runtime`:
    onnxruntime-web's dist/ folder, for the page to colour in the browser (runtime_folder). A port in use or a
    host that is not this machine's is an InputError naming it, before any network is loaded."""
    if not isinstance(host, str) or not host:
        raise InputError(f'host must be a name or address, not {host!r}', ['host'])
    check_whole(port, 'port', 0, 65535)
    check_whole(max_bytes, 'max_bytes', 1)
    check_whole(max_pixels, 'max_pixels', 1)
    check_callable(log, 'log')
    runtime = None if runtime is None else runtime_folder(runtime)
    from colorlib.api import device_of
    device = device_of(device)
    try:
        server = Server((host, port), {}, max_bytes, max_pixels, device, log, runtime)
    except socket.gaierror:
        raise InputError(f'{host} is not a host name or address this machine knows', ['host']) from None
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            raise InputError(f'port {port} on {host} is in use (another server listens there); choose another port',
                             ['port']) from None
        if err.errno == errno.EACCES:
            raise InputError(f'port {port} on {host} is not open to this user (ports under 1024 need root); choose '
                             'one above 1023', ['port']) from None
        raise InputError(f'cannot listen on {host} port {port}: {err.strerror or err}', ['host']) from None
    try:
        server.networks = colourizers(device)
    except BaseException:
        server.server_close()
        raise
    return server


def colour_picture(server, path, network, net_size=None):
    """The PNG of the picture in `path` coloured by the network called `network`: a TooLarge past the server's
    pixels (from the header, before decoding), an InputError for a file that is not a picture. The network sees the
    picture scaled to `net_size` on its shorter side where that is smaller (never larger: memory stays the
    picture's)."""
    from colorlib.images import read_image
    model = server.network(network)
    try:
        with Image.open(path) as image:
            width, height = image.size
    except Image.DecompressionBombError as err:
        raise TooLarge(f'the picture has more pixels than this server colours ({err})') from None
    except Image.UnidentifiedImageError:
        raise InputError('the upload is not a picture Pillow can read (PNG, JPEG, TIFF, WebP, ...)') from None
    except Exception as err:  # Pillow's errors for a file that is not a picture are of many kinds
        raise InputError('the upload is not a picture Pillow can read (PNG, JPEG, TIFF, WebP, ...): '
                         f'{one_line(err, path)}') from None
    if width * height > server.max_pixels:
        raise TooLarge(f'the picture is {width}x{height} ({width * height / 1e6:.1f} megapixels), more than the '
                       f'{server.max_pixels / 1e6:g} megapixels this server colours; make it smaller first')
    try:
        pixels, alpha = read_image(path)
    except Exception as err:  # a truncated or corrupt file that the header did not give away
        raise InputError(f'the picture cannot be read: {one_line(err, path)}') from None
    if net_size is not None and net_size >= min(width, height):
        net_size = None
    with server.work:
        result = model.colorize(pixels, net_size=net_size)
    out = io.BytesIO()
    Image.fromarray(result if alpha is None else np.dstack([result, alpha])).save(out, format='PNG')
    return out.getvalue()


def add_weights(server, path):
    """Open an uploaded weights file with colorlib.load and keep its Model under a new id: {'id', and described()'s}.
    An InputError for what colorlib cannot load, or weights that do not colour."""
    from colorlib.api import load
    with server.work:
        try:
            model = load(str(path), device=server.device)
        except InputError as err:
            raise InputError(one_line(err, path, 'the uploaded file'), ['weights']) from None
        except Exception as err:  # torch's and pickle's errors for a foreign file are of many kinds
            raise InputError(f'the uploaded file is not weights colorlib can load: {one_line(err, path, "it")}',
                             ['weights']) from None
    if model.target.task != 'colour':
        raise InputError('the uploaded file holds super-resolution weights; the page colours with colourization '
                         'weights', ['weights'])
    key = f'upload-{secrets.token_hex(6)}'
    with server.work:
        server.uploaded[key] = model
        while len(server.uploaded) > KEPT_WEIGHTS:
            server.exported.pop(server.uploaded.popitem(last=False)[0], None)
    return {'id': key, **described(model.run_name, model)}


def exported(server, name):
    """The ONNX file of the network called `name` (a shipped one, or one uploaded) as colorlib.export makes it,
    exported on first asking and kept in memory."""
    model = server.network(name)
    with server.work:
        if name not in server.exported:
            from colorlib.export import to_onnx
            server.exported[name] = to_onnx(model).SerializeToString()
        return server.exported[name]


def write_site(folder, runtime, names=None, max_pixels=MAX_PIXELS, device='cpu'):
    """The page as plain files in `folder` (new, or empty), to host on any web server: index.html, `networks` (what
    GET /networks answers, saying the page colours in the browser only), models/<name>.onnx for the shipped
    networks `names` (default: every one that colours) and runtime/ (onnxruntime-web's files, from `runtime`).
    Photos then never leave the browser. Every network is exported before a file is written, and each file is
    written whole or not at all (files.atomic_write)."""
    from colorlib.api import device_of
    from colorlib.export import to_onnx
    from colorlib.files import atomic_write
    runtime = runtime_folder(runtime)
    check_whole(max_pixels, 'max_pixels', 1)
    device = device_of(device)
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InputError(f'{folder} exists and is not an empty folder; the site goes into a new one', ['folder'])
    networks = colourizers(device)
    chosen = list(networks) if names is None else list(names)
    unknown = [name for name in chosen if name not in networks]
    if unknown or not chosen:
        raise InputError(f'no network {", ".join(unknown) or "named"} to export (choose from {", ".join(networks)})',
                         ['names'])
    files = {'index.html': PAGE.read_bytes(),
             'networks': json.dumps({'networks': [described(name, networks[name]) for name in chosen],
                                     'default': 'unet' if 'unet' in chosen else chosen[0], 'max_bytes': MAX_BYTES,
                                     'max_pixels': max_pixels, 'in_browser': True, 'in_browser_only': True}).encode(),
             **{f'runtime/{name}': (runtime / name).read_bytes() for name in RUNTIME_FILES},
             **{f'models/{name}.onnx': to_onnx(networks[name]).SerializeToString() for name in chosen}}
    for name, data in files.items():
        atomic_write(folder / name, lambda f, data=data: f.write(data))
    return folder


def one_line(err, path=None, said='the upload'):
    """An error's message on one line, the temporary file's name (`path`) in it `said` otherwise."""
    text = str(err) if path is None else str(err).replace(str(path), said)
    return ' '.join(text.split())[:300] or type(err).__name__


def digits(text):
    """Whether `text` is a plain decimal number (ASCII digits only: '²'.isdigit() is true too), short enough to
    read."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def whole_number(text, name):
    if text is None or text == '':
        return None
    if not digits(text) or int(text) < 1:
        raise InputError(f'{name} must be a whole number of at least 1, not {text!r}', [name])
    return int(text)


class Handler(http.server.BaseHTTPRequestHandler):
    """One request: the page, the list of networks, an upload of a picture or of weights."""
    server_version = f'colorlib/{__version__}'
    timeout = 120  # seconds a client may stall mid-request before its thread is let go

    def do_GET(self):
        path, server = urlsplit(self.path).path, self.server
        folder, name = path.rsplit('/', 1)
        if path in ('/', '/index.html'):
            self.reply(200, PAGE.read_bytes(), 'text/html; charset=utf-8')
        elif path == '/networks':
            self.reply_json(200, {'networks': [described(name, model) for name, model in server.networks.items()],
                                  'default': 'unet' if 'unet' in server.networks else next(iter(server.networks)),
                                  'max_bytes': server.max_bytes, 'max_pixels': server.max_pixels,
                                  'in_browser': server.runtime is not None})
        elif server.runtime is not None and folder == '/runtime' and name in RUNTIME_FILES:
            self.reply(200, (server.runtime / name).read_bytes(), RUNTIME_FILES[name])
        elif server.runtime is not None and folder == '/models' and name.endswith('.onnx'):
            try:
                self.reply(200, exported(server, name[:-len('.onnx')]), 'application/octet-stream')
            except InputError as err:
                self.reply_json(404 if 'network' in err.fields else 400, {'error': str(err)})
            except Exception as err:  # an export that fails is said on the page; the server goes on
                self.log_message('error: %s: %s', type(err).__name__, one_line(err))
                self.reply_json(500, {'error': f'the export failed ({type(err).__name__}: {one_line(err)})'})
        else:
            self.reply_json(404, {'error': f'nothing at {path}'})

    def do_POST(self):
        route = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(route.query).items()}
        try:
            if route.path not in ('/colorize', '/weights'):
                self.close_connection = True
                raise LookupError(f'nothing at {route.path}')
            with self.upload() as path:
                if route.path == '/weights':
                    self.reply_json(200, add_weights(self.server, path))
                    return
                png = colour_picture(self.server, path, query.get('network', 'unet'),
                                     whole_number(query.get('net_size'), 'net_size'))
            self.reply(200, png, 'image/png')
        except LookupError as err:
            self.reply_json(404, {'error': str(err)})
        except InputError as err:
            status = 413 if isinstance(err, TooLarge) else 503 if isinstance(err, TooMany) else 400
            self.reply_json(status, {'error': str(err)})
        except Exception as err:  # a fault of the server's own: said on the page and in the log, and it goes on
            self.log_message('error: %s: %s', type(err).__name__, one_line(err))
            self.reply_json(500, {'error': f'the server failed on this upload ({type(err).__name__}: '
                                           f'{one_line(err)}); it goes on serving'})

    @contextlib.contextmanager
    def upload(self):
        """The request's body in a file of the server's temporary folder, deleted when the block ends. Refused
        before it is read where it is larger than the server takes, and where too many arrive at once."""
        length = self.headers.get('Content-Length', '').strip()
        if not digits(length):
            self.close_connection = True
            raise InputError('the upload says no length (Content-Length) that the server can read')
        length = int(length)
        if length > self.server.max_bytes:
            self.close_connection = True  # the body is not read: the connection goes with it
            raise TooLarge(f'the upload is {megabytes(length)}, more than the {megabytes(self.server.max_bytes)} '
                           'this server takes')
        if length == 0:
            raise InputError('the upload is empty')
        if not self.server.slots.acquire(blocking=False):
            self.close_connection = True
            raise TooMany('the server is receiving too many uploads at once; try again in a moment')
        try:
            fd, name = tempfile.mkstemp(dir=self.server.folder)
            try:
                with os.fdopen(fd, 'wb') as f:
                    left = length
                    while left:
                        chunk = self.rfile.read(min(left, 2 ** 20))
                        if not chunk:
                            raise InputError('the upload ended before its length')
                        f.write(chunk)
                        left -= len(chunk)
                yield Path(name)
            finally:
                os.unlink(name)
        finally:
            self.server.slots.release()

    def reply(self, status, body, kind):
        self.send_response(status)
        self.send_header('Content-Type', kind)
        self.send_header('Content-Length', str(len(body)))
        self.send_header('Cache-Control', 'no-store')
        self.send_header('X-Content-Type-Options', 'nosniff')
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the browser went away; the next request is served
            self.close_connection = True

    def reply_json(self, status, value):
        self.reply(status, json.dumps(value).encode(), 'application/json')

    def log_message(self, format, *args):
        if self.server.log is not None:
            self.server.log(f'{self.address_string()} {format % args}')


def serve(host='127.0.0.1', port=8000, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS, device='cpu', log=None,
          runtime=None, ready=None):
    """start() the server and serve until interrupted (Ctrl-C ends it quietly); `ready` is called with its URL once
    it listens. The temporary folder goes with it."""
    server = start(host, port, max_bytes, max_pixels, device, log, runtime)
    with server:
        if ready is not None:
            ready(server.url)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
