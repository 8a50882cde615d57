"""The network's derivatives agree with finite differences, and batched evaluation with pointwise.

Derivatives are checked as in JAX's ``check_grads``: along random directions, by
central differences (:mod:`theory.diffcheck`), with the tolerances of
:mod:`theory.tolerances`. The Hessian is checked both as a full matrix and
through Hessian-vector products, and the two must agree. Inputs are z = x + δ for
problems over the whole range of input scales (up to 10^3) and δ in the ball.
"""

import numpy as np
from hypothesis import event, given, target
from hypothesis import strategies as st

from checks.support import counterexample
from theory.diffcheck import gradient_agreement, hessian_agreement
from theory.network import TwoLayerNet, draw_network, sigmoid, softplus
from theory.strategies import dims, input_scales, perturbation_cases, problems, seeds, widths
from theory.bounds import evaluation_error_bounds, rounding_allowance
from theory.tolerances import UNIT_ROUNDOFF


def _to_network_inputs(case):
    problem, delta, u, v = case
    event(f"input scale ~ 1e{np.log10(np.linalg.norm(problem.x)):.0f}")
    return problem.net, problem.x + delta, u, v


def evaluation_points():
    """A network, points z = x + δ with δ in its ball, and unit directions u, v, each (n, d)."""
    return perturbation_cases(problems(loss="quadratic")).map(_to_network_inputs)


def check_gradient(net, z, v, grad=None):
    noise = evaluation_error_bounds(net, z)[0]
    agreement = gradient_agreement(net.value, grad or net.grad, z, v, noise=noise)
    target(agreement.worst, label="|error| / allowed")
    return agreement.ok


def check_hessian(net, z, u, v, hvp):
    noise = evaluation_error_bounds(net, z)[1]
    agreement = hessian_agreement(net.grad, hvp, z, u, v, noise=noise)
    target(agreement.worst, label="|error| / allowed")
    return agreement.ok


def full_hessian_product(net):
    return lambda z, v: np.einsum("...ij,...j->...i", net.hessian(z), v)


@given(evaluation_points())
def test_gradient_matches_finite_differences(case):
    net, z, _, v = case
    assert check_gradient(net, z, v)


def agree_to_rounding(x, y, bound):
    """Two computations of one quantity, each within ``bound`` of the exact value."""
    return bool(np.all(np.abs(x - y) <= 2.0 * bound))


@given(evaluation_points())
def test_value_and_grad_match_separate_calls(case):
    net, z, _, _ = case
    value, grad = net.value_and_grad(z)
    value_error, grad_error, _ = evaluation_error_bounds(net, z)
    assert agree_to_rounding(value, net.value(z), value_error)
    assert agree_to_rounding(grad, net.grad(z), grad_error)


@given(evaluation_points())
def test_hessian_matches_finite_differences(case):
    net, z, u, v = case
    assert check_hessian(net, z, u, v, full_hessian_product(net))


@given(evaluation_points())
def test_hvp_matches_finite_differences(case):
    net, z, u, v = case
    assert check_hessian(net, z, u, v, net.hvp)


@given(evaluation_points())
def test_hvp_equals_hessian_times_vector(case):
    net, z, _, v = case
    _, _, hessian_error = evaluation_error_bounds(net, z)
    # (H v)_i sums d products of entries of H with v: add the error of that sum.
    _, _, hessian_scale = net.term_magnitudes(z)
    bound = np.einsum("...ij,...j->...i", hessian_error, np.abs(v)) + rounding_allowance(
        net.d, np.einsum("...ij,...j->...i", hessian_scale, np.abs(v)))
    assert agree_to_rounding(net.hvp(z, v), full_hessian_product(net)(z, v), bound)


@given(evaluation_points())
def test_hessian_is_symmetric(case):
    net, z, _, _ = case
    hess = net.hessian(z)
    assert agree_to_rounding(hess, np.swapaxes(hess, -1, -2), evaluation_error_bounds(net, z)[2])


@given(dims(), widths(), seeds(), st.integers(1, 3), st.integers(1, 3))
def test_batched_evaluation_equals_pointwise(d, m, seed, b1, b2):
    net = draw_network(d, m, seed=seed)
    z = np.random.default_rng(seed).standard_normal((b1, b2, d))
    values, grads, hessians = net.value(z), net.grad(z), net.hessian(z)
    assert values.shape == (b1, b2) and grads.shape == (b1, b2, d) and hessians.shape == (b1, b2, d, d)
    pre = net.preactivations(z)
    assert pre.shape == (b1, b2, m)
    # w_r^T z, a sum of d products: each order of summation is within 2 d u sum|w_ri z_i| of another.
    assert np.all(np.abs(pre - np.einsum("rd,ijd->ijr", net.W, z))
                  <= 2 * d * UNIT_ROUNDOFF * np.einsum("rd,ijd->ijr", np.abs(net.W), np.abs(z)))
    value_error, grad_error, hessian_error = evaluation_error_bounds(net, z)
    for i in range(b1):
        for j in range(b2):
            assert agree_to_rounding(values[i, j], net.value(z[i, j]), value_error[i, j])
            assert agree_to_rounding(grads[i, j], net.grad(z[i, j]), grad_error[i, j])
            assert agree_to_rounding(hessians[i, j], net.hessian(z[i, j]), hessian_error[i, j])


@given(dims(), widths(), seeds(), input_scales(1e2, 1e3))
def test_network_is_finite_at_large_input_scale(d, m, seed, scale):
    net = draw_network(d, m, seed=seed)
    z = scale * np.random.default_rng(seed).standard_normal((3, d))
    for out in (net.value(z), net.grad(z), net.hessian(z), net.hvp(z, z)):
        assert np.all(np.isfinite(out))


@given(dims(), widths(), seeds())
def test_draw_follows_xavier_scales_and_is_reproducible(d, m, seed):
    net = draw_network(d, m, seed=seed)
    assert net.W.shape == (m, d) and net.a.shape == (m,)
    assert np.all(np.abs(net.a) == m ** -0.5)
    again = draw_network(d, m, seed=seed)
    assert np.array_equal(net.W, again.W) and np.array_equal(net.a, again.a)


# ---------------------------------------------------------------- negative controls
# Each injects a bug a maintainer could plausibly write and shows that the
# property above finds a counterexample.


class SoftplusInsteadOfSigmoid(TwoLayerNet):
    """Bug: uses sigma instead of sigma' in the gradient."""

    def grad(self, z):
        return (softplus(np.asarray(z) @ self.W.T) * self.a) @ self.W


class SigmoidInsteadOfSecondDerivative(TwoLayerNet):
    """Bug: uses sigma' instead of sigma'' in the Hessian-vector product."""

    def hvp(self, z, v):
        return (sigmoid(np.asarray(z) @ self.W.T) * self.a * (np.asarray(v) @ self.W.T)) @ self.W


def test_control_wrong_gradient_is_caught():
    def holds(case):
        net, z, _, v = case
        return check_gradient(SoftplusInsteadOfSigmoid(net.W, net.a), z, v)

    counterexample(evaluation_points(), holds)


def test_control_wrong_hvp_is_caught():
    def holds(case):
        net = SigmoidInsteadOfSecondDerivative(case[0].W, case[0].a)
        return check_hessian(net, case[1], case[2], case[3], net.hvp)

    counterexample(evaluation_points(), holds)
