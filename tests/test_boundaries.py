"""The package's boundaries: no two modules import each other, even by way of others or inside functions; the
library never imports the command line; and what a model is lives in colorlib.models."""
import ast
from pathlib import Path

import colorlib
from colorlib.models import MODELS
from colorlib.naming import run_name
from colorlib.targets import TargetConfig

PACKAGE = Path(colorlib.__file__).resolve().parent


def imports():
    """{module: the colorlib modules it imports anywhere in its text}."""
    graph = {}
    for path in PACKAGE.rglob('*.py'):
        name = '.'.join(('colorlib', *path.relative_to(PACKAGE).with_suffix('').parts)).removesuffix('.__init__')
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith('colorlib'):
                found.add(node.module)
                found.update(f'{node.module}.{a.name}' for a in node.names)  # from colorlib import api
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith('colorlib'))
        graph[name] = found
    return {name: {m for m in found if m in graph and m != name} for name, found in graph.items()}


def test_no_import_cycle():
    graph = imports()
    done, path = set(), []

    def visit(module):
        if module in path:
            raise AssertionError('import cycle: ' + ' -> '.join(path[path.index(module):] + [module]))
        if module in done:
            return
        path.append(module)
        for other in sorted(graph[module]):
            visit(other)
        path.pop()
        done.add(module)
    for module in sorted(graph):
        visit(module)


def test_the_library_does_not_import_the_command_line():
    graph = imports()
    assert not [m for m, found in graph.items() if not m.startswith('colorlib.cli') and
                any(f.startswith('colorlib.cli') for f in found) and m != 'colorlib.__main__']


def test_a_model_says_its_name_and_the_kind_it_predicts():
    """What the rest of colorlib asks of a network is on its class: nothing outside models.py lists the models."""
    for name, network in MODELS.items():
        assert network.stem and network.predicts in (None, 'rgb', 'classes', 'lab')
        kind = network.predicts or 'classes'
        assert run_name(name, TargetConfig(kind=kind)) == network.stem


def test_the_top_level_verbs_are_not_shadowed_by_modules():
    """A submodule, once imported, is an attribute of the package: no verb may share a module's name."""
    import importlib
    import types
    for path in PACKAGE.glob('*.py'):
        if path.stem not in ('__init__', '__main__'):  # __main__ runs the command line
            importlib.import_module(f'colorlib.{path.stem}')
    for name in colorlib.__all__:
        assert not isinstance(getattr(colorlib, name), types.ModuleType), name
