"""The `colorlib COMMAND` dispatcher (colorlib.cli.main) and python -m colorlib."""
import subprocess
import sys

import pytest

import colorlib
from colorlib.cli import COMMANDS, main


def run_main(argv, capsys):
    """(exit status, stdout, stderr) of main(argv)."""
    try:
        main(argv)
        code = 0
    except SystemExit as stop:
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys):
    code, out, err = run_main(['--version'], capsys)
    assert code == 0 and err == ''
    assert out == f'colorlib {colorlib.__version__}\n' == 'colorlib 0.1.0\n'


def test_no_command_prints_usage_on_stderr(capsys):
    code, out, err = run_main([], capsys)
    assert code == 2 and out == ''
    assert err.startswith('usage: colorlib')
    assert all(f'  {name} ' in err for name in COMMANDS)


def test_help_prints_usage(capsys):
    code, out, _ = run_main(['--help'], capsys)
    assert code == 0 and out.startswith('usage: colorlib')


def test_unknown_command(capsys):
    code, out, err = run_main(['colourise', 'x.png'], capsys)
    assert code == 2 and out == ''
    assert err.startswith("colorlib: error: unknown command 'colourise'") and err.count('\n') == 1
    assert all(name in err for name in COMMANDS)


@pytest.mark.parametrize('command', list(COMMANDS))
def test_command_help(command, capsys):
    code, out, _ = run_main([command, '--help'], capsys)
    assert code == 0
    assert out.startswith(f'usage: colorlib {command} ')


def test_bad_flag_names_the_command(capsys):
    code, out, err = run_main(['colorization', '--bad-flag'], capsys)
    assert code == 2 and out == ''
    assert err.startswith('colorlib colorization: error:') and '--bad-flag' in err and err.count('\n') == 1


def test_python_m_colorlib_version(tmp_path):
    proc = subprocess.run([sys.executable, '-m', 'colorlib', '--version'], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f'colorlib {colorlib.__version__}\n'


@pytest.mark.parametrize('env, argv', [
    ({'MPLBACKEND': 'bogus'}, ['activations', '0']),
    ({'MPLBACKEND': 'bogus'}, ['colorization', '--model', 'UNet', '--valid']),
    ({'MPLCONFIGDIR': '/proc/no/such/folder'}, ['activations', '0']),
    ({'PYTHONIOENCODING': 'ascii'}, ['colorize', 'in.png', '-o', 'sortie-\u00e9t\u00e9']),
], ids=['bad-backend-activations', 'bad-backend-valid', 'config-folder-missing',
        'ascii-output-non-ascii-folder'])
def test_a_command_survives_its_environment(env, argv, tmp_path):
    """What the environment says that matplotlib or the terminal cannot take: the command works, silently, and
    never ends in a traceback after its work is done."""
    from pathlib import Path

    import numpy as np
    from PIL import Image
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(tmp_path / 'in.png')
    repo = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, '-m', 'colorlib', *argv], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, env={**__import__('os').environ, 'PYTHONPATH': str(repo), **env})
    assert proc.returncode == 0 and proc.stderr == '', proc.stderr[-2000:]
    assert any(tmp_path.rglob('*.png'))


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path):
    """`colorlib info | head -1`: the rest of the output has nowhere to go; no BrokenPipeError traceback."""
    from pathlib import Path
    repo = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen([sys.executable, '-m', 'colorlib', 'info', '--seconds', '0.1'], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**__import__('os').environ, 'PYTHONPATH': str(repo)})
    assert proc.stdout.readline().startswith('colorlib ')
    proc.stdout.close()
    _, err = proc.communicate(timeout=300)
    assert proc.returncode in (0, 141) and err == '', err
