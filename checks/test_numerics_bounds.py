r"""The certificates of :mod:`theory.bounds` against what the network does.

A certified bound must dominate every value the draw actually takes, so each
check evaluates the bounded quantity where it is largest (or smallest) among
uniform points of the ball, the two extreme points ±ε ∂f(x)/‖∂f(x)‖ and, for
the gradient floor, the SLSQP search of :func:`theory.landscape.min_gradient_norm`.
``target()`` pushes Hypothesis towards draws where the observed value comes
closest to the bound.

Negative controls (a deliberately wrong bound is caught):

* the Hessian bound without its moving term (only ‖∂²f(x)‖ at the centre);
* the third-derivative bound at a tenth of its size;
* the gradient floor without the curvature term (‖∂f(x)‖ alone);
* the uniqueness radius τ_ε taken ten times too large (the empirical
  threshold is 2.6 to 30 times τ_ε, ``python -m theory.threshold``).

The landscape side of the uniqueness certificate (certified ⇒ exactly one
minimum) is in ``test_theorem_5_1.py``.
"""

import numpy as np
import pytest
from hypothesis import event, given, note, target
from hypothesis import strategies as st

from checks.support import counterexample
from theory.bounds import (
    certified_tau_eps,
    evaluation_error_bounds,
    gradient_norm_range,
    hessian_norm_bound,
    local_hessian_bound,
    third_derivative_bound,
    uniqueness_certificate,
)
from theory.geometry import uniform_ball, uniform_sphere, vector_norm
from theory.landscape import min_gradient_norm
from theory.network import activations
from theory.problem import Problem
from theory.strategies import dims, log_uniform, networks, problems, seeds, widths
from theory.tolerances import UNIT_ROUNDOFF


def probe_points(problem, seed, n=64):
    """Uniform points of the ball plus ±ε ∂f(x)/‖∂f(x)‖, shape (n + 2, d)."""
    g = problem.net.grad(problem.x)
    extreme = problem.eps * g / vector_norm(g) if vector_norm(g) > 0 else np.zeros_like(g)
    return np.vstack([uniform_ball(seed, n, problem.d, problem.eps), extreme, -extreme])


def hessian_norms(problem, seed):
    """Largest computed ‖∂²f(x + δ)‖₂ over the probe points, minus its certified rounding error."""
    z = problem.x + probe_points(problem, seed)
    norms = np.linalg.norm(problem.net.hessian(z), 2, axis=(-2, -1))
    errors = np.linalg.norm(evaluation_error_bounds(problem.net, z)[2], axis=(-2, -1))
    # The SVD's backward error moves the norm by at most 8 d u of itself (as in theory.bounds).
    return float(np.max(norms * (1.0 - 8.0 * problem.d * UNIT_ROUNDOFF) - errors))


def check_hessian_bound(problem, seed, bound):
    observed = hessian_norms(problem, seed)
    note(f"max |d2f| on the ball = {observed:.6g}, bound = {bound:.6g}")
    target(observed / bound, label="max |d2f| / H(eps)")
    assert observed <= bound


@given(problems(ratio=log_uniform(1e-3, 10.0)), seeds())
def test_local_hessian_bound_dominates_the_hessian_on_the_ball(problem, seed):
    check_hessian_bound(problem, seed, local_hessian_bound(problem.net, problem.x, problem.eps))


@given(networks())
def test_local_hessian_bound_is_at_most_the_global_bound(net):
    x = np.ones(net.d) / np.sqrt(net.d)
    assert local_hessian_bound(net, x, 0.1) <= hessian_norm_bound(net)


@given(problems(ratio=log_uniform(1e-3, 10.0)), log_uniform(0.1, 0.9))
def test_local_hessian_bound_grows_with_the_radius(problem, shrink):
    # Certified tau_eps needs H(eps) non-decreasing in eps.
    net, x, eps = problem.net, problem.x, problem.eps
    assert local_hessian_bound(net, x, shrink * eps) <= local_hessian_bound(net, x, eps)


@pytest.mark.negative_control
def test_control_centre_hessian_is_exceeded_on_the_ball():
    def centre_only(problem):
        return float(np.linalg.norm(problem.net.hessian(problem.x), 2))

    cases = st.tuples(problems(ratio=log_uniform(1e-1, 10.0)), seeds())
    counterexample(cases, lambda c: check_hessian_bound(c[0], c[1], centre_only(c[0])) is None)


def third_derivative(net, z, u):
    r""":math:`\partial^3 f(z)[u, u, u] = \sum_r a_r\sigma^{(3)}(w_r^\top z)(w_r^\top u)^3`, σ⁽³⁾ = σ''(1 − 2σ')."""
    _, ds, d2s = activations(net.W @ z)
    return float(net.a @ (d2s * (1.0 - 2.0 * ds) * (net.W @ u) ** 3))


def check_third_derivative_bound(net, seed, bound):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(net.d) * 3.0
    # the direction of the largest unit, where the cube is largest
    r = int(np.argmax(np.abs(net.a) * vector_norm(net.W) ** 3))
    u = net.W[r] / vector_norm(net.W[r])
    observed = max(abs(third_derivative(net, z, u)),
                   abs(third_derivative(net, z, uniform_sphere(rng, 1, net.d, 1.0)[0])))
    target(observed / bound, label="|d3f[u,u,u]| / bound")
    assert observed <= bound


@given(networks(), seeds())
def test_third_derivative_bound_dominates_the_third_derivative(net, seed):
    check_third_derivative_bound(net, seed, third_derivative_bound(net))


def test_third_derivative_agrees_with_differences_of_the_hessian():
    # The closed form used above is the derivative of u^T d2f(z + t u) u at t = 0.
    from theory.network import draw_network

    net = draw_network(3, 5, seed=1)
    z, u, h = np.array([0.3, -0.2, 0.5]), np.array([0.6, 0.0, 0.8]), 1e-4
    fd = (u @ net.hessian(z + h * u) @ u - u @ net.hessian(z - h * u) @ u) / (2 * h)
    assert abs(fd - third_derivative(net, z, u)) <= 1e-6 * max(1.0, abs(fd))


@pytest.mark.negative_control
def test_control_tenth_of_third_derivative_bound_is_exceeded():
    cases = st.tuples(networks(m=widths(1, 4)), seeds())
    counterexample(cases, lambda c: check_third_derivative_bound(c[0], c[1], 0.1 * third_derivative_bound(c[0]))
                   is None)


def check_gradient_range(problem, seed, lower, upper):
    searched = min_gradient_norm(problem, seed=seed).delta
    z = problem.x + np.vstack([probe_points(problem, seed), searched])
    norms = vector_norm(problem.net.grad(z))
    err = vector_norm(evaluation_error_bounds(problem.net, z)[1])
    note(f"range [{lower:.6g}, {upper:.6g}], observed [{norms.min():.6g}, {norms.max():.6g}]")
    target(lower / max(float(norms.min()), 1e-300), label="B_l / min |df|")
    assert np.all(norms + err >= lower)
    assert np.all(norms - err <= upper)


@given(problems(ratio=log_uniform(1e-3, 10.0)), seeds())
def test_certified_gradient_range_contains_the_gradient_on_the_ball(problem, seed):
    lower, upper = gradient_norm_range(problem.net, problem.x, problem.eps)
    event(f"certified floor positive: {lower > 0}")
    check_gradient_range(problem, seed, lower, upper)


@pytest.mark.negative_control
def test_control_floor_without_curvature_is_wrong():
    def no_curvature(case):
        problem, seed = case
        g = float(vector_norm(problem.net.grad(problem.x)))
        check_gradient_range(problem, seed, g, np.inf)
        return True

    counterexample(st.tuples(problems(ratio=log_uniform(1e-2, 1.0)), seeds()), no_curvature, shrink=False)


# --- the uniqueness radius ----------------------------------------------------------


@given(problems(d=dims(2, 6), ratio=log_uniform(1e-2, 10.0)))
def test_certified_tau_eps_brackets_the_certificate(problem):
    # tau is the largest certified radius: certified just below, not just above.
    tau = certified_tau_eps(problem)
    event(f"tau_eps > 0: {tau > 0}")
    if tau == 0.0:
        return
    assert uniqueness_certificate(problem, tau).certified
    assert not uniqueness_certificate(problem, tau * 1.01).certified


@given(problems(d=dims(2, 6), ratio=log_uniform(1e-2, 10.0)), log_uniform(1e-3, 1.0))
def test_uniqueness_certificate_is_monotone_in_eps(problem, shrink):
    if uniqueness_certificate(problem).certified:
        assert uniqueness_certificate(problem, shrink * problem.eps).certified


def test_uniqueness_certificate_needs_a_non_vanishing_loss_derivative():
    # A quadratic label inside the range of f on the ball (assumption 3 fails): not certified.
    from theory.problem import make_problem

    p = make_problem(3, 20, seed=0, eps=0.05)
    inside = Problem(p.net, p.x, float(p.net.value(p.x)), p.eps)
    assert not uniqueness_certificate(inside).certified
    assert uniqueness_certificate(p).certified
