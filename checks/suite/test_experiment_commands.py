"""The experiment commands of section 5.1: Figure 1's table and its PNG (with the ``plots`` extra).

Smoke tests of programs, not properties of a claim: the claims themselves are
checked in ``checks/claims/test_section_5_1.py``.
"""

import json

import pytest

from theory.experiments.scale import FIGURE_RATIOS, FIGURE_SCALES


def test_figure1_command_writes_the_table(tmp_path):
    from theory.experiments.figure1 import main

    assert main(["--out", str(tmp_path), "--draws", "2"]) == 0
    table = json.loads((tmp_path / "figure1_minima.json").read_text())
    assert len(table["panels"]) == len(FIGURE_SCALES) * len(FIGURE_RATIOS)
    assert all(p["scan_certified"] == 1.0 for p in table["panels"])
    assert "| 0.01 | 0.1 |" in (tmp_path / "figure1_minima.md").read_text()


def test_figure1_command_draws_the_png_with_the_plots_extra(tmp_path):
    pytest.importorskip("matplotlib")
    from theory.experiments.figure1 import draw_figure

    draw_figure(tmp_path / "figure1.png", seed=0)
    assert (tmp_path / "figure1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
