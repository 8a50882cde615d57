r"""pytest plugin behind the claims report: per-test outcomes, Hypothesis observations, progress.

Loaded by ``python -m theory`` as ``pytest -p theory.report.plugin --claims-results=PATH``;
inert without ``--claims-results``. It runs the checks themselves (no second copy of
the properties) and reads what Hypothesis saw through its observability callbacks
(:func:`hypothesis.internal.observability.add_observability_callback`):

* on each process that runs tests (the pytest-xdist workers, or pytest itself),
  every Hypothesis test case is folded into a per-test :class:`Tally` (examples,
  failing examples, evidence events, the largest margin with the draw's notes);
  the tally travels with the test's report (``user_properties``), which
  pytest-xdist sends to the controller;
* on the controller, the reports are grouped by claim (:mod:`theory.report.claims`),
  progress is printed per claim, and at the end one JSON file of per-test
  records is written to ``PATH`` (:func:`theory.report.build_report` turns it
  into the report).

Coverage tracing, which Hypothesis's observability switches on by default, is
turned off (it only feeds Hypothesis's own coverage-guided features and slows
every example).

This module imports pytest; it is only ever imported by pytest (the ``-p`` option),
so :mod:`theory` itself stays importable without it.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections import Counter, defaultdict

import pytest

from theory.testing.example_database import describe_database
from theory.report.claims import EVIDENCE_PREFIX, MARGIN_PREFIX, claim_for_module, test_kind

#: The ``user_properties`` key that carries a test's tally from worker to controller.
TALLY_KEY = "claims-report-tally"

#: Phases whose test cases count as examples run (shrinking and explaining re-run a failure).
COUNTED_PHASES = ("explicit", "reuse", "generate", "target")

#: Seconds between progress lines when the output is not a terminal.
PROGRESS_INTERVAL_S = 20.0

#: Notes kept with a test's worst margin (the draw comes first, the margin's own note last).
MAX_NOTES = 6

#: Longest text kept from a failure's report.
MAX_TEXT = 6000


def pytest_addoption(parser):
    group = parser.getgroup("claims report")
    group.addoption("--claims-results", default=None, metavar="PATH",
                    help="write per-test records for the claims report to PATH (used by python -m theory)")


def pytest_configure(config):
    path = config.getoption("claims_results")
    if path:
        config.pluginmanager.register(_Recorder(config, path), "claims-report-recorder")


class Tally:
    """What Hypothesis observed during one test: a fold over its test cases.

    Attributes
    ----------
    examples : int
        Test cases in the phases of :data:`COUNTED_PHASES` that did not give up.
    failing : int
        Of those, the ones that failed (for a negative control: counterexamples).
    first_failure : int or None
        1-based index of the first failing counted example (a control's search length).
    evidence : Counter
        Evidence level -> number of passing counted examples that recorded it.
    margins : dict
        Margin label -> {"value", "notes", "phase", "status"} of its largest value.
    """

    def __init__(self):
        self.examples = 0
        self.failing = 0
        self.gave_up = 0
        self.first_failure = None
        self.evidence = Counter()
        self.margins = {}

    def add(self, observation):
        if getattr(observation, "type", None) != "test_case":
            return
        phase = observation.metadata.phase
        if observation.status == "gave_up":
            self.gave_up += 1
            return
        if phase not in COUNTED_PHASES:
            return
        self.examples += 1
        failed = observation.status == "failed"
        if failed:
            self.failing += 1
            if self.first_failure is None:
                self.first_failure = self.examples
        for key, value in observation.features.items():
            if key.startswith(EVIDENCE_PREFIX) and not failed:
                self.evidence[key[len(EVIDENCE_PREFIX):]] += 1
            elif key.startswith("target:" + MARGIN_PREFIX):
                label = key[len("target:" + MARGIN_PREFIX):]
                best = self.margins.get(label)
                if best is None or float(value) > best["value"]:
                    notes = [str(n) for n in observation.metadata.notes]
                    self.margins[label] = {
                        "value": float(value), "phase": phase, "status": observation.status,
                        **margin_parts(label, notes),
                        "notes": [n[:400] for n in notes[:MAX_NOTES]]}

    def as_dict(self):
        return {"examples": self.examples, "failing": self.failing, "gave_up": self.gave_up,
                "first_failure": self.first_failure, "evidence": dict(self.evidence),
                "margins": self.margins}


_MARGIN_NOTE = re.compile(r"observed (?P<observed>\S+), allowed (?P<allowed>\S+), ratio")
_RECIPE = re.compile(r"(?:make_problem|Problem)\([^()]*\)")


def margin_parts(label, notes):
    """What a margin measured, from the draw's notes: observed, allowed, side, and the draw's replay recipe.

    :func:`checks.support.margin` notes ``margin <what>: observed X, allowed Y, ratio R`` and puts
    the side of the bound in the label (``[upper bound]`` / ``[lower bound]``); the draw is the first
    ``make_problem(...)`` / ``Problem(...)`` call in the notes (None when the draw is not a problem).
    """
    what = label.rsplit(" [", 1)[0]
    line = next((n for n in notes if n.startswith(f"margin {what}:")), "")
    match = _MARGIN_NOTE.search(line)
    parts = {"observed": None, "allowed": None,
             "side": "lower" if label.endswith("[lower bound]") else "upper", "recipe": None}
    if match:
        try:
            parts["observed"], parts["allowed"] = float(match["observed"]), float(match["allowed"])
        except ValueError:
            pass
    recipe = next((m.group(0) for m in map(_RECIPE.search, notes) if m), None)
    parts["recipe"] = recipe
    return parts


def _outcome(report):
    """One word for a test report: passed, failed, error, skipped, xfailed, xpassed."""
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed"
    if report.when != "call":
        return "error" if report.failed else ("skipped" if report.skipped else "passed")
    return report.outcome


def _failure_text(report):
    text = getattr(report, "longreprtext", "") or ""
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT // 3] + "\n[...]\n" + text[-(2 * MAX_TEXT) // 3:]
    return text


class _Recorder:
    """Registered when ``--claims-results`` is given (workers and controller alike)."""

    def __init__(self, config, path):
        from hypothesis.internal import observability

        self.config = config
        self.path = path
        self.is_worker = hasattr(config, "workerinput")
        self.tally = None
        self.records = {}
        self.expected = defaultdict(set)
        self.done = defaultdict(set)
        self.examples = Counter()
        self.started = time.monotonic()
        self.last_progress = self.started
        self.tty = sys.stdout.isatty()
        # Observability's coverage tracing is for Hypothesis's own use; it slows
        # every example (sys.settrace before Python 3.12). Hypothesis documents
        # monkeypatching this flag.
        observability.OBSERVABILITY_COLLECT_COVERAGE = False
        observability.add_observability_callback(self._observe)

    # -- every process that runs tests -------------------------------------------------
    def _observe(self, observation):
        if self.tally is not None:
            self.tally.add(observation)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        self.tally = Tally()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if call.when == "call" and self.tally is not None:
            markers = sorted({m.name for m in item.iter_markers()})
            report.user_properties.append(
                (TALLY_KEY, json.dumps({"tally": self.tally.as_dict(), "markers": markers})))
            self.tally = None

    # -- the controller (or pytest without xdist) -------------------------------------
    def pytest_collection_modifyitems(self, session, config, items):
        if not self.is_worker:
            self._expect(item.nodeid for item in items)

    def pytest_xdist_node_collection_finished(self, node, ids):
        if not any(self.expected.values()):
            self._expect(ids)

    def _expect(self, nodeids):
        for nodeid in nodeids:
            self.expected[_group(nodeid)].add(nodeid)

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(self, report, config):
        # Progress lines replace pytest's dots (one letter per test is unreadable
        # next to them); the categories stay pytest's own, for its summary line.
        if self.is_worker:
            return None
        outcome = _outcome(report)
        if report.when != "call" and outcome == "passed":
            return "", "", ""
        return outcome, "", outcome.upper()

    def pytest_runtest_logreport(self, report):
        if self.is_worker:
            return
        record = self.records.setdefault(report.nodeid, {
            "nodeid": report.nodeid, "outcome": "passed", "duration_s": 0.0, "markers": [],
            "tally": None, "text": "", "xfail_reason": None})
        record["duration_s"] += float(getattr(report, "duration", 0.0) or 0.0)
        outcome = _outcome(report)
        for key, value in report.user_properties:
            if key == TALLY_KEY:
                payload = json.loads(value)
                record["tally"] = payload["tally"]
                record["markers"] = payload["markers"]
        if report.when == "call" or (report.when == "setup" and outcome != "passed"):
            record["outcome"] = outcome
        elif report.when == "teardown" and outcome == "error" and record["outcome"] == "passed":
            record["outcome"] = "error"
        if hasattr(report, "wasxfail"):
            record["xfail_reason"] = report.wasxfail
        if outcome in ("failed", "error", "xfailed", "xpassed", "skipped"):
            record["text"] = (record["text"] + "\n" + _failure_text(report)).strip()
        if report.when == "teardown":
            self._finished(report.nodeid, record)

    def _finished(self, nodeid, record):
        group = _group(nodeid)
        self.done[group].add(nodeid)
        self.examples[group] += (record["tally"] or {}).get("examples", 0)
        expected = self.expected.get(group) or self.done[group]
        if self.done[group] >= expected:
            outcomes = Counter(self.records[n]["outcome"] for n in self.done[group])
            flags = ", ".join(f"{v} {k}" for k, v in sorted(outcomes.items()))
            self._line(f"{_elapsed(self.started)}  {group}: {len(self.done[group])} tests, "
                       f"{self.examples[group]} examples ({flags})")
        elif time.monotonic() - self.last_progress > PROGRESS_INTERVAL_S:
            running = [f"{g} {len(self.done[g])}/{len(self.expected[g])}" for g in sorted(self.expected)
                       if 0 < len(self.done[g]) < len(self.expected[g])]
            total = sum(len(v) for v in self.done.values())
            self._line(f"{_elapsed(self.started)}  [{total}/{sum(len(v) for v in self.expected.values())} tests, "
                       f"{sum(self.examples.values())} examples] running: {', '.join(running)}")

    def _line(self, text):
        self.last_progress = time.monotonic()
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_line(text)
        else:
            print(text, flush=True)

    def pytest_sessionfinish(self, session, exitstatus):
        if self.is_worker:
            return
        records = []
        for nodeid, record in sorted(self.records.items()):
            path, _, name = nodeid.partition("::")
            module = os.path.splitext(os.path.basename(path))[0]
            claim = claim_for_module(module)
            records.append({**record, "module": module, "name": name,
                            "claim": claim.key if claim else None,
                            "kind": test_kind(name, record["markers"])})
        collected = sorted(n for group in self.expected.values() for n in group)
        from hypothesis import settings

        current = settings.default  # the profile conftest.py loaded
        database = describe_database(current.database)
        payload = {"exit_status": int(exitstatus), "collected": collected, "records": records,
                   "wall_s": time.monotonic() - self.started,
                   "profile": {"max_examples": current.max_examples, "derandomize": current.derandomize},
                   "example_database": database}
        tmp = f"{self.path}.part"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, indent=1)
        os.replace(tmp, self.path)


def _group(nodeid):
    module = os.path.splitext(os.path.basename(nodeid.partition("::")[0]))[0]
    claim = claim_for_module(module)
    return claim.label if claim else module


def _elapsed(start):
    seconds = int(time.monotonic() - start)
    return f"{seconds // 60:2d}m{seconds % 60:02d}s"
