"""Softplus and its derivatives: stable for arguments of any size, equal to scipy/numpy references.

The network's activations are computed from one ``exp(-|t|)`` pass
(:func:`theory.network.activations`). Independent references: ``np.logaddexp(0, t)``
for softplus, :func:`scipy.special.expit` for the sigmoid and
``expit(t) * expit(-t)`` for the second derivative.
"""

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st
from scipy.special import expit

from .support import counterexample
from theory.network import activations, sigmoid, softplus
from theory.tolerances import IDENTITY_RTOL

# Every finite double, including the extremes (far beyond input scale 10^3).
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
float_arrays = st.lists(finite_floats, min_size=1, max_size=16).map(np.array)


def agree(ours, reference):
    """Relative agreement; both sides are accurate to a few ulp."""
    return np.allclose(ours, reference, rtol=IDENTITY_RTOL, atol=0.0)


@given(float_arrays)
@example(np.array([0.0, -0.0, 1e3, -1e3, 1e308, -1e308, 5e-324, 710.0, -745.0]))
def test_activations_are_finite_for_any_finite_argument(t):
    for value in activations(t):
        assert np.all(np.isfinite(value))


@given(float_arrays)
@example(np.array([1e3, -1e3, 36.0, -36.0, 1e-20]))
def test_softplus_equals_logaddexp(t):
    assert agree(softplus(t), np.logaddexp(0.0, t))
    assert agree(activations(t)[0], softplus(t))


@given(float_arrays)
@example(np.array([1e3, -1e3, 0.0]))
def test_sigmoid_equals_scipy_expit(t):
    assert agree(sigmoid(t), expit(t))
    assert agree(activations(t)[1], expit(t))


@given(float_arrays)
@example(np.array([1e3, -1e3, 0.0, 40.0]))
def test_second_derivative_equals_expit_product(t):
    assert agree(activations(t)[2], expit(t) * expit(-t))


@given(float_arrays)
def test_softplus_derivatives_are_in_their_ranges(t):
    _, ds, d2s = activations(t)
    assert np.all((ds >= 0.0) & (ds <= 1.0))
    assert np.all((d2s >= 0.0) & (d2s <= 0.25))


def naive_softplus(t):
    with np.errstate(over="ignore"):
        return np.log(1.0 + np.exp(t))


def test_control_naive_softplus_overflows_at_large_inputs():
    """Negative control: the textbook formula log(1 + e^t) is caught by the finiteness property."""
    t = counterexample(st.floats(0.0, 1e3), lambda t: np.isfinite(naive_softplus(np.array([t])))[0])
    assert t > 700.0  # exp overflows beyond log(DBL_MAX) ≈ 709.8


def test_control_sigmoid_without_sign_split_is_caught():
    """Negative control: 1/(1+exp(-t)) evaluated as exp(t)/(1+exp(t)) gives NaN for large t."""

    def bad_sigmoid(t):
        with np.errstate(over="ignore", invalid="ignore"):
            return np.exp(t) / (1.0 + np.exp(t))

    t = counterexample(st.floats(0.0, 1e3), lambda t: agree(bad_sigmoid(np.array([t])), expit(t)))
    assert t > 700.0


def test_control_unclamped_second_derivative_exceeds_its_bound():
    """Negative control (and a recorded finding): e/(1+e)^2 without the clamp rounds above 1/4 near 0.

    Hypothesis found t = 1e-12 when this property was first written; the clamp in
    :func:`theory.network.activations` keeps the certified bound sigma'' <= 1/4 true
    for computed values.
    """

    def unclamped(t):
        e = np.exp(-abs(t))
        return e / ((1.0 + e) * (1.0 + e))

    t = counterexample(st.floats(-1e-6, 1e-6), lambda t: unclamped(t) <= 0.25)
    assert unclamped(t) > 0.25
