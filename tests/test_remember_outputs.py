"""Nothing changes for the user but the disagreements fixed on purpose: the commands of tests/remember_outputs.py
(training, --valid, --init, --resume after a stop, torchrun with 2 processes, colorize, activations, the remakers
and about 70 refusals) give the same exit status, the same words and, on the machine the record was taken on, the
same files as before the command line was rebuilt on the library (tests/records/outputs_before.json)."""
import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import remember_outputs

from colorlib.checkpoints import current_words, model_in_current_words

BEFORE = Path(__file__).parent / 'records' / 'outputs_before.json'

# what changed on purpose (issue 30, and issue 31 merged beside it), step by step; each says why
PARSE_ONLY = 'the flag only parses; the library refuses the value, in its words, led by the flag'
CHANGED = {
    # the command refused values the library trains with: it now takes them, as colorlib.fit does
    'refuse_ema_high': '--ema 0.999999 trains (the command capped it at 0.99999; TrainConfig takes [0, 1))',
    'refuse_label_smoothing_high': '--label-smoothing 0.995 trains (capped at 0.99; TrainConfig takes [0, 1))',
    'refuse_learn_rate_zero': '-l 0 trains, only BatchNorm statistics moving (TrainConfig allows it)',
    # the bounds are the library's: the same answer as from Python, with the flag's name
    **{f'refuse_{name}': PARSE_ONLY for name in (
        'ema_one', 'label_smoothing_one', 'filters_zero', 'kernel_even', 'kernel_zero', 'epochs_zero', 'batch_zero',
        'learn_rate_negative', 'learn_rate_nan', 'seed_negative', 'seed_huge', 'warmup_negative', 'weight_decay_inf',
        'dilation_negative', 'save_every_zero', 'rebalance_high', 'temperature_negative', 'kernel_even_valid',
        'filters_zero_valid', 'temperature_nan_valid', 'batch_zero_valid', 'seed_huge_valid', 'image_size_small',
        'val_share_high', 'colorize_tile', 'colorize_net_size', 'colours_k')},
    'refuse_filters_word': '-f also takes --filters, the keyword, so argparse lists it',
    # this turn's new commands and films (issues 32, 33)
    'refuse_colorize_nothing': 'colorize takes films too: "no image files or films in"',
    'refuse_unknown_command': 'the command list names serve and export',
    # issue 31's memory rule: in the action's words, and --valid says no file has those sizes
    'refuse_filters_too_many': "the memory rule's words (issue 31)",
    'refuse_dilation_too_wide': "the memory rule's words (issue 31)",
    'refuse_valid_corrupt': "torch's unpickler text said whole (issue 31)",
    # issue 30's one road: the rule is the library's (colorlib.gallery.all_activations), refused alike from Python
    'refuse_activations_all_empty': 'the library\'s words, led by the flag: "no weights for every shipped model in"',
    # issue 30's one road, the commands' own calls (colorlib.activations): --all's rules are the library's
    'refuse_activations_all_checkpoint': 'the library\'s words, led by the flag: "--checkpoint: every kind is drawn '
                                         'from its own file in weights_dir, ...: check --all"',
    'refuse_activations_weights_dir': 'the library\'s words, led by the flag: "--weights-dir: weights_dir is read only '
                                      'when every kind is drawn; it needs --all"',
}
RUN_SAID = 'Trained with '  # --valid's new line: how the weights were trained, where they say it


def as_before(record):
    """A record without what every run now adds on purpose: the run's description in its weights ('run' in their
    notes, so their bytes differ) and the version in resume.pt's, and --valid's line that prints it; resume.pt's
    run and the weights' model in today's words (the target kind by its word, 'classes', as the weights say it, not
    its class's name; the model's output channels 'out_channels', not 'colours', a word the colour file keeps)."""
    record = copy.deepcopy(record)
    for step in record['steps'].values():
        step['stdout'] = [line for line in step['stdout'] if not line.startswith(RUN_SAID)]
        for path, parts in step['files'].items():
            if path.endswith('.pkl'):
                parts.pop('bytes')
                if parts.get('about'):
                    parts['about'].pop('run', None)
                    if 'model' in parts['about']:
                        parts['about']['model'] = model_in_current_words(parts['about']['model'])
            if path.endswith('resume.pt'):
                parts['run'] = current_words(parts['run'])
                parts['run'].pop('colorlib', None)
    return record


@pytest.fixture(scope='module')
def records(tmp_path_factory):
    now = tmp_path_factory.mktemp('record') / 'now.json'
    env = {**os.environ, 'PYTHONPATH': str(remember_outputs.REPO)}
    done = subprocess.run([sys.executable, remember_outputs.__file__, 'run', str(now)], env=env, capture_output=True,
                          text=True, timeout=1500)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(BEFORE.read_text()), json.loads(now.read_text())


def test_the_commands_say_and_write_what_they_did_before(records):
    before, now = records
    found = remember_outputs.differences(as_before(before), as_before(now))
    unexpected = [line for line in found if line.split(':')[0] not in CHANGED]
    assert not unexpected, '\n'.join(unexpected)
    for step in CHANGED:  # a change listed is a change made
        assert any(line.startswith(f'{step}:') for line in found), step


def test_the_changes_made_on_purpose_are_those_said(records):
    before, now = records
    steps = now['steps']
    for name in ('refuse_ema_high', 'refuse_label_smoothing_high', 'refuse_learn_rate_zero'):
        assert steps[name]['status'] == 0 and steps[name]['files'], name
    for name, why in CHANGED.items():
        if why == PARSE_ONLY:
            line, = steps[name]['stderr']
            assert steps[name]['status'] == 2 and 'argument ' not in line and not steps[name]['files'], line
    weights = {path: parts for step in steps.values() for path, parts in step['files'].items()
               if path.endswith('.pkl')}
    assert all(parts['about']['run']['colorlib'] for parts in weights.values())  # every run's weights say it
    valid = steps['valid_own']['stdout']
    assert any(line.startswith(RUN_SAID) and '-e 1' in line and '40 images' in line for line in valid), valid


def test_the_record_covers_every_command_and_refusals():
    steps = json.loads(BEFORE.read_text())['steps']
    commands = {s['argv'][0] for s in steps.values()}
    assert {'colorization', 'color_regression', 'colorize', 'activations', 'colours', 'bins'} <= commands
    refusals = [s for name, s in steps.items() if name.startswith('refuse_') and s['status'] == 2]
    assert len(refusals) >= 60 and all(not s['files'] and len(s['stderr']) == 1 for s in refusals)
    assert steps['stopped']['status'] == 128 + 15 and steps['resume']['status'] == 0
    assert steps['torchrun']['files']  # two processes wrote one run
