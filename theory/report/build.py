r"""The claims report: from the checks' per-test records to ``claims.md`` and ``claims.json``.

:func:`build_report` groups the records written by :mod:`theory.report.plugin`
by claim (:data:`theory.report.claims.CLAIMS`) and decides, for each claim:

status
    ``fails`` if a property of the claim failed (with the shrunk counterexample
    and how to replay it); ``holds only with an added hypothesis`` if every
    property passed and a literal statement failed as recorded (the repair is
    named, from :attr:`theory.report.claims.Claim.repairs`); ``holds`` if every property
    passed and no literal statement fails; ``not run`` if none of its properties
    ran (e.g. ``--checks`` pointed elsewhere, or ``-k``).
evidence
    the examples' evidence levels (:data:`theory.report.claims.EVIDENCE_LEVELS`): the
    highest level reached and the fraction of examples at each level.
worst margin
    the largest observed / allowed ratio over the claim's properties, with the
    test, the label and the draw (the example's ``note()``\ s).
controls
    each negative control and whether it found its counterexample. A control that
    found none (or a literal statement that no longer fails, or a finding that no
    longer holds) is a *weakness of the suite*, listed at the top of the report.

:func:`render_markdown` writes the human report, :data:`SCHEMA_PATH` is the JSON
schema of ``claims.json`` (:func:`validate_report` checks a report against it with
``jsonschema`` when installed), and :func:`write_atomically` moves a finished
report folder into place in one rename, so an interrupted run never leaves a
report that looks complete.
"""


from __future__ import annotations

import re
from collections import Counter

from theory.report.claims import CLAIMS, EVIDENCE_LEVELS
from theory.report.files import SCHEMA_ID, STATUSES, Status

__all__ = [
    "build_report",
]


# ---------------------------------------------------------------------------- building

_BLOB = re.compile(r"@reproduce_failure\([^)]*\)")


def _failure(record):
    """Message, shrunk counterexample and replay instructions parsed from a failure's text."""
    text = record.get("text") or ""
    lines = text.splitlines()
    e_lines = [line[1:].strip() if line.startswith("E") else None for line in lines]
    message = next((line for line in e_lines if line), "") or (lines[-1].strip() if lines else "")
    example, started = [], False
    for raw, line in zip(lines, e_lines):
        if line is not None and ("Falsifying" in line or "Failing" in line):
            started = True
        if started:
            if line is None:
                break
            example.append(raw[1:].rstrip()[7:] if raw.startswith("E      ") else line)
    blob = next((m.group(0) for m in map(_BLOB.search, lines) if m), None)
    if not example:
        # e.g. a control whose find() found nothing: keep the last lines of the report
        example = [line for line in lines[-6:] if line.strip()]
    return {"test": record["name"], "outcome": record["outcome"], "message": message[:500],
            "counterexample": "\n".join(example)[:3000],
            "replay": f"pytest '{record['nodeid']}'  (the example database replays it first)",
            "reproduce_failure": blob}


def _evidence(records):
    counts = Counter()
    for record in records:
        counts.update((record.get("tally") or {}).get("evidence", {}))
    total = sum(counts.values())
    level = next((lvl for lvl in reversed(EVIDENCE_LEVELS) if counts.get(lvl)), "none")
    fractions = {lvl: (counts.get(lvl, 0) / total if total else 0.0) for lvl in EVIDENCE_LEVELS}
    return {"level": level, "examples": total, "counts": {lvl: counts.get(lvl, 0) for lvl in EVIDENCE_LEVELS},
            "fractions": fractions, "fraction_certified": fractions["certified"]}


def _worst_margin(records):
    worst = None
    for record in records:
        for label, margin in ((record.get("tally") or {}).get("margins") or {}).items():
            if worst is None or margin["value"] > worst["value"]:
                worst = {"value": margin["value"], "bound": 1.0, "label": label.rsplit(" [", 1)[0],
                         "side": margin.get("side", "upper"), "observed": margin.get("observed"),
                         "allowed": margin.get("allowed"), "test": record["name"],
                         "draw": margin.get("recipe"), "replay": f"pytest '{record['nodeid']}'",
                         "holds": margin["value"] <= 1.0}
    return worst


def _examples(records):
    return sum((record.get("tally") or {}).get("examples", 0) for record in records)


def _test_row(record):
    tally = record.get("tally") or {}
    margins = tally.get("margins") or {}
    worst = max(margins.items(), key=lambda kv: kv[1]["value"]) if margins else None
    return {"test": record["name"], "kind": record["kind"], "outcome": record["outcome"],
            "examples": tally.get("examples", 0), "duration_s": round(record.get("duration_s", 0.0), 3),
            "evidence": tally.get("evidence", {}),
            "worst_margin": ({"label": worst[0], "value": worst[1]["value"]} if worst else None)}


def _claim_entry(claim, records):
    by_kind = {kind: [r for r in records if r["kind"] == kind] for kind in ("property", "finding", "literal", "control")}
    properties = by_kind["property"]
    ran = [r for r in properties if r["outcome"] not in ("skipped",)]
    failures = [_failure(r) for r in properties if r["outcome"] in ("failed", "error")]
    weaknesses = []
    added = []
    for record in by_kind["literal"]:
        if record["outcome"] == "xfailed":
            parsed = _failure(record)
            added.append({"test": record["name"],
                          "hypothesis": claim.repairs.get(record["name"], record.get("xfail_reason") or ""),
                          "literal_counterexample": parsed["counterexample"]})
        elif record["outcome"] != "skipped":
            weaknesses.append(f"{claim.label}: literal test `{record['name']}` did not fail as recorded "
                              f"({record['outcome']}): its pinned counterexample no longer breaks the statement")
    for record in by_kind["finding"]:
        if record["outcome"] in ("failed", "error"):
            weaknesses.append(f"{claim.label}: finding `{record['name']}` no longer holds")
    controls = []
    for record in by_kind["control"]:
        tally = record.get("tally") or {}
        found = record["outcome"] == "passed"
        controls.append({"test": record["name"], "found_counterexample": found, "outcome": record["outcome"],
                         "examples": tally.get("examples", 0), "first_failure": tally.get("first_failure")})
        if not found and record["outcome"] != "skipped":
            message = _failure(record)["message"]
            weaknesses.append(f"{claim.label}: negative control `{record['name']}` found NO counterexample "
                              f"({record['outcome']}: {message[:200]}), so the property it guards could not fail")
    if not ran:
        status = Status.NOT_RUN.value
    elif failures:
        status = Status.FAILS.value
    elif added:
        status = Status.ADDED_HYPOTHESIS.value
    else:
        status = Status.HOLDS.value
    return {
        "key": claim.key, "label": claim.label, "title": claim.title, "module": claim.module,
        "statement": claim.statement, "executable": claim.executable, "regime": claim.regime,
        "constants": {k: v for k, v in claim.constants().items()},
        "status": status, "added_hypotheses": added, "failures": failures,
        "examples": _examples(properties), "evidence": _evidence(properties),
        "worst_margin": _worst_margin(properties),
        "tests": [_test_row(r) for r in sorted(records, key=lambda r: r["name"])],
        "controls": controls, "weaknesses": weaknesses,
    }


def build_report(results, *, meta):
    """The report as a dict following :data:`SCHEMA_PATH`.

    Parameters
    ----------
    results : dict
        What :mod:`theory.report.plugin` wrote: ``exit_status``, ``collected``,
        ``records`` (one per test: nodeid, module, name, claim, kind, outcome,
        duration_s, tally, text, xfail_reason) and ``wall_s``.
    meta : dict
        Run metadata copied into the report (profile, command, environment,
        example database, figure).
    """
    if not isinstance(results, dict) or not isinstance(results.get("records"), list):
        raise TypeError(f"results must be a dict with a 'records' list (theory.report.plugin's output), "
                        f"got {type(results).__name__}")
    if not isinstance(meta, dict):
        raise TypeError(f"meta must be a dict, got {type(meta).__name__}")
    records = results["records"]
    claims = [_claim_entry(claim, [r for r in records if r.get("claim") == claim.key]) for claim in CLAIMS]
    self_tests = {}
    for record in records:
        if record.get("claim") is None:
            entry = self_tests.setdefault(record["module"], Counter())
            entry[record["outcome"]] += 1
    self_failures = [_failure(r) for r in records if r.get("claim") is None and r["outcome"] in ("failed", "error")]
    weaknesses = [w for claim in claims for w in claim["weaknesses"]]
    statuses = Counter(claim["status"] for claim in claims)
    controls = [c for claim in claims for c in claim["controls"]]
    return {
        "schema": SCHEMA_ID,
        **meta,
        "pytest_exit_status": int(results.get("exit_status", -1)),
        "wall_s": round(float(results.get("wall_s", 0.0)), 1),
        "summary": {
            "claims": len(claims), **{status: statuses.get(status, 0) for status in STATUSES},
            "tests": len(records), "examples": _examples(records),
            "controls": len(controls), "controls_without_counterexample":
                sum(1 for c in controls if not c["found_counterexample"] and c["outcome"] != "skipped"),
            "weaknesses": len(weaknesses),
            "self_test_failures": len(self_failures),
        },
        "weaknesses": weaknesses,
        "claims": claims,
        "self_tests": {module: dict(sorted(c.items())) for module, c in sorted(self_tests.items())},
        "self_test_failures": self_failures,
    }
