"""The seed sweep: the whole suite under the ``thorough`` profile with 20 Hypothesis seeds.

Run from the repository root::

    python reliability/seed_sweep.py                 # seeds 0..19, resumes where it stopped
    python reliability/seed_sweep.py --seeds 0 1 2   # only these seeds
    python reliability/seed_sweep.py --render        # rewrite SEED_SWEEP.md from the results

A *false alarm* is any test that does not end as it must on a correct library:

* a positive property that fails (the claim or the numerics it checks is true, so a
  failure is a wrong regime constant, an unjustified tolerance or a flaky draw);
* a negative control that fails: a control passes when Hypothesis finds the
  counterexample to the weakened statement (or the injected bug), so a failing
  control is one that did not find it;
* a literal statement pinned as ``xfail(strict=True)`` that unexpectedly passes
  (pytest reports it as a failure).

So: every test must pass or xfail under every seed; anything else is listed.

Method. Each seed runs ``pytest checks -n WORKERS --hypothesis-seed=SEED`` with
``HYPOTHESIS_PROFILE=thorough`` in a subprocess, with a fresh example database
(``THEORY_EXAMPLE_DB`` in a temporary directory), so that no seed replays another
seed's examples and the user's database is left alone, and ``CI`` unset (Hypothesis
would otherwise load its own derandomized profile under the project's). Outcomes
come from pytest's JUnit XML; the negative controls are the tests marked
``negative_control`` (collected once). Each finished seed is appended to
``reliability/seed_sweep.json`` at once, so an interrupted sweep resumes at the
next seed. ``SEED_SWEEP.md`` is rendered from that file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "reliability" / "seed_sweep.json"
REPORT = ROOT / "SEED_SWEEP.md"
DEFAULT_SEEDS = tuple(range(20))
PROFILE = "thorough"
#: Characters of a failure message kept in the results (the first lines say what failed).
MESSAGE_CHARS = 2000

OUTCOMES = ("passed", "failed", "xfailed", "skipped")


def node_id(testcase):
    """pytest's node id of a JUnit ``testcase`` element (``checks/test_x.py::test_y[param]``).

    JUnit writes the module as a dotted ``classname`` (``checks.test_x``, or
    ``checks.test_x.TestClass`` for a method) and the function, with its parameters,
    as ``name``.
    """
    classname = testcase.get("classname", "")
    parts = classname.split(".")
    # The module is the longest prefix that names an existing file.
    for cut in range(len(parts), 0, -1):
        path = Path(*parts[:cut]).with_suffix(".py")
        if (ROOT / path).is_file():
            return "::".join([path.as_posix(), *parts[cut:], testcase.get("name", "")])
    return "::".join([classname.replace(".", "/"), testcase.get("name", "")])


def classify(testcase):
    """(outcome, message) of one JUnit ``testcase``: outcome is one of :data:`OUTCOMES`."""
    for tag in ("failure", "error"):
        element = testcase.find(tag)
        if element is not None:
            text = (element.get("message") or "") + "\n" + (element.text or "")
            return "failed", text.strip()[:MESSAGE_CHARS]
    element = testcase.find("skipped")
    if element is not None:
        if element.get("type") == "pytest.xfail":
            return "xfailed", ""
        return "skipped", (element.get("message") or "")[:MESSAGE_CHARS]
    return "passed", ""


def parse_junit(text):
    """``{node id: (outcome, message)}`` from the text of a JUnit XML report."""
    root = ET.fromstring(text)
    return {node_id(case): classify(case) for case in root.iter("testcase")}


def false_alarms(outcomes):
    """The tests that did not pass or xfail: ``{node id: message}`` (see the module docstring)."""
    return {node: message for node, (outcome, message) in outcomes.items()
            if outcome not in ("passed", "xfailed", "skipped")}


def seed_summary(outcomes, controls):
    """Counts for one seed: positives passed/failed, controls found/missed, xfailed, skipped."""
    counts = dict(positives_passed=0, positives_failed=0, controls_found=0, controls_missed=0,
                  xfailed=0, skipped=0)
    for node, (outcome, _) in outcomes.items():
        if outcome in ("xfailed", "skipped"):
            counts[outcome] += 1
        elif node in controls:
            counts["controls_found" if outcome == "passed" else "controls_missed"] += 1
        else:
            counts["positives_passed" if outcome == "passed" else "positives_failed"] += 1
    return counts


def _environment():
    env = {key: value for key, value in os.environ.items() if key not in ("CI", "GITHUB_ACTIONS")}
    env["HYPOTHESIS_PROFILE"] = PROFILE
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def collect_controls():
    """Node ids of the tests marked ``negative_control``."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "checks", "-q", "--collect-only", "-m", "negative_control",
         "-p", "no:cacheprovider"],
        cwd=ROOT, env=_environment(), capture_output=True, text=True, check=True)
    return sorted(line.strip() for line in result.stdout.splitlines() if "::" in line)


def source_commit():
    """The git commit of the tree being swept, with ``+dirty`` when tracked files differ from it."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def run_seed(seed, workers, controls):
    """Run the suite under one seed; returns the seed's record (counts, false alarms, wall time, exit code)."""
    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp) / "junit.xml"
        env = _environment()
        env["THEORY_EXAMPLE_DB"] = str(Path(tmp) / "examples")
        command = [sys.executable, "-m", "pytest", "checks", "-q", "-p", "no:cacheprovider",
                   f"--hypothesis-seed={seed}", f"--junitxml={junit}", "-o", "junit_family=xunit2"]
        if workers != "0":
            command += ["-n", workers]
        start = time.perf_counter()
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if not junit.exists():
            raise RuntimeError(f"seed {seed}: pytest wrote no report (exit {result.returncode}):\n"
                               + result.stdout[-4000:] + result.stderr[-4000:])
        outcomes = parse_junit(junit.read_text())
    return {"seed": seed, "commit": source_commit(), "exit_code": result.returncode, "wall_s": round(wall, 1),
            "counts": seed_summary(outcomes, set(controls)),
            "false_alarms": dict(sorted(false_alarms(outcomes).items()))}


def load_results(path=RESULTS):
    if path.exists():
        return json.loads(path.read_text())
    return {"profile": PROFILE, "seeds": []}


def save_results(results, path=RESULTS):
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=1) + "\n")
    os.replace(tmp, path)


def render(results):
    """SEED_SWEEP.md from the results (markdown text)."""
    controls = set(results.get("controls", []))
    seeds = sorted(results["seeds"], key=lambda record: record["seed"])
    lines = ["# Seed sweep", "",
             "Generated by `python reliability/seed_sweep.py` (method in its docstring). Every test of",
             f"`checks/` under the `{results['profile']}` Hypothesis profile "
             f"({results.get('max_examples', '?')} examples per property), one run per seed.",
             "A false alarm is a positive property that failed, a negative control that did not find",
             "its counterexample, or a pinned literal statement that unexpectedly held.", ""]
    if results.get("machine"):
        lines += [f"Machine: {results['machine']}.", ""]
    total_alarms = 0
    rows = []
    for record in seeds:
        counts, alarms = record["counts"], record["false_alarms"]
        total_alarms += len(alarms) + (not alarms and record["exit_code"] != 0)
        rows.append(f"| {record['seed']} | {record.get('commit', '?')} "
                    f"| {counts['positives_passed']} | {counts['positives_failed']} "
                    f"| {counts['controls_found']} | {counts['controls_missed']} | {counts['xfailed']} "
                    f"| {counts['skipped']} | {len(alarms)} | {record['wall_s'] / 60:.1f} |")
    wanted = results.get("wanted_seeds", [])
    done = [record["seed"] for record in seeds]
    missing = [seed for seed in wanted if seed not in done]
    status = (f"**{len(done)} of {len(wanted) or len(done)} seeds run; "
              f"{total_alarms} false alarm{'s' if total_alarms != 1 else ''}.**")
    if missing:
        status += f" Not yet run: seeds {', '.join(map(str, missing))}."
    lines += [status, "",
              "| seed | commit | positives passed | positives failed | controls found | controls missed "
              "| xfailed (pinned literal) | skipped | false alarms | minutes |",
              "|---|---|---|---|---|---|---|---|---|---|", *rows, ""]
    for record in seeds:
        if not record["false_alarms"] and record["exit_code"] != 0:  # pytest failed outside any test
            lines.append(f"- seed {record['seed']}: pytest exited with status {record['exit_code']} "
                         "and no failing test (an internal or collection error)")
        for node, message in record["false_alarms"].items():
            kind = "control missed" if node in controls else "failed"
            first = message.splitlines()[0] if message else ""
            lines.append(f"- seed {record['seed']}, `{node}` ({kind}): {first}")
    if results.get("notes"):
        lines += ["", "## Notes", "", *results["notes"]]
    return "\n".join(lines).rstrip() + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(DEFAULT_SEEDS),
                        help="Hypothesis seeds to run (default 0..19)")
    parser.add_argument("--workers", default="auto", help="pytest-xdist workers (N, auto, or 0 for none)")
    parser.add_argument("--force", action="store_true", help="rerun seeds already in the results")
    parser.add_argument("--render", action="store_true", help="only rewrite SEED_SWEEP.md")
    args = parser.parse_args(argv)

    results = load_results()
    if not args.render:
        sys.path.insert(0, str(ROOT))
        os.environ["HYPOTHESIS_PROFILE"] = PROFILE
        from hypothesis import settings  # noqa: E402
        __import__("conftest")  # registers the profiles
        results["profile"] = PROFILE
        results["max_examples"] = settings.get_profile(PROFILE).max_examples
        results["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        results["wanted_seeds"] = sorted(set(results.get("wanted_seeds", [])) | set(args.seeds))
        results["controls"] = collect_controls()
        for seed in args.seeds:
            if not args.force and any(record["seed"] == seed for record in results["seeds"]):
                continue
            print(f"seed {seed} ...", flush=True)
            record = run_seed(seed, args.workers, results["controls"])
            results["seeds"] = [r for r in results["seeds"] if r["seed"] != seed] + [record]
            save_results(results)
            print(f"seed {seed}: exit {record['exit_code']}, {record['wall_s'] / 60:.1f} min, "
                  f"{len(record['false_alarms'])} false alarms", flush=True)
            REPORT.write_text(render(results))
    REPORT.write_text(render(results))
    print(REPORT.read_text())


if __name__ == "__main__":
    main()
