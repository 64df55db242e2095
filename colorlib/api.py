"""colorlib from Python: load a trained network or train one, then look at what it does. What a notebook calls.

    import colorlib
    unet = colorlib.load('unet')                    # the shipped UNet by name, or a path to weights
    unet.evaluate()                                  # {'loss': ..., 'accuracy': ..., 'psnr': ..., ...}
    unet.samples()                                   # a figure: inputs, truth, outputs
    run = colorlib.fit(model='UNet', epochs=5)       # run.history, run.model, run.curve()

Nothing here prints or writes unless asked (log=print, progress=True, out_dir=...); pictures come back as uint8
arrays or matplotlib figures. Pictures go in as RGB arrays of uint8 (0-255) or float (0-1), everywhere alike
(images.as_uint8); other types, an alpha channel or no pixels are refused. Bad settings and files are InputErrors
whose `fields` name the settings at fault.
"""
import contextlib
import dataclasses
import inspect
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from colorlib import distributed, machine, shipped
from colorlib.checkpoints import (TARGET_FIELDS, describe_run, load_weights, read_about, read_palette, read_weights,
                                  save_weights, summarize)
from colorlib.colorize import STRIDE, chroma_predictor, colorize_pixels
from colorlib.data import load_cifar10, parse_category, select_category
from colorlib.errors import (FileExists, InputError, RunExists, WeightsNotSaved, WriteError, check_callable, check_flag,
                             check_keywords, check_number, check_path, check_whole, named_keywords, with_fields)
from colorlib.files import held
from colorlib.images import SIDES, as_uint8, to_float, trainable_sides
from colorlib.memory import MODEL_SIZES, available_memory, check_fits
from colorlib.models import MODELS, FlipAveraged, ModelConfig, build_model, context
from colorlib.naming import (CURVE_FILE, METRICS_FILE, RESUME_FILE, SAMPLES_FILE, WEIGHTS_FILE, palette_file, run_name,
                             samples_file, weights_name)
from colorlib.plots import save_figure, training_curve
from colorlib.report import NUM_SAMPLES, activations, figures, samples, save_activations
from colorlib.targets import KINDS, TASKS, TargetConfig, build_target
from colorlib.train import LAYOUT, TrainConfig, assignment_test_order, predict, to_device
from colorlib.train import train as train_loop

MODEL_FIELDS = ('name', 'kernel', 'filters', 'dilation')  # what of a ModelConfig one chooses (the rest: the target's)


def device_of(name='auto'):
    """A torch.device: 'auto' (CUDA, else Apple's MPS, else the CPU), a name ('cpu', 'cuda', 'mps'), or one as is."""
    if isinstance(name, torch.device):
        return name
    return with_fields(['device'], machine.pick_device, name)


def load_images(data=None, category='horse', extra_categories=(), image_size=32, val_share=0.1, cache_dir=None,
                on_skip=None, memory=None, log=None, device=None):
    """(train_x, test_x): uint8 NHWC images of one CIFAR-10 class (the bundled horses by default; training also on
    `extra_categories`), or the pictures of a folder (colorlib.folders), brought to image_size and split, refused
    up front if they would not fit in `memory` bytes (with a `device`: what the host and it have free)."""
    from colorlib.data import is_cifar10
    check_path(data, 'data', optional=True)
    check_path(cache_dir, 'cache_dir', optional=True)
    check_whole(image_size, 'image_size', 8)
    check_number(val_share, 'val_share', 0, 0.9, low_open=True)
    if memory is not None:
        check_whole(memory, 'memory', 1)
    elif device is not None:  # what the host and the device have free
        memory = min(available_memory(torch.device('cpu')), available_memory(device_of(device)))
    for name, value in (('on_skip', on_skip), ('log', log)):
        check_callable(value, name)
    if not isinstance(extra_categories, (list, tuple)):
        raise InputError(f'extra_categories must be a list of categories, not {extra_categories!r}',
                         ['extra_categories'])
    data = shipped.DEFAULT_DATA if data is None else data
    if not is_cifar10(data):
        from colorlib.folders import load_folder
        train_x, test_x, summary = with_fields(['data'], load_folder, data, image_size, val_share, 0, cache_dir,
                                               on_skip, memory)
        if log is not None:
            log(summary)
        return train_x, test_x
    arrays = with_fields(['data'], load_cifar10, data)
    if image_size != 32:
        raise InputError(f'image size {image_size}: CIFAR-10 images are 32x32; the size applies to a folder of '
                         'pictures', ['image_size'])
    category = with_fields(['category'], parse_category, category)
    train_x, test_x = with_fields(['category'], select_category, arrays, category, data)
    others = [with_fields(['extra_categories'], parse_category, other) for other in extra_categories]
    extra = [with_fields(['extra_categories'], select_category, arrays, other, data)[0]
             for other in others if other != category]
    return np.concatenate([train_x, *extra]), test_x


def target_config(model='UNet', **settings):
    """The TargetConfig of `settings`, its kind by default the one the model is made for (RGB for the
    RegressionCNN), else colour classes; a kind the model is not made for is an InputError."""
    made_for = MODELS[model].predicts if model in MODELS else None
    config = TargetConfig(**{'kind': made_for or 'classes', **{k: v for k, v in settings.items() if v is not None}})
    if made_for and config.kind != made_for:
        others = [name for name, network in MODELS.items() if network.predicts is None]
        raise InputError(f'the {model} predicts {made_for.upper()} only; for {config.kind} use a '
                         f'{", ".join(others[:-1])} or {others[-1]}', ['target.kind'], {'target.kind': made_for})
    return config


def model_config(target, name='UNet', kernel=3, filters=32, dilation=1):
    """The ModelConfig of a network of `name` that learns `target` (its outputs and inputs follow the target)."""
    return ModelConfig(name=name, kernel=kernel, filters=filters, colours=target.out_channels,
                       in_channels=target.in_channels, dilation=dilation)


def network_images(images, name, ndim=4):
    """as_uint8's pictures (a batch, or with ndim 3 one picture) at sizes the networks take (trainable_sides;
    colorize pads any size itself)."""
    array = as_uint8(images, name, ndim)
    height, width = array.shape[-3:-1]
    if not trainable_sides(height, width):
        raise InputError(f'{name} holds {height}x{width} pictures; the networks take {SIDES} (Model.colorize takes '
                         'any size)', [name])
    return array


def colour_input(image):
    """Model.colorize's image as colorize_pixels takes it: RGB as uint8 (as_uint8), grey in float kept as (H, W, 1)
    float32 with every level, as colorize.py reads 16-bit grey, and grey in uint8 as RGB."""
    try:
        pixels = np.ascontiguousarray(image)
    except (ValueError, TypeError) as err:  # a ragged list, or something that is no array
        raise InputError(f'image is not a picture ({" ".join(str(err).split())[:120]})', ['image']) from None
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[:, :, 0]
    if pixels.ndim != 2:
        return as_uint8(pixels, 'image', ndim=3)
    if not np.issubdtype(pixels.dtype, np.floating):
        return as_uint8(pixels[:, :, None].repeat(3, 2), 'image', ndim=3)
    if pixels.size == 0 or not (pixels.min() >= 0 and pixels.max() <= 1):  # NaN fails too
        raise InputError(f'image is a grey float picture of shape {pixels.shape} outside 0-1', ['image'])
    return pixels[:, :, None].astype(np.float32)


def weights_path(weights):
    """A path to weights as given, or the shipped weights of that name ('unet', 'unet_k3_f32', ...)."""
    check_path(weights, 'weights')
    if Path(weights).suffix or Path(weights).exists():
        return Path(weights)
    stem = str(weights)
    return shipped.weights(stem if '_k' in stem else f'{stem}_k3_f32')


def agree(path, said, given, what):
    """Settings from what the weights say, and from what is given: each given one must agree with the file."""
    settings = dict(said)
    for name, value in given.items():
        if value is None:
            continue
        if name in said and said[name] != value:
            raise InputError(f'{path} holds a {what} with {name} {said[name]!r}, not {value!r}',
                             [('model' if name == 'name' else name) if what == 'model' else f'target.{name}'])
        settings[name] = value
    return settings


def open_weights(path, model=None, kernel=None, filters=None, dilation=None, colours=None, bins=None,
                 temperature=None, device='cpu', field='weights', **target_settings):
    """The Model in the weights file `path`: what the file says it holds (our files) or, for the assignment's, what
    is given (else the defaults: a 3x3 UNet of 32 filters over the shipped colours). A setting given that the file
    contradicts is an InputError naming it. The colours are `colours`/`bins` where given (they win), else those
    stored with the weights, else the shipped ones, which must then be those the weights were trained on where the
    file says which. `field`: the setting that gave the path, named by a refusal of the file itself."""
    check_model_settings(dict(kernel=kernel, filters=filters, dilation=dilation), model)  # before the file is read
    check_target_settings(colours=colours, bins=bins, temperature=temperature, **target_settings)
    if model is not None and target_settings.get('kind') is not None:  # a kind the model is not made for
        target_config(model, kind=target_settings['kind'])
    from colorlib.colours import load_colours
    from colorlib.lab import load_bins
    kind = target_settings.get('kind') or getattr(MODELS.get(model), 'predicts', None)
    for name, file, read in (('colours', colours, load_colours), ('bins', bins, load_bins)):
        if file is not None and kind != 'rgb':  # the files given are read first, the weights only then (an RGB
            # network's colours are never read: the regression CNN takes the assignment's -c and does not need it)
            with_fields([f'target.{name}'], read, file)
    state = read_weights(path)
    about, palette = read_about(path, state), read_palette(path, state)
    saved_model = {k: getattr(about['model'], k) for k in MODEL_FIELDS} if 'model' in about else {}
    given = dict(name=model, kernel=kernel, filters=filters, dilation=dilation)
    shapes = summarize(state) if not saved_model else None  # the assignment's files: the sizes their tensors have
    agree(path, {k: shapes[k] for k in ('kernel', 'filters')} if shapes else {}, given, 'model')
    chosen = agree(path, saved_model, given, 'model')
    saved_target = {k: about['target'][k] for k in TARGET_FIELDS} if 'target' in about else {}
    target_settings = agree(path, saved_target, target_settings, 'target')
    edited = f'{path} says it holds a {chosen.get("name", "network")} that learns {saved_target.get("kind")}'
    try:
        config = target_config(chosen.get('name', 'UNet'), colours=colours, bins=bins, temperature=temperature,
                               **target_settings)
    except InputError as err:
        if saved_target and 'target.kind' in err.fields:  # the file contradicts itself
            raise InputError(f'{edited}, which cannot be ({err}): its notes were edited, or it is damaged') from None
        raise
    target = build_target(config, palette=palette)
    outputs = state['finalconv.bias'].shape[0] if 'finalconv.bias' in state else None
    if outputs is not None and outputs != target.out_channels and saved_target and not (colours or bins):
        raise InputError(f'{edited}, but its network has {outputs} outputs where {config.kind} has '
                         f'{target.out_channels}: its notes were edited, or it is damaged')  # colours given: below
    trained_on = about.get('target', {}).get('palette')  # checked where the colours are not given: given ones win
    described = target.describe()
    file = target.palette  # the kind of file its classes come from: 'colours', 'bins' (None: no classes)
    given = getattr(config, file) if file else None
    if trained_on and not given and trained_on != described.get(file):
        raise InputError(f'{path} was trained on other {file} than {getattr(config, file) or "the shipped ones"}',
                         [f'target.{file}'])
    config = model_config(target, **{'name': 'UNet', **chosen})
    check_fits(config, 'load', device, chosen=(), source=path, source_field=field)  # before the model is built
    if saved_model:  # a file that says its sizes; the assignment's are checked tensor by tensor (load_weights)
        check_holds(path, state, config)
    net = build_model(config)
    load_weights(net, path, state)
    return Model(net, target, device, path, about.get('run'))


def check_holds(path, state, config, field='weights'):
    """An InputError naming `field` where the model of `config` has more parameters than `state` holds numbers: a
    file that says it holds a network larger than it does (filters=10000 in a few bytes) is refused before that
    network is built in memory, not after (memory.parameter_count counts on the meta device)."""
    from colorlib.checkpoints import PALETTE_KEYS
    from colorlib.memory import parameter_count
    held = sum(v.numel() for k, v in state.items() if not k.startswith(PALETTE_KEYS))
    needed = parameter_count(config)
    if needed > held:
        raise InputError(f'{path} says it holds a {config.name} of {config.filters} filters ({needed} parameters), '
                         f'but holds {held} numbers', [field])


def load(weights='unet', *, device='cpu', **settings):
    """A trained Model: shipped weights by name ('unet', 'cnn', 'dunet', 'regression_cnn', 'unet_lab',
    'superres_unet', ...; shipped_weights finds them by settings) or a path to weights. Our files say what they
    hold; for the assignment's own, say it: model='CNN', kernel=3, filters=16, kind='rgb', task='superres',
    colours='colours.npy', ... (open_weights)."""
    check_keywords(settings, LOAD_SETTINGS, 'load')
    check_model_settings({k: settings.get(k) for k in MODEL_FIELDS if k != 'name'}, settings.get('model'))
    check_target_settings(**{k: v for k, v in settings.items() if k in TARGET_SETTINGS})
    return with_fields(['weights'], open_weights, weights_path(weights), device=device_of(device), **settings)


LOAD_SETTINGS = ('model', 'kernel', 'filters', 'dilation', 'colours', 'bins', 'temperature', 'kind', 'task',
                 'residual', 'rebalance', 'soft')  # what load(path, ...) takes: the settings a file may not say
TARGET_SETTINGS = ('kind', 'task', 'colours', 'bins', 'residual', 'rebalance', 'soft', 'temperature')


def check_model_settings(sizes, model=None):
    """The model's settings given as keywords (None: not given), refused as ModelConfig refuses them, naming the
    keyword (`model` for the network's name)."""
    given = {k: v for k, v in sizes.items() if v is not None}
    try:
        ModelConfig(**given, **({} if model is None else {'name': model}))
    except InputError as err:
        err.fields = tuple('model' if f == 'name' else f for f in err.fields)
        raise


def check_target_settings(**settings):
    """The target's settings given as keywords (None: not given), each of its type and bounds (TargetConfig's
    checks, made whatever the kind), naming the keyword."""
    for name in ('residual', 'soft'):
        if settings.get(name) is not None:
            check_flag(settings[name], name)
    for name in ('colours', 'bins'):
        check_path(settings.get(name), name, optional=True)
    for name, choices in (('kind', KINDS), ('task', TASKS)):
        if settings.get(name) is not None and settings[name] not in choices:
            raise InputError(f'unknown {name} {settings[name]!r} (choose from {", ".join(choices)})', [name])
    if settings.get('rebalance') is not None:
        check_number(settings['rebalance'], 'rebalance', 0, 1)
    if settings.get('temperature') is not None:
        check_number(settings['temperature'], 'temperature', 0)


def shipped_weights(model=None, kernel=None, filters=None, dilation=None, **target_settings):
    """The shipped weights file of the model these settings describe (ModelConfig's defaults where not given)."""
    check_model_settings(dict(kernel=kernel, filters=filters, dilation=dilation), model)  # as that, not as no file
    chosen = ModelConfig(**{k: v for k, v in dict(name=model, kernel=kernel, filters=filters).items() if v is not None})
    settings = {k: v for k, v in target_settings.items() if k in TARGET_SETTINGS}
    config = target_config(chosen.name, **settings)
    return shipped.weights(weights_name(chosen.name, config, chosen.kernel, chosen.filters))


@dataclass
class Run:
    """What fit() gives: the trained Model, the figures of every epoch, and the files written (if any)."""
    model: 'Model'
    history: list
    files: dict = field(default_factory=dict)  # kind ('weights', 'curve', 'samples', 'metrics', ...) -> path

    def curve(self):
        """Training and validation loss (and accuracy) per epoch, as a figure."""
        return training_curve(self.history)


class Model:
    """A network with the target it learns: evaluate it, look at its pictures and activations, colour images with
    it, train it further, save it."""

    def __init__(self, net, target, device='cpu', path=None, run=None):
        self.device = torch.device(device)
        self.net = net.to(self.device, memory_format=LAYOUT).eval()
        self.target = target
        self.path = path  # the weights file it was read from (None: trained here), never written over by a run from it
        self.run = run  # how it was trained (checkpoints.describe_run), where known; saved with its weights

    @property
    def about(self):
        """The whole description, as plain values: the model's config, the target it learns and, where known, how
        it was trained (the training settings, the data's digest, the colorlib version), as its weights store it."""
        described = self.target.describe()
        target = {'kind': self.target.kind, 'task': self.target.task,
                  'residual': getattr(self.target, 'residual', False),
                  'palette': described.get('colours', described.get('bins'))}
        return {'model': dataclasses.asdict(self.config), 'target': target, **({'run': self.run} if self.run else {})}

    def __repr__(self):
        c = self.net.config
        return f'<colorlib.Model {self.name}: k={c.kernel}, f={c.filters}, {c.colours} outputs>'

    @property
    def config(self):
        return self.net.config

    @property
    def name(self):
        """The run name: 'unet', 'superres_unet_mse', ..."""
        return run_name(self.config.name, self.target.config)

    def _test(self, test_x=None):
        return load_images()[1] if test_x is None else test_x

    @named_keywords
    def evaluate(self, test_x=None, legacy=False, flips=False, batch_size=100, seed=0, num_train=None, amp=False):
        """The validation figures (report.figures) on NHWC test images (default: the bundled test horses).
        legacy: as the assignment computed them (BatchNorm in training mode, its test order, which depends on the
        number of training images and the seed); amp: in bfloat16 (machine.use_bf16 says where that is fast)."""
        for name, value in (('legacy', legacy), ('flips', flips), ('amp', amp)):
            check_flag(value, name)
        check_whole(batch_size, 'batch_size', 1)
        check_whole(seed, 'seed', 0, 2 ** 32 - 1)
        if num_train is not None:
            check_whole(num_train, 'num_train', 0)
        if test_x is None:
            train_x, test_x = load_images()
            num_train = len(train_x) if num_train is None else num_train
        test_x = network_images(test_x, 'test_x')
        check_fits(self.config, 'evaluate', self.device, min(batch_size, len(test_x)), *test_x.shape[1:3],
                   pictures=len(test_x), chosen=('batch_size',), source=self.path, picture_field='test_x')
        rgb = to_float(test_x)
        test_set = to_device(self.target.encode(rgb), self.device)
        order = assignment_test_order(num_train or 0, len(test_x), seed) if legacy else None
        return figures(self.net, self.target, test_set, rgb.to(self.device), order, batch_size, amp, flips)

    @named_keywords
    def predict(self, rgb_images):
        """The network's pictures of NHWC RGB images, uint8 or float 0-1 (their grey, or downsized, version in), as
        uint8 NHWC."""
        pictures = network_images(rgb_images, 'rgb_images')
        check_fits(self.config, 'predict', self.device, min(len(pictures), 100), *pictures.shape[1:3],
                   pictures=len(pictures), chosen=(), source=self.path, picture_field='rgb_images')
        rgb = to_float(pictures).to(self.device)
        out = predict(self.net, self.target, self.target.inputs(rgb))
        return (out.clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).cpu().numpy()

    @named_keywords
    def colorize(self, image, tile=512, margin=None, net_size=None, flips=False):
        """One image of any size ((H, W, 3) RGB, or (H, W) or (H, W, 1) grey; uint8, or float 0-1) coloured: its
        lightness with the network's colour, as (H, W, 3) uint8 (colorlib.colorize). It runs in tiles of `tile`
        pixels a side with `margin` pixels of context (default: the network's receptive field), on the image scaled
        to `net_size`."""
        if self.target.task != 'colour':
            raise InputError('super-resolution weights do not colour images', ['target.task'])
        check_flag(flips, 'flips')
        check_whole(tile, 'tile', STRIDE)  # tiles start on the pooling grid
        for name, value, low in (('margin', margin, 0), ('net_size', net_size, 1)):
            if value is not None:
                check_whole(value, name, low)
        pixels = colour_input(image)
        margin = context(self.config) if margin is None else margin
        check_fits(self.config, 'colour', self.device, 1, *pixels.shape[:2], tile, margin, net_size,
                   chosen=('tile', 'net_size'), source=self.path, picture_field='image')
        net = FlipAveraged(self.net) if flips else self.net
        predict = chroma_predictor(net.eval(), self.target)
        result, _ = colorize_pixels(pixels, predict, tile, margin, net_size, device=self.device)
        return result

    @named_keywords
    def colorize_video(self, src, dst, compare=None, temporal=True, replace=False, progress=False, log=None,
                       tile=512, margin=None, net_size=None, flips=False):
        """Colour the film at `src` into `dst` (.mp4, .mov, .mkv, .webm, .avi or .gif), streaming, a few frames in
        memory at once, audio and subtitles copied (colorlib.video). compare: also write grey | coloured side by
        side there; temporal: steady colours from frame to frame (False: each frame alone, as colorize does);
        replace: an existing output may be replaced; progress: a bar of frames; log(message): what became of the
        other streams; tile, margin, net_size, flips: as for colorize. Returns the
        number of frames; a film that stops early is published up to there and then a video.FilmCut says where."""
        from colorlib import video
        return video.colorize_video(self, src, dst, compare, temporal, replace, progress=progress, log=log,
                                    tile=tile, margin=margin, net_size=net_size, flips=flips)

    @named_keywords
    def colorize_frames(self, src, temporal=True, tile=512, margin=None, net_size=None, flips=False):
        """The coloured frames of the film at `src`, one by one as (H, W, 3) uint8 RGB arrays, upright: for one's
        own pipeline (colorlib.video.colour_film)."""
        from colorlib import video
        return video.colour_film(self, src, temporal, tile=tile, margin=margin, net_size=net_size, flips=flips)

    @named_keywords
    def samples(self, test_x=None):
        """A figure: the inputs, the truth, the outputs (and the baselines) of the first test images."""
        rgb = to_float(network_images(self._test(test_x), 'test_x')[:NUM_SAMPLES])
        return samples(self.net, self.target, *to_device(self.target.encode(rgb), self.device))

    @named_keywords
    def activations(self, image=0, out_dir=None, reads=()):
        """{block: figure} of one image (an index into the bundled test images, or an (H, W, 3) array, uint8 or
        float 0-1): its input, every block's activations and the output beside the truth (report.activations),
        titled by the model's name as the assignment spells it ('UNet', 'superres_UNet_mse'). With out_dir, also
        written there as PNGs (report.save_activations: each replacing an earlier one of its name, never one of the
        files in `reads`)."""
        check_reads(reads)
        if isinstance(image, bool):
            raise InputError(f'image must be an index or a picture, not {image!r}', ['image'])
        if isinstance(image, (int, np.integer)):
            test_x = self._test()
            if not -len(test_x) <= image < len(test_x):
                raise InputError(f'image {image} is out of range: there are {len(test_x)} test images', ['image'])
            image = test_x[image]
        pixels = network_images(image, 'image', ndim=3)
        rgb, title = to_float(pixels[None]).to(self.device), run_name(self.config.name, self.target.config,
                                                                     self.config.name)
        if out_dir is None:
            return activations(self.net, self.target, rgb, title)
        check_path(out_dir, 'out_dir')
        return with_fields(['out_dir'], save_activations, self.net, self.target, rgb, out_dir, title, reads)

    def fit(self, **settings):
        """Train further from these weights: fit(init=this model, ...), with this model's network and target; a
        setting given that contradicts them is an InputError naming it, as for the weights file it came from."""
        if 'init' in settings:
            raise InputError('Model.fit starts from this model; for other weights use colorlib.fit(init=...)',
                             ['init'])
        return fit(init=self, **settings)

    def fit_reference(self, pictures, log=None, **settings):
        """A new Model that has learnt the colours of a film from colour stills of it (colorlib.reference); this
        model is left as it is. settings: reference_run's (crops, net_size, seed) and TrainConfig's fields."""
        from colorlib.reference import flushed_denormals, reference_run
        with flushed_denormals():
            return fit(**reference_run(self, pictures, **settings), log=log).model

    @named_keywords
    def save(self, path, replace=False, reads=()):
        """The weights, with what they hold, in the assignment's layout (checkpoints.save_weights); colours fitted
        on one's own pictures, or read from the weights it started from, go with them (Target.keeps_palette). A
        file already at `path` is replaced only with `replace`, never one of the files in `reads`
        (colorlib.files.may_write); never a file colorlib ships (copy it first)."""
        check_path(path, 'path')
        check_flag(replace, 'replace')
        check_reads(reads)
        palette = self.target.palette_state() if self.target.keeps_palette else {}
        return with_fields(['path'], save_weights, self.net, path, palette, self.target, replace, reads, self.run)


def check_reads(reads):
    """`reads`, the files a writer must never write over: a list of paths."""
    if not isinstance(reads, (list, tuple)):
        raise InputError(f'reads must be a list of paths, not {reads!r}', ['reads'])
    for read in reads:
        check_path(read, 'reads')


def fit(model=None, *, kernel=None, filters=None, dilation=None, target=None, kind=None, task=None, colours=None,
        bins=None, residual=None, rebalance=None, soft=None, temperature=None, data=None, category='horse',
        extra_categories=(), image_size=32, val_share=0.1, cache_dir=None, on_skip=None, train_x=None, test_x=None,
        init=None, out_dir=None, runs_dir=None, weights=None, resume=False, overwrite=False, epoch_samples=False,
        sync_bn=False, progress=False, log=None, device='auto', on_epoch=None, stop_signal=None, **settings):
    """Train a network and return the Run. The model: `model` ('UNet', 'CNN', 'DUNet', 'RegressionCNN'), `kernel`,
    `filters`, `dilation`; what it learns: a built `target`, or its settings (TargetConfig: kind, task, colours,
    ...); the images: train_x and test_x, both (NHWC, uint8 or float 0-1, sides multiples of 4: network_images),
    else those of `data` and `category` (load_images, with image_size, val_share, cache_dir and on_skip for a folder
    of one's own pictures, on which the colours are then fitted); how it trains: TrainConfig's fields as keywords
    (epochs=5, batch_size=10, learn_rate=..., ...). init: weights (a Model or a path) to start from, whose network
    and target are then the run's (settings given must agree with them); without init the network is by default a
    3x3 UNet of 32 filters. `data`, `colours`, `bins` and `init` are files the run reads, never written over, also
    where train_x or a target is given.

    Nothing is written unless out_dir (or runs_dir: out_dir is then the folder in it named after the run,
    naming.weights_name) is given: then the metrics, the resumable state (resume=True continues it),
    the training curve, a sample grid (and one after every epoch with epoch_samples) and the weights (`weights`,
    default out_dir/weights.pkl, with the colours in a file beside them where they exist in no other:
    naming.palette_file) go there. Before the first step, and again once the folder and the weights are held
    (colorlib.files.held) for the run: a folder that holds a run is a RunExists unless resumed or `overwrite`,
    and every file must be writable by colorlib.files' one rule (FileExists for one there already). Under torchrun
    only the first process holds and writes; sync_bn: BatchNorm over the global batch (SyncBatchNorm, GPUs).
    log=print prints a line per epoch and each file written; progress=True draws a progress bar (tqdm.auto: in a
    notebook too). stop_signal, on_epoch: as for colorlib.train.train; a KeyboardInterrupt (Ctrl-C) while a run
    that writes trains comes out with the path of its resumable state as its argument. (Long for its docstring,
    the manual of every keyword; the work is in start_from and train_and_save.)"""
    check_fit_arguments(locals())  # refused before any image is read
    config = TrainConfig(**settings)
    chosen = {k: v for k, v in dict(name=model, kernel=kernel, filters=filters, dilation=dilation).items()
              if v is not None}  # the model's settings given; model_config's defaults for the rest
    target_settings = dict(kind=kind, task=task, colours=colours, bins=bins, residual=residual, rebalance=rebalance,
                           soft=soft, temperature=temperature)
    if init is None and target is None:  # so are the target's
        target_config(chosen.get('name', 'UNet'), **target_settings)
    for name, given in (('weights', weights is not None), ('resume', resume), ('epoch_samples', epoch_samples)):
        if given and out_dir is None and runs_dir is None:
            raise InputError(f'{name} belongs to a run that writes its files: give out_dir too', [name])
    if (train_x is None) != (test_x is None):
        given, missing = ('train_x', 'test_x') if test_x is None else ('test_x', 'train_x')
        raise InputError(f'{given} needs {missing} too (the images the run is evaluated on, or trains on)', [missing])
    if train_x is not None:
        train_x, test_x = network_images(train_x, 'train_x'), network_images(test_x, 'test_x')
    device = distributed.setup(device_of(device))
    if sync_bn and distributed.active() and device.type != 'cuda':
        raise InputError("PyTorch's SyncBatchNorm runs on GPUs only; on the CPU leave it out (each process then "
                         "normalises with its own batch's statistics)", ['sync_bn'])
    main = distributed.rank() == 0
    from colorlib.data import is_cifar10
    own = train_x is None and data is not None and not is_cifar10(data) and init is None  # colours fitted on them
    if train_x is None:
        train_x, test_x = load_images(data, category, extra_categories, image_size, val_share, cache_dir, on_skip,
                                      log=log if main else None, device=device)
    init, target, chosen = start_from(init, chosen, target, target_settings, device)
    if target is None:
        config_of_target = target_config(chosen.get('name', 'UNet'), **target_settings)
        target = build_target(config_of_target, fit_on=train_x if own else None)
    if config.label_smoothing and not target.has_accuracy:
        raise InputError('RGB regression has no classes to smooth', ['label_smoothing'])
    net_config = model_config(target, **chosen)
    given = (list(MODEL_SIZES) if init is None else []) + ['batch_size']  # a file's sizes are not the user's to change
    check_fits(net_config, 'train', device, min(config.batch_size, -(-len(train_x) // distributed.world_size())),
               *train_x.shape[1:3], pictures=len(train_x) + len(test_x), chosen=given,
               source=getattr(init, 'path', None), source_field='init', picture_field='train_x')  # before it is built
    torch.manual_seed(config.seed)  # the network's first weights, and every draw after them, follow the seed
    net = build_model(net_config)
    if init is not None:
        net.load_state_dict(init.net.state_dict())
    if sync_bn and distributed.active():
        net = torch.nn.SyncBatchNorm.convert_sync_batchnorm(net)
    reads = read_files(data, colours, bins, init)
    if out_dir is None and runs_dir is not None:
        out_dir = Path(runs_dir) / weights_name(net_config.name, target.config, net_config.kernel, net_config.filters)
    files = {} if out_dir is None else run_files(out_dir, weights, target, config.epochs if epoch_samples else 0)
    if files:
        check_run_folder(files, resume, overwrite, reads)
    trained, history = train_and_save(net, target, config, (train_x, test_x), device, files, dict(
        resume=resume, overwrite=overwrite, epoch_samples=epoch_samples, reads=reads), on_epoch, stop_signal,
        progress, log)
    return Run(trained, history, files)


def start_from(init, chosen, target, target_settings, device):
    """fit's (init, target, chosen model settings) where it starts from weights (`init`, a path or a Model): the
    file's (or Model's) network and target, the settings given agreeing with them (open_weights' rule, and agree()
    for a Model); a file's refusal names init as its `source`. Without init, as given."""
    if isinstance(init, (str, Path)):
        model_settings = dict(model=chosen.get('name'), kernel=chosen.get('kernel'), filters=chosen.get('filters'),
                              dilation=chosen.get('dilation'))
        try:
            init = open_weights(init, **model_settings, device=device, **target_settings, field='init')
        except InputError as err:  # the file given as init, and the settings it names where it contradicts them
            err.source, err.fields = 'init', err.fields or ('init',)
            raise
    elif init is not None:  # a Model: what is given must agree with it, as with a file (open_weights)
        where = init.path or f'the {init.name} model'
        agree(where, {k: getattr(init.config, k) for k in MODEL_FIELDS}, chosen, 'model')
        agree(where, {k: getattr(init.target.config, k) for k in TARGET_FIELDS},
              {k: target_settings[k] for k in ('kind', 'task', 'residual')}, 'target')
        choices = {k: target_settings[k] for k in ('colours', 'bins', 'rebalance', 'soft', 'temperature')
                   if target_settings[k] is not None}
        if target is None and choices:  # the choices of use given win, as open_weights takes them
            kept = init.target.palette_state() if init.target.keeps_palette else {}  # else its file's or shipped
            target = build_target(dataclasses.replace(init.target.config, **choices), palette=kept)
    if init is not None:
        target = init.target if target is None else target
        chosen = {k: getattr(init.config, k) for k in MODEL_FIELDS}
    return init, target, chosen


def train_and_save(net, target, config, images, device, files, run, on_epoch, stop_signal, progress, log):
    """fit's training (colorlib.train.train) of `net` on `images` (train_x, test_x) and, where the run writes
    (`files`), its end-of-epoch sample grids and its closing files (save_run), the places held meanwhile; `run`:
    resume, overwrite, epoch_samples and reads. Returns (the trained Model, the history)."""
    reads, epoch_samples = run['reads'], run['epoch_samples']
    replace = replaceable(files, run['resume'], run['overwrite'])
    out_dir = files['metrics'].parent if files else None
    net.to(device, memory_format=LAYOUT)
    train_set, test_set = (to_device(target.encode(to_float(x)), device) for x in images)
    shown = tuple(t[:NUM_SAMPLES] for t in test_set)
    writes = bool(files) and distributed.rank() == 0  # the one process that writes holds the places for the run

    def after_epoch(row):
        if writes and epoch_samples:
            name = f'samples_{row["epoch"]}'
            written_late('out_dir', save_figure, samples(net, target, *shown), files[name], replace[name], reads)
        if on_epoch is not None:
            on_epoch(row)
    with contextlib.ExitStack() as held_places:
        if writes:  # no second run writes the same files meanwhile
            with_fields(['out_dir'], held_places.enter_context, held(out_dir, folder=True))
            with_fields(['weights'], held_places.enter_context, held(files['weights']))
            check_run_folder(files, run['resume'], run['overwrite'], reads)  # again, now that they are held
        try:
            history = train_loop(net, target, train_set, test_set, config, out_dir, run['resume'],
                                 after_epoch, stop_signal, progress, log, run['overwrite'])
        except KeyboardInterrupt:
            raise KeyboardInterrupt(*([files['resume']] if files else [])) from None
        ran = dataclasses.replace(config, amp=machine.use_bf16(device, config.amp, warn=False)[0])  # as train runs it
        trained = Model(net, target, device, run=describe_run(net, target, ran, train_set))
        if writes:
            save_run(trained, history, shown, files, replace, reads, log or (lambda line: None))
    return trained, history


FIT_KEYWORDS = [name for name in inspect.signature(fit).parameters if name != 'settings']


def check_fit_arguments(given):
    """fit's arguments (its locals() on entry), each of its type and bounds, refused before any image is read and
    naming the keyword: unknown ones (with the nearest fit takes), the model's and the target's settings, paths,
    True/False answers, functions, the images' category."""
    from colorlib.targets import Target
    check_keywords(given['settings'], [f.name for f in dataclasses.fields(TrainConfig)] + FIT_KEYWORDS, 'fit')
    check_model_settings({k: given[k] for k in ('kernel', 'filters', 'dilation')}, given['model'])
    check_target_settings(**{k: given[k] for k in TARGET_SETTINGS})
    for name in ('resume', 'overwrite', 'epoch_samples', 'sync_bn', 'progress'):
        check_flag(given[name], name)
    for name in ('out_dir', 'runs_dir', 'weights', 'data', 'cache_dir'):
        check_path(given[name], name, optional=True)
    check_whole(given['image_size'], 'image_size', 8)
    check_number(given['val_share'], 'val_share', 0, 0.9, low_open=True)
    if not isinstance(given['init'], Model):
        check_path(given['init'], 'init', optional=True)
    for name in ('log', 'on_epoch', 'stop_signal', 'on_skip'):
        check_callable(given[name], name)
    if given['target'] is not None and not isinstance(given['target'], Target):
        raise InputError(f'target must be a colorlib Target (targets.build_target), not {given["target"]!r}',
                         ['target'])
    with_fields(['category'], parse_category, given['category'])
    others = given['extra_categories']
    if not isinstance(others, (list, tuple)):
        raise InputError(f'extra_categories must be a list of categories, not {others!r}', ['extra_categories'])
    for other in others:
        with_fields(['extra_categories'], parse_category, other)


OUTPUTS = ('weights', 'colours', 'bins')  # what a run writes that is not its folder's: run_files


def run_files(out_dir, weights=None, target=None, epochs=0):
    """{kind: path} of the files a run writes: its folder's (metrics, resume, curve, samples, and `epochs` sample
    grids 'samples_1', ...), the weights (default out_dir/weights.pkl) and, where the target's colours go with
    them, those colours in their own file ('colours' or 'bins')."""
    out_dir = Path(out_dir)
    files = {'metrics': out_dir / METRICS_FILE, 'resume': out_dir / RESUME_FILE, 'curve': out_dir / CURVE_FILE,
             'samples': out_dir / SAMPLES_FILE}
    files.update({f'samples_{epoch}': out_dir / samples_file(epoch) for epoch in range(1, epochs + 1)})
    files['weights'] = weights if weights is not None else out_dir / WEIGHTS_FILE  # as given: 'x/' is no file
    if target is not None and target.keeps_palette:
        files[target.palette] = palette_file(files['weights'], target.palette)
    return files


def save_run(model, history, shown, files, replace, reads, log):
    """The end of a run: its training curve, the samples of `shown` (encoded test images) and its weights (with
    their colours where they keep them) into `files`. Weights that cannot be written (a file appeared there
    meanwhile, a full disk) are a WeightsNotSaved naming where the trained state still is."""
    curve = written_late('out_dir', save_figure, training_curve(history), files['curve'], replace['curve'], reads)
    log(f'Training curve: {curve}')
    pictures = written_late('out_dir', save_figure, samples(model.net, model.target, *shown), files['samples'],
                            replace['samples'], reads)
    log(f'Samples: {pictures}')
    kind = model.target.palette
    try:
        written_late('weights', model.save, files['weights'], replace['weights'], reads)
        if kind in files:  # the same colours in the assignment's format, for -c or --bins
            log(f'{kind.capitalize()} of the training pictures saved with the weights, and to '
                f'{written_late("weights", model.target.save_palette, files[kind], replace[kind])}')
    except WriteError as err:
        raise WeightsNotSaved(str(err), files['resume']) from None
    log(f'Weights saved to {files["weights"]}')


def written_late(field, write, *args):
    """write(*args) once the run has trained: its WriteError names `field`, and a file that appeared there since the
    checks (a FileExists) is said to be kept, as a plain WriteError: naming the file for replacing is no longer a
    remedy."""
    try:
        return write(*args)
    except FileExists as err:
        raise WriteError(f'{err} (it appeared while this run trained; it is kept)', [field]) from None
    except WriteError as err:
        err.fields = err.fields or (field,)
        raise


def read_files(data, colours, bins, init):
    """Every file fit reads, so that none is ever written over: `data` (each picture of a folder too), the colours'
    and bins' files (the shipped ones it falls back on too) and the weights of `init` (a path, or a Model's)."""
    from colorlib.folders import image_files
    files = [p for p in (data, colours, bins, getattr(init, 'path', init)) if isinstance(p, (str, Path))]
    files += [shipped.DEFAULT_COLOURS, shipped.DEFAULT_BINS]
    if data is not None and os.path.isdir(data):
        files += image_files(data)
    return files


def check_run_folder(files, resume=False, overwrite=False, reads=()):
    """Before the first step (run_files' `files`): resume needs the resumable state; a folder that holds a run is a
    RunExists unless it is resumed or `overwrite`; the weights (and their colours) are none of the run's own files;
    and every file can be written by colorlib.files' one rule (none of the files the run `reads`, none there already
    unless `replaceable`)."""
    from colorlib.checkpoints import read_resumable
    from colorlib.files import check_writable, same_file
    metrics, state = files['metrics'], files['resume']
    if resume and not state.is_file():
        raise InputError(f'no such file: {state} (nothing to continue)', ['resume'])
    epochs = metrics.read_bytes().count(b'\n') if metrics.is_file() else 0
    if (epochs or state.is_file()) and not (resume or overwrite):
        said, resumable = f'{epochs} epoch(s) logged', state.is_file()
        if resumable:
            try:
                said += f', {RESUME_FILE} at epoch {read_resumable(state)["epoch"]}'
            except InputError as err:
                said, resumable = f'{said}; its {RESUME_FILE} cannot be resumed: {err}', False
        raise RunExists(metrics.parent, said, resumable)
    outputs = {name: path for name, path in files.items() if name in OUTPUTS}
    folder = {name: path for name, path in files.items() if name not in outputs}
    for path in outputs.values():
        own = next((f for f in folder.values() if same_file(path, f)), None)
        if own is not None:
            raise InputError(f'{path} is where the run keeps its {own.name}; choose another file', ['weights'])
    replace = replaceable(files, resume, overwrite)
    for name, path in files.items():
        with_fields(['out_dir' if name in folder else 'weights'], check_writable, path, replace[name], reads)


def replaceable(files, resume=False, overwrite=False):
    """{name: whether files[name] may replace a file there}: each with overwrite; with resume the files of the run's
    folder, and weights (or their colours) kept in it. Weights elsewhere may be another run's or the user's."""
    if not files:
        return {}
    out_dir = files['metrics'].parent.resolve()
    return {name: overwrite or (resume and (name not in OUTPUTS or Path(path).resolve().parent == out_dir))
            for name, path in files.items()}


def names():
    """The shipped weights, by the names load() takes."""
    return sorted(p.stem.rsplit('_k', 1)[0] for p in shipped.folder('weights').glob('*_k3_f32.pkl'))

