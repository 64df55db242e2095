"""The benchmarks' page writer keeps one row per kind of machine: a new figure replaces that machine's row only."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'bench'))

from train_speed import write_machine_row  # noqa: E402

INTRO = ['How it was measured.', '']
HEADER = ['| machine | figure |', '|---|---|']


def test_each_machine_keeps_its_own_row(tmp_path):
    page = tmp_path / 'performance.md'
    page.write_text('# Performance\n\nProse before.\n')
    write_machine_row(page, 'speed', INTRO, HEADER, '| AMD EPYC, 2 cores: no bfloat16 arithmetic | 7.1x |')
    write_machine_row(page, 'speed', INTRO, HEADER, '| Intel Xeon, 2 cores: bfloat16 arithmetic (AVX512-BF16) | 13x |')
    write_machine_row(page, 'speed', INTRO, HEADER, '| AMD EPYC, 2 cores: no bfloat16 arithmetic | 8.4x |')
    text = page.read_text()
    assert text.startswith('# Performance\n\nProse before.\n')
    block = text[text.index('<!-- bench:speed -->'):text.index('<!-- /bench:speed -->')].splitlines()
    assert block[1:] == [*INTRO, *HEADER, '| Intel Xeon, 2 cores: bfloat16 arithmetic (AVX512-BF16) | 13x |',
                         '| AMD EPYC, 2 cores: no bfloat16 arithmetic | 8.4x |']
