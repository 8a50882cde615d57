r"""``claims.md``: the human-readable claims report, rendered from the report's JSON form.
"""


from __future__ import annotations


from theory.report.claims import EVIDENCE_LEVELS
from theory.report.files import EXAMPLE_DB_ENV, Status

__all__ = [
    "render_markdown",
]


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
    if claim["status"] == Status.ADDED_HYPOTHESIS.value:
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
    real_data = report.get("real_data")
    if real_data:
        out += ["", "## Figures 2 and 3 on real data (digits, CNN)", "", real_data["message"]]
        if real_data.get("table"):
            out += ["", real_data["table"]]
        for name in ("figure2.png", "figure3.png"):
            if name in real_data.get("files", []):
                out += ["", f"![{name[:-4]}]({name})"]
    attacks = report.get("conformance")
    if attacks:
        out += ["", "## Attack libraries against the paper's PGD", "", attacks["message"]]
        if attacks.get("table"):
            out += ["", attacks["table"]]
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
           f"- **Examples.** {claim['examples']} (check module `checks/claims/{claim['module']}.py`)",
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
