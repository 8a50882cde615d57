"""The claims report command (``python -m theory``) end to end on a small fake ``checks/`` folder.

A claim module with a property, a literal statement, a control that finds its
counterexample and one that cannot, run in a subprocess from a temporary directory:
the report's contents, the loud weakness, an interrupted run (SIGINT) and a crash
while writing that both leave the previous report untouched, the ``plots`` extra
missing and present, the example database's path and its replay on the next run.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given

from theory.experiments import figure1
from theory.experiments.scale import FIGURE_WIDTH
from theory import report as R
from theory.report import markdown
from theory.report.cli import main
from theory.report.claims import CLAIMS, claim_for_module

from .report_support import GOLDEN, ROOT, golden_markdown, records, report_of, run_command, synthetic_study

# --- the command end to end on a fake checks folder -----------------------------------------

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
    lines = result.stdout.splitlines()
    assert lines[0] == "claims report: Hypothesis profile report, 0 workers, checks in checks"
    assert lines[-1] == "report written to report/claims.md and report/claims.json"


#: Each option of ``python -m theory --help`` and its whole help text.
HELP_ENTRIES = (
    ("--profile {report,dev,ci,thorough}", "Hypothesis profile (default: report)"),
    ("--checks CHECKS", "folder of the checks (default: the checks of this package: checks/ of the source tree "
                        "it was imported from, or the copy installed with it)"),
    ("--out OUT", "report folder (default: ./report)"),
    ("--workers WORKERS", "pytest-xdist workers: a number, 'auto' (one per core, the default) or 0 (no xdist)"),
    ("--figure-draws N", "draws per panel for the section 5.1 table of minima (default: "
                         "theory.experiments.scale.TABLE_DRAWS)"),
    ("--no-figure", "skip Figure 1 and the section 5.1 table"),
    ("--no-real", "skip Figures 2 and 3 on the digits (run with the extra 'real')"),
    ("--no-conformance", "skip the attack libraries' conformance section (run with the extra 'attacks')"),
    ("-k KEYWORD", "only run checks matching this pytest -k expression (the report marks the others 'not run')"),
)

#: What ``--help`` says after the options: the profiles.
HELP_EPILOG = ("Profiles (theory/testing/profiles.py): report = the default, randomized, sized to finish in about "
               "5 minutes on 2 cores; dev = fast feedback; ci = derandomized, as CI runs it; thorough = 200 examples "
               "per property, for release checks and the seed sweep. Randomized profiles keep Hypothesis's example "
               "database at ./.hypothesis/examples (or $THEORY_EXAMPLE_DB), so a counterexample found once replays "
               "first on every later run.")


def test_command_help_says_what_the_command_and_each_option_do():
    result = subprocess.run([sys.executable, "-m", "theory", "--help"], capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    text = " ".join(result.stdout.split())
    assert result.returncode == 0 and text.startswith("usage: python -m theory [-h] ")
    assert ("] Run every claim's checks and write the claims report (python -m theory or theory-claims). "
            "options: ") in text
    # Each option's whole help, between its name and the next option (or the epilog).
    for option, phrase in HELP_ENTRIES:
        assert re.search(re.escape(f" {option} {phrase}") + r" (-|Profiles)", text), (option, text)
    assert text.endswith(f" {HELP_EPILOG}")


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


def test_a_pytest_usage_error_writes_no_report_and_names_its_exit_status(project):
    old = _previous_report(project)
    result = run_command(project, "-k", "(")  # an expression pytest cannot parse: exit status 4
    assert result.returncode == 1
    assert ("error: pytest did not finish (exit status 4); no report written, any previous report in report "
            "is unchanged") in result.stderr
    assert (old / "claims.md").read_text() == "previous report\n"


def test_interrupted_run_leaves_the_previous_report_untouched(project):
    old = _previous_report(project)
    marker = project / "started"
    env = dict(os.environ, PYTHONPATH=str(ROOT), FAKE_WAIT=str(marker))
    env.pop("HYPOTHESIS_PROFILE", None)
    proc = subprocess.Popen([sys.executable, "-m", "theory", "--checks", "checks", "--workers", "0", "--no-figure", "--no-conformance", "--no-real"],
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
        main(["--checks", "checks", "--workers", "0", "--no-figure", "--no-conformance", "--no-real", "-k", "bound_holds"])
    assert (old / "claims.md").read_text() == "previous report\n"
    assert not (old / "claims.json").exists()
    assert sorted(p.name for p in project.iterdir() if p.name.startswith(".report")) == []


def test_a_pytest_interrupted_on_its_own_writes_no_report_and_exits_130(project, monkeypatch, capsys):
    # pytest's exit status 2 (interrupted) after it wrote its results: the results are partial,
    # so no report is written from them.
    old = _previous_report(project)
    monkeypatch.chdir(project)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.delenv("HYPOTHESIS_PROFILE", raising=False)
    real_call = subprocess.call
    monkeypatch.setattr(subprocess, "call", lambda cmd, **kw: (real_call(cmd, **kw), 2)[1])
    code = main(["--checks", "checks", "--workers", "0", "--no-figure", "--no-conformance", "--no-real", "-k", "bound_holds"])
    assert code == 130
    assert ("error: pytest did not finish (exit status 2); no report written, any previous report in report "
            "is unchanged") in capsys.readouterr().err
    assert (old / "claims.md").read_text() == "previous report\n"


def test_report_without_the_plots_extra_says_so_and_keeps_the_table(project, monkeypatch):
    monkeypatch.chdir(project)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.delenv("HYPOTHESIS_PROFILE", raising=False)
    monkeypatch.setattr(figure1, "plots_available", lambda: False)
    main(["--checks", "checks", "--workers", "0", "--figure-draws", "1", "--no-conformance", "--no-real", "-k", "bound_holds"])
    report = json.loads((project / "report" / "claims.json").read_text())
    assert report["figure1"]["status"] == "table only"
    assert not (project / "report" / "figure1.png").exists()
    assert (project / "report" / "figure1_minima.md").exists()
    table = json.loads((project / "report" / "figure1_minima.json").read_text())
    assert (table["d"], table["width"], table["draws"], table["seed"]) == (2, FIGURE_WIDTH, 1, 0)
    assert "the `plots` extra is not installed" in (project / "report" / "claims.md").read_text()


def test_report_with_the_plots_extra_includes_figure_1(project, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(project)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.delenv("HYPOTHESIS_PROFILE", raising=False)
    main(["--checks", "checks", "--workers", "0", "--figure-draws", "1", "--no-conformance", "--no-real", "-k", "bound_holds"])
    assert (project / "report" / "figure1.png").stat().st_size > 10_000
    assert "![Figure 1](figure1.png)" in (project / "report" / "claims.md").read_text()


@pytest.mark.parametrize("installed", [True, False], ids=["with the attacks extra", "without it"])
def test_report_has_the_conformance_section_when_the_attacks_extra_is_installed(project, monkeypatch, installed):
    import theory.attacks.libraries as libraries
    from theory.attacks import ProjectPGD
    from theory.report import cli

    # The libraries stand in for by the project's PGD (with the extra), or missing with a reason (without it).
    found = ([ProjectPGD()], {}) if installed else ([], {"torchattacks": "torch is not installed"})
    monkeypatch.setattr(libraries, "available_attacks", lambda: found)
    monkeypatch.setattr(cli, "CONFORMANCE_EXAMPLES", 2)
    monkeypatch.chdir(project)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.delenv("HYPOTHESIS_PROFILE", raising=False)
    main(["--checks", "checks", "--workers", "0", "--no-figure", "--no-real", "-k", "bound_holds"])
    report = json.loads((project / "report" / "claims.json").read_text())
    text = (project / "report" / "claims.md").read_text()
    assert report["conformance"]["status"] == ("run" if installed else "not run")
    assert (project / "report" / "conformance.json").exists() == installed
    assert "## Attack libraries against the paper's PGD" in text
    assert ("| theory.pgd.pgd |" in text) if installed else ("the `attacks` extra is not" in text)
    # The message says what ran: one attack, two draws per single-step property.
    ran = ("The L2 PGDs of 1 attack libraries against the paper's algorithm (2 draws per single-step property; "
           "every deviation's shrunk reproducer in `conformance.md`).")
    assert (report["conformance"]["message"] == ran) == installed


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
    text = ("checks/claims/test_theorem_3_1.py:9: in test_p\n    assert n < 50\nE   AssertionError: distance 2.1 x K'\n"
            "E   Failing test case: test_p(\nE       case=(make_problem(7, 130, seed=3), 1),\nE   )\n"
            "E   You can reproduce this test case by temporarily adding @reproduce_failure('6.1', b'AXic') as a "
            "decorator on your test function\n")
    recs = [{"nodeid": "checks/claims/test_theorem_3_1.py::test_p", "module": claim.module, "name": "test_p",
             "claim": claim.key, "kind": "property", "outcome": "failed", "duration_s": 0, "markers": [],
             "xfail_reason": None, "text": text, "tally": None}]
    entry = next(c for c in report_of(recs)["claims"] if c["key"] == claim.key)
    assert entry["status"] == "fails"
    failure = entry["failures"][0]
    assert failure["message"] == "AssertionError: distance 2.1 x K'"
    assert "case=(make_problem(7, 130, seed=3), 1)," in failure["counterexample"]
    assert failure["reproduce_failure"] == "@reproduce_failure('6.1', b'AXic')"
    assert "checks/claims/test_theorem_3_1.py::test_p" in failure["replay"]
    md = R.render_markdown(report_of(recs))
    assert "**FAILS** in `test_p`" in md and "seed=3" in md
    assert f"  Replay: `{failure['replay']}`; `@reproduce_failure('6.1', b'AXic')`" in md.splitlines()
    # Without Hypothesis's reproduce line (a failure it did not generate) the replay command stands alone.
    recs[0]["text"] = text.split("E   You can reproduce")[0]
    failure = next(c for c in report_of(recs)["claims"] if c["key"] == claim.key)["failures"][0]
    assert failure["reproduce_failure"] in ("", None)
    assert f"  Replay: `{failure['replay']}`" in R.render_markdown(report_of(recs)).splitlines()


def test_randomized_profiles_keep_the_example_database_at_the_documented_path():
    from hypothesis import settings

    from theory.testing.profiles import example_database_root

    # The source tree's root in a checkout; the working directory for the installed checks.
    root = example_database_root(Path(__file__).resolve().parents[1])
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


@pytest.mark.parametrize("installed", [True, False], ids=["with the real extra", "without it"])
def test_report_has_the_real_data_section_when_the_real_extra_is_installed(project, monkeypatch, installed):
    import theory.experiments.real as real
    import theory.experiments.real.__main__ as command
    from theory.experiments.real.report import study_json, study_markdown

    def stand_in(out, *, images=None, seed=0, figures=True):  # the study without training (seconds, not minutes)
        summary = study_json(*synthetic_study())
        (Path(out) / "escape.md").write_text(study_markdown(summary), encoding="utf-8")
        return summary, [str(Path(out) / "escape.md")]

    monkeypatch.setattr(real, "available", lambda: installed)
    monkeypatch.setattr(command, "run", stand_in)
    monkeypatch.chdir(project)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.delenv("HYPOTHESIS_PROFILE", raising=False)
    main(["--checks", "checks", "--workers", "0", "--no-figure", "--no-conformance", "-k", "bound_holds"])
    report = json.loads((project / "report" / "claims.json").read_text())
    text = (project / "report" / "claims.md").read_text()
    assert report["real_data"]["status"] == ("run" if installed else "not run")
    assert (project / "report" / "escape.md").exists() == installed
    assert "## Figures 2 and 3 on real data (digits, CNN)" in text
    assert ("| ratio r | convention |" in text) if installed else ("the `real` extra is not installed" in text)


def golden_difference(text):
    """The unified diff of ``text`` against the golden Markdown (empty when they agree)."""
    import difflib

    return "".join(difflib.unified_diff(GOLDEN.read_text(encoding="utf-8").splitlines(True), text.splitlines(True),
                                        "report_golden.md", "rendered", n=1))


def test_the_markdown_of_the_pinned_reports_is_the_golden_file():
    # Every line the Markdown can print, on two pinned reports (report_support.golden_report). After
    # a deliberate change of the report's text: python -m checks.suite.report_support, and review the diff.
    assert golden_difference(golden_markdown()) == ""


@pytest.mark.negative_control
def test_control_a_changed_anchor_differs_from_the_golden_file(monkeypatch):
    monkeypatch.setattr(markdown, "_anchor", lambda claim: claim["key"])
    assert golden_difference(golden_markdown()) != ""


@pytest.mark.parametrize("dirty", [False, True])
def test_the_report_names_the_commit_of_its_source_tree_and_whether_it_is_dirty(tmp_path, dirty):
    from theory.report.cli import _commit

    def git(*args):
        return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path,
                              capture_output=True, text=True, check=True).stdout.strip()

    assert _commit(tmp_path) is None  # no pyproject.toml: not a source tree
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    assert _commit(tmp_path) is None  # not a git checkout
    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "x")
    if dirty:
        (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert _commit(tmp_path) == git("rev-parse", "--short", "HEAD") + ("+dirty" if dirty else "")
