"""Tests for colorlib.video and the films of `colorlib colorize`: films made here with PyAV (a few frames, tiny
sizes), through every container, with audio, subtitles, a variable frame rate, 10-bit and 4:4:4 colour, a phone's
rotation and odd sizes; and the bad ones: not a film, no video stream, no frames, cut short, too large, an output
that exists or is a FIFO, an interruption. PyAV is a test dependency: in CI (CI=true) a missing one fails."""
import fractions
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

if os.environ.get('CI') == 'true':
    import av  # in CI a missing PyAV fails this module, never skips it
else:
    av = pytest.importorskip('av', reason='films need PyAV (pip install ".[test]")')

from colorlib import temporal, video  # noqa: E402
from colorlib.api import load  # noqa: E402
from colorlib.checkpoints import save_weights  # noqa: E402
from colorlib.cli.colorize import main  # noqa: E402
from colorlib.errors import FileExists, InputError, WriteError  # noqa: E402
from colorlib.preemption import Stopped, raise_stop_signals  # noqa: E402
from conftest import call, random_model, smooth_rgb  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CODECS = {'.mp4': 'libx264', '.mov': 'libx264', '.mkv': 'libx264', '.webm': 'libvpx-vp9', '.avi': 'mpeg4',
          '.gif': 'gif'}


def picture(index, height, width):
    """A frame that changes from one to the next: a red block on a sky that brightens."""
    rgb = np.zeros((height, width, 3), np.uint8)
    rgb[:, :] = [(40 + 15 * index) % 256, 120, 200]
    rgb[:height // 2, :width // 2] = [200, 60, 30]
    return rgb


def make_film(path, frames=6, size=(24, 40), pix_fmt='yuv420p', rate=10, pts=None, rotation=None, audio=0,
              subtitles=False, codec=None):
    """A small film at `path` (its suffix picks the container): `frames` frames of `size` (height, width), with
    `pts` in 1/rate units where given (a variable frame rate), `audio` AAC (or Opus for webm) streams of a tone and
    an SRT subtitle stream."""
    path = Path(path)
    codec = codec or CODECS[path.suffix]
    height, width = size
    with av.open(str(path), 'w') as output:
        stream = output.add_stream(codec, rate=rate)
        stream.width, stream.height = width, height
        stream.pix_fmt = 'pal8' if codec == 'gif' else pix_fmt
        if rotation:
            stream.set_display_rotation(rotation)
        sounds = [output.add_stream('libopus' if path.suffix == '.webm' else 'aac', rate=48000 if path.suffix ==
                                    '.webm' else 8000, layout='mono') for _ in range(audio)]
        for index in range(frames):
            rgb = picture(index, height, width)
            frame = video.gif_frame(av, rgb) if codec == 'gif' else av.VideoFrame.from_ndarray(rgb, format='rgb24')
            frame.pts = pts[index] if pts is not None else index
            frame.time_base = fractions.Fraction(1, rate)
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
        for sound in sounds:
            rate_hz, size_ = sound.codec_context.sample_rate, sound.codec_context.frame_size or 1024
            for start in range(0, int(frames / rate * rate_hz), size_):
                tone = (0.3 * np.sin((start + np.arange(size_)) / 5)).astype(np.float32)[None]
                frame = av.AudioFrame.from_ndarray(tone, format='fltp', layout='mono')
                frame.sample_rate, frame.pts = rate_hz, start
                for packet in sound.encode(frame):
                    output.mux(packet)
            for packet in sound.encode():
                output.mux(packet)
    if subtitles:  # FFmpeg muxes subtitles from a file most simply: remux the film with an SRT beside it
        srt = path.with_suffix('.srt')
        srt.write_text('1\n00:00:00,000 --> 00:00:00,300\nhello\n\n')
        joined = path.with_name(f'sub-{path.name}')
        with av.open(str(path)) as a, av.open(str(srt)) as b, av.open(str(joined), 'w') as out:
            streams = {s: out.add_stream_from_template(s) for s in (*a.streams, *b.streams)}
            for container in (a, b):
                for packet in container.demux():
                    if packet.size:
                        packet.stream = streams[packet.stream]
                        out.mux(packet)
        joined.replace(path)
    return path


def read_film(path):
    """(frames as RGB arrays as stored, their times in seconds, [(stream type, codec)], the display rotation)."""
    with av.open(str(path)) as film:
        kinds = [(s.type, s.codec_context.name) for s in film.streams]
        frames, times, rotation = [], [], 0
        for frame in film.decode(video=0):
            frames.append(frame.to_ndarray(format='rgb24'))
            times.append(float(frame.pts * frame.time_base))
            rotation = frame.rotation
    return frames, times, kinds, rotation


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp('weights') / 'unet_f4.pkl'
    save_weights(random_model(), path)
    return str(path)


@pytest.fixture(scope='module')
def model(checkpoint):
    return load(checkpoint)


def leftovers(folder):
    return sorted(p.name for p in Path(folder).iterdir() if p.name.startswith('.'))


# -----------------------------------------------------------------------------
# video in, video out


def test_a_film_keeps_its_frames_times_size_and_audio(model, tmp_path):
    src = make_film(tmp_path / 'clip.mp4', frames=7, audio=1)
    dst = tmp_path / 'out' / 'clip_colorized.mp4'
    said = []
    assert model.colorize_video(src, dst, log=said.append) == 7
    frames, times, kinds, _ = read_film(dst)
    in_frames, in_times, in_kinds, _ = read_film(src)
    assert len(frames) == 7 and frames[0].shape == (24, 40, 3)
    assert times == in_times
    assert kinds == [('video', 'h264'), ('audio', 'aac')] == in_kinds
    assert said == [f'{src}: kept 1 audio stream']
    # the colours are the network's as the temporal stage (on by default) gives them, through H.264's losses
    expected = list(temporal.colour_frames(model, in_frames))
    error = np.abs(np.stack(frames).astype(int) - np.stack(expected)).mean()
    assert error < 8 and error < np.abs(np.stack(in_frames).astype(int) - np.stack(expected)).mean() / 3
    assert leftovers(dst.parent) == []


def test_the_iterator_gives_the_coloured_frames_one_by_one(model, tmp_path):
    src = make_film(tmp_path / 'clip.mkv', frames=5)
    frames = model.colorize_frames(src, temporal=False)
    first = next(frames)
    decoded = read_film(src)[0]
    assert np.array_equal(first, model.colorize(decoded[0]))
    rest = list(frames)
    assert len(rest) == 4 and all(np.array_equal(a, model.colorize(b)) for a, b in zip(rest, decoded[1:]))


@pytest.mark.parametrize('suffix', list(CODECS))
def test_every_container_goes_in_and_out(model, tmp_path, suffix):
    src = make_film(tmp_path / f'clip{suffix}', frames=5, size=(16, 24))
    dst = tmp_path / f'clip_colorized{suffix}'
    assert model.colorize_video(src, dst, temporal=False) == 5
    frames, times, kinds, _ = read_film(dst)
    assert len(frames) == 5 and frames[0].shape == (16, 24, 3)
    assert times == pytest.approx(read_film(src)[1], abs=0.011)
    assert kinds[0][0] == 'video'


def test_a_film_can_change_container(model, tmp_path):
    src = make_film(tmp_path / 'clip.avi', frames=4)
    for suffix in ('.webm', '.gif', '.mov'):
        dst = tmp_path / f'out{suffix}'
        model.colorize_video(src, dst)
        assert len(read_film(dst)[0]) == 4


def test_compare_writes_grey_and_colours_side_by_side_in_the_same_pass(model, tmp_path):
    src = make_film(tmp_path / 'clip.mp4', frames=3, audio=1)
    dst, compare = tmp_path / 'c.mp4', tmp_path / 'c_compare.mp4'
    model.colorize_video(src, dst, compare=compare)
    frames, _, kinds, _ = read_film(compare)
    gap = 4
    assert len(frames) == 3 and frames[0].shape == (24, 2 * 40 + gap, 3)
    grey = frames[0][:, :40].astype(int)
    assert np.abs(grey[..., 0] - grey[..., 1]).max() < 8  # grey on the left (H.264's chroma losses aside)
    assert np.abs(frames[0][:, 40 + gap:].astype(int) - read_film(dst)[0][0]).mean() < 6
    assert kinds == [('video', 'h264'), ('audio', 'aac')]


# -----------------------------------------------------------------------------
# films as people have them


def test_variable_frame_rate_timestamps_are_kept(model, tmp_path):
    pts = [0, 1, 3, 4, 9, 10]
    for suffix in ('.mp4', '.mkv'):
        src = make_film(tmp_path / f'vfr{suffix}', frames=6, pts=pts)
        dst = tmp_path / f'vfr_out{suffix}'
        model.colorize_video(src, dst)
        assert read_film(dst)[1] == pytest.approx([p / 10 for p in pts], abs=1e-3)


@pytest.mark.parametrize('pix_fmt', ['yuv420p10le', 'yuv444p', 'yuv444p10le'])
def test_10_bit_and_4_4_4_colour_are_kept(model, tmp_path, pix_fmt):
    src = make_film(tmp_path / 'deep.mkv', frames=3, pix_fmt=pix_fmt)
    dst = tmp_path / 'deep_out.mkv'
    model.colorize_video(src, dst)
    with av.open(str(dst)) as film:
        assert film.streams.video[0].codec_context.pix_fmt == pix_fmt
        assert len(list(film.decode(video=0))) == 3


def test_a_phone_films_rotation_is_kept_and_the_network_sees_it_upright(model, tmp_path):
    src = make_film(tmp_path / 'phone.mp4', frames=3, size=(24, 40), rotation=-90)
    dst = tmp_path / 'phone_out.mp4'
    model.colorize_video(src, dst)
    frames, _, _, rotation = read_film(dst)
    assert rotation == -90 and frames[0].shape == (24, 40, 3)  # stored as it came, with the same tag
    upright = next(model.colorize_frames(src, temporal=False))
    assert upright.shape == (40, 24, 3)
    stored = read_film(src)[0][0]
    turned = np.ascontiguousarray(np.rot90(stored, -1))  # clockwise, as players show a -90 tag
    assert np.array_equal(upright, model.colorize(turned))


@pytest.mark.parametrize('suffix', ['.mp4', '.webm', '.avi'])
def test_odd_sizes_keep_their_size(model, tmp_path, suffix):
    src = make_film(tmp_path / f'odd{suffix}', frames=3, size=(17, 33), pix_fmt='yuv444p' if suffix == '.mp4'
                    else 'yuv420p')
    dst = tmp_path / f'odd_out{suffix}'
    model.colorize_video(src, dst, compare=tmp_path / f'odd_compare{suffix}')
    assert read_film(dst)[0][0].shape == (17, 33, 3)
    assert read_film(tmp_path / f'odd_compare{suffix}')[0][0].shape == (17, 2 * 33 + 4, 3)


def test_several_audio_streams_and_subtitles_are_kept_or_dropped_and_said_once(model, tmp_path):
    src = make_film(tmp_path / 'many.mkv', frames=4, audio=2, subtitles=True)
    assert [k for k, _ in read_film(src)[2]] == ['video', 'audio', 'audio', 'subtitle']
    said = []
    model.colorize_video(src, tmp_path / 'many_out.mkv', log=said.append)
    assert read_film(tmp_path / 'many_out.mkv')[2] == read_film(src)[2]
    assert said == [f'{src}: kept 2 audio streams and 1 subtitle stream']
    said.clear()
    model.colorize_video(src, tmp_path / 'many_out.webm', log=said.append)
    assert [k for k, _ in read_film(tmp_path / 'many_out.webm')[2]] == ['video']
    assert said == [f'{src}: dropped audio (aac), audio (aac), subtitle (srt), which webm cannot hold']


# -----------------------------------------------------------------------------
# bad input: one line, and nothing lost


def one_line(excinfo, *parts):
    message = str(excinfo.value)
    assert '\n' not in message and all(part in message for part in parts), message
    return message


@pytest.mark.parametrize('name,content,words', [
    ('notes.mp4', b'hello world\n' * 40, 'is not a film'),
    ('paper.mov', b'%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n', 'is not a film'),
    ('empty.mkv', b'', 'is empty'),
])
def test_a_file_that_is_not_a_film_is_one_line(model, tmp_path, name, content, words):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(InputError) as excinfo:
        model.colorize_video(tmp_path / name, tmp_path / 'out.mp4')
    one_line(excinfo, name, words)
    assert not (tmp_path / 'out.mp4').exists() and leftovers(tmp_path) == []


@pytest.mark.parametrize('call,field', [
    (lambda m, t: m.colorize_video(None, t / 'o.mp4'), 'src'),
    (lambda m, t: m.colorize_video(5, t / 'o.mp4'), 'src'),
    (lambda m, t: m.colorize_video('', t / 'o.mp4'), 'src'),
    (lambda m, t: m.colorize_video('cl\0ip.mp4', t / 'o.mp4'), 'src'),
    (lambda m, t: m.colorize_video(t / 'nope.mp4', t / 'o.mp4'), 'src'),
    (lambda m, t: m.colorize_video(t / 'notes.mp4', t / 'o.mp4'), 'src'),
    (lambda m, t: m.colorize_video(t / 'clip.mp4', None), 'dst'),
    (lambda m, t: m.colorize_video(t / 'clip.mp4', t / 'keep.mp4' / 'o.mp4'), 'dst'),
    (lambda m, t: m.colorize_video(t / 'clip.mp4', t / 'o.mp4', compare=5), 'compare'),
    (lambda m, t: m.colorize_video(t / 'clip.mp4', t / 'keep.mp4', replace='no'), 'replace'),
    (lambda m, t: m.colorize_video(t / 'clip.mp4', t / 'o.mp4', temporal='maybe'), 'temporal'),
    (lambda m, t: m.colorize_video(t / 'clip.mp4', t / 'o.mp4', progress='yes'), 'progress'),
    (lambda m, t: m.colorize_video(t / 'clip.mp4', t / 'o.mp4', log=5), 'log'),
    (lambda m, t: list(m.colorize_frames(None)), 'src'),
    (lambda m, t: list(m.colorize_frames(t / 'notes.mp4')), 'src'),
    (lambda m, t: list(m.colorize_frames(t / 'clip.mp4', temporal='maybe')), 'temporal'),
])
def test_each_bad_argument_of_the_film_methods_is_an_input_error_naming_it(model, tmp_path, call, field):
    make_film(tmp_path / 'clip.mp4', frames=2)
    (tmp_path / 'notes.mp4').write_text('not a film')
    (tmp_path / 'keep.mp4').write_bytes(b'keep me')
    with pytest.raises(InputError) as excinfo:
        call(model, tmp_path)
    one_line(excinfo)
    assert excinfo.value.fields == (field,)
    assert (tmp_path / 'keep.mp4').read_bytes() == b'keep me' and not (tmp_path / 'o.mp4').exists()
    assert leftovers(tmp_path) == []


def test_a_film_colours_as_many_frames_at_once_as_fit_and_is_refused_only_where_one_does_not(tmp_path):
    src = make_film(tmp_path / 'clip.mp4', frames=2)  # 40x24
    one, three = video.frame_bytes(24, 40), video.frame_bytes(24, 40, workers=3)
    for free, asked, expected in ((one, 4, 1), (three, 4, 3), (three - 1, 4, 2), (10 * three, 4, 4), (three, 1, 1)):
        with video.open_film(src, free=free, workers=asked) as film:
            assert film.workers == expected, (free, asked)
    with pytest.raises(InputError) as excinfo:
        with video.open_film(src, free=one - 1, workers=4):
            pass
    one_line(excinfo, 'frames of 40x24 need about')
    assert excinfo.value.fields == ('src',)


def test_a_tile_larger_than_the_film_is_the_film(model, tmp_path):
    src = make_film(tmp_path / 'clip.mp4', frames=2)
    assert video.frame_bytes(24, 40, 10 ** 9) == video.frame_bytes(24, 40, 40)
    assert video.frame_bytes(24, 40, 40, workers=2) > video.frame_bytes(24, 40, 40)  # each frame at once adds its own
    assert model.colorize_video(src, tmp_path / 'o.mp4', tile=10 ** 9) == 2


def test_a_single_file_that_is_not_a_film_is_refused_with_status_2(checkpoint, tmp_path, capsys):
    (tmp_path / 'notes.mp4').write_text('not a film')
    code, _, err = run([str(tmp_path / 'notes.mp4'), '--checkpoint', checkpoint, '-f', '4', '-o',
                        str(tmp_path / 'out')], capsys)
    assert code == 2 and err.count('\n') == 1 and 'notes.mp4 is not a film' in err


def test_a_still_picture_with_a_film_name_is_refused(model, tmp_path):
    from PIL import Image
    Image.new('RGB', (8, 8)).save(tmp_path / 'still.mp4', format='PNG')
    with pytest.raises(InputError) as excinfo:
        model.colorize_video(tmp_path / 'still.mp4', tmp_path / 'out.mp4')
    one_line(excinfo, 'still.mp4 is a still picture (png), not a film')


def test_no_video_stream_and_no_frames_are_refused(model, tmp_path):
    with av.open(str(tmp_path / 'sound.mkv'), 'w') as output:
        sound = output.add_stream('aac', rate=8000, layout='mono')
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format='fltp', layout='mono')
        frame.sample_rate, frame.pts = 8000, 0
        for packet in [*sound.encode(frame), *sound.encode()]:
            output.mux(packet)
    with pytest.raises(InputError) as excinfo:
        model.colorize_video(tmp_path / 'sound.mkv', tmp_path / 'out.mp4')
    one_line(excinfo, 'sound.mkv has no video stream')
    with av.open(str(tmp_path / 'none.mkv'), 'w') as output:
        stream = output.add_stream('libx264', rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 16, 'yuv420p'
        output.start_encoding()
    with pytest.raises(InputError) as excinfo:
        model.colorize_video(tmp_path / 'none.mkv', tmp_path / 'out.mp4')
    one_line(excinfo, 'none.mkv has no frames')
    assert not (tmp_path / 'out.mp4').exists() and leftovers(tmp_path) == []


def test_a_film_cut_short_is_coloured_up_to_the_cut_and_says_where(model, tmp_path):
    whole = make_film(tmp_path / 'whole.mkv', frames=40)
    data = whole.read_bytes()
    (tmp_path / 'cut.mkv').write_bytes(data[:len(data) * 6 // 10])
    dst = tmp_path / 'cut_out.mkv'
    with pytest.raises(video.FilmCut) as excinfo:
        model.colorize_video(tmp_path / 'cut.mkv', dst)
    frames = read_film(dst)[0]
    assert 0 < len(frames) < 40 and excinfo.value.frames == len(frames) and excinfo.value.path == dst
    one_line(excinfo, 'cut.mkv: the film stops early', f'the {len(frames)} frames before are coloured in {dst}',
             'of 4.00 s')


def test_a_frame_size_past_memory_is_refused_before_a_frame_is_decoded(checkpoint, tmp_path):
    # a YUV4MPEG header saying 16000x16000, one frame's worth of bytes missing: FFmpeg reads the size from the header
    src = tmp_path / 'huge.mkv'
    src.write_bytes(b'YUV4MPEG2 W16000 H16000 F25:1 Ip A1:1 C420jpeg\nFRAME\n' + b'\x80' * 4096)
    code = f'''
import resource, sys
sys.path[:0] = [{str(REPO)!r}, {str(REPO / 'tests')!r}]
from colorlib.api import load
model = load({checkpoint!r})
resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))  # decoding one frame would need 384 MB, colouring 100 GB
try:
    model.colorize_video({str(src)!r}, {str(tmp_path / 'huge_out.mp4')!r})
except Exception as err:
    print(type(err).__name__, err)
'''
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    need = re.search(r'frames of 16000x16000 need about (\d+) GB to colour, more than', result.stdout)
    assert result.stdout.startswith('InputError ') and need and int(need.group(1)) >= 100  # one frame at once: 103
    assert not (tmp_path / 'huge_out.mp4').exists() and leftovers(tmp_path) == []


def test_an_existing_output_is_replaced_only_when_asked_and_never_a_fifo(model, tmp_path):
    src = make_film(tmp_path / 'clip.mp4', frames=3)
    dst = tmp_path / 'out.mp4'
    dst.write_bytes(b'keep me')
    with pytest.raises(FileExists) as excinfo:
        model.colorize_video(src, dst)
    one_line(excinfo, 'out.mp4 exists')
    assert dst.read_bytes() == b'keep me'
    model.colorize_video(src, dst, replace=True)
    assert len(read_film(dst)[0]) == 3
    os.mkfifo(tmp_path / 'pipe.mp4')
    with pytest.raises(WriteError) as excinfo:
        model.colorize_video(src, tmp_path / 'pipe.mp4', replace=True)
    one_line(excinfo, 'not a regular file')
    with pytest.raises(InputError) as excinfo:
        model.colorize_video(tmp_path / 'pipe.mp4', tmp_path / 'x.mp4')
    one_line(excinfo, 'not a regular file')
    with pytest.raises(WriteError):
        model.colorize_video(src, src, replace=True)  # never over its own input
    with pytest.raises(InputError) as excinfo:
        model.colorize_video(src, tmp_path / 'out.flv')
    assert excinfo.value.fields == ('dst',)


class Interrupting:
    """A model whose colorize raises `error` at frame `at` (a Ctrl-C, or sends itself a SIGTERM)."""

    def __init__(self, model, at, signal_=None):
        self.model, self.at, self.signal, self.seen = model, at, signal_, 0

    def colorize(self, image, **settings):
        self.seen += 1
        if self.seen == self.at:
            if self.signal is None:
                raise KeyboardInterrupt
            os.kill(os.getpid(), self.signal)
        return self.model.colorize(image, **settings)


@pytest.mark.parametrize('stop', [None, signal.SIGTERM])
def test_an_interruption_leaves_no_half_film(model, tmp_path, stop):
    src = make_film(tmp_path / 'clip.mp4', frames=12, audio=1)
    out = tmp_path / 'out'
    out.mkdir()
    with raise_stop_signals(), pytest.raises(Stopped if stop else KeyboardInterrupt):
        video.colorize_video(Interrupting(model, 5, stop), src, out / 'clip.mp4', compare=out / 'clip_compare.mp4',
                             temporal=False)
    assert list(out.iterdir()) == []


@pytest.mark.parametrize('setting', [{'tile': 0}, {'tile': 2}, {'margin': -1}, {'net_size': 0}])
def test_settings_are_checked_before_a_frame_is_read_as_for_a_photo(model, tmp_path, setting):
    src = make_film(tmp_path / 'clip.mp4', frames=2)
    with pytest.raises(InputError) as excinfo:
        model.colorize_video(src, tmp_path / 'out.mp4', **setting)
    with pytest.raises(InputError) as photo:
        model.colorize(np.zeros((8, 8, 3), np.uint8), **setting)
    assert excinfo.value.fields == photo.value.fields == tuple(setting)
    assert str(excinfo.value) == str(photo.value)
    assert not (tmp_path / 'out.mp4').exists()


# -----------------------------------------------------------------------------
# the command line


def run(argv, capsys):
    return call(main, argv, capsys)


def test_colorize_a_folder_of_photos_and_films(checkpoint, tmp_path, capsys):
    folder = tmp_path / 'in'
    folder.mkdir()
    make_film(folder / 'clip.mp4', frames=4, audio=1)
    make_film(folder / 'loop.gif', frames=3)
    from PIL import Image
    Image.fromarray(picture(0, 12, 16)).save(folder / 'photo.png')
    whole = make_film(tmp_path / 'whole.mkv', frames=40)
    (folder / 'cut.mkv').write_bytes(whole.read_bytes()[:len(whole.read_bytes()) * 6 // 10])
    (folder / 'notes.avi').write_text('not a film')
    out = tmp_path / 'out'
    code, stdout, err = run([str(folder), '--checkpoint', checkpoint, '-f', '4', '-o', str(out), '--compare'],
                            capsys)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 3, err
    assert any('cut.mkv: the film stops early' in line for line in lines)
    assert any('skipped' in line and 'notes.avi is not a film' in line for line in lines)
    assert any('clip.mp4: kept 1 audio stream' in line for line in lines)
    assert '3 of 5 files colourized' in stdout  # the cut film is published, but not whole
    names = sorted(p.name for p in out.iterdir())
    assert names == ['clip_colorized.mp4', 'clip_compare.mp4', 'cut_colorized.mkv', 'cut_compare.mkv',
                     'loop_colorized.gif', 'loop_compare.gif', 'photo_colorized.png', 'photo_compare.png']
    assert len(read_film(out / 'loop_colorized.gif')[0]) == 3
    # a second run does not replace the films without --overwrite (exit 2, one line, before any work)
    before = (out / 'clip_colorized.mp4').read_bytes()
    code, _, err = run([str(folder / 'clip.mp4'), '--checkpoint', checkpoint, '-f', '4', '-o', str(out)], capsys)
    assert code == 2 and err.count('\n') == 1 and 'give --overwrite' in err
    assert (out / 'clip_colorized.mp4').read_bytes() == before
    code, _, err = run([str(folder / 'clip.mp4'), '--checkpoint', checkpoint, '-f', '4', '-o', str(out),
                        '--overwrite', '--temporal', 'off'], capsys)
    assert code == 0, err


def test_without_pyav_a_film_gets_one_line_on_how_to_install_it(checkpoint, tmp_path):
    src = make_film(tmp_path / 'clip.mp4', frames=2)
    code = (f'import sys; sys.modules["av"] = None; sys.path.insert(0, {str(REPO)!r}); '
            'from colorlib.cli.colorize import main; main(sys.argv[1:], "colorlib colorize")')
    result = subprocess.run([sys.executable, '-c', code, str(src), '--checkpoint', checkpoint, '-f', '4', '-o',
                             str(tmp_path / 'out')], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert result.stderr == 'colorlib colorize: error: films need PyAV: pip install "colorlib[video]"\n'
    assert not (tmp_path / 'out').exists()


def test_save_weights_needs_a_reference(checkpoint, tmp_path, capsys):
    src = make_film(tmp_path / 'clip.mp4', frames=2)
    code, _, err = run([str(src), '--checkpoint', checkpoint, '-f', '4', '--save-weights', str(tmp_path / 'w.pkl')],
                       capsys)
    assert code == 2 and '--save-weights' in err and '--reference' in err


@pytest.mark.parametrize('sig,status', [(signal.SIGINT, 130), (signal.SIGTERM, 128 + signal.SIGTERM)])
def test_the_command_stopped_midway_leaves_no_half_film(checkpoint, tmp_path, sig, status):
    src = make_film(tmp_path / 'long.mkv', frames=1500, size=(16, 24))
    out = tmp_path / 'out'
    process = subprocess.Popen([sys.executable, '-m', 'colorlib', 'colorize', str(src), '--checkpoint', checkpoint,
                                '-f', '4', '-o', str(out), '--compare'], cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(1200):  # until the film is being written: its temp file is there
            if out.is_dir() and any(p.suffix == '.tmp' for p in out.iterdir()):
                break
            assert process.poll() is None, process.communicate()
            time.sleep(0.05)
        process.send_signal(sig)
        _, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == status, err
    assert err.count('\n') == 1, err
    assert list(out.iterdir()) == []


def test_a_film_colours_a_frame_a_core_in_one_thread_each_and_gives_torchs_threads_back(model, tmp_path,
                                                                                        monkeypatch):
    import threading

    import torch
    src = make_film(tmp_path / 'clip.mp4', frames=4)
    before = torch.get_num_threads()
    frames = model.colorize_frames(src)
    next(frames)
    workers = [t for t in threading.enumerate() if t.name.startswith('colorlib-network')]
    assert torch.get_num_threads() == 1
    assert 1 <= len(workers) <= max(1, min(before, len(os.sched_getaffinity(0))))
    frames.close()
    assert torch.get_num_threads() == before
    model.colorize_video(src, tmp_path / 'out.mp4')
    assert torch.get_num_threads() == before
    with video.network_workers('cpu') as count:  # the rule itself
        assert count == max(1, min(before, len(os.sched_getaffinity(0)))) and torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with video.network_workers('meta') as count:  # another device: one frame, torch's threads untouched
        assert count == 1 and torch.get_num_threads() == before


def test_a_reference_still_fine_tunes_the_network_and_its_weights_can_be_kept(checkpoint, tmp_path, capsys,
                                                                               monkeypatch):
    from PIL import Image
    from colorlib.api import Model
    real = Model.fit_reference  # the real fine-tuning, on fewer crops for one epoch, to keep the test short
    monkeypatch.setattr(Model, 'fit_reference', lambda self, pictures, **settings: real(self, pictures, crops=40,
                                                                                         epochs=1, **settings))
    src = make_film(tmp_path / 'clip.mp4', frames=3, size=(32, 48))
    Image.fromarray(smooth_rgb(32, 48)).save(tmp_path / 'still.png')
    weights, out = tmp_path / 'film.pkl', tmp_path / 'out'
    code, _, err = run([str(src), '--checkpoint', checkpoint, '-f', '4', '-o', str(out), '--reference',
                        str(tmp_path / 'still.png'), '--save-weights', str(weights)], capsys)
    assert code == 0, err
    assert len(read_film(out / 'clip_colorized.mp4')[0]) == 3
    kept = load(weights)  # the fine-tuned weights, reused as any others
    code, _, err = run([str(src), '--checkpoint', str(weights), '-o', str(out), '--overwrite'], capsys)
    assert code == 0, err and kept is not None
    (tmp_path / 'notes.png').write_text('not a picture')
    code, _, err = run([str(src), '--checkpoint', checkpoint, '-f', '4', '-o', str(tmp_path / 'o2'), '--reference',
                        str(tmp_path / 'notes.png')], capsys)
    assert code == 2 and err.count('\n') == 1 and err.startswith('colorize.py: error: --reference: '), err
    assert not (tmp_path / 'o2').exists()
