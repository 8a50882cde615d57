"""Hypothesis strategies for the paper's objects, importable by users' own checks.

Shape-aware, in the style of SciPy's strategies: the dimension d and width m are
drawn first, then everything sized by them. Every random array comes from a
numpy seed that Hypothesis draws, so a failure shrinks (towards small d, m,
seeds and simple floats) and replays exactly.

Each strategy takes either fixed values or strategies for its parameters, e.g.
``problems(d=2)`` or ``problems(d=dims(1, 4), loss="cross_entropy")``.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from theory.geometry import uniform_ball, uniform_sphere
from theory.losses import LOSSES
from theory.network import draw_network
from theory.problem import make_problem
from theory.testing.regimes import INPUT_SCALE, REGIME_MAX_DIM, REGIME_MIN_DIM, WIDTH_SPAN, min_width, regime

__all__ = [
    "as_strategy",
    "dims",
    "widths",
    "seeds",
    "log_uniform",
    "input_scales",
    "networks",
    "problems",
    "pinned_perturbation_cases",
    "ball_points",
    "sphere_points",
    "directions",
    "perturbation_cases",
    "regime_dims",
    "regime_problems",
    "regime_etas",
    "HOSTILE",
    "hostile_problems",
]

#: Largest seed drawn (numpy accepts any non-negative int; 2^32 - 1 keeps them readable).
MAX_SEED = 2**32 - 1


def as_strategy(value):
    """A strategy stays a strategy; a plain value becomes ``st.just(value)``."""
    return value if isinstance(value, st.SearchStrategy) else st.just(value)


def dims(min_value=1, max_value=8):
    """Input dimensions d."""
    return st.integers(min_value, max_value)


def widths(min_value=1, max_value=64):
    """Widths m."""
    return st.integers(min_value, max_value)


def seeds():
    """Non-negative numpy seeds."""
    return st.integers(0, MAX_SEED)


def log_uniform(min_value, max_value):
    """Floats spread evenly in log scale over [min_value, max_value] (shrinking towards min_value)."""
    lo, hi = math.log10(min_value), math.log10(max_value)
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False).map(
        lambda e: float(min(max(10.0 ** e, min_value), max_value)))


def input_scales(min_value=1e-2, max_value=1e3):
    """Input scales ||x|| (section 5.1 uses 0.01 to 100; the standards ask for up to 1e3)."""
    return log_uniform(min_value, max_value)


@st.composite
def networks(draw, d=dims(), m=widths(), kappa=None, gamma=None):
    """Networks drawn with :func:`theory.network.draw_network` from a Hypothesis-drawn seed."""
    d = draw(as_strategy(d))
    m = draw(as_strategy(m))
    return draw_network(d, m, seed=draw(seeds()), kappa=draw(as_strategy(kappa)),
                        gamma=draw(as_strategy(gamma)))


@st.composite
def problems(draw, d=dims(), m=widths(), input_scale=input_scales(),
             ratio=log_uniform(1e-3, 1.0), loss=st.sampled_from(sorted(LOSSES))):
    """Problems drawn with :func:`theory.problem.make_problem` (ε = ratio · input_scale)."""
    return make_problem(draw(as_strategy(d)), draw(as_strategy(m)), seed=draw(seeds()),
                        input_scale=draw(as_strategy(input_scale)),
                        ratio=draw(as_strategy(ratio)), loss=draw(as_strategy(loss)))


@st.composite
def ball_points(draw, d, eps, n=st.integers(1, 8)):
    """Points uniform in the open ball of radius ``eps`` in dimension ``d``, shape (n, d)."""
    n = draw(as_strategy(n))
    return uniform_ball(draw(seeds()), n, draw(as_strategy(d)), draw(as_strategy(eps)))


@st.composite
def sphere_points(draw, d, eps, n=st.integers(1, 8)):
    """Points uniform on the sphere of radius ``eps`` in dimension ``d``, shape (n, d)."""
    n = draw(as_strategy(n))
    return uniform_sphere(draw(seeds()), n, draw(as_strategy(d)), draw(as_strategy(eps)))


def directions(d, n):
    """``n`` unit directions in dimension ``d``, shape (n, d)."""
    return sphere_points(d, 1.0, n)


@st.composite
def perturbation_cases(draw, problem=None, n=4):
    """A problem, perturbations δ in its ball and two sets of unit directions u, v, each (n, d).

    The standard input of the derivative checks. δ is uniform in the cube
    inscribed in the ball; u, v are uniform unit vectors. The problem is
    ``note()``-d so that a failure shows the draw.
    """
    from hypothesis import note

    problem = draw(problems() if problem is None else as_strategy(problem))
    rng = np.random.default_rng(draw(seeds()))
    d = problem.d
    delta = problem.eps * rng.uniform(-1.0, 1.0, (n, d)) / np.sqrt(d)
    u, v = rng.standard_normal((2, n, d))
    u /= np.linalg.norm(u, axis=-1, keepdims=True)
    v /= np.linalg.norm(v, axis=-1, keepdims=True)
    note(f"{problem!r}")
    return problem, delta, u, v


#: Largest pre-activation of the pinned saturating draw: σ'(−730) = e^{−730} ≈ 5e-318 is
#: subnormal (and σ'' with it), σ'(730) = 1 and σ(730) = 730 exactly in float64.
SATURATING_PREACTIVATION = 730.0


def pinned_perturbation_cases(losses=("quadratic", "cross_entropy")):
    """Concrete (problem, δ, u, v) cases for ``@example``: the input scales' extremes and saturated units.

    For each loss: ‖x‖ = 1e-6 (every unit at its kink, f ≈ m γ log 2), ‖x‖ = 1e3 (most
    units saturated or underflowed), and a draw scaled so that its largest pre-activation
    is :data:`SATURATING_PREACTIVATION` (the units at ±730 carry subnormal derivatives).
    δ has three rows: 0, a point halfway to the sphere, and a point on it; u, v are fixed
    unit vectors. d = 3, m = 8, seed 7.
    """
    d, m, seed = 3, 8, 7
    unit = np.array([[1.0, 2.0, 2.0], [2.0, -1.0, 2.0], [-2.0, -2.0, 1.0]]) / 3.0
    cases = []
    for loss in losses:
        probe = make_problem(d, m, seed=seed, input_scale=1.0, ratio=0.1, loss=loss)
        saturating = SATURATING_PREACTIVATION / float(np.max(-(probe.net.W @ probe.x)))
        for scale, ratio in ((1e-6, 1.0), (1e3, 0.01), (saturating, 0.01)):
            problem = make_problem(d, m, seed=seed, input_scale=scale, ratio=ratio, loss=loss)
            delta = problem.eps * np.stack([np.zeros(d), 0.5 * unit[0], unit[1]])
            cases.append((problem, delta, unit[[1, 2, 0]], unit[[2, 0, 1]]))
    return cases


def regime_dims():
    """Dimensions of the regime: d in [REGIME_MIN_DIM, REGIME_MAX_DIM] (:mod:`theory.testing.regimes`)."""
    return dims(REGIME_MIN_DIM, REGIME_MAX_DIM)


#: Fractions of ε_max drawn by :func:`regime_problems` (strictly below 1: the claims say ε < ε_max).
EPS_FRACTIONS = log_uniform(0.05, 0.99)


@st.composite
def regime_problems(draw, claim, d=None, loss="quadratic", eps_fraction=EPS_FRACTIONS,
                    input_scale=INPUT_SCALE):
    r"""Problems inside a claim's regime (:mod:`theory.testing.regimes`).

    d from :func:`regime_dims` unless given; m in [min_width(d), WIDTH_SPAN·min_width(d)]
    (m = Ω(d^{5/2})); ε = ``eps_fraction`` · ε_max(m) with the claim's exponent;
    ‖x‖ = ``input_scale``. The problem is ``note()``-d.
    """
    from hypothesis import note

    rule = regime(claim)
    d = draw(as_strategy(regime_dims() if d is None else d))
    low = max(3, min_width(d))  # eps_max(m) needs log m > 1, i.e. m >= 3 (min_width(1) = 1)
    m = draw(st.integers(low, WIDTH_SPAN * low))
    eps = draw(as_strategy(eps_fraction)) * rule.eps_max(m)
    seed = draw(seeds())
    problem = make_problem(d, m, seed=seed, input_scale=draw(as_strategy(input_scale)),
                           eps=eps, loss=draw(as_strategy(loss)))
    note(f"{rule.claim} regime: seed={seed}, {problem!r}")
    return problem


def regime_etas(problem, claim, fraction=log_uniform(0.05, 0.99)):
    """Step sizes η = ``fraction`` · η_max(m, ε) for a problem in a claim's regime."""
    rule = regime(claim)
    top = rule.eta_max(problem.net.m, problem.eps)
    return as_strategy(fraction).map(lambda f: f * top)


#: The hostile ranges ("numerical hostility"): every public computation
#: must give a correct result or a clear error over all of them.
#:
#: * ``input_scale``: ||x|| from 1e-6 to 1e3 (section 5.1 goes to 100; softplus
#:   and sigmoid must not overflow at 1e3);
#: * ``eps``: the radius from 1e-8 to 1e2, independently of the input scale (so
#:   ε/||x|| spans 1e-11 to 1e8);
#: * ``d`` from 1 to 1e3 and ``m`` from 1 to 1e5;
#: * ``max_weights``: m·d at most 2e6 (W of 16 MB), so that a draw costs at most
#:   tens of milliseconds on 2 cores; d = 1e3 comes with m <= 2000 and m = 1e5 with
#:   d <= 20.
HOSTILE = dict(input_scale=(1e-6, 1e3), eps=(1e-8, 1e2), d=(1, 1000), m=(1, 100_000), max_weights=2_000_000)


def _log_int(min_value, max_value):
    """Integers spread evenly in log scale over [min_value, max_value] (shrinking towards min_value)."""
    return log_uniform(min_value, max_value).map(lambda v: int(min(max(round(v), min_value), max_value)))


@st.composite
def hostile_problems(draw, loss=st.sampled_from(sorted(LOSSES)), input_scale=None):
    """Problems drawn over the :data:`HOSTILE` ranges: d, then m within the weight budget, then scales.

    ``input_scale`` (a value or a strategy) overrides the drawn ||x||.
    """
    d = draw(_log_int(*HOSTILE["d"]))
    m = draw(_log_int(HOSTILE["m"][0], min(HOSTILE["m"][1], HOSTILE["max_weights"] // d)))
    scale = log_uniform(*HOSTILE["input_scale"]) if input_scale is None else as_strategy(input_scale)
    return make_problem(d, m, seed=draw(seeds()), input_scale=draw(scale),
                        eps=draw(log_uniform(*HOSTILE["eps"])), loss=draw(as_strategy(loss)))
