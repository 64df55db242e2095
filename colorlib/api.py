"""colorlib from Python: load a trained network or train one, then look at what it does. What a notebook calls.

    import colorlib
    unet = colorlib.load('unet')                    # the shipped UNet by name, or a path to weights
    unet.evaluate()                                  # {'loss': ..., 'accuracy': ..., 'psnr': ..., ...}
    unet.samples()                                   # a figure: inputs, truth, outputs
    run = colorlib.fit(model='UNet', epochs=5)       # run.history, run.model, run.curve()
    colorlib.evaluate('mine.pkl', data='pics/')      # weights opened, images read, figures: what --valid calls

The commands make one call each: fit, or evaluate, colorize_files and gallery.activations, which open the weights
(the file given, else the shipped ones their settings name), read the images and do the work, every setting checked
before any file is read.

Nothing here prints or writes unless asked (log=print, progress=True, out_dir=...); pictures come back as uint8
arrays or matplotlib figures. Pictures go in as RGB arrays of uint8 (0-255) or float (0-1), everywhere alike
(images.as_uint8); other types, an alpha channel or no pixels are refused. Bad settings and files are InputErrors
whose `fields` name the settings at fault.
"""
import dataclasses
import inspect
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from colorlib import distributed, machine, shipped
from colorlib.checkpoints import describe_run, save_weights
from colorlib.colorize import chroma_predictor, colorize_pixels, network_chroma
from colorlib.colorize import colorize_files as colour_files
from colorlib.colorize import OUT_DIR as COLORIZED_DIR
from colorlib.data import (CATEGORY, IMAGE_SIZE, VAL_SHARE, check_image_settings, data_file, is_cifar10,
                           load_images, parse_category)
from colorlib.errors import (InputError, check_callable, check_flag, check_keywords, check_path, check_whole,
                             named_keywords, with_fields)
from colorlib.files import check_writable
from colorlib.images import SIDES, as_uint8, to_float, trainable_sides
from colorlib.memory import TILE, check_fits, check_pieces, model_sizes
from colorlib.models import FlipAveraged, ModelConfig, build_model, context
from colorlib.naming import activations_folder, eval_file, run_name, weights_name
from colorlib.plots import save_figure, training_curve
from colorlib.recipes import recipe_settings
from colorlib.reconcile import (check_model_settings, check_target_settings, kind_settings, load_settings,
                                model_config, model_fields, own_settings, shipped_weights, start_from, target_config,
                                target_fields, weights_path)
from colorlib.reconcile import open_weights as open_file
from colorlib.report import NUM_SAMPLES, figures, samples, save_activations
from colorlib.report import activations as activation_figures
from colorlib.runfolder import RunFolder, check_run_folder, read_files, run_files, save_run
from colorlib.targets import build_target, notes
from colorlib.train import (LAYOUT, WHOLE_FIELDS, TrainConfig, assignment_test_order, epoch_line, predict,
                            to_device)
from colorlib.train import train as train_loop


def device_of(name='auto'):
    """A torch.device: 'auto' (CUDA, else Apple's MPS, else the CPU), a name ('cpu', 'cuda', 'mps'), or one as is."""
    if isinstance(name, torch.device):
        return name
    return with_fields(['device'], machine.pick_device, name)


def load(weights='unet', *, device='cpu', **settings):
    """A trained Model: shipped weights by name ('unet', 'cnn', 'dunet', 'regression_cnn', 'unet_lab',
    'superres_unet', ...; shipped_weights finds them by settings) or a path to weights. Our files say what they
    hold; for the assignment's own, say it: model='CNN', kernel=3, filters=16, kind='rgb', task='superres',
    colours='colours.npy', ... (open_weights)."""
    check_keywords(settings, load_settings(), 'load')
    check_model_settings({k: settings.get(k) for k in model_fields()[1:]}, settings.get('model'))
    check_target_settings(**{k: v for k, v in settings.items() if k in target_fields()})
    return with_fields(['weights'], open_weights, weights_path(weights), device=device_of(device), **settings)


def open_weights(path, device='cpu', **settings):
    """The Model in the weights file `path`, its settings reconciled with those given (colorlib.reconcile's
    open_weights, whose keywords it takes)."""
    opened = open_file(path, device=device, **settings)
    return Model(opened.net, opened.target, device, opened.path, opened.run)


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


@dataclass
class Run:
    """What fit() gives: the trained Model, the figures of every epoch, and the files written (if any)."""
    model: 'Model'
    history: list
    files: dict = field(default_factory=dict)  # kind ('weights', 'curve', 'samples', 'metrics', ...) -> path

    def curve(self):
        """Training and validation loss (and accuracy) per epoch, as a figure."""
        return training_curve(self.history)


@dataclass
class Evaluation:
    """What evaluate() gives: the Model evaluated (its path, the weights read; its name, and run: how it was trained,
    where its weights say) and its figures (Model.evaluate's; 'samples': the sample grid's path, where written)."""
    model: 'Model'
    figures: dict


class Model:
    """A network with the target it learns: evaluate it, look at its pictures and activations, colour images with
    it, train it further, save it."""

    def __init__(self, net, target, device='cpu', path=None, run=None):
        self.device = torch.device(device)
        self.net = net.to(self.device, memory_format=LAYOUT).eval()
        self.target = target
        self.path = path  # the weights file it was read from (None: trained here), never written over by a run from it
        self.run = run  # how it was trained (checkpoints.describe_run), where known; saved with its weights
        self.net_size = (run or {}).get('net_size')  # colour at the size it learnt at, where none is given
        if self.net_size is not None:
            check_whole(self.net_size, 'net_size', 1)

    @property
    def about(self):
        """The whole description, as plain values: the model's config, the target it learns and, where known, how
        it was trained (the training settings, the data's digest, the colorlib version), as its weights store it."""
        return {'model': self.config.as_dict(), 'target': notes(self.target), **({'run': self.run} if self.run else {})}

    def __repr__(self):
        c = self.net.config
        return f'<colorlib.Model {self.run_name}: k={c.kernel}, f={c.filters}, {c.out_channels} outputs>'

    @property
    def config(self):
        return self.net.config

    @property
    def run_name(self):
        """The network and what it learns: 'unet', 'superres_unet_mse', ... (what colorlib.load takes and the shipped
        weights are named by); the network alone is config.name, 'UNet'."""
        return run_name(self.config.name, self.target.config)

    def _test(self, test_x=None):
        return load_images()[1] if test_x is None else test_x

    @named_keywords
    def evaluate(self, test_x=None, legacy=False, flips=False, batch_size=100, seed=0, num_train=None, amp=False,
                 samples_dir=None, reads=()):
        """The validation figures (report.figures) on NHWC test images (default: the bundled test horses).
        legacy: as the assignment computed them (BatchNorm in training mode, its test order, which depends on the
        number of training images and the seed); amp: in bfloat16, True or False, or 'auto' (where the device has
        it: machine.use_bf16), 'on', 'off'. With samples_dir, the sample grid of the first test images is also
        written there, named as the assignment's (eval_UNet.png: naming.eval_file), replacing an earlier one of that
        name, never one of the files in `reads`; its path is then the result's 'samples'."""
        check_evaluate_arguments(locals())
        if not isinstance(amp, bool):
            amp = machine.use_bf16(self.device, amp)[0]
        if legacy and not self.target.assignment:
            holder = self.path or 'this model'
            raise InputError(f"the assignment's figures (legacy) have no {self.target.words} ({holder} holds them)",
                             ['legacy'])
        if test_x is None:
            train_x, test_x = load_images()
            num_train = len(train_x) if num_train is None else num_train
        test_x = network_images(test_x, 'test_x')
        grid = None if samples_dir is None else Path(samples_dir) / eval_file(self.config.name, self.target.config)
        reads = [*reads, *([self.path] if self.path else [])]
        if grid is not None:  # an earlier picture of that name is replaced
            with_fields(['samples_dir'], check_writable, grid, True, reads)
        check_fits(self.config, 'evaluate', self.device, min(batch_size, len(test_x)), *test_x.shape[1:3],
                   pictures=len(test_x), chosen=('batch_size',), source=self.path, picture_field='test_x')
        rgb = to_float(test_x)
        test_set = to_device(self.target.encode(rgb), self.device)
        order = assignment_test_order(num_train or 0, len(test_x), seed) if legacy else None
        result = figures(self.net, self.target, test_set, rgb.to(self.device), order, batch_size, amp, flips)
        if grid is not None:
            result['samples'] = with_fields(['samples_dir'], save_figure, self.samples(test_x), grid, True, reads)
        return result

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
    def colorize(self, image, tile=TILE, margin=None, net_size=None, flips=False):
        """One image of any size ((H, W, 3) RGB, or (H, W) or (H, W, 1) grey; uint8, or float 0-1) coloured: its
        lightness with the network's colour, as (H, W, 3) uint8 (colorlib.colorize). It runs in tiles of `tile`
        pixels a side with `margin` pixels of context (default: the network's receptive field), on the image scaled
        to `net_size`."""
        pixels, predict, margin, net_size = self._colouring(image, tile, margin, net_size, flips)
        result, _ = colorize_pixels(pixels, predict, tile, margin, net_size, device=self.device)
        return result

    @named_keywords
    def chroma(self, image, tile=TILE, margin=None, net_size=None, flips=False):
        """The network's colour of an image, as colorize computes it before painting it on the lightness: Lab's
        (a, b) as a (2, h, w) float tensor on the CPU, at the size the network saw (the image's shorter side scaled
        to net_size). What the temporal mode of films steadies (colorlib.temporal)."""
        pixels, predict, margin, net_size = self._colouring(image, tile, margin, net_size, flips)
        with torch.inference_mode():
            return network_chroma(pixels, predict, tile, margin, net_size, self.device).float().cpu()

    def _colouring(self, image, tile, margin, net_size, flips):
        """colorize's and chroma's arguments checked, the memory they need too: (the pixels, the network's
        predictor, margin, net_size) with the defaults filled in."""
        net_size = self.net_size if net_size is None else net_size
        if self.target.task != 'colour':
            raise InputError('super-resolution weights do not colour images', ['target.task'])
        check_flag(flips, 'flips')
        check_pieces(tile, margin, net_size)
        pixels = colour_input(image)
        margin = context(self.config) if margin is None else margin
        check_fits(self.config, 'colour', self.device, 1, *pixels.shape[:2], tile, margin, net_size,
                   chosen=('tile', 'net_size'), source=self.path, picture_field='image')
        net = FlipAveraged(self.net) if flips else self.net
        return pixels, chroma_predictor(net.eval(), self.target), margin, net_size

    @named_keywords
    def colorize_video(self, src, dst, compare=None, temporal=True, replace=False, progress=False, log=None,
                       tile=TILE, margin=None, net_size=None, flips=False):
        """Colour the film at `src` into `dst` (.mp4, .mov, .mkv, .webm, .avi or .gif), streaming, a few frames in
        memory at once, audio and subtitles copied (colorlib.video). compare: also write grey | coloured side by
        side there; temporal: steady colours from frame to frame (False: each frame alone, as colorize does);
        replace: an existing output may be replaced; progress: a bar of frames; log(message): what became of the
        other streams; tile, margin, net_size, flips: as for colorize. Returns the
        number of frames; a film that stops early is published up to there and then a video.FilmCut says where."""
        from colorlib import video
        net_size = self.net_size if net_size is None else net_size
        return video.colorize_video(self, src, dst, compare, temporal, replace, progress=progress, log=log,
                                    tile=tile, margin=margin, net_size=net_size, flips=flips)

    @named_keywords
    def colorize_frames(self, src, temporal=True, tile=TILE, margin=None, net_size=None, flips=False):
        """The coloured frames of the film at `src`, one by one as (H, W, 3) uint8 RGB arrays, upright: for one's
        own pipeline (colorlib.video.colour_film)."""
        from colorlib import video
        net_size = self.net_size if net_size is None else net_size
        return video.colour_film(self, src, temporal, tile=tile, margin=margin, net_size=net_size, flips=flips)

    @named_keywords
    def samples(self, test_x=None):
        """A figure: the inputs, the truth, the outputs (and the baselines) of the first test images."""
        rgb = to_float(network_images(self._test(test_x), 'test_x')[:NUM_SAMPLES])
        return samples(self.net, self.target, *to_device(self.target.encode(rgb), self.device))

    @named_keywords
    def activations(self, image=0, out_dir=None, reads=(), runs_dir=None, test_x=None):
        """{block: figure} of one image (a 0-based index into `test_x`, by default the bundled test images, or an
        (H, W, 3) array, uint8 or float 0-1): its input, every block's activations and the output beside the truth
        (report.activations), titled by the model's name as the assignment spells it ('UNet', 'superres_UNet_mse').
        With out_dir, also written there as PNGs (report.save_activations: each replacing an earlier one of its
        name, never one of the files in `reads` or these weights); with runs_dir (an index only) into its folder
        named as the assignment's, runs_dir/UNet/act3 (naming.activations_folder), the place checked before the
        drawing. With either, the folder written is returned."""
        check_reads(reads)
        check_path(out_dir, 'out_dir', optional=True)
        check_path(runs_dir, 'runs_dir', optional=True)
        if isinstance(image, bool):
            raise InputError(f'image must be an index or a picture, not {image!r}', ['image'])
        test_x = None if test_x is None else network_images(test_x, 'test_x')
        index = image if isinstance(image, (int, np.integer)) else None
        if runs_dir is not None and (index is None or out_dir is not None):
            raise InputError('runs_dir names the folder of a test image given by its index; give out_dir for a '
                             'picture', ['runs_dir'])
        if index is not None:
            test_x = self._test(test_x)
            if not 0 <= index < len(test_x):  # a test image's number, not Python's index from the end
                raise InputError(f'{index} is out of range; there are {len(test_x)} test images (0-{len(test_x) - 1})',
                                 ['image'])
            image = test_x[index]
        pixels = network_images(image, 'image', ndim=3)
        rgb, title = to_float(pixels[None]).to(self.device), run_name(self.config.name, self.target.config,
                                                                     self.config.name)
        reads = [*reads, *([self.path] if self.path else [])]
        if runs_dir is not None:
            out_dir = Path(runs_dir) / activations_folder(self.config.name, self.target.config, index)
            with_fields(['runs_dir'], check_writable, out_dir / 'input.png', True, reads)  # before the drawing
        if out_dir is None:
            return activation_figures(self.net, self.target, rgb, title)
        return with_fields(['runs_dir' if runs_dir else 'out_dir'], save_activations, self.net, self.target, rgb,
                           out_dir, title, reads)

    def fit(self, **settings):
        """Train further from these weights: fit(init=this model, ...), with this model's network and target; a
        setting given that contradicts them is an InputError naming it, as for the weights file it came from."""
        if 'init' in settings:
            raise InputError('Model.fit starts from this model; for other weights use colorlib.fit(init=...)',
                             ['init'])
        return fit(init=self, **settings)

    def fit_reference(self, pictures, log=None, net_size=None, **settings):
        """A new Model that has learnt the colours of a film from colour stills of it (colorlib.reference); this
        model is left as it is. It learns, and then colours, at `net_size`: by default half the first still's
        shorter side (reference.half_size: a crop then holds four times the picture). settings: reference_run's
        (crops, seed) and TrainConfig's fields."""
        from colorlib.reference import as_list, flushed_denormals, half_size, reference_run
        pictures = as_list(pictures)
        net_size = half_size(pictures[0]) if net_size is None else net_size
        with flushed_denormals():
            model = fit(**reference_run(self, pictures, net_size=net_size, **settings), log=log).model
        return Model(model.net, model.target, model.device, run={**(model.run or {}), 'net_size': net_size})

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

    @named_keywords
    def colorize_files(self, paths, out_dir=COLORIZED_DIR, compare=False, temporal=True, reference=None,
                       save_weights=None, overwrite=False, tile=TILE, margin=None, net_size=None, flips=False,
                       reads=(), progress=False, log=None, on_skip=None, on_note=None):
        """Colour image files and films (`paths`: files, and folders of them) into out_dir: <stem>_colorized.png
        (a film keeps its container: clip.mp4 -> clip_colorized.mp4), with `compare` also <stem>_compare.png
        (grey | result | original; films: grey | result). Every output place is checked before the first file is
        read: earlier PNGs of these names are replaced, films (and save_weights) only with `overwrite`, never one of
        the files read (`reads`, the inputs, this model's weights). reference: colour pictures of the same scenes,
        on which a copy of the model is fine-tuned first (fit_reference, printing to `log`), kept at save_weights
        where given. temporal: films' colours steady from frame to frame; tile, margin, net_size, flips: as for
        colorize. A file that cannot be read or written is skipped (on_skip(path, error)) and the rest done; a film
        that stops early is published up to there (its error a video.FilmCut). on_note(message): what became of a
        film's other streams. Returns a colorize.Colorized: what was written, what failed, and a summary line."""
        check_colorize_arguments(locals())
        return colour_files(self, paths, out_dir, compare, temporal, reference, save_weights, overwrite, tile,
                              margin, net_size, flips, [*reads, *([self.path] if self.path else [])], progress, log,
                              on_skip, on_note)


def check_evaluate_arguments(given):
    """Model.evaluate's arguments (its locals() on entry, or evaluate's: those not given there are not checked), each
    of its type and bounds, naming the keyword."""
    for name in ('legacy', 'flips'):
        check_flag(given[name], name)
    machine.check_precision(given['amp'])
    for name in ('batch_size', 'seed'):  # by TrainConfig's bounds: -b and -s are training's flags
        check_whole(given[name], name, *WHOLE_FIELDS[name])
    if given.get('num_train') is not None:
        check_whole(given['num_train'], 'num_train', 0)
    check_path(given['samples_dir'], 'samples_dir', optional=True)
    check_reads(given.get('reads', ()))


def check_colorize_arguments(given):
    """Model.colorize_files' arguments (its locals() on entry, or colorize_files'), each of its type and bounds,
    naming the keyword."""
    paths, reference = given['paths'], given['reference']
    if not isinstance(paths, (list, tuple)) or not paths:
        raise InputError(f'paths must be a list of files and folders, not {paths!r}', ['paths'])
    for path in paths:
        check_path(path, 'paths')
    check_path(given['out_dir'], 'out_dir')
    check_path(given['save_weights'], 'save_weights', optional=True)
    if reference is not None:
        if not isinstance(reference, (list, tuple)):
            raise InputError(f'reference must be a list of pictures, not {reference!r}', ['reference'])
        for picture in reference:
            check_path(picture, 'reference')
    for name in ('compare', 'temporal', 'overwrite', 'flips', 'progress'):
        check_flag(given[name], name)
    check_pieces(given['tile'], given['margin'], given['net_size'])
    check_reads(given.get('reads', ()))
    for name in ('log', 'on_skip', 'on_note'):
        check_callable(given[name], name)


def check_reads(reads):
    """`reads`, the files a writer must never write over: a list of paths."""
    if not isinstance(reads, (list, tuple)):
        raise InputError(f'reads must be a list of paths, not {reads!r}', ['reads'])
    for read in reads:
        check_path(read, 'reads')


def fit(model=None, *, kernel=None, filters=None, target=None, kind=None, task=None, colours=None,
        bins=None, residual=None, rebalance=None, soft=None, temperature=None, data=None, download=False,
        category=CATEGORY, extra_categories=(), image_size=IMAGE_SIZE, val_share=VAL_SHARE, cache_dir=None,
        on_skip=None, train_x=None, test_x=None, init=None, out_dir=None, runs_dir=None, weights=None, resume=False,
        overwrite=False, epoch_samples=False, sync_bn=False, progress=False, log=None, device='auto', on_epoch=None,
        stop_signal=None, recipe=None, **settings):
    """Train a network and return the Run. The model: `model` (colorlib.models.MODELS: 'UNet', 'CNN', ...), `kernel`,
    `filters` and the network's own settings (models.network_settings); what it learns: a built `target`, or its
    settings (TargetConfig: kind, task, colours, ...); the images: train_x and test_x, both (NHWC, uint8 or float 0-1, sides multiples of 4: network_images),
    else those of `data` and `category` (load_images, with image_size, val_share, cache_dir and on_skip for a folder
    of one's own pictures, on which the colours are then fitted; download=True: the official CIFAR-10, fetched into
    data/ first); how it trains: TrainConfig's fields as keywords (epochs=5, batch_size=10, learn_rate=..., ...),
    over those of a `recipe` where one is named (colorlib.recipes:
    'assignment', 'fast', 'best'; for weights from a file, per the model and target given). init: weights (a Model
    or a path) to start from, whose network and target are then the run's (settings given must agree with them);
    without init the network is by default a 3x3 UNet of 32 filters. `data`, `colours`, `bins` and `init` are files the run reads, never written over, also
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
    config = check_fit_arguments(locals())  # refused before any image is read
    chosen = {k: v for k, v in dict(name=model, kernel=kernel, filters=filters, **own_settings(settings)[0]).items()
              if v is not None}  # the model's settings given; model_config's defaults for the rest
    target_settings = dict(kind=kind, task=task, colours=colours, bins=bins, residual=residual, rebalance=rebalance,
                           soft=soft, temperature=temperature, **kind_settings(settings)[0])
    if train_x is not None:
        train_x, test_x = network_images(train_x, 'train_x'), network_images(test_x, 'test_x')
    device = fit_device(device, sync_bn)
    own = train_x is None and data is not None and not is_cifar10(data) and init is None  # colours fitted on them
    if train_x is None:  # what is said of the images, said once
        first = distributed.rank() == 0
        train_x, test_x = load_images(data, category, extra_categories, image_size, val_share, cache_dir,
                                      on_skip if first else None, log=log if first else None, device=device,
                                      download=download)
    init, target, chosen = start_from(init, chosen, target, target_settings, device)
    if target is None:
        config_of_target = target_config(chosen.get('name', ModelConfig.name), **target_settings)
        target = build_target(config_of_target, fit_on=train_x if own else None)
    if config.label_smoothing and not target.has_accuracy:
        raise InputError('RGB regression has no classes to smooth', ['label_smoothing'])
    net = fit_network(model_config(target, **chosen), init, config, (train_x, test_x), device, sync_bn)
    reads = read_files(data_file(data, download), colours, bins, init)
    if out_dir is None and runs_dir is not None:
        out_dir = Path(runs_dir) / weights_name(net.config.name, target.config, net.config.kernel, net.config.filters)
    files = {} if out_dir is None else run_files(out_dir, weights, target, config.epochs if epoch_samples else 0)
    if files:
        check_run_folder(files, resume, overwrite, reads)
    trained, history = train_and_save(net, target, config, (train_x, test_x), device, files, dict(
        resume=resume, overwrite=overwrite, epoch_samples=epoch_samples, reads=reads), on_epoch, stop_signal,
        progress, log)
    return Run(trained, history, files)


def fit_device(device, sync_bn):
    """fit's device, with torchrun's process group set up where it launched the run (distributed.setup)."""
    device = distributed.setup(device_of(device))
    if sync_bn and distributed.active() and device.type != 'cuda':
        raise InputError("PyTorch's SyncBatchNorm runs on GPUs only; on the CPU leave it out (each process then "
                         "normalises with its own batch's statistics)", ['sync_bn'])
    return device


def fit_network(net_config, init, config, images, device, sync_bn):
    """fit's network of `net_config`, once training it on `images` is known to fit in memory: its first weights
    drawn from config.seed (every draw after them follows it too), or copied from `init`."""
    train_x, test_x = images
    # a file's sizes are not the user's to change
    given = (list(model_sizes()) if init is None else []) + ['batch_size']
    check_fits(net_config, 'train', device, min(config.batch_size, -(-len(train_x) // distributed.world_size())),
               *train_x.shape[1:3], pictures=len(train_x) + len(test_x), chosen=given,
               source=getattr(init, 'path', None), source_field='init', picture_field='train_x')  # before it is built
    torch.manual_seed(config.seed)
    net = build_model(net_config)
    if init is not None:
        net.load_state_dict(init.net.state_dict())
    if sync_bn and distributed.active():
        net = torch.nn.SyncBatchNorm.convert_sync_batchnorm(net)
    return net


def train_and_save(net, target, config, images, device, files, run, on_epoch, stop_signal, progress, log):
    """fit's training (colorlib.train.train) of `net` on `images` (train_x, test_x), handed the end-of-epoch work of
    its folder where it writes (`files`: colorlib.runfolder.RunFolder, the places held meanwhile), a line printed
    per epoch with `log` and the caller's on_epoch(row); then its closing files (save_run). `run`: resume,
    overwrite, epoch_samples and reads. Returns (the trained Model, the history)."""
    net.to(device, memory_format=LAYOUT)
    train_set, test_set = (to_device(target.encode(to_float(x)), device) for x in images)
    shown = tuple(t[:NUM_SAMPLES] for t in test_set)
    folder = RunFolder(files, config, run['resume'], run['overwrite'], run['reads'])
    say = None if log is None else lambda end: log(epoch_line(end.row, config.epochs))
    callbacks = folder.callbacks(say, (net, target, *shown) if run['epoch_samples'] else None)
    callbacks += [lambda end: on_epoch(end.row)] if on_epoch is not None else []
    with folder.held(), folder.stops():
        try:
            history = train_loop(net, target, train_set, test_set, config, folder.state, callbacks, stop_signal,
                                 progress, log, folder.start)
        except KeyboardInterrupt:
            raise KeyboardInterrupt(*([files['resume']] if files else [])) from None
        ran = dataclasses.replace(config, amp=machine.use_bf16(device, config.amp, warn=False)[0])  # as train runs it
        trained = Model(net, target, device, run=describe_run(net, target, ran, train_set))
        if folder.writes:
            save_run(trained, history, shown, files, folder.replace, run['reads'], log or (lambda line: None))
    return trained, history


FIT_KEYWORDS = [name for name in inspect.signature(fit).parameters if name != 'settings']


def check_fit_arguments(given):
    """fit's arguments (its locals() on entry), each of its type and bounds, refused before any image is read and
    naming the keyword: unknown ones (with the nearest fit takes), the model's and the target's settings, paths,
    True/False answers, functions, the images' category."""
    from colorlib.targets import Target
    own, _ = own_settings(given['settings'])
    check_keywords(given['settings'], [f.name for f in dataclasses.fields(TrainConfig)] + FIT_KEYWORDS +
                   list(model_fields()[3:]) + list(target_fields()), 'fit')
    check_model_settings({'kernel': given['kernel'], 'filters': given['filters'], **own}, given['model'])
    check_target_settings(**{k: given.get(k, given['settings'].get(k)) for k in target_fields()})
    for name in ('resume', 'overwrite', 'epoch_samples', 'sync_bn', 'progress'):
        check_flag(given[name], name)
    for name in ('out_dir', 'runs_dir', 'weights'):
        check_path(given[name], name, optional=True)
    check_image_settings(*(given[name] for name in ('data', 'extra_categories', 'image_size', 'val_share',
                                                    'cache_dir', 'on_skip', 'log', 'download')))
    if not isinstance(given['init'], Model):
        check_path(given['init'], 'init', optional=True)
    for name in ('on_epoch', 'stop_signal'):
        check_callable(given[name], name)
    if given['target'] is not None and not isinstance(given['target'], Target):
        raise InputError(f'target must be a colorlib Target (targets.build_target), not {given["target"]!r}',
                         ['target'])
    with_fields(['category'], parse_category, given['category'])
    for other in given['extra_categories']:
        with_fields(['extra_categories'], parse_category, other)
    return check_fit_plan(given)


def check_fit_plan(given):
    """fit's TrainConfig, and the settings that go together or not (check_fit_arguments' `given`): the target's
    settings with the model's, the run's files with a place to write them, train_x with test_x."""
    target_settings = {k: given.get(k, given['settings'].get(k)) for k in target_fields()}
    recipe = {} if given['recipe'] is None else recipe_settings(given['recipe'], *recipe_run(given, target_settings))
    config = TrainConfig(**{**recipe, **kind_settings(own_settings(given['settings'])[1])[1]})  # a keyword given wins
    if given['init'] is None and given['target'] is None:
        target_config(given['model'] or ModelConfig.name, **target_settings)
    for name in ('weights', 'resume', 'epoch_samples'):
        if given[name] not in (None, False) and given['out_dir'] is None and given['runs_dir'] is None:
            raise InputError(f'{name} belongs to a run that writes its files: give out_dir too', [name])
    if given['download'] and given['train_x'] is not None:
        raise InputError('download fetches the images to train on, which train_x and test_x give already',
                         ['download', 'train_x'])
    if (given['train_x'] is None) != (given['test_x'] is None):
        provided, missing = ('train_x', 'test_x') if given['test_x'] is None else ('test_x', 'train_x')
        raise InputError(f'{provided} needs {missing} too (the images the run is evaluated on, or trains on)',
                         [missing])
    return config


def recipe_run(given, target_settings):
    """(model name, TargetConfig) of the run fit is asked for (check_fit_arguments' `given`), as its recipe is
    chosen: those of a Model given as init or a built target, else the model and target settings given."""
    from colorlib.targets import Target
    init = given['init'] if isinstance(given['init'], Model) else None
    name = given['model'] or (init.config.name if init else ModelConfig.name)
    if isinstance(given['target'], Target):
        return name, given['target'].config
    return name, init.target.config if init else target_config(name, **target_settings)


def open_model(weights, device, settings):
    """The Model of the weights file `weights`, or (None) of the shipped weights that the model's and target's
    `settings` name (reconcile.shipped_weights), the settings agreeing with the file (open_weights). A refusal, of
    the file or of a setting against it, has `source` 'weights', as fit's of its init have 'init'."""
    try:
        check_path(weights, 'weights', optional=True)
        return open_weights(shipped_weights(**settings) if weights is None else weights, device, **settings)
    except InputError as err:
        err.source = err.source or 'weights'
        raise


def files_read(data, download, settings):
    """The files a call that reads the images of `data` (None: none of the caller's; download: the archive fetched,
    data.data_file) and the colours or bins among `settings` never writes over (runfolder.read_files); the weights'
    own are the Model's to add."""
    return read_files(data_file(data, download), settings.get('colours'), settings.get('bins'), None)


def evaluate(weights=None, *, data=None, download=False, category=CATEGORY, extra_categories=(),
             image_size=IMAGE_SIZE, val_share=VAL_SHARE, cache_dir=None, on_skip=None, log=None, legacy=False,
             flips=False, batch_size=100, seed=0, amp=False, samples_dir=None, device='cpu', **settings):
    """The validation figures of the weights file `weights` (None: the shipped weights that the model's and
    target's `settings` name: model, kernel, filters, kind, task, colours, ..., as load takes them) on the test
    images of `data` and `category` (load_images, with download, extra_categories, image_size, val_share, cache_dir,
    on_skip and log), as Model.evaluate computes them with legacy, flips, batch_size, seed, amp and samples_dir
    (legacy's num_train: the training images read). Every setting is checked before any file is read; no file read is
    written over. Returns an Evaluation: the Model and its figures."""
    check_keywords(settings, load_settings(), 'evaluate')
    check_evaluate_arguments(locals())
    check_image_settings(data, extra_categories, image_size, val_share, cache_dir, on_skip, log, download)
    device = device_of(device)
    model = open_model(weights, device, settings)
    train_x, test_x = load_images(data, category, extra_categories, image_size, val_share, cache_dir, on_skip,
                                  log=log, device=device, download=download)
    figures = model.evaluate(test_x, legacy=legacy, flips=flips, batch_size=batch_size, seed=seed,
                             num_train=len(train_x), amp=amp, samples_dir=samples_dir,
                             reads=files_read(data, download, settings))
    return Evaluation(model, figures)


def colorize_files(paths, weights=None, *, out_dir=COLORIZED_DIR, compare=False, temporal=True, reference=None,
                   save_weights=None, overwrite=False, tile=TILE, margin=None, net_size=None, flips=False,
                   progress=False, log=None, on_skip=None, on_note=None, device='cpu', **settings):
    """Model.colorize_files(paths, ...) (see there) with the weights file `weights` (None: the shipped weights that
    the model's and target's `settings` name, as load takes them). Every argument is checked before the weights are
    read; the colours or bins given are never written over. Returns a colorize.Colorized."""
    check_keywords(settings, load_settings(), 'colorize_files')
    check_colorize_arguments(locals())
    model = open_model(weights, device_of(device), settings)
    return model.colorize_files(paths, out_dir=out_dir, compare=compare, temporal=temporal, reference=reference,
                                save_weights=save_weights, overwrite=overwrite, tile=tile, margin=margin,
                                net_size=net_size, flips=flips, reads=files_read(None, False, settings),
                                progress=progress, log=log, on_skip=on_skip, on_note=on_note)


def names():
    """The shipped weights, by the names load() takes."""
    return sorted(p.stem.rsplit('_k', 1)[0] for p in shipped.folder('weights').glob('*_k3_f32.pkl'))

