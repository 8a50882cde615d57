"""The finite-difference checks' own noise model (:mod:`theory.testing.diffcheck`) is a bound, and its parts are scipy's.

* scipy's central formula is the stencil of :func:`theory.testing.tolerances.central_difference_stencil`:
  the weights scipy actually uses (read back from it) are the exact rational weights up to the
  rounding of a backward-stable 9 × 9 solve;
* the last stencil the noise model is evaluated on is the one scipy used for its last estimate:
  every node is a point scipy evaluated;
* the noise bound holds: for polynomials of degree 2 the formula has no truncation error, so
  the whole difference between scipy's estimate and the exact derivative (computed in rational
  arithmetic) is rounding, and it must lie within ``noise``. The points range from 1e-300 to
  1e100 in magnitude, with the polynomial's centre q close to z, where the rounding of z + t v
  dominates (the case of the quadratic loss at f = 1.5e-103 that the noise model once missed);
* with the derivative's scale given, a zero derivative stops at the first error estimate
  (without it, scipy's relative criterion cannot be met and the differences go on);
* Higham's γ_n, which the noise model uses, is n u/(1 − n u) exactly where n u is 1/4 or 1/2.

Controls: the model without the argument's rounding, and the former model (64 ulps of |F(z)|,
at the centre, divided by the last step), are exceeded; a stencil with step factor 3 is not
scipy's; an off-by-one in the last step puts the reconstructed nodes where scipy never evaluated;
the first-order term n u alone is not γ_n.
"""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import event, example, given, note, target
from hypothesis import strategies as st

from ..support import counterexample
from theory.testing import diffcheck
from theory.testing.diffcheck import (
    curve_derivative, gradient_agreement, scipy_stencil_weights, stencil_weight_rtol,
)
from theory.geometry import uniform_sphere
from theory.testing.strategies import seeds
from theory.testing.tolerances import (
    FD_INITIAL_STEP, FD_ORDER, FD_RTOL, FD_STEP_FACTOR, SUBNORMAL_SPACING, UNIT_ROUNDOFF, central_difference_stencil, higham_gamma, spectral_norm_rtol,
)


def weights_are_the_stencils(weights, stencil):
    """Scipy's float weights against exact ones, within the backward error of the Vandermonde solve."""
    nodes, exact = (np.array([float(x) for x in seq]) for seq in stencil)
    vandermonde = np.vander(nodes, increasing=True).T
    allowed = np.linalg.cond(vandermonde) * spectral_norm_rtol(nodes.size)
    return bool(np.all(np.abs(weights - exact) <= allowed * np.abs(exact)))


def test_scipys_weights_are_the_exact_stencil_up_to_the_rounding_of_its_solve():
    assert weights_are_the_stencils(scipy_stencil_weights(), central_difference_stencil())
    assert UNIT_ROUNDOFF <= stencil_weight_rtol() < 1e-13


def test_control_a_stencil_with_step_factor_three_is_not_scipys():
    assert not weights_are_the_stencils(scipy_stencil_weights(), central_difference_stencil(FD_ORDER, 3))


def test_highams_gamma_is_exact_where_n_u_is_a_power_of_two_and_above_the_first_order_term():
    # n u = 1/4 and 1/2 are exact: γ_n = (1/4)/(3/4) = 1/3 (rounded) and (1/2)/(1/2) = 1.
    assert higham_gamma(2 ** 51) == 1.0 / 3.0
    assert higham_gamma(2 ** 52) == 1.0
    assert UNIT_ROUNDOFF < higham_gamma(1) <= UNIT_ROUNDOFF * (1.0 + 2.0 * UNIT_ROUNDOFF)


@pytest.mark.negative_control
def test_control_the_first_order_term_alone_is_not_highams_gamma():
    assert 2 ** 51 * UNIT_ROUNDOFF != higham_gamma(2 ** 51)


@pytest.mark.parametrize("size", [1.0, 1e-200, 1e200])
def test_a_zero_derivative_with_its_scale_given_stops_at_the_first_error_estimate(size):
    # With a scale the differences stop once scipy's error estimate is within FD_RTOL/10 of it
    # (an absolute criterion); the first estimate comes with the second stencil, and for
    # size * cos(t) at 0 (derivative 0, truncation ~h^8, rounding ~u/h) it is far inside.
    # Without the scale scipy's relative criterion cannot be met by a zero derivative.
    difference = curve_derivative(lambda t, i: size * np.cos(t), 1, scale=[size])
    assert difference.step[0] == FD_INITIAL_STEP / FD_STEP_FACTOR
    assert difference.error_estimate[0] <= FD_RTOL / 10.0 * size
    assert curve_derivative(lambda t, i: size * np.cos(t), 1).step[0] < difference.step[0]


def last_stencil_was_evaluated(n, seed):
    """The nodes the noise model re-evaluates are points where scipy evaluated each curve."""
    rng = np.random.default_rng(seed)
    freq = rng.uniform(0.5, 20.0, n)
    calls = []

    def g(t, i):
        calls.append(np.broadcast_arrays(t, i))
        return np.sin(freq[i] * t)

    curve_derivative(g, n, scale=freq)
    # The model's calls come first (the centre, for the row's unit) and last (the last
    # stencil, after scipy returned); scipy's are those in between.
    seen = [set() for _ in range(n)]
    for t, i in calls[1:-1]:
        for row, value in zip(i.ravel(), t.ravel()):
            seen[row].add(float(value))
    last, rows = calls[-1]
    return all(set(map(float, last[rows == row])) <= seen[row] for row in range(n))


@given(st.integers(1, 5), seeds())
def test_the_noise_model_is_evaluated_at_scipys_last_stencil(n, seed):
    assert last_stencil_was_evaluated(n, seed)


def test_control_an_off_by_one_in_the_last_step_is_caught(monkeypatch):
    original = diffcheck.derivative

    def one_more_iteration(*args, **kwargs):  # injected bug: the step of one iteration further
        res = original(*args, **kwargs)
        res.nit = res.nit + 1
        return res

    monkeypatch.setattr(diffcheck, "derivative", one_more_iteration)
    counterexample(st.tuples(st.integers(1, 5), seeds()), lambda c: last_stencil_was_evaluated(*c))


def magnitudes(lo, hi):
    return st.builds(lambda s, e: s * 10.0 ** e, st.sampled_from([-1.0, 1.0]), st.floats(lo, hi))


@st.composite
def polynomial_cases(draw):
    """F(p) = Σ b_j (p_j − q_j) + c Σ (p_j − q_j)² at points z close to q, unit directions v.

    |q_j| from 1e-300 to 1e100 (and 0), z_j − q_j from 1e-300 up to max(|q_j|, 1) times 10,
    so that z is often far closer to the centre than the rounding of z + t v.
    """
    d = draw(st.integers(1, 4))
    n = draw(st.integers(1, 3))
    q = np.array([draw(st.just(0.0) | magnitudes(-300.0, 100.0)) for _ in range(d)])
    gap = np.array([[draw(magnitudes(-300.0, 1.0)) for _ in range(d)] for _ in range(n)])
    z = q + gap * np.maximum(np.abs(q), 1.0)
    b = np.array([draw(st.floats(-3.0, 3.0)) for _ in range(d)])
    c = draw(st.floats(-3.0, 3.0))
    v = uniform_sphere(draw(seeds()), n, d, 1.0)
    note(f"d={d} z={z.tolist()} q={q.tolist()} b={b.tolist()} c={c}")
    return z, v, q, b, c


def polynomial(q, b, c):
    """F, ∂F and a certified bound on the rounding of the computed F, for points p of shape (..., n, d).

    F sums 2d terms, each within 3u of its value after the rounding of p − q (u), the
    products (u, 2u) and the square; with the sum's γ_{2d}, γ_{2d+4} of twice the
    absolute terms covers them, and where terms are subnormal each of the 4d + 2
    roundings is off by half a spacing at most.
    """
    def fun(p):
        r = p - q
        return r @ b + c * np.einsum("...j,...j->...", r, r)

    def grad(p):
        return b + 2.0 * c * (p - q)

    def value_error(p):
        r = np.abs(p - q)
        return (2.0 * higham_gamma(2 * q.shape[-1] + 4) * (r @ np.abs(b) + abs(c) * np.einsum("...j,...j->...", r, r))
                + (4 * q.shape[-1] + 2) * SUBNORMAL_SPACING)

    return fun, grad, value_error


def exact_directional_derivative(z, v, q, b, c):
    """Σ b_j v_j + 2c Σ (z_j − q_j) v_j per row, in rational arithmetic, rounded once."""
    rows = []
    for zi, vi in zip(z, v):
        total = sum(Fraction(bj) * Fraction(vj) + 2 * Fraction(c) * (Fraction(zj) - Fraction(qj)) * Fraction(vj)
                    for bj, vj, zj, qj in zip(b, vi, zi, q))
        rows.append(total)
    return rows


def rounding_within(case, bound=None):
    """|scipy's estimate − exact derivative| <= the noise bound (degree 2: no truncation error).

    ``bound(agreement, z, v, fun)`` replaces the noise bound (controls).
    """
    z, v, q, b, c = case
    fun, grad, value_error = polynomial(q, b, c)
    result = gradient_agreement(fun, grad, z, v, value_error=value_error)
    allowed = result.noise if bound is None else bound(result, z, v, fun)
    exact = exact_directional_derivative(z, v, q, b, c)
    errors = [abs(Fraction(float(num)) - ex) for num, ex in zip(result.numeric, exact)]
    margins = [float(e / Fraction(float(a))) if a > 0 else (0.0 if e == 0 else np.inf)
               for e, a in zip(errors, allowed)]
    target(min(max(margins), 1e300), label="|fd - exact| / noise")
    event("noise above FD_RTOL" if np.any(result.resolution > 1.0) else "noise below FD_RTOL")
    return all(m <= 1.0 for m in margins)


@example((np.array([[1.51146254e-103]]), np.array([[1.0]]), np.array([0.0]), np.array([0.0]), -1.0))
@example((np.array([[1e3]]), np.array([[1.0]]), np.array([1e3 + 1e-9]), np.array([1.0]), 0.0))
@example((np.array([[1e100, -1e-300]]), np.array([[0.6, 0.8]]), np.array([1e100, 0.0]), np.array([1.0, -1.0]), 1.0))
# Found by the derandomized ci profile: a vast noise bound over a tiny scale, whose
# resolution overflowed (a warning, hence an error) before it was defined as +inf.
@example((np.array([[-1e16]]), np.array([[1.0]]), np.array([-1e16]), np.array([0.0]), 1.0))
@given(polynomial_cases())
def test_the_noise_bound_holds_where_the_formula_is_exact(case):
    assert rounding_within(case)


def test_control_the_noise_bound_without_the_arguments_rounding_is_exceeded(monkeypatch):
    monkeypatch.setattr(diffcheck, "FD_ARGUMENT_FACTOR", 0.0)   # injected bug: argument rounding dropped
    counterexample(polynomial_cases(), rounding_within, shrink=False)


def test_control_the_former_centre_value_noise_model_is_exceeded():
    def centre_value(result, z, v, fun):  # injected bug: 64 ulps of |F(z)|, at the centre, over the last step
        return 64.0 * UNIT_ROUNDOFF * np.abs(fun(z)) / result.step
    counterexample(polynomial_cases(), lambda c: rounding_within(c, bound=centre_value), shrink=False)
