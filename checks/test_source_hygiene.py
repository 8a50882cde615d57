"""The sources carry no control characters.

Docstrings full of LaTeX (``\\varepsilon``, ``\\top``, ``\\rho``) turn into vertical
tabs, tabs and carriage returns when written through a non-raw string; this
happened twice while editing. The check reads every module of ``theory/`` and
``checks/`` and rejects any control character other than the newline.
"""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def control_characters(text):
    """(line number, line) of each line holding a control character other than newline."""
    return [(i + 1, line) for i, line in enumerate(text.split("\n")) if CONTROL.search(line)]


@pytest.mark.parametrize("path", sorted((ROOT / "theory").glob("*.py")) + sorted((ROOT / "checks").glob("*.py")),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_source_has_no_control_characters(path):
    assert control_characters(path.read_text(encoding="utf-8")) == []


@pytest.mark.negative_control
def test_control_an_unescaped_latex_docstring_is_caught():
    corrupted = "r\"\"\"bound :math:`" + "\\varepsilon".replace("\\v", "\v") + "`\"\"\""
    assert control_characters(corrupted) == [(1, corrupted)]
