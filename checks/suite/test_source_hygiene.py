"""The sources carry no control characters, and the suite's naming convention selects its controls.

Docstrings full of LaTeX (``\\varepsilon``, ``\\top``, ``\\rho``) turn into vertical
tabs, tabs and carriage returns when written through a non-raw string; this
happened twice while editing. The check reads every module of ``theory/`` and
``checks/`` and rejects any control character other than the newline.

A test named ``test_control_*`` is a negative control (:func:`theory.report.claims.test_kind`);
conftest.py gives each one the ``negative_control`` marker, so that ``-m negative_control``
(the mutation run deselects the controls, the seed sweep counts them) selects exactly
those. Before that hook, 26 of the 73 controls carried no marker.
"""

import os
import pathlib
import re
import subprocess
import sys

import pytest

from ..support import skip_without_source_tree
from .marker_listing import MARKED

skip_without_source_tree()

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def control_characters(text):
    """(line number, line) of each line holding a control character other than newline."""
    return [(i + 1, line) for i, line in enumerate(text.split("\n")) if CONTROL.search(line)]


@pytest.mark.parametrize("path", sorted((ROOT / "theory").rglob("*.py")) + sorted((ROOT / "checks").rglob("*.py")),
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_source_has_no_control_characters(path):
    assert control_characters(path.read_text(encoding="utf-8")) == []


@pytest.mark.negative_control
def test_control_an_unescaped_latex_docstring_is_caught():
    corrupted = "r\"\"\"bound :math:`" + "\\varepsilon".replace("\\v", "\v") + "`\"\"\""
    assert control_characters(corrupted) == [(1, corrupted)]


def collected(*args):
    """``(node ids, node ids with the negative_control marker)`` of ``pytest checks --collect-only`` (a subprocess).

    One collection gives both (:mod:`checks.suite.marker_listing` prints the marked ones).
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    result = subprocess.run([sys.executable, "-m", "pytest", "checks", "-q", "--collect-only",
                             "-p", "no:cacheprovider", "-p", "checks.suite.marker_listing", *args],
                            cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    lines = [line.strip() for line in result.stdout.splitlines() if "::" in line]
    marked = {line[len(MARKED):] for line in lines if line.startswith(MARKED)}
    return {line for line in lines if not line.startswith(MARKED)}, marked


def named_controls(node_ids):
    return {node for node in node_ids if node.split("::")[-1].startswith("test_control_")}


def test_the_negative_control_marker_selects_exactly_the_tests_named_as_controls():
    everything, marked = collected()
    assert marked == named_controls(everything)


@pytest.mark.negative_control
def test_control_without_the_conftest_hook_the_marker_misses_controls():
    everything, marked = collected("--noconftest")
    assert marked < named_controls(everything)
