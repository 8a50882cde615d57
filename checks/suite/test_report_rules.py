"""The claims report's rules on records (no pytest run): statuses, evidence, margins, the JSON schema, the claims registry.

:func:`theory.report.build_report` on Hypothesis-drawn records: the status rules of
:mod:`theory.report` as properties, each with a control that injects a bug into the
report; the JSON schema (a report that breaks it is rejected); every claim module
exists and every literal test has its named repair; the test kinds follow the naming rules.
"""

import json
from pathlib import Path

import pytest
from hypothesis import given

from ..support import counterexample
from theory import report as R
from theory.report.claims import CLAIMS, EVIDENCE_LEVELS, claim_for_module, test_kind

from .report_support import records, report_of

jsonschema = pytest.importorskip("jsonschema")

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


def test_a_literal_failure_as_recorded_names_the_added_hypothesis():
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


def test_a_skipped_control_is_no_weakness_and_ran_no_examples():
    claim = claim_for_module("test_lemma_4_1")
    base = {"module": claim.module, "claim": claim.key, "duration_s": 0, "markers": [], "xfail_reason": None,
            "text": "", "tally": None}
    recs = [dict(base, nodeid="n1", name="test_p", kind="property", outcome="passed"),
            dict(base, nodeid="n2", name="test_control_skipped", kind="control", outcome="skipped"),
            dict(base, nodeid="n3", name="test_control_missed", kind="control", outcome="failed")]
    report = report_of(recs)
    entry = next(c for c in report["claims"] if c["key"] == claim.key)
    assert [(c["test"], c["found_counterexample"], c["examples"]) for c in entry["controls"]] == [
        ("test_control_skipped", False, 0), ("test_control_missed", False, 0)]
    assert [w for w in report["weaknesses"] if "negative control" in str(w)] == [
        next(w for w in report["weaknesses"] if "test_control_missed" in str(w))]


def literal_tests(claim):
    """Names of the literal tests (``def test_literal_*``) in a claim's check modules (``test_<key>.py`` and its parts)."""
    folder = Path(__file__).resolve().parents[1] / "claims"
    names = set()
    for path in [folder / f"{claim.module}.py", *sorted(folder.glob(f"{claim.module}_*.py"))]:
        if claim_for_module(path.name) is claim:
            names |= {line.split("(")[0][4:] for line in path.read_text().splitlines()
                      if line.startswith("def test_literal_")}
    return names


def test_every_claim_module_exists_and_every_literal_test_has_a_named_repair():
    for claim in CLAIMS:
        assert literal_tests(claim) == set(claim.repairs), claim.label


@pytest.mark.negative_control
def test_control_a_literal_test_without_a_named_repair_is_caught():
    claim = claim_for_module("test_theorem_5_1")
    assert literal_tests(claim) != set(dict(list(claim.repairs.items())[1:]))


@pytest.mark.parametrize("module, key", [("test_theorem_5_1_shell", "theorem_5_1"), ("test_lemma_4_1", "lemma_4_1"),
                                         ("checks/claims/test_section_5_1_real.py", "section_5_1"),
                                         ("test_section_5_1_2", None), ("test_section_5_1_2b", None),
                                         ("test_lemma_4_10", None), ("test_numerics_pgd", None)])
def test_a_module_belongs_to_the_claim_whose_checks_it_holds_or_a_part_of_them(module, key):
    claim = claim_for_module(module)
    assert (claim.key if claim else None) == key


@pytest.mark.parametrize("name, kind", [("test_control_x", "control"), ("test_literal_x[a]", "literal"),
                                        ("test_finding_x", "finding"), ("test_x", "property")])
def test_test_kind_follows_the_naming_rules(name, kind):
    assert test_kind(name) == kind
