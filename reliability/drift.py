"""The drift watch: the suite against the newest versions pyproject.toml allows, not the lock.

Run from anywhere (stdlib only, Python 3.11+; needs the package index)::

    python reliability/drift.py                        # fresh venv, both passes, writes DRIFT.md
    python reliability/drift.py --seed 1234            # the randomized pass under this seed
    python reliability/drift.py --venv /tmp/driftvenv  # build (or upgrade) the venv there and keep it
    python reliability/drift.py --venv /tmp/driftvenv --skip-install   # reuse it as it is
    python reliability/drift.py --pytest-args "-k test_numerics_geometry"   # a subset (both passes)

CI installs exactly the locked versions (``requirements/dev.lock``, ``.ci/run``), so a new
release of a dependency cannot change its verdict; this script shows what a new release *would*
do before the lock is moved (``python reliability/update_lock.py --upgrade``). Method:

1. A virtual environment (temporary unless ``--venv``/``--keep-venv``) gets the newest pip and
   build backend, then ``pip install --upgrade --upgrade-strategy eager -e ".[dev,fast,redis]"``
   (the extras the lock pins, ``lockfile.LOCKED_EXTRAS``) from the checkout: no lock. The install is *editable*, as CI's, so the checkout itself is tested.
2. Every installed distribution's version is compared with the lock (package | locked | newest |
   changed?); the project itself is left out.
3. The suite runs twice in the checkout with that venv's ``pytest``, each with ``--junitxml``:
   the ``ci`` pass exactly as ``.ci/run`` runs it (``CI=true``, ``HYPOTHESIS_PROFILE=ci``,
   ``pytest -n auto``), and a short randomized ``dev`` pass (25 examples a property, ``CI``
   unset as in the seed sweep) under a ``--hypothesis-seed`` that the script draws, or takes
   from ``--seed``, and records. Both use a fresh example database (``THEORY_EXAMPLE_DB`` in a
   temporary folder): the user's is neither read nor written, so the seed alone replays the pass.
4. Outcomes come from the JUnit XML, read by ``reliability/seed_sweep.py``'s parser. A test
   that xfails (a pinned literal statement, ``xfail(strict=True)``) or a negative control that
   passes (it found its counterexample) ended as it must; a *failure* is a test reported failed
   or errored (a strict xfail that passed and a control that found nothing included), and a
   pass whose pytest exited with neither 0 nor 1 (a collection or internal error, no test run).
5. Each failure is looked up in ``reliability/drift_findings.json``: a test id (pytest's node
   id, or the id without its ``[parameters]`` to cover every parametrization) maps to
   ``{"class": "suite defect" | "theory finding", "note": "...", "fixed_in": "<commit or empty>"}``.
   A failure with no entry is **unclassified**; so is one whose entry says it was fixed
   (``fixed_in`` set) and that fails again.

``DRIFT.md`` (``--out``) says when, at which commit, with which Python; the version table;
each pass's command, seed, counts (passed / failed / xfailed / skipped) and wall time
(measured around the pytest subprocess); and every failure with its classification. Exit status
1 when a failure is unclassified, 0 otherwise, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FINDINGS = ROOT / "reliability" / "drift_findings.json"
REPORT = ROOT / "DRIFT.md"
CLASSES = ("suite defect", "theory finding")
PROJECT = "first-order-adversaries"
#: pytest's exit codes that mean "the tests ran" (all passed / some failed); any other is a failure of the pass.
RAN = (0, 1)


def _sibling(name):
    """Import ``reliability/<name>.py`` by path (the folder is not a package; sys.path is left alone)."""
    spec = importlib.util.spec_from_file_location(f"reliability_{name}", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lockfile = _sibling("lockfile")
seed_sweep = _sibling("seed_sweep")


# --- the pure parts (checked by checks/suite/test_reliability_scripts.py) ---------------------------------

def version_table(locked, installed, skip=(PROJECT,)):
    """Rows ``(package, locked, newest, changed)`` over every package locked or installed.

    ``locked`` and ``installed`` map names to versions (any spelling: names are compared in
    their PEP 503 form); ``changed`` is ``"no"``, ``"yes"``, ``"not locked"`` or ``"not installed"``.
    """
    locked = {lockfile.canonical_name(name): version for name, version in locked.items()}
    installed = {lockfile.canonical_name(name): version for name, version in installed.items()}
    skip = {lockfile.canonical_name(name) for name in skip}
    rows = []
    for name in sorted((set(locked) | set(installed)) - skip):
        old, new = locked.get(name, ""), installed.get(name, "")
        changed = ("not locked" if not old else "not installed" if not new
                   else "no" if old == new else "yes")
        rows.append((name, old, new, changed))
    return rows


def load_findings(text):
    """``{test id: finding}`` from the text of ``drift_findings.json``; a malformed entry raises ValueError naming it."""
    data = json.loads(text)
    findings = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(findings, dict):
        raise ValueError('drift findings: expected an object with "findings": {test id: {...}}')
    for test_id, finding in findings.items():
        if not isinstance(finding, dict) or set(finding) != {"class", "note", "fixed_in"}:
            raise ValueError(f"drift finding {test_id!r}: expected exactly the keys class, note, fixed_in")
        if finding["class"] not in CLASSES:
            raise ValueError(f"drift finding {test_id!r}: class must be one of {CLASSES}, got {finding['class']!r}")
        if not isinstance(finding["note"], str) or not finding["note"].strip():
            raise ValueError(f"drift finding {test_id!r}: note must be a non-empty string")
        if not isinstance(finding["fixed_in"], str):
            raise ValueError(f"drift finding {test_id!r}: fixed_in must be a string (a commit, or empty)")
    return findings


def finding_for(node, findings):
    """The finding of a node id: its own entry, else that of the id without ``[parameters]``, else None."""
    if node in findings:
        return findings[node]
    base = node.split("[", 1)[0]
    return findings.get(base) if base != node else None


def failures(outcomes, exit_code):
    """``{test id: message}`` of a pass's failures (see the module docstring, step 4)."""
    failed = {node: message for node, (outcome, message) in outcomes.items() if outcome == "failed"}
    if exit_code not in RAN:
        failed[f"(pytest exit status {exit_code})"] = (
            "pytest did not run the tests to the end (a usage, collection or internal error, or no test selected)")
    return failed


def classify(failed, findings):
    """Rows ``(test id, message, finding or None, verdict)``; verdict is ``"classified"`` or ``"unclassified"``.

    A finding with ``fixed_in`` set does not classify a failure: the fix did not hold.
    """
    rows = []
    for node, message in sorted(failed.items()):
        finding = finding_for(node, findings)
        verdict = "classified" if finding is not None and not finding["fixed_in"] else "unclassified"
        rows.append((node, message, finding, verdict))
    return rows


def counts(outcomes):
    """``{passed, failed, xfailed, skipped}`` of a pass."""
    tally = dict.fromkeys(seed_sweep.OUTCOMES, 0)
    for outcome, _ in outcomes.values():
        tally[outcome] += 1
    return tally


def unclassified(result):
    """Every unclassified failure of a result: ``[(pass name, test id)]``."""
    findings = result["findings"]
    return [(run["name"], node) for run in result["passes"]
            for node, _, _, verdict in classify(failures(run["outcomes"], run["exit_code"]), findings)
            if verdict == "unclassified"]


def exit_status(result):
    """1 when a failure is unclassified, else 0."""
    return 1 if unclassified(result) else 0


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(result):
    """DRIFT.md (markdown) from a result: ``date``, ``commit``, ``python``, ``machine``, ``install``,
    ``scope`` (empty for the whole suite), ``versions`` (rows of :func:`version_table`), ``passes`` (``name``, ``profile``, ``seed``,
    ``command``, ``exit_code``, ``wall_s``, ``outcomes``) and ``findings``."""
    findings = result["findings"]
    rows = result["versions"]
    moved = [row for row in rows if row[3] != "no"]
    missing = unclassified(result)
    lines = ["# Drift watch", "",
             "Generated by `python reliability/drift.py` (method in its docstring): the suite against the newest",
             "versions that pyproject.toml allows, in a fresh virtual environment, instead of CI's lock",
             "(`requirements/dev.lock`).", "",
             f"- date: {result['date']}",
             f"- commit: {result['commit']}",
             f"- Python: {result['python']}",
             f"- machine: {result['machine']}",
             f"- install: {result['install']}",
             f"- scope: {result.get('scope') or 'the whole suite'}", ""]
    if missing:
        lines += [f"**{len(missing)} unclassified failure{'s' if len(missing) != 1 else ''}** "
                  "(not in `reliability/drift_findings.json`, or fixed there and failing again): exit status 1.", ""]
    else:
        lines += ["No unclassified failure: exit status 0.", ""]

    lines += ["## Versions", "",
              f"{len(moved)} of {len(rows)} packages differ from the lock.", "",
              "| package | locked | newest | changed? |", "|---|---|---|---|"]
    for name, old, new, changed in rows:
        mark = f"**{changed}**" if changed != "no" else changed
        lines.append(f"| {name} | {old or '—'} | {new or '—'} | {mark} |")
    lines.append("")

    lines += ["## Passes", "",
              "| pass | profile | seed | passed | failed | xfailed | skipped | exit status | wall time |",
              "|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for run in result["passes"]:
        tally = counts(run["outcomes"])
        seed = run["seed"] if run.get("seed") is not None else "— (derandomized)"
        lines.append(f"| {run['name']} | {run['profile']} | {seed} | {tally['passed']} | {tally['failed']} "
                     f"| {tally['xfailed']} | {tally['skipped']} | {run['exit_code']} "
                     f"| {run['wall_s'] / 60:.1f} min |")
    lines.append("")
    for run in result["passes"]:
        lines.append(f"- {run['name']}: `{run['command']}`")
    lines += ["", "Wall time: measured by the script around each pytest subprocess.", ""]

    for run in result["passes"]:
        rows_of_run = classify(failures(run["outcomes"], run["exit_code"]), findings)
        lines += [f"## Failures of the {run['name']} pass", ""]
        if not rows_of_run:
            lines += ["None.", ""]
            continue
        for node, message, finding, verdict in rows_of_run:
            first = _cell(message.strip().splitlines()[0].strip()) if message.strip() else ""
            failure = f" (failure: {first})" if first else ""
            if finding is None:
                lines.append(f"- `{node}`: **unclassified**{failure}")
            elif verdict == "unclassified":
                lines.append(f"- `{node}`: **unclassified: fixed in {finding['fixed_in']} "
                             f"({finding['class']}) and failing again**{failure}")
            else:
                lines.append(f"- `{node}`: {finding['class']}: {_cell(finding['note'])}{failure}")
        lines.append("")

    failed_now = {node for run in result["passes"] for node in failures(run["outcomes"], run["exit_code"])}
    quiet = [test_id for test_id in sorted(findings)
             if not any(node == test_id or node.split("[", 1)[0] == test_id for node in failed_now)]
    if quiet:
        lines += ["## Classified, not failing in this run", ""]
        for test_id in quiet:
            finding = findings[test_id]
            fixed = f", fixed in {finding['fixed_in']}" if finding["fixed_in"] else ""
            lines.append(f"- `{test_id}` ({finding['class']}{fixed}): {_cell(finding['note'])}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# --- the impure parts: the venv, the passes -----------------------------------------------------------

def venv_python(venv):
    return Path(venv) / "bin" / "python"


def build_requirements():
    """``[build-system] requires`` of pyproject.toml (the build backend; the venv gets its newest allowed)."""
    import tomllib  # here, not at the top: the checks import this module on any Python the project supports

    with open(ROOT / "pyproject.toml", "rb") as handle:
        return list(tomllib.load(handle)["build-system"]["requires"])


def install(venv):
    """Create (if missing) the venv and install the newest allowed versions into it; returns the install line."""
    python = venv_python(venv)
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    upgrade = ["install", "--upgrade", "--upgrade-strategy", "eager"]
    subprocess.run([str(python), "-m", "pip", *upgrade, "--quiet", "pip", *build_requirements()], check=True)
    target = f".[{','.join(lockfile.LOCKED_EXTRAS)}]"  # the extras the lock pins
    subprocess.run([str(python), "-m", "pip", *upgrade, "--quiet", "-e", target], cwd=ROOT, check=True)
    return (f"`pip {' '.join(upgrade)} pip {' '.join(map(shlex.quote, build_requirements()))}`, then "
            f"`pip {' '.join(upgrade)} -e \"{target}\"` (editable, from the checkout; no lock)")


def installed_versions(venv):
    """``{name: version}`` of every distribution in the venv."""
    code = ("import importlib.metadata as m, json; "
            "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))")
    out = subprocess.run([str(venv_python(venv)), "-c", code], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def venv_python_version(venv):
    code = "import platform; print(platform.python_version(), platform.python_implementation())"
    out = subprocess.run([str(venv_python(venv)), "-c", code], check=True, capture_output=True, text=True).stdout
    return out.strip()


def _environment(venv, profile, database, ci):
    env = {key: value for key, value in os.environ.items()
           if key not in ("CI", "GITHUB_ACTIONS", "HYPOTHESIS_PROFILE", "PYTHONPATH", "VIRTUAL_ENV")
           and not key.startswith("PYTEST_")}
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = os.pathsep.join([str(Path(venv) / "bin"), env.get("PATH", "")])
    env["HYPOTHESIS_PROFILE"] = profile
    env["THEORY_EXAMPLE_DB"] = str(database)
    if ci:
        env["CI"] = "true"
    return env


def run_pass(venv, name, profile, seed, extra_args, ci):
    """Run the suite once; returns the pass's record (command, exit code, wall time, outcomes)."""
    with tempfile.TemporaryDirectory(prefix=f"drift-{name}-") as tmp:
        junit = Path(tmp) / "junit.xml"
        args = ["-n", "auto", *extra_args]
        if seed is not None:
            args.append(f"--hypothesis-seed={seed}")
        shown = " ".join([("CI=true " if ci else "") + f"HYPOTHESIS_PROFILE={profile}", "pytest",
                          *map(shlex.quote, args)])
        command = [str(Path(venv) / "bin" / "pytest"), *args, f"--junitxml={junit}", "-o", "junit_family=xunit2"]
        print(f"{name} pass: {shown}", flush=True)
        start = time.perf_counter()
        completed = subprocess.run(command, cwd=ROOT, env=_environment(venv, profile, Path(tmp) / "examples", ci),
                                   capture_output=True, text=True)
        wall = time.perf_counter() - start
        tail = (completed.stdout.strip().splitlines() or [""])[-1]
        print(f"{name} pass: exit {completed.returncode} in {wall / 60:.1f} min: {tail}", flush=True)
        outcomes = seed_sweep.parse_junit(junit.read_text()) if junit.exists() else {}
    return {"name": name, "profile": profile, "seed": seed, "command": shown, "exit_code": completed.returncode,
            "wall_s": round(wall, 1), "outcomes": outcomes}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPORT, help="where to write the report (default DRIFT.md)")
    parser.add_argument("--seed", type=int, help="Hypothesis seed of the randomized pass (default: drawn)")
    parser.add_argument("--venv", type=Path, help="build the venv here (or reuse it) and keep it")
    parser.add_argument("--keep-venv", action="store_true", help="keep the temporary venv and print its path")
    parser.add_argument("--skip-install", action="store_true", help="reuse --venv as it is (no install, no upgrade)")
    parser.add_argument("--pytest-args", default="", metavar="ARGS",
                        help='extra pytest arguments for both passes, one string (e.g. "-k test_numerics_geometry")')
    args = parser.parse_args(argv)
    if args.skip_install and (args.venv is None or not venv_python(args.venv).exists()):
        parser.error("--skip-install needs --venv PATH of an existing virtual environment")
    return args


def main(argv=None):
    args = parse_args(argv)
    findings = load_findings(FINDINGS.read_text(encoding="utf-8"))
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2 ** 32)
    extra = shlex.split(args.pytest_args)
    venv = args.venv or Path(tempfile.mkdtemp(prefix="drift-venv-"))
    try:
        if args.skip_install:
            how = "reused as it was (--skip-install)"
        else:
            print(f"installing the newest allowed versions into {venv} ...", flush=True)
            how = install(venv)
        result = {
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": seed_sweep.source_commit(),
            "python": venv_python_version(venv),
            "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores",
            "install": how,
            "scope": f"restricted by --pytest-args {shlex.quote(args.pytest_args)}: not the whole suite" if extra else "",
            "versions": version_table(lockfile.pinned_versions(lockfile.read_locks()), installed_versions(venv)),
            "findings": findings,
            "passes": [run_pass(venv, "ci", "ci", None, extra, ci=True),
                       run_pass(venv, "dev", "dev", seed, extra, ci=False)],
        }
    finally:
        if args.venv is None and not args.keep_venv:
            shutil.rmtree(venv, ignore_errors=True)
        elif args.venv is None:
            print(f"venv kept at {venv} (reuse: --venv {venv} --skip-install)")
    text = render(result)
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, args.out)
    missing = unclassified(result)
    print(f"wrote {args.out}: {len(missing)} unclassified failure{'s' if len(missing) != 1 else ''}")
    for name, node in missing:
        print(f"  {name}: {node}")
    return exit_status(result)


if __name__ == "__main__":
    sys.exit(main())
