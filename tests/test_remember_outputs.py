"""Nothing changes for the user but the disagreements fixed on purpose: the commands of tests/remember_outputs.py
(training, --valid, --init, --resume after a stop, torchrun with 2 processes, colorize, activations, the remakers
and about 60 refusals) give the same exit status, the same words and, on the machine the record was taken on, the
same files as before the command line was rebuilt on the library (tests/records/outputs_before.json)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import remember_outputs

BEFORE = Path(__file__).parent / 'records' / 'outputs_before.json'

# what changed on purpose, step by step (issue 30): each entry says why
CHANGED = {}


def test_the_commands_say_and_write_what_they_did_before(tmp_path):
    now = tmp_path / 'now.json'
    env = {**os.environ, 'PYTHONPATH': str(remember_outputs.REPO)}
    done = subprocess.run([sys.executable, remember_outputs.__file__, 'run', str(now)], env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    before, now = json.loads(BEFORE.read_text()), json.loads(now.read_text())
    found = [line for line in remember_outputs.differences(before, now) if line.split(':')[0] not in CHANGED]
    assert not found, '\n'.join(found)
    for step in CHANGED:  # a change listed is a change made
        assert any(line.startswith(f'{step}:') for line in remember_outputs.differences(before, now)), step


def test_the_record_covers_every_command_and_refusals():
    steps = json.loads(BEFORE.read_text())['steps']
    commands = {s['argv'][0] for s in steps.values()}
    assert {'colorization', 'color_regression', 'colorize', 'activations', 'colours', 'bins'} <= commands
    refusals = [s for name, s in steps.items() if name.startswith('refuse_') and s['status'] == 2]
    assert len(refusals) >= 50 and all(not s['files'] and len(s['stderr']) == 1 for s in refusals)
    assert steps['stopped']['status'] == 128 + 15 and steps['resume']['status'] == 0
    assert steps['torchrun']['files']  # two processes wrote one run
