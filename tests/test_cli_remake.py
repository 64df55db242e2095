"""Tests for colorlib.cli.remake: `colorlib colours` and `colorlib bins` remake the colour files from training images,
in the assignment's format, and refuse to replace a file unless told."""
import numpy as np
import pytest

from colorlib.cli import main
from colorlib.colours import load_colours
from colorlib.lab import load_bins
from conftest import call


def test_colours_fits_each_k_and_keeps_what_exists(tiny_npz, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = call(main, ['colours', '-k', '4', '8', '-o', 'made', '--data', tiny_npz], capsys)
    assert code == 0, err
    for k in (4, 8):
        centres = load_colours(tmp_path / 'made' / f'colour_kmeans{k}_cat7.npy')
        assert centres.shape == (k, 3) and (centres >= 0).all() and (centres < 1).all()
        assert f'colour_kmeans{k}_cat7.npy: {k} colours, distortion ' in out
    before = (tmp_path / 'made' / 'colour_kmeans4_cat7.npy').read_bytes()
    code, _, err = call(main, ['colours', '-k', '4', '-o', 'made', '--data', tiny_npz, '-s', '1'], capsys)
    assert code == 2 and err.count('\n') == 1 and 'exists' in err and '--overwrite' in err
    assert (tmp_path / 'made' / 'colour_kmeans4_cat7.npy').read_bytes() == before
    code, _, err = call(main, ['colours', '-k', '4', '-o', 'made', '--data', tiny_npz, '-s', '1', '--overwrite'], capsys)
    assert code == 0, err


def test_bins_finds_the_ab_cells_the_images_use(tiny_npz, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = call(main, ['bins', '-o', 'made', '--data', tiny_npz], capsys)
    assert code == 0, err
    centres, prior = load_bins(tmp_path / 'made' / 'lab_bins10_cat7.npy')
    assert centres.shape[1] == 2 and len(centres) > 10 and np.isclose(prior.sum().item(), 1, atol=1e-4)
    assert (centres.remainder(10) == 0).all()  # cells of the 10x10 grid
    code, _, err = call(main, ['bins', '-o', 'made', '--data', tiny_npz], capsys)
    assert code == 2 and 'exists' in err


def test_each_remaker_is_one_library_call_with_its_flags_as_keywords(tiny_npz, tmp_path, monkeypatch, capsys):
    import functools
    from colorlib.cli import remake
    calls = []
    keeps_defaults = functools.wraps(remake.remake_colours)  # the flags' defaults are read off its signature
    monkeypatch.setattr(remake, 'remake_colours', keeps_defaults(lambda **keywords: calls.append(keywords) or {
        tmp_path / 'c.npy': (3, 0.25)}))
    monkeypatch.setattr(remake, 'remake_bins', lambda **keywords: calls.append(keywords) or (tmp_path / 'b.npy', 7))
    code, out, err = call(main, ['colours', '-k', '3', '5', '-o', 'made', '-s', '2', '--overwrite', '--category',
                                 'horse', '--data', tiny_npz], capsys)
    assert code == 0 and out == f'{tmp_path / "c.npy"}: 3 colours, distortion 0.2500\n', err
    code, out, err = call(main, ['bins', '-o', 'made', '--data', tiny_npz], capsys)
    assert code == 0 and out.startswith(f'{tmp_path / "b.npy"}: 7 ab bins'), err
    colours, bins = calls
    assert {k: colours[k] for k in ('k', 'out_dir', 'category', 'seed', 'overwrite', 'data', 'image_size')} == dict(
        k=[3, 5], out_dir='made', category='horse', seed=2, overwrite=True, data=tiny_npz, image_size=32)
    assert {k: bins[k] for k in ('out_dir', 'category', 'overwrite', 'data')} == dict(
        out_dir='made', category='horse', overwrite=False, data=tiny_npz)


@pytest.mark.parametrize('flag, keyword, value', [('-k', 'k', 1), ('-k', 'k', -3), ('-s', 'seed', -1),
                                                  ('-s', 'seed', 2 ** 32)])
def test_a_refused_setting_gets_the_same_answer_from_the_command_and_from_python(flag, keyword, value, tiny_npz,
                                                                                 tmp_path, monkeypatch, capsys):
    """-k and -s only parse: remake_colours refuses the value, and the command says its refusal led by the flag."""
    import colorlib
    from colorlib.errors import InputError
    from colorlib.remake import remake_colours
    train_x, _ = colorlib.load_images(tiny_npz)
    with pytest.raises(InputError) as e:
        remake_colours(train_x, **{keyword: [value] if keyword == 'k' else value}, out_dir=tmp_path / 'python')
    assert e.value.fields == (keyword,)
    monkeypatch.chdir(tmp_path)
    code, out, err = call(main, ['colours', flag, str(value), '-o', 'made', '--data', tiny_npz], capsys)
    assert (code, out, err) == (2, '', f'colorlib colours: error: {flag}: {e.value}\n')
    assert not any(tmp_path.iterdir())


def test_the_colours_flags_default_to_remake_colours_own_defaults():
    import inspect
    from colorlib.cli.remake import colours_parser
    from colorlib.remake import remake_colours
    parameters = inspect.signature(remake_colours).parameters
    args = colours_parser('colorlib colours').parse_args([])
    assert (args.k, args.seed) == (parameters['k'].default, parameters['seed'].default)
