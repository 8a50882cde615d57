"""The old flat layout's paths still work (:mod:`theory._moved`).

* every public name of every module of that layout (``public_names.json``) is importable from its old
  path, and an old module path is the new module itself;
* the pieces, each called afresh (an import is cached after its first time, so the import
  checks alone see them only once per process): a new finder answers exactly the old module
  paths, its loader gives the new module and runs it as ``__main__`` for ``python -m old.path``;
  ``install`` adds one finder, however often it is called; a module's ``__getattr__`` from
  ``forward`` returns the moved object and names both the module and the name it lacks;
* ``python -m`` of an old path runs the new module's command.

Negative controls: a name that never existed is not importable; a finder that answers a path that
did not move is caught.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from theory import _moved
from theory._moved import MOVED_MODULES, MOVED_NAMES

NAMES = json.loads((Path(__file__).resolve().parents[1] / "public_names.json").read_text(encoding="utf-8"))
ROOT = Path(_moved.__file__).resolve().parents[1]


@pytest.mark.parametrize("module", sorted(NAMES))
def test_every_public_name_of_the_flat_layout_is_still_importable_from_its_old_path(module):
    old = importlib.import_module(module)
    assert [name for name in NAMES[module] if not hasattr(old, name)] == []


def test_an_old_module_path_is_the_new_module_itself():
    for old, new in MOVED_MODULES.items():
        assert importlib.import_module(old) is importlib.import_module(new)


@pytest.mark.negative_control
def test_control_a_name_that_never_existed_is_not_importable():
    with pytest.raises(AttributeError, match="certified_tau_epsilon"):
        getattr(importlib.import_module("theory.bounds"), "certified_tau_epsilon")


def check_the_finder_answers_exactly_the_old_module_paths(finder):
    for old, new in MOVED_MODULES.items():
        spec = finder.find_spec(old)
        assert spec.name == old and spec.loader.target == new
        assert spec.loader.create_module(spec) is importlib.import_module(new)
        code = spec.loader.get_code(old)  # what python -m old.path runs: runpy.run_module(new, run_name="__main__")
        assert {new, "__main__"} <= set(code.co_consts) and "run_module" in code.co_names
    for other in ("theory.bounds", "theory.landscape.critical", "theory.threshold_sweep", "numpy"):
        assert finder.find_spec(other) is None


def test_a_new_finder_answers_exactly_the_old_module_paths():
    check_the_finder_answers_exactly_the_old_module_paths(_moved._AliasFinder())


@pytest.mark.negative_control
def test_control_a_finder_that_answers_a_new_path_too_is_caught():
    class Greedy(_moved._AliasFinder):  # the bug: a new path aliased to itself, shadowing the real module
        def find_spec(self, fullname, path=None, target=None):
            return super().find_spec(fullname) or super().find_spec("theory.threshold")
    with pytest.raises(AssertionError):
        check_the_finder_answers_exactly_the_old_module_paths(Greedy())


def test_install_adds_one_finder_however_often_it_is_called(monkeypatch):
    monkeypatch.setattr(sys, "meta_path", [f for f in sys.meta_path if not isinstance(f, _moved._AliasFinder)])
    _moved.install()
    _moved.install()
    finders = [f for f in sys.meta_path if isinstance(f, _moved._AliasFinder)]
    assert len(finders) == 1 and finders[0].find_spec("theory.threshold").loader.target == MOVED_MODULES["theory.threshold"]


def test_forward_returns_the_moved_object_and_names_what_is_missing():
    for module, names in MOVED_NAMES.items():
        getattr_ = _moved.forward(module)
        for name, target in names.items():
            assert getattr_(name) is getattr(importlib.import_module(target), name)
        with pytest.raises(AttributeError, match=rf"^module '{module}' has no attribute 'no_such_name'$"):
            getattr_("no_such_name")


def test_python_m_of_an_old_path_runs_the_new_command():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-m", "theory.figure1", "--help"], capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout and "--draws" in result.stdout
