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


#: The pinned report of the Markdown's golden file: every kind of section and line it can print.
GOLDEN = Path(__file__).resolve().parent / "report_golden.md"


def golden_records():
    """Pinned records: a failed property with its replay, a margin with and without its bound, a passed
    literal statement (a weakness), found and missed controls, a finding, a self-test failure."""
    by_module = {claim.module: claim for claim in CLAIMS}
    t31, l43, l41 = by_module["test_theorem_3_1"], by_module["test_lemma_4_3"], by_module["test_lemma_4_1"]
    base = {"duration_s": 0.5, "markers": [], "xfail_reason": None, "text": "", "tally": None}
    failing = ("checks/claims/test_theorem_3_1.py:9: in test_p\n    assert n < 50\nE   AssertionError: distance 2.1 x K'\n"
               "E   Failing test case: test_p(\nE       case=(make_problem(7, 130, seed=3), 1),\nE   )\n"
               "E   You can reproduce this test case by temporarily adding @reproduce_failure('6.1', b'AXic') as a "
               "decorator on your test function\n")
    margin = {"value": 0.25, "phase": "generate", "status": "passed", "observed": 0.5, "allowed": 2.0,
              "side": "upper", "recipe": "make_problem(7, 130, seed=1)", "notes": []}
    lower = {"value": 0.75, "phase": "generate", "status": "passed", "observed": 4.0, "allowed": 3.0,
             "side": "lower", "recipe": None, "notes": []}
    bare = {"value": 0.5, "phase": "generate", "status": "passed", "notes": []}

    def record(claim, name, kind, outcome, **extra):
        module = claim.module if claim else "test_numerics_x"
        return {**base, "nodeid": f"checks/claims/{module}.py::{name}", "module": module, "name": name,
                "claim": claim.key if claim else None, "kind": kind, "outcome": outcome, **extra}

    return [
        record(t31, "test_p", "property", "failed", text=failing),
        record(t31, "test_q", "property", "passed", tally={"examples": 40, "failing": 0, "gave_up": 0,
               "first_failure": None, "evidence": {"certified": 30, "sampled": 10}, "margins": {"distance": margin}}),
        record(t31, "test_control_found", "control", "passed",
               tally={"examples": 3, "failing": 1, "gave_up": 0, "first_failure": 3, "evidence": {}, "margins": {}}),
        record(t31, "test_control_missed", "control", "failed"),
        record(t31, "test_finding_x", "finding", "passed"),
        record(l43, "test_r", "property", "passed", tally={"examples": 7, "failing": 0, "gave_up": 0,
               "first_failure": None, "evidence": {"searched": 7}, "margins": {"cos [lower bound]": lower}}),
        record(l41, "test_s", "property", "passed", tally={"examples": 2, "failing": 0, "gave_up": 0,
               "first_failure": None, "evidence": {}, "margins": {"floor": bare}}),
        *(record(l43, name, "literal", "passed") for name in list(l43.repairs)[:1]),
        *(record(l43, name, "literal", "xfailed", text="E   AssertionError: cos 0.9 > beta\nE   Falsifying example: t(n=2)") for name in list(l43.repairs)[1:2]),
        record(None, "test_numerics_y", "property", "failed",  # no "E" lines: the message is the last line
               text="checks/numerics/test_numerics_x.py:3: in test_numerics_y\n    assert x\nAssertionError: rounding 3 ulp"),
        record(None, "test_numerics_z", "property", "passed"),
    ]


def golden_report(clean=False):
    """The pinned report; ``clean``: without the weak records (no weaknesses, no failures), on a
    derandomized profile with a commit, an example database and no extra sections."""
    if clean:
        meta = {**META, "commit": "abc1234", "example_database": ".hypothesis/examples",
                "profile": {"name": "ci", "max_examples": 5, "derandomize": True}}
        recs = [r for r in golden_records() if r["outcome"] == "passed" and r["kind"] != "literal"]
        return R.build_report({"exit_status": 0, "records": recs, "wall_s": 3.0}, meta=meta)
    meta = {**META, "figure1": {"status": "run", "message": "Figure 1 drawn.", "table": "| a |\n|---|\n| 1 |",
                                "files": ["figure1.png", "figure1.md"]},
            "real_data": {"status": "run", "message": "Real data run.", "table": "| b |\n|---|\n| 2 |",
                          "files": ["figure2.png", "figure3.png"]},
            "conformance": {"status": "run", "message": "Attacks run.", "table": "| c |\n|---|\n| 3 |"}}
    return R.build_report({"exit_status": 1, "records": golden_records(), "wall_s": 12.0}, meta=meta)


def golden_markdown():
    """The two pinned reports' Markdown, one after the other (what the golden file holds)."""
    return R.render_markdown(golden_report()) + "\n<!-- the clean report -->\n\n" + R.render_markdown(golden_report(True))


if __name__ == "__main__":
    # python -m checks.suite.report_support: rewrite the golden Markdown after a deliberate change of the report.
    GOLDEN.write_text(golden_markdown(), encoding="utf-8")
    print(f"wrote {GOLDEN}")
