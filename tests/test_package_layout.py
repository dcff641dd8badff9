"""The package's shape: what is in it, and which way its imports run.

The imports are read from the source (``ast``), every ``import`` statement wherever it stands
(function-level imports included), so a lazy import that hides a circle from Python at run time
is still a circle here.
"""
import ast
import os
import os.path as osp

import pytest

PACKAGE = 'mmseg_distill'
ROOT = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), PACKAGE)

# foundations up: a module may import its own layer and the layers below it, never above
LAYERS = (
    ('version', 'compat', 'registry', 'utils'),
    ('models', 'datasets'),
    ('engine', ),
    ('methods', ),
    ('pairing', 'evidence'),
    ('cli', '__init__'),
)


def module_name(path: str) -> str:
    rel = osp.relpath(path, osp.dirname(ROOT))[:-len('.py')].split(os.sep)
    return '.'.join(rel[:-1] if rel[-1] == '__init__' else rel)


def package_modules() -> dict:
    """{module name: file path} of every .py file of the package."""
    found = {}
    for folder, _, files in os.walk(ROOT):
        for name in files:
            if name.endswith('.py'):
                path = osp.join(folder, name)
                found[module_name(path)] = path
    return found


def imported_modules(name: str, path: str, modules: dict) -> set:
    """The package modules ``name`` imports anywhere in its file."""
    is_package = path.endswith('__init__.py')
    tree = ast.parse(open(path).read(), path)
    targets = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split('.')
                base = base[:len(base) - node.level + (1 if is_package else 0)]
                stem = '.'.join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ''
            for alias in node.names:
                # `from pkg import sub` imports the submodule where there is one
                sub = f'{stem}.{alias.name}'
                targets.add(sub if sub in modules else stem)
    found = set()
    for target in targets:
        # `import a.b.c` of the package: the deepest module of it that exists
        parts = target.split('.')
        while parts and '.'.join(parts) not in modules:
            parts.pop()
        if parts and parts[0] == PACKAGE and '.'.join(parts) != name:
            found.add('.'.join(parts))
    return found


def import_graph() -> dict:
    modules = package_modules()
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


def circles(graph: dict) -> list:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, result = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return result


def layer_of(name: str) -> int:
    parts = name.split('.')
    top = parts[1] if len(parts) > 1 else '__init__'
    for level, members in enumerate(LAYERS):
        if top in members:
            return level
    raise AssertionError(f'{name}: no layer of LAYERS holds {top!r}; place it in the order')


def test_the_circle_finder_finds_a_lazy_import_circle(tmp_path):
    graph = {'a': {'b'}, 'b': {'c'}, 'c': {'a'}, 'd': {'a'}}
    assert circles(graph) == [['a', 'b', 'c']]
    assert circles({'a': {'b'}, 'b': set()}) == []
    # a function-level import counts: read by the same parser the package is read with
    pkg = tmp_path / PACKAGE
    pkg.mkdir()
    (pkg / '__init__.py').write_text('')
    (pkg / 'one.py').write_text('def f():\n    from .two import g\n    return g\n')
    (pkg / 'two.py').write_text('from . import one\n')
    modules = {'mmseg_distill': str(pkg / '__init__.py'), 'mmseg_distill.one': str(pkg / 'one.py'),
               'mmseg_distill.two': str(pkg / 'two.py')}
    graph = {name: imported_modules(name, path, modules) for name, path in modules.items()}
    assert circles(graph) == [['mmseg_distill.one', 'mmseg_distill.two']]


def test_no_module_of_the_package_is_in_an_import_circle():
    graph = import_graph()
    assert len(graph) > 40 and graph['mmseg_distill.pairing.leaves']  # the walk read the package
    assert circles(graph) == []


def test_imports_run_from_the_foundations_up():
    wrong = [f'{name} (layer {layer_of(name)}) imports {target} (layer {layer_of(target)})'
             for name, targets in import_graph().items() for target in sorted(targets)
             if layer_of(target) > layer_of(name)]
    assert wrong == [], 'layers, lowest first: ' + ' -> '.join('/'.join(m) for m in LAYERS)


@pytest.mark.parametrize('folder', ['experiments', 'benchmarking', 'testing'])
def test_the_projects_lab_is_not_in_the_package(folder):
    assert not osp.exists(osp.join(ROOT, folder))


def test_nothing_in_the_package_finds_or_reads_the_checkout():
    # a wheel installs the package alone: a path computed up from the package's own file
    # (configs/, docs/, tools/ beside it) exists only in a clone
    readers = []
    for name, path in package_modules().items():
        text = open(path).read()
        if 'dirname(osp.dirname(' in text or "'docs'" in text or '"docs"' in text:
            readers.append(name)
    assert readers == []


def test_no_package_file_is_longer_than_400_lines_without_saying_why():
    long = []
    for name, path in package_modules().items():
        lines = open(path).read().splitlines()
        docstring = ast.get_docstring(ast.parse('\n'.join(lines))) or ''
        if len(lines) > 400 and 'Long because' not in docstring:
            long.append(f'{name} ({len(lines)} lines)')
    assert long == []
