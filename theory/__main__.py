"""``python -m theory``: run the verification suite and write a report.

This is the project's main job. It runs the checks in ``checks/`` through pytest
and Hypothesis (in parallel with pytest-xdist), then writes ``report/claims.md``
(for people) and ``report/claims.json`` (for machines) with the outcome of every
check module. The report is written to a temporary folder and moved into place
at the end, so an interrupted run never leaves a report that looks complete.

The per-claim report with margins, evidence levels and controls (issue 5) will
extend this; the command line stays the same.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path


def _parse(argv):
    parser = argparse.ArgumentParser(prog="python -m theory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default=os.environ.get("HYPOTHESIS_PROFILE", "dev"),
                        choices=["dev", "ci", "thorough"], help="Hypothesis profile (default: dev)")
    parser.add_argument("--checks", default="checks", help="folder of the checks (default: ./checks)")
    parser.add_argument("--out", default="report", help="report folder (default: ./report)")
    parser.add_argument("--workers", default="auto", help="pytest-xdist workers (default: auto)")
    return parser.parse_args(argv)


def _summarise(junit: Path):
    modules = defaultdict(lambda: {"passed": 0, "failed": 0, "literal_fails": 0, "skipped": 0,
                                   "failures": [], "literal": []})
    for case in ET.parse(junit).getroot().iter("testcase"):
        module = case.get("classname", "?").split(".")[-1]
        entry = modules[module]
        failure = case.find("failure") if case.find("failure") is not None else case.find("error")
        if failure is not None:
            entry["failed"] += 1
            entry["failures"].append({"test": case.get("name"), "message": (failure.get("message") or "")[:500]})
        elif case.find("skipped") is not None:
            skipped = case.find("skipped")
            if (skipped.get("type") or "") == "pytest.xfail":
                # An xfail(strict=True) test that failed as expected: a literal statement
                # of the paper with its recorded counterexample (checks/README.md).
                entry["literal_fails"] += 1
                entry["literal"].append({"test": case.get("name"), "reason": skipped.get("message") or ""})
            else:
                entry["skipped"] += 1
        else:
            entry["passed"] += 1
    return dict(sorted(modules.items()))


def _markdown(summary, profile, exit_code):
    lines = ["# Claims report", "", f"Hypothesis profile: `{profile}`; pytest exit code: {exit_code}.", "",
             "`literal fails` counts literal statements of the paper that fail as recorded (strict xfail "
             "tests with their pinned counterexamples; the README's findings).", "",
             "| check module | passed | failed | literal fails | skipped |", "|---|---:|---:|---:|---:|"]
    for module, entry in summary.items():
        lines.append(f"| `{module}` | {entry['passed']} | {entry['failed']} | {entry['literal_fails']} "
                     f"| {entry['skipped']} |")
    literal = [(m, e) for m, e in summary.items() if e["literal"]]
    if literal:
        lines += ["", "## Literal statements that fail (recorded)", ""]
        for module, entry in literal:
            for item in entry["literal"]:
                lines.append(f"- `{module}::{item['test']}`: {item['reason']}")
    for module, entry in summary.items():
        for failure in entry["failures"]:
            lines += ["", f"## FAILED `{module}::{failure['test']}`", "", "```", failure["message"], "```"]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    args = _parse(argv)
    checks = Path(args.checks)
    if not checks.is_dir():
        print(f"error: no checks folder at {checks.resolve()} (run from the repository root "
              "or pass --checks)", file=sys.stderr)
        return 2
    out = Path(args.out)
    tmp = Path(tempfile.mkdtemp(prefix=".report-", dir=out.parent if out.parent.exists() else None))
    try:
        junit = tmp / "junit.xml"
        env = dict(os.environ, HYPOTHESIS_PROFILE=args.profile)
        cmd = [sys.executable, "-m", "pytest", str(checks), "-n", args.workers, "-q",
               f"--junitxml={junit}", "-p", "no:cacheprovider"]
        print("running:", " ".join(cmd), flush=True)
        code = subprocess.call(cmd, env=env)
        if not junit.exists():
            print("error: pytest produced no results", file=sys.stderr)
            return code or 1
        summary = _summarise(junit)
        junit.unlink()
        (tmp / "claims.json").write_text(json.dumps(
            {"profile": args.profile, "exit_code": code, "modules": summary}, indent=2))
        (tmp / "claims.md").write_text(_markdown(summary, args.profile, code))
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
        print(f"report written to {out / 'claims.md'} and {out / 'claims.json'}")
        return code
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
