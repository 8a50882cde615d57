"""Reproduce the calibrations quoted in :mod:`theory.testing.regimes` and :mod:`theory.experiments.scale`.

Run ``python -m theory.experiments.calibration [--draws N]`` (default 400; about 30 s). Each experiment prints the numbers the docstrings quote:

1. ‖∂f(x)‖ in the regime (d = 7, m = 130..260): minimum and 0.1 % quantile
   (GRADIENT_FLOOR = 0.02, the χ² model of REGIME_MIN_DIM).
2. ‖∂²f(x)‖ at d = 6..8, m = min_width(d): median and maximum (HESSIAN_REFERENCE).
3. Lemma 4.4's least eigenvalue of −sgn(λ*)Ξ near critical points at
   ε = 0.99 ε_max (DEFINITENESS_MARGIN), on half the draws.
4. τ_ε: the smallest ε on a grid with a draw having two local minima, at d = 2
   and d = 6, input scale 1 (TAU_EPS_FACTOR), on 20 draws per ε.
5. Section 5.1: loss drop after 10 escape steps at ‖x‖ = 0.01, 1, 100 (r = 1)
   and the escape sign test at r = 0.3, 1, 3 (ESCAPE_RATIO), on 40 seeds.
6. The conformance draws of the convergence properties (:mod:`theory.attacks.strategies`,
   d <= 64, derandomized): the share with a positive certified gradient floor and the share
   meeting :data:`theory.attacks.properties.KAPPA_MAX`, with 95 % intervals, on ``--draws`` / 2 draws.
"""

from __future__ import annotations

import argparse

import numpy as np

from theory.constrained import constrained_hessian, lagrange_multiplier
from theory.geometry import cosine, uniform_sphere, unit
from theory.landscape.search import local_minima
from theory.problem import make_problem
from theory.testing.regimes import NEAR_CRITICAL_COSINE, REGIME_MIN_DIM, min_width, regime
from theory.experiments.scale import LARGE_SCALE, SMALL_SCALE, escape_steps


def gradient_at_x(draws):
    d, norms = REGIME_MIN_DIM, []
    for s in range(draws):
        p = make_problem(d, min_width(d) * (1 + s % 2), seed=s, eps=0.01)
        norms.append(np.linalg.norm(p.net.grad(p.x)))
    print(f"1. |df(x)| at d={d}: min {np.min(norms):.3f}, 0.1% quantile {np.quantile(norms, 1e-3):.3f}, "
          f"median {np.median(norms):.3f}")


def hessian_at_x(draws):
    h = []
    for s in range(draws):
        d = 6 + s % 3
        p = make_problem(d, min_width(d), seed=s, eps=0.01)
        h.append(np.linalg.norm(p.net.hessian(p.x), 2))
    print(f"2. |d2f(x)| at d=6..8: median {np.median(h):.3f}, max {np.max(h):.3f}")


def definiteness(draws):
    rule, worst = regime("lemma_4_4"), []
    for s in range(draws):
        d = REGIME_MIN_DIM + s % 2
        m = min_width(d) * (1 + s % 2)
        p = make_problem(d, m, seed=s, eps=0.99 * rule.eps_max(m))
        rng = np.random.default_rng(s)
        g = unit(p.net.grad(p.x))
        t = rng.standard_normal((64, d))
        t = unit(t - (t @ g)[:, None] * g)
        side = np.sqrt(1 - NEAR_CRITICAL_COSINE ** 2)
        pts = np.concatenate([uniform_sphere(rng, 256, d, p.eps), p.eps * unit(NEAR_CRITICAL_COSINE * g + side * t),
                              p.eps * unit(-NEAR_CRITICAL_COSINE * g + side * t)])
        pts = pts[np.abs(cosine(p.net.grad(p.x + pts), pts)) >= NEAR_CRITICAL_COSINE]
        xi = -np.sign(lagrange_multiplier(p, pts))[:, None, None] * constrained_hessian(p, pts)
        worst.append(np.linalg.eigvalsh(xi)[:, 0].min())
    print(f"3. Lemma 4.4 least eigenvalue: min {np.min(worst):.2f}, 1% quantile {np.quantile(worst, 0.01):.2f}")


def tau_eps():
    for d in (2, 6):
        m = min_width(d)
        first = None
        for eps in (0.02, 0.1, 0.3, 1.0, 3.0, 10.0):
            counts = [len(local_minima(make_problem(d, m, seed=s, eps=eps), seed=s)) for s in range(20)]
            if first is None and max(counts) > 1:
                first = eps
        print(f"4. d={d}, m={m}: first eps with two local minima: {first}")


def section_5_1():
    from scipy.stats import binomtest

    from theory.geometry import uniform_ball, vector_norm
    from theory.landscape.search import local_extrema
    from theory.pgd import pgd

    for scale in (SMALL_SCALE, 1.0, LARGE_SCALE):
        drops = []
        for s in range(40):
            p = make_problem(2, 32, seed=s, input_scale=scale, ratio=1.0)
            minima, maxima = local_extrema(p, seed=s)
            low = min(q.loss for q in minima)
            top = max(maxima, key=lambda q: q.loss)
            g = float(np.mean(vector_norm(p.loss_grad(uniform_ball(s, 64, 2, p.eps)))))
            start = top.delta * (1 - 1e-3)
            losses = pgd(p, start, eta=0.05 * p.eps / g, steps=10).losses
            drops.append((losses[0] - losses[-1]) / (top.loss - low))
        print(f"5. |x|={scale:g}, r=1: drop after 10 steps: 10% {np.quantile(drops, .1):.3f}, "
              f"median {np.median(drops):.3f}, 90% {np.quantile(drops, .9):.3f}")
    for r in (0.3, 1.0, 3.0):
        e = np.array([[escape_steps(make_problem(2, 32, seed=s, input_scale=sc, ratio=r), s)
                       for sc in (SMALL_SCALE, LARGE_SCALE)] for s in range(40)])
        slower, faster = int(np.sum(e[:, 1] > e[:, 0])), int(np.sum(e[:, 1] < e[:, 0]))
        p = binomtest(slower, slower + faster, 0.5, alternative="greater").pvalue if slower + faster else 1.0
        print(f"5. r={r:g}: large scale slower in {slower} pairs, faster in {faster}, p={p:.2g}")


def conformance_floor(draws):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from theory.attacks.properties import KAPPA_MAX, converges_in_budget
    from theory.attacks.strategies import attack_cases
    from theory.bounds import certified_gradient_floor
    from theory.testing.statistics import proportion_ci

    positive, meets = [], []

    @settings(max_examples=draws, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(attack_cases(d=st.integers(2, 64)))
    def record(case):
        problem = case[0]
        positive.append(certified_gradient_floor(problem.net, problem.x, problem.eps) > 0)
        meets.append(converges_in_budget(problem))

    record()
    n = len(positive)
    for name, values in (("positive floor", positive), (f"floor >= |dL(0)|/{KAPPA_MAX:g} and raw steps that cross the ball", meets)):
        k = int(np.sum(values))
        low, high = proportion_ci(k, n)
        print(f"6. conformance draws with a {name}: {k}/{n} = {k / n:.0%} (95 % CI {low:.0%} to {high:.0%})")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m theory.experiments.calibration", description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=400, help="draws for experiments 1-3 (default 400)")
    args = parser.parse_args(argv)
    if args.draws < 1:
        parser.error("--draws must be >= 1")
    gradient_at_x(args.draws)
    hessian_at_x(args.draws)
    definiteness(max(1, args.draws // 2))
    tau_eps()
    section_5_1()
    conformance_floor(max(1, args.draws // 2))


if __name__ == "__main__":
    main()
