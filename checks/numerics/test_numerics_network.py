"""The network's derivatives agree with finite differences, and batched evaluation with pointwise.

Derivatives are checked as in JAX's ``check_grads``: along random directions, by
central differences (:mod:`theory.testing.diffcheck`), with the tolerances of
:mod:`theory.testing.tolerances`. The Hessian is checked both as a full matrix and
through Hessian-vector products, and the two must agree. Inputs are z = x + δ for
problems over the whole range of input scales (up to 10^3) and δ in the ball.

The searches' one-point derivatives (:mod:`theory.landscape.worst_case`) equal grad and hvp bit for
bit, and the gradient-norm search's objective is ½‖∂f‖² with the gradient ∂²f ∂f. Controls: a
σ' in place of σ'' in the Hessian-vector product, and an objective tripled without its gradient.
"""

import numpy as np
import pytest
from hypothesis import event, example, given, target
from hypothesis import strategies as st

from ..support import counterexample, with_examples
from theory.testing.diffcheck import gradient_agreement, hessian_agreement
from theory.network import TwoLayerNet, activations, draw_network, sigmoid, softplus
from theory.testing.strategies import (
    dims, input_scales, perturbation_cases, pinned_perturbation_cases, problems, seeds, widths,
)
from theory.bounds import evaluation_error_bounds, rounding_allowance
from theory.geometry import vector_norm
from theory.testing.tolerances import FEW_OPS_RTOL, SUBNORMAL_ATOL, summation_rtol


def _to_network_inputs(case):
    problem, delta, u, v = case
    event(f"input scale ~ 1e{np.log10(np.linalg.norm(problem.x)):.0f}")
    return problem.net, problem.x + delta, u, v


#: (net, z, u, v) at the extremes: ‖x‖ = 1e-6, 1e3, and units at ±730 with subnormal σ', σ''.
PINNED = [(problem.net, problem.x + delta, u, v) for problem, delta, u, v in pinned_perturbation_cases(("quadratic",))]


def evaluation_points():
    """A network, points z = x + δ with δ in its ball, and unit directions u, v, each (n, d)."""
    return perturbation_cases(problems(loss="quadratic")).map(_to_network_inputs)


def value_error(net):
    return lambda p: evaluation_error_bounds(net, p)[0]


def grad_error(net):
    return lambda p: evaluation_error_bounds(net, p)[1]


def hvp_error(net):
    """The Hessian's bound contracted with |v|: it covers the Hessian-vector product's inner sums too."""
    return lambda p, v: np.einsum("...ij,...j->...i", evaluation_error_bounds(net, p)[2], np.abs(v))


def check_gradient(net, z, v, grad=None):
    agreement = gradient_agreement(net.value, grad or net.grad, z, v, value_error=value_error(net),
                                   grad_error=grad_error(net))
    target(agreement.worst, label="|error| / allowed")
    return agreement.ok


def check_hessian(net, z, u, v, hvp):
    agreement = hessian_agreement(net.grad, hvp, z, u, v, grad_error=grad_error(net), hvp_error=hvp_error(net))
    target(agreement.worst, label="|error| / allowed")
    return agreement.ok


def full_hessian_product(net):
    return lambda z, v: np.einsum("...ij,...j->...i", net.hessian(z), v)


@with_examples(PINNED)
@given(evaluation_points())
def test_gradient_matches_finite_differences(case):
    net, z, _, v = case
    assert check_gradient(net, z, v)


def agree_to_rounding(x, y, bound):
    """Two computations of one quantity, each within ``bound`` of the exact value."""
    return bool(np.all(np.abs(x - y) <= 2.0 * bound))


@with_examples(PINNED)
@given(evaluation_points())
def test_value_and_grad_match_separate_calls(case):
    net, z, _, _ = case
    value, grad = net.value_and_grad(z)
    value_error, grad_error, _ = evaluation_error_bounds(net, z)
    assert agree_to_rounding(value, net.value(z), value_error)
    assert agree_to_rounding(grad, net.grad(z), grad_error)


@with_examples(PINNED)
@given(evaluation_points())
def test_hessian_matches_finite_differences(case):
    net, z, u, v = case
    assert check_hessian(net, z, u, v, full_hessian_product(net))


@with_examples(PINNED)
@given(evaluation_points())
def test_hvp_matches_finite_differences(case):
    net, z, u, v = case
    assert check_hessian(net, z, u, v, net.hvp)


@with_examples(PINNED)
@given(evaluation_points())
def test_hvp_equals_hessian_times_vector(case):
    net, z, _, v = case
    _, _, hessian_error = evaluation_error_bounds(net, z)
    # (H v)_i sums d products of entries of H with v: add the error of that sum.
    _, _, hessian_scale = net.term_magnitudes(z)
    bound = np.einsum("...ij,...j->...i", hessian_error, np.abs(v)) + rounding_allowance(
        net.d, np.einsum("...ij,...j->...i", hessian_scale, np.abs(v)))
    assert agree_to_rounding(net.hvp(z, v), full_hessian_product(net)(z, v), bound)


@with_examples(PINNED)
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
                  <= summation_rtol(d) * np.einsum("rd,ijd->ijr", np.abs(net.W), np.abs(z)))
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


def follows_the_paper_scales(draw, d, m, seed):
    """The default draw is the paper's (section 2): κ = d^-1/2 and γ = m^-1/2, i.e. the same arrays, bit for
    bit, as the draw with those scales given explicitly; |a_r| = γ; and the same seed gives the same net."""
    net = draw(d, m, seed=seed)
    explicit = draw_network(d, m, seed=seed, kappa=d ** -0.5, gamma=m ** -0.5)
    again = draw(d, m, seed=seed)
    return (net.W.shape == (m, d) and net.a.shape == (m,) and bool(np.all(np.abs(net.a) == m ** -0.5))
            and np.array_equal(net.W, explicit.W) and np.array_equal(net.a, explicit.a)
            and np.array_equal(net.W, again.W) and np.array_equal(net.a, again.a))


@given(dims(), widths(), seeds())
def test_draw_follows_xavier_scales_and_is_reproducible(d, m, seed):
    assert follows_the_paper_scales(draw_network, d, m, seed)


@pytest.mark.negative_control
def test_control_a_draw_with_kappa_the_square_root_of_d_is_caught():
    def root_d(d, m, *, seed):  # injected bug: κ = d^{+1/2} (the variance d instead of 1/d)
        return draw_network(d, m, seed=seed, kappa=d ** 0.5)
    counterexample(st.tuples(dims(), widths(), seeds()), lambda c: follows_the_paper_scales(root_d, *c))


def is_an_immutable_copy(make, seed, d, m):
    """A net built from lists or from arrays holds read-only float64 copies: the caller's arrays stay
    independent of it, and writing into net.W or net.a raises."""
    rng = np.random.default_rng(seed)
    W, a = rng.standard_normal((m, d)), rng.standard_normal(m)
    from_lists, net = make(W.tolist(), a.tolist()), make(W, a)
    w00, a0 = W[0, 0], a[0]
    W[0, 0], a[0] = w00 + 1.0, a0 + 1.0
    for held in (from_lists.W, from_lists.a, net.W, net.a):
        if not isinstance(held, np.ndarray) or held.dtype != np.float64 or held.flags.writeable:
            return False
    return net.W[0, 0] == w00 and net.a[0] == a0


@given(seeds(), dims(), widths())
def test_a_network_holds_read_only_copies_of_its_weights(seed, d, m):
    assert is_an_immutable_copy(TwoLayerNet, seed, d, m)


@pytest.mark.negative_control
def test_control_a_network_that_shares_the_callers_arrays_is_caught():
    class Sharing:  # injected bug: keeps what it is given (no conversion, no copy, writeable)
        def __init__(self, W, a):
            self.W, self.a = W, a
    counterexample(st.tuples(seeds(), dims(), widths()), lambda c: is_an_immutable_copy(Sharing, *c))


def term_sums(net, z):
    """The three sums of absolute terms, one term at a time: |a_r σ(t_r)|, |a_r σ'(t_r) w_r| and
    |a_r σ''(t_r) w_r w_rᵀ| summed over r (t_r = w_rᵀz); z of shape (d,)."""
    sig, dsig, d2sig = activations(net.W @ z)
    value = sum(abs(net.a[r] * sig[r]) for r in range(net.m))
    grad = sum(np.abs(net.a[r] * dsig[r] * net.W[r]) for r in range(net.m))
    hessian = sum(np.abs(net.a[r] * d2sig[r] * np.outer(net.W[r], net.W[r])) for r in range(net.m))
    return value, grad, hessian


def magnitudes_are_the_sums_of_absolute_terms(magnitudes, net, z):
    """Both computations sum the same non-negative terms in different orders, so they agree to twice a
    sum's rounding allowance (theory.bounds.rounding_allowance); the terms' own few roundings fit in it.
    Below the normal range a rounding is absolute, not relative: each of the m terms (σ'' ~ e^{-700}
    at |t| ~ 700) may differ by SUBNORMAL_ATOL (a handful of products, one spacing each)."""
    return all(np.all(np.abs(got - want) <= 2.0 * rounding_allowance(net.m, want) + net.m * SUBNORMAL_ATOL)
               for got, want in zip(magnitudes(net, z), term_sums(net, z)))


@example(d=1, m=1, seed=304, scale=392.13735578026905)  # sigma''(-718): subnormal terms differ by one spacing
@given(dims(), widths(), seeds(), input_scales(1e-2, 1e3))
def test_term_magnitudes_are_the_sums_of_the_absolute_terms(d, m, seed, scale):
    net = draw_network(d, m, seed=seed, gamma=float(np.random.default_rng(seed).uniform(0.1, 10.0)))
    z = scale * np.random.default_rng(seed + 1).standard_normal(d)
    assert magnitudes_are_the_sums_of_absolute_terms(lambda n, p: n.term_magnitudes(p), net, z)


@pytest.mark.negative_control
def test_control_magnitudes_divided_by_the_output_weights_are_caught():
    def over_a(net, z):  # injected bug: |σ'| / |a| in the gradient's sum (the mutant "/ abs_a")
        value, grad, hessian = net.term_magnitudes(z)
        return value, (activations(net.W @ z)[1] / np.abs(net.a)) @ np.abs(net.W), hessian
    counterexample(st.tuples(dims(), widths(), seeds()),
                   lambda c: magnitudes_are_the_sums_of_absolute_terms(
                       over_a, draw_network(c[0], c[1], seed=c[2], gamma=3.0), np.ones(c[0])))


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


def point_derivatives_agree(net, z, v, point_class=None):
    """The searches' one-point ∂f and ∂²f v (:mod:`theory.landscape.worst_case`) equal grad and hvp bit for bit."""
    from theory.landscape.worst_case import _PointDerivatives

    point = (point_class or _PointDerivatives)(net, np.zeros(net.d))
    for zi, vi in zip(z, v):
        grad, c = point.at(zi)
        if not (np.array_equal(grad, net.grad(zi)) and np.array_equal(point.hvp(c, vi), net.hvp(zi, vi))):
            return False
    return True


@with_examples(PINNED)
@given(evaluation_points())
def test_the_searches_point_derivatives_equal_grad_and_hvp_bit_for_bit(case):
    net, z, _, v = case
    assert point_derivatives_agree(net, z, v)


def search_objective_is_half_the_squared_gradient_norm(net, z, objective=None):
    """:func:`min_gradient_norm`'s objective at each z: ½‖∂f(z)‖² (to FEW_OPS_RTOL) with gradient ∂²f ∂f (bit for bit)."""
    from theory.landscape.worst_case import _PointDerivatives, _half_squared_gradient_norm

    point = _PointDerivatives(net, np.zeros(net.d))
    for zi in z:
        value, slope = (objective or _half_squared_gradient_norm)(point, zi)
        grad = net.grad(zi)
        half = 0.5 * float(vector_norm(grad)) ** 2
        if not (abs(value - half) <= FEW_OPS_RTOL * half + SUBNORMAL_ATOL and np.array_equal(slope, net.hvp(zi, grad))):
            return False
    return True


@with_examples(PINNED)
@given(evaluation_points())
def test_the_gradient_norm_search_minimises_half_the_squared_norm_with_its_gradient(case):
    assert search_objective_is_half_the_squared_gradient_norm(case[0], case[1])


@pytest.mark.negative_control
def test_control_an_objective_whose_value_is_three_times_its_gradients_is_caught():
    from theory.landscape.worst_case import _half_squared_gradient_norm

    def tripled(point, delta):  # injected bug: the value scaled, its gradient not
        value, slope = _half_squared_gradient_norm(point, delta)
        return 3.0 * value, slope

    counterexample(evaluation_points(), lambda c: search_objective_is_half_the_squared_gradient_norm(c[0], c[1], tripled))


def _first_derivative_for_the_second():
    """Injected bug: the Hessian-vector product weighted by a σ' instead of a σ''."""
    from theory.landscape.worst_case import _PointDerivatives

    class Wrong(_PointDerivatives):
        def at(self, delta):
            grad, _ = super().at(delta)
            return grad, sigmoid((self.x + delta) @ self.WT) * self.a
    return Wrong


@pytest.mark.negative_control
def test_control_point_derivatives_with_sigma_prime_in_the_hvp_are_caught():
    wrong = _first_derivative_for_the_second()
    counterexample(evaluation_points(), lambda c: point_derivatives_agree(c[0], c[1], c[3], wrong))
