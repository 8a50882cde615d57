"""The reliability scripts read their inputs right: the seed sweep's JUnit parsing and verdicts, and
the mutation report's reading of mutmut's mutated sources.

* ``reliability/seed_sweep.py`` classifies each JUnit test case (passed, failed, error, xfailed,
  skipped), maps it back to pytest's node id, and counts a failing positive or a failing negative
  control (one that did not find its counterexample) as a false alarm, an xfail as none;
* ``reliability/mutation_report.py`` reads the change a mutant makes (the mutated function against
  its original, default arguments included) and names the function as the paper's modules do; its
  kept results render as the run they keep, a targeted re-run replaces exactly the survivors it
  re-checked, and undetectable (rounding-allowance) mutants are scored both ways.

Negative controls: a verdict that takes the controls for positives miscounts a missed control; a
diff that drops the def line misses a mutated default argument; a merge that identifies a mutant by
its function alone takes a survivor for killed; a report blind to the undetectable flag gives one score.
"""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _script(name):
    """Import ``reliability/<name>.py`` by path (the folder is not a package; sys.path is left alone)."""
    spec = importlib.util.spec_from_file_location(f"reliability_{name}", ROOT / "reliability" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mutation_report = _script("mutation_report")
seed_sweep = _script("seed_sweep")

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="1" skipped="2" tests="6">
<testcase classname="checks.test_lemma_4_1" name="test_gradient_is_bounded_below_in_the_ball" time="1.0"/>
<testcase classname="checks.test_lemma_4_1" name="test_control_ascent_is_caught" time="1.0">
  <failure message="Unsatisfiable: could not find a counterexample">trace</failure></testcase>
<testcase classname="checks.test_theorem_3_1" name="test_literal_statement[seed=32]" time="1.0">
  <skipped type="pytest.xfail" message="recorded counterexample"/></testcase>
<testcase classname="checks.test_section_5_1" name="test_figure_1_draws" time="0.1">
  <skipped type="pytest.skip" message="matplotlib missing"/></testcase>
<testcase classname="checks.test_numerics_pgd" name="test_pgd_equals_the_reference_loop" time="1.0">
  <failure message="AssertionError: assert False">trace</failure></testcase>
<testcase classname="checks.test_numerics_kernels" name="test_kernel_agrees" time="1.0">
  <error message="worker crashed">trace</error></testcase>
</testsuite></testsuites>
"""
CONTROLS = {"checks/test_lemma_4_1.py::test_control_ascent_is_caught"}


def test_junit_cases_map_to_node_ids_and_outcomes():
    outcomes = seed_sweep.parse_junit(JUNIT)
    assert {node: outcome for node, (outcome, _) in outcomes.items()} == {
        "checks/test_lemma_4_1.py::test_gradient_is_bounded_below_in_the_ball": "passed",
        "checks/test_lemma_4_1.py::test_control_ascent_is_caught": "failed",
        "checks/test_theorem_3_1.py::test_literal_statement[seed=32]": "xfailed",
        "checks/test_section_5_1.py::test_figure_1_draws": "skipped",
        "checks/test_numerics_pgd.py::test_pgd_equals_the_reference_loop": "failed",
        "checks/test_numerics_kernels.py::test_kernel_agrees": "failed",
    }
    assert outcomes["checks/test_numerics_pgd.py::test_pgd_equals_the_reference_loop"][1].startswith("AssertionError")


def sweep_verdict(counts_from=seed_sweep.seed_summary):
    outcomes = seed_sweep.parse_junit(JUNIT)
    counts = counts_from(outcomes, CONTROLS)
    return counts, seed_sweep.false_alarms(outcomes)


def test_failed_positives_and_missed_controls_are_false_alarms_and_xfails_are_not():
    counts, alarms = sweep_verdict()
    assert counts == dict(positives_passed=1, positives_failed=2, controls_found=0, controls_missed=1,
                          xfailed=1, skipped=1)
    assert sorted(alarms) == ["checks/test_lemma_4_1.py::test_control_ascent_is_caught",
                              "checks/test_numerics_kernels.py::test_kernel_agrees",
                              "checks/test_numerics_pgd.py::test_pgd_equals_the_reference_loop"]


def test_the_sweep_report_lists_every_false_alarm():
    counts, alarms = sweep_verdict()
    results = {"profile": "thorough", "max_examples": 200, "wanted_seeds": [0, 1], "controls": sorted(CONTROLS),
               "seeds": [{"seed": 0, "exit_code": 1, "wall_s": 60.0, "counts": counts, "false_alarms": alarms}]}
    text = seed_sweep.render(results)
    assert "**1 of 2 seeds run; 3 false alarms.** Not yet run: seeds 1." in text
    assert "`checks/test_lemma_4_1.py::test_control_ascent_is_caught` (control missed)" in text
    # pytest failing outside any test (a collection or internal error) is a false alarm too.
    crashed = dict(results, seeds=[{"seed": 0, "exit_code": 3, "wall_s": 1.0, "counts": counts, "false_alarms": {}}])
    assert "**1 of 2 seeds run; 1 false alarm.**" in seed_sweep.render(crashed)


@pytest.mark.negative_control
def test_control_a_verdict_that_counts_only_failed_positives_is_caught():
    def positives_only(outcomes, controls):
        return seed_sweep.seed_summary(outcomes, set())  # injected bug: controls counted as positives
    counts, _ = sweep_verdict(positives_only)
    assert counts["controls_missed"] != 1


MUTATED = '''
def x_f__mutmut_orig(a, b=0.5):
    return a ** b

def x_f__mutmut_1(a, b=1.5):
    return a ** b

def x_f__mutmut_2(a, b=0.5):
    return a * b
'''


def test_a_mutants_change_is_read_from_its_function_default_arguments_included(tmp_path):
    source = tmp_path / "m.py"
    source.write_text(MUTATED)
    sources = mutation_report.function_sources(source)
    assert mutation_report.mutant_change(sources, "theory.m.x_f__mutmut_1") == ("def x_f(a, b=0.5):",
                                                                                "def x_f(a, b=1.5):")
    assert mutation_report.mutant_change(sources, "theory.m.x_f__mutmut_2") == ("return a ** b", "return a * b")
    assert mutation_report.function_name("theory.losses.xǁCrossEntropyLossǁcurvature_bounds__mutmut_3") \
        == "losses.CrossEntropyLoss.curvature_bounds"
    assert mutation_report.function_name("theory.pgd.x_pgd_until__mutmut_8") == "pgd.pgd_until"


@pytest.mark.negative_control
def test_control_a_diff_without_the_def_line_misses_a_mutated_default(tmp_path):
    source = tmp_path / "m.py"
    source.write_text(MUTATED)
    bodies = {name: text.split("\n", 1)[1] for name, text in mutation_report.function_sources(source).items()}
    assert mutation_report.mutant_change(bodies, "theory.m.x_f__mutmut_1") == ("", "")


#: Rows as mutation_report.collect gives them: (module, key, status, function, before, after).
KEPT_ROWS = [
    ("pgd", None, "killed", "", "", ""),
    ("pgd", None, "timeout", "", "", ""),
    ("pgd", None, "survived", "pgd.pgd", "x = 1", "x = 2"),
    ("pgd", None, "survived", "pgd.pgd", "y = 1", "y = 2"),
    ("bounds", None, "survived", "bounds.f", "u = 8", "u = 9"),
]


def test_kept_mutation_results_render_as_the_run_they_keep():
    results = mutation_report.to_results(KEPT_ROWS)
    assert results["detected"] == {"bounds": {}, "pgd": {"killed": 1, "timeout": 1}}
    assert sorted(mutation_report.from_results(results)) == sorted(KEPT_ROWS)


def test_a_targeted_run_replaces_only_the_survivors_it_rechecked():
    rerun = [("pgd", "theory.pgd.x_pgd__mutmut_7", "killed", "pgd.pgd", "x = 1", "x = 2"),
             ("pgd", "theory.pgd.x_pgd__mutmut_8", "not checked", "", "", ""),
             ("pgd", "theory.pgd.x_pgd__mutmut_1", "killed", "pgd.pgd", "z = 0", "z = 1")]  # detected before
    merged = mutation_report.merge(KEPT_ROWS, rerun)
    assert len(merged) == len(KEPT_ROWS)
    assert [row[2] for row in merged] == ["killed", "timeout", "killed", "survived", "survived"]


def test_undetectable_mutants_are_scored_both_ways():
    rows = KEPT_ROWS[:2] + [("pgd", None, "survived", "pgd.pgd", "x = 1", "x = 2"),
                            ("bounds", None, "survived", "bounds.f", "u = 8", "u = 9")]
    equivalents = {("pgd.pgd", "x = 1", "x = 2"): ("same value", False),
                   ("bounds.f", "u = 8", "u = 9"): ("rounding allowance", True)}
    text, unexplained = mutation_report.render(rows, equivalents)
    assert unexplained == []
    assert "2 explained as equivalent, 0 not explained" in text
    assert "1 are undetectable rather than equivalent" in text
    assert "the score on the rest is 66.7%" in text  # 2 detected of 3 once the undetectable one counts


@pytest.mark.negative_control
def test_control_a_report_blind_to_the_undetectable_flag_scores_one_way_only():
    rows = KEPT_ROWS[:2] + [("bounds", None, "survived", "bounds.f", "u = 8", "u = 9")]
    blind = {("bounds.f", "u = 8", "u = 9"): ("rounding allowance", False)}  # the flag dropped
    text, _ = mutation_report.render(rows, blind)
    assert "undetectable rather than equivalent" not in text and "the score on the rest" not in text


@pytest.mark.negative_control
def test_control_a_merge_by_function_alone_replaces_the_wrong_survivor():
    def merge_by_function(kept, rows):  # the injected bug: the change is not part of the identity
        kept = list(kept)
        for row in rows:
            slots = [i for i, old in enumerate(kept) if old[3] == row[3] and old[2] == "survived"]
            if row[2] != "not checked" and slots:
                kept[slots[-1]] = row
        return kept

    rerun = [("pgd", "theory.pgd.x_pgd__mutmut_7", "killed", "pgd.pgd", "x = 1", "x = 2")]
    statuses = [row[2] for row in merge_by_function(KEPT_ROWS, rerun)]
    assert statuses != [row[2] for row in mutation_report.merge(KEPT_ROWS, rerun)]
    assert statuses == ["killed", "timeout", "survived", "killed", "survived"]  # y = 1 -> 2 taken as killed
