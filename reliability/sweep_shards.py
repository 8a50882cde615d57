"""Shards of the seed sweep: one result file per (seed, shard), and the merge that renders SEED_SWEEP.md.

A *shard* is one pytest run under one Hypothesis seed over one group of pytest-split's partition
of the suite (``--splits N --group i``; the whole suite is ``--splits 1 --group 1``). Its result
file, ``seed-SS.group-I-of-N.json`` (:func:`shard_name`), records

* what ran: ``seed``, ``splits``, ``group``, ``profile``, ``max_examples``;
* on what: ``commit`` (``+dirty`` when tracked files differ from it), ``lock`` (sha256 of the files
  of ``requirements/``, the locks and pins, names and contents), ``versions`` (Python and the installed
  distributions that decide the draws and the outcomes), ``collection`` (sha256 of the sorted node
  ids of the whole suite, as collected on that machine) and ``collected`` (their number);
* which tests: ``selected``, the indices into that sorted collection of the tests the shard ran
  (as inclusive runs ``[first, last]``);
* the outcome: ``counts``, ``false_alarms`` (node id to message), ``missed_controls`` (the false
  alarms that are negative controls), ``exit_code``, ``wall_s``, ``machine``
  and ``example_db`` (the database it used, without a password).

:func:`merge` takes the shard files of any number of machines and refuses, with a ValueError naming
the field, shards that differ in commit, lock, versions, profile, examples per property or
collection, and a dirty commit: their outcomes would not describe one tree under one set of
versions. Within a seed it refuses shards of different ``splits``, one group twice, and groups that
ran the same test; a seed counts as run once all ``N`` groups are there and their tests are the
whole collection (a shard that stopped early leaves tests out, and the seed is listed as incomplete).
:func:`render` writes SEED_SWEEP.md from the merge.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK_FOLDER = ROOT / "requirements"
#: The fields every shard of one merge must share.
SHARED_FIELDS = ("commit", "lock", "versions", "profile", "max_examples", "collection", "collected")
#: Distributions whose version is part of a shard's identity (absent ones are recorded as ``null``).
VERSIONED = ("hypothesis", "numpy", "scipy", "pytest", "pytest-xdist", "pytest-split", "numba", "torch",
             "scikit-learn", "redis")
COUNT_FIELDS = ("positives_passed", "positives_failed", "controls_found", "controls_missed", "xfailed", "skipped")


def shard_name(seed, splits, group):
    """The result file's name of one shard: ``seed-03.group-2-of-4.json``."""
    return f"seed-{seed:02d}.group-{group}-of-{splits}.json"


def lock_digest(folder=LOCK_FOLDER):
    """sha256 (first 16 hex digits) of the files of ``folder`` (the locks and pins), names and contents."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(folder).iterdir() if p.is_file()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def installed_versions(python_version):
    """``{"python": ..., distribution: version or None}`` for :data:`VERSIONED`, of this interpreter."""
    from importlib import metadata
    versions = {"python": python_version}
    for name in VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def collection_digest(node_ids):
    """sha256 (first 16 hex digits) of the sorted node ids, one per line."""
    return hashlib.sha256("\n".join(sorted(node_ids)).encode()).hexdigest()[:16]


def selected_indices(ran, collection):
    """Indices into ``sorted(collection)`` of the node ids in ``ran``, as :func:`index_ranges`.

    ValueError for a node id that is not in the collection.
    """
    index = {node: i for i, node in enumerate(sorted(collection))}
    unknown = sorted(set(ran) - set(index))
    if unknown:
        raise ValueError(f"ran: {len(unknown)} test(s) outside the collection, e.g. {unknown[0]!r}")
    return index_ranges(index[node] for node in ran)


def index_ranges(indices):
    """Sorted indices as inclusive runs: ``[0, 1, 2, 5, 7, 8]`` -> ``[[0, 2], [5, 5], [7, 8]]``."""
    runs = []
    for i in sorted(indices):
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return runs


def expand_ranges(runs):
    """The indices of :func:`index_ranges`'s runs, in order (with repeats where runs overlap)."""
    return [i for first, last in runs for i in range(first, last + 1)]


def write_shard(record, folder):
    """Write one shard's record into ``folder`` (atomically); returns the path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / shard_name(record["seed"], record["splits"], record["group"])
    tmp = path.with_name(path.name + ".tmp")
    fields = [f" {json.dumps(key)}: {json.dumps(value, sort_keys=True)}" for key, value in record.items()]
    tmp.write_text("{\n" + ",\n".join(fields) + "\n}\n")  # one field a line: diffs read field by field
    os.replace(tmp, path)
    return path


def shard_files(paths):
    """The shard files named by ``paths`` (files, or folders whose ``seed-*.json`` are taken), sorted."""
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(path.glob("seed-*.json"))
        elif path.is_file():
            files.append(path)
        else:
            raise ValueError(f"paths: {str(path)!r} is neither a shard file nor a folder")
    return files


def load_shards(paths):
    """The records of the shard files named by ``paths`` (see :func:`shard_files`)."""
    return [json.loads(path.read_text()) for path in shard_files(paths)]


def merge(shards, wanted_seeds=()):
    """Merge shard records into one result: ``{shared fields..., "seeds": [...], "incomplete": [...]}``.

    Each entry of ``seeds`` is a complete seed: its counts and false alarms summed over its groups,
    ``exit_code`` the largest of its shards', ``wall_s`` the sum (machine time), ``splits``.
    ``incomplete`` lists ``(seed, reason)`` for seeds with groups missing or tests left out;
    ``wanted_seeds`` adds the seeds that have no shard at all.

    Raises
    ------
    ValueError
        No shard; shards that differ in a field of :data:`SHARED_FIELDS`; a dirty commit; within a
        seed, different ``splits``, a group twice, or two groups that ran the same test.
    """
    if not shards:
        raise ValueError("shards: nothing to merge (no seed-*.json shard file)")
    first = shards[0]
    for field in SHARED_FIELDS:
        values = sorted({json.dumps(shard.get(field), sort_keys=True) for shard in shards})
        if len(values) > 1:
            raise ValueError(f"{field}: the shards differ ({', '.join(values)}); "
                             "merge only shards of one commit, lock and set of versions")
    if str(first["commit"]).endswith("+dirty"):
        raise ValueError(f"commit: {first['commit']} has uncommitted changes; its outcomes describe no commit")
    by_seed = {}
    for shard in shards:
        by_seed.setdefault(shard["seed"], []).append(shard)
    seeds, incomplete = [], []
    for seed, group in sorted(by_seed.items()):
        splits = {shard["splits"] for shard in group}
        if len(splits) > 1:
            raise ValueError(f"splits: seed {seed} has shards of {sorted(splits)} splits; one partition per seed")
        (n,) = splits
        groups = [shard["group"] for shard in group]
        twice = sorted({g for g in groups if groups.count(g) > 1})
        if twice:
            raise ValueError(f"group: seed {seed} has group(s) {twice} of {n} more than once")
        ran = [i for shard in group for i in expand_ranges(shard["selected"])]
        if len(ran) != len(set(ran)):
            raise ValueError(f"selected: seed {seed}: two groups ran the same test "
                             "(the shards were split with different durations or collections)")
        missing = sorted(set(range(1, n + 1)) - set(groups))
        if missing:
            incomplete.append((seed, f"group(s) {', '.join(map(str, missing))} of {n} not run"))
            continue
        if len(ran) != first["collected"]:
            incomplete.append((seed, f"{first['collected'] - len(ran)} of {first['collected']} tests not run"))
            continue
        alarms = {}
        for shard in sorted(group, key=lambda s: s["group"]):
            alarms.update(shard["false_alarms"])
        seeds.append({"seed": seed, "splits": n,
                      "counts": {key: sum(shard["counts"][key] for shard in group) for key in COUNT_FIELDS},
                      "false_alarms": dict(sorted(alarms.items())),
                      "missed_controls": sorted({node for shard in group for node in shard["missed_controls"]}),
                      "exit_code": max(shard["exit_code"] for shard in group),
                      "wall_s": round(sum(shard["wall_s"] for shard in group), 1),
                      "machines": sorted({shard.get("machine", "?") for shard in group}),
                      "example_dbs": sorted({shard.get("example_db", "?") for shard in group})})
    incomplete += [(seed, "no shard") for seed in sorted(set(wanted_seeds) - set(by_seed))]
    merged = {field: first.get(field) for field in SHARED_FIELDS}
    merged.update(seeds=seeds, incomplete=sorted(incomplete))
    return merged


def _version_line(versions):
    return ", ".join(f"{name} {version}" for name, version in versions.items() if version is not None)


#: What a change to makes a sweep stale: the code, the checks and what installs or runs them.
CODE_PATHS = ("theory/", "checks/", "conftest.py", "pyproject.toml", "requirements/", ".ci/", "reliability/seed_sweep.py",
              "reliability/sweep_shards.py")


def since_line(commit, head, changed):
    """The report's line on the commits after the swept one: ``changed`` lists the files they change.

    A change to :data:`CODE_PATHS` means the sweep no longer describes ``head``, and the line says
    so; changes elsewhere (results, documents) leave it describing ``head``'s code and checks.
    """
    if head == commit:
        return f"The tree swept is the current commit, {commit}."
    code = [path for path in changed if path.startswith(CODE_PATHS)]
    if code:
        return (f"**Stale:** the code or checks changed between {commit} and {head}: "
                + ", ".join(f"`{path}`" for path in code) + ". Sweep again.")
    return (f"The commits from {commit} to {head} change no code, check, lock or configuration "
            f"(only {len(changed)} file{'s' if len(changed) != 1 else ''} of results and documents), "
            f"so the sweep describes {head} too.")


def render(merged, since=None):
    """SEED_SWEEP.md from :func:`merge`'s result (markdown text); ``since`` is :func:`since_line`'s line."""
    lines = ["# Seed sweep", "",
             "Generated by `python reliability/seed_sweep.py --merge` from the shard files of",
             "`reliability/sweep/` (method in the docstrings of `reliability/seed_sweep.py` and",
             f"`reliability/sweep_shards.py`). Every test of `checks/` under the `{merged['profile']}` Hypothesis",
             f"profile ({merged['max_examples']} examples per property), one run per seed, each seed split into",
             "shards by pytest-split. A false alarm is a positive property that failed, a negative control that",
             "did not find its counterexample, or a pinned literal statement that unexpectedly held.", "",
             f"Commit {merged['commit']}, lock {merged['lock']}, {merged['collected']} tests collected "
             f"(collection {merged['collection']}).", "", *([since, ""] if since else []),
             f"Versions: {_version_line(merged['versions'])}.", ""]
    machines = sorted({machine for record in merged["seeds"] for machine in record["machines"]})
    databases = sorted({db for record in merged["seeds"] for db in record["example_dbs"]})
    if machines:
        lines += [f"Machines: {'; '.join(machines)}. Example databases: {'; '.join(databases)}.", ""]
    total_alarms, rows = 0, []
    for record in merged["seeds"]:
        counts, alarms = record["counts"], record["false_alarms"]
        total_alarms += len(alarms) + (not alarms and record["exit_code"] != 0)
        rows.append(f"| {record['seed']} | {record['splits']} "
                    f"| {counts['positives_passed']} | {counts['positives_failed']} "
                    f"| {counts['controls_found']} | {counts['controls_missed']} | {counts['xfailed']} "
                    f"| {counts['skipped']} | {len(alarms)} | {record['wall_s'] / 60:.1f} |")
    done = len(merged["seeds"])
    wanted = done + len(merged["incomplete"])
    status = f"**{done} of {wanted} seeds run; {total_alarms} false alarm{'s' if total_alarms != 1 else ''}.**"
    if merged["incomplete"]:
        status += " Not complete: " + "; ".join(f"seed {seed} ({why})" for seed, why in merged["incomplete"]) + "."
    lines += [status, "",
              "| seed | shards | positives passed | positives failed | controls found | controls missed "
              "| xfailed (pinned literal) | skipped | false alarms | machine minutes |",
              "|---|---|---|---|---|---|---|---|---|---|", *rows, ""]
    for record in merged["seeds"]:
        if not record["false_alarms"] and record["exit_code"] != 0:  # pytest failed outside any test
            lines.append(f"- seed {record['seed']}: pytest exited with status {record['exit_code']} "
                         "and no failing test (an internal or collection error)")
        for node, message in record["false_alarms"].items():
            kind = "control missed" if node in record["missed_controls"] else "failed"
            first = message.splitlines()[0] if message else ""
            lines.append(f"- seed {record['seed']}, `{node}` ({kind}): {first}")
    return "\n".join(lines).rstrip() + "\n"
