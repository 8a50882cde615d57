r"""The numbers the documentation (README.md and docs/) quotes, recomputed over stated draws with 95 % confidence intervals.

``python -m theory.experiments.findings [--out findings.json] [--only KEY,...] [--smoke] [--list]``

Each finding is a function of this module, registered in :data:`FINDINGS`; it
draws its own problems from fixed seeds (so the output is a function of the
code and the library versions), states n, and returns its numbers with exact
95 % intervals (:mod:`theory.testing.statistics`: Clopper–Pearson for proportions,
order statistics for medians, Student t for means) and the sentences
(``quotes``) that the documentation prints verbatim. ``checks/suite/test_findings.py``
keeps the documentation and ``findings.json`` in step, and recomputes the cheap
findings and every finding's smoke run (:attr:`Finding.smoke`, the same code over a
few draws, stored under ``"smoke"``) to keep ``findings.json`` in step with the code.

The whole command takes several minutes on 2 cores (each finding's cost is in
its docstring) and stores the findings and their smoke runs; ``--only`` recomputes a
subset and merges it into an existing output file; ``--smoke`` recomputes the smoke
runs only (seconds).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from theory.testing.statistics import mean_ci, median_ci, proportion_ci

__all__ = ["Finding", "FINDINGS", "compute", "fmt", "pct", "main"]

#: Confidence level of every interval the findings quote.
LEVEL = 0.95


@dataclass(frozen=True)
class Finding:
    """One measured finding: ``key``, the claim it belongs to, and the function that measures it.

    ``smoke`` holds the keyword arguments of a run of ``measure`` small enough for the checks
    (about a second): the same code over fewer draws, stored under ``"smoke"`` in findings.json
    by ``--smoke`` and recomputed by ``checks/suite/test_findings.py``, so that every line of
    every finding runs in the suite, not only in the full command.
    """

    key: str
    claim: str
    measure: Callable[..., dict]
    cheap: bool = False
    smoke: dict = field(default_factory=dict)


def fmt(value, digits=3):
    """A number as the findings print it: ``digits`` significant digits, no exponent for ordinary sizes."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e5:
        text = f"{value:.{digits}g}"
        # An integer part longer than ``digits`` (100 at 2 digits): whole, not "1e+02".
        return f"{value:.0f}" if "e" in text else text
    return f"{value:.{digits - 1}e}"


def pct(value, digits=2):
    """A proportion as a percentage with ``digits`` significant digits."""
    return f"{fmt(100.0 * value, digits)} %"


def _interval(low, high, show=fmt):
    return f"95 % CI {show(low)}–{show(high)}"


def _proportion(successes, n):
    low, high = proportion_ci(int(successes), int(n), level=LEVEL)
    return dict(successes=int(successes), n=int(n), rate=successes / n, ci95=[low, high])


# --- Lemma 4.1: "with high probability" lives in d --------------------------------------


#: Draws per dimension of :func:`gradient_floor_failures`.
FLOOR_DRAWS = 20000
FLOOR_DIMS = (1, 2, 3, 4)


def gradient_floor_failures(draws=FLOOR_DRAWS, dims=FLOOR_DIMS):
    r"""Fraction of Lemma 4.1 regime draws whose gradient floor min ‖∂f‖ over the ball is below B_l, per small d.

    Draws as :func:`theory.testing.strategies.regime_problems` makes them for Lemma 4.1
    (m uniform in [max(3, min_width(d)), 2·max(3, min_width(d))], ε log-uniform in
    [0.05, 0.99]·ε_max(m), seeds 0..n−1 of a numpy generator). A draw fails when
    the search (:func:`theory.landscape.min_gradient_norm`) finds a point below
    B_l; draws the certified floor (:func:`theory.bounds.certified_gradient_floor`)
    already puts above B_l are passes without a search. About 1 minute at n = 20000 per d.
    """
    from theory.bounds import certified_gradient_floor
    from theory.landscape.worst_case import min_gradient_norm
    from theory.problem import make_problem
    from theory.testing.regimes import GRADIENT_FLOOR, WIDTH_SPAN, min_width, regime

    rule = regime("lemma_4_1")
    rows = []
    for d in dims:
        rng = np.random.default_rng(1000 + d)
        low = max(3, min_width(d))
        fails = 0
        for seed in range(draws):
            m = int(rng.integers(low, WIDTH_SPAN * low + 1))
            eps = float(np.exp(rng.uniform(np.log(0.05), np.log(0.99)))) * rule.eps_max(m)
            problem = make_problem(d, m, seed=seed, eps=eps)
            if certified_gradient_floor(problem.net, problem.x, eps) >= GRADIENT_FLOOR:
                continue
            fails += min_gradient_norm(problem, seed=seed).value < GRADIENT_FLOOR
        rows.append(dict(d=d, m_range=[low, WIDTH_SPAN * low], **_proportion(fails, draws)))
    first = rows[0]
    quotes = [f"{pct(first['rate'])} of d = 1 draws fail ({_interval(*first['ci95'], show=pct)}, "
              f"n = {first['n']}, m = {first['m_range'][0]}–{first['m_range'][1]})"]
    quotes.append("by d: " + ", ".join(f"d = {r['d']}: {pct(r['rate'])}" for r in rows))
    return dict(rows=rows, quotes=quotes)


# --- Lemma 4.2: how tight the constant 4 is ----------------------------------------------


LEMMA_4_2_DRAWS = 200_000


def lemma_4_2_largest_ratio(draws=LEMMA_4_2_DRAWS, seed=0):
    r"""Largest ‖P_B(δ0 + ηv̂) − (δ0 + ηP_T v̂)‖ / (4η²/ε) over random active draws (the constant 4 could be 4·this).

    d from 1 to 8 (n/8 each), η/ε log-uniform in [1e-6, 1e2], δ0 uniform on
    the sphere, v̂ uniform and made outward (v̂ᵀδ0 >= 0, so the projection is
    active). Both sides scale like ε when δ0, η scale with it, so the ratio
    depends on η/ε and the angle only and ε = 1 loses nothing. Under 1 s.
    """
    from theory.geometry import project_ball, project_tangent, uniform_sphere, vector_norm

    rng = np.random.default_rng(seed)
    best, kept = 0.0, 0
    for d in range(1, 9):
        n = draws // 8
        eta = np.exp(rng.uniform(np.log(1e-6), np.log(1e2), n))  # eta / eps, at eps = 1
        delta0 = uniform_sphere(rng, n, d, 1.0)
        v = uniform_sphere(rng, n, d, 1.0)
        v = np.where((np.sum(v * delta0, axis=-1) < 0)[:, None], -v, v)
        lhs = vector_norm(project_ball(delta0 + eta[:, None] * v, 1.0)
                          - (delta0 + eta[:, None] * project_tangent(delta0, v)))
        ratio = lhs / (4.0 * eta * eta)
        best, kept = max(best, float(np.max(ratio))), kept + n
    quotes = [f"largest ratio {fmt(best, 2)} over {kept} random active draws, so 4 could be {fmt(4 * best, 2)}"]
    return dict(largest_ratio=best, n=kept, quotes=quotes)


# --- Theorem 3.1: the time exponent ------------------------------------------------------


RATE_DRAWS = 40
RATE_FRACTIONS = (0.9, 0.6, 0.4, 0.25, 0.15, 0.1)


def theorem_3_1_rates(draws=RATE_DRAWS, fractions=RATE_FRACTIONS):
    r"""Output time T(η) and distance D(η) of Theorem 3.1 against η, per regime draw: exponents and the better model.

    Regime draws of Theorem 3.1 (numpy seeds 0..n−1; d uniform in 7..8, m in the
    width rule, ε = 0.7 ε_max), 4 uniform starts, η = fraction·η_max. Per draw:
    the log-log slope of the worst T against η (model A, T ∝ η^{−p}), and the
    residuals of model B, T ∝ η^{−1} log(1/η) (one free constant), against
    model A (two): which model the data prefer, by the residual sum of squares
    of log T with B's one parameter fewer penalised as in BIC. The distance
    slope is reported too, with a caveat: the output rule ‖P_T ∂f‖ < η^{1/2}
    itself sets D ∝ η^{1/2} near a non-degenerate minimum (D ≈ ‖Γ‖/μ), so
    the slope checks the rule, not the dynamics. About 1 minute.
    """
    from theory.experiments.rate_models import compare_rate_models
    from theory.geometry import uniform_ball, vector_norm
    from theory.landscape.critical import newton_on_sphere
    from theory.pgd import output_criterion, pgd_until
    from theory.problem import make_problem
    from theory.testing.regimes import WIDTH_SPAN, min_width, regime

    rule = regime("theorem_3_1")
    slopes_t, slopes_d, prefer_b = [], [], 0
    for seed in range(draws):
        rng = np.random.default_rng(seed)
        d = int(rng.integers(7, 9))
        m = int(rng.integers(min_width(d), WIDTH_SPAN * min_width(d) + 1))
        eps = 0.7 * rule.eps_max(m)
        problem = make_problem(d, m, seed=seed, eps=eps)
        etas = rule.eta_max(m, eps) * np.asarray(fractions)
        starts = uniform_ball(seed, 4, d, eps)
        delta0 = np.broadcast_to(starts, (etas.size, 4, d)).copy()
        eta_b = np.broadcast_to(etas[:, None], (etas.size, 4))
        budget = int(200.0 / (etas.min() * problem.bounds.dloss_lower)) + 1000
        hits = pgd_until(problem, delta0, eta_b, output_criterion(problem, eta_b), max_steps=budget)
        times = hits.times.max(axis=1).astype(float)
        dist = np.array([max(float(vector_norm(hits.deltas[i, j] - newton_on_sphere(problem, hits.deltas[i, j])[0]))
                             for j in range(4)) for i in range(etas.size)])
        rates = compare_rate_models(etas, times)
        prefer_b += rates["prefers_log"]
        slopes_t.append(rates["exponent"])
        slopes_d.append(float(np.polyfit(np.log(etas), np.log(dist), 1)[0]))
    med_t, ci_t = float(np.median(slopes_t)), median_ci(slopes_t, level=LEVEL)
    med_d, ci_d = float(np.median(slopes_d)), median_ci(slopes_d, level=LEVEL)
    pref = _proportion(prefer_b, draws)
    quotes = [f"T(η) ∝ η^-p with median p = {fmt(med_t)} ({_interval(*ci_t)}, n = {draws} draws)",
              f"η^-1·log(1/η) is preferred (BIC) in {prefer_b} of {draws} draws",
              f"median distance slope {fmt(med_d, 4)} ({_interval(*ci_d, show=lambda v: fmt(v, 4))})"]
    return dict(time_exponents=slopes_t, distance_slopes=slopes_d, median_time_exponent=med_t, ci95_time=ci_t,
                median_distance_slope=med_d, ci95_distance=ci_d, prefer_log_model=pref, n=draws,
                fractions=list(fractions), quotes=quotes)


# --- Section 5.1: escape by ratio, minima by scale, per-draw monotonicity -----------------


ESCAPE_DRAWS = 400
ESCAPE_RATIOS = (0.3, 1.0, 3.0)


def escape_by_ratio(draws=ESCAPE_DRAWS, ratios=ESCAPE_RATIOS):
    r"""Paired escape times at ‖x‖ = 0.01 against 100 per ratio: how often the large scale is slower.

    Seeds 0..n−1 of Figure 1's setting (d = 2, m = 32), :func:`theory.experiments.scale.escape_steps`.
    Per ratio: pairs that differ (rate, CI), among them the share where the large
    scale is slower (q, CI), and the one-sided sign test's p-value. About 1 minute.
    """
    from scipy.stats import binomtest

    from theory.experiments.scale import LARGE_SCALE, SMALL_SCALE, escape_steps, figure_problem

    rows = []
    for r in ratios:
        small = np.array([escape_steps(figure_problem(s, SMALL_SCALE, r), s) for s in range(draws)])
        large = np.array([escape_steps(figure_problem(s, LARGE_SCALE, r), s) for s in range(draws)])
        slower, faster = int(np.sum(large > small)), int(np.sum(large < small))
        differ = slower + faster
        p = binomtest(slower, differ, 0.5, alternative="greater").pvalue if differ else 1.0
        rows.append(dict(ratio=r, slower=slower, faster=faster, differ=_proportion(differ, draws),
                         q=_proportion(slower, differ) if differ else None, p_value=float(p)))
    quotes = []
    for row in rows:
        q = row["q"]
        quotes.append(f"r = {fmt(row['ratio'])}: slower in {row['slower']} of {row['slower'] + row['faster']} "
                      f"differing pairs ({pct(row['differ']['rate'])} of pairs differ; q = {fmt(q['rate'], 2)}, {_interval(*q['ci95'], show=lambda v: fmt(v, 2))}; "
                      f"sign test p = {fmt(row['p_value'], 2)})")
    return dict(rows=rows, n=draws, quotes=quotes)


LANDSCAPE_DRAWS = 400


def landscape_minima(draws=LANDSCAPE_DRAWS):
    r"""Mean number of local minima at r = 1 for ‖x‖ = 0.01 and 100: certified scan, and the multi-start search at 100.

    Seeds 0..n−1 of Figure 1's setting; the scan (:func:`theory.experiments.scale.count_minima`)
    and :func:`theory.landscape.local_minima` with ``method="search"`` (16 uniform
    starts + ±∂L(0)). About 1 minute.
    """
    from theory.landscape.search import local_minima
    from theory.experiments.scale import (
        LANDSCAPE_RATIO, LARGE_SCALE, SMALL_SCALE, count_minima, figure_problem,
    )

    small, large, search, exact = [], [], [], 0
    for s in range(draws):
        n_small, ok_small = count_minima(figure_problem(s, SMALL_SCALE, LANDSCAPE_RATIO), s)
        problem = figure_problem(s, LARGE_SCALE, LANDSCAPE_RATIO)
        n_large, ok_large = count_minima(problem, s)
        small.append(n_small)
        large.append(n_large)
        exact += ok_small and ok_large
        search.append(len(local_minima(problem, seed=s, method="search")))
    out = dict(n=draws, exact=exact, small_mean=float(np.mean(small)), small_max=int(np.max(small)),
               large_mean=float(np.mean(large)), large_ci95=mean_ci(large, level=LEVEL),
               search_mean=float(np.mean(search)), search_ci95=mean_ci(search, level=LEVEL),
               search_undercounts=int(np.sum(np.array(search) < np.array(large))))
    quotes = [f"{out['small_mean']:.2f} minima on average at ‖x‖ = 0.01 (max {out['small_max']}) and "
              f"{out['large_mean']:.2f} at ‖x‖ = 100 ({_interval(*out['large_ci95'], show=lambda v: f'{v:.2f}')}, "
              f"n = {draws}, {exact} of {draws} pairs exact)",
              f"the multi-start search found {out['search_mean']:.2f} ({_interval(*out['search_ci95'], show=lambda v: f'{v:.2f}')}) "
              f"and fewer than the scan in {out['search_undercounts']} of {draws} draws"]
    out["quotes"] = quotes
    return out


MONOTONE_PAIRS = 6000
MONOTONE_RATIOS = (0.1, 0.3, 0.5, 1.0)


def per_draw_monotonicity(pairs=MONOTONE_PAIRS, ratios=MONOTONE_RATIOS, seed=0):
    r"""How often a draw has more minima at the smaller of two input scales (the per-draw reading fails).

    Random pairs: a seed, two scales log-uniform in [0.01, 1000] (sorted), r
    uniform in ``ratios``; counts by the certified scan, pairs where either scan
    is uncertified are left out (counted). About 2 minutes.
    """
    from theory.experiments.scale import count_minima, figure_problem

    rng = np.random.default_rng(seed)
    bad = used = 0
    for _ in range(pairs):
        s = int(rng.integers(0, 2**31))
        small, large = np.sort(np.exp(rng.uniform(np.log(0.01), np.log(1000.0), 2)))
        r = float(rng.choice(ratios))
        n_small, ok_small = count_minima(figure_problem(s, float(small), r), s)
        n_large, ok_large = count_minima(figure_problem(s, float(large), r), s)
        if ok_small and ok_large:
            used += 1
            bad += n_small > n_large
    out = dict(pairs=pairs, certified_pairs=used, **_proportion(bad, used))
    out["quotes"] = [f"{bad} of {used} random certified pairs ({pct(out['rate'])}, "
                     f"{_interval(*out['ci95'], show=pct)})"]
    return out


# --- Theorem 5.1: the threshold, the certificate, the blind spot -------------------------


def threshold_by_width(widths=None, draws=None):
    r"""The empirical threshold (first radius with two minima) per width, and its trend against (log m)^-2.

    :func:`theory.experiments.threshold_sweep.threshold_sweep`'s setting (d = 2, ``widths`` m = 8, 32,
    128, 512, ``draws`` 20 each, seeds 0-19, input scale 1, cap 20); medians with a
    distribution-free 95 % interval (draws with one minimum up to the cap count
    as infinite), and the fitted exponent p of median ∝ (log m)^-p. About 40 s.
    """
    from theory.landscape.threshold import THRESHOLD_EPS_CAP, minima_threshold
    from theory.problem import make_problem
    from theory.experiments.threshold_sweep import PAPER_EXPONENT, SWEEP_DRAWS, SWEEP_WIDTHS, fit_log_exponent

    widths = SWEEP_WIDTHS if widths is None else tuple(widths)
    draws = SWEEP_DRAWS if draws is None else int(draws)
    rows = []
    for m in widths:
        thr = [minima_threshold(make_problem(2, m, seed=s, eps=THRESHOLD_EPS_CAP)).eps for s in range(draws)]
        rows.append(dict(m=m, median=float(np.median(thr)), ci95=median_ci(thr, level=LEVEL),
                         censored=int(np.sum(~np.isfinite(thr)))))
    usable = [(r["m"], r["median"]) for r in rows if np.isfinite(r["median"])]
    p = fit_log_exponent(*zip(*usable))
    quotes = ["median thresholds " + ", ".join(f"{fmt(r['median'])} ({_interval(*r['ci95'])})" for r in rows)
              + f" at m = {', '.join(str(r['m']) for r in rows)} ({draws} draws each)",
              f"fitted exponent p = {fmt(p, 2)} against the paper's {fmt(PAPER_EXPONENT)}"]
    return dict(rows=rows, exponent=p, draws=draws, quotes=quotes)


def certificate_ratio(widths=None, draws=None):
    r"""Empirical threshold / certified τ_ε over 150 draws: the fold-free annulus certificate and the contraction alone.

    :func:`theory.experiments.threshold_sweep.tau_ratio_distribution` (d = 2, ``widths`` m = 8, 32,
    128, ``draws`` seeds 0-49, input scale 1) with ``method="auto"`` (the annulus for d = 2) and
    ``method="contraction"``: median with its distribution-free 95 % interval,
    10 % and 90 % quantiles, min and max, and the draws where τ_ε would exceed a
    threshold (violations). About 4 minutes.
    """
    from theory.experiments.threshold_sweep import RATIO_DRAWS, RATIO_WIDTHS, tau_ratio_distribution

    widths = RATIO_WIDTHS if widths is None else tuple(widths)
    draws = RATIO_DRAWS if draws is None else int(draws)
    out, quotes = {}, []
    for method in ("auto", "contraction"):
        result = tau_ratio_distribution(method=method, widths=widths, draws=draws)
        r = result["all"]["ratio"]
        out[method] = dict(summary=r, violations=result["all"]["violations"], censored=result["all"]["censored"],
                           by_width={row["m"]: row["ratio"]["median"] for row in result["rows"]})
        name = "the annulus certificate" if method == "auto" else "the contraction certificate alone"
        quotes.append(f"{name}: median {fmt(r['median'], 5)} ({_interval(*r['median_ci'], show=lambda v: fmt(v, 5))}), "
                      f"10 % quantile {fmt(r['q10'], 4)}, 90 % quantile {fmt(r['q90'], 4)}, min {fmt(r['min'], 4)}, "
                      f"max {fmt(r['max'], 4)}, n = {r['n']}, {result['all']['violations']} violations")
    out["quotes"] = quotes
    return out


def tau_against_regime(draws=400):
    r"""Certified τ_ε (contraction, d >= 7) over Theorem 3.1's radius ε_max(m) for regime draws: how far inside it is.

    Draws as the Theorem 5.1 checks make them (d uniform in 7..8, m in the width
    rule, input scale 1; numpy seeds 0..n−1); quantiles of τ_ε/ε_max(m) and
    the median's 95 % interval. About 20 s.
    """
    from theory.certificates.uniqueness import contraction_tau_eps
    from theory.problem import make_problem
    from theory.testing.regimes import WIDTH_SPAN, min_width, regime

    rule = regime("theorem_3_1")
    ratios = []
    for seed in range(draws):
        rng = np.random.default_rng(seed)
        d = int(rng.integers(7, 9))
        m = int(rng.integers(min_width(d), WIDTH_SPAN * min_width(d) + 1))
        problem = make_problem(d, m, seed=seed, eps=rule.eps_max(m))
        ratios.append(contraction_tau_eps(problem) / rule.eps_max(m))
    q = np.quantile(ratios, [0.1, 0.5, 0.9])
    ci = median_ci(ratios, level=LEVEL)
    quotes = [f"certified τ_ε / ε_max(m): median {fmt(q[1])} ({_interval(*ci)}), 10 % quantile {fmt(q[0])}, "
              f"90 % quantile {fmt(q[2])}, min {fmt(min(ratios))}, n = {draws} regime draws"]
    return dict(n=draws, median=float(q[1]), ci95=ci, q10=float(q[0]), q90=float(q[2]), min=float(min(ratios)),
                quotes=quotes)


def threshold_blind_spots(widths=None, draws=None):
    r"""Draws whose count of minima is not monotone in ε where the doubling search overshoots.

    :func:`theory.experiments.threshold_sweep.blind_spots` over the draws of :func:`certificate_ratio`
    (``widths`` times ``draws``: 3 times 50 by default). About 2 minutes.
    """
    from theory.experiments.threshold_sweep import RATIO_DRAWS, RATIO_WIDTHS, blind_spots

    widths = RATIO_WIDTHS if widths is None else tuple(widths)
    draws = RATIO_DRAWS if draws is None else int(draws)
    spots = blind_spots(widths=widths, draws=draws)
    quotes = [f"{len(spots)} of {len(widths) * draws} draws"]
    for spot in spots:
        quotes.append(f"m = {spot['m']}, seed {spot['seed']}: the doubling search reported {fmt(spot['doubling'])}, "
                      f"{fmt(spot['doubling'] / spot['threshold'])} times the first window ({fmt(spot['threshold'])})")
    return dict(spots=spots, quotes=quotes)


FINDINGS = (
    Finding("gradient_floor_failures", "lemma_4_1", gradient_floor_failures,
            smoke=dict(draws=200, dims=(1, 2))),
    Finding("lemma_4_2_largest_ratio", "lemma_4_2", lemma_4_2_largest_ratio, cheap=True, smoke=dict(draws=800)),
    Finding("theorem_3_1_rates", "theorem_3_1", theorem_3_1_rates, smoke=dict(draws=6, fractions=(0.9, 0.6, 0.4))),
    Finding("escape_by_ratio", "section_5_1", escape_by_ratio, smoke=dict(draws=10)),
    Finding("landscape_minima", "section_5_1", landscape_minima, smoke=dict(draws=8)),
    Finding("per_draw_monotonicity", "section_5_1", per_draw_monotonicity, smoke=dict(pairs=60)),
    Finding("threshold_by_width", "theorem_5_1", threshold_by_width, smoke=dict(widths=(8, 32), draws=3)),
    Finding("certificate_ratio", "theorem_5_1", certificate_ratio, smoke=dict(widths=(8,), draws=3)),
    Finding("tau_against_regime", "theorem_5_1", tau_against_regime, smoke=dict(draws=10)),
    Finding("threshold_blind_spots", "theorem_5_1", threshold_blind_spots, smoke=dict(widths=(8,), draws=3)),
)


def compute(keys=None, smoke=False):
    """Run the findings named in ``keys`` (all by default); returns {key: result} with timing and claim.

    With ``smoke``, each runs at its :attr:`Finding.smoke` size instead of its full one.
    """
    by_key = {f.key: f for f in FINDINGS}
    keys = list(by_key) if keys is None else list(keys)
    unknown = [k for k in keys if k not in by_key]
    if unknown:
        raise ValueError(f"keys must name findings of {sorted(by_key)}, got unknown {unknown}")
    out = {}
    for key in keys:
        start = time.perf_counter()
        finding = by_key[key]
        result = finding.measure(**(finding.smoke if smoke else {}))
        result = json.loads(json.dumps(result, default=float))  # plain JSON types
        result["claim"] = by_key[key].claim
        result["seconds"] = round(time.perf_counter() - start, 1)
        out[key] = result
    return out


def _environment():
    import platform

    import hypothesis
    import scipy

    return dict(python=platform.python_version(), numpy=np.__version__, scipy=scipy.__version__,
                hypothesis=hypothesis.__version__)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m theory.experiments.findings", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="findings.json", help="output file (merged when --only is given)")
    parser.add_argument("--only", help="comma-separated keys to recompute")
    parser.add_argument("--list", action="store_true", help="list the findings and exit")
    parser.add_argument("--smoke", action="store_true",
                        help='run each finding at its small size and store it under "smoke" (what the checks recompute)')
    args = parser.parse_args(argv)
    if args.list:
        for f in FINDINGS:
            print(f"{f.key}\t{f.claim}\t{(f.measure.__doc__ or '').strip().splitlines()[0]}")
        return 0
    keys = None if args.only is None else [k.strip() for k in args.only.split(",") if k.strip()]
    # The full findings and their smoke runs (--smoke: the smoke runs only, merged into --out).
    sections = ("smoke",) if args.smoke else ("findings", "smoke")
    try:
        computed = {section: compute(keys, smoke=section == "smoke") for section in sections}
    except ValueError as exc:
        parser.error(str(exc))
    path = Path(args.out)
    data = {}
    if (keys is not None or args.smoke) and path.exists():
        data = json.loads(path.read_text())
    for section, results in computed.items():
        merged = {**data.get(section, {}), **results}
        data[section] = {f.key: merged[f.key] for f in FINDINGS if f.key in merged}
    data["environment"] = _environment()
    data["command"] = "python -m theory.experiments.findings"
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    for key, result in computed[sections[0]].items():
        print(f"{key} ({result['seconds']} s):")
        for quote in result["quotes"]:
            print(f"  {quote}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
