"""Films in, films out: decode, colour and encode a film as one stream, with FFmpeg through PyAV (its wheel ships
FFmpeg, so nothing else is installed; pip install "colorlib[video]").

Three stages overlap, each in its own thread with a small queue between them: decoding, colouring (through
colorlib.temporal.colour_frames, so the colours stay steady from frame to frame) and encoding. A few frames are in
memory at once whatever the film's length. The output keeps the frames, their timestamps (a variable frame rate
too), the size and the orientation (a phone's rotation tag: the network sees the frame upright, the output is
stored as the input was, with the same tag), and copies the audio and subtitle streams packet by packet where the
output's container can hold them (one line says what was dropped).

A film that stops early (truncated, or corrupt past some point) is coloured up to where it stops, published, and
then a FilmCut says where it stopped.
"""
import collections
import contextlib
import fractions
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from colorlib.errors import InputError, WriteError, check_callable, check_flag, check_path, with_fields
from colorlib.files import atomic_write, may_write, require_file
from colorlib.lab import lab_to_uint8, lightness_of
from colorlib.machine import usable_cores
from colorlib.memory import TILE, available_memory, check_pieces
from colorlib.stages import ahead, behind

INSTALL = 'films need PyAV: pip install "colorlib[video]"'
# output container and video encoder by the output's suffix
FORMATS = {'.mp4': ('mp4', 'libx264'), '.m4v': ('mp4', 'libx264'), '.mov': ('mov', 'libx264'),
           '.mkv': ('matroska', 'libx264'), '.webm': ('webm', 'libvpx-vp9'), '.avi': ('avi', 'mpeg4'),
           '.gif': ('gif', 'gif')}
SUFFIXES = tuple(FORMATS)
ENCODER_OPTIONS = {'libx264': {'crf': '18', 'preset': 'veryfast'},
                   'libvpx-vp9': {'crf': '32', 'b': '0', 'deadline': 'realtime', 'cpu-used': '8', 'row-mt': '1'},
                   'mpeg4': {'qscale': '3'}, 'gif': {}}
# Bytes a pixel of the frame size takes while a film is coloured: the frames in the queues (uint8 RGB), the decoder's
# reference frames, the float maps of the temporal blend and painting; bench/video_speed.py measures the real peak
# beside it. Each frame the network works on at once adds its own frame, results and float maps (WORKER_BYTES_PER_PIXEL)
# and the network's tile work (TILE_BYTES at most).
BYTES_PER_PIXEL = 400
WORKER_BYTES_PER_PIXEL = 64
TILE_BYTES = 1 << 30
STILL_FORMATS = ('image2', 'mjpeg')  # FFmpeg's demuxers of single pictures (and the *_pipe ones)


class FilmCut(InputError):
    """A film that stopped before its end (truncated or corrupt): the frames before were coloured and published at
    `path`; `frames` says how many."""

    def __init__(self, message, path, frames):
        super().__init__(message)
        self.path, self.frames = path, frames


def require_av():
    """PyAV, or an InputError saying in one line how to install it."""
    try:
        import av
    except ImportError:
        raise InputError(INSTALL) from None
    return av


def is_film(path):
    """Whether colorize treats `path` as a film, not a picture: by its suffix, and a GIF only if it is animated."""
    suffix = Path(path).suffix.lower()
    if suffix != '.gif':
        return suffix in FORMATS
    try:
        with Image.open(path) as image:
            return getattr(image, 'n_frames', 1) > 1
    except Exception:  # unreadable: the picture reader says why
        return False


@dataclass
class Film:
    """An open film: its container, the video stream and what the colouring needs to know before a frame is read."""
    path: Path
    container: object
    stream: object
    width: int  # as stored (before rotation)
    height: int
    rotation: int  # degrees counterclockwise the player turns each frame (0, 90, 180, -90), from the first frame
    frames: int  # as the header says, 0 where it does not
    duration: float  # seconds, 0 where unknown
    rate: fractions.Fraction  # average frame rate (a guess for variable rate films)
    workers: int = 1  # frames the network may colour at once: as many as asked for that fit in the memory free

    stopped: str = None  # where the film stopped early, once decoded (None: it did not)


def frame_bytes(height, width, tile=TILE, workers=1):
    """What colouring a film of this frame size holds in memory at most, roughly, with the network on `workers`
    frames at once (BYTES_PER_PIXEL, WORKER_BYTES_PER_PIXEL, TILE_BYTES): a tile larger than the frame is the
    frame."""
    tile_work = min(TILE_BYTES, 400 * (min(tile, height) + 64) * (min(tile, width) + 64))
    return BYTES_PER_PIXEL * height * width + workers * (WORKER_BYTES_PER_PIXEL * height * width + tile_work)


@contextlib.contextmanager
def open_film(path, tile=TILE, free=None, name='src', workers=1):
    """The Film at `path`, checked before any frame is decoded: a regular file, a film FFmpeg reads (not a still
    picture, not text), a video stream, and a frame size whose colouring fits in `free` bytes (default: the memory
    available now) with the network on one frame at a time; Film.workers is how many frames at once, up to
    `workers`, fit. Each refusal is an InputError of one line naming `name`, the argument the film came from."""
    av = require_av()
    check_path(path, name)
    path = with_fields([name], require_file, path)
    if not os.path.getsize(path):
        raise InputError(f'{path} is empty', [name])
    raw = open(path, 'rb')  # by file object: any name the file system holds opens, and nothing but this file
    try:
        try:
            container = av.open(raw, 'r', metadata_errors='ignore')
        except av.error.EOFError:
            raise InputError(f'{path} has no frames (it ends before the first)', [name]) from None
        except (av.error.FFmpegError, ValueError, OSError) as err:
            raise InputError(f'{path} is not a film FFmpeg can read ({reason(err)})', [name]) from None
        with container:
            fmt = container.format.name
            if fmt in STILL_FORMATS or fmt.endswith('_pipe'):
                raise InputError(f'{path} is a still picture ({fmt.removesuffix("_pipe")}), not a film', [name])
            streams = [s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic]
            if not streams:
                raise InputError(f'{path} has no video stream', [name])
            stream = streams[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            if width <= 0 or height <= 0:
                raise InputError(f'{path}: its video stream has no frame size', [name])
            need = frame_bytes(height, width, tile)
            free = available_memory(torch.device('cpu')) if free is None else free
            if need > free:
                raise InputError(f'{path}: frames of {width}x{height} need about {need / 1e9:.3g} GB to colour, more '
                                 f'than the {free / 1e9:.3g} GB free', [name])
            each = frame_bytes(height, width, tile, 2) - need  # what each further frame at once adds
            workers = max(1, min(workers, 1 + int((free - need) // each)))
            duration = (float(stream.duration * stream.time_base) if stream.duration else
                        container.duration / 1e6 if container.duration else 0.0)
            rate = stream.average_rate or stream.guessed_rate or fractions.Fraction(25)
            yield Film(path, container, stream, width, height, 0, max(stream.frames, 0), duration,
                       fractions.Fraction(rate), workers)
    finally:
        raw.close()


def reason(err):
    """An FFmpeg error's words, without its errno."""
    return getattr(err, 'strerror', None) or str(err) or type(err).__name__


def upright(rgb, rotation):
    """A stored frame turned as the player shows it."""
    return np.ascontiguousarray(np.rot90(rgb, rotation // 90)) if rotation else rgb


# -----------------------------------------------------------------------------
# the stages


def decode(film, packets=None):
    """(pts, upright RGB uint8 frame) of every frame of the film, in order; the packets of the other streams go to
    packets(packet) as they come. Where the film stops early (a read or decoding error, or the stream ends short of
    its stated length) film.stopped says where; the frames before it are yielded."""
    av = require_av()
    stream = film.stream
    stream.thread_type = 'AUTO'
    index, tb, last = 0, stream.time_base, None
    film.stopped = None
    wanted = [stream] + ([s for s in film.container.streams if s is not stream] if packets else [])
    try:
        for packet in film.container.demux(wanted):
            if packet.stream is not stream:
                if packet.size:  # not the empty one that ends a stream
                    packets(packet)
                continue
            for frame in packet.decode():
                if not index:  # the first frame's rotation holds for the film, as players take it
                    film.rotation = rotation(frame)
                last = frame.pts if frame.pts is not None else last
                yield frame.pts, upright(frame.to_ndarray(format='rgb24'), film.rotation)
                index += 1
    except av.error.FFmpegError as err:
        film.stopped = f'a read error at frame {index + 1} ({reason(err)})'
    if film.stopped is None and index:  # by the time the header states (an edit list may drop a frame or two)
        shown = float((last - (stream.start_time or 0)) * tb) if last is not None else 0.0
        step = 1 / float(film.rate)
        if film.duration and shown + step < film.duration - max(0.5, 3 * step):
            film.stopped = f'it ends after {index} frames, {shown + step:.2f} s of {film.duration:.2f} s'
        elif not film.duration and film.frames > index + 2:
            film.stopped = f'it ends after {index} of {film.frames} frames'


def rotation(frame):
    """The frame's display rotation (its side data) as a multiple of 90 degrees from -90 to 180."""
    turn = int(round((frame.rotation or 0) / 90)) * 90 % 360
    return turn if turn <= 180 else turn - 360


def coloured(model, film, temporal, settings, workers=1, keep_input=False, packets=None):
    """(pts, input frame or None, coloured frame), upright, for every frame: decoding runs ahead in a thread, the
    colouring is colorlib.temporal.colour_frames', the network on `workers` frames at once."""
    from colorlib.temporal import colour_frames
    waiting = collections.deque()  # what colouring has taken and not yet given back: a few frames at most

    def frames():
        for pts, rgb in decoded:
            waiting.append((pts, rgb if keep_input else None))
            yield rgb
    decoded = ahead(decode(film, packets))
    results = colour_frames(model, frames(), temporal=temporal, workers=workers, **settings)
    try:
        for result in results:
            pts, rgb = waiting.popleft()
            yield pts, rgb, result
    finally:
        results.close()  # first: its thread may be reading the decoded frames
        decoded.close()


@contextlib.contextmanager
def network_workers(device):
    """How many frames the network colours at once while a film is coloured on `device`, with torch's threads set
    for that meanwhile and as they were afterwards. On the CPU: a frame on each core torch would use, each frame in
    one thread. torch's threads wait for each other at every operation, so a decoder, encoder or steadying thread
    that takes a core from one of them stalls them all; frames in threads of their own share the cores with those
    without waiting (docs/video.md). Elsewhere one frame, ahead of the rest."""
    before = torch.get_num_threads()
    if torch.device(device).type != 'cpu':
        yield 1
        return
    torch.set_num_threads(1)
    try:
        yield max(1, min(before, usable_cores()))
    finally:
        torch.set_num_threads(before)


def colour_film(model, src, temporal=True, **settings):
    """Coloured uint8 RGB frames (H, W, 3), upright, of the film at `src`, one per frame, a few in memory at once:
    for one's own pipeline. settings: tile, margin, net_size, flips (colorlib.temporal.colour_frames)."""
    check_flag(temporal, 'temporal')
    settings = check_settings(settings)
    with network_workers(model.device) as workers, open_film(src, settings['tile'], workers=workers) as film:
        for _, _, result in coloured(model, film, temporal, settings, film.workers):
            yield result
        if film.stopped:
            raise FilmCut(f'{src}: {film.stopped}', None, None)


def check_settings(settings):
    """The colouring settings checked before a frame is read (an InputError naming the one at fault), with the
    default tile where none is given."""
    settings = dict(settings)
    unknown = set(settings) - {'tile', 'margin', 'net_size', 'flips'}
    if unknown:
        name = sorted(unknown)[0]
        raise InputError(f'unknown setting {name!r} (tile, margin, net_size, flips)', [name])
    if settings.get('tile') is None:
        settings['tile'] = TILE  # as for photos: docs/video.md found films no faster in larger tiles
    check_pieces(settings['tile'], settings.get('margin'), settings.get('net_size'))
    return settings


# -----------------------------------------------------------------------------
# writing


def output_format(path, name='dst'):
    """(container format, encoder) for a film written at `path`, by its suffix."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f'{path}: films are written as {", ".join(SUFFIXES)}, not {suffix or "a name without one"}',
                         [name])
    return FORMATS[suffix]


def pixel_format(codec, source, width, height):
    """The encoder's pixel format nearest the source's: 10-bit and 4:4:4 kept where the encoder has them; 4:4:4 for
    an odd size that H.264 cannot subsample."""
    formats = [f.name for f in codec.video_formats or ()]
    source = source.replace('yuvj', 'yuv') if source else 'yuv420p'
    halves = {'420': (True, True), '422': (True, False), '440': (False, True)}
    def fits(fmt):
        half_w, half_h = next((v for k, v in halves.items() if k in fmt), (False, False))
        return fmt in formats and not (codec.name == 'libx264' and (half_w and width % 2 or half_h and height % 2))
    if fits(source):
        return source
    depth = '10le' if source.endswith('10le') and codec.name == 'libx264' else ''
    return next(f for f in (f'yuv420p{depth}', f'yuv444p{depth}', 'yuv420p', 'yuv444p', formats[0]) if fits(f))


def add_video(output, codec_name, film, size):
    """The output's video stream: the film's time base (timestamps kept: a variable frame rate too), its rate said,
    the pixel format kept where the encoder has it."""
    av = require_av()
    height, width = size
    stream = output.add_stream(codec_name, rate=film.rate, options=dict(ENCODER_OPTIONS[codec_name]))
    stream.width, stream.height = width, height
    if codec_name == 'gif':
        stream.pix_fmt, tb = 'pal8', fractions.Fraction(1, 100)
    else:
        stream.pix_fmt = pixel_format(av.codec.Codec(codec_name, 'w'), film.stream.codec_context.pix_fmt, width, height)
        tb = film.stream.time_base
        if codec_name == 'mpeg4' and tb.denominator > 65535:  # MPEG-4 part 2 counts time in 16 bits
            tb = 1 / fractions.Fraction(film.rate).limit_denominator(1001)
    stream.codec_context.time_base = tb
    return stream, tb


def streams_to_copy(output, film):
    """(the audio and subtitle streams of the film the output's container can hold, the kinds of those it cannot)."""
    kept, dropped = [], []
    for stream in film.container.streams:
        if stream is film.stream or stream.type not in ('audio', 'subtitle', 'video'):
            continue
        if stream.type == 'video':
            dropped.append('a second video stream or cover picture')
            continue
        name = stream.codec_context.name if stream.codec_context else 'unknown'
        (kept if name in output.supported_codecs else dropped).append(stream if name in output.supported_codecs
                                                                        else f'{stream.type} ({name})')
    return kept, dropped


def said_of(kept, dropped, fmt):
    """One sentence on what became of the film's other streams; None when it has none."""
    def count(streams):
        kinds = collections.Counter(s.type for s in streams)
        return ' and '.join(f'{n} {kind} stream{"s" * (n > 1)}' for kind, n in kinds.items())
    words = [f'kept {count(kept)}'] if kept else []
    if dropped:
        words.append(f'dropped {", ".join(dropped)}, which {fmt} cannot hold')
    return '; '.join(words) or None


def grey_of(rgb):
    """The frame's lightness alone, as RGB: what the network sees, shown beside its colours (colorlib.lab's frame
    conversions, as colorize makes its comparison's grey)."""
    lightness = lightness_of(rgb)
    zero = torch.zeros_like(lightness)
    return lab_to_uint8(lightness, zero, zero, torch.empty(*rgb.shape[:2], 3, dtype=torch.uint8)).numpy()


def side_by_side(grey, result):
    """grey | a white gap | result, as the photos' comparison lays them out."""
    gap = np.full((result.shape[0], max(4, result.shape[1] // 50 // 2 * 2), 3), 255, np.uint8)
    return np.concatenate([grey, gap, result], axis=1)


def gif_frame(av, rgb):
    """A pal8 frame of an RGB one: its own 256 colours (Pillow's median cut), as an animated GIF keeps them."""
    image = Image.fromarray(rgb).quantize(256, method=Image.Quantize.MEDIANCUT)
    colours = np.asarray(image.getpalette(), np.uint8).reshape(-1, 3)[:256]
    palette = np.zeros((256, 4), np.uint8)
    palette[:, 0] = 255  # ARGB
    palette[:len(colours), 1:] = colours
    return av.VideoFrame.from_ndarray((np.asarray(image), palette), format='pal8')


@dataclass
class Sink:
    """One output film: its container and format, whether it is the side-by-side comparison (written upright) or
    the colours (stored as the input was, with its rotation tag), and once the first frame came, its streams."""
    output: object
    format: str
    codec: str
    compare: bool
    kept: list
    stream: object = None
    time_base: fractions.Fraction = None
    copies: dict = None
    last: int = -1

    def start(self, film, size):
        """The streams, made when the first frame shows the size and the rotation."""
        self.stream, self.time_base = add_video(self.output, self.codec, film, size)
        if film.rotation and not self.compare:
            self.stream.set_display_rotation(film.rotation)
        self.copies = {s.index: self.output.add_stream_from_template(s) for s in self.kept}


def encode(items, sinks, film, packets):
    """Encode (pts, input, coloured) items into every sink, and mux the copied packets as they come."""
    av = require_av()
    count, tb_in, step = 0, film.stream.time_base, 1 / film.rate

    def mux_packets():
        while packets:
            packet = packets.popleft()
            targets = [sink for sink in sinks if packet.stream.index in sink.copies]
            for n, sink in enumerate(targets):
                copy = packet if n == len(targets) - 1 else clone(av, packet)
                copy.stream = sink.copies[packet.stream.index]
                sink.output.mux(copy)
    for pts, rgb, result in items:
        seconds = pts * tb_in if pts is not None else count * step
        for sink in sinks:
            picture = side_by_side(grey_of(rgb), result) if sink.compare else upright(result, -film.rotation)
            if sink.stream is None:
                sink.start(film, picture.shape[:2])
            frame = gif_frame(av, picture) if sink.codec == 'gif' else av.VideoFrame.from_ndarray(picture, 'rgb24')
            sink.last = max(int(round(seconds / sink.time_base)), sink.last + 1)  # strictly increasing
            frame.pts, frame.time_base = sink.last, sink.time_base
            for packet in sink.stream.encode(frame):
                sink.output.mux(packet)
        mux_packets()
        count += 1
    for sink in sinks:
        if sink.stream is not None:
            for packet in sink.stream.encode():
                sink.output.mux(packet)
    if count:
        mux_packets()


def clone(av, packet):
    """A copy of a packet, so that one input packet can go to two outputs."""
    copy = av.Packet(bytes(packet))
    copy.pts, copy.dts, copy.time_base = packet.pts, packet.dts, packet.time_base
    copy.is_keyframe = packet.is_keyframe
    return copy


def film_outputs(dst, compare, replace, reads):
    """[(path, its keyword, side by side?)] of a film's outputs, each one checked before any work: a container
    colorlib writes, and a place it may write (colorlib.files.may_write), the two not the same file."""
    outputs = [(Path(dst), 'dst', False)] + ([(Path(compare), 'compare', True)] if compare is not None else [])
    for path, name, _ in outputs:
        output_format(path, name)
        try:
            may_write(path, replace, reads)
        except InputError as err:
            err.fields = err.fields or (name,)
            raise
    if compare is not None and os.path.abspath(compare) == os.path.abspath(dst):
        raise InputError(f'compare and dst are the same file ({dst})', ['compare'])
    return outputs


def colorize_video(model, src, dst, compare=None, temporal=True, replace=False, reads=(), progress=False, log=None,
                   **settings):
    """Colour the film at `src` into `dst` (its suffix picks the container: SUFFIXES), and with `compare` a second
    film there, grey and coloured side by side, in the same pass. Returns the number of frames. Existing outputs
    are replaced only with `replace`, never one of `reads` or `src` (colorlib.files.may_write); an interruption
    leaves nothing under their names. log(message) hears what became of the film's other streams. Where the film
    stops early, what was coloured is published and then a FilmCut says where it stopped."""
    av = require_av()
    check_path(src, 'src')
    check_path(dst, 'dst')
    check_path(compare, 'compare', optional=True)
    check_flag(temporal, 'temporal')
    check_flag(replace, 'replace')
    check_flag(progress, 'progress')
    check_callable(log, 'log')
    settings = check_settings(settings)
    src = Path(src)
    reads = [src, *reads]
    outputs = film_outputs(dst, compare, replace, reads)
    with network_workers(getattr(model, 'device', 'cpu')) as workers, \
            open_film(src, settings['tile'], workers=workers) as film:
        count = 0

        def write(files):
            nonlocal count
            sinks, packets = [], collections.deque()
            with contextlib.ExitStack() as stack:
                for (path, _, side), f in zip(outputs, files):
                    fmt, codec = output_format(path)
                    output = stack.enter_context(av.open(f, 'w', format=fmt))
                    kept, dropped = streams_to_copy(output, film)
                    sinks.append(Sink(output, fmt, codec, side, kept))
                    if log and (kept or dropped) and len(sinks) == 1:
                        log(f'{src}: {said_of(kept, dropped, fmt)}')
                copying = any(sink.kept for sink in sinks)
                bar = progress_bar(film, src) if progress else None
                with behind(lambda items: encode(items, sinks, film, packets)) as send:
                    items = coloured(model, film, temporal, settings, film.workers, compare is not None,
                                     packets.append if copying else None)
                    try:
                        for item in items:
                            send(item)
                            count += 1
                            if bar is not None:
                                bar.update()
                    finally:
                        items.close()
                        if bar is not None:
                            bar.close()
                if not count:
                    raise InputError(f'{src} has no frames' + (f' ({film.stopped})' if film.stopped else ''),
                                     ['src'])
        nest(outputs, write, replace, reads)
        if film.stopped:
            raise FilmCut(f'{src}: the film stops early, {film.stopped}; the {count} frames before are coloured in '
                          f'{dst}', Path(dst), count)
    return count


def nest(outputs, write, replace, reads, files=()):
    """write(files), each file written whole by atomic_write under its output's name, or none of them."""
    if len(files) == len(outputs):
        return write(files)
    path, name, _ = outputs[len(files)]
    try:
        atomic_write(path, lambda f: nest(outputs, write, replace, reads, (*files, f)), replace, reads)
    except WriteError as err:  # the file system's refusal of this output: it names the argument
        err.fields = err.fields or (name,)
        raise


def progress_bar(film, src):
    """Frames done, frames per second and the time left (from the header's count of frames, or its duration)."""
    from tqdm import tqdm
    total = film.frames or round(film.duration * film.rate) or None  # mkv and webm state a duration, not a count
    return tqdm(total=total, desc=Path(src).name[:30], unit='frame', dynamic_ncols=True)
