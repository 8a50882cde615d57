"""Helpers of the claims report's checks: drawn per-test records, a fake checks folder, the command in a subprocess."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from hypothesis import strategies as st

from theory import report as R
from theory.report.claims import CLAIMS, EVIDENCE_LEVELS, TEST_KINDS


ROOT = Path(__file__).resolve().parents[2]

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


def run_command(project, *args, env=None, **kw):
    env = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    env.pop("HYPOTHESIS_PROFILE", None)
    return subprocess.run([sys.executable, "-m", "theory", "--checks", "checks", "--workers", "0", "--no-figure", "--no-conformance", "--no-real", *args],
                          cwd=project, env=env, capture_output=True, text=True, timeout=300, **kw)


def synthetic_study(steps=12, n=6):
    """A study of Figures 2 and 3 without training: PGD losses that fall faster at the smaller scale."""
    import numpy as np

    from theory.experiments.real.escape import escape_times
    from theory.experiments.real.study import Panel, Study, TrainingStudy

    def panel(scale, ratio, rate):
        t = np.arange(steps + 1)[:, None]
        losses = -1e-6 - (1.0 - np.exp(-rate * t * np.linspace(1.0, 2.0, n)[None, :]))
        p = Panel(scale, ratio, ratio * scale, np.arange(n), np.ones(n, bool), np.zeros(n, bool))
        for convention in ("absolute", "scale_free"):
            p.losses[convention] = losses
            p.times[convention] = escape_times(losses, np.zeros(n))
        return p

    panels = {(s, r): panel(s, r, 1.0 if s < 1 else 0.3) for s in (0.1, 10.0) for r in (0.01, 0.1)}
    study = Study(panels, {0.1: 0.95, 10.0: 0.97}, 0, np.arange(n), steps, 100, 20)
    training = TrainingStudy({(s, e): (panel(s, 0.1, 1.0 / (1 + e)), 0.95) for s in (0.1, 10.0) for e in (0, 30)},
                             0, np.arange(n), steps, 0.1)
    return study, training
