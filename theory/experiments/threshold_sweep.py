r"""The empirical uniqueness threshold of Theorem 5.1 across widths, against the paper's Θ((log m)^-2).

``python -m theory.experiments.threshold_sweep [--dim D] [--widths 8,32,128,512] [--draws N] [--seed S] [--out FILE]``

``python -m theory.experiments.threshold_sweep --ratios [--method auto|contraction|annulus] [--widths 8,32,128] [--draws 50]``

``python -m theory.experiments.threshold_sweep --blind-spots [--widths 8,32,128] [--draws 50]``

For each width m and each of N draws (seeds S .. S + N − 1; input scale 1;
the label drawn at radius :data:`theory.landscape.THRESHOLD_EPS_CAP`),
:func:`theory.landscape.minima_threshold` finds the smallest radius at which a
second local minimum appears on the sphere, next to the draw's certified τ_ε
(:func:`theory.certificates.certified_tau_eps`; for d = 2 the fold-free annulus).
The table reports medians and the smallest ratio threshold / τ_ε, and
:func:`fit_log_exponent` fits median threshold ∝ (log m)^-p, to compare with the
paper's p = 2 (Theorem 3.1's ε_max(m) = Θ((log m)^-2), under whose settings
Theorem 5.1's τ_ε is stated).

Measured (d = 2, m = 8..512, 20 draws each, seed 0; 34 s of CPU): median thresholds
4.79, 10.9, 3.76, 4.99 (draws with one minimum up to the cap count as infinite: 6,
6, 1 and 1 of 20), no downward trend (fitted p = 0.18 against the paper's 2); the
median certified τ_ε are 4.78, 10.9, 3.76 and 4.99. The paper's rate is a proof's
artefact here: the threshold is set by ‖∂f(x)‖ / ‖∂²f‖, whose distribution does
not depend on m at Xavier initialisation.

``--ratios`` (:func:`tau_ratio_distribution`, d = 2, m = 8, 32, 128, seeds 0-49, n =
150, 2 min): threshold / certified τ_ε has median 1.0010 (95 % CI 1.0010 to 1.0010),
10 % quantile 1.0000, 90 % quantile 1.0010, min 1.0000 and max 1.0020 (23 draws have
one minimum up to the cap, where τ_ε reaches the cap: ratio 1), and against the
independent scan (certified counts 3 % apart from the contraction radius, bisected
to 10⁻³) median 1.0008, max 1.0020, no draw with τ_ε above either threshold; the
thresholds are known to 10⁻³ (relative), so the certificate reaches them to their
resolution. The contraction certificate alone (``--method contraction``,
:func:`theory.certificates.uniqueness.contraction_tau_eps`, the same draws) has median ratio 9.10 (95 %
CI 6.62 to 11.37), 10 % quantile 3.28, 90 % quantile 29.7, min 1.61.

At d = 3 (``--ratios --dim 3 --widths 8,32 --draws 20 --scan-ratio 1.1``: the fold-free
shell of :mod:`theory.certificates.shell`, thresholds from certified sphere counts in 39 of the 40
draws, the search in the other, n = 40, 7 min): median 1.44 (95 % CI 1.02 to 1.79), 10 %
quantile 1.0007, 90 % quantile 2.97, max 5.80, no violation; the contraction alone: median
12.97 (95 % CI 7.75 to 17.09).

``--blind-spots`` (:func:`blind_spots`, the same 150 draws): one draw, m = 128, seed
3, whose count of minima goes 1 → 2 → 1 → 2 (certified circle scans at 400 radii: 2
from ε ≈ 3.825, 1 from ≈ 4.191, 2 from ≈ 6.792): the doubling search (from the
contraction radius 0.315: ..., 2.52, 5.04 with one minimum, 10.1 with two) reported
6.79, 1.78 times the first window (3.82).
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from theory.certificates.tau import TAU_METHODS
from theory.certificates.tau import certified_tau_eps
from theory.landscape.threshold import (
    THRESHOLD_EPS_CAP, _doubling_threshold, minima_threshold, scan_threshold,
)
from theory.landscape.circle import circle_critical_points
from theory.problem import Problem, make_problem
from theory._validation import check_positive_float, check_positive_int, check_seed
from theory.problem import check_problem
from theory.testing.regimes import THRESHOLD_TREND_DRAWS, THRESHOLD_TREND_WIDTHS
from theory.testing.statistics import median_ci

__all__ = ["PAPER_EXPONENT", "SWEEP_WIDTHS", "SWEEP_DRAWS", "CHECK_WIDTHS", "CHECK_DRAWS", "RATIO_WIDTHS",
           "RATIO_DRAWS", "RATIO_SCAN", "MEDIAN_CI_LEVEL", "fit_log_exponent", "threshold_sweep", "tau_ratio_distribution",
           "blind_spots", "count_changes", "main"]

#: The paper's exponent: τ_ε = Θ((log m)^-2).
PAPER_EXPONENT = 2.0
#: Default widths of the sweep (d = 2: m >= d^{5/2} ≈ 5.7 from 8 on).
SWEEP_WIDTHS = (8, 32, 128, 512)
#: Default draws per width.
SWEEP_DRAWS = 20
#: The suite's trend sweep (:data:`theory.testing.regimes.THRESHOLD_TREND_WIDTHS`, ``..._DRAWS``),
#: under the names it had here.
CHECK_WIDTHS, CHECK_DRAWS = THRESHOLD_TREND_WIDTHS, THRESHOLD_TREND_DRAWS
#: Widths and draws per width of :func:`tau_ratio_distribution` (d = 2).
RATIO_WIDTHS = (8, 32, 128)
RATIO_DRAWS = 50
#: Ratio of consecutive radii of the independent threshold scan of :func:`tau_ratio_distribution`
#: (:func:`theory.landscape.scan_threshold`): 3 %, so that a window with two minima
#: wider than 3 % of its radius cannot be stepped over.
RATIO_SCAN = 1.03


def fit_log_exponent(widths, values):
    r"""Least-squares p in :math:`\log v = c - p\,\log\log m`; the trend :math:`v \propto (\log m)^{-p}`.

    Parameters
    ----------
    widths : array_like, shape (k,)
        Widths m >= 2, at least two distinct.
    values : array_like, shape (k,)
        Positive values (e.g. median thresholds).
    """
    widths = np.asarray(widths, dtype=float)
    values = np.asarray(values, dtype=float)
    if widths.shape != values.shape or widths.ndim != 1 or np.unique(widths).size < 2:
        raise ValueError("widths and values must be 1-d of the same length with two distinct widths")
    if np.any(widths < 2) or np.any(~(values > 0)) or np.any(~np.isfinite(values)):
        raise ValueError("widths must be >= 2 and values positive and finite")
    slope = np.polyfit(np.log(np.log(widths)), np.log(values), 1)[0]
    return float(-slope)


def threshold_sweep(*, d=2, widths=SWEEP_WIDTHS, draws=SWEEP_DRAWS, seed=0, input_scale=1.0):
    """Per width: the draws' thresholds and certified τ_ε, medians, and the fitted exponent.

    Returns
    -------
    dict
        ``rows`` (one dict per width: ``m``, ``median_threshold``,
        ``median_tau``, ``min_ratio`` = min over draws of threshold / τ_ε,
        ``finite`` = draws with a second minimum below the cap), and
        ``exponent`` (:func:`fit_log_exponent` of the median thresholds, over
        widths whose median is finite).
    """
    rows = []
    for m in widths:
        thr, tau = [], []
        for s in range(seed, seed + draws):
            problem = make_problem(d, m, seed=s, input_scale=input_scale,
                                   eps=THRESHOLD_EPS_CAP * input_scale)
            found = minima_threshold(problem, eps_cap=THRESHOLD_EPS_CAP * input_scale)
            thr.append(found.eps)
            tau.append(found.certified_tau)
        thr, tau = np.array(thr), np.array(tau)
        ok = np.isfinite(thr) & (tau > 0)
        rows.append(dict(m=int(m), median_threshold=float(np.median(thr)), median_tau=float(np.median(tau)),
                         min_ratio=float(np.min(thr[ok] / tau[ok])) if ok.any() else float("nan"),
                         finite=int(np.isfinite(thr).sum())))
    usable = [(r["m"], r["median_threshold"]) for r in rows if np.isfinite(r["median_threshold"])]
    exponent = fit_log_exponent(*zip(*usable)) if len({m for m, _ in usable}) >= 2 else float("nan")
    return dict(d=d, draws=draws, seed=seed, input_scale=input_scale, rows=rows, exponent=exponent,
                paper_exponent=PAPER_EXPONENT)


#: Coverage of the distribution-free confidence interval of the median in :func:`tau_ratio_distribution`.
MEDIAN_CI_LEVEL = 0.95


def _summary(ratios):
    """Median (with its 95 % confidence interval), 10 % and 90 % quantiles, min, max and n of ratios (NaN when empty)."""
    ratios = np.asarray(ratios, dtype=float)
    if not ratios.size:
        nan = float("nan")
        return dict(n=0, median=nan, median_ci=(nan, nan), q10=nan, q90=nan, min=nan, max=nan)
    q10, median, q90 = (float(v) for v in np.quantile(ratios, [0.1, 0.5, 0.9]))
    return dict(n=int(ratios.size), median=median, median_ci=median_ci(ratios, level=MEDIAN_CI_LEVEL), q10=q10,
                q90=q90, min=float(np.min(ratios)), max=float(np.max(ratios)))


def tau_ratio_distribution(*, d=2, widths=RATIO_WIDTHS, draws=RATIO_DRAWS, seed=0, input_scale=1.0,
                           method="auto", scan_ratio=RATIO_SCAN):
    r"""The distribution of empirical threshold / certified τ_ε over draws.

    For each width m and seed s in [seed, seed + draws): the problem of
    :func:`threshold_sweep` (input scale ``input_scale``, label drawn at radius
    :data:`theory.landscape.THRESHOLD_EPS_CAP` · input scale, the cap of every search),
    its certified τ_ε (:func:`theory.certificates.certified_tau_eps` with ``method``),
    the threshold :math:`T` of :func:`theory.landscape.minima_threshold` (the first
    window with two minima) and, independently of any certificate above the
    contraction radius, :math:`T_{scan}` of :func:`theory.landscape.scan_threshold`
    (counts at radii ``scan_ratio`` apart: certified circle scans for d = 2, certified sphere
    counts for d = 3 where they certify, searched counts otherwise). A draw with one
    minimum up to the cap has its threshold censored at the cap (its ratio is
    cap / τ_ε; ``censored`` counts them).

    Parameters
    ----------
    d : int
        Input dimension, >= 2.
    widths : sequence of int
    draws : int
        Draws per width.
    seed : int
        First seed.
    input_scale : float
    method : str
        Of :func:`theory.certificates.certified_tau_eps`.
    scan_ratio : float
        Of the independent scan, > 1.

    Returns
    -------
    dict
        ``rows``: per width ``m``, ``ratio`` (summary of min(T, cap)/τ_ε: ``n``,
        ``median``, ``q10``, ``q90``, ``min``), ``ratio_scan`` (the same with
        :math:`T_{scan}`), ``censored``, ``violations`` (draws with τ_ε above T or
        :math:`T_{scan}`), ``unresolved`` (draws whose threshold search left an
        unresolved slab), ``certified_counts`` (draws whose every count, in both searches,
        was certified); ``all``: the same over every draw; ``draws_table``: one
        dict per draw (``m``, ``seed``, ``tau``, ``threshold``, ``threshold_scan``,
        ``ratio``, ``ratio_scan``); and the arguments.
    """
    d = check_positive_int("d", d, minimum=2)
    widths = [check_positive_int("widths", int(m)) for m in widths]
    draws = check_positive_int("draws", draws)
    seed = check_seed("seed", seed)
    input_scale = check_positive_float("input_scale", input_scale)
    if method not in TAU_METHODS:
        raise ValueError(f"method must be one of {TAU_METHODS}, got {method!r}")
    scan_ratio = check_positive_float("scan_ratio", scan_ratio)
    if scan_ratio <= 1.0:
        raise ValueError(f"scan_ratio must be > 1, got {scan_ratio}")
    cap = THRESHOLD_EPS_CAP * input_scale
    table = []
    for m in widths:
        for s in range(seed, seed + draws):
            problem = make_problem(d, m, seed=s, input_scale=input_scale, eps=cap)
            found = minima_threshold(problem, eps_cap=cap)
            tau = found.certified_tau if method == "auto" else certified_tau_eps(problem, eps_cap=cap,
                                                                                   method=method)
            scan = scan_threshold(problem, eps_cap=cap, ratio=scan_ratio)
            table.append(dict(m=int(m), seed=int(s), tau=float(tau), threshold=float(found.eps),
                              threshold_scan=float(scan.eps), unresolved=len(found.unresolved),
                              certified_counts=bool(found.certified_counts and scan.certified_counts),
                              ratio=min(found.eps, cap) / tau if tau > 0 else float("inf"),
                              ratio_scan=min(scan.eps, cap) / tau if tau > 0 else float("inf")))

    def block(rows):
        return dict(ratio=_summary([r["ratio"] for r in rows]), ratio_scan=_summary([r["ratio_scan"] for r in rows]),
                    censored=sum(not np.isfinite(r["threshold"]) for r in rows),
                    violations=sum(r["tau"] > min(r["threshold"], r["threshold_scan"]) for r in rows),
                    unresolved=sum(r["unresolved"] > 0 for r in rows),
                    certified_counts=sum(r["certified_counts"] for r in rows))

    rows = [dict(m=int(m), **block([r for r in table if r["m"] == m])) for m in widths]
    return dict(d=d, draws=draws, seed=seed, input_scale=input_scale, eps_cap=cap, method=method,
                scan_ratio=scan_ratio, rows=rows, all=block(table), draws_table=table)


def count_changes(problem, eps_lo, eps_hi, *, steps=400):
    """Where the count of local minima changes along ε (d = 2, certified circle scans at ``steps`` equal radii).

    Returns
    -------
    list of (float, int, bool)
        (radius, count of minima, scan certified) at ``eps_lo`` and at every radius whose
        count differs from the one before.
    """
    check_problem(problem)
    if problem.d != 2:
        raise ValueError(f"d must be 2 for the circle scan, got d={problem.d}")
    eps_lo = check_positive_float("eps_lo", eps_lo)
    eps_hi = check_positive_float("eps_hi", eps_hi)
    if eps_hi < eps_lo:
        raise ValueError(f"eps_hi must be >= eps_lo, got eps_lo={eps_lo}, eps_hi={eps_hi}")
    steps = check_positive_int("steps", steps, minimum=2)
    out, prev = [], None
    for eps in np.linspace(eps_lo, eps_hi, steps):
        scan = circle_critical_points(Problem(problem.net, problem.x, problem.y, float(eps), problem.loss))
        k = sum(p.kind == "minimum" for p in scan.points)
        if k != prev:
            out.append((float(eps), int(k), bool(scan.certified)))
        prev = k
    return out


def blind_spots(*, widths=RATIO_WIDTHS, draws=RATIO_DRAWS, seed=0, input_scale=1.0, steps=400):
    """Draws whose count of minima is not monotone in ε where the doubling search reports a wrong threshold.

    For each draw of :func:`tau_ratio_distribution` (d = 2): the threshold of
    :func:`theory.landscape.minima_threshold` and that of the doubling search
    (doubling from the contraction radius, then bisection); where the latter is more
    than 1 % above the former, the counts along ε from τ_ε to 1 % above it
    (:func:`count_changes`, ``steps`` certified circle scans).

    Returns
    -------
    list of dict
        ``m``, ``seed``, ``threshold``, ``doubling``, ``changes``.
    """
    widths = [check_positive_int("widths", int(m)) for m in widths]
    draws = check_positive_int("draws", draws)
    seed = check_seed("seed", seed)
    input_scale = check_positive_float("input_scale", input_scale)
    steps = check_positive_int("steps", steps, minimum=2)
    cap = THRESHOLD_EPS_CAP * input_scale
    out = []
    for m in widths:
        for s in range(seed, seed + draws):
            problem = make_problem(2, m, seed=s, input_scale=input_scale, eps=cap)
            found = minima_threshold(problem, eps_cap=cap)
            old = _doubling_threshold(problem, eps_cap=cap)
            if min(old.eps, cap) > min(found.eps, cap) * 1.01:
                changes = count_changes(problem, found.certified_tau, min(old.eps, cap) * 1.01, steps=steps)
                out.append(dict(m=int(m), seed=int(s), threshold=float(found.eps), doubling=float(old.eps),
                                changes=changes))
    return out


def _print_ratios(result):
    print(f"d = {result['d']}, {result['draws']} draws per width (seeds {result['seed']}..), input scale "
          f"{result['input_scale']:g}, cap {result['eps_cap']:g}, method {result['method']}")
    kind = {2: "certified", 3: "certified where the sphere count certifies, else searched"}.get(result["d"], "searched")
    print("empirical threshold / certified tau_eps (threshold censored at the cap); T: minima_threshold, "
          f"T_scan: {kind} counts {result['scan_ratio']:g} apart")
    print("| m | n | median (95 % CI) | q10 | q90 | min | max | T_scan: median | q10 | max | censored | "
          "violations | unresolved | certified counts |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in result["rows"] + [dict(m="all", **result["all"])]:
        q, t = r["ratio"], r["ratio_scan"]
        ci = "{:.4f} to {:.4f}".format(*q["median_ci"])
        print(f"| {r['m']} | {q['n']} | {q['median']:.4f} ({ci}) | {q['q10']:.4f} | {q['q90']:.4f} | "
              f"{q['min']:.4f} | {q['max']:.4f} | {t['median']:.4f} | {t['q10']:.4f} | {t['max']:.4f} | "
              f"{r['censored']} | {r['violations']} | {r['unresolved']} | {r['certified_counts']} of {q['n']} |")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m theory.experiments.threshold_sweep", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dim", type=int, default=2, help="input dimension d (2: certified circle scan)")
    parser.add_argument("--widths", default=None, help="comma-separated widths (default: "
                        f"{','.join(map(str, SWEEP_WIDTHS))}; with --ratios or --blind-spots "
                        f"{','.join(map(str, RATIO_WIDTHS))})")
    parser.add_argument("--draws", type=int, default=None,
                        help=f"draws per width (default {SWEEP_DRAWS}; with --ratios or --blind-spots {RATIO_DRAWS})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ratios", action="store_true",
                        help="the distribution of threshold / certified tau_eps (tau_ratio_distribution)")
    parser.add_argument("--method", default="auto", choices=TAU_METHODS, help="certified tau_eps method (--ratios)")
    parser.add_argument("--scan-ratio", type=float, default=RATIO_SCAN,
                        help=f"ratio of the independent threshold scan (--ratios; default {RATIO_SCAN})")
    parser.add_argument("--blind-spots", action="store_true",
                        help="draws where the doubling search steps over the first window (blind_spots)")
    parser.add_argument("--out", help="also write the result as JSON to this file")
    args = parser.parse_args(argv)
    special = args.ratios or args.blind_spots
    widths = [int(w) for w in (args.widths or ",".join(map(str, RATIO_WIDTHS if special else SWEEP_WIDTHS))).split(",")]
    draws = args.draws if args.draws is not None else (RATIO_DRAWS if special else SWEEP_DRAWS)
    if args.dim < 2 or draws < 1 or min(widths) < 2 or args.seed < 0:
        parser.error("--dim must be >= 2, --draws >= 1, widths >= 2, --seed >= 0")
    if args.ratios and args.blind_spots:
        parser.error("give at most one of --ratios and --blind-spots")
    if args.blind_spots and args.dim != 2:
        parser.error("--blind-spots needs --dim 2")
    if args.ratios:
        if not args.scan_ratio > 1.0:
            parser.error("--scan-ratio must be > 1")
        result = tau_ratio_distribution(d=args.dim, widths=widths, draws=draws, seed=args.seed, method=args.method,
                                        scan_ratio=args.scan_ratio)
        _print_ratios(result)
    elif args.blind_spots:
        result = blind_spots(widths=widths, draws=draws, seed=args.seed)
        print(f"d = 2, {draws} draws per width, widths {widths}: {len(result)} draws where the doubling search "
              "steps over the first window with two minima")
        for r in result:
            print(f"m = {r['m']}, seed {r['seed']}: first threshold {r['threshold']:.5g}, doubling search "
                  f"{r['doubling']:.5g}; counts along eps: "
                  + ", ".join(f"{k} from {e:.4g}" for e, k, _ in r["changes"]))
    else:
        result = threshold_sweep(d=args.dim, widths=widths, draws=draws, seed=args.seed)
        print(f"d = {args.dim}, {draws} draws per width, input scale 1")
        print("| m | median threshold | median certified tau_eps | min threshold/tau | with 2nd minimum |")
        print("|---|---|---|---|---|")
        for r in result["rows"]:
            print(f"| {r['m']} | {r['median_threshold']:.3g} | {r['median_tau']:.3g} | {r['min_ratio']:.3g} | "
                  f"{r['finite']}/{draws} |")
        print(f"fitted exponent p (threshold ~ (log m)^-p): {result['exponent']:.2f}; paper: {PAPER_EXPONENT:g}")
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(result, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
