"""The mutation sample: its allocation, its draw and its estimate (``reliability/mutation_sample.py``).

* every module gets its proportional share, at least the minimum, never more than it has;
* the draw is reproducible from its seed and takes each module's mutants without replacement;
* the sample size is the smallest n whose one-sided lower bound clears the target at the planning
  share (checked at n and at n − 1);
* the stratified estimate of a fully sampled population has no sampling error (the finite-population
  correction), and Wilson's interval contains the observed share.

* a run resumes at the sampled mutants without a result, or re-runs those not detected or not killed;
* a mutant's checks run fastest first, in mutant runs only (``reliability/mutation_order.py``);
* in mutmut's stats pass, a subprocess of a check writes the mutated functions it called, and the
  check's record takes them in (``reliability/mutation_children.py``); outside it, nothing changes.

Negative controls: an estimate without the finite-population correction keeps an interval around a
population that was sampled whole; a hook that never runs in the subprocess records nothing; without
the ordering, ``-x`` stops at the slow failing check.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st

from ..support import reliability_script, skip_without_source_tree

skip_without_source_tree()

mutation_sample = reliability_script("mutation_sample")

SIZES = st.dictionaries(st.sampled_from([f"m{i}" for i in range(12)]), st.integers(1, 400), min_size=1)


@given(SIZES, st.integers(1, 3000))
def test_every_module_gets_its_share_at_least_the_minimum_and_at_most_its_mutants(sizes, n):
    counts = mutation_sample.allocate(sizes, n)
    total = sum(sizes.values())
    for module, size in sizes.items():
        assert counts[module] == min(size, max(mutation_sample.MINIMUM_PER_MODULE, round(n * size / total)))
        assert 1 <= counts[module] <= size


@given(SIZES, st.integers(0, 2**32 - 1))
def test_the_draw_is_reproducible_and_without_replacement(sizes, seed):
    pop = {module: [f"theory.{module}.x_f__mutmut_{i}" for i in range(size)] for module, size in sizes.items()}
    first, again = mutation_sample.draw(pop, 200, seed), mutation_sample.draw(pop, 200, seed)
    assert first == again
    for module, keys in first.items():
        assert len(set(keys)) == len(keys) and set(keys) <= set(pop[module])


def lower_bound(n, share=mutation_sample.PLANNING_SHARE):
    return share - mutation_sample.Z_ONE_SIDED * math.sqrt(share * (1 - share) / n)


def test_the_sample_size_is_the_smallest_that_clears_the_target():
    n = mutation_sample.sample_size()
    assert lower_bound(n) >= mutation_sample.TARGET > lower_bound(n - 1)
    with pytest.raises(ValueError, match="^share: "):
        mutation_sample.sample_size(share=0.95)


def check_a_whole_population_has_no_sampling_error(estimate=mutation_sample.estimate):
    share, low, high, lower = estimate([(40, 40, 38), (10, 10, 10)])
    assert share == pytest.approx((38 + 10) / 50)
    assert low == pytest.approx(share) and high == pytest.approx(share) and lower == pytest.approx(share)


def test_a_whole_population_has_no_sampling_error():
    check_a_whole_population_has_no_sampling_error()


@pytest.mark.negative_control
def test_control_an_estimate_without_the_finite_population_correction_is_caught():
    def without_correction(strata):
        return mutation_sample.estimate([(10**9, n, d) for _, n, d in strata])  # the bug: N taken as infinite
    with pytest.raises(AssertionError):
        check_a_whole_population_has_no_sampling_error(without_correction)


@given(st.integers(1, 2000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilsons_interval_contains_the_observed_share(case):
    detected, n = case
    low, high = mutation_sample.wilson(detected, n)
    assert 0 <= low <= detected / n <= high <= 1


def test_a_module_added_after_the_draw_gets_its_own_stratum_and_the_others_stay():
    pop = {f"m{i}": [f"theory.m{i}.x_f__mutmut_{j}" for j in range(1, 1 + 30 * (i + 1))] for i in range(4)}
    old = {k: v for k, v in pop.items() if k != "m2"}
    sample = {"seed": 7, "n": 40, "population": {k: len(v) for k, v in old.items()},
              "sample": mutation_sample.draw(old, 40, 7)}
    grown = mutation_sample.extend(sample, pop)
    assert grown["sample"] == {**sample["sample"], "m2": grown["sample"]["m2"]}
    assert grown["population"] == {k: len(v) for k, v in pop.items()}
    assert len(grown["sample"]["m2"]) == mutation_sample.allocate({k: len(v) for k, v in pop.items()}, 40)["m2"]
    assert set(grown["sample"]["m2"]) <= set(pop["m2"]) and len(set(grown["sample"]["m2"])) == len(grown["sample"]["m2"])
    assert mutation_sample.extend(sample, pop) == grown, "reproducible"
    assert mutation_sample.extend(grown, pop) == grown, "nothing to add"
    assert "m2" not in sample["sample"], "the input is left as it was"


def test_a_refresh_drops_the_sampled_mutants_that_went_and_counts_the_population_anew():
    pop = {f"m{i}": [f"theory.m{i}.x_f__mutmut_{j}" for j in range(1, 41)] for i in range(3)}
    sample = {"seed": 7, "n": 30, "population": {k: len(v) for k, v in pop.items()}, "sample": mutation_sample.draw(pop, 30, 7)}
    gone = sample["sample"]["m1"][:2]
    now = {"m0": pop["m0"] + ["theory.m0.x_g__mutmut_1"], "m1": [k for k in pop["m1"] if k not in gone]}
    fresh = mutation_sample.refresh(sample, now)
    assert fresh["sample"] == {"m0": sample["sample"]["m0"], "m1": sample["sample"]["m1"][2:]}
    assert fresh["population"] == {"m0": 41, "m1": 38}
    assert fresh["dropped"] == {"m1": sorted(gone), "m2": sample["sample"]["m2"]}
    assert mutation_sample.refresh(fresh, now) == fresh, "nothing more to drop"
    assert "dropped" not in mutation_sample.refresh(sample, pop) and mutation_sample.refresh(sample, pop) == sample
    assert sample["sample"]["m1"][:2] == gone and "dropped" not in sample, "the input is left as it was"


# --- which sampled mutants a run takes --------------------------------------------------------

CODES = st.sampled_from([None, 0, 1, 3, 5, 33, 34, 36, -24, -9])


@given(st.dictionaries(st.integers(0, 50).map(lambda i: f"theory.m.x_f__mutmut_{i}"), CODES, min_size=1))
def test_a_run_takes_the_unchecked_the_undetected_or_the_unkilled_mutants(codes):
    keys = sorted(codes)
    unchecked = mutation_sample.select(keys, codes, "unchecked")
    undetected = mutation_sample.select(keys, codes, "undetected")
    assert unchecked == [k for k in keys if codes[k] is None]
    assert undetected == [k for k in keys if codes[k] is None or codes[k] in (0, 5, 33, 34)]
    assert mutation_sample.select(keys, codes, "unkilled") == [k for k in keys if codes[k] not in (1, 3)]
    assert mutation_sample.select(keys, codes, "all") == keys
    with pytest.raises(ValueError, match="^which: "):
        mutation_sample.select(keys, codes, "survivors")


def test_a_mutation_run_is_single_threaded_and_passes_its_mutants(monkeypatch):
    import subprocess
    from types import SimpleNamespace

    calls = []
    monkeypatch.setattr(subprocess, "run", lambda args, **kw: calls.append((args, kw)) or SimpleNamespace(returncode=0))
    assert mutation_sample.run_mutmut(["theory.m.x_f__mutmut_1"]) == 0
    (args, kw), = calls
    assert args[-4:] == ["run", "--max-children", "2", "theory.m.x_f__mutmut_1"]
    assert kw["env"]["OMP_NUM_THREADS"] == "1" and kw["env"]["MKL_NUM_THREADS"] == "1"
    assert kw["cwd"] == mutation_sample.ROOT


TORCH_FORK = """
import os, torch
a = torch.randn(400, 400)
(a @ a).sum()
pid = os.fork()
if pid == 0:
    (a @ a).sum()
    os._exit(0)
os._exit(os.waitpid(pid, 0)[1])
"""


def test_torch_works_in_a_forked_child_of_a_single_threaded_process():
    import os
    import subprocess
    import sys

    pytest.importorskip("torch")
    env = {**os.environ, **mutation_sample.SINGLE_THREADED}
    assert subprocess.run([sys.executable, "-c", TORCH_FORK], env=env, timeout=120).returncode == 0


# --- a mutant's checks, fastest first ----------------------------------------------------------

ORDERED = """
import sys
import pytest
sys.path.insert(0, sys.argv[1])
import mutation_order
durations = {"test_order.py::test_slow_failing": 9.0, "test_order.py::test_quick_failing": 0.1,
             "test_order.py::test_middle": 1.0}
plugins = [mutation_order.FastestFirst(durations)] if sys.argv[2] == "ordered" else []
sys.exit(pytest.main(["-x", "-q", "-p", "no:cacheprovider", "test_order.py"], plugins=plugins))
"""

ORDER_TESTS = """
def test_slow_failing():
    print("RAN slow")
    assert False
def test_unknown():
    print("RAN unknown")
def test_middle():
    print("RAN middle")
def test_quick_failing():
    print("RAN quick")
    assert False
"""


def ran_checks(tmp_path, mode):
    import subprocess
    import sys

    (tmp_path / "test_order.py").write_text(ORDER_TESTS)
    proc = subprocess.run([sys.executable, "-c", ORDERED, str(mutation_sample.ROOT / "reliability"), mode],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    return [line.split()[1] for line in proc.stdout.splitlines() if line.startswith("RAN ")]


def test_a_mutants_checks_run_fastest_first_and_the_first_failure_ends_the_run(tmp_path):
    assert ran_checks(tmp_path, "ordered") == ["quick"]


@pytest.mark.negative_control
def test_control_without_the_ordering_the_run_stops_at_the_slow_failing_check(tmp_path):
    assert ran_checks(tmp_path, "unordered") == ["slow"]


def test_the_ordering_sorts_by_duration_and_puts_unknown_checks_last_in_their_order():
    from types import SimpleNamespace

    order = reliability_script("mutation_order")
    items = [SimpleNamespace(nodeid=n) for n in ("u1", "b", "u2", "a", "c")]
    order.FastestFirst({"a": 0.5, "b": 2.0, "c": 0.5}).pytest_collection_modifyitems(None, None, items)
    assert [item.nodeid for item in items] == ["a", "c", "b", "u1", "u2"]


@pytest.mark.parametrize("mode", ["", "theory.geometry.x_unit__mutmut_1", "stats"])
def test_the_ordering_joins_every_mutmut_pytest_run_but_the_stats_pass(monkeypatch, mode):
    pytest.importorskip("mutmut")
    from mutmut.runners import harness

    order = reliability_script("mutation_order")
    calls = []
    monkeypatch.setattr(harness.PytestRunner, "execute_pytest", lambda self, params, **kw: calls.append(kw) or 0)
    monkeypatch.setenv("MUTANT_UNDER_TEST", mode)
    with order.installed():
        harness.PytestRunner.execute_pytest(None, ["-x"], plugins=["other"])
    harness.PytestRunner.execute_pytest(None, ["-x"])  # after the block: mutmut's own again
    kinds = [[type(p).__name__ for p in kw.get("plugins", [])] for kw in calls]
    assert kinds == [["str"] if mode == "stats" else ["FastestFirst", "str"], []]


# --- what the checks' subprocesses call, in mutmut's stats pass --------------------------------

CHILD = """
import runpy, sys
sys.path.append(sys.argv[2])  # site-packages without its .pth files (python -S): a mutation run's own hook stays out
runpy.run_path(sys.argv[1], run_name="__mutation_child__")
from mutmut.mutation.trampoline import wrap_in_trampoline

def x_unit__mutmut_orig():
    return 1

x_unit__mutmut_orig.__module__ = "theory.geometry"

@wrap_in_trampoline({"_mutmut_orig": x_unit__mutmut_orig})
def x_unit():
    pass

assert x_unit() == 1  # a mutated function of theory/, as mutmut writes it, called once
"""


def child_records(tmp_path, mode, run_name="__mutation_child__"):
    import os
    import subprocess
    import sys

    pytest.importorskip("mutmut")
    children = reliability_script("mutation_children")
    env = dict(os.environ, **{children.CHILD_STATS_ENV: str(tmp_path)})
    env.pop("MUTANT_UNDER_TEST", None)
    if mode is not None:
        env["MUTANT_UNDER_TEST"] = mode
    hook = mutation_sample.ROOT / "reliability" / "mutation_children.py"
    child = CHILD.replace("__mutation_child__", run_name)
    # cwd: a folder without mutmut's configuration, as the report's fake projects are
    import sysconfig

    purelib = sysconfig.get_paths()["purelib"]
    proc = subprocess.run([sys.executable, "-S", "-c", child, str(hook), purelib], env=env, timeout=120, cwd=tmp_path,
                          capture_output=True, text=True)
    return proc.returncode, proc.stderr, [path.read_text() for path in tmp_path.glob("*.json")]


def check_the_stats_pass_child_writes_what_it_called(tmp_path, run_name="__mutation_child__"):
    code, err, records = child_records(tmp_path, "stats", run_name)
    assert code == 0, err  # without the hook, mutmut's own record looks for its configuration and raises
    assert records == ['["theory.geometry.x_unit"]']


def test_a_subprocess_of_the_stats_pass_writes_what_it_called(tmp_path):
    check_the_stats_pass_child_writes_what_it_called(tmp_path)


@pytest.mark.negative_control
def test_control_a_hook_that_never_runs_in_the_subprocess_is_caught(tmp_path):
    # The .pth line runs the module under another name (the hook's condition never holds).
    with pytest.raises(AssertionError):
        check_the_stats_pass_child_writes_what_it_called(tmp_path, run_name="__main__x")


@pytest.mark.parametrize("mode", [None, "theory.geometry.x_unit__mutmut_1"], ids=["no run", "a mutant"])
def test_a_subprocess_outside_the_stats_pass_writes_nothing(tmp_path, mode):
    # Outside the stats pass the hook leaves mutmut as it is: the record is mutmut's own.
    pytest.importorskip("mutmut")
    import mutmut.stats

    code, err, records = child_records(tmp_path, mode)
    assert code == 0, err
    assert records == [] and callable(mutmut.stats.record_trampoline_hit)


def test_a_tests_subprocess_records_join_the_tests_record(tmp_path):
    pytest.importorskip("mutmut")
    from mutmut.state import state

    children = reliability_script("mutation_children")
    merge = children.MergeChildRecords(tmp_path)
    (tmp_path / "stray.json").write_text('["theory.m.x_old"]')
    merge.pytest_runtest_setup(None)  # an earlier test's leftover is not this test's
    (tmp_path / "a.json").write_text('["theory.m.x_f", "theory.m.x_g"]')
    before = set(state()._stats)
    try:
        merge.pytest_runtest_teardown(None, None)
        assert set(state()._stats) - before == {"theory.m.x_f", "theory.m.x_g"}
        assert not list(tmp_path.iterdir())
    finally:
        state()._stats.clear()
        state()._stats.update(before)


def test_the_population_names_mutants_as_mutmut_does(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("def x_available__mutmut_1():\n    pass\n")
    (tmp_path / "pkg" / "mod.py").write_text("def x_f__mutmut_2():\n    pass\n\ndef xǁCǁm__mutmut_1(self):\n    pass\n")
    (tmp_path / "top.py").write_text("def x_g__mutmut_1():\n    pass\n")
    assert mutation_sample.population(tmp_path) == {
        "pkg.__init__": ["theory.pkg.x_available__mutmut_1"],  # a package's mutants: no "__init__"
        "pkg.mod": ["theory.pkg.mod.x_f__mutmut_2", "theory.pkg.mod.xǁCǁm__mutmut_1"],
        "top": ["theory.top.x_g__mutmut_1"]}
