"""Losses in f: derivatives against finite differences, rounding bounds, exact ranges.

For each loss (quadratic and cross-entropy, minimisation form) the scalar
derivatives ∂L/∂f and ∂²L/∂f² are checked against finite differences (the control
flips the sign of ∂L/∂f), and the rounding bounds ``value_error``, ``dvalue_error``
and ``d2value_error`` against a 60-digit evaluation; cross-entropy's derivatives
are section 5.2's formulas, and ``adversarial_value`` is ℓ = −L. Section 5.2's chain
rule, the problem's derivatives in δ, is checked in the sibling module
``test_numerics_losses_chain_rule.py``.

``Loss.value_and_dvalue`` (PGD's hot path, one exp for cross-entropy) equals the
separate ``value`` and ``dvalue`` bit for bit; its control is a fused value
written as y f − softplus(f), equal in exact arithmetic only.

The range bounds used by the certificates are exact: ``dvalue_abs_range`` is the
range of |∂L/∂f| over [f_lo, f_hi] (both losses are monotone in f: the range is
set by the endpoints, or reaches 0 where the label's zero lies inside), and
``curvature_bounds`` bounds |∂²L/∂f²| and |∂³L/∂f³| on a dense grid of the interval
and is sharp for the second derivative (its sup is at 0 or the endpoint nearest
0, both on the grid); the third-derivative bound is the global sup of |∂³L/∂f³|
(0 for the quadratic loss, found by a scalar search for cross-entropy). Controls:
a curvature bound taken at the far endpoint, a third bound of 1 for the quadratic
loss, and a range that forgets the zero of ∂L/∂f.

``shifted_exp_rtol``, the rounding allowance of e^{fl(a − b)} that the multi-class
cross-entropy of the real-data CNN inherits, holds against a 60-digit evaluation and is
attained within a factor 4 at large shifts; its control is the allowance of exp alone
(4 ulps, without the shift's rounding), which fails.
"""

from decimal import Decimal, localcontext

import numpy as np
import pytest
from hypothesis import event, example, given, target
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar
from scipy.special import expit, logit

from ..support import counterexample, with_examples
from theory.testing.diffcheck import first_steps, gradient_agreement
from theory.losses import CURVATURE_ROUNDING, LOSSES, CrossEntropyLoss, QuadraticLoss, get_loss
from theory.testing.tolerances import ELEMENTARY_ULPS, FEW_OPS_RTOL, IDENTITY_RTOL, UNIT_ROUNDOFF, shifted_exp_rtol

#: Magnitudes of f pinned in every scalar-derivative check: 0, the smallest subnormal,
#: the smallest normal, the quadratic case whose rounding of f ± h the finite
#: differences once missed (1.51146254e-103 at y = 0), and up to 1e300 (where the
#: quadratic value overflows; see :func:`first_derivative_agrees`).
EXTREME_LOGITS = (0.0, 5e-324, 2.2250738585072014e-308, 4.383734517331176e-243, 1.51146254e-103, 1e-8,
                  1.0, 16.0, 1e8, 1e150, 1e300)


def pinned_scalar_cases():
    """(loss, y, f) at every extreme magnitude, both signs, labels 0, 1/2, 1 and the pinned y = 4.38e-243.

    And the quadratic loss at y = f, where ∂L/∂f = 0 and the rounding lives on the
    stencil around f, not at f (found by the thorough profile at y = f = 1e6).
    """
    for name, ys in (("quadratic", (0.0, 0.5, 4.383734517331176e-243)), ("cross_entropy", (0.0, 0.5, 1.0))):
        for y in ys:
            for f in EXTREME_LOGITS:
                for sign in (1.0, -1.0):
                    yield get_loss(name), y, np.array([sign * f])
    for f in EXTREME_LOGITS + (1e6,):
        yield get_loss("quadratic"), f, np.array([f])


def magnitudes(lo, hi):
    """Signed floats log-uniform in magnitude on [10^lo, 10^hi], and 0."""
    return st.just(0.0) | st.builds(lambda s, e: s * 10.0 ** e, st.sampled_from([-1.0, 1.0]), st.floats(lo, hi))


logits = st.floats(-50.0, 50.0) | magnitudes(-323.0, 300.0)
labels = {"quadratic": st.floats(-10.0, 10.0) | magnitudes(-300.0, 300.0), "cross_entropy": st.floats(0.0, 1.0)}


@st.composite
def loss_points(draw):
    name = draw(st.sampled_from(sorted(labels)))
    loss = get_loss(name)
    y = draw(labels[name])
    f = np.array(draw(st.lists(logits, min_size=1, max_size=6)))
    return loss, y, f


def scalar_agreement(value, dvalue, value_error, dvalue_error, f):
    """``dvalue`` against finite differences of ``value`` at the points f (shape (n,)), as a 1-d gradient check.

    The rounding bounds are the loss's own (:meth:`theory.losses.Loss.value_error`,
    ...): :func:`theory.testing.diffcheck.gradient_agreement` adds the rounding of f + t.
    """
    def first(fun):
        return lambda p: fun(p[..., 0])

    return gradient_agreement(first(value), lambda p: dvalue(p[..., 0])[..., None], f[:, None],
                              np.ones((f.size, 1)), value_error=first(value_error),
                              grad_error=lambda p: dvalue_error(p[..., 0])[..., None])


def stencil_overflows(loss, y, f):
    """Where the quadratic value -(y - f)^2 leaves the float range within the first stencil around f."""
    if loss.name != "quadratic":
        return np.zeros(f.shape, dtype=bool)
    reach = np.abs(y - f) + first_steps(f[:, None], np.ones((f.size, 1)))
    return reach >= np.sqrt(np.finfo(np.float64).max)


def first_derivative_agrees(loss, y, f):
    """∂L/∂f against finite differences of L in f.

    Where the quadratic value -(y - f)² leaves the float range on the stencil around f
    (|y - f| plus the step above about 1.3e154; at |f| ~ 1e300 any step that the floats
    around f resolve is that large), L cannot be differenced; there the value and
    ∂L/∂f are checked against a 60-digit evaluation instead
    (:func:`rounding_bound_holds`, overflow to -inf included).
    """
    over = stencil_overflows(loss, y, f)
    if np.any(over):
        event("quadratic value overflows on the stencil")
    f = f[~over]
    if f.size == 0:
        return True
    agreement = scalar_agreement(lambda p: loss.value(y, p), lambda p: loss.dvalue(y, p),
                                 lambda p: loss.value_error(y, p), lambda p: loss.dvalue_error(y, p), f)
    target(agreement.worst, label="|error| / allowed")
    return agreement.ok


def second_derivative_agrees(loss, y, f):
    """∂²L/∂f² against finite differences of ∂L/∂f."""
    agreement = scalar_agreement(lambda p: loss.dvalue(y, p), lambda p: loss.d2value(y, p),
                                 lambda p: loss.dvalue_error(y, p), lambda p: loss.d2value_error(y, p), f)
    target(agreement.worst, label="|error| / allowed")
    return agreement.ok


@with_examples(pinned_scalar_cases())
@given(loss_points())
def test_loss_first_derivative_matches_finite_differences(case):
    assert first_derivative_agrees(*case)


@with_examples(pinned_scalar_cases())
@given(loss_points())
def test_loss_second_derivative_matches_finite_differences(case):
    assert second_derivative_agrees(*case)


# --- the losses' rounding bounds ---------------------------------------------------------------

REFERENCE_DIGITS = 60
#: Relative accuracy of the 60-digit reference: a few roundings at 60 digits, far
#: inside 1e-55, and 1e-55 is 39 orders below the float64 rounding being bounded.
REFERENCE_RTOL = Decimal("1e-55")


def _dec_log1p(x):
    # ln(1 + x) at 60 digits loses x below 1e-60; the series is exact to 60 digits there.
    return x - x * x / 2 if x < Decimal("1e-30") else (1 + x).ln()


def _dec_terms(t):
    """(softplus, sigmoid, softplus'') of a Decimal t, with e = exp(-|t|) as in theory.network."""
    e = (-abs(t)).exp()
    return max(t, Decimal(0)) + _dec_log1p(e), (1 if t >= 0 else e) / (1 + e), e / ((1 + e) * (1 + e))


def exact_loss(loss, y, f):
    """L, ∂L/∂f, ∂²L/∂f² at the floats y, f, evaluated in 60-digit decimal arithmetic (Decimal)."""
    with localcontext() as ctx:
        ctx.prec = REFERENCE_DIGITS
        Y, F = Decimal(y), Decimal(f)
        if loss.name == "quadratic":
            r = Y - F
            return -r * r, 2 * r, Decimal(-2)
        sp_minus, s_minus, _ = _dec_terms(-F)
        sp_plus, s_plus, s2 = _dec_terms(F)
        return -(Y * sp_minus + (1 - Y) * sp_plus), Y * s_minus - (1 - Y) * s_plus, -s2


def rounding_bound_margins(loss, y, f, bounds=None):
    """|computed − exact| / bound for L, ∂L/∂f and ∂²L/∂f² at each f (an overflow: 0 if right, else inf).

    ``bounds`` replaces the three bound methods (controls).
    """
    bounds = bounds or (loss.value_error, loss.dvalue_error, loss.d2value_error)
    with np.errstate(over="ignore"):
        computed = (loss.value(y, f), loss.dvalue(y, f), loss.d2value(y, f))
    margins = []
    for j, fj in enumerate(f):
        exact = exact_loss(loss, y, float(fj))
        for k in range(3):
            value = float(computed[k][j])
            if not np.isfinite(value):  # right only as the overflow of a value beyond the float range
                margins.append(0.0 if value == -np.inf and exact[k] < -Decimal(np.finfo(float).max) else np.inf)
                continue
            bound = float(bounds[k](y, fj))
            with localcontext() as ctx:
                ctx.prec = REFERENCE_DIGITS
                # The reference itself is rounded to 60 digits: discount that much.
                error = max(abs(Decimal(value) - exact[k]) - abs(exact[k]) * REFERENCE_RTOL, Decimal(0))
            margins.append(float(error) / bound if bound > 0.0 else (0.0 if error == 0 else np.inf))
    return margins


def rounding_bound_holds(loss, y, f, bounds=None):
    margins = rounding_bound_margins(loss, y, f, bounds)
    if margins:
        target(min(max(margins), 1e300), label="|computed - exact| / bound")
    return all(m <= 1.0 for m in margins)


@st.composite
def near_the_zero_of_the_derivative(draw):
    """Cross-entropy at f within a few ulps of logit(y), 0 < y < 1: ∂L/∂f = y − s(f) cancels to ~1e-17."""
    y = draw(st.floats(0.01, 0.99))
    f = float(logit(y)) * (1.0 + draw(st.integers(-8, 8)) * UNIT_ROUNDOFF)
    return get_loss("cross_entropy"), y, np.array([f])


@with_examples(pinned_scalar_cases())
@example((CrossEntropyLoss(), 0.3, np.array([float(logit(0.3))])))
@given(loss_points() | near_the_zero_of_the_derivative())
def test_loss_rounding_bounds_hold_against_a_60_digit_evaluation(case):
    """value_error, dvalue_error and d2value_error bound the rounding of L, ∂L/∂f and ∂²L/∂f²."""
    assert rounding_bound_holds(*case)


def test_control_a_relative_bound_on_the_cross_entropy_derivative_is_exceeded_where_it_cancels():
    # Injected bug: 4u|∂L/∂f| (relative to the result) where the error is relative to
    # the sum of the two terms y s(-f) and (1 - y) s(f).
    def relative(loss):
        return (loss.value_error, lambda y, f: 4.0 * UNIT_ROUNDOFF * np.abs(loss.dvalue(y, f)), loss.d2value_error)
    counterexample(near_the_zero_of_the_derivative(), lambda c: rounding_bound_holds(*c, bounds=relative(c[0])))


def test_control_the_rounding_bounds_of_a_correctly_rounded_operation_are_exceeded():
    # Injected bug: bounds of a quarter ulp of the result (below the error of one rounding).
    counterexample(loss_points(), lambda c: rounding_bound_holds(*c, bounds=(
        lambda y, f: 0.25 * UNIT_ROUNDOFF * abs(float(c[0].value(y, f))),
        lambda y, f: 0.25 * UNIT_ROUNDOFF * abs(float(c[0].dvalue(y, f))),
        lambda y, f: 0.25 * UNIT_ROUNDOFF * abs(float(c[0].d2value(y, f))))))


@given(st.floats(0.0, 1.0), st.floats(-1e3, 1e3))
def test_cross_entropy_matches_the_papers_formulas(y, f):
    """Section 5.2: dℓ/df = e^f/(1+e^f) − y and d²ℓ/df² = e^f/(1+e^f)² for ℓ = −L."""
    loss = CrossEntropyLoss()
    s = expit(f)
    assert np.isclose(-loss.dvalue(y, f), s - y, rtol=IDENTITY_RTOL, atol=IDENTITY_RTOL)
    # expit underflows to 0 below the normal range, where ours stays subnormal-accurate:
    # there precision is absolute, hence atol = smallest normal number.
    assert np.isclose(-loss.d2value(y, f), s * expit(-f), rtol=IDENTITY_RTOL, atol=np.finfo(float).tiny)
    assert np.isfinite(loss.value(y, f))


@st.composite
def wide_loss_points(draw):
    """As :func:`loss_points`, with logits up to 1e3 (the input scales of section 5.1) and signed zeros."""
    name = draw(st.sampled_from(sorted(labels)))
    f = draw(st.lists(st.floats(-1e3, 1e3) | st.sampled_from([0.0, -0.0]), min_size=1, max_size=6))
    return get_loss(name), draw(labels[name]), np.array(f)


def fused_loss_agrees(case):
    loss, y, f = case
    with np.errstate(over="ignore"):  # the quadratic value overflows to -inf beyond |y - f| ~ 1.3e154
        value, dvalue = loss.value_and_dvalue(y, f)
        return bool(np.array_equal(value, loss.value(y, f)) and np.array_equal(dvalue, loss.dvalue(y, f)))


@example(case=(get_loss("cross_entropy"), 1.0, np.array([-0.0, 0.0, 745.0, -745.0])))
@given(wide_loss_points())
def testvalue_and_dvalue_equal_the_separate_calls_bit_for_bit(case):
    # PGD's kernel takes both from one call (one exp for cross-entropy); the
    # trajectories must not depend on that.
    assert fused_loss_agrees(case)


class _AlgebraicCrossEntropy(CrossEntropyLoss):
    """Injected bug: value = y f - softplus(f), equal in exact arithmetic, not in rounding.

    It overrides ``value_and_dvalue_unchecked``, the implementation PGD's kernel calls.
    """

    def value_and_dvalue_unchecked(self, y, f):
        return y * f - (np.maximum(f, 0.0) + np.log1p(np.exp(-np.abs(f)))), self._dvalue(y, f)


def test_control_a_fused_loss_that_differs_in_rounding_is_caught():
    counterexample(wide_loss_points().map(lambda c: (_AlgebraicCrossEntropy(), min(max(c[1], 0.0), 1.0), c[2])),
                   fused_loss_agrees)


def test_control_wrong_loss_derivative_is_caught():
    class WrongSign(QuadraticLoss):
        def dvalue(self, y, f):
            return -super().dvalue(y, f)

    def holds(case):
        _, y, f = case
        return first_derivative_agrees(WrongSign(), y, f)

    counterexample(loss_points(), holds)


# --- exact ranges for the certificates ---------------------------------------------------------

interval_ends = st.one_of(st.just(0.0), st.floats(-40.0, 40.0))


@st.composite
def loss_intervals(draw):
    """A loss, a label, and an interval [f_lo, f_hi] (0 is drawn often as an end)."""
    name = draw(st.sampled_from(sorted(labels)))
    ends = sorted([draw(interval_ends), draw(interval_ends)])
    return get_loss(name), draw(labels[name]), ends[0], ends[1]


def third_derivative(loss, f):
    """∂³L/∂f³ written out: 0 (quadratic), −s(1 − s)(1 − 2s) for cross-entropy (s = expit)."""
    if loss.name == "quadratic":
        return np.zeros_like(f)
    s = expit(f)
    return -s * expit(-f) * (1.0 - 2.0 * s)


def curvature_bounds_hold_and_are_sharp(loss, y, f_lo, f_hi, bounds=None):
    second, third = (bounds or loss.curvature_bounds)(y, f_lo, f_hi)
    grid = np.union1d(np.linspace(f_lo, f_hi, 257), [min(max(0.0, f_lo), f_hi)])  # 0 or the end nearest 0
    sup2 = float(np.max(np.abs(loss.d2value(y, grid))))
    sup3 = float(np.max(np.abs(third_derivative(loss, grid))))
    return sup2 <= second <= sup2 * (1.0 + 2.0 * CURVATURE_ROUNDING) and sup3 <= third * (1.0 + FEW_OPS_RTOL)


@given(loss_intervals())
@example((CrossEntropyLoss(), 0.5, 0.0, 3.0))
@example((CrossEntropyLoss(), 0.5, -3.0, 0.0))
@example((CrossEntropyLoss(), 0.5, 0.5, 3.0))
@example((CrossEntropyLoss(), 0.5, -3.0, -1.0))  # entirely below 0: the sup is at f_hi
@example((QuadraticLoss(), 0.5, -1.0, 1.0))
def test_curvature_bounds_hold_on_the_interval_and_the_second_is_sharp(case):
    assert curvature_bounds_hold_and_are_sharp(*case)


def test_control_a_curvature_bound_at_the_far_end_is_caught():
    def far_end(y, f_lo, f_hi):
        far = f_hi if abs(f_hi) > abs(f_lo) else f_lo
        return float(CrossEntropyLoss().d2value(y, far)) * -1.0, 0.1
    cases = loss_intervals().filter(lambda c: c[0].name == "cross_entropy")
    counterexample(cases, lambda c: curvature_bounds_hold_and_are_sharp(*c, bounds=far_end))


def global_third_sup(loss):
    """sup over all f of |∂³L/∂f³|: 0 (quadratic); for cross-entropy the maximum of the even
    function |s(1 − s)(1 − 2s)|, found by a bounded scalar search on f > 0 (it lies at
    s = (3 + √3)/6, f ≈ 1.317; the peak is quadratic, so xatol = 1e-10 leaves ~1e-20 of error)."""
    if loss.name == "quadratic":
        return 0.0
    res = minimize_scalar(lambda f: -abs(float(third_derivative(loss, np.array(f)))), bounds=(0.1, 5.0),
                          method="bounded", options=dict(xatol=1e-10))
    return -float(res.fun)


def third_bound_is_the_global_sup(loss, y, f_lo, f_hi, bounds=None):
    """The third-derivative bound is at most the global sup and at most the second-derivative bound
    (cross-entropy: |L_fff| = σ''|1 − 2s| <= σ''), and exactly the global sup where the interval
    holds the sup's argument; that it bounds |L_fff| is checked on the grid above."""
    second, third = (bounds or loss.curvature_bounds)(y, f_lo, f_hi)
    sup = global_third_sup(loss)
    if loss.name == "quadratic":
        return third == sup
    peak = 1.3169578969248166  # argmax of |s(1 - s)(1 - 2s)| (s = (3 + sqrt 3)/6), and its mirror
    holds_peak = (f_lo <= peak <= f_hi) or (f_lo <= -peak <= f_hi)
    return third <= min(sup * (1.0 + FEW_OPS_RTOL), second) and (not holds_peak or third >= sup)


@given(loss_intervals())
def test_the_third_derivative_bound_is_at_most_the_global_sup_and_the_second_derivative_bound(case):
    assert third_bound_is_the_global_sup(*case)


def test_control_a_loose_third_bound_is_caught():
    def loose(y, f_lo, f_hi):  # injected bug: 1.0 for the quadratic loss, whose L_fff is 0
        return 2.0, 1.0
    cases = loss_intervals().filter(lambda c: c[0].name == "quadratic")
    counterexample(cases, lambda c: third_bound_is_the_global_sup(*c, bounds=loose))


def exact_dvalue_range(loss, y, f_lo, f_hi):
    """The range of |∂L/∂f| on [f_lo, f_hi], from the zero of ∂L/∂f in f (f = y; f = logit(y))."""
    if loss.name == "quadratic":
        zero, ends = y, np.abs(2.0 * (y - np.array([f_lo, f_hi])))
    else:
        # y − s(f) as y s(−f) − (1 − y) s(f): no cancellation where s(f) is near y = 1 (large f).
        f = np.array([f_lo, f_hi])
        zero, ends = float(logit(y)), np.abs(y * expit(-f) - (1.0 - y) * expit(f))
    lo = 0.0 if f_lo <= zero <= f_hi else float(ends.min())
    return lo, float(ends.max())


def dvalue_range_is_exact(loss, y, f_lo, f_hi, abs_range=None):
    lo, hi = (abs_range or loss.dvalue_abs_range)(y, f_lo, f_hi)
    want_lo, want_hi = exact_dvalue_range(loss, y, f_lo, f_hi)
    scale = max(want_hi, 1e-300)
    return abs(lo - want_lo) <= IDENTITY_RTOL * scale and abs(hi - want_hi) <= IDENTITY_RTOL * scale


@given(loss_intervals())
@example((CrossEntropyLoss(), 0.5, -1.0, 1.0))
@example((CrossEntropyLoss(), 0.5, 0.0, 1.0))
@example((CrossEntropyLoss(), 1.0, -800.0, 1.0))
@example((CrossEntropyLoss(), 1.0, 9.0, 11.0))  # the reference cancelled in y − expit(f): lo off by more than IDENTITY_RTOL × hi
def test_dvalue_abs_range_is_the_exact_range_of_the_derivative(case):
    assert dvalue_range_is_exact(*case)


def test_control_a_range_that_forgets_the_zero_is_caught():
    def endpoints_only(loss):
        def abs_range(y, f_lo, f_hi):
            ends = np.abs(loss.dvalue(y, np.array([f_lo, f_hi])))
            return float(ends.min()), float(ends.max())
        return abs_range
    counterexample(loss_intervals(), lambda c: dvalue_range_is_exact(*c, abs_range=endpoints_only(c[0])))


def is_the_original_loss(adversarial_value, loss, y, f):
    """``adversarial_value(y, f)`` is ℓ = −L: (y − f)² (quadratic), softplus(f) − y f (cross-entropy).

    Where (y − f)² exceeds the float range both overflow to +inf (numpy's overflow
    warning silenced here: it is the expected IEEE result).
    """
    with np.errstate(over="ignore"):
        original = (y - f) ** 2 if loss.name == "quadratic" else np.logaddexp(0.0, f) - y * f
        value = adversarial_value(y, f)
    infinite = np.isinf(original)
    if not np.array_equal(np.isinf(value), infinite):
        return False
    value, original = value[~infinite], original[~infinite]
    scale = np.abs(original) + (np.abs(y * f[~infinite]) if loss.name == "cross_entropy" else 0.0) + 1.0
    return bool(np.all(np.abs(value - original) <= IDENTITY_RTOL * scale))


@with_examples(pinned_scalar_cases())
@given(loss_points())
def test_adversarial_value_is_the_original_loss(case):
    """ℓ = −L (section 5.2): the loss the adversary maximises."""
    loss, y, f = case
    assert is_the_original_loss(loss.adversarial_value, loss, y, f)


def test_control_the_minimisation_form_as_the_adversarial_value_is_caught():
    counterexample(loss_points(), lambda c: is_the_original_loss(c[0].value, *c))  # injected bug: L, not −L


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_a_loss_prints_as_its_class(name):
    assert repr(get_loss(name)) == f"{LOSSES[name].__name__}()"


SHIFT_OPERANDS = st.tuples(st.floats(-400, 400), st.floats(-400, 400))


def shifted_exp_error(a, b):
    """|e^{fl(a − b)} − e^{a − b}| / e^{a − b}, the exponentials in 60 digits (exp's own rounding left out)."""
    with localcontext() as ctx:
        ctx.prec = 60
        exact = (Decimal(a) - Decimal(b)).exp()
        return float(abs(Decimal(a - b).exp() - exact) / exact)


def shifted_exp_within(allowance):
    def holds(operands):
        a, b = operands
        return shifted_exp_error(a, b) <= allowance(a - b)
    return holds


@example((258.0, 1.54011242))  # the cross-entropy check's counterexample to 64 u: 126 u
@given(SHIFT_OPERANDS)
def test_the_rounded_shift_allowance_holds(operands):
    a, b = operands
    error, allowed = shifted_exp_error(a, b), shifted_exp_rtol(a - b)
    target(error / allowed if allowed else 0.0, label="shifted exp error / allowance")
    assert error <= allowed


def test_the_rounded_shift_allowance_is_attained_within_a_factor_4_at_large_shifts():
    # 1.54011242 - 258 (ulp 2^-44) rounds by a sizeable part of its half ulp, the most the allowance assumes.
    a, b = 1.54011242, 258.0
    assert shifted_exp_rtol(a - b) / 4 <= shifted_exp_error(a, b) <= shifted_exp_rtol(a - b)


@pytest.mark.negative_control
def test_control_the_allowance_of_exp_alone_misses_the_rounded_shift():
    counterexample(SHIFT_OPERANDS, shifted_exp_within(lambda s: ELEMENTARY_ULPS * UNIT_ROUNDOFF))

