"""The experiment commands of section 5.1: Figure 1's table, PNG and PDF; the real-data tables, figures and command.

Smoke tests of programs, not properties of a claim: the claims themselves are
checked in ``checks/claims/test_section_5_1.py``.
"""

import json

import pytest

from .report_support import synthetic_study
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


def test_figure1_writes_a_pdf_beside_the_png(tmp_path):
    pytest.importorskip("matplotlib")
    from theory.experiments.figure1 import draw_figure

    written = draw_figure(tmp_path / "figure1.png", seed=0)
    assert written == [str(tmp_path / "figure1.png"), str(tmp_path / "figure1.pdf")]
    assert (tmp_path / "figure1.pdf").read_bytes()[:5] == b"%PDF-"


def test_real_data_tables_name_every_comparison_and_panel():
    pytest.importorskip("torch")
    from theory.experiments.real.report import study_json, study_markdown

    study, training = synthetic_study()
    summary = study_json(study, training)
    text = study_markdown(summary)
    assert len(summary["comparisons"]) == 2 * 2 and len(summary["panels"]) == 4 * 2
    assert all(row["verdict"] == "no significant difference" for row in summary["comparisons"])  # 6 pairs: p = 1/64
    assert "| 0.01 | absolute | 6 | 6 | 0 | 0 |" in text  # the smaller scale faster in every pair
    assert "after the most epochs against epoch 0" in text


def test_real_data_figures_are_written_as_png_and_pdf(tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("torch")
    from theory.experiments.real.figures import figure2, figure3

    study, training = synthetic_study()
    paths = figure2(study, str(tmp_path / "figure2")) + figure3(training.panels, training.steps,
                                                                 str(tmp_path / "figure3"), n_images=6, seed=0)
    assert [p.rsplit(".", 1)[1] for p in paths] == ["png", "pdf", "png", "pdf"]
    assert (tmp_path / "figure2.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_real_data_command_says_what_is_missing_without_the_extra(monkeypatch, capsys):
    import theory.experiments.real as real
    from theory.experiments.real.__main__ import main

    monkeypatch.setattr(real, "available", lambda: False)
    assert main(["--images", "3"]) == 1
    assert "install the extra 'real'" in capsys.readouterr().err


def test_real_data_command_rejects_bad_arguments():
    from theory.experiments.real.__main__ import main

    with pytest.raises(SystemExit) as info:
        main(["--images", "0"])
    assert info.value.code == 2
