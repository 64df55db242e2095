"""Tests for scripts/experiments/summarize.py: the table and plot written from the runs' metrics.jsonl files."""
import json
import subprocess
import sys
from pathlib import Path

SUMMARIZE = Path(__file__).resolve().parents[1] / 'scripts' / 'experiments' / 'summarize.py'


def write_run(root, name, losses, accs):
    run_dir = root / 'docs' / 'experiments' / 'demo'
    run_dir.mkdir(parents=True, exist_ok=True)
    rows = [{'epoch': i, 'train_loss': loss + 0.1, 'val_loss': loss, 'val_acc': acc, 'seconds': 2.0 * i}
            for i, (loss, acc) in enumerate(zip(losses, accs), 1)]
    (run_dir / f'{name}.jsonl').write_text(''.join(json.dumps(row) + '\n' for row in rows))
    (run_dir / f'{name}.cmd').write_text(f'python colorization.py --setting {name}\n')


def test_summary_table_lists_finished_runs_in_the_given_order(tmp_path):
    write_run(tmp_path, 'unet_b10', [1.9, 1.5], [30.0, 41.25])
    write_run(tmp_path, 'regression_e2', [0.02, 0.015], [None, None])
    proc = subprocess.run([sys.executable, str(SUMMARIZE), 'demo', 'unet_b10', 'absent', 'regression_e2'],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert '2 of 3 settings' in proc.stdout
    table = (tmp_path / 'docs' / 'experiments' / 'demo.md').read_text().splitlines()
    rows = [line for line in table if line.startswith('| ') and not line.startswith('| setting')]
    assert rows == ['| unet_b10 | 2 | 1.6000 | 1.5000 | 41.2% | 4 | `python colorization.py --setting unet_b10` |',
                    '| regression_e2 | 2 | 0.1150 | 0.0150 |  | 4 | `python colorization.py --setting regression_e2` |']
    assert (tmp_path / 'docs' / 'experiments' / 'demo.png').read_bytes()[:4] == b'\x89PNG'


def test_summary_without_finished_runs_fails_clearly(tmp_path):
    proc = subprocess.run([sys.executable, str(SUMMARIZE), 'demo', 'absent'], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode != 0 and 'no finished runs' in proc.stderr
