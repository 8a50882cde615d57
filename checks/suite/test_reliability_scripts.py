"""The reliability scripts read their inputs right: the seed sweep's JUnit parsing and verdicts, and
the mutation report's reading of mutmut's mutated sources.

* ``reliability/seed_sweep.py`` classifies each JUnit test case (passed, failed, error, xfailed,
  skipped), maps it back to pytest's node id, and counts a failing positive or a failing negative
  control (one that did not find its counterexample) as a false alarm, an xfail as none;
* ``reliability/mutation_report.py`` reads the change a mutant makes (the mutated function against
  its original, default arguments included) and names the function as the paper's modules do; its
  kept results render as the run they keep, a targeted re-run replaces exactly the survivors it
  re-checked, and undetectable (rounding-allowance) mutants are scored both ways;
* CI's lock (``requirements/dev.lock``, ``requirements/pip.lock``, read by ``reliability/lockfile.py``)
  pins every requirement of pyproject.toml (core, ``dev`` extra, build backend) with ``==`` to a
  version its specifier allows, each with a hash, and ``.ci/run`` installs exactly it;
* ``reliability/drift.py`` compares the newest versions with the lock by normalised name, counts an
  xfail or a passing control as no failure and a crashed pass as one, looks each failure up in
  ``reliability/drift_findings.json`` (unclassified: exit status 1) and renders DRIFT.md.

Negative controls: a verdict that takes the controls for positives miscounts a missed control; a
diff that drops the def line misses a mutated default argument; a merge that identifies a mutant by
its function alone takes a survivor for killed; a report blind to the undetectable flag gives one score;
a lock with a pin outside its specifier, without a hash, not ``==`` or missing is stale; a lock parser
blind to continuation lines finds no hashes; names compared as written report a change that is none;
a verdict that ignores pytest's exit status misses a crashed pass; findings matched by function name
alone classify another module's failure.
"""

from pathlib import Path

import pytest

from ..support import reliability_script, skip_without_source_tree

skip_without_source_tree()

ROOT = Path(__file__).resolve().parents[2]


mutation_report = reliability_script("mutation_report")
seed_sweep = reliability_script("seed_sweep")

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="1" skipped="2" tests="6">
<testcase classname="checks.claims.test_lemma_4_1" name="test_gradient_is_bounded_below_in_the_ball" time="1.0"/>
<testcase classname="checks.claims.test_lemma_4_1" name="test_control_ascent_is_caught" time="1.0">
  <failure message="Unsatisfiable: could not find a counterexample">trace</failure></testcase>
<testcase classname="checks.claims.test_theorem_3_1" name="test_literal_statement[seed=32]" time="1.0">
  <skipped type="pytest.xfail" message="recorded counterexample"/></testcase>
<testcase classname="checks.claims.test_section_5_1" name="test_figure_1_draws" time="0.1">
  <skipped type="pytest.skip" message="matplotlib missing"/></testcase>
<testcase classname="checks.numerics.test_numerics_pgd" name="test_pgd_equals_the_reference_loop" time="1.0">
  <failure message="AssertionError: assert False">trace</failure></testcase>
<testcase classname="checks.numerics.test_numerics_kernels" name="test_kernel_agrees" time="1.0">
  <error message="worker crashed">trace</error></testcase>
</testsuite></testsuites>
"""
CONTROLS = {"checks/claims/test_lemma_4_1.py::test_control_ascent_is_caught"}


def test_junit_cases_map_to_node_ids_and_outcomes():
    outcomes = seed_sweep.parse_junit(JUNIT)
    assert {node: outcome for node, (outcome, _) in outcomes.items()} == {
        "checks/claims/test_lemma_4_1.py::test_gradient_is_bounded_below_in_the_ball": "passed",
        "checks/claims/test_lemma_4_1.py::test_control_ascent_is_caught": "failed",
        "checks/claims/test_theorem_3_1.py::test_literal_statement[seed=32]": "xfailed",
        "checks/claims/test_section_5_1.py::test_figure_1_draws": "skipped",
        "checks/numerics/test_numerics_pgd.py::test_pgd_equals_the_reference_loop": "failed",
        "checks/numerics/test_numerics_kernels.py::test_kernel_agrees": "failed",
    }
    assert outcomes["checks/numerics/test_numerics_pgd.py::test_pgd_equals_the_reference_loop"][1].startswith("AssertionError")


def sweep_verdict(counts_from=seed_sweep.seed_summary):
    outcomes = seed_sweep.parse_junit(JUNIT)
    counts = counts_from(outcomes, CONTROLS)
    return counts, seed_sweep.false_alarms(outcomes)


def test_failed_positives_and_missed_controls_are_false_alarms_and_xfails_are_not():
    counts, alarms = sweep_verdict()
    assert counts == dict(positives_passed=1, positives_failed=2, controls_found=0, controls_missed=1,
                          xfailed=1, skipped=1)
    assert sorted(alarms) == ["checks/claims/test_lemma_4_1.py::test_control_ascent_is_caught",
                              "checks/numerics/test_numerics_kernels.py::test_kernel_agrees",
                              "checks/numerics/test_numerics_pgd.py::test_pgd_equals_the_reference_loop"]


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


# --- CI's lock (requirements/*.lock) and the drift watch (reliability/drift.py) ---------------------

lockfile = reliability_script("lockfile")
drift = reliability_script("drift")
update_lock = reliability_script("update_lock")


def _pyproject():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+; CI's lock is for 3.11
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def lock_requirements(pyproject):
    """What the lock must pin: ``[project] dependencies``, the ``dev`` extra, ``[build-system] requires``."""
    return [*pyproject["project"]["dependencies"], *pyproject["project"]["optional-dependencies"]["dev"],
            *pyproject["build-system"]["requires"]]


def lock_problems(requirements, lock_text):
    """Why a lock is stale for these requirements ([] when it is not).

    Every requirement (whose marker holds here, with the ``dev`` extra) is pinned with ``==`` to a
    version its specifier allows, and every requirement of the lock has a ``--hash``.
    """
    from packaging.requirements import Requirement

    pins = lockfile.parse_lock(lock_text)
    problems = [f"{pin.name} has no --hash" for pin in pins.values() if not pin.hashes]
    problems += [f"{pin.name} is not pinned with == ({pin.operator or 'no version'}{pin.version})"
                 for pin in pins.values() if pin.operator != "=="]
    for text in requirements:
        requirement = Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": "dev"}):
            continue
        pin = pins.get(lockfile.canonical_name(requirement.name))
        if pin is None:
            problems.append(f"{requirement.name} is not in the lock")
        elif pin.operator == "==" and not requirement.specifier.contains(pin.version, prereleases=True):
            problems.append(f"{requirement.name}=={pin.version} does not satisfy {requirement.specifier}")
    return problems


def _lock_text(name="dev.lock"):
    return (ROOT / "requirements" / name).read_text(encoding="utf-8")


def test_the_lock_pins_every_requirement_of_pyproject_exactly_with_hashes():
    """Fails when pyproject.toml changed and the lock did not: run ``python reliability/update_lock.py``."""
    assert lock_problems(lock_requirements(_pyproject()), _lock_text()) == []
    assert lock_problems(["pip"], _lock_text("pip.lock")) == []
    assert lockfile.LOCK == ROOT / "requirements" / "dev.lock"


def test_ci_installs_exactly_the_locks_with_hashes_and_resolves_nothing_else():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "set -euo pipefail" in script
    for lock in ("requirements/pip.lock", "requirements/dev.lock"):
        assert any("--require-hashes" in line and f"-r {lock}" in line for line in script.splitlines()), lock
    project = [line for line in script.splitlines() if line.rstrip().endswith("-e .")]
    assert project and all("--no-deps" in line and "--no-build-isolation" in line for line in project)
    assert '".[dev]"' not in script  # no resolution of the extra at CI time
    lines = script.rstrip().splitlines()
    start = lines.index("export HYPOTHESIS_PROFILE=ci")
    assert lines[start + 1] == "pytest -n auto"  # the README's test command, under the ci profile
    # After it, only reruns of checks on the numpy kernel (the suite runs the compiled one where it applies).
    rest = [line for line in lines[start + 2:] if not line.startswith("#")]
    assert all(line.startswith("THEORY_KERNEL=numpy pytest ") for line in rest), rest


def _violating(lock_text, name, version):
    """The lock with ``name``'s pin replaced by ``version`` (hashes kept)."""
    pin = lockfile.parse_lock(lock_text)[name]
    return lock_text.replace(f"{pin.name}=={pin.version} ", f"{pin.name}=={version} ", 1)


#: Ways a lock goes stale, each with the problem the check must name.
STALE_LOCKS = {
    "a pin that violates the specifier": (lambda text: _violating(text, "hypothesis", "6.0.0"),
                                          "hypothesis==6.0.0 does not satisfy >="),
    "a pin without a hash": (lambda text: text + "\nextra-package==1.0\n", "extra-package has no --hash"),
    "a requirement left out": (lambda text: text.replace("\nnumpy==", "\nnumpy-other==", 1),
                               "numpy is not in the lock"),
    "a requirement not pinned with ==": (lambda text: text.replace("\nscipy==", "\nscipy>=", 1),
                                         "scipy is not pinned with == (>="),
}


@pytest.mark.negative_control
@pytest.mark.parametrize("mutation", sorted(STALE_LOCKS))
def test_control_the_stale_lock_check_catches_a_stale_lock(mutation):
    make_stale, problem = STALE_LOCKS[mutation]
    stale = make_stale(_lock_text())
    assert stale != _lock_text()
    problems = lock_problems(lock_requirements(_pyproject()), stale)
    assert any(found.startswith(problem) for found in problems), problems


SYNTHETIC_LOCK = """\
#
# This file is autogenerated by pip-compile with Python 3.11
#
--index-url https://example.invalid/simple
Jsonschema_Specifications==2025.9.1 \\
    --hash=sha256:aa11 \\
    --hash=sha256:bb22
    # via jsonschema
numpy==2.4.6 ; python_version >= "3.11" \\
    --hash=sha256:cc33
pytest==9.2.0 --hash=sha256:dd44  # one line
rich[jupyter]==15.0.0 \\
    --hash=sha256:ee55

# The following packages are considered to be unsafe in a requirements file:
setuptools==84.2.1 \\
    --hash=sha256:ff66
"""


def test_a_lock_is_read_with_its_continuation_lines_markers_and_extras():
    pins = lockfile.parse_lock(SYNTHETIC_LOCK)
    assert sorted(pins) == ["jsonschema-specifications", "numpy", "pytest", "rich", "setuptools"]
    assert pins["jsonschema-specifications"] == lockfile.Pin("Jsonschema_Specifications", "==", "2025.9.1",
                                                             ("sha256:aa11", "sha256:bb22"), "")
    assert pins["numpy"].marker == 'python_version >= "3.11"' and pins["numpy"].hashes == ("sha256:cc33",)
    assert pins["pytest"].hashes == ("sha256:dd44",)
    assert (pins["rich"].version, pins["setuptools"].hashes) == ("15.0.0", ("sha256:ff66",))
    assert lockfile.pinned_versions(pins)["setuptools"] == "84.2.1"
    assert lock_problems(["numpy>=1.26", "jsonschema-specifications", "setuptools>=68"], SYNTHETIC_LOCK) == []
    with pytest.raises(ValueError, match="not a requirement line"):
        lockfile.parse_lock("==1.0 \\\n    --hash=sha256:00\n")


@pytest.mark.negative_control
def test_control_a_parser_blind_to_continuation_lines_finds_no_hashes():
    blind = "\n".join(line.rstrip(" \\") for line in SYNTHETIC_LOCK.splitlines()
                      if not line.startswith("    "))  # each requirement's first line only
    assert lock_problems([], blind) == [f"{name} has no --hash" for name in
                                        ("Jsonschema_Specifications", "numpy", "rich", "setuptools")]


def test_the_lock_update_prints_every_changed_pin_and_compiles_with_the_documented_options():
    rows = lockfile.changes({"numpy": "2.4.6", "scipy": "1.17.1", "old": "1.0"},
                            {"numpy": "2.4.6", "scipy": "1.18.0", "new": "2.0"})
    assert rows == [("new", "", "2.0"), ("old", "1.0", ""), ("scipy", "1.17.1", "1.18.0")]
    text = update_lock.render_changes(rows)
    assert text.startswith("3 pins changed:") and "(new) -> 2.0" in text and "1.0 -> (removed)" in text
    assert update_lock.render_changes([]) == "No pin changed."
    command = update_lock.compile_command("py", "requirements/dev.lock", ("pyproject.toml",),
                                          update_lock.DEV_OPTIONS, upgrade=True, upgrade_packages=["hypothesis"])
    for option in ("--generate-hashes", "--allow-unsafe", "--all-build-deps", "--extra=dev", "--upgrade",
                   "--upgrade-package=hypothesis", "--output-file=requirements/dev.lock"):
        assert option in command
    assert command[-1] == "pyproject.toml"
    # The committed lock was written by exactly these options (pip-compile records them in its header).
    header = next(line for line in _lock_text().splitlines() if line.lstrip("# ").startswith("pip-compile "))
    assert set(update_lock.DEV_OPTIONS) <= set(header.split())


def test_versions_are_compared_with_the_lock_by_normalised_name():
    rows = drift.version_table({"Jsonschema_Specifications": "2025.9.1", "numpy": "2.4.6", "gone": "1.0"},
                               {"jsonschema-specifications": "2025.9.1", "numpy": "2.5.0", "extra.pkg": "0.1",
                                "first_order_adversaries": "0.1.0"})
    assert rows == [("extra-pkg", "", "0.1", "not locked"), ("gone", "1.0", "", "not installed"),
                    ("jsonschema-specifications", "2025.9.1", "2025.9.1", "no"), ("numpy", "2.4.6", "2.5.0", "yes")]


@pytest.mark.negative_control
def test_control_a_comparison_by_raw_name_reports_a_change_that_is_none(monkeypatch):
    monkeypatch.setattr(drift.lockfile, "canonical_name", lambda name: name)  # the injected bug
    rows = drift.version_table({"Jsonschema_Specifications": "2025.9.1"}, {"jsonschema-specifications": "2025.9.1"})
    assert [row[3] for row in rows] == ["not installed", "not locked"]


FINDINGS = {
    "checks/numerics/test_numerics_pgd.py::test_pgd_equals_the_reference_loop":
        {"class": "suite defect", "note": "tolerance too tight for the new numpy", "fixed_in": ""},
    "checks/claims/test_lemma_4_1.py::test_gradient_is_bounded_below_in_the_ball":
        {"class": "theory finding", "note": "a draw below B_l", "fixed_in": "abc1234"},
}


def drift_result(outcomes, exit_code=1, findings=FINDINGS):
    return {"date": "2030-01-01 00:00 UTC", "commit": "abc1234", "python": "3.11.7 CPython",
            "machine": "Linux x86_64, 2 cores", "install": "pip install --upgrade -e .[dev]",
            "versions": drift.version_table({"hypothesis": "6.170.17", "numpy": "2.4.6"},
                                            {"hypothesis": "6.171.0", "numpy": "2.4.6"}),
            "findings": findings,
            "passes": [{"name": "ci", "profile": "ci", "seed": None, "command": "HYPOTHESIS_PROFILE=ci pytest -n auto",
                        "exit_code": exit_code, "wall_s": 300.0, "outcomes": outcomes},
                       {"name": "dev", "profile": "dev", "seed": 42, "command": "pytest --hypothesis-seed=42",
                        "exit_code": 0, "wall_s": 120.0,
                        "outcomes": {"checks/numerics/test_numerics_pgd.py::test_pgd_equals_the_reference_loop": ("passed", "")}}]}


def test_xfails_and_passing_controls_are_fine_and_failures_are_looked_up_in_the_findings():
    outcomes = seed_sweep.parse_junit(JUNIT)  # a failed positive, a missed control, an error, an xfail, a skip
    result = drift_result(outcomes)
    assert drift.counts(outcomes) == dict(passed=1, failed=3, xfailed=1, skipped=1)
    rows = drift.classify(drift.failures(outcomes, 1), FINDINGS)
    assert [(node, verdict) for node, _, _, verdict in rows] == [
        ("checks/claims/test_lemma_4_1.py::test_control_ascent_is_caught", "unclassified"),
        ("checks/numerics/test_numerics_kernels.py::test_kernel_agrees", "unclassified"),
        ("checks/numerics/test_numerics_pgd.py::test_pgd_equals_the_reference_loop", "classified")]
    assert drift.exit_status(result) == 1
    classified = {node: {"class": "suite defect", "note": "n", "fixed_in": ""} for node, _, _, _ in rows}
    assert drift.exit_status(drift_result(outcomes, findings=classified)) == 0
    # A finding for the id without its parameters covers every parametrization.
    assert drift.finding_for("checks/test_x.py::test_y[seed=3]", {"checks/test_x.py::test_y": "f"}) == "f"
    # Fixed and failing again: unclassified.
    fixed = {"checks/claims/test_lemma_4_1.py::test_gradient_is_bounded_below_in_the_ball": ("failed", "assert")}
    assert drift.unclassified(drift_result(fixed, findings=FINDINGS)) == [
        ("ci", "checks/claims/test_lemma_4_1.py::test_gradient_is_bounded_below_in_the_ball")]
    # Only passes, xfails and skips: nothing to classify.
    fine = {node: outcome for node, outcome in outcomes.items() if outcome[0] != "failed"}
    assert drift.exit_status(drift_result(fine, exit_code=0)) == 0


@pytest.mark.negative_control
def test_control_a_verdict_that_reads_only_the_junit_misses_a_pass_that_crashed(monkeypatch):
    crashed = drift_result({}, exit_code=3)  # an internal error: no test case in the JUnit, no failure in it
    assert drift.exit_status(crashed) == 1
    monkeypatch.setattr(drift, "failures", lambda outcomes, exit_code: {  # the injected bug: exit status ignored
        node: message for node, (outcome, message) in outcomes.items() if outcome == "failed"})
    assert drift.exit_status(crashed) == 0


@pytest.mark.negative_control
def test_control_findings_matched_by_function_name_alone_hide_an_unclassified_failure(monkeypatch):
    failed = {"checks/numerics/test_numerics_kernels.py::test_pgd_equals_the_reference_loop": "assert"}  # same name, other module
    assert [row[3] for row in drift.classify(failed, FINDINGS)] == ["unclassified"]
    by_name = {node.split("::")[-1]: finding for node, finding in FINDINGS.items()}
    monkeypatch.setattr(drift, "finding_for", lambda node, findings: by_name.get(node.split("::")[-1]))  # the bug
    assert [row[3] for row in drift.classify(failed, FINDINGS)] == ["classified"]


def test_drift_md_gives_the_run_the_versions_the_counts_and_every_failure_with_its_class():
    text = drift.render(drift_result(seed_sweep.parse_junit(JUNIT)))
    for expected in ("- date: 2030-01-01 00:00 UTC", "- commit: abc1234", "- Python: 3.11.7 CPython",
                     "- scope: the whole suite",
                     "**2 unclassified failures**",
                     "| hypothesis | 6.170.17 | 6.171.0 | **yes** |", "| numpy | 2.4.6 | 2.4.6 | no |",
                     "1 of 2 packages differ from the lock.",
                     "| ci | ci | — (derandomized) | 1 | 3 | 1 | 1 | 1 | 5.0 min |",
                     "| dev | dev | 42 | 1 | 0 | 0 | 0 | 0 | 2.0 min |",
                     "- `checks/numerics/test_numerics_kernels.py::test_kernel_agrees`: **unclassified** (failure: worker crashed)",
                     "- `checks/numerics/test_numerics_pgd.py::test_pgd_equals_the_reference_loop`: suite defect: "
                     "tolerance too tight for the new numpy (failure: AssertionError: assert False)",
                     "## Failures of the dev pass\n\nNone.",
                     "- `checks/claims/test_lemma_4_1.py::test_gradient_is_bounded_below_in_the_ball` "
                     "(theory finding, fixed in abc1234): a draw below B_l"):
        assert expected in text, expected
    assert "test_pgd_equals_the_reference_loop` (suite defect" not in text  # it failed: not under "not failing"
    clean = drift.render(drift_result({}, exit_code=0))
    assert "No unclassified failure: exit status 0." in clean and "**" not in clean.split("## Versions")[0]
    crashed = drift.render(drift_result({}, exit_code=3))
    assert "- `(pytest exit status 3)`: **unclassified** (failure: pytest did not run the tests" in crashed


def test_the_committed_findings_are_well_formed_and_a_malformed_entry_is_named():
    findings = drift.load_findings((ROOT / "reliability" / "drift_findings.json").read_text(encoding="utf-8"))
    assert all(finding["class"] in drift.CLASSES for finding in findings.values())
    bad = '{"findings": {"checks/test_x.py::test_y": {"class": "flaky", "note": "n", "fixed_in": ""}}}'
    with pytest.raises(ValueError, match=r"test_y.*class must be one of"):
        drift.load_findings(bad)
    with pytest.raises(ValueError, match="note must be a non-empty string"):
        drift.load_findings('{"findings": {"t": {"class": "suite defect", "note": " ", "fixed_in": ""}}}')
    with pytest.raises(ValueError, match="exactly the keys"):
        drift.load_findings('{"findings": {"t": {"class": "suite defect", "note": "n"}}}')


def test_the_drift_options_need_an_existing_venv_to_skip_the_install(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        drift.parse_args(["--skip-install"])
    assert stopped.value.code == 2 and "--skip-install needs --venv" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        drift.parse_args(["--skip-install", "--venv", str(tmp_path / "missing")])
    args = drift.parse_args(["--seed", "7", "--pytest-args", "-k 'geometry and not slow'", "--out", str(tmp_path / "D.md")])
    assert (args.seed, args.pytest_args, args.out) == (7, "-k 'geometry and not slow'", tmp_path / "D.md")


def test_the_sample_is_judged_on_the_mutants_that_are_not_equivalent_with_the_undetectable_ones_as_survivors():
    # One stratum, all of it sampled: 8 killed, one equivalent and one undetectable survivor.
    rows = ([("pgd", f"theory.pgd.x_f__mutmut_{i}", "killed", "pgd.f", f"a = {i}", f"a = {i + 1}") for i in range(8)]
            + [("pgd", "theory.pgd.x_f__mutmut_8", "survived", "pgd.f", "x = 1", "x = 2"),
               ("pgd", "theory.pgd.x_f__mutmut_9", "survived", "pgd.f", "u = 8", "u = 9")])
    sample = {"seed": 1, "population": {"pgd": 10}, "sample": {"pgd": [row[1] for row in rows]}}
    equivalents = {("pgd.f", "x = 1", "x = 2"): ("same value", False), ("pgd.f", "u = 8", "u = 9"): ("allowance", True)}
    text = "\n".join(mutation_report.sample_lines(rows, sample, equivalents))
    assert "not equivalent (the undetectable ones counted as survivors): **88.9%**" in text  # 8 of 9
    assert "(the equivalent ones counted as not detected too): 80.0%" in text             # 8 of 10
    without = "\n".join(mutation_report.sample_lines(rows, sample, {}))
    assert "counted as survivors): **80.0%**" in without


def test_a_sampled_mutant_whose_function_went_is_not_checked_rather_than_a_survivor():
    rows = [("pgd", f"theory.pgd.x_f__mutmut_{i}", "killed", "pgd.f", f"a = {i}", f"a = {i + 1}") for i in range(9)]
    sample = {"seed": 1, "population": {"pgd": 10}, "sample": {"pgd": [row[1] for row in rows] + ["theory.pgd.x_g__mutmut_1"]}}
    text = "\n".join(mutation_report.sample_lines(rows, sample, {}))
    assert "9 of the 10 checked (1 sampled mutants are not among the generated ones" in text
    assert "on that lower bound: not decided yet." in text
    kept = [(m, None, *rest) for m, _key, *rest in rows]  # kept results carry no keys: nothing to compare
    assert "10 of the 10 checked." in "\n".join(mutation_report.sample_lines(kept, sample, {}))
