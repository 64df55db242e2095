"""A trained Model as one ONNX file, for apps, phones and servers without torch (`colorlib export`).

The graph does all that Model.colorize does to a picture, so that its user needs onnxruntime and nothing else:

    image (H, W, 3) RGB or (H, W, 1) grey, uint8  ->  (H, W, 3) RGB uint8

inside it the grey (or Lab's L) input, the picture padded at its bottom and right edges to a multiple of 4 (the
pooling grid), the network, the target's decoding (colour classes, the annealed mean of the Lab bins at the weights'
temperature, RGB) to ab, and that colour put on the original lightness at full size. Height and width are free.

Super-resolution weights, which Model.colorize refuses, export as what they do: a small picture (h, w, 3) in, the
network's picture four times the size (4h, 4w, 3) out (colour classes, RGB, or RGB as a correction to bicubic).

A graph runs on the whole picture it is given, so its memory grows with the picture; a program that colours big
photos cuts them into tiles with `margin` pixels of context (both in the file's metadata), as colorize does: a
margin over the receptive field makes the tiles' colours those of one run on the whole picture
(examples/colorize_onnx.py).

What the weights hold (model, target, settings, colorlib version) goes into the file's metadata_props.
"""
import contextlib
import copy
import json
import logging
import os
import warnings

import numpy as np
import torch
import torch.nn as nn

from colorlib import __version__
from colorlib.colorize import chroma_predictor
from colorlib.errors import InputError, check_flag, check_path, with_fields
from colorlib.files import atomic_write, check_writable
from colorlib.lab import lab_to_rgb, rgb_to_lab
from colorlib.models import STRIDE, context
from colorlib.superres import FACTOR, upsample

OPSET = 18  # torch's exporter's standard opset (onnxruntime runs it everywhere)
EXTRA = "pip install 'colorlib[export]'"  # the one line that installs what exporting needs


def require(*modules):
    """The modules, imported; an InputError saying how to install them where one is missing."""
    import importlib
    try:
        return [importlib.import_module(name) for name in modules]
    except ImportError as err:
        raise InputError(f'ONNX export needs {err.name}, which is not installed: {EXTRA}') from None


def check_installed():
    """An InputError, before any work, where what exporting needs is not installed."""
    require('onnx', 'onnxscript', 'onnxruntime')


def as_float(image):
    """(H, W, C) uint8, C 1 or 3 -> (1, 3, H, W) float in [0, 1], as colorize reads a picture (grey made RGB: its
    channel taken three times, by an index the exporter keeps free of C)."""
    rgb = image.index_select(2, torch.arange(3) * (image.shape[2] // 3))
    return rgb.permute(2, 0, 1)[None].float() / 255


def edge_padded(rgb, axis, multiple=STRIDE):
    """rgb with its last row or column repeated along `axis` up to a multiple of `multiple`, as colorize pads: by
    an index, so that the exporter sees the new side is a multiple (F.pad's is a sum it cannot prove one)."""
    side = rgb.shape[axis]
    index = torch.arange(multiple * ((side + multiple - 1) // multiple)).clamp(max=side - 1)
    return rgb.index_select(axis, index)


def as_uint8(rgb):
    """(1, 3, H, W) float -> (H, W, 3) uint8, rounded as colorize rounds."""
    return (rgb[0].clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0)


class Colouring(nn.Module):
    """Model.colorize of one picture in one go: the network's colour on the picture's own lightness."""

    def __init__(self, net, target):
        super().__init__()
        self.net, self.target = net, target
        self.predict = chroma_predictor(net, target)

    def forward(self, image):
        rgb = as_float(image)
        height, width = rgb.shape[2], rgb.shape[3]
        padded = edge_padded(edge_padded(rgb, 2), 3)
        ab = self.predict(padded).index_select(2, torch.arange(height)).index_select(3, torch.arange(width))
        return as_uint8(lab_to_rgb(rgb_to_lab(rgb)[:, :1] / 100, ab))


class Enlarging(nn.Module):
    """Super-resolution: the picture as the network's input (nearest-upsampled 4x), and its decoded output."""

    def __init__(self, net, target):
        super().__init__()
        self.net, self.target = net, target

    def forward(self, image):
        inputs = upsample(as_float(image), 'nearest')
        return as_uint8(self.target.decode(self.net(inputs), inputs))


def graph(model):
    """The torch module that the ONNX file holds, for the model's task: a copy of the network, on the CPU in float32
    and in the plain layout (channels-last strides make the exporter fix the width)."""
    net = copy.deepcopy(model.net).to('cpu', torch.float32, memory_format=torch.contiguous_format).eval()
    return (Enlarging if model.target.task == 'superres' else Colouring)(net, model.target).eval()


def description(model):
    """{key: text} of what the weights hold and how to feed the graph: the file's metadata_props."""
    said = {k: v for k, v in model.target.describe().items() if k != 'kind'}  # its palette's digest, Lab's settings
    config = model.target.config  # its kind, task and every kind's own settings, flat
    target = {'kind': config.kind, 'task': config.task, **dict(config.own), **said}
    superres = model.target.task == 'superres'
    return {'colorlib.version': __version__, 'colorlib.name': model.run_name,
            'colorlib.weights': os.path.basename(str(model.path)) if model.path else '',
            'colorlib.model': json.dumps(model.config.as_dict()),
            'colorlib.target': json.dumps(target),
            'colorlib.task': model.target.task,
            'colorlib.scale': str(FACTOR if superres else 1),
            'colorlib.multiple': '1' if superres else str(STRIDE),  # where tiles may start, in input pixels
            'colorlib.margin': str(-(-context(model.config) // FACTOR) if superres else context(model.config)),
            'colorlib.input': 'image: uint8 (height, width, 3) RGB or (height, width, 1) grey',
            'colorlib.output': f'uint8 ({"4 height, 4 width" if superres else "height, width"}, 3) RGB'}


def to_onnx(model):
    """The model as an onnx.ModelProto (colorlib.api.Model), checked: onnxruntime's pictures of it must be torch's.
    An InputError where the exporter cannot write it, or where what it wrote does not compute the same."""
    onnx, _, _ = require('onnx', 'onnxscript', 'onnxruntime')
    module = graph(model)
    example = torch.zeros(12, 16, 3, dtype=torch.uint8)
    # 5 pixels a side at least for the exporter, which would otherwise fix the pooled size at 1; the graph it
    # writes takes any size (tests/test_export.py runs 1x1)
    dims = {'image': {0: torch.export.Dim('height', min=5, max=2 ** 20),
                      1: torch.export.Dim('width', min=5, max=2 ** 20),
                      2: torch.export.Dim('channels', min=1, max=3)}}
    where = model.path or model.run_name
    try:
        with quiet(), torch.no_grad():
            program = torch.onnx.export(module, (example,), input_names=['image'], output_names=['rgb'],
                                        dynamic_shapes=dims, opset_version=OPSET, dynamo=True, external_data=False,
                                        verbose=False)
    except Exception as err:  # the exporter's many kinds: a layer it cannot write, a size it cannot leave free
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise InputError(f'{where} cannot be exported to ONNX: {reason[:200]}', ['model']) from None
    proto = program.model_proto
    proto.doc_string = f'colorlib {__version__}: {model.run_name}'
    onnx.helper.set_model_props(proto, description(model))
    check(proto, module, where)
    return proto


def check(proto, module, where):
    """onnxruntime's pictures of the graph against torch's, at an odd size in colour and in grey: an exporter that
    fixed a size or mistranslated an operation is caught here, before a file is written."""
    import onnxruntime
    session = onnxruntime.InferenceSession(proto.SerializeToString(), providers=['CPUExecutionProvider'])
    rng = np.random.default_rng(0)
    for shape in ((13, 19, 3), (9, 6, 1)):
        image = rng.integers(0, 256, shape, dtype=np.uint8)
        with torch.no_grad():
            expected = module(torch.from_numpy(image)).numpy().astype(int)
        try:
            got = session.run(None, {'image': image})[0].astype(int)
        except Exception as err:
            raise InputError(f'{where} exported to an ONNX graph that onnxruntime cannot run at '
                             f'{shape[0]}x{shape[1]}: {str(err).strip()[:200]}', ['model']) from None
        if got.shape != expected.shape or (np.abs(got - expected).max(-1) > 1).mean() > 1e-3:
            raise InputError(f'{where} exported to an ONNX graph whose pictures differ from torch\'s; not written',
                             ['model'])


def export(model, path, replace=False, reads=(), temperature=None):
    """Write `model` (a Model, or weights as colorlib.load takes them: a shipped name or a path, Lab weights
    decoded at `temperature`, default theirs) to `path` as one ONNX file, and return the path. What exporting needs
    is checked installed first; the place is checked before the work and written atomically
    (colorlib.files.atomic_write): a file there is replaced only with `replace`, never the weights or a file of
    `reads`, nor a file colorlib ships."""
    from colorlib import shipped
    from colorlib.api import Model, load
    check_installed()
    check_path(path, 'path')
    check_flag(replace, 'replace')
    if isinstance(model, Model) and temperature is not None:
        raise InputError('temperature is for weights given by name or path; a Model keeps its own', ['temperature'])
    if not isinstance(model, Model):
        try:
            model = load(model, **({} if temperature is None else {'temperature': temperature}))
        except InputError as err:  # the weights came in as this function's `model`
            err.fields = ('model',) if err.fields in ((), ('weights',)) else err.fields
            raise
    reads = [*reads, *([model.path] if model.path else []), *shipped.files()]
    with_fields(['path'], check_writable, path, replace, reads)
    data = to_onnx(model).SerializeToString()
    return with_fields(['path'], atomic_write, path, lambda f: f.write(data), replace, reads)


@contextlib.contextmanager
def quiet():
    """The exporter's progress lines and warnings, kept off the terminal: a command prints one line of its own."""
    with open(os.devnull, 'w') as sink, contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), \
            warnings.catch_warnings():
        warnings.simplefilter('ignore')
        logging.disable(logging.WARNING)
        try:
            yield
        finally:
            logging.disable(logging.NOTSET)
