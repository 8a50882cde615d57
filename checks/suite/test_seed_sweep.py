"""The seed sweep in shards: one result file per (seed, group), merged into SEED_SWEEP.md only when they agree.

* the merge sums a seed's groups, counts a seed as run only when all its groups are there and
  their tests are the whole collection, and lists what is missing;
* it refuses shards of different commits, locks, versions, profiles, examples per property or
  collections, a dirty commit, and within a seed different splits, a group twice, or two groups
  that ran the same test;
* the report lists every false alarm, a missed control as such, and a crashed shard;
* the collection indices round-trip through their runs;
* end to end, ``reliability/seed_sweep.py`` runs two groups of pytest-split's partition of a test
  file under one seed and the merge finds each test run exactly once (needs pytest-split, in the
  ``dev`` extra: skipped without it, a failure on CI).

Negative controls: a merge blind to the lock accepts shards of two locks; a merge that counts a
seed as run when its groups are there, without checking that they ran the whole collection,
takes a seed whose shard stopped early for a complete one.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest
from hypothesis import given, strategies as st

from ..support import SOURCE_TREE, reliability_script, skip_without_source_tree

skip_without_source_tree()

sweep_shards = reliability_script("sweep_shards")
seed_sweep = reliability_script("seed_sweep")

COUNTS = dict(positives_passed=3, positives_failed=0, controls_found=1, controls_missed=0, xfailed=1, skipped=0)
VERSIONS = {"python": "3.11.7", "hypothesis": "6.170.17", "numpy": "2.4.6"}


def shard(seed, group, splits=2, selected=None, **fields):
    """A shard record of a 10-test collection: group 1 ran tests 0-4, group 2 tests 5-9 (unless ``selected``)."""
    if selected is None:
        selected = [[0, 4]] if group == 1 else [[5, 9]]
        if splits == 1:
            selected = [[0, 9]]
    record = {"commit": "abc1234", "lock": "0123456789abcdef", "versions": VERSIONS, "profile": "thorough",
              "max_examples": 200, "collection": "fedcba9876543210", "collected": 10,
              "seed": seed, "splits": splits, "group": group, "selected": selected, "exit_code": 0, "wall_s": 30.0,
              "machine": "m1: x86_64, 2 cores", "example_db": "fresh folder per shard",
              "counts": dict(COUNTS), "false_alarms": {}, "missed_controls": []}
    record.update(fields)
    return record


def test_a_seed_counts_as_run_when_all_its_groups_ran_the_whole_collection():
    merged = sweep_shards.merge([shard(0, 1), shard(0, 2), shard(1, 1), shard(2, 1, splits=1)], wanted_seeds=[0, 1, 2, 3])
    assert [record["seed"] for record in merged["seeds"]] == [0, 2]
    assert merged["seeds"][0]["counts"] == {key: 2 * value for key, value in COUNTS.items()}
    assert merged["seeds"][0]["wall_s"] == 60.0 and merged["seeds"][0]["splits"] == 2
    assert merged["incomplete"] == [(1, "group(s) 2 of 2 not run"), (3, "no shard")]
    text = sweep_shards.render(merged)
    assert "**2 of 4 seeds run; 0 false alarms.** Not complete: seed 1 (group(s) 2 of 2 not run); seed 3 (no shard)." in text
    assert "Commit abc1234, lock 0123456789abcdef, 10 tests collected" in text
    assert "| 0 | 2 | 6 | 0 | 2 | 0 | 2 | 0 | 0 | 1.0 |" in text


def check_merge_leaves_out_a_seed_whose_shards_left_tests_out(merge=sweep_shards.merge):
    stopped = shard(0, 2, selected=[[5, 7]])  # two tests of group 2 never reported
    merged = merge([shard(0, 1), stopped])
    assert merged["seeds"] == [] and merged["incomplete"] == [(0, "2 of 10 tests not run")]


def test_a_seed_whose_shards_left_tests_out_is_incomplete():
    check_merge_leaves_out_a_seed_whose_shards_left_tests_out()


REFUSED = [
    ("commit", [shard(0, 1), shard(0, 2, commit="def5678")]),
    ("lock", [shard(0, 1), shard(1, 1, lock="ffffffffffffffff")]),
    ("versions", [shard(0, 1), shard(0, 2, versions=dict(VERSIONS, hypothesis="6.171.0"))]),
    ("profile", [shard(0, 1), shard(0, 2, profile="ci")]),
    ("max_examples", [shard(0, 1), shard(0, 2, max_examples=60)]),
    ("collection", [shard(0, 1), shard(0, 2, collection="0000000000000000")]),
    ("commit", [shard(0, 1, commit="abc1234+dirty"), shard(0, 2, commit="abc1234+dirty")]),
    ("splits", [shard(0, 1), shard(0, 1, splits=3)]),
    ("group", [shard(0, 1), shard(0, 1)]),
    ("selected", [shard(0, 1), shard(0, 2, selected=[[4, 9]])]),
    ("shards", []),
]


@pytest.mark.parametrize("field, shards", REFUSED, ids=[f"{field}-{i}" for i, (field, _) in enumerate(REFUSED)])
def test_the_merge_refuses_shards_that_do_not_describe_one_run(field, shards):
    with pytest.raises(ValueError, match=rf"^{field}: "):
        sweep_shards.merge(shards)


@pytest.mark.negative_control
def test_control_a_merge_blind_to_the_lock_accepts_two_locks(monkeypatch):
    two_locks = [shard(0, 1), shard(0, 2, lock="ffffffffffffffff")]
    monkeypatch.setattr(sweep_shards, "SHARED_FIELDS", tuple(f for f in sweep_shards.SHARED_FIELDS if f != "lock"))
    assert [record["seed"] for record in sweep_shards.merge(two_locks)["seeds"]] == [0]  # the bug: merged


@pytest.mark.negative_control
def test_control_a_merge_that_only_counts_groups_takes_a_stopped_shard_for_a_complete_seed():
    def groups_only(shards, wanted_seeds=()):  # the bug: a shard's tests taken as its group's whole share
        return sweep_shards.merge([dict(s, selected=[[0, 4]] if s["group"] == 1 else [[5, 9]]) for s in shards])
    with pytest.raises(AssertionError):
        check_merge_leaves_out_a_seed_whose_shards_left_tests_out(groups_only)


def test_the_report_lists_each_false_alarm_a_missed_control_and_a_crashed_shard():
    alarm = shard(0, 1, false_alarms={"checks/claims/test_x.py::test_control_y": "Unsatisfiable: nothing found"},
                  missed_controls=["checks/claims/test_x.py::test_control_y"])
    failed = shard(0, 2, false_alarms={"checks/claims/test_x.py::test_z": "AssertionError: 1 > 0\ntrace"}, exit_code=1)
    crashed = shard(1, 1, splits=1, exit_code=3)
    text = sweep_shards.render(sweep_shards.merge([alarm, failed, crashed]))
    assert "**2 of 2 seeds run; 3 false alarms.**" in text
    assert "- seed 0, `checks/claims/test_x.py::test_control_y` (control missed): Unsatisfiable: nothing found" in text
    assert "- seed 0, `checks/claims/test_x.py::test_z` (failed): AssertionError: 1 > 0" in text
    assert "- seed 1: pytest exited with status 3 and no failing test" in text


@given(st.sets(st.integers(0, 300)))
def test_collection_indices_round_trip_through_their_runs(indices):
    runs = sweep_shards.index_ranges(indices)
    assert sweep_shards.expand_ranges(runs) == sorted(indices)
    assert all(first <= last for first, last in runs)
    assert all(a[1] + 1 < b[0] for a, b in zip(runs, runs[1:]))  # runs are maximal


def test_a_node_outside_the_collection_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"^ran: 1 test\(s\) outside the collection, e.g. 'c'"):
        sweep_shards.selected_indices({"a": 1, "c": 2}, ["a", "b"])


def test_the_command_line_refuses_a_group_outside_the_splits():
    for argv in (["--splits", "3", "--group", "4"], ["--splits", "3"], ["--splits", "0"],
                 ["--splits", "2", "--group", "1", "--store-durations"]):
        with pytest.raises(SystemExit) as error:
            seed_sweep.parse_args(argv)
        assert error.value.code == 2


SMALL_FILE = "checks/numerics/test_numerics_geometry_norms.py"


def test_two_groups_of_one_seed_run_each_test_exactly_once(tmp_path):
    if importlib.util.find_spec("pytest_split") is None:
        if os.environ.get("CI"):
            pytest.fail("pytest-split (extra dev) must be installed on CI")
        pytest.skip("needs pytest-split (the dev extra)")
    for group in (1, 2):
        subprocess.run([sys.executable, "reliability/seed_sweep.py", "--tests", SMALL_FILE, "--seeds", "7",
                        "--splits", "2", "--group", str(group), "--workers", "0", "--results", str(tmp_path),
                        "--durations", str(tmp_path / "none.json")],
                       cwd=SOURCE_TREE, check=True, capture_output=True, text=True, timeout=300)
    shards = sweep_shards.load_shards([tmp_path])
    assert [(s["seed"], s["group"], s["splits"]) for s in shards] == [(7, 1, 2), (7, 2, 2)]
    assert all(s["exit_code"] == 0 and not s["false_alarms"] for s in shards)
    ran = [i for s in shards for i in sweep_shards.expand_ranges(s["selected"])]
    assert sorted(ran) == list(range(shards[0]["collected"])) and all(sweep_shards.expand_ranges(s["selected"])
                                                                      for s in shards)
    clean = [dict(s, commit=s["commit"].removesuffix("+dirty")) for s in shards]  # a working tree under edit
    merged = sweep_shards.merge(clean, wanted_seeds=[7])
    assert [record["seed"] for record in merged["seeds"]] == [7] and not merged["incomplete"]
    assert json.loads((tmp_path / "seed-07.group-2-of-2.json").read_text())["group"] == 2


def test_the_report_says_whether_the_commits_after_the_swept_one_changed_code():
    assert sweep_shards.since_line("abc1234", "abc1234", []) == "The tree swept is the current commit, abc1234."
    docs = sweep_shards.since_line("abc1234", "def5678", ["SEED_SWEEP.md", "reliability/sweep/s0.json"])
    assert docs.startswith("The commits from abc1234 to def5678 change no code") and "(only 2 files of" in docs
    for path in ("theory/network.py", "checks/conftest.py", "conftest.py", "requirements/dev.lock", "pyproject.toml"):
        stale = sweep_shards.since_line("abc1234", "def5678", ["MUTATION.md", path])
        assert stale == f"**Stale:** the code or checks changed between abc1234 and def5678: `{path}`. Sweep again."
    text = sweep_shards.render(sweep_shards.merge([shard(0, 1, splits=1)], wanted_seeds=[0]), docs)
    assert f"(collection fedcba9876543210).\n\n{docs}\n" in text


def test_the_merge_names_the_files_changed_since_the_swept_commit_in_this_repository():
    head = seed_sweep.git("rev-parse", "--short", "HEAD")
    if not head or seed_sweep.git("rev-parse", "--is-shallow-repository") != "false":
        pytest.skip("the source tree is not a whole git checkout")
    assert seed_sweep.since(head) == f"The tree swept is the current commit, {head}."
    assert seed_sweep.since("0000000") == "The commit swept, 0000000, is not in this repository's history."
    first = seed_sweep.git("rev-list", "--max-parents=0", "HEAD").splitlines()[0][:12]
    assert seed_sweep.since(first).startswith(f"**Stale:** the code or checks changed between {first} and {head}: ")
