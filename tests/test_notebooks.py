"""The notebooks in notebooks/ run top to bottom (COLORLIB_QUICK=1: a few images, one epoch) in a fresh kernel,
from an empty folder, with the colorlib this process imports (the installed one), calling the library only; and they
are stored without outputs."""
import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / 'notebooks').glob('*.ipynb'))


def test_both_notebooks_are_there_and_stored_clean():
    assert [p.name for p in NOTEBOOKS] == ['colour_regression.ipynb', 'colourization.ipynb']
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text())['cells']
        code = [''.join(c['source']) for c in cells if c['cell_type'] == 'code']
        assert all(not c['outputs'] and c['execution_count'] is None for c in cells if c['cell_type'] == 'code')
        assert not [line for cell in code for line in cell.splitlines() if line.lstrip().startswith(('!', '%'))]
        assert not any('subprocess' in cell or 'colorlib.cli' in cell for cell in code)


@pytest.mark.parametrize('path', NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path, tmp_path, monkeypatch):
    nbclient, nbformat = pytest.importorskip('nbclient'), pytest.importorskip('nbformat')
    pytest.importorskip('ipykernel')
    monkeypatch.setenv('COLORLIB_QUICK', '1')
    notebook = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(notebook, timeout=600, kernel_name='python3',
                            resources={'metadata': {'path': str(tmp_path)}}).execute()
    assert list(tmp_path.iterdir()) == []  # nothing written: the library writes only where asked
    shown = [o for cell in notebook.cells if cell.cell_type == 'code' for o in cell.outputs]
    assert sum('image/png' in o.get('data', {}) for o in shown) >= 4  # pictures and curves inline
    assert not [o for o in shown if o.output_type == 'error']


@pytest.mark.parametrize('value, quick', [('1', True), ('true', True), ('True', True), ('YES', True), ('on', True),
                                          (' yes ', True), ('0', False), ('no', False), ('', False), (None, False)])
def test_the_quick_switch_takes_the_usual_spellings_of_true(value, quick, monkeypatch):
    """COLORLIB_QUICK=yes must not run the whole handout silently: each notebook's own line decides."""
    import json
    import os
    for notebook in sorted(Path(__file__).resolve().parents[1].glob('notebooks/*.ipynb')):
        lines = [line for cell in json.loads(notebook.read_text())['cells'] for line in cell['source']
                 if line.startswith('QUICK =')]
        assert len(lines) == 1, notebook
        if value is None:
            monkeypatch.delenv('COLORLIB_QUICK', raising=False)
        else:
            monkeypatch.setenv('COLORLIB_QUICK', value)
        scope = {'os': os}
        exec(lines[0], scope)
        assert scope['QUICK'] is quick, (notebook, value)
