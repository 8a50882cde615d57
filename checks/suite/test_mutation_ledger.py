"""The mutation ledger: results kept by change, so that a pass resumes on another machine (``reliability/mutation_ledger.py``).

* a restore writes back only kills, only of mutants without a result, only where the change reads
  exactly as the kept one; asked to, also the kept results of the explained (equivalent) mutants;
* a record stamps every result of the run with the checkout's commit and leaves the restored ones
  with the commit they were measured at;
* the ledger, written and read back, is the same; restored codes land in mutmut's result files
  and leave its other fields alone; the report counts the results by commit;
* a checkout whose checked paths differ from its commit gets no stamp.

Negative controls: a survivor or a timeout in the ledger is not restored (it must run again); a
record that stamped the restored results too would move an old kill to the new commit.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from hypothesis import given, strategies as st

from ..support import reliability_script, skip_without_source_tree

skip_without_source_tree()

ledger_script = reliability_script("mutation_ledger")

CODES = st.sampled_from([None, 0, 1, 3, 5, 33, 36, -24, -9])
KEYS = st.integers(0, 30).map(lambda i: f"theory.m.x_f__mutmut_{i}")
# Changes drawn from a few lines, so that two mutants may share one (the same text in two places).
CHANGE = st.tuples(st.just("m"), st.just("m.f"), st.sampled_from(["a + b", "a - b", "x"]),
                   st.sampled_from(["a - b", "a * b", "y"]))


@st.composite
def runs(draw):
    """(codes, change, ledger): a mutants/ state and a ledger of earlier results."""
    codes = draw(st.dictionaries(KEYS, CODES, min_size=1))
    change = {key: draw(CHANGE) for key in codes}
    ledger = draw(st.dictionaries(CHANGE, st.tuples(CODES.filter(lambda c: c is not None),
                                                    st.sampled_from(["aaaaaaaaaaaa", "bbbbbbbbbbbb"]))))
    return codes, change, ledger


@given(runs())
def test_a_restore_writes_back_only_kills_of_unchecked_mutants_with_the_same_change(run):
    codes, change, ledger = run
    back = ledger_script.to_restore(codes, change, ledger)
    assert back == {key: ledger[change[key]][0] for key in codes
                    if codes[key] is None and change[key] in ledger and ledger[change[key]][0] in (1, 3)}


def test_control_a_survivor_or_a_timeout_in_the_ledger_is_not_restored():
    codes = {"k0": None, "k1": None, "k2": None, "k3": 0}
    change = {k: ("m", "m.f", k, "after") for k in codes}
    ledger = {change["k0"]: (0, "a"), change["k1"]: (36, "a"), change["k2"]: (1, "a"), change["k3"]: (3, "a")}
    assert ledger_script.to_restore(codes, change, ledger) == {"k2": 1}
    # Restoring every kept code would have let the survivor and the timeout skip the re-run.
    assert ledger_script.to_restore(codes, change, ledger, killed={0, 1, 36}) != {"k2": 1}


@given(runs(), st.data())
def test_a_record_stamps_this_runs_results_and_keeps_the_restored_ones(run, data):
    codes, change, ledger = run
    restored = data.draw(st.sets(st.sampled_from(sorted(codes))))
    after = ledger_script.recorded(codes, change, ledger, "cccccccccccc", restored)
    mine = {change[k] for k, c in codes.items() if c is not None and k not in restored}
    for item in set(ledger) | mine:
        if item in mine:
            # This run's results of the change, in order: the last one is kept; the stamp stays the
            # ledger's only if every one repeats the ledger's result.
            theirs = [c for k, c in codes.items() if change[k] == item and c is not None and k not in restored]
            kept = item in ledger and set(theirs) == {ledger[item][0]}
            assert after[item] == (ledger[item] if kept else (theirs[-1], "cccccccccccc"))
        else:
            assert after[item] == ledger[item]
    assert set(after) == set(ledger) | mine


def test_control_a_record_that_stamped_the_restored_results_would_move_an_old_kill():
    codes, change = {"k": 1}, {"k": ("m", "m.f", "a", "b")}
    ledger = {change["k"]: (0, "aaaaaaaaaaaa")}
    assert ledger_script.recorded(codes, change, ledger, "cccccccccccc", {"k"}) == ledger
    assert ledger_script.recorded(codes, change, ledger, "cccccccccccc", set()) == {change["k"]: (1, "cccccccccccc")}


def test_a_result_recorded_again_after_the_checkout_moved_on_keeps_the_commit_it_ran_against():
    codes, change = {"k": 1, "s": 0}, {"k": ("m", "m.f", "a", "b"), "s": ("m", "m.f", "a", "c")}
    first = ledger_script.recorded(codes, change, {}, "aaaaaaaaaaaa", set())
    assert ledger_script.recorded(codes, change, first, "cccccccccccc", set()) == first


def test_the_ledger_reads_back_as_written(tmp_path):
    ledger = {("m", "m.f", "a + b", "a - b"): (1, "aaaaaaaaaaaa"), ("n", "n.g", "", "x = None"): (0, "bbbbbbbbbbbb")}
    path = tmp_path / "ledger.json"
    ledger_script.dump(ledger, path)
    assert ledger_script.load(path) == ledger
    assert ledger_script.load(tmp_path / "missing.json") == {}


MODULE = '''\
def x_f__mutmut_orig(a, b):
    return a + b

def x_f__mutmut_1(a, b):
    return a - b

def x_f__mutmut_2(a, b):
    return a * b
'''


def test_restored_codes_land_in_mutmuts_result_files_and_the_report_counts_them(tmp_path):
    folder = tmp_path / "theory"
    folder.mkdir()
    (folder / "m.py").write_text(MODULE)
    meta = {"exit_code_by_key": {"theory.m.x_f__mutmut_1": None, "theory.m.x_f__mutmut_2": 0},
            "hash_by_function_name": {"x_f": "h"}, "type_check_error_by_key": {},
            "durations_by_key": {"theory.m.x_f__mutmut_2": 1.5}, "estimated_durations_by_key": {}}
    (folder / "m.py.meta").write_text(json.dumps(meta))
    codes, change = ledger_script.changes(folder)
    assert change["theory.m.x_f__mutmut_1"] == ("m", "m.f", "return a + b", "return a - b")
    ledger = {("m", "m.f", "return a + b", "return a - b"): (3, "aaaaaaaaaaaa")}
    ledger_script.write_codes(folder, ledger_script.to_restore(codes, change, ledger))
    written = json.loads((folder / "m.py.meta").read_text())
    assert written == {**meta, "exit_code_by_key": {"theory.m.x_f__mutmut_1": 3, "theory.m.x_f__mutmut_2": 0}}
    ledger = ledger_script.recorded(*ledger_script.changes(folder), ledger, "cccccccccccc",
                                    {"theory.m.x_f__mutmut_1"})
    rows = [("m", key, "killed" if code == 3 else "survived", *change[key][1:]) for key, code
            in ledger_script.changes(folder)[0].items()]
    assert dict(ledger_script.provenance(rows, ledger)) == {"aaaaaaaaaaaa": 1, "cccccccccccc": 1}


def _git(root, *args):
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=root,
                          capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("dirty", [False, True])
def test_a_checkout_that_differs_from_its_commit_gets_no_stamp(tmp_path, dirty):
    _git(tmp_path, "init", "-q")
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "test_x.py").write_text("def test(): pass\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "x")
    if dirty:
        (tmp_path / "checks" / "test_x.py").write_text("def test(): assert False\n")
        with pytest.raises(SystemExit, match="differs from its commit"):
            ledger_script.head_commit(tmp_path)
    else:
        assert ledger_script.head_commit(tmp_path) == _git(tmp_path, "rev-parse", "--short=12", "HEAD").strip()


@given(runs(), st.sets(CHANGE))
def test_a_restore_of_the_explained_adds_their_kept_results_and_nothing_else(run, explained_changes):
    codes, change, ledger = run
    explained = frozenset(c[1:] for c in explained_changes)
    back = ledger_script.to_restore(codes, change, ledger, explained=explained)
    kills = ledger_script.to_restore(codes, change, ledger)
    assert back == {**kills, **{key: ledger[change[key]][0] for key in codes if codes[key] is None
                                and change[key] in ledger and change[key][1:] in explained}}


def test_the_explained_changes_are_those_of_the_equivalents_file():
    report = reliability_script("mutation_report")
    explained = ledger_script.explained_changes()
    assert explained == frozenset(report.load_equivalents()) and len(explained) > 0
