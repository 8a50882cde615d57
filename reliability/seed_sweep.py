"""The seed sweep: the whole suite under the ``thorough`` profile with 20 Hypothesis seeds, in shards.

Run from the repository root (``pip install -e ".[dev]"`` gives pytest-split)::

    python reliability/seed_sweep.py                      # seeds 0..19, whole suite each; resumes
    python reliability/seed_sweep.py --seeds 3 4 --splits 4 --group 2   # one shard of seeds 3 and 4
    python reliability/seed_sweep.py --seeds 0 --store-durations        # also record the test durations
    python reliability/seed_sweep.py --merge               # SEED_SWEEP.md from reliability/sweep/
    python reliability/seed_sweep.py --merge artifacts/    # ... from shard files gathered elsewhere

A *false alarm* is any test that does not end as it must on a correct library:

* a positive property that fails (the claim or the numerics it checks is true, so a
  failure is a wrong regime constant, an unjustified tolerance or a flaky draw);
* a negative control that fails: a control passes when Hypothesis finds the
  counterexample to the weakened statement (or the injected bug), so a failing
  control is one that did not find it;
* a literal statement pinned as ``xfail(strict=True)`` that unexpectedly passes
  (pytest reports it as a failure).

So: every test must pass or xfail under every seed; anything else is listed.

Method. Each shard runs ``pytest checks -n WORKERS --hypothesis-seed=SEED`` with
``HYPOTHESIS_PROFILE=thorough`` in a subprocess, and ``CI`` unset (Hypothesis would otherwise
load its own derandomized profile under the project's). With ``--splits N --group i`` it runs
group ``i`` of pytest-split's partition of the suite into ``N`` groups of about equal time
(``least_duration``, from the durations recorded in ``reliability/test_durations.json`` by a
whole-suite run with ``--store-durations``; tests without a recorded duration count as the
average). Each shard uses a fresh example database (``THEORY_EXAMPLE_DB`` in a temporary
folder), so that no seed replays another seed's examples and the user's database is left alone,
unless ``--example-db URL`` names a shared one (a Redis server for a CI matrix: then a
counterexample found under one seed replays first under every seed that runs after it, and is
counted under each). Outcomes come from pytest's JUnit XML; the negative controls are the tests
marked ``negative_control``, and the collection (all node ids) is taken once per invocation.
Each finished shard is written at once to ``reliability/sweep/`` (``--results``), one file per
shard (``reliability/sweep_shards.py`` says what it records), so an interrupted sweep resumes at
the next shard: a shard whose file is there, of the same commit, lock, versions and collection,
is not run again (``--force`` re-runs it). ``--merge`` renders ``SEED_SWEEP.md`` from the shard
files of any number of machines, and refuses shards of different commits or locks. It says what
the commits after the swept one changed: nothing but results and documents (the sweep still
describes the current commit), or code, checks, lock or configuration (the sweep is stale).
"""

from __future__ import annotations

import argparse
import importlib.util
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
RESULTS = ROOT / "reliability" / "sweep"
DURATIONS = ROOT / "reliability" / "test_durations.json"
REPORT = ROOT / "SEED_SWEEP.md"
DEFAULT_SEEDS = tuple(range(20))
#: What the sweep runs: the whole suite (``--tests`` narrows it; the collection records what it was).
TESTS = ("checks",)
PROFILE = "thorough"
#: Characters of a failure message kept in the results (the first lines say what failed).
MESSAGE_CHARS = 2000

OUTCOMES = ("passed", "failed", "xfailed", "skipped")


def _sibling(name):
    """Import ``reliability/<name>.py`` by path (the folder is not a package; sys.path is left alone)."""
    spec = importlib.util.spec_from_file_location(f"reliability_{name}", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sweep_shards = _sibling("sweep_shards")


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


def _collect(tests, *args):
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *tests, "-q", "--collect-only", "-p", "no:cacheprovider", *args],
        cwd=ROOT, env=_environment(), capture_output=True, text=True)
    if result.returncode not in (0, 5):  # 5: nothing collected (no control in a subset)
        raise RuntimeError(f"collection failed (exit {result.returncode}):\n" + result.stdout[-4000:] + result.stderr[-4000:])
    return sorted(line.strip() for line in result.stdout.splitlines() if "::" in line)


def collect_tests(tests=TESTS):
    """Node ids of every test under ``tests``, sorted (the collection the shards are indices into)."""
    return _collect(tests)


def collect_controls(tests=TESTS):
    """Node ids of the tests under ``tests`` marked ``negative_control``."""
    return _collect(tests, "-m", "negative_control")


def git(*args):
    """``git args`` in the repository: its output, stripped (empty when git fails)."""
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()


def source_commit():
    """The git commit of the tree being swept, with ``+dirty`` when tracked files differ from it."""
    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def identity(collection, max_examples):
    """The fields every shard of one merge shares (``sweep_shards.SHARED_FIELDS``), for this tree and machine."""
    return {"commit": source_commit(), "lock": sweep_shards.lock_digest(),
            "versions": sweep_shards.installed_versions(platform.python_version()),
            "profile": PROFILE, "max_examples": max_examples,
            "collection": sweep_shards.collection_digest(collection), "collected": len(collection)}


def split_arguments(splits, group, durations, store_durations):
    """pytest-split's arguments for group ``group`` of ``splits`` (none for the whole suite)."""
    args = []
    if splits > 1:
        args += [f"--splits={splits}", f"--group={group}", f"--durations-path={durations}",
                 "--splitting-algorithm=least_duration"]
    if store_durations:
        args += ["--store-durations", "--clean-durations", f"--durations-path={durations}"]
    return args


def run_shard(seed, splits, group, *, workers, collection, controls, base, example_db=None,
              durations=DURATIONS, store_durations=False, tests=TESTS):
    """Run one shard; returns its record (``base``, the identity, plus what ran and how it ended)."""
    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp) / "junit.xml"
        env = _environment()
        env["THEORY_EXAMPLE_DB"] = example_db or str(Path(tmp) / "examples")
        command = [sys.executable, "-m", "pytest", *tests, "-q", "-p", "no:cacheprovider",
                   f"--hypothesis-seed={seed}", f"--junitxml={junit}", "-o", "junit_family=xunit2",
                   *split_arguments(splits, group, durations, store_durations)]
        if workers != "0":
            command += ["-n", workers]
        start = time.perf_counter()
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if not junit.exists():
            raise RuntimeError(f"seed {seed}, group {group} of {splits}: pytest wrote no report "
                               f"(exit {result.returncode}):\n" + result.stdout[-4000:] + result.stderr[-4000:])
        outcomes = parse_junit(junit.read_text())
        try:
            selected = sweep_shards.selected_indices(outcomes, collection)
        except ValueError:  # keep the report: the outcomes are not lost with the node-id mapping
            kept = Path(tempfile.gettempdir()) / f"seed-{seed:02d}.group-{group}-of-{splits}.junit.xml"
            kept.write_bytes(junit.read_bytes())
            print(f"the JUnit report is kept at {kept}", file=sys.stderr)
            raise
    from theory.testing.example_database import describe_database, example_database
    return {**base, "seed": seed, "splits": splits, "group": group,
            "selected": selected,
            "exit_code": result.returncode, "wall_s": round(wall, 1),
            "machine": f"{platform.node() or '?'}: {platform.machine()}, {os.cpu_count()} cores",
            "example_db": describe_database(example_database(ROOT, env), env) if example_db else "fresh folder per shard",
            "counts": seed_summary(outcomes, set(controls)),
            "false_alarms": dict(sorted(false_alarms(outcomes).items())),
            "missed_controls": sorted(set(false_alarms(outcomes)) & set(controls))}


def already_run(folder, seed, splits, group, base):
    """True when ``folder`` holds this shard's file with the same identity as ``base``."""
    path = Path(folder) / sweep_shards.shard_name(seed, splits, group)
    if not path.exists():
        return False
    record = json.loads(path.read_text())
    return all(record.get(field) == base[field] for field in sweep_shards.SHARED_FIELDS)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(DEFAULT_SEEDS),
                        help="Hypothesis seeds to run, or with --merge the seeds wanted (default 0..19)")
    parser.add_argument("--splits", type=int, default=1, help="split the suite into N groups (pytest-split)")
    parser.add_argument("--group", type=int, default=None, help="the group to run, 1..N (needed with --splits N > 1)")
    parser.add_argument("--tests", nargs="+", default=list(TESTS), metavar="PATH",
                        help="test files or folders to sweep (default: the whole suite, checks)")
    parser.add_argument("--workers", default="auto", help="pytest-xdist workers (N, auto, or 0 for none)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder of the shard files (default reliability/sweep)")
    parser.add_argument("--example-db", default=None, metavar="URL",
                        help="a shared example database (e.g. redis://host:6379/0) instead of a fresh folder per shard")
    parser.add_argument("--durations", type=Path, default=DURATIONS,
                        help="pytest-split's durations file (default reliability/test_durations.json)")
    parser.add_argument("--store-durations", action="store_true",
                        help="record the durations of this whole-suite run into --durations")
    parser.add_argument("--force", action="store_true", help="rerun shards already in the results")
    parser.add_argument("--merge", nargs="*", type=Path, default=None, metavar="PATH",
                        help="only merge shard files (files or folders; default --results) into SEED_SWEEP.md")
    parser.add_argument("--output", type=Path, default=REPORT, help="where --merge writes (default SEED_SWEEP.md)")
    args = parser.parse_args(argv)
    if args.splits < 1:
        parser.error("--splits must be at least 1")
    if args.splits == 1:
        args.group = 1 if args.group is None else args.group
    if args.group is None or not 1 <= args.group <= args.splits:
        parser.error(f"--group must be one of 1..{args.splits} (with --splits {args.splits})")
    if args.store_durations and args.splits != 1:
        parser.error("--store-durations records a whole-suite run: use it without --splits")
    if (args.splits > 1 or args.store_durations) and importlib.util.find_spec("pytest_split") is None:
        parser.error('--splits and --store-durations need pytest-split: pip install -e ".[dev]"')
    return args


def since(commit):
    """The report's line on what changed in this repository after ``commit`` (``sweep_shards.since_line``)."""
    head, swept = git("rev-parse", "HEAD"), git("rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}")
    if not head:
        return None
    if not swept:
        return f"The commit swept, {commit}, is not in this repository's history."
    changed = git("diff", "--name-only", swept, head).splitlines()
    return sweep_shards.since_line(commit, commit if swept == head else git("rev-parse", "--short", "HEAD"), changed)


def merge_into(paths, wanted_seeds, output):
    """Merge the shard files of ``paths`` and write the report to ``output``; returns the merged result."""
    merged = sweep_shards.merge(sweep_shards.load_shards(paths), wanted_seeds)
    tmp = output.with_name(output.name + ".tmp")
    tmp.write_text(sweep_shards.render(merged, since(merged["commit"])))
    os.replace(tmp, output)
    return merged


def main(argv=None):
    args = parse_args(argv)
    if args.merge is not None:
        try:
            merged = merge_into(args.merge or [args.results], args.seeds, args.output)
        except ValueError as error:
            sys.exit(f"seed_sweep.py --merge: refused: {error}")
        print(args.output.read_text())
        return 0 if all(not r["false_alarms"] and r["exit_code"] == 0 for r in merged["seeds"]) else 1
    sys.path.insert(0, str(ROOT))
    from theory.testing.profiles import PROFILES  # the examples per property of each profile
    collection = collect_tests(args.tests)
    controls = collect_controls(args.tests)
    base = identity(collection, PROFILES[PROFILE])
    for seed in args.seeds:
        if not args.force and already_run(args.results, seed, args.splits, args.group, base):
            print(f"seed {seed}, group {args.group} of {args.splits}: already run at {base['commit']}", flush=True)
            continue
        print(f"seed {seed}, group {args.group} of {args.splits} ...", flush=True)
        record = run_shard(seed, args.splits, args.group, workers=args.workers, collection=collection,
                           controls=controls, base=base, example_db=args.example_db,
                           durations=args.durations, store_durations=args.store_durations, tests=args.tests)
        path = sweep_shards.write_shard(record, args.results)
        print(f"seed {seed}, group {args.group} of {args.splits}: exit {record['exit_code']}, "
              f"{len(sweep_shards.expand_ranges(record['selected']))} tests, {record['wall_s'] / 60:.1f} min, "
              f"{len(record['false_alarms'])} false alarms -> {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
