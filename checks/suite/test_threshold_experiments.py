"""The threshold experiments (``theory.experiments.threshold_sweep``) compute what they say, on small runs.

* ``tau_ratio_distribution``: one draw per (width, seed) in order; each draw's τ_ε, T and T_scan are
  those of :func:`theory.landscape.minima_threshold`, the certificate of ``method`` and
  :func:`theory.landscape.scan_threshold` called directly; its ratios are min(T, cap)/τ_ε; every
  summary (per width and over all draws) counts and summarises exactly its draws;
* ``count_changes``: the radii where the count of minima changes, starting at eps_lo, each count
  that of a certified circle scan at that radius;
* ``blind_spots``: a draw is listed exactly when the doubling search is more than 1 % above the
  threshold.

Smoke-sized (widths of a few units, one or two draws): the experiments' own numbers are in
``findings.json``; these checks guard the bookkeeping that turns draws into them.

The command: each mode's table and JSON are its function's result; each bad argument is
rejected with its reason.

Negative control: a summary that drops a censored draw is caught.
"""

import json

import numpy as np
import pytest
from hypothesis import given, note, strategies as st

from ..support import counterexample, holds
from theory.certificates.tau import certified_tau_eps
from theory.experiments import threshold_sweep as T
from theory.landscape.circle import circle_critical_points
from theory.landscape.threshold import THRESHOLD_EPS_CAP, minima_threshold, scan_threshold
from theory.problem import Problem, make_problem


def runs():
    # (widths, first seed, draws): two draws of one width, or one draw of two (about 0.4 s a run)
    return st.one_of(st.tuples(st.lists(st.integers(1, 6), min_size=1, max_size=1), st.integers(0, 50), st.just(2)),
                     st.tuples(st.lists(st.integers(1, 6), min_size=2, max_size=2, unique=True), st.integers(0, 50),
                               st.just(1)))


def summary_counts(rows, cap):
    return dict(censored=sum(not np.isfinite(r["threshold"]) for r in rows),
                violations=sum(r["tau"] > min(r["threshold"], r["threshold_scan"]) for r in rows),
                unresolved=sum(r["unresolved"] > 0 for r in rows),
                certified_counts=sum(r["certified_counts"] for r in rows))


def check_the_summaries_count_their_draws(result, widths, seed, draws):
    cap, table = result["eps_cap"], result["draws_table"]
    assert cap == THRESHOLD_EPS_CAP and (result["d"], result["draws"], result["seed"]) == (2, draws, seed)
    assert [(r["m"], r["seed"]) for r in table] == [(m, s) for m in widths for s in range(seed, seed + draws)]
    for r in table:
        assert r["ratio"] == min(r["threshold"], cap) / r["tau"]
        assert r["ratio_scan"] == min(r["threshold_scan"], cap) / r["tau"]
    assert [row["m"] for row in result["rows"]] == widths
    for block, rows in [(row, [r for r in table if r["m"] == row["m"]]) for row in result["rows"]] + \
            [(result["all"], table)]:
        for key, value in summary_counts(rows, cap).items():
            assert block[key] == value, key
        for name in ("ratio", "ratio_scan"):
            ratios = [r[name] for r in rows]
            assert block[name]["n"] == len(rows) and block[name]["min"] == min(ratios)
            assert block[name]["max"] == max(ratios) and block[name]["median"] == pytest.approx(np.median(ratios))


@given(runs())
def test_the_ratio_table_summarises_exactly_its_draws(case):
    widths, seed, draws = case
    check_the_summaries_count_their_draws(T.tau_ratio_distribution(widths=widths, draws=draws, seed=seed), *case)


@pytest.mark.negative_control
def test_control_a_summary_that_drops_a_censored_draw_is_caught():
    def dropped(widths, seed, draws):
        result = T.tau_ratio_distribution(widths=widths, draws=draws, seed=seed)
        result["all"]["censored"] = max(0, result["all"]["censored"] - 1)  # the bug
        return check_the_summaries_count_their_draws(result, widths, seed, draws)
    counterexample(runs(), holds(dropped), shrink=False)


@pytest.mark.parametrize("method", ["auto", "contraction", "annulus"])
def test_each_draw_is_the_threshold_searches_and_the_certificate_called_directly(method):
    result = T.tau_ratio_distribution(widths=[3], draws=1, seed=0, method=method)
    row, cap = result["draws_table"][0], result["eps_cap"]
    problem = make_problem(2, 3, seed=0, input_scale=1.0, eps=cap)
    found = minima_threshold(problem, eps_cap=cap)
    tau = found.certified_tau if method == "auto" else certified_tau_eps(problem, eps_cap=cap, method=method)
    assert (row["tau"], row["threshold"]) == (tau, found.eps) and result["method"] == method
    assert row["threshold_scan"] == scan_threshold(problem, eps_cap=cap, ratio=T.RATIO_SCAN).eps


@given(st.integers(1, 5), st.integers(0, 20), st.sampled_from([0.3, 0.6]))
def test_count_changes_lists_where_the_certified_count_of_minima_changes(m, seed, width):
    problem = make_problem(2, m, seed=seed, ratio=0.5)
    lo, hi = problem.eps, problem.eps * (1.0 + width)
    changes = T.count_changes(problem, lo, hi, steps=6)
    note(f"{changes!r}")
    radii = np.linspace(lo, hi, 6)
    assert changes[0][0] == lo
    assert all(a[1] != b[1] for a, b in zip(changes, changes[1:]))
    for eps, k, certified in changes:
        assert eps in radii
        scan = circle_critical_points(Problem(problem.net, problem.x, problem.y, eps, problem.loss))
        assert (k, certified) == (sum(p.kind == "minimum" for p in scan.points), bool(scan.certified))


def test_a_blind_spot_is_listed_exactly_when_doubling_overshoots_the_threshold():
    spots = T.blind_spots(widths=[3], draws=3, seed=0, steps=4)
    listed = {(s["m"], s["seed"]) for s in spots}
    for seed in range(3):
        problem = make_problem(2, 3, seed=seed, input_scale=1.0, eps=THRESHOLD_EPS_CAP)
        found = minima_threshold(problem, eps_cap=THRESHOLD_EPS_CAP)
        old = T._doubling_threshold(problem, eps_cap=THRESHOLD_EPS_CAP)
        over = min(old.eps, THRESHOLD_EPS_CAP) > min(found.eps, THRESHOLD_EPS_CAP) * 1.01
        assert ((3, seed) in listed) == over
    for s in spots:
        assert s["doubling"] > s["threshold"] and s["changes"][0][1] >= 1


@pytest.mark.parametrize("cap", [THRESHOLD_EPS_CAP, 1e-3])
def test_the_doubling_search_reports_its_radius_under_the_cap_and_its_counts(cap):
    from theory.certificates.uniqueness import contraction_tau_eps

    problem = make_problem(2, 3, seed=0, input_scale=1.0, eps=THRESHOLD_EPS_CAP)
    old = T._doubling_threshold(problem, eps_cap=cap)
    # Its τ_ε is the contraction's under the same cap (at 1e-3 the cap itself binds).
    assert old.certified_tau == contraction_tau_eps(problem, eps_cap=cap) <= cap
    # Below the cap it scans at least once; at the cap there is nothing left to scan.
    assert old.method == "scan" and type(old.evaluations) is int and old.evaluations >= (cap > old.certified_tau)
    assert isinstance(old.certified_counts, bool) and isinstance(old.unresolved, tuple)
    assert old.below <= old.eps


def test_the_known_blind_spot_is_listed_with_its_width_seed_and_both_thresholds():
    # m = 128, seed 3: the doubling search's 6.79 against the first window at 3.82 (findings.json).
    (spot,) = T.blind_spots(widths=[128], draws=1, seed=3, steps=4)
    assert (spot["m"], spot["seed"]) == (128, 3)
    assert spot["doubling"] > 1.5 * spot["threshold"] and spot["changes"][0][1] >= 1


# --- the command ------------------------------------------------------------------------------


def test_the_sweep_command_prints_its_table_and_writes_what_the_function_returns(tmp_path, capsys):
    out = tmp_path / "sweep.json"
    assert T.main(["--widths", "8,32", "--draws", "2", "--seed", "1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    result = T.threshold_sweep(d=2, widths=[8, 32], draws=2, seed=1)
    assert json.loads(out.read_text()) == json.loads(json.dumps(result))
    assert text.startswith("d = 2, 2 draws per width, input scale 1\n")
    for row in result["rows"]:
        assert (f"| {row['m']} | {row['median_threshold']:.3g} | {row['median_tau']:.3g} | {row['min_ratio']:.3g} | "
                f"{row['finite']}/2 |") in text
    assert f"fitted exponent p (threshold ~ (log m)^-p): {result['exponent']:.2f}; paper: 2" in text


def test_the_ratio_command_prints_one_row_per_width_and_one_for_all(capsys):
    assert T.main(["--ratios", "--widths", "8", "--draws", "2", "--method", "contraction", "--scan-ratio", "1.1"]) == 0
    text = capsys.readouterr().out
    result = T.tau_ratio_distribution(d=2, widths=[8], draws=2, method="contraction", scan_ratio=1.1)
    assert "method contraction" in text.splitlines()[0] and "T_scan: certified counts 1.1 apart" in text
    for r in result["rows"] + [dict(m="all", **result["all"])]:
        q = r["ratio"]
        assert f"| {r['m']} | {q['n']} | {q['median']:.4f} (" in text
        assert f"| {r['censored']} | {r['violations']} | {r['unresolved']} | {r['certified_counts']} of {q['n']} |" in text


def test_the_ratio_command_passes_its_seed_and_defaults_to_the_auto_method(capsys):
    assert T.main(["--ratios", "--widths", "8", "--draws", "2", "--seed", "5", "--scan-ratio", "1.1"]) == 0
    text = capsys.readouterr().out
    result = T.tau_ratio_distribution(d=2, widths=[8], draws=2, seed=5, method="auto", scan_ratio=1.1)
    assert "method auto" in text.splitlines()[0]
    q = result["rows"][0]["ratio"]
    assert f"| 8 | {q['n']} | {q['median']:.4f} (" in text
    # The draws of seed 5 give another median than those of the default seed 0.
    other = T.tau_ratio_distribution(d=2, widths=[8], draws=2, seed=0, method="auto", scan_ratio=1.1)
    assert f"{other['rows'][0]['ratio']['median']:.4f}" != f"{q['median']:.4f}"


def test_the_sweep_scales_its_cap_with_the_input():
    # At input scale 100 the thresholds are near 100, above the unscaled cap of 20.
    result = T.threshold_sweep(d=2, widths=[8], draws=2, seed=1, input_scale=100.0)
    (row,) = result["rows"]
    assert row["finite"] == 2 and row["median_threshold"] > THRESHOLD_EPS_CAP


def test_the_blind_spot_command_names_its_draws(capsys):
    assert T.main(["--blind-spots", "--widths", "8", "--draws", "2"]) == 0
    spots = T.blind_spots(widths=[8], draws=2)
    assert capsys.readouterr().out.startswith(
        f"d = 2, 2 draws per width, widths [8]: {len(spots)} draws where the doubling search steps over")


@pytest.mark.parametrize("argv, message", [
    (["--dim", "1"], "--dim must be >= 2"), (["--draws", "0"], "--draws >= 1"), (["--widths", "1"], "widths >= 2"),
    (["--seed", "-1"], "--seed >= 0"), (["--ratios", "--blind-spots"], "at most one of --ratios and --blind-spots"),
    (["--blind-spots", "--dim", "3"], "--blind-spots needs --dim 2"),
    (["--ratios", "--scan-ratio", "1.0"], "--scan-ratio must be > 1"), (["--method", "nope"], "invalid choice"),
])
def test_the_command_rejects_bad_arguments_with_their_reason(argv, message, capsys):
    with pytest.raises(SystemExit) as stop:
        T.main(argv)
    assert stop.value.code == 2 and message in capsys.readouterr().err


def test_the_command_help_names_the_default_widths(capsys):
    with pytest.raises(SystemExit):
        T.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"default: {','.join(map(str, T.SWEEP_WIDTHS))}; with --ratios or --blind-spots " in text
    assert ",".join(map(str, T.RATIO_WIDTHS)) in text
