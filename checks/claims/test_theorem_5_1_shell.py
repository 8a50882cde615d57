r"""Theorem 5.1's certified τ_ε at d = 3: the fold-free shell on cube-sphere charts.

The certificate (:mod:`theory.certificates.shell`) grows the contraction radius τ_0
through a shell of boxes on the six cube-sphere charts of S². Checks, each over drawn
networks (d = 3, widths 1 to 8, input scales 10⁻² to 10², both losses; label at radius
THRESHOLD_EPS_CAP · input scale):

* the derivatives behind the cover (the chart gradient φ, the chart Hessian J and ∂_ε
  of the gradient) agree with central differences of L and of φ
  (``theory.testing.diffcheck``'s allowance: FD_RTOL of the natural scale plus the
  derived rounding of both sides); control: J without the chart's curvature term;
* the shell's box bounds bound the variation of J and ∂_ε φ over sampled boxes
  (control: scaled by 0.1), and the interval of f over which they take the loss's
  derivative bounds holds f at the box's centre and sampled points (control: the
  interval shrunk to its lower end);
* below the shell τ_ε the multi-start search finds one minimum (searched evidence,
  independent of the certified count of ``test_theorem_5_1_sphere_count.py``, which
  checks the same radii with certified evidence; two examples a run, and pinned at
  d = 3, m = 8, seed 1, whose second minimum appears at ε ≈ 4.3618 with the shell τ_ε
  just below it); control: test C taking a positive eigenvalue of J for a negative one
  lets the shell pass that birth, and the search finds two minima below the wrong τ_ε.

d = 2 (the fold-free annulus), the threshold finder and τ_ε's monotonicity in its cap:
``test_theorem_5_1_certificate.py``.
"""

import unittest.mock

import numpy as np
import pytest
from hypothesis import event, example, given, note, settings, target
from hypothesis import strategies as st

from ..support import _agrees, _flat, counterexample, evidence, holds, margin
from theory.certificates.uniqueness import contraction_tau_eps
from theory.certificates.tau import certified_tau_eps
from theory.landscape.threshold import THRESHOLD_EPS_CAP
from theory.landscape.search import local_minima
from theory.certificates.charts import CHART_RTOL
from theory.certificates import shell
from theory.certificates._boxes import loss_derivative_bounds
from theory.certificates.shell import (
    chart_points, shell_box_bounds, shell_derivatives, shell_tau_eps,
)
from theory.testing.diffcheck import argument_rounding
from theory.bounds import evaluation_error_bounds
from theory.geometry import vector_norm
from theory.losses import LOSSES
from theory.problem import Problem, make_problem
from theory.testing.strategies import input_scales, log_uniform, seeds, widths
from theory.testing.tolerances import UNIT_ROUNDOFF

#: Fewer examples than the profile's: each example runs a cover and several circle
#: scans (up to ~1 s at m = 32); a sixth of the profile keeps the module at a few tens
#: of seconds under ``ci`` (10 examples per property).
FEW = settings(max_examples=max(4, settings.default.max_examples // 6))

#: Wrong-bound factor of the controls (the box derivative bounds scaled by it).
WRONG = 0.1


def cap_of(problem):
    return THRESHOLD_EPS_CAP * float(np.linalg.norm(problem.x))


def at(problem, eps):
    return Problem(problem.net, problem.x, problem.y, eps, problem.loss)


# --- d = 3: the fold-free shell ---------------------------------------------------------------------

#: A d = 3 draw whose second minimum appears at ε ≈ 4.3618 (multi-start search): the shell
#: certificate stops just below it; with test C flipped (the control) it passes it.
SHELL_DRAW = make_problem(3, 8, seed=1, eps=THRESHOLD_EPS_CAP)
SHELL_TWO_MINIMA = 4.3618


@st.composite
def shell_draws(draw, m=widths(1, 8), scale=input_scales(1e-2, 1e2), loss=st.sampled_from(sorted(LOSSES))):
    problem = make_problem(3, draw(m), seed=draw(seeds()), input_scale=(s := draw(scale)),
                           eps=THRESHOLD_EPS_CAP * s, loss=draw(loss))
    note(f"{problem!r}")
    return problem


@st.composite
def shell_points(draw, problems=shell_draws()):
    problem = draw(problems)
    rng = np.random.default_rng(draw(seeds()))
    cap = cap_of(problem)
    return (problem, rng.integers(0, 6, 3), cap * 10.0 ** rng.uniform(-3.0, -0.3, 3), rng.uniform(-1.0, 1.0, 3),
            rng.uniform(-1.0, 1.0, 3))


def check_shell_derivatives(problem, face, eps, a, b, drop_curvature=False):
    """φ_a, φ_b, J and ∂_ε φ (shell_derivatives) against central differences of L and of φ_a, φ_b.

    Rounding of the curves as in :func:`check_annulus_derivatives`, the chart point
    off by :data:`theory.certificates.charts.CHART_RTOL` ε componentwise. ``drop_curvature``: the
    injected bug of the control, J_aa without the chart's curvature term ε ∂Lᵀ∂²_aa p.
    """
    evidence("sampled")
    values, errors = shell_derivatives(problem, face, eps, a, b)
    ch = chart_points(face, a, b)
    delta = eps[:, None] * ch["p"]
    grad = problem.loss_grad(delta)
    ng = vector_norm(grad)
    nh = vector_norm(problem.loss_hvp(delta, eps[:, None] * ch["pa"])) + vector_norm(
        problem.loss_hvp(delta, eps[:, None] * ch["pb"]))
    if drop_curvature:
        values = values.copy()
        values[2] = values[2] - eps * np.einsum("ij,ij->i", grad, ch["paa"])

    def moved(t, i, which):
        # Along ε the curve is ε(1 + t) (steps relative to ε): its slope is ε ∂_ε φ.
        f, e, x, y = np.broadcast_arrays(face[i], eps[i], a[i], b[i], np.asarray(t))[:4]
        shift = np.broadcast_to(t, f.shape)
        e, x, y = (e * (1.0 + shift), x, y) if which == 0 else ((e, x + shift, y) if which == 1 else (e, x, y + shift))
        return f, e, x, y

    def chart_delta(f, e, x, y):
        ch = chart_points(f.ravel(), x.ravel(), y.ravel())
        return (e.ravel()[:, None] * ch["p"]).reshape(f.shape + (3,))

    def loss_curve(which):
        def along(t, i):
            return problem.loss_value(chart_delta(*moved(t, i, which)))

        def error(t, i):
            f, e, x, y = moved(t, i, which)
            d = chart_delta(f, e, x, y)
            return problem.evaluation_error_bounds(d)[0] + argument_rounding(
                problem.loss_grad(d), CHART_RTOL * np.abs(e)[..., None] * np.ones(3))
        return along, error

    def phi_curve(k, which):
        def both(t, i):
            return _flat(lambda *v: shell_derivatives(problem, *v), *moved(t, i, which))

        def error(t, i):
            v, err = both(t, i)
            # ε(1 + t) rounds by u ε(1 + |t|), which moves φ_k by at most |∂_ε φ_k| times that.
            return err[k] + (2.0 * UNIT_ROUNDOFF * np.abs(moved(t, i, which)[1]) * np.abs(v[5 + k]) if which == 0
                             else 0.0)
        return (lambda t, i: both(t, i)[0][k]), error

    s_phi, s_J, s_psi = eps * ng, eps * (ng + nh), ng + nh
    results = [_agrees(values[0], errors[0], s_phi, *loss_curve(1)),
               _agrees(values[1], errors[1], s_phi, *loss_curve(2)),
               _agrees(values[2], errors[2], s_J, *phi_curve(0, 1)),
               _agrees(values[3], errors[3], s_J, *phi_curve(0, 2)),
               _agrees(values[4], errors[4], s_J, *phi_curve(1, 2)),
               _agrees(eps * values[5], eps * errors[5], eps * s_psi, *phi_curve(0, 0)),
               _agrees(eps * values[6], eps * errors[6], eps * s_psi, *phi_curve(1, 0))]
    target(max(r.worst for r in results), label="|analytic - central difference| / allowed")
    return all(r.ok for r in results)


@FEW
@given(shell_points())
def test_shell_derivatives_are_the_central_differences_of_the_loss_and_of_the_chart_gradient(case):
    assert check_shell_derivatives(*case)


@pytest.mark.negative_control
def test_control_a_chart_hessian_without_the_charts_curvature_is_caught():
    counterexample(shell_points(), lambda c: check_shell_derivatives(*c, drop_curvature=True), shrink=False)


@st.composite
def shell_box_cases(draw, problems=shell_draws()):
    """(problem, box (face, [ea, eb] x [a0, a1] x [b0, b1]), 16 points of the box)."""
    problem = draw(problems)
    cap = cap_of(problem)
    ea = cap * draw(log_uniform(1e-3, 0.5))
    eb = ea * (1.0 + draw(log_uniform(1e-4, 0.5)))
    a0, b0 = draw(st.floats(-1.0, 0.9)), draw(st.floats(-1.0, 0.9))
    a1, b1 = a0 + draw(log_uniform(1e-4, 0.1)), b0 + draw(log_uniform(1e-4, 0.1))
    face = draw(st.integers(0, 5))
    rng = np.random.default_rng(draw(seeds()))
    pts = (rng.uniform(ea, eb, 16), rng.uniform(a0, a1, 16), rng.uniform(b0, b1, 16))
    note(f"face {face}, box [{ea!r}, {eb!r}] x [{a0!r}, {a1!r}] x [{b0!r}, {b1!r}]")
    return problem, (face, ea, eb, a0, a1, b0, b1), pts


def check_shell_box_bounds(problem, box, points, bound_factor=1.0):
    """Between the centre c and points p of the box: every entry of J moves by at most
    Q_aaa(|Δa| + |Δb|) + Q_εaa|Δε|, and ∂_ε φ by at most Q_εaa(|Δa| + |Δb|) + Q_εεa|Δε| (certified errors added)."""
    evidence("sampled")
    face, ea, eb, a0, a1, b0, b1 = box
    one = lambda v: np.array([v])  # noqa: E731
    Q_aaa, Q_eaa, Q_eea = (bound_factor * q[0] for q in shell_box_bounds(
        problem, one(face), one(ea), one(eb), one(a0), one(a1), one(b0), one(b1)))
    c = (0.5 * (ea + eb), 0.5 * (a0 + a1), 0.5 * (b0 + b1))
    vc, ec = shell_derivatives(problem, one(face), *(one(v) for v in c))
    eps, a, b = points
    v, e = shell_derivatives(problem, np.full(eps.shape, face), eps, a, b)
    de, dab = np.abs(eps - c[0]), np.abs(a - c[1]) + np.abs(b - c[2])
    observed = np.concatenate([np.abs(v[k] - vc[k]) - e[k] - ec[k] for k in range(2, 7)])
    allowed = np.concatenate([Q_aaa * dab + Q_eaa * de] * 3 + [Q_eaa * dab + Q_eea * de] * 2)
    worst = int(np.argmax(observed / allowed))
    margin(max(observed[worst], 0.0), allowed[worst], "derivative variation of phi / shell box bound")
    assert np.all(observed <= allowed), f"a box bound is exceeded: {observed[worst]!r} > {allowed[worst]!r}"


@FEW
@given(shell_box_cases())
def test_shell_box_bounds_bound_the_derivatives_of_the_chart_gradient_over_the_box(case):
    check_shell_box_bounds(*case)


@pytest.mark.negative_control
def test_control_shell_box_bounds_scaled_by_a_tenth_are_exceeded():
    counterexample(shell_box_cases(), holds(check_shell_box_bounds, bound_factor=WRONG))


def check_value_interval(problem, box, points, widen=None):
    """The interval of f over which the box bounds take the loss's derivative bounds contains f,
    computed at the centre and at the points p of the box, within f's certified evaluation error."""
    face, ea, eb, a0, a1, b0, b1 = box
    intervals = []

    def recording(loss, y, lo, hi):
        lo, hi = widen(lo, hi) if widen else (lo, hi)
        intervals.append((lo, hi))
        return loss_derivative_bounds(loss, y, lo, hi)

    one = lambda v: np.array([v])  # noqa: E731
    with unittest.mock.patch.object(shell, "loss_derivative_bounds", recording):
        shell_box_bounds(problem, one(face), one(ea), one(eb), one(a0), one(a1), one(b0), one(b1))
    (lo, hi), = intervals
    eps, a, b = (np.append(v, 0.5 * (v0 + v1)) for v, v0, v1 in zip(points, (ea, a0, b0), (eb, a1, b1)))
    z = problem.x + eps[:, None] * chart_points(np.full(eps.shape, face), a, b)["p"]
    f, err = problem.net.value(z), evaluation_error_bounds(problem.net, z)[0]
    worst = float(np.max(np.maximum(lo[0] - (f + err), (f - err) - hi[0])))
    margin(max(worst, 0.0), float(hi[0] - lo[0]), "f outside the box's value interval / its width")
    return bool(np.all((lo[0] <= f + err) & (f - err <= hi[0])))


@FEW
@given(shell_box_cases())
def test_the_box_bounds_take_the_loss_derivatives_over_an_interval_that_holds_f_on_the_box(case):
    assert check_value_interval(*case)


@pytest.mark.negative_control
def test_control_a_value_interval_shrunk_to_its_lower_end_is_caught():
    counterexample(shell_box_cases(), lambda c: check_value_interval(*c, widen=lambda lo, hi: (lo, lo)))


def check_search_below_shell_tau(problem, tau, radii):
    """At radii below τ_ε (d = 3) the multi-start search finds exactly one local minimum."""
    evidence("searched")
    for eps in radii:
        assert eps < tau
        count = len(local_minima(at(problem, eps), seed=0, method="search"))
        note(f"eps = {eps!r} (tau_eps = {tau!r}): {count} local minima")
        assert count == 1, f"eps = {eps!r} below the shell tau_eps has {count} local minima"


@settings(max_examples=2)
@given(shell_draws(m=widths(1, 8), scale=st.just(1.0), loss=st.just("quadratic")), st.floats(0.0, 1.0))
@example(SHELL_DRAW, 1.0)
def test_search_finds_one_minimum_below_the_shell_tau_eps(problem, fraction):
    # One radius in the shell [tau_0, tau_eps) (fraction 1: within 1e-4 of tau_eps).
    cap = cap_of(problem)
    tau0, tau = contraction_tau_eps(problem, eps_cap=cap), certified_tau_eps(problem, eps_cap=cap)
    event("shell extends the contraction radius" if tau > tau0 else "contraction radius only")
    check_search_below_shell_tau(problem, tau, [tau0 + (tau - tau0) * fraction * (1.0 - 1e-4)])


@pytest.mark.negative_control
def test_control_test_c_taking_a_positive_eigenvalue_for_a_negative_one_passes_the_threshold():
    # With the injected bug the cover proves boxes around the birth of the second minimum.
    wrong = shell_tau_eps(SHELL_DRAW, cap_of(SHELL_DRAW), _flip_c=True)
    assert counterexample(st.just((SHELL_DRAW, wrong, [SHELL_TWO_MINIMA])),
                          holds(check_search_below_shell_tau), shrink=False)[1] == wrong
