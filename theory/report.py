r"""The claims report: from the checks' per-test records to ``claims.md`` and ``claims.json``.

:func:`build_report` groups the records written by :mod:`theory.report_plugin`
by claim (:data:`theory.claims.CLAIMS`) and decides, for each claim:

status
    ``fails`` if a property of the claim failed (with the shrunk counterexample
    and how to replay it); ``holds only with an added hypothesis`` if every
    property passed and a literal statement failed as recorded (the repair is
    named, from :attr:`theory.claims.Claim.repairs`); ``holds`` if every property
    passed and no literal statement fails; ``not run`` if none of its properties
    ran (e.g. ``--checks`` pointed elsewhere, or ``-k``).
evidence
    the examples' evidence levels (:data:`theory.claims.EVIDENCE_LEVELS`): the
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

import json
import os
import re
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from theory.claims import CLAIMS, EVIDENCE_LEVELS

__all__ = [
    "SCHEMA_ID",
    "SCHEMA_PATH",
    "STATUSES",
    "EXAMPLE_DB_ENV",
    "example_database_path",
    "build_report",
    "render_markdown",
    "validate_report",
    "write_atomically",
]

#: Identifier of the ``claims.json`` format (bumped on incompatible changes).
SCHEMA_ID = "first-order-adversaries/claims-report/1"

#: The JSON schema of ``claims.json`` (shipped with the package).
SCHEMA_PATH = Path(__file__).with_name("claims.schema.json")

#: A claim's possible statuses.
STATUSES = ("holds", "holds only with an added hypothesis", "fails", "not run")

#: Environment variable that moves Hypothesis's example database.
EXAMPLE_DB_ENV = "THEORY_EXAMPLE_DB"


def example_database_path(root=".") -> Path:
    """Where Hypothesis's example database lives: ``$THEORY_EXAMPLE_DB``, else ``<root>/.hypothesis/examples``.

    ``conftest.py`` gives every randomized profile a
    :class:`hypothesis.database.DirectoryBasedExampleDatabase` at this path
    (``root`` = the repository), so a counterexample found once is replayed first
    on every later run. Keep the folder between CI runs to keep that memory
    (README, "The example database").
    """
    value = os.environ.get(EXAMPLE_DB_ENV)
    return Path(value) if value else Path(root) / ".hypothesis" / "examples"


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
        status = "not run"
    elif failures:
        status = "fails"
    elif added:
        status = "holds only with an added hypothesis"
    else:
        status = "holds"
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
        What :mod:`theory.report_plugin` wrote: ``exit_status``, ``collected``,
        ``records`` (one per test: nodeid, module, name, claim, kind, outcome,
        duration_s, tally, text, xfail_reason) and ``wall_s``.
    meta : dict
        Run metadata copied into the report (profile, command, environment,
        example database, figure).
    """
    if not isinstance(results, dict) or not isinstance(results.get("records"), list):
        raise TypeError(f"results must be a dict with a 'records' list (theory.report_plugin's output), "
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


# ---------------------------------------------------------------------------- markdown

def _cell(text):
    """Text for a Markdown table cell (a pipe would end the cell)."""
    return str(text).replace("|", "\\|")


def _fmt(value):
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _evidence_text(evidence):
    if evidence["examples"] == 0:
        return "none recorded"
    parts = [f"{lvl} {evidence['fractions'][lvl]:.0%}" for lvl in reversed(EVIDENCE_LEVELS)
             if evidence["counts"][lvl]]
    return ", ".join(parts)


def _status_text(claim):
    if claim["status"] == "holds only with an added hypothesis":
        return "holds only with: " + "; ".join(a["hypothesis"] for a in claim["added_hypotheses"])
    return claim["status"]


def render_markdown(report):
    """``claims.md``: a summary table, the suite's weaknesses, then one section per claim."""
    s = report["summary"]
    profile = report["profile"]
    out = [
        "# Claims report: Deng, He, Huang & Su, *Towards Understanding the Dynamics of the First-Order "
        "Adversaries* (ICML 2020)", "",
        f"Generated {report['generated']} by `{report['command']}` (version {report['version']}, "
        f"commit {report.get('commit') or 'unknown'}).",
        f"Hypothesis profile `{profile['name']}` ({profile['max_examples']} examples per property, "
        f"{'derandomized' if profile['derandomize'] else 'randomized'}); example database: "
        f"`{report['example_database'] or 'none (derandomized profiles do not use one)'}`; "
        f"{report['workers']} pytest-xdist workers; {report['wall_s']:.0f} s of pytest.",
        f"Machine: {report['machine']}.", "",
        f"**{s['claims']} claims: {s['holds']} hold, {s['holds only with an added hypothesis']} hold only with an "
        f"added hypothesis, {s['fails']} fail, {s['not run']} not run.** {s['tests']} tests, "
        f"{s['examples']} Hypothesis examples, {s['controls']} negative controls.", "",
        "Evidence levels: *sampled* (checked at random points of each draw), *searched* (an optimiser looked "
        "for the worst point of each draw), *certified* (a bound proved it on the whole ball or sphere). "
        "Closest to its bound: the worst example's observed value and its bound, with the side of the bound (the ratio is 1 at the bound); controls carry no margin.", "",
        "| claim | status | examples | evidence | worst margin | controls |",
        "|---|---|---:|---|---:|---|",
    ]
    for claim in report["claims"]:
        worst = claim["worst_margin"]
        found = sum(1 for c in claim["controls"] if c["found_counterexample"])
        out.append(f"| [{claim['label']}](#{_anchor(claim)}) {_cell(claim['title'])} | {_cell(_status_text(claim))} | "
                   f"{claim['examples']} | {_evidence_text(claim['evidence'])} | "
                   f"{_fmt(worst['value']) if worst else '—'} | {found}/{len(claim['controls'])} found |")
    out += ["", "## Weaknesses of the suite", ""]
    if report["weaknesses"]:
        out += ["**WARNING: the checks below could not fail, or no longer test what they claim. "
                "Fix them before trusting the statuses above.**", ""]
        out += [f"- **{w}**" for w in report["weaknesses"]]
    else:
        out.append("None: every negative control found its counterexample, every literal statement still "
                   "fails as recorded and every finding still holds.")
    if report["self_test_failures"]:
        out += ["", "## Self-test failures (the numerics in `theory/`)", ""]
        for failure in report["self_test_failures"]:
            out += [f"- `{failure['test']}` ({failure['outcome']}): {failure['message']}"]
    for claim in report["claims"]:
        out += _claim_markdown(claim)
    out += ["", "## Self-tests of the numerics", "", "| module | outcomes |", "|---|---|"]
    for module, counts in report["self_tests"].items():
        out.append(f"| `{module}` | {', '.join(f'{v} {k}' for k, v in counts.items())} |")
    figure = report["figure1"]
    out += ["", "## Figure 1 and the §5.1 table of minima", "", figure["message"]]
    if figure.get("table"):
        out += ["", figure["table"]]
    if "figure1.png" in figure.get("files", []):
        out += ["", "![Figure 1](figure1.png)"]
    out += ["", "## Replaying a counterexample", "",
            "Every failure above names its test. Rerun it with `pytest '<test id>'`: Hypothesis replays the "
            f"saved counterexample first from the example database (`{report['example_database'] or EXAMPLE_DB_ENV}`). "
            "With a `@reproduce_failure(...)` line, add it to the test as a decorator to replay that exact example; "
            "pin it for good with `@example(...)`."]
    return "\n".join(out) + "\n"


def _margin_text(worst):
    """What a margin measured: observed, the bound and its side, and the ratio (1 = at the bound)."""
    if worst.get("observed") is None or worst.get("allowed") is None:
        return f"ratio {worst['value']:.4g} (`{worst['label']}`)"
    relation = "≥" if worst["side"] == "lower" else "≤"
    return (f"observed {worst['observed']:.4g}, required {relation} {worst['allowed']:.4g} "
            f"({worst['side']} bound; `{worst['label']}`; ratio {worst['value']:.3g}, 1 = at the bound)")


def _anchor(claim):
    return claim["key"].replace("_", "-")


def _claim_markdown(claim):
    out = ["", f'<a id="{_anchor(claim)}"></a>', f"## {claim['label']}: {claim['title']}", "",
           f"**Status: {_status_text(claim)}.**", "",
           f"- **Paper.** {claim['statement']}",
           f"- **Executable form.** {claim['executable']}",
           f"- **Regime.** {claim['regime']}",
           "- **Constants.** " + "; ".join(f"{k} = {_fmt(v)}" for k, v in claim["constants"].items()),
           f"- **Examples.** {claim['examples']} (check module `checks/{claim['module']}.py`)",
           f"- **Evidence.** {_evidence_text(claim['evidence'])} of {claim['evidence']['examples']} examples "
           f"(highest level reached: {claim['evidence']['level']}; fraction certified "
           f"{claim['evidence']['fraction_certified']:.0%})"]
    worst = claim["worst_margin"]
    if worst:
        out.append(f"- **Closest to its bound.** {_margin_text(worst)} in `{worst['test']}`; draw: "
                   + (f"`{worst['draw']}`" if worst["draw"] else "see the test")
                   + f"; replay: `{worst['replay']}`")
    for added in claim["added_hypotheses"]:
        out.append(f"- **Added hypothesis.** {added['hypothesis']} — the literal statement fails "
                   f"(`{added['test']}`):")
        out += ["", "  ```", *("  " + line for line in added["literal_counterexample"].splitlines()), "  ```", ""]
    for failure in claim["failures"]:
        out += [f"- **FAILS** in `{failure['test']}`: {failure['message']}", "", "  ```",
                *("  " + line for line in failure["counterexample"].splitlines()), "  ```",
                f"  Replay: `{failure['replay']}`" + (f"; `{failure['reproduce_failure']}`"
                                                      if failure["reproduce_failure"] else ""), ""]
    if claim["controls"]:
        out.append("- **Negative controls.**")
        for control in claim["controls"]:
            if control["found_counterexample"]:
                where = (f" after {control['first_failure']} examples" if control.get("first_failure") else "")
                out.append(f"  - `{control['test']}`: counterexample found{where}")
            else:
                out.append(f"  - `{control['test']}`: **NO COUNTEREXAMPLE FOUND ({control['outcome']}) — weakness**")
    else:
        out.append("- **Negative controls.** none ran")
    out += ["", "| test | kind | outcome | examples | evidence | worst margin |", "|---|---|---|---:|---|---:|"]
    for test in claim["tests"]:
        evidence = ", ".join(f"{k} {v}" for k, v in sorted(test["evidence"].items())) or "—"
        # A control's margins describe the injected bug, not a bound of the claim.
        margin = (f"{test['worst_margin']['value']:.3g}" if test["worst_margin"] and test["kind"] != "control"
                  else "—")
        examples = test["examples"]
        if not examples and test["outcome"] == "passed":
            examples = ("0 (find() examples are not counted)" if test["kind"] == "control"
                        else "0 (not a Hypothesis test: fixed inputs)")
        out.append(f"| `{test['test']}` | {test['kind']} | {test['outcome']} | {examples} | "
                   f"{evidence} | {margin} |")
    return out


# ---------------------------------------------------------------------------- schema and files

def validate_report(report):
    """Validate a report against :data:`SCHEMA_PATH`; returns None, or a reason validation was skipped.

    Raises ``jsonschema.ValidationError`` when the report does not follow the schema.
    """
    try:
        import jsonschema
    except ImportError:
        return "jsonschema is not installed (it comes with the dev extra)"
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.validate(report, schema, cls=jsonschema.Draft202012Validator)
    return None


def write_atomically(out, build):
    """Build a report folder next to ``out`` and move it into place in one rename.

    ``build(tmp)`` writes the files into the temporary folder ``tmp``; if it
    raises (or the run is interrupted), the temporary folder is removed and a
    previous report at ``out`` is left untouched. A previous report is replaced
    only once the new one is complete.
    """
    if not callable(build):
        raise TypeError(f"build must be a callable build(tmp), got {type(build).__name__}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out must be a folder (or not exist yet), got the file {out}")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-partial-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; a report is an ordinary folder
    old = None
    try:
        result = build(tmp)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=out.parent))
            old.rmdir()
            out.rename(old)
        tmp.rename(out)
        return result
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            if out.exists():
                shutil.rmtree(old, ignore_errors=True)
            elif old.exists():  # the final rename failed: put the previous report back
                old.rename(out)
