"""The benchmarks' page writer keeps one row per kind of machine: a new figure replaces that machine's row only."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'bench'))

from train_speed import write_machine_row, write_section  # noqa: E402

INTRO = ['How it was measured.', '']
HEADER = ['| machine | date, runs, load | figure |', '|---|---|---|']


def test_each_machine_keeps_its_own_row(tmp_path):
    page = tmp_path / 'performance.md'
    page.write_text('# Performance\n\nProse before.\n')
    amd, intel = 'AMD EPYC, 2 cores: no bfloat16 arithmetic', 'Intel Xeon, 2 cores: bfloat16 arithmetic (AVX512-BF16)'
    write_machine_row(page, 'speed', INTRO, HEADER, amd, 3, 1.0, ['7.1x'])
    write_machine_row(page, 'speed', INTRO, HEADER, intel, 3, 1.0, ['13x'])
    write_machine_row(page, 'speed', INTRO, HEADER, amd, 3, 1.0, ['8.4x'])
    text = page.read_text()
    assert text.startswith('# Performance\n\nProse before.\n')
    block = text[text.index('<!-- bench:speed -->'):text.index('<!-- /bench:speed -->')].splitlines()
    assert block[1:5] == [*INTRO, *HEADER] and len(block) == 7
    assert block[5].startswith(f'| {intel} | ') and block[5].endswith(' | 13x |')
    assert block[6].startswith(f'| {amd} | ') and block[6].endswith(' | 8.4x |')


def test_each_machine_keeps_its_own_table_beside_the_others_of_its_device(tmp_path):
    page = tmp_path / 'performance.md'
    page.write_text('# Performance\n\n<!-- bench:cpu -->\nold\n<!-- /bench:cpu -->\n\n## Later prose\n')
    write_section(page, 'cpu AMD EPYC', ['amd 1'], near='cpu')
    write_section(page, 'cpu Intel Xeon', ['intel'], near='cpu')
    write_section(page, 'cpu AMD EPYC', ['amd 2'], near='cpu')
    write_section(page, 'cuda H200', ['gpu'], near='cuda')
    assert page.read_text() == ('# Performance\n\n<!-- bench:cpu -->\nold\n<!-- /bench:cpu -->\n\n'
                                '<!-- bench:cpu AMD EPYC -->\namd 2\n<!-- /bench:cpu AMD EPYC -->\n\n'
                                '<!-- bench:cpu Intel Xeon -->\nintel\n<!-- /bench:cpu Intel Xeon -->\n\n'
                                '## Later prose\n\n<!-- bench:cuda H200 -->\ngpu\n<!-- /bench:cuda H200 -->\n')


def test_the_assignment_loop_writes_nothing_where_it_runs(tmp_path):
    """Its weights.pkl and training_curve.png go to a folder of its own (it once replaced those of the current one)."""
    import subprocess
    (tmp_path / 'weights.pkl').write_bytes(b'mine')
    script = Path(__file__).resolve().parents[1] / 'bench' / 'time_to_quality.py'
    proc = subprocess.run([sys.executable, str(script), '--assignment-loop', '--epochs', '0'], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ['weights.pkl'] and (tmp_path / 'weights.pkl').read_bytes() \
        == b'mine'
