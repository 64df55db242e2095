"""save_weights / read_weights / load_weights: the assignment's layout, atomic writes, one-line InputErrors that
name the file and, for a model mismatch, the ModelConfig fields at fault."""
import math
import os
import pickle

import pytest
import torch
from collections import OrderedDict

import colorlib.checkpoints
from colorlib.checkpoints import (load_weights, read_palette, read_resumable, read_weights, save_resumable,
                                  save_weights)
from colorlib.errors import FileExists, InputError
from colorlib.models import ModelConfig, build_model
from conftest import needs_shared, one_line_error


def model_of(name, nf=8, colours=24, kernel=3, in_channels=1):
    return build_model(ModelConfig(name, kernel, nf, colours, in_channels))


def trained_like(name, nf=8, colours=24, seed=0):
    """A model whose BatchNorm statistics have moved, as after training (num_batches_tracked > 0)."""
    torch.manual_seed(seed)
    model = model_of(name, nf, colours)
    model.train()
    with torch.no_grad():
        model(torch.rand(4, 1, 32, 32))
    return model.eval()


def test_save_writes_a_plain_dict_of_tensors(tmp_path):
    model = trained_like('UNet')
    path = tmp_path / 'sub' / 'dir' / 'weights.pkl'  # parent folders are made
    save_weights(model, path)
    state = torch.load(path, map_location='cpu', weights_only=True)
    assert isinstance(state, dict)
    assert all(torch.is_tensor(v) for v in state.values())
    assert not [k for k in state if 'num_batches_tracked' in k]
    assert list(state) == [k for k in model.state_dict() if not k.endswith('num_batches_tracked')]


@needs_shared
@pytest.mark.parametrize('name', ['RegressionCNN', 'CNN', 'UNet', 'DUNet'])
def test_saved_keys_match_the_assignments(tmp_path, name, assignment_weights):
    reference = assignment_weights(name, 16)
    model = model_of(name, 16, 3 if name == 'RegressionCNN' else 24)
    save_weights(model, tmp_path / 'w.pkl')
    state = read_weights(tmp_path / 'w.pkl')
    assert list(state) == list(reference)
    assert {k: v.shape for k, v in state.items()} == {k: v.shape for k, v in reference.items()}


@pytest.mark.parametrize('name', ['RegressionCNN', 'CNN', 'UNet', 'DUNet'])
def test_round_trip(tmp_path, name):
    colours = 3 if name == 'RegressionCNN' else 24
    model = trained_like(name, colours=colours)
    save_weights(model, tmp_path / 'w.pkl')
    fresh = model_of(name, 8, colours)
    fresh.load_state_dict(read_weights(tmp_path / 'w.pkl'), strict=True)
    fresh.eval()
    x = torch.rand(2, 1, 32, 32)
    with torch.no_grad():
        assert not torch.equal(model_of(name, 8, colours).eval()(x), model(x))
        assert torch.equal(fresh(x), model(x))
    # and through load_weights, which the CLI uses
    again = load_weights(model_of(name, 8, colours), tmp_path / 'w.pkl').eval()
    with torch.no_grad():
        assert torch.equal(again(x), model(x))


def test_save_overwrites(tmp_path):
    path = tmp_path / 'w.pkl'
    save_weights(trained_like('CNN', seed=0), path)
    second = trained_like('CNN', seed=1)
    before = path.read_bytes()
    with pytest.raises(FileExists):  # only a file named for replacing is replaced
        save_weights(second, path)
    assert path.read_bytes() == before
    save_weights(second, path, replace=True)
    assert torch.equal(read_weights(path)['finalconv.weight'], second.finalconv.weight)
    assert [p.name for p in tmp_path.iterdir()] == ['w.pkl']


def test_interrupted_save_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / 'w.pkl'
    save_weights(trained_like('CNN', seed=0), path)
    before = path.read_bytes()

    def broken_save(obj, f, *args, **kwargs):
        f.write(b'PK\x03\x04 half a checkpoint')
        raise OSError('No space left on device')

    monkeypatch.setattr(colorlib.checkpoints.torch, 'save', broken_save)
    with pytest.raises(OSError, match='No space left'):
        save_weights(trained_like('CNN', seed=1), path, replace=True)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ['w.pkl']  # no temp file left behind


def test_interrupted_first_save_leaves_nothing(tmp_path, monkeypatch):
    def broken_save(obj, f, *args, **kwargs):
        f.write(b'abc')
        raise KeyboardInterrupt

    monkeypatch.setattr(colorlib.checkpoints.torch, 'save', broken_save)
    with pytest.raises(KeyboardInterrupt):
        save_weights(trained_like('CNN'), tmp_path / 'w.pkl')
    assert list(tmp_path.iterdir()) == []


def test_missing_file(tmp_path):
    with pytest.raises(InputError) as e:
        read_weights(tmp_path / 'nope.pkl')
    one_line_error(e, 'no such file', 'nope.pkl')
    with pytest.raises(InputError) as e:
        load_weights(model_of('CNN'), tmp_path / 'nope.pkl')
    one_line_error(e, 'no such file', 'nope.pkl')


def test_a_folder_is_not_a_checkpoint(tmp_path):
    with pytest.raises(InputError) as e:
        read_weights(tmp_path)
    one_line_error(e, 'is a folder', str(tmp_path))


@pytest.mark.parametrize('seed', range(6))
def test_random_bytes(tmp_path, seed):
    path = tmp_path / 'junk.pkl'
    gen = torch.Generator().manual_seed(seed)
    path.write_bytes(bytes(torch.randint(0, 256, (64 + 300 * seed,), generator=gen, dtype=torch.uint8).tolist()))
    with pytest.raises(InputError) as e:
        read_weights(path)
    one_line_error(e, 'cannot read', str(path))


# garbage reaches many corners of torch's weights-only unpickler, each with its own exception type
@pytest.mark.parametrize('content', [
    b'',  # EOFError
    b'\x80',  # IndexError: index out of range
    b'\x80\x02s',  # IndexError: pop from empty list
    b'\x80\x04s',  # the same, after a pickle-protocol UserWarning
    b'\x80\x02h\x07',  # KeyError: memo 7
    b'\x80\x02X\x02\x00\x00\x00\xff\xfe',  # UnicodeDecodeError
    b'\x80\x02}q\x00(X\x01\x00\x00\x00a',  # EOFError mid-dict
    b'not a pickle at all',
])
def test_garbage_files(tmp_path, content, recwarn):
    path = tmp_path / 'bad.pkl'
    path.write_bytes(content)
    with pytest.raises(InputError) as e:
        read_weights(path)
    one_line_error(e, 'cannot read', str(path))
    assert not recwarn.list  # no multi-line torch warning on top of the one-line error


def test_truncated_checkpoint(tmp_path):
    path = tmp_path / 'w.pkl'
    save_weights(trained_like('CNN'), path)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(InputError) as e:
        load_weights(model_of('CNN'), path)
    one_line_error(e, 'cannot read', str(path))


@pytest.mark.parametrize('obj', [
    [torch.zeros(3)],
    {'a': 1, 'b': 2},
    torch.zeros(3),
    {'state_dict': {'finalconv.bias': torch.zeros(3)}},
    {'finalconv.bias': torch.zeros(3), 'epoch': 5},
], ids=['list', 'dict-of-ints', 'tensor', 'nested', 'mixed'])
def test_not_a_state_dict(tmp_path, obj):
    path = tmp_path / 'w.pkl'
    torch.save(obj, path)
    with pytest.raises(InputError) as e:
        read_weights(path)
    one_line_error(e, str(path), 'not a plain state_dict')


@pytest.mark.parametrize('value', [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize('key', ['finalconv.weight', 'downconv1.2.running_var'])
def test_non_finite_weights_are_refused(tmp_path, value, key):
    """A diverged run's NaN or infinite weights would load and colour every pixel the same: refused up front."""
    state = {k: v.clone() for k, v in trained_like('CNN').state_dict().items()}
    state[key].view(-1)[3] = value
    path = tmp_path / 'diverged.pkl'
    torch.save(state, path)
    with pytest.raises(InputError) as e:
        read_weights(path)
    one_line_error(e, str(path), 'non-finite', key)
    with pytest.raises(InputError) as e:
        load_weights(model_of('CNN'), path)
    one_line_error(e, 'non-finite')
    state[key].view(-1)[3] = 1.0
    torch.save(state, path)
    assert torch.equal(read_weights(path)[key], state[key])  # the same file with finite numbers reads


@pytest.mark.parametrize('umask', [0o022, 0o002, 0o027])
@pytest.mark.parametrize('resumable', [False, True])
def test_saved_files_get_the_usual_permissions(tmp_path, umask, resumable):
    """0666 less the umask, as open() would give, not the temp file's private 0600."""
    model = model_of('CNN', nf=4)
    old = os.umask(umask)
    try:
        if resumable:
            path = save_resumable({'model': model.state_dict()}, tmp_path / 'w.pkl')
        else:
            path = save_weights(model, tmp_path / 'w.pkl')
    finally:
        os.umask(old)
    assert path == tmp_path / 'w.pkl'
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


def test_other_model(tmp_path):
    save_weights(trained_like('CNN'), tmp_path / 'cnn.pkl')
    unet = model_of('UNet')
    before = {k: v.clone() for k, v in unet.state_dict().items()}
    with pytest.raises(InputError) as e:
        load_weights(unet, tmp_path / 'cnn.pkl')
    one_line_error(e, 'cnn.pkl', 'a CNN (k=3, f=8, 24 colours)', 'but UNet (k=3, f=8, 24 colours) is asked for')
    assert e.value.fields == ('name',)
    assert all(torch.equal(before[k], v) for k, v in unet.state_dict().items())  # left untouched


def test_other_key_set(tmp_path):
    state = trained_like('CNN').state_dict()
    state['extra.weight'] = torch.zeros(1)
    torch.save(state, tmp_path / 'w.pkl')
    with pytest.raises(InputError) as e:
        load_weights(model_of('CNN'), tmp_path / 'w.pkl')
    one_line_error(e, 'w.pkl', 'does not fit', 'extra.weight')
    del state['extra.weight'], state['rfconv.0.bias']
    torch.save(state, tmp_path / 'w.pkl')
    with pytest.raises(InputError) as e:
        load_weights(model_of('CNN'), tmp_path / 'w.pkl')
    one_line_error(e, 'w.pkl', 'does not fit', 'rfconv.0.bias')


@pytest.mark.parametrize('saved, asked, words, field', [
    (dict(nf=16), dict(nf=32), ['f=16', 'f=32'], 'filters'),
    (dict(colours=24), dict(colours=16), ['24 colours', '16 colours'], 'out_channels'),
    (dict(kernel=5), dict(kernel=3), ['k=5', 'k=3'], 'kernel'),
], ids=['filters', 'colours', 'kernel'])
def test_other_size_colours_or_kernel(saved, asked, words, field, tmp_path):
    save_weights(model_of('UNet', **saved), tmp_path / 'w.pkl')
    with pytest.raises(InputError) as e:
        load_weights(model_of('UNet', **asked), tmp_path / 'w.pkl')
    one_line_error(e, 'w.pkl', *words)
    assert e.value.fields == (field,)


def test_other_input_channels(tmp_path):
    """A super-resolution model (RGB in) does not load as a colourization one (grey in), nor the other way."""
    save_weights(model_of('UNet', in_channels=3), tmp_path / 'superres.pkl')
    with pytest.raises(InputError) as e:
        load_weights(model_of('UNet', in_channels=1), tmp_path / 'superres.pkl')
    one_line_error(e, 'superres.pkl', 'UNet (k=3, f=8, 24 colours) for super-resolution checkpoint')
    assert e.value.fields == ('in_channels',)
    save_weights(model_of('CNN', colours=3), tmp_path / 'grey.pkl')
    with pytest.raises(InputError) as e:
        load_weights(model_of('CNN', colours=3, in_channels=3), tmp_path / 'grey.pkl')
    assert e.value.fields == ('in_channels',)


def test_every_field_that_differs_is_named(tmp_path):
    save_weights(model_of('CNN', nf=8, colours=24), tmp_path / 'w.pkl')
    with pytest.raises(InputError) as e:
        load_weights(model_of('UNet', nf=16, colours=24, kernel=5), tmp_path / 'w.pkl')
    assert e.value.fields == ('name', 'kernel', 'filters')


@needs_shared
def test_assignment_checkpoint_mismatches(assignment_weights, shared_dir):
    weights = shared_dir / 'reference' / 'assignment_weights'
    assignment_weights('UNet', 32)  # skips if absent
    load_weights(model_of('UNet', nf=32), weights / 'unet_k3_f32.pkl')  # CUDA-saved, loads on CPU
    for model, path, fields in [(model_of('UNet', nf=32), 'cnn_k3_f32.pkl', ('name',)),
                                (model_of('UNet', nf=32), 'unet_k3_f16.pkl', ('filters',)),
                                (model_of('UNet', nf=32, colours=16), 'unet_k3_f32.pkl', ('out_channels',))]:
        with pytest.raises(InputError) as e:
            load_weights(model, weights / path)
        assert one_line_error(e, 'checkpoint but').startswith(str(weights / path))
        assert e.value.fields == fields


class WritesAFile:
    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, 'w'))


class RunsAShellCommand:
    def __init__(self, path):
        self.command = f'touch {path}'

    def __reduce__(self):
        return (os.system, (self.command,))


@pytest.mark.parametrize('payload', [WritesAFile, RunsAShellCommand])
@pytest.mark.parametrize('writer', ['torch.save', 'pickle.dump'])
def test_malicious_pickle_is_refused(tmp_path, payload, writer):
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pkl'
    state = {'finalconv.bias': torch.zeros(24), 'finalconv.weight': payload(marker)}
    if writer == 'torch.save':
        torch.save(state, path)
    else:
        with open(path, 'wb') as f:
            pickle.dump(state, f, protocol=2)
    with pytest.raises(InputError) as e:
        load_weights(model_of('CNN'), path)
    one_line_error(e, 'cannot read', str(path))
    assert not marker.exists()

# -----------------------------------------------------------------------------
# resumable training states


def test_resumable_state_round_trips_with_weights_only(tmp_path):
    model = trained_like('CNN', nf=4)
    optimizer = torch.optim.AdamW(model.parameters())
    model(torch.rand(2, 1, 32, 32)).sum().backward()
    optimizer.step()
    scheduler = torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0)
    state = {'model': model.state_dict(), 'optimizer': optimizer.state_dict(), 'scheduler': scheduler.state_dict(),
             'epoch': 3, 'position': None,
             'rng': {'train': torch.Generator().manual_seed(5).get_state(), 'torch': torch.get_rng_state()},
             'history': [{'epoch': 1, 'val_acc': None, 'train_loss': 0.5}],
             'run': {'epochs': 5, 'name': 'CNN', 'target.kind': 'ColourClasses', 'target.rebalance': None}}
    path = tmp_path / 'resume.pt'
    save_resumable(state, path)
    back = read_resumable(path)
    assert back['epoch'] == 3 and back['history'] == state['history'] and back['position'] is None
    assert back['run'] == {**state['run'], 'target.kind': 'classes'}  # a run saved with the class's name, in today's
    assert back['scheduler'] == state['scheduler']
    assert torch.equal(back['rng']['train'], state['rng']['train'])
    assert all(torch.equal(back['model'][k], v) for k, v in state['model'].items())
    assert back['optimizer']['param_groups'] == state['optimizer']['param_groups']
    assert [p.name for p in tmp_path.iterdir()] == ['resume.pt']  # no temp file left


def test_read_resumable_refuses_weights_and_garbage(tmp_path):
    save_weights(trained_like('CNN', nf=4), tmp_path / 'weights.pkl')
    (tmp_path / 'junk.pt').write_bytes(b'no checkpoint here' * 20)
    with pytest.raises(InputError) as excinfo:
        read_resumable(tmp_path / 'weights.pkl')
    one_line_error(excinfo, 'weights.pkl', 'training state')  # 'not a' or 'an incomplete' one
    with pytest.raises(InputError) as excinfo:
        read_resumable(tmp_path / 'junk.pt')
    one_line_error(excinfo, 'junk.pt', 'cannot read')
    with pytest.raises(InputError) as excinfo:
        read_resumable(tmp_path / 'missing.pt')
    one_line_error(excinfo, 'no such file', 'missing.pt')


def test_read_resumable_refuses_an_incomplete_state(tmp_path):
    model = trained_like('CNN', nf=4)
    state = {'model': model.state_dict(), 'optimizer': torch.optim.AdamW(model.parameters()).state_dict(),
             'epoch': 1, 'position': None, 'history': []}
    save_resumable(state, tmp_path / 'old.pt')
    with pytest.raises(InputError) as excinfo:
        read_resumable(tmp_path / 'old.pt')
    one_line_error(excinfo, 'old.pt', 'incomplete training state', 'scheduler', 'rng', 'run')


def test_read_resumable_refuses_non_finite_weights(tmp_path):
    model = trained_like('CNN', nf=4)
    weights = model.state_dict()
    weights['finalconv.bias'][0] = float('nan')
    state = {'model': weights, 'optimizer': {}, 'scheduler': {}, 'rng': {}, 'epoch': 1, 'position': None,
             'history': [], 'run': {}}
    save_resumable(state, tmp_path / 'nan.pt')
    with pytest.raises(InputError) as excinfo:
        read_resumable(tmp_path / 'nan.pt')
    one_line_error(excinfo, 'nan.pt', 'non-finite weights')


def test_a_palette_is_stored_with_the_weights_and_left_out_when_loading(tmp_path):
    model = trained_like('CNN', nf=4)
    centres = torch.rand(24, 3)
    save_weights(model, tmp_path / 'w.pkl', {'colours.centres': centres})
    assert torch.equal(read_palette(tmp_path / 'w.pkl')['colours.centres'], centres)
    loaded = load_weights(build_model(ModelConfig('CNN', 3, 4, 24)), tmp_path / 'w.pkl')
    assert all(torch.equal(loaded.state_dict()[k], v) for k, v in read_weights(tmp_path / 'w.pkl').items()
               if not k.startswith('colours.'))
    save_weights(model, tmp_path / 'plain.pkl')
    assert read_palette(tmp_path / 'plain.pkl') == {}
    save_weights(model, tmp_path / 'odd.pkl', {'colours.centres': torch.rand(24, 2)})
    with pytest.raises(InputError) as excinfo:
        read_palette(tmp_path / 'odd.pkl')
    one_line_error(excinfo, 'odd.pkl', 'palette', '(24, 2)')


def test_a_fifo_is_not_a_regular_file(tmp_path):
    os.mkfifo(tmp_path / 'fifo')
    with pytest.raises(InputError) as excinfo:
        read_weights(tmp_path / 'fifo')  # at once: reading it would wait for a writer forever
    one_line_error(excinfo, 'fifo', 'not a regular file')


# -----------------------------------------------------------------------------
# weights that say what they hold


def test_weights_say_their_model_and_target_and_the_strict_loader_still_loads_them(tmp_path, centres):
    from colorlib.checkpoints import read_about
    from colorlib.models import DUNet
    from colorlib.targets import ColourClasses
    model = trained_like('DUNet')
    save_weights(model, tmp_path / 'w.pkl', target=ColourClasses(centres, 'colour'))
    about = read_about(tmp_path / 'w.pkl')
    assert about['model'] == model.config and about['target']['kind'] == 'classes'
    assert about['target']['palette'] == ColourClasses(centres).describe()['colours']
    fresh = DUNet(3, 8, 24)  # the assignment's own way: model.load_state_dict(torch.load(path)), strict
    fresh.load_state_dict(torch.load(tmp_path / 'w.pkl'))
    loaded, saved = fresh.state_dict(), model.state_dict()
    assert all(torch.equal(loaded[k], saved[k]) for k in saved if not k.endswith('num_batches_tracked'))


def test_a_dunet_file_says_it_is_one_where_shapes_cannot(tmp_path):
    save_weights(model_of('DUNet'), tmp_path / 'w.pkl')
    with pytest.raises(InputError) as e:
        load_weights(model_of('UNet'), tmp_path / 'w.pkl')
    one_line_error(e, 'holds a DUNet (k=3, f=8, 24 colours)')
    assert e.value.fields == ('name',)


@needs_shared
def test_the_assignments_files_say_nothing_and_load_by_their_shapes(assignment_weights):
    from colorlib.checkpoints import read_about, summarize
    from conftest import assignment_weights_path
    path = assignment_weights_path('UNet', 16)
    assert read_about(path) == {}
    assert summarize(read_weights(path))['name'] == ('UNet', 'DUNet')
    load_weights(model_of('DUNet', 16), path)


def test_notes_of_the_wrong_form_or_an_edited_kind_are_said_as_such(tmp_path):
    """_metadata a list or a string, the colorlib entry not a dict, a kind the network's outputs deny: each a one-line
    InputError naming the weights, never an AttributeError or 'trained on other colours'."""
    import colorlib
    from colorlib import shipped
    original = torch.load(shipped.weights('unet_k3_f32'), weights_only=True)
    cases = {'list': ['a'], 'string': 'notes', 'entry': {'colorlib': 'x'}, 'model': {'colorlib': {'model': [1]}}}
    for name, notes in cases.items():
        state = OrderedDict(original)
        state._metadata = notes
        torch.save(state, tmp_path / f'{name}.pkl')
        with pytest.raises(InputError) as caught:
            colorlib.load(tmp_path / f'{name}.pkl')
        assert caught.value.fields == ('weights',) and '\n' not in str(caught.value), (name, caught.value)
    for kind in ('lab', 'rgb'):
        state = torch.load(shipped.weights('unet_k3_f32'), weights_only=True)
        state._metadata['colorlib']['target']['kind'] = kind
        torch.save(state, tmp_path / f'{kind}.pkl')
        with pytest.raises(InputError, match=f'learns {kind}, but its network has 24 outputs.*edited') as caught:
            colorlib.load(tmp_path / f'{kind}.pkl')
        assert 'other colours' not in str(caught.value)


def test_a_file_weights_only_refuses_is_said_in_the_unpicklers_whole_sentence(tmp_path):
    import fractions
    torch.save({'a': fractions.Fraction(1, 3)}, tmp_path / 'code.pkl')
    with pytest.raises(InputError) as caught:
        read_weights(tmp_path / 'code.pkl')
    message = str(caught.value)
    assert 'GLOBAL fractions.Fraction was not an allowed global by default.' in message and '\n' not in message
    assert 'weights_only=False' not in message and 'never runs code' in message  # no advice to load it unsafely


def test_weights_and_runs_written_before_say_colours_for_the_output_count_and_are_read_in_todays_words(tmp_path):
    """The count of output channels is 'out_channels' in what is written now; files written before said 'colours'
    (the shipped weights among them), and read the same."""
    from colorlib import shipped
    from colorlib.checkpoints import current_words, read_about
    shipped_notes = torch.load(shipped.weights('unet_k3_f32'), weights_only=True)._metadata['colorlib']['model']
    assert shipped_notes['colours'] == 24 and 'out_channels' not in shipped_notes  # written before the rename
    assert read_about(shipped.weights('unet_k3_f32'))['model'] == ModelConfig('UNet', 3, 32, out_channels=24)
    save_weights(model_of('UNet', nf=4, colours=10), tmp_path / 'new.pkl')
    notes = torch.load(tmp_path / 'new.pkl', weights_only=True)._metadata['colorlib']['model']
    assert notes['out_channels'] == 10 and 'colours' not in notes
    old_run = {'colours': 24, 'target.colours': 'ab12', 'target.kind': 'ColourClasses', 'epochs': 3}
    assert current_words(old_run) == {'out_channels': 24, 'target.colours': 'ab12', 'target.kind': 'classes',
                                      'epochs': 3}
