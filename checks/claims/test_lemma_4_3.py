r"""Lemma 4.3 (away from critical points on the sphere).

Statement (section 4). For m = Ω(d^{5/2}) and ε < ε_max(m) = Θ((log m)^{-1}),
with high probability, for any δ ∈ εS^{d-1} and any 0 <= β <= 1 such that
∠[∂f(δ), δ] <= β,

    ‖Γ(δ)‖ >= sqrt(1 − β²) ‖∂f(δ)‖ >= 𝓛 B_l sqrt(1 − β²).

Scaling. With the paper's definition Γ = ∂L − λ*∂c = P_T ∂L = L_f P_T ∂f
(:mod:`theory.constrained`), the chain is consistent when every term is in L:
‖Γ‖ >= sqrt(1 − β²)‖∂L‖ >= 𝓛_f B_l sqrt(1 − β²), with 𝓛_f the certified lower
bound on |∂L/∂f| over the ball (2𝓛 for the quadratic loss). The paper's
middle term ‖∂f‖ is the same statement for Γ_f = P_T ∂f (its remark "Γ is the
tangent component of ∂f"). The checks use the L form; Γ comes from the
λ* route (:func:`theory.constrained.tangent_gradient`), the cosine from
:func:`theory.geometry.cosine`: two independent computations.

Points checked: uniform points on the sphere, the point where the search of
:func:`theory.landscape.min_gradient_norm` finds the smallest ‖∂f‖ on the
sphere, and points near the two small-ε critical points ±ε∂f/‖∂f‖, where the
cosine is close to ±1.

Finding 1 (literal statement fails): the hypothesis is one-sided
-------------------------------------------------------------------
‖P_T ∂f‖ = sqrt(1 − cos²)‖∂f‖ with cos = ∠[∂f, δ], so the first inequality
needs cos² <= β², not cos <= β: a point where ∂f points into the ball
(cos close to −1, near the antipodal critical point) satisfies cos <= β for
every β and violates the bound. Hypothesis's shrunk counterexample (pinned):
d = 7, m = 130, seed 0, ε = 0.1 ε_max, β = 0, at the point near −ε∂f/‖∂f‖
where cos ≈ −1.
Repaired statement: |∠[∂f(δ), δ]| <= β (which is what "away from critical
points" means: both kinds of critical point have |cos| = 1).

Finding 2: the second inequality is Lemma 4.1(a) on the sphere and inherits
its hidden hypothesis d >= REGIME_MIN_DIM (see ``test_lemma_4_1.py``); the
same low-dimensional counterexample is pinned here (at d = 1 the sphere is ±ε).

Negative controls: the one-sided hypothesis (found by search); Γ scaled
inconsistently (P_T ∂f against ‖∂L‖, an injected bug; an error in λ* would
not do: any wrong multiple of the normal only adds to ‖Γ‖); ε far above ε_max
(‖∂f‖ drops below B_l on the sphere).
"""

import numpy as np
import pytest
from hypothesis import example, given, note
from hypothesis import strategies as st

from ..support import counterexample, evidence, holds, margin
from theory.report.claims import MARGIN_CAP
from theory.constrained import tangent_gradient
from theory.geometry import cosine, project_tangent, uniform_sphere, unit, vector_norm
from theory.landscape.worst_case import min_gradient_norm
from theory.problem import make_problem
from theory.testing.regimes import GRADIENT_FLOOR, REGIME_MAX_DIM
from theory.testing.strategies import dims, regime_problems, seeds
from theory.testing.tolerances import FEW_OPS_RTOL

CLAIM = "lemma_4_3"


def sphere_cases(problem, seed, n=8):
    """Points of shape (n + 3, d) on the sphere: uniform ones, the smallest-‖∂f‖ point found, and two near-critical ones."""
    evidence("searched")  # uniform points plus the worst point an optimiser found
    eps, d = problem.eps, problem.d
    rng = np.random.default_rng(seed)
    pts = [uniform_sphere(rng, n, d, eps), min_gradient_norm(problem, on_sphere=True, seed=rng).delta[None]]
    g = unit(problem.net.grad(problem.x))
    for sign in (1.0, -1.0):  # near the small-eps critical points, slightly off them
        p = sign * g + 1e-3 * rng.standard_normal(d)
        pts.append(eps * unit(p)[None])
    return np.concatenate(pts)


def check_tangent_gradient_bound(problem, deltas, beta, *, one_sided=False, gamma=tangent_gradient,
                                 record_margin=True):
    """‖Γ‖ >= sqrt(1 − β²)‖∂L‖ at every δ whose cosine satisfies the hypothesis for β.

    ``deltas`` has shape (n, d); ``beta`` is a float or one value per point, shape (n,).
    ``record_margin=False`` where the bound is tight by construction (β = |cos|),
    whose margin is 1 up to rounding and says nothing.
    """
    grad = problem.loss_grad(deltas)
    cos_f = cosine(problem.net.grad(problem.x + deltas), deltas)
    beta = np.broadcast_to(np.asarray(beta, dtype=float), cos_f.shape)
    ok = cos_f <= beta if one_sided else np.abs(cos_f) <= beta
    if not ok.any():
        return
    gam = vector_norm(gamma(problem, deltas))
    gnorm = vector_norm(grad)
    root = np.sqrt(np.maximum(0.0, 1.0 - beta * beta))
    # Γ is a difference of O(|dL|) terms and sqrt(1 - cos^2) amplifies the
    # rounding of cos by 1/sqrt(1 - cos^2): both within FEW_OPS_RTOL of |dL|.
    tol = FEW_OPS_RTOL * gnorm * (1.0 + 1.0 / np.maximum(root, FEW_OPS_RTOL))
    short = root * gnorm - gam
    note(f"beta={beta!r}, cos={cos_f[ok]!r}, |Gamma|={gam[ok]!r}, |dL|={gnorm[ok]!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        used = np.where(gam + tol > 0, root * gnorm / (gam + tol), MARGIN_CAP)
    if record_margin:
        margin(float(np.max(used[ok])), 1.0, "sqrt(1 - beta^2) |dL| / |Gamma|")
    assert np.all(short[ok] <= tol[ok]), "|Gamma| < sqrt(1 - beta^2) |dL|"


def check_gradient_floor_on_sphere(problem, seed, floor=GRADIENT_FLOOR):
    """‖∂f‖ >= B_l at the worst sphere point found (so ‖∂L‖ = |L_f|‖∂f‖ >= 𝓛_f B_l)."""
    found = min_gradient_norm(problem, on_sphere=True, seed=seed)
    note(f"min |df| on the sphere = {found.value:.6g}, L_f >= {problem.bounds.dloss_lower:.6g}")
    evidence("searched")
    margin(found.value, floor, "B_l / min |df| on the sphere", lower=True)
    assert found.value >= floor, f"|df| = {found.value:.3g} < B_l = {floor:g} on the sphere"


@given(problem=regime_problems(CLAIM), seed=seeds(), beta=st.floats(0.0, 1.0))
def test_tangent_gradient_is_large_away_from_critical_points(problem, seed, beta):
    check_tangent_gradient_bound(problem, sphere_cases(problem, seed), beta)


@given(problem=regime_problems(CLAIM), seed=seeds())
def test_tangent_gradient_bound_is_tight_at_beta_equal_to_the_cosine(problem, seed):
    deltas = sphere_cases(problem, seed)
    check_tangent_gradient_bound(problem, deltas, np.abs(cosine(problem.net.grad(problem.x + deltas), deltas)),
                                 record_margin=False)


@given(problem=regime_problems(CLAIM), seed=seeds())
def test_gradient_is_bounded_below_on_the_sphere(problem, seed):
    check_gradient_floor_on_sphere(problem, seed)


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="literal Lemma 4.3: the hypothesis cos <= beta is one-sided (fails near the antipodal critical point)")
@example(problem=make_problem(7, 130, seed=0, eps=0.0025), seed=0, beta=0.0)
@given(problem=regime_problems(CLAIM), seed=seeds(), beta=st.floats(0.0, 1.0))
def test_literal_one_sided_hypothesis_fails_near_the_antipodal_critical_point(problem, seed, beta):
    check_tangent_gradient_bound(problem, sphere_cases(problem, seed), beta, one_sided=True)


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="literal Lemma 4.3 at small d: the gradient floor fails (rare at d >= 7)")
@example(problem=make_problem(1, 3, seed=32, eps=0.0026311299835343367), seed=0)
@given(problem=regime_problems(CLAIM, d=dims(1, REGIME_MAX_DIM)), seed=seeds())
def test_literal_gradient_floor_on_the_sphere_fails_in_low_dimension(problem, seed):
    check_gradient_floor_on_sphere(problem, seed)


@pytest.mark.negative_control
def test_control_one_sided_hypothesis_is_broken_by_search():
    cases = st.tuples(regime_problems(CLAIM), seeds(), st.floats(0.0, 1.0))
    counterexample(cases, lambda c: check_tangent_gradient_bound(
        c[0], sphere_cases(c[0], c[1]), c[2], one_sided=True) is None, shrink=False)


@pytest.mark.negative_control
def test_control_bound_breaks_when_gamma_is_scaled_inconsistently():
    def tangent_of_df(problem, delta):  # injected bug: P_T df compared with |dL|
        return project_tangent(delta, problem.net.grad(problem.x + delta))

    cases = st.tuples(regime_problems(CLAIM), seeds(), st.floats(0.0, 1.0))
    counterexample(cases, lambda c: check_tangent_gradient_bound(
        c[0], sphere_cases(c[0], c[1]), c[2], gamma=tangent_of_df) is None, shrink=False)


@pytest.mark.negative_control
def test_control_gradient_floor_on_the_sphere_breaks_for_large_eps():
    cases = st.tuples(regime_problems(CLAIM, eps_fraction=1e3), seeds())
    counterexample(cases, holds(check_gradient_floor_on_sphere), shrink=False)
