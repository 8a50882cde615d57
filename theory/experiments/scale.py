r"""Section 5.1: input scale, landscape and escape from local maxima, as measurable quantities.

At a fixed perturbation ratio r (ε = r‖x‖), the paper claims that a smaller
input scale gives (5.1.1) a more regular landscape — fewer local minima on the
sphere — and (5.1.2) a faster escape of PGD from a local maximum (Figures 1–3).
The claims are statistical (over draws), so they become paired comparisons
over seeds: each seed gives one network and one input direction, evaluated at
two input scales.

Escape, made explicit
---------------------
* Start: the highest local maximum of L on the sphere (found by
  :func:`theory.landscape.local_maxima`), pulled inside the ball by a relative
  ESCAPE_OFFSET and perturbed by the same amount (PGD stays at an exact critical point).
* Step: η = ESCAPE_STEP_FRACTION · ε / G with G the mean ‖∂L‖ over uniform
  points of the ball, so that a typical step moves a fixed fraction of ε at
  every scale (a plain η would compare different loss scales, not landscapes).
* Escape time: the first t at which L has dropped by ESCAPE_DROP_FRACTION of
  the range L(δ_max) − min L on the sphere. On a linear landscape (small
  scale) that is about 2 · 0.2 / 0.05 = 8 steps; a draw is *slow* when it has
  not escaped within ESCAPE_SLOW_STEPS = 20 steps (2.5 times that).

Calibration (d = 2, m = 32, r = 1, 40 seeds; ``python -m theory.experiments.calibration``):
at ‖x‖ = 0.01 the loss drop after 10 steps is 0.245 to 0.266 of the range for
every seed (10 % to 90 % quantile 0.246 to 0.252); at ‖x‖ = 1 and 100 its median
is lower (0.158, 0.196) but its spread is wide (10 % quantiles 0.081 and 0.085,
90 % quantiles 0.378 and 0.388): the mean escape speed does not separate the
scales, the tail of slow escapes does.
"""

from __future__ import annotations

import numpy as np

from theory.certificates.uniqueness import uniqueness_certificate
from theory.geometry import uniform_ball, vector_norm
from theory.landscape.circle import circle_critical_points
from theory.landscape.search import local_extrema, local_minima
from theory.pgd import pgd
from theory.problem import make_problem
from theory.testing.section_5_1 import (
    ALTERNATIVE_DIFFER, ALTERNATIVE_Q, ESCAPE_DROP_FRACTION, ESCAPE_OFFSET, ESCAPE_RATIO, ESCAPE_SLOW_STEPS,
    ESCAPE_STEP_FRACTION, FIGURE_DIM, FIGURE_WIDTH, LANDSCAPE_RATIO, LARGE_SCALE, PAIRED_DRAWS, SMALL_SCALE,
    STATISTICAL_ALPHA, STATISTICAL_POWER,
)
from theory.problem import check_problem

__all__ = [
    "FIGURE_DIM",
    "FIGURE_WIDTH",
    "SMALL_SCALE",
    "LARGE_SCALE",
    "LANDSCAPE_RATIO",
    "ESCAPE_RATIO",
    "PAIRED_DRAWS",
    "ESCAPE_OFFSET",
    "ESCAPE_STEP_FRACTION",
    "ESCAPE_DROP_FRACTION",
    "ESCAPE_SLOW_STEPS",
    "STATISTICAL_ALPHA",
    "ALTERNATIVE_DIFFER",
    "ALTERNATIVE_Q",
    "STATISTICAL_POWER",
    "escape_steps",
    "FIGURE_SCALES",
    "FIGURE_RATIOS",
    "TABLE_DRAWS",
    "figure_problem",
    "count_minima",
    "minima_table",
    "escape_step_size",
]



def escape_steps(problem, seed, *, max_steps=ESCAPE_SLOW_STEPS, step_fraction=ESCAPE_STEP_FRACTION):
    """Steps PGD needs to escape from the highest local maximum on the sphere (module docstring).

    Parameters
    ----------
    problem : Problem
        With d >= 2.
    seed : int
        Seed of the landscape search, the start's perturbation and the samples for G.
    max_steps : int
        Budget; a draw that has not escaped returns ``max_steps + 1``.
    step_fraction : float
        η = step_fraction · ε / mean‖∂L‖ (default :data:`ESCAPE_STEP_FRACTION`).

    Returns
    -------
    int
    """
    check_problem(problem)
    minima, maxima = local_extrema(problem, seed=seed)
    if not minima or not maxima:
        raise ValueError("the landscape search found no local minimum or maximum on the sphere")
    low = min(p.loss for p in minima)
    top = max(maxima, key=lambda p: p.loss)
    rng = np.random.default_rng(seed)
    eps, d = problem.eps, problem.d
    start = top.delta * (1.0 - ESCAPE_OFFSET) + ESCAPE_OFFSET * eps * rng.standard_normal(d) / np.sqrt(d)
    start *= min(1.0, eps * (1.0 - ESCAPE_OFFSET) / float(vector_norm(start)))
    eta = escape_step_size(problem, rng, step_fraction)
    losses = pgd(problem, start, eta=eta, steps=max_steps).losses
    goal = top.loss - ESCAPE_DROP_FRACTION * (top.loss - low)
    hit = np.nonzero(losses <= goal)[0]
    return int(hit[0]) if hit.size else max_steps + 1


# --- Figure 1: the grid of panels and the table of local minima ------------------------

#: Figure 1's input scales (rows), smallest first. The caption names 0.01 as
#: the small scale; subfigure (i), the largest scale, is "very complex".
FIGURE_SCALES = (0.01, 1.0, 100.0)
#: Figure 1's perturbation ratios (columns), smallest first. The caption quotes
#: "a large perturbation ratio such as 10" and, for subfigure (g) (large scale,
#: first column), "a very small perturbation ratio"; the supplement with the
#: exact values is not part of the text we have, so 0.1, 1, 10 is our reading.
FIGURE_RATIOS = (0.1, 1.0, 10.0)
#: Draws per panel in the table of :func:`minima_table` (the default of ``python -m theory.experiments.figure1``).
TABLE_DRAWS = 40


def figure_problem(seed, scale, ratio, *, width=FIGURE_WIDTH):
    """The draw of one Figure 1 panel: d = FIGURE_DIM, ‖x‖ = scale, ε = ratio · scale."""
    return make_problem(FIGURE_DIM, width, seed=seed, input_scale=scale, ratio=ratio)


def count_minima(problem, seed=0):
    """(number of strict local minima of L on the sphere, certified?) for one draw.

    d = 2 uses the certified circle scan (:func:`theory.landscape.circle_critical_points`),
    so the count is exact when ``certified``; d > 2 the multi-start search
    (never certified). Shared by the section 5.1 checks, Figure 1 and its table.
    """
    check_problem(problem)
    if problem.d == 2:
        scan = circle_critical_points(problem)
        return sum(p.kind == "minimum" for p in scan.points), scan.certified
    return len(local_minima(problem, seed=seed)), False


def minima_table(*, scales=FIGURE_SCALES, ratios=FIGURE_RATIOS, draws=TABLE_DRAWS, seed=0, width=FIGURE_WIDTH):
    """Local minima per Figure 1 panel over ``draws`` draws (seeds ``seed`` .. ``seed + draws - 1``).

    Returns
    -------
    list of dict
        One per panel: ``scale``, ``ratio``, ``eps``, ``mean_minima``,
        ``max_minima``, ``one_minimum`` (fraction of draws with exactly one),
        ``scan_certified`` (fraction of exact counts) and ``unique_certified``
        (fraction certified unique by :func:`theory.certificates.uniqueness.uniqueness_certificate`).
    """
    rows = []
    for scale in scales:
        for ratio in ratios:
            counts, exact, unique = [], [], []
            for s in range(seed, seed + draws):
                problem = figure_problem(s, scale, ratio, width=width)
                n, certified = count_minima(problem, s)
                counts.append(n)
                exact.append(certified)
                unique.append(uniqueness_certificate(problem).certified)
            rows.append(dict(scale=scale, ratio=ratio, eps=scale * ratio,
                             mean_minima=float(np.mean(counts)), max_minima=int(np.max(counts)),
                             one_minimum=float(np.mean(np.array(counts) == 1)),
                             scan_certified=float(np.mean(exact)), unique_certified=float(np.mean(unique))))
    return rows


def escape_step_size(problem, seed, step_fraction=ESCAPE_STEP_FRACTION):
    """η = step_fraction · ε / G with G the mean ‖∂L‖ over 64 uniform points of the ball (module docstring)."""
    rng = np.random.default_rng(seed)
    g = float(np.mean(vector_norm(problem.loss_grad(uniform_ball(rng, 64, problem.d, problem.eps)))))
    return step_fraction * problem.eps / g
