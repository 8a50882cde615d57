"""The claims report command (``python -m theory``): contents, schema, interrupted runs, missing extras.

Two layers, as the command has them:

* :func:`theory.report.build_report` on records (no pytest run): the status
  rules of :mod:`theory.report` as properties over Hypothesis-drawn records,
  pinned cases for each status, and the JSON schema (a report that breaks the
  schema is rejected: the schema check's negative control);
* the command end to end on a small fake ``checks/`` folder in a temporary
  directory (a claim module with a property, a literal statement, a control
  that finds its counterexample and one that cannot), run in a subprocess:
  the report's contents, the loud weakness, an interrupted run (SIGINT) and a
  crash while writing that both leave the previous report untouched, and the
  ``plots`` extra missing.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from .support import counterexample, needs_source_tree
from theory.experiments import figure1
from theory import report as R
from theory.report import markdown
from theory.report.cli import main
from theory.report.claims import CLAIMS, EVIDENCE_LEVELS, TEST_KINDS, claim_for_module, test_kind

ROOT = Path(__file__).resolve().parent.parent
jsonschema = pytest.importorskip("jsonschema")

META = {"generated": "2026-01-01T00:00:00Z", "command": "python -m theory", "version": "0", "commit": None,
        "profile": {"name": "report", "max_examples": 10, "derandomize": False}, "workers": "0",
        "machine": "test", "example_database": None,
        "figure1": {"status": "skipped", "message": "Skipped.", "files": []}}

OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")


@st.composite
def records(draw):
    """A list of per-test records, as theory.report.plugin writes them, over the real claims."""
    out = []
    for i in range(draw(st.integers(0, 12))):
        claim = draw(st.sampled_from(CLAIMS + (None,)))
        kind = draw(st.sampled_from(TEST_KINDS))
        name = {"property": "test_p", "finding": "test_finding_", "literal": "test_literal_",
                "control": "test_control_"}[kind] + str(i)
        evidence = draw(st.dictionaries(st.sampled_from(EVIDENCE_LEVELS), st.integers(0, 50)))
        margins = draw(st.dictionaries(st.sampled_from(["a", "b"]), st.fixed_dictionaries(
            {"value": st.floats(-10, 10), "phase": st.just("generate"), "status": st.just("passed"),
             "notes": st.lists(st.text(max_size=20), max_size=2)})))
        out.append({"nodeid": f"checks/x.py::{name}", "module": claim.module if claim else "test_numerics_x",
                    "name": name, "claim": claim.key if claim else None, "kind": kind,
                    "outcome": draw(st.sampled_from(OUTCOMES)), "duration_s": 0.5, "markers": [],
                    "xfail_reason": None, "text": draw(st.sampled_from(["", "E   assert 1 < 0\nE   Failing test case: t(\nE       n=1,\nE   )"])),
                    "tally": {"examples": draw(st.integers(0, 100)), "failing": 0, "gave_up": 0,
                              "first_failure": None, "evidence": evidence, "margins": margins}})
    return out


def report_of(recs):
    return R.build_report({"exit_status": 0, "records": recs, "wall_s": 1.0}, meta=META)


def test_schema_is_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(json.loads(R.SCHEMA_PATH.read_text()))


@given(records())
def test_every_report_validates_against_the_schema(recs):
    assert R.validate_report(report_of(recs)) is None


def statuses_follow_the_rules(recs, report):
    """A claim fails exactly when one of its properties failed; it is 'not run' exactly when none ran."""
    for claim in report["claims"]:
        mine = [r for r in recs if r["claim"] == claim["key"] and r["kind"] == "property"]
        ran = any(r["outcome"] != "skipped" for r in mine)
        failed = any(r["outcome"] in ("failed", "error") for r in mine)
        if (claim["status"] == "fails") != (ran and failed) or (claim["status"] == "not run") != (not ran):
            return False
    return True


def weak_controls_are_weaknesses(recs, report):
    """Every control of a claim that did not pass (found no counterexample) is counted and named loudly."""
    weak = [r for r in recs if r["claim"] and r["kind"] == "control" and r["outcome"] not in ("passed", "skipped")]
    return (report["summary"]["controls_without_counterexample"] == len(weak)
            and all(any(r["name"] in w and "NO counterexample" in w for w in report["weaknesses"]) for r in weak))


def evidence_is_consistent(recs, report):
    """Fractions sum to one and the level is the highest level with examples ('none' without any)."""
    for claim in report["claims"]:
        ev = claim["evidence"]
        if not ev["examples"]:
            if ev["level"] != "none":
                return False
            continue
        above = EVIDENCE_LEVELS[EVIDENCE_LEVELS.index(ev["level"]) + 1:] if ev["level"] in EVIDENCE_LEVELS else ()
        if (abs(sum(ev["fractions"].values()) - 1.0) > 1e-12 or ev["counts"].get(ev["level"], 0) == 0
                or any(ev["counts"][lvl] for lvl in above)):
            return False
    return True


def worst_margin_is_the_largest(recs, report):
    """A claim's worst margin is the largest margin of its properties (None when they recorded none)."""
    for claim in report["claims"]:
        values = [m["value"] for r in recs if r["claim"] == claim["key"] and r["kind"] == "property"
                  for m in r["tally"]["margins"].values()]
        worst = claim["worst_margin"]
        if (worst is None) != (not values) or (values and worst["value"] != max(values)):
            return False
    return True


RULES = [statuses_follow_the_rules, weak_controls_are_weaknesses, evidence_is_consistent, worst_margin_is_the_largest]


@pytest.mark.parametrize("rule", RULES, ids=lambda f: f.__name__)
@given(recs=records())
def test_report_follows_its_rules(rule, recs):
    assert rule(recs, report_of(recs))


def _everything_holds(report):
    for claim in report["claims"]:
        claim["status"] = "holds"
    return report


def _no_weaknesses(report):
    report["weaknesses"] = []
    return report


def _always_certified(report):
    for claim in report["claims"]:
        claim["evidence"]["level"] = "certified"
    return report


def _first_margin(report):
    for claim in report["claims"]:
        if claim["worst_margin"] is not None:
            claim["worst_margin"]["value"] = -1e9
    return report


@pytest.mark.negative_control
@pytest.mark.parametrize("rule, bug", list(zip(RULES, [_everything_holds, _no_weaknesses, _always_certified,
                                                      _first_margin])), ids=lambda f: f.__name__)
def test_control_each_report_rule_catches_an_injected_bug(rule, bug):
    counterexample(records(), lambda recs: rule(recs, bug(report_of(recs))))


def test_control_a_report_that_breaks_the_schema_is_rejected():
    report = report_of([])
    report["claims"][0]["status"] = "probably holds"
    with pytest.raises(jsonschema.ValidationError):
        R.validate_report(report)


def test_literal_failing_as_recorded_names_the_added_hypothesis():
    claim = claim_for_module("test_lemma_4_1")
    literal = next(iter(claim.repairs))
    recs = [{"nodeid": "n1", "module": claim.module, "name": "test_p", "claim": claim.key, "kind": "property",
             "outcome": "passed", "duration_s": 0, "markers": [], "xfail_reason": None, "text": "", "tally": None},
            {"nodeid": "n2", "module": claim.module, "name": literal, "claim": claim.key, "kind": "literal",
             "outcome": "xfailed", "duration_s": 0, "markers": [], "xfail_reason": "r",
             "text": "E   Failing explicit example: t(\nE       d=1,\nE   )", "tally": None}]
    entry = next(c for c in report_of(recs)["claims"] if c["key"] == claim.key)
    assert entry["status"] == "holds only with an added hypothesis"
    assert entry["added_hypotheses"][0]["hypothesis"] == claim.repairs[literal]
    assert "d=1" in entry["added_hypotheses"][0]["literal_counterexample"]


def literal_tests(claim):
    """Names of the literal tests (``def test_literal_*``) in a claim's check module."""
    source = (Path(__file__).resolve().parent / f"{claim.module}.py").read_text()
    return {line.split("(")[0][4:] for line in source.splitlines() if line.startswith("def test_literal_")}


def test_every_claim_module_exists_and_every_literal_test_has_a_named_repair():
    for claim in CLAIMS:
        assert literal_tests(claim) == set(claim.repairs), claim.label


@pytest.mark.negative_control
def test_control_a_literal_test_without_a_named_repair_is_caught():
    claim = claim_for_module("test_theorem_5_1")
    assert literal_tests(claim) != set(dict(list(claim.repairs.items())[1:]))


@pytest.mark.parametrize("name, kind", [("test_control_x", "control"), ("test_literal_x[a]", "literal"),
                                        ("test_finding_x", "finding"), ("test_x", "property")])
def test_test_kind_follows_the_naming_rules(name, kind):
    assert test_kind(name) == kind


# --- the command end to end on a fake checks folder -----------------------------------------

FAKE_CLAIM = textwrap.dedent('''
    import os, time
    import pytest
    from hypothesis import event, example, find, given, note, target
    from hypothesis import strategies as st

    @given(st.integers(0, 100))
    def test_bound_holds(n):
        note(f"draw n={n}: make_problem(2, 3, seed={n})")
        event("evidence: certified" if n % 2 else "evidence: sampled")
        target(n / 200, label="margin: n / 200")
        assert n <= 100

    @pytest.mark.xfail(strict=True, raises=AssertionError, reason="literal")
    @example(n=7)
    @given(st.integers(0, 5))
    def test_literal_projection_bound_fails_for_inward_steps(n):
        assert n != 7

    @pytest.mark.negative_control
    def test_control_finds_a_counterexample():
        find(st.integers(0, 100), lambda n: n > 50)

    @pytest.mark.negative_control
    def test_control_that_cannot_fail():
        find(st.integers(0, 100), lambda n: n > 500)

    @given(st.integers(0, 1000))
    def test_fails_when_asked(n):
        assert not (os.environ.get("FAKE_FAIL") and n >= 1)

    def test_waits_when_asked():
        if os.environ.get("FAKE_WAIT"):
            open(os.environ["FAKE_WAIT"], "w").close()
            time.sleep(60)
''')

FAKE_CONFTEST = textwrap.dedent('''
    import os
    from hypothesis import settings
    from hypothesis.database import DirectoryBasedExampleDatabase
    # As the real conftest.py: parent and derandomize explicit, so that the profile is
    # the same whether or not Hypothesis detects a CI environment.
    settings.register_profile(
        "report", parent=settings.get_profile("default"), max_examples=10, deadline=None,
        derandomize=False, database=DirectoryBasedExampleDatabase(
            os.path.join(os.path.dirname(os.path.abspath(__file__)), ".hypothesis", "examples")))
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "report"))
''')


@pytest.fixture
def project(tmp_path):
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "test_lemma_4_2.py").write_text(FAKE_CLAIM)
    (tmp_path / "checks" / "test_numerics_fake.py").write_text("def test_ok():\n    pass\n")
    (tmp_path / "conftest.py").write_text(FAKE_CONFTEST)
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    negative_control: control\n")
    return tmp_path


def run_command(project, *args, env=None, **kw):
    env = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    env.pop("HYPOTHESIS_PROFILE", None)
    return subprocess.run([sys.executable, "-m", "theory", "--checks", "checks", "--workers", "0", "--no-figure", *args],
                          cwd=project, env=env, capture_output=True, text=True, timeout=300, **kw)


def test_command_writes_every_claim_with_status_evidence_and_a_loud_weakness(project):
    result = run_command(project)
    assert result.returncode == 1, result.stderr  # the control that cannot fail fails its test
    report = json.loads((project / "report" / "claims.json").read_text())
    assert R.validate_report(report) is None
    assert [c["label"] for c in report["claims"]] == [c.label for c in CLAIMS]
    entry = next(c for c in report["claims"] if c["key"] == "lemma_4_2")
    assert entry["status"] == "holds only with an added hypothesis"
    assert entry["evidence"]["level"] == "certified" and 0 < entry["evidence"]["fraction_certified"] < 1
    assert entry["worst_margin"]["value"] <= 0.5 and entry["worst_margin"]["draw"].startswith("make_problem(2, 3, seed=")
    assert entry["worst_margin"]["replay"].startswith("pytest '")
    assert {c["test"]: c["found_counterexample"] for c in entry["controls"]} == {
        "test_control_finds_a_counterexample": True, "test_control_that_cannot_fail": False}
    assert all(c["status"] == "not run" for c in report["claims"] if c["key"] != "lemma_4_2")
    md = (project / "report" / "claims.md").read_text()
    assert "**Lemma 4.2: negative control `test_control_that_cannot_fail` found NO counterexample" in md
    for claim in CLAIMS:
        assert f"## {claim.label}: {claim.title}" in md
    assert "WEAKNESS" in result.stdout and "Lemma 4.2: 6 tests" in result.stdout  # progress per claim


def test_command_help_lists_the_profiles():
    result = subprocess.run([sys.executable, "-m", "theory", "--help"], capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert result.returncode == 0 and "--profile" in result.stdout and "thorough" in result.stdout


@pytest.mark.parametrize("args", [["--workers", "many"], ["--figure-draws", "0"], ["--profile", "quick"]])
def test_command_rejects_bad_arguments(project, args):
    result = run_command(project, *args)
    assert result.returncode == 2 and "error" in result.stderr


def test_command_without_a_checks_folder_says_so(tmp_path):
    result = run_command(tmp_path)
    assert result.returncode == 2 and "no checks folder" in result.stderr


def _previous_report(project):
    old = project / "report"
    old.mkdir()
    (old / "claims.md").write_text("previous report\n")
    return old


def test_interrupted_run_leaves_the_previous_report_untouched(project):
    old = _previous_report(project)
    marker = project / "started"
    env = dict(os.environ, PYTHONPATH=str(ROOT), FAKE_WAIT=str(marker))
    env.pop("HYPOTHESIS_PROFILE", None)
    proc = subprocess.Popen([sys.executable, "-m", "theory", "--checks", "checks", "--workers", "0", "--no-figure"],
                            cwd=project,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,
                            # A shell's background job (nohup, &) ignores SIGINT and children inherit
                            # that, so Python would install no KeyboardInterrupt handler: restore it.
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    assert marker.exists(), "the fake check never started"
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the whole process group, as a terminal sends it
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert (old / "claims.md").read_text() == "previous report\n"
    assert sorted(p.name for p in project.iterdir() if p.name.startswith(".report")) == []


def test_crash_while_writing_leaves_the_previous_report_untouched(project, monkeypatch):
    old = _previous_report(project)
    monkeypatch.chdir(project)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.delenv("HYPOTHESIS_PROFILE", raising=False)

    def crash(report):
        raise RuntimeError("crash while rendering")

    monkeypatch.setattr(R, "render_markdown", crash)
    with pytest.raises(RuntimeError, match="crash while rendering"):
        main(["--checks", "checks", "--workers", "0", "--no-figure", "-k", "bound_holds"])
    assert (old / "claims.md").read_text() == "previous report\n"
    assert not (old / "claims.json").exists()
    assert sorted(p.name for p in project.iterdir() if p.name.startswith(".report")) == []


def test_report_without_the_plots_extra_says_so_and_keeps_the_table(project, monkeypatch):
    monkeypatch.chdir(project)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.delenv("HYPOTHESIS_PROFILE", raising=False)
    monkeypatch.setattr(figure1, "plots_available", lambda: False)
    main(["--checks", "checks", "--workers", "0", "--figure-draws", "1", "-k", "bound_holds"])
    report = json.loads((project / "report" / "claims.json").read_text())
    assert report["figure1"]["status"] == "table only"
    assert not (project / "report" / "figure1.png").exists()
    assert (project / "report" / "figure1_minima.md").exists()
    assert "the `plots` extra is not installed" in (project / "report" / "claims.md").read_text()


def test_report_with_the_plots_extra_includes_figure_1(project, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(project)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.delenv("HYPOTHESIS_PROFILE", raising=False)
    main(["--checks", "checks", "--workers", "0", "--figure-draws", "1", "-k", "bound_holds"])
    assert (project / "report" / "figure1.png").stat().st_size > 10_000
    assert "![Figure 1](figure1.png)" in (project / "report" / "claims.md").read_text()


@given(records())
def test_summary_table_rows_have_one_cell_per_column(recs):
    md = R.render_markdown(report_of(recs))
    lines = md.splitlines()
    start = lines.index("| claim | status | examples | evidence | worst margin | controls |")
    rows = lines[start:start + 2 + len(CLAIMS)]
    for row in rows:
        assert row.replace("\\|", "").count("|") == 7, row


def test_control_an_unescaped_pipe_in_a_status_breaks_the_table(monkeypatch):
    # Lemma 4.3's repair names |cos| <= beta: without escaping, its row gains cells.
    claim = claim_for_module("test_lemma_4_3")
    recs = [{"nodeid": "n", "module": claim.module, "name": "test_p", "claim": claim.key, "kind": "property",
             "outcome": "passed", "duration_s": 0, "markers": [], "xfail_reason": None, "text": "", "tally": None}]
    recs += [{**recs[0], "nodeid": name, "name": name, "kind": "literal", "outcome": "xfailed"}
             for name in claim.repairs]
    monkeypatch.setattr(markdown, "_cell", str)
    with pytest.raises(AssertionError):
        test_summary_table_rows_have_one_cell_per_column.hypothesis.inner_test(recs)


def test_failed_property_reports_fails_with_the_shrunk_counterexample_and_replay():
    claim = claim_for_module("test_theorem_3_1")
    text = ("checks/test_theorem_3_1.py:9: in test_p\n    assert n < 50\nE   AssertionError: distance 2.1 x K'\n"
            "E   Failing test case: test_p(\nE       case=(make_problem(7, 130, seed=3), 1),\nE   )\n"
            "E   You can reproduce this test case by temporarily adding @reproduce_failure('6.1', b'AXic') as a "
            "decorator on your test function\n")
    recs = [{"nodeid": "checks/test_theorem_3_1.py::test_p", "module": claim.module, "name": "test_p",
             "claim": claim.key, "kind": "property", "outcome": "failed", "duration_s": 0, "markers": [],
             "xfail_reason": None, "text": text, "tally": None}]
    entry = next(c for c in report_of(recs)["claims"] if c["key"] == claim.key)
    assert entry["status"] == "fails"
    failure = entry["failures"][0]
    assert failure["message"] == "AssertionError: distance 2.1 x K'"
    assert "case=(make_problem(7, 130, seed=3), 1)," in failure["counterexample"]
    assert failure["reproduce_failure"] == "@reproduce_failure('6.1', b'AXic')"
    assert "checks/test_theorem_3_1.py::test_p" in failure["replay"]
    md = R.render_markdown(report_of(recs))
    assert "**FAILS** in `test_p`" in md and "seed=3" in md


def test_randomized_profiles_keep_the_example_database_at_the_documented_path():
    from hypothesis import settings

    from theory.testing.profiles import example_database_root

    # The source tree's root in a checkout; the working directory for the installed checks.
    root = example_database_root(Path(__file__).resolve().parent)
    assert root == (ROOT if (ROOT / "pyproject.toml").is_file() else Path.cwd())
    for name in ("dev", "report", "thorough"):
        assert Path(settings.get_profile(name).database.path) == R.example_database_path(root)
    assert settings.get_profile("ci").database is None  # derandomized: Hypothesis uses no database


def test_example_database_path_follows_the_environment_variable(monkeypatch, tmp_path):
    monkeypatch.setenv(R.EXAMPLE_DB_ENV, str(tmp_path / "db"))
    assert R.example_database_path(ROOT) == tmp_path / "db"


def test_a_counterexample_found_once_replays_first_on_the_next_run(project):
    def failing_run():
        # CI=true: Hypothesis then loads its own derandomized, database-less "ci" profile
        # at import; the project's profile must not inherit from it.
        result = run_command(project, "-k", "fails_when_asked", env={"FAKE_FAIL": "1", "CI": "true"})
        assert result.returncode == 1, result.stderr
        report = json.loads((project / "report" / "claims.json").read_text())
        entry = next(c for c in report["claims"] if c["key"] == "lemma_4_2")
        return entry["failures"][0], next(t for t in entry["tests"] if t["test"] == "test_fails_when_asked")

    # Every n >= 1 fails, so the first run finds a failure whatever it draws (its first
    # generated example is the simplest, n = 0, which passes) and shrinks it to n = 1.
    first, _ = failing_run()
    assert "n=1," in first["counterexample"]
    # Without the database the first example would again be n = 0 (passing): failing at
    # the first example means the saved counterexample was replayed first.
    again, row = failing_run()
    assert "n=1," in again["counterexample"] and row["examples"] == 1
    # Control: with the database removed, the failure is no longer the first example.
    shutil.rmtree(project / ".hypothesis")
    _, fresh = failing_run()
    assert fresh["examples"] >= 2


# --- the profiles do not depend on whether Hypothesis detects a CI environment ---------------

#: Every Hypothesis CI-detection variable, removed for the "no CI" case.
CI_VARIABLES = ("CI", "__TOX_ENVIRONMENT_VARIABLE_ORIGINAL_CI", "TF_BUILD", "bamboo.buildKey", "BUILDKITE",
                "CIRCLECI", "CIRRUS_CI", "CODEBUILD_BUILD_ID", "GITHUB_ACTIONS", "GITLAB_CI",
                "HEROKU_TEST_RUN_ID", "TEAMCITY_VERSION")

PROFILE_PROBE = textwrap.dedent('''
    import json, sys
    sys.path.insert(0, sys.argv[1])
    from hypothesis import settings
    from hypothesis.database import DirectoryBasedExampleDatabase
    if sys.argv[2] == "conftest":
        from theory.testing.profiles import load_profile  # what checks/conftest.py runs
        load_profile(sys.argv[1] + "/checks")
        names = ("dev", "report", "ci", "thorough", "mutation")
    else:  # the control: a profile registered the naive way, without a parent
        settings.register_profile("naive", max_examples=5, database=DirectoryBasedExampleDatabase("db"))
        names = ("naive",)
    print(json.dumps({n: [settings.get_profile(n).derandomize, settings.get_profile(n).database is not None]
                      for n in names}))
''')


def profile_settings(ci_env, which="conftest"):
    """``{profile: [derandomize, has database]}`` as a fresh interpreter sees them under ``ci_env``."""
    env = {k: v for k, v in os.environ.items() if k not in CI_VARIABLES and k != "HYPOTHESIS_PROFILE"}
    result = subprocess.run([sys.executable, "-c", PROFILE_PROBE, str(ROOT), which], env=dict(env, **ci_env),
                            capture_output=True, text=True, timeout=60, check=True)
    return json.loads(result.stdout)


RANDOMIZED_WITH_DATABASE = [False, True]


@pytest.mark.parametrize("ci_env", [{}, {"CI": "true"}, {"GITHUB_ACTIONS": "true"}], ids=["local", "CI", "GHA"])
def test_profiles_do_not_depend_on_the_ci_environment(ci_env):
    assert profile_settings(ci_env) == {"dev": RANDOMIZED_WITH_DATABASE, "report": RANDOMIZED_WITH_DATABASE,
                                        "ci": [True, False], "thorough": RANDOMIZED_WITH_DATABASE,
                                        "mutation": [True, False]}


@pytest.mark.negative_control
def test_control_a_profile_without_a_parent_is_derandomized_on_ci():
    # The bug the check above guards against: the same registration is randomized
    # locally and silently derandomized once Hypothesis detects CI.
    assert profile_settings({}, "naive") == {"naive": RANDOMIZED_WITH_DATABASE}
    assert profile_settings({"CI": "true"}, "naive") != {"naive": RANDOMIZED_WITH_DATABASE}


# --- the report under several xdist workers ----------------------------------------------------

def report_summary(project, *args):
    """What a report says, without its timings: per claim the status, and per test its outcome and kind."""
    run_command(project, *args)
    report = json.loads((project / "report" / "claims.json").read_text())
    return ({c["key"]: c["status"] for c in report["claims"]},
            sorted((c["key"], t["test"], t["kind"], t["outcome"], t["examples"] > 0)
                   for c in report["claims"] for t in c["tests"]),
            sorted((w if isinstance(w, str) else json.dumps(w, sort_keys=True)) for w in report["weaknesses"]))


def test_report_with_two_workers_says_what_one_process_says(project):
    # Two xdist workers send their tallies to the controller at once: every test is
    # reported once, with the same outcome, status and weaknesses as without workers.
    assert report_summary(project, "--workers", "2") == report_summary(project)


@pytest.mark.negative_control
def test_control_a_report_that_lost_a_test_is_caught(project):
    # A run whose workers lost one test's result (simulated: the test deselected)
    # differs from the full report, so the comparison above would catch it.
    assert report_summary(project, "--workers", "2", "-k", "not bound_holds") != report_summary(project)


# --- the report from an installed package -------------------------------------------------------

def pytest_settings_agree(pyproject_text, table):
    """pyproject.toml's [tool.pytest.ini_options] carries every setting of ``table`` (PYTEST_INI), the same."""
    import tomllib

    ini = tomllib.loads(pyproject_text)["tool"]["pytest"]["ini_options"]

    def normal(value):
        if isinstance(value, bool):
            return str(value).lower()
        return [" ".join(str(v).split()) for v in value] if isinstance(value, list) else " ".join(str(value).split())
    return all(key in ini and normal(ini[key]) == normal(value) for key, value in table.items())


@needs_source_tree
def test_pyproject_carries_the_pytest_settings_the_report_passes_to_installed_checks():
    from theory.testing.profiles import PYTEST_INI
    assert pytest_settings_agree((ROOT / "pyproject.toml").read_text(encoding="utf-8"), PYTEST_INI)


@needs_source_tree
def test_control_a_table_without_strict_xfails_disagrees_with_pyproject():
    from theory.testing.profiles import PYTEST_INI
    assert not pytest_settings_agree((ROOT / "pyproject.toml").read_text(encoding="utf-8"),
                                     {**PYTEST_INI, "xfail_strict": "false"})


def _setuptools_can_build():
    try:
        from importlib.metadata import version
        return int(version("setuptools").split(".")[0]) >= 77  # [build-system] requires setuptools>=77
    except Exception:
        return False


def install_into_a_fresh_environment(base):
    """The project built as a wheel and installed (not editable) into a fresh virtual environment under ``base``.

    The wheel is built from a copy of the sources (the build writes build/ and an
    egg-info next to them). The environment borrows this one's dependencies through
    a .pth file (no network), but not its copy of theory: the wheel's comes first on
    sys.path, and an editable install's finder is not loaded from a borrowed folder.
    Returns the environment's folder and its site-packages.
    """
    import sysconfig
    import venv

    source = base / "source"
    for name in ("theory", "checks"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    dist = base / "dist"
    build = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), str(source)]
    if _setuptools_can_build():
        build.insert(4, "--no-build-isolation")
    subprocess.run(build, check=True, capture_output=True, timeout=600)
    (wheel,) = dist.glob("*.whl")
    env_dir = base / "env"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    "--no-index", str(wheel)], check=True, capture_output=True, timeout=600)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    borrowed = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site) / "_borrowed_dependencies.pth").write_text("\n".join(sorted(borrowed)) + "\n")
    return env_dir, Path(site)


@needs_source_tree
def test_the_installed_package_writes_a_report_from_an_empty_folder(tmp_path):
    env_dir, site = install_into_a_fresh_environment(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HYPOTHESIS_PROFILE", R.EXAMPLE_DB_ENV)}
    for command in (["bin/theory-claims"], ["bin/python", "-m", "theory"]):
        empty = tmp_path / f"empty-{len(command)}"
        empty.mkdir()
        result = subprocess.run([str(env_dir / command[0]), *command[1:], "--profile", "dev", "--workers", "0",
                                 "--no-figure", "-k", "test_lemma_4_2"], cwd=empty, env=env, capture_output=True,
                                text=True, timeout=600)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        report = json.loads((empty / "report" / "claims.json").read_text(encoding="utf-8"))
        statuses = {c["key"]: c["status"] for c in report["claims"]}
        assert statuses["lemma_4_2"] == "holds only with an added hypothesis"
        assert {s for k, s in statuses.items() if k != "lemma_4_2"} == {"not run"}
        assert str(site / "theory" / "checks") in result.stdout  # the installed checks ran, not the checkout's
        # The example database is the working directory's, never site-packages'.
        assert Path(report["example_database"]).resolve() == (empty / ".hypothesis" / "examples").resolve()
    assert not (site / ".hypothesis").exists() and not (site / "theory" / ".hypothesis").exists()


@needs_source_tree
def test_the_default_checks_of_a_source_tree_are_its_checks_folder():
    from theory.report.cli import default_checks

    assert default_checks() == ROOT / "checks"
