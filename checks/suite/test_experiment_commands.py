"""The experiment commands of section 5.1: Figure 1's table, PNG and PDF; the real-data tables, figures and command.

Smoke tests of programs, not properties of a claim: the claims themselves are
checked in ``checks/claims/test_section_5_1.py``. What each figure shows (panels, titles,
markers, paths, legends, texts) is compared with a golden description
(``figure_support.py``); the control draws Figure 1 with one step fewer.
"""

import json

import numpy as np

import pytest

from .report_support import synthetic_study
from theory.experiments import figure1 as figure1_module
from theory.experiments.scale import FIGURE_RATIOS, FIGURE_SCALES


def test_figure1_command_writes_the_table(tmp_path):
    from theory.experiments.figure1 import main

    assert main(["--out", str(tmp_path), "--draws", "2", "--seed", "3", "--width", "16"]) == 0
    table = json.loads((tmp_path / "figure1_minima.json").read_text())
    assert (table["d"], table["width"], table["draws"], table["seed"]) == (2, 16, 2, 3)
    assert len(table["panels"]) == len(FIGURE_SCALES) * len(FIGURE_RATIOS)
    assert all(p["scan_certified"] == 1.0 for p in table["panels"])
    md = (tmp_path / "figure1_minima.md").read_text()
    assert md.startswith("Local minima of L on the sphere per Figure 1 panel: d = 2, m = 16, 2 draws (seeds 3..4).")
    assert "| 0.01 | 0.1 |" in md


def test_figure1_command_says_what_it_skips_without_matplotlib_and_rejects_bad_arguments(tmp_path, monkeypatch,
                                                                                         capsys):
    monkeypatch.setattr(figure1_module, "plots_available", lambda: False)
    assert figure1_module.main(["--out", str(tmp_path / "new"), "--draws", "1"]) == 0
    captured = capsys.readouterr()
    assert ("matplotlib is not installed: figure1.png skipped, table only (install the plots extra: "
            "pip install '.[plots]')") in captured.err
    assert "wrote" not in captured.out and not (tmp_path / "new" / "figure1.png").exists()
    assert (tmp_path / "new" / "figure1_minima.md").exists()
    for bad in (["--draws", "0"], ["--width", "0"], ["--seed", "-1"]):
        with pytest.raises(SystemExit) as stop:
            figure1_module.main(bad)
        assert stop.value.code == 2
        assert "--draws and --width must be >= 1 and --seed >= 0" in capsys.readouterr().err


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


def differences(drawn_now, golden, path=""):
    """Where two figure descriptions differ (``path: golden -> now``), at most 20 of them."""
    if isinstance(golden, dict) and isinstance(drawn_now, dict):
        keys = sorted(golden.keys() | drawn_now.keys())
        return [d for k in keys for d in differences(drawn_now.get(k), golden.get(k), f"{path}/{k}")][:20]
    if isinstance(golden, list) and isinstance(drawn_now, list) and len(golden) == len(drawn_now):
        return [d for i, (a, b) in enumerate(zip(drawn_now, golden)) for d in differences(a, b, f"{path}[{i}]")][:20]
    return [] if drawn_now == golden else [f"{path}: {golden!r} -> {drawn_now!r}"]


def test_figure1_shows_what_its_golden_description_shows():
    # Panels, titles, markers, paths, colour bars, legend and explanation (checks/suite/figure_support.py);
    # after a deliberate change of the figure: python -m checks.suite.figure_support, and review the diff.
    pytest.importorskip("matplotlib")
    from .figure_support import figure1, golden_figures, other_matplotlib

    if other_matplotlib():
        pytest.skip(other_matplotlib())

    assert differences(figure1(), golden_figures()["figure1"]) == []


def test_figures_2_and_3_show_what_their_golden_description_shows():
    pytest.importorskip("matplotlib")
    pytest.importorskip("torch")
    from .figure_support import figures_2_and_3, golden_figures, other_matplotlib

    if other_matplotlib():
        pytest.skip(other_matplotlib())

    assert differences(figures_2_and_3(), golden_figures()["figures_2_and_3"]) == []


@pytest.mark.negative_control
def test_control_a_figure_with_one_step_fewer_differs_from_its_golden_description(monkeypatch):
    pytest.importorskip("matplotlib")
    from .figure_support import figure1, golden_figures, other_matplotlib

    if other_matplotlib():
        pytest.skip(other_matplotlib())

    monkeypatch.setattr(figure1_module, "FIGURE_STEPS", figure1_module.FIGURE_STEPS - 1)
    assert differences(figure1(), golden_figures()["figure1"]) != []


def test_the_minima_table_summarises_exactly_its_draws():
    from theory.certificates.uniqueness import uniqueness_certificate
    from theory.experiments.scale import count_minima, figure_problem, minima_table

    (row,) = minima_table(scales=(100.0,), ratios=(1.0,), draws=4, seed=8, width=8)
    problems = [figure_problem(s, 100.0, 1.0, width=8) for s in range(8, 12)]
    counts = [count_minima(p, s) for p, s in zip(problems, range(8, 12))]
    minima = [n for n, _ in counts]
    assert max(minima) > 1 and min(minima) == 1, "the pinned draws have one and several minima"
    assert row == dict(scale=100.0, ratio=1.0, eps=100.0, mean_minima=float(np.mean(minima)),
                       max_minima=max(minima), one_minimum=float(np.mean(np.array(minima) == 1)),
                       scan_certified=float(np.mean([c for _, c in counts])),
                       unique_certified=float(np.mean([uniqueness_certificate(p).certified for p in problems])))


def test_the_escape_step_is_its_fraction_of_eps_over_the_mean_gradient_at_64_uniform_points():
    from theory.experiments.scale import ESCAPE_STEP_FRACTION, escape_step_size, figure_problem
    from theory.geometry import uniform_ball, vector_norm

    problem = figure_problem(3, 1.0, 0.3)
    points = uniform_ball(np.random.default_rng(3), 64, problem.d, problem.eps)
    mean = float(np.mean(vector_norm(problem.loss_grad(points))))
    assert escape_step_size(problem, 3) == ESCAPE_STEP_FRACTION * problem.eps / mean


def test_the_real_data_sign_test_and_verdicts_follow_their_definitions():
    from scipy.stats import binomtest

    from theory.experiments.real import constants as C
    from theory.experiments.real.report import verdict
    from theory.experiments.real.summary import sign_test_p

    assert sign_test_p(0, 0) == 1.0
    assert sign_test_p(3, 3) == binomtest(3, 6, 0.5, alternative="greater").pvalue
    assert sign_test_p(6, 0) == 0.5 ** 6
    low, high = 0.5 * C.REPORT_ALPHA, 1.0
    assert verdict({"p_small_faster": low, "p_small_slower": high}) == "faster"
    assert verdict({"p_small_faster": high, "p_small_slower": low}) == "slower"
    assert verdict({"p_small_faster": C.REPORT_ALPHA, "p_small_slower": high}) == "no significant difference"


def test_the_real_data_tables_are_markdown_tables_with_the_training_comparison_before_and_after():
    pytest.importorskip("torch")
    from theory.experiments.real.report import study_json, study_markdown, training_comparisons

    study, training = synthetic_study()
    rows = training_comparisons(training)
    assert {(r["before"], r["after"]) for r in rows} == {(0, 30)}
    text = study_markdown(study_json(study, training))
    tables, run = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            run.append(line)
        elif run:
            tables, run = tables + [run], []
    assert len(tables) >= 2
    assert [set(table[1]) for table in tables] == [{"|", "-"}] * len(tables)  # a header, then its separator


def test_a_paired_comparison_counts_ties_apart_from_slower_and_faster_pairs():
    from theory.experiments.real.summary import paired_comparison

    row = paired_comparison([1, 2, 3, 5], [1, 1, 4, 5])  # a tie, small slower, small faster, a tie
    assert (row["n"], row["slower"], row["faster"], row["ties"]) == (4, 1, 1, 2)
    assert row["q_slower"] == 0.5


def test_a_paired_comparison_of_ties_only_has_no_share_and_the_whole_interval():
    import math

    from theory.experiments.real.summary import paired_comparison

    row = paired_comparison([1.0, 2.0], [1.0, 2.0])
    assert (row["slower"], row["faster"], row["ties"]) == (0, 0, 2)
    assert math.isnan(row["q_slower"]) and row["q_slower_ci"] == [0.0, 1.0]
