"""The layers of ``theory/``: no import points up a layer, no import circle, no import through an old path.

:data:`LAYERS` lists the layers from the bottom; a module may import from its own
layer or below. Every import counts, at module level or inside a function, since a
lazy import is still a dependency. Circles are searched among the explicit imports
(an import of ``theory.a.b`` is an edge to that module, not to the package
``theory.a``, which Python executes first anyway).

The old flat layout's paths stay importable through :mod:`theory._moved`
(``test_moved_names.py``); the library itself never imports through those aliases.

Controls: a copy of ``theory/`` with an upward import added, and one with a circle
added, are each caught.
"""

from __future__ import annotations

import ast
import importlib
import shutil
from pathlib import Path


from theory._moved import MOVED_MODULES, MOVED_NAMES

THEORY = Path(importlib.import_module("theory").__file__).resolve().parent

#: The layers of ``theory/``, from the bottom. A name covers the module and, for a
#: package, everything in it; the longest matching name decides.
LAYERS = (
    ("theory", "theory._floats", "theory._validation", "theory._moved", "theory._kernel_choice"),
    ("theory.activations", "theory.geometry"),
    ("theory.network",),
    ("theory.losses",),
    ("theory.bounds",),
    ("theory._compiled_blocks",),
    ("theory._kernel",),
    ("theory._compiled_loops",),
    ("theory._compiled",),
    ("theory.problem",),
    ("theory.constrained",),
    ("theory.pgd",),
    ("theory.certificates",),
    ("theory.landscape",),
    ("theory.testing",),
    ("theory.attacks",),
    ("theory.conformance",),
    ("theory.experiments",),
    ("theory.report",),
    ("theory.__main__", "theory.checks"),
)


def layer(module):
    """The index in :data:`LAYERS` of ``module``, or None when no layer covers it."""
    best = None
    for i, names in enumerate(LAYERS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and (best is None or len(name) > best[1]):
                best = (i, len(name))
    return None if best is None else best[0]


def import_graph(root):
    """``{module: {(imported module, imported name or None, line)}}`` for every ``.py`` under ``root`` (a ``theory/``)."""
    root = Path(root)
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        package = parts[-1] == "__init__"
        if package:
            parts = parts[:-1]
        modules[".".join(parts)] = (path, package)
    graph = {}
    for name, (path, package) in modules.items():
        here = name if package else name.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                edges |= {(a.name, None, node.lineno) for a in node.names if a.name.split(".")[0] == "theory"}
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here.split(".")[: len(here.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module
                if not target or target.split(".")[0] != "theory":
                    continue
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    edges.add((sub, None, node.lineno) if sub in modules else (target, alias.name, node.lineno))
        graph[name] = edges
    return graph


def upward_imports(graph):
    """``[(module, line, imported)]``: the imports that point to a higher layer, or into no layer."""
    bad = []
    for module, edges in sorted(graph.items()):
        for target, _, line in sorted(edges, key=str):
            if layer(module) is None or layer(target) is None or layer(target) > layer(module):
                bad.append((module, line, target))
    return bad


def import_circles(graph):
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    succ = {m: sorted({t for t, _, _ in edges if t in graph and t != m}) for m, edges in graph.items()}
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in succ[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def alias_uses(graph):
    """``[(module, line, what)]``: imports inside ``theory/`` that go through an alias of :mod:`theory._moved`."""
    uses = []
    for module, edges in sorted(graph.items()):
        for target, name, line in sorted(edges, key=str):
            if target in MOVED_MODULES or (name is not None and name in MOVED_NAMES.get(target, {})):
                uses.append((module, line, target if name is None else f"{target}.{name}"))
    return uses


def check_layers(root):
    """None when ``root`` (a ``theory/`` folder) has no upward import and no circle; else what is wrong."""
    graph = import_graph(root)
    problems = [f"{m}:{line} imports {t} (a higher layer)" for m, line, t in upward_imports(graph)]
    problems += [f"import circle: {' -> '.join(c)}" for c in import_circles(graph)]
    return "; ".join(problems) or None


def test_no_import_points_up_a_layer_and_there_is_no_circle():
    assert check_layers(THEORY) is None


def test_every_module_of_theory_is_in_a_layer():
    assert [m for m in import_graph(THEORY) if layer(m) is None] == []


def test_the_library_never_imports_through_the_old_paths():
    assert alias_uses(import_graph(THEORY)) == []


def _copy(tmp_path):
    shutil.copytree(THEORY, tmp_path / "theory", ignore=shutil.ignore_patterns("__pycache__", "checks"))
    return tmp_path / "theory"


def test_control_an_upward_import_is_caught(tmp_path):
    root = _copy(tmp_path)
    geometry = root / "geometry.py"
    geometry.write_text(geometry.read_text(encoding="utf-8")
                        + "\n\ndef _late():\n    from theory.pgd import pgd\n    return pgd\n", encoding="utf-8")
    found = check_layers(root)
    assert found is not None and "theory.geometry" in found and "theory.pgd" in found


def test_control_an_import_circle_within_a_layer_is_caught(tmp_path):
    root = _copy(tmp_path)
    floats = root / "_floats.py"
    floats.write_text(floats.read_text(encoding="utf-8") + "\nimport theory._moved  # noqa\n", encoding="utf-8")
    moved = root / "_moved.py"
    moved.write_text(moved.read_text(encoding="utf-8") + "\nimport theory._floats  # noqa\n", encoding="utf-8")
    found = check_layers(root)
    assert found is not None and "import circle" in found
