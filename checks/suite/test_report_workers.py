"""The claims report under several pytest-xdist workers says what one process says; its progress lines."""

import json
import re
from types import SimpleNamespace

import pytest


from .report_support import run_command
from theory.report.plugin import _Recorder

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


def group_lines(output):
    """The progress lines that close a group of tests (``<elapsed>  <group>: N tests, ...``)."""
    return sorted(line.split("  ", 1)[1].split(",")[0] for line in output.splitlines()
                  if re.match(r"^ *\d+m\d+s  [^\[].*: \d+ tests, ", line))


def test_with_two_workers_each_group_of_tests_is_closed_once_when_all_its_tests_are_done(project):
    # The controller learns the collected tests from the workers; without them it would close a
    # group after each of its tests.
    assert group_lines(run_command(project, "--workers", "2").stdout) == ["Lemma 4.2: 6 tests",
                                                                          "test_numerics_fake: 1 tests"]
    assert group_lines(run_command(project).stdout) == ["Lemma 4.2: 6 tests", "test_numerics_fake: 1 tests"]


def test_a_groups_closing_line_counts_the_examples_its_tests_ran(project):
    output = run_command(project).stdout
    report = json.loads((project / "report" / "claims.json").read_text())
    ran = sum(t["examples"] for c in report["claims"] if c["key"] == "lemma_4_2" for t in c["tests"])
    closing = [int(m.group(1)) for m in re.finditer(r"(?m)^ *\d+m\d\ds  Lemma 4\.2: 6 tests, (\d+) examples \(", output)]
    assert closing == [ran] and ran > 0


@pytest.mark.negative_control
def test_control_a_report_that_lost_a_test_is_caught(project):
    # A run whose workers lost one test's result (simulated: the test deselected)
    # differs from the full report, so the comparison above would catch it.
    assert report_summary(project, "--workers", "2", "-k", "not bound_holds") != report_summary(project)


class _Reporter:
    """What pytest's terminal reporter is asked to do."""

    def __init__(self):
        self.calls = []

    def ensure_newline(self):
        self.calls.append("newline")

    def write_line(self, text):
        self.calls.append(text)


def test_a_progress_line_goes_to_the_terminal_reporter_on_a_line_of_its_own(capsys):
    # Between the dots of ``-q`` a progress line must start a line: the terminal reporter is
    # asked for a new line first. Without the reporter (``-p no:terminal``) the line is printed.
    reporter = _Reporter()
    manager = SimpleNamespace(get_plugin=lambda name: reporter if name == "terminalreporter" else None)
    recorder = SimpleNamespace(config=SimpleNamespace(pluginmanager=manager), last_progress=0.0)
    _Recorder._line(recorder, "0m01s  Lemma 4.2: 6 tests")
    assert reporter.calls == ["newline", "0m01s  Lemma 4.2: 6 tests"]
    assert capsys.readouterr().out == "" and recorder.last_progress > 0.0
    manager.get_plugin = lambda name: None
    _Recorder._line(recorder, "0m02s  Lemma 4.3: 1 tests")
    assert capsys.readouterr().out == "0m02s  Lemma 4.3: 1 tests\n"


def _report(when, outcome, **extra):
    return SimpleNamespace(when=when, outcome=outcome, failed=outcome == "failed", skipped=outcome == "skipped", **extra)


def test_each_test_report_is_named_by_one_word():
    from theory.report.plugin import _outcome

    assert [_outcome(_report("call", o)) for o in ("passed", "failed", "skipped")] == ["passed", "failed", "skipped"]
    assert [_outcome(_report(w, o)) for w, o in (("setup", "failed"), ("teardown", "failed"), ("setup", "skipped"),
                                                  ("setup", "passed"))] == ["error", "error", "skipped", "passed"]
    assert _outcome(_report("call", "skipped", wasxfail="")) == "xfailed"
    assert _outcome(_report("call", "passed", wasxfail="")) == "xpassed"


def _observation(phase, margin, status="passed"):
    from theory.report.plugin import MARGIN_PREFIX

    return SimpleNamespace(type="test_case", status=status, features={f"target:{MARGIN_PREFIX}bound": margin},
                           metadata=SimpleNamespace(phase=phase, notes=[f"note at {margin}"]))


def test_a_tally_keeps_the_largest_margin_of_each_label_and_counts_the_examples():
    from theory.report.plugin import Tally

    tally = Tally()
    for phase, margin in (("generate", 0.3), ("generate", 0.1), ("shrink", 0.9), ("target", 0.2)):
        tally.add(_observation(phase, margin))
    tally.add(_observation("generate", 0.05, status="gave_up"))
    kept = tally.as_dict()
    assert (kept["examples"], kept["gave_up"], kept["failing"]) == (3, 1, 0)
    assert (kept["margins"]["bound"]["value"], kept["margins"]["bound"]["notes"]) == (0.3, ["note at 0.3"])


def test_a_group_still_running_after_the_progress_interval_gets_a_progress_line(monkeypatch):
    # Between the lines that close groups, a line every PROGRESS_INTERVAL_S says how far the run is.
    from collections import Counter, defaultdict

    from theory.report import plugin

    monkeypatch.setattr(plugin, "PROGRESS_INTERVAL_S", -1.0)
    lines = []
    first, second = (f"checks/claims/test_lemma_4_2.py::test_{name}" for name in ("a", "b"))
    recorder = SimpleNamespace(done=defaultdict(set), expected=defaultdict(set, {"Lemma 4.2": {first, second}}),
                               examples=Counter(), records={first: {"outcome": "passed"}}, started=0.0,
                               last_progress=0.0, _line=lines.append)
    plugin._Recorder._finished(recorder, first, {"tally": {"examples": 7}})
    assert len(lines) == 1 and re.fullmatch(r" *\d+m\d\ds  \[1/2 tests, 7 examples\] running: Lemma 4\.2 1/2", lines[0])
