r"""The certified bounds of :mod:`theory.bounds` are sharp wherever they are exact in real arithmetic.

``test_numerics_bounds.py`` checks that every bound *holds* (it dominates what the
draw does). A bound can hold and still be wrong: twice too large, a Frobenius norm
for a spectral one, a term that never takes effect. Such a bound certifies less
than it should (a smaller τ_ε, fewer certified draws) without ever failing a
validity check. Here each bound meets a closed-form case where it is exact, and
may exceed the exact value only by its rounding allowances
(:data:`theory.testing.tolerances.BOUND_SHARPNESS_RTOL`):

* ``hessian_norm_bound`` (‖W‖₂² max|a_r| / 4) is ‖∂²f(0)‖₂ when all a_r are equal;
* ``local_hessian_bound`` is the exact sup of ‖∂²f‖₂ over the ball when the rows of W
  are orthogonal (the Hessian is then diagonal in the rows' basis, and each unit's
  σ'' peaks where its pre-activation interval comes closest to 0), and it tends to
  ‖∂²f(x)‖₂ as ε → 0, within ε times the third-derivative bound;
* ``value_variation_bound`` is, for one unit, the Taylor bound where that is sharp
  (pre-activation 0, where σ''' = 0 makes the remainder O(r⁴)) and the Lipschitz bound
  where that is (a saturated unit, σ' ≈ 1);
* ``gradient_norm_range`` is ‖∂f(x)‖ ± ε H(ε) plus the certified evaluation error of
  ∂f(x), for any output scale (down to |a_r| = 10⁻¹²);
* the two building blocks: the σ'' range over an interval is exactly [min, max] of σ''
  on it (0 ≤ inf ≤ σ'' ≤ sup ≤ 1/4 for the computed σ'', sup > 0 even where σ''
  underflows), and a unit's pre-activation interval is [t_r ± ε‖w_r‖] widened only by
  the rounding of t_r;
* ``rounding_allowance`` is 4 γ_{n+4} Σ|t_i| with Higham's γ_k = k u / (1 - k u),
  compared with an exact rational evaluation.

Negative controls: a bound with a Frobenius norm, the global Hessian bound in place of
the local one, the crude per-unit bound without the moving term, each regime of
``value_variation_bound`` with the other's formula, a gradient range whose relative
error term is divided by ‖∂f‖, a σ'' range that ignores 0 inside the interval, an
interval of half-width ε, and an allowance of 5 γ: each is caught.

Pinned extremes: the pinned problems of :func:`theory.testing.strategies.pinned_perturbation_cases`
(their networks at input scales 1e-6, 1e3 and with units at ±730, where σ'' is subnormal)
wherever a check takes a point; units with pre-activations ±730 and 10³ and output weights
10^±300 in the closed-form cases; σ'' ranges on intervals from [−5e-324, 5e-324] to
[1e300, 2e300]; and the rounding allowance of sums from 5e-324 to the largest double.
"""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given, note, target
from hypothesis import strategies as st

from ..support import counterexample, with_examples
from theory.bounds import (
    UNDERFLOW_FLOOR, _unit_intervals, evaluation_error_bounds, gradient_norm_range,
    hessian_norm_bound, local_hessian_bound, rounding_allowance, third_derivative_bound,
    value_variation_bound,
)
from theory.geometry import vector_norm
from theory.network import TwoLayerNet, activations
from theory.testing.strategies import dims, log_uniform, networks, pinned_perturbation_cases, seeds, widths
from theory.testing.tolerances import (
    BOUND_SHARPNESS_RTOL, SUBNORMAL_SPACING, UNIT_ROUNDOFF, spectral_norm_rtol,
)
from theory.activations import sigma2_range

RTOL = BOUND_SHARPNESS_RTOL

#: (net, x, ε) of the pinned problems (quadratic loss; the network does not depend on it): ‖x‖ = 1e-6,
#: 1e3 and the draw with units at ±730.
PINNED = [(p.net, p.x, p.eps) for p, _, _, _ in pinned_perturbation_cases(("quadratic",))]
PINNED_NET = PINNED[0][0]


def sharp(bound, exact, atol=0.0):
    """``exact <= bound <= exact (1 + RTOL) + atol``: valid, and exceeding the exact value by rounding only."""
    note(f"bound {bound!r}, exact {exact!r}, excess {(bound - exact) / exact if exact else bound!r}")
    return exact <= bound and bound <= exact * (1.0 + RTOL) + atol


# --- the global Hessian bound ------------------------------------------------------------------

def equal_output_weights(net, gamma):
    return TwoLayerNet(net.W, np.full(net.m, gamma))


def exact_at_the_origin(bound, net):
    """With a_r = γ for all r, ∂²f(0) = (γ/4) WᵀW, whose norm γ‖W‖₂²/4 is the bound (σ''(0) = 1/4)."""
    exact = float(np.linalg.norm(net.hessian(np.zeros(net.d)), 2))
    return exact * (1.0 - spectral_norm_rtol(net.d)) <= bound(net) <= exact * (1.0 + RTOL)


@given(networks(d=dims(2, 8), m=widths(2, 64)), log_uniform(1e-3, 1e3))
@example(PINNED_NET, 1e-300)
@example(PINNED_NET, 1e300)
def test_hessian_norm_bound_is_attained_at_the_origin_when_the_output_weights_are_equal(net, gamma):
    assert exact_at_the_origin(hessian_norm_bound, equal_output_weights(net, gamma))


@pytest.mark.negative_control
def test_control_a_hessian_bound_with_the_frobenius_norm_is_caught():
    def frobenius(net):  # injected bug: ‖W‖_F² for ‖W‖₂² (the mutant np.linalg.norm(W, None))
        return float(np.linalg.norm(net.W)) ** 2 * float(np.max(np.abs(net.a))) / 4.0
    counterexample(st.tuples(networks(d=dims(2, 8), m=widths(2, 64)), log_uniform(1e-3, 1e3)),
                   lambda c: exact_at_the_origin(frobenius, equal_output_weights(*c)))


# --- the local Hessian bound: orthogonal rows ----------------------------------------------------

@st.composite
def orthogonal_rows(draw):
    """A net whose m <= d rows are orthogonal (norms 10^[-1, 0.5]), output weights ±10^[-2, 2], a centre x
    (scale 10^[-2, 2]) and a radius ε (10^[-4, 1] relative to ‖x‖ + 1)."""
    d = draw(dims(1, 8))
    m = draw(st.integers(1, d))
    rng = np.random.default_rng(draw(seeds()))
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    W = q[:m] * 10.0 ** rng.uniform(-1.0, 0.5, (m, 1))
    a = rng.choice([-1.0, 1.0], m) * 10.0 ** rng.uniform(-2.0, 2.0, m)
    x = rng.standard_normal(d) * 10.0 ** rng.uniform(-2.0, 2.0)
    eps = draw(log_uniform(1e-4, 10.0)) * (float(np.linalg.norm(x)) + 1.0)
    note(f"d={d}, m={m}, eps={eps:.3g}")
    return TwoLayerNet(W, a), x, eps


def sup_over_the_ball_for_orthogonal_rows(net, x, eps):
    """max_r |a_r| ‖w_r‖² max σ'' on [t_r ± ε‖w_r‖]: σ'' is even and decreasing in |t|, so its max on an
    interval is at the point of the interval nearest 0."""
    t, half = net.W @ x, eps * np.linalg.norm(net.W, axis=1)
    nearest = np.clip(0.0, t - half, t + half)
    return float(np.max(np.abs(net.a) * np.linalg.norm(net.W, axis=1) ** 2 * activations(nearest)[2]))


def exact_for_orthogonal_rows(bound, net, x, eps):
    # Where the peak σ'' underflows, the bound keeps its absolute floor for the units
    # whose σ'' underflowed: UNDERFLOW_FLOOR per unit of |a_r| ‖w_r‖², twice (theory.bounds).
    floor = 4.0 * UNDERFLOW_FLOOR * float(np.abs(net.a) @ np.linalg.norm(net.W, axis=1) ** 2)
    exact = sup_over_the_ball_for_orthogonal_rows(net, x, eps)
    value = bound(net, x, eps)
    target(-(value - exact) / max(exact, 1e-300), label="-(bound - exact) / exact")
    return value <= exact * (1.0 + RTOL) + floor and exact * (1.0 - RTOL) <= value


#: Orthogonal rows at the extremes: units at ±730 (σ'' subnormal on the whole interval) and at ±10³
#: (σ'' = 0), an input of size 1e-6 (every interval holds 0), and output weights 10^±300.
ORTHOGONAL_EXTREMES = [
    (TwoLayerNet(np.eye(3)[:2], np.array([1.0, -0.5])), np.array([-730.0, 730.0, 0.0]), 1.0),
    (TwoLayerNet(np.eye(3), np.array([1.0, -0.5, 2.0])), np.array([-730.0, 1e3, 1.0]), 0.5),
    (TwoLayerNet(np.eye(3)[:2], np.array([1.0, -0.5])), np.array([1e-6, -1e-6, 0.0]), 1e-6),
    (TwoLayerNet(np.eye(2), np.array([1e-300, -1e300])), np.array([2.0, -3.0]), 0.5),
]


@given(orthogonal_rows())
@example((TwoLayerNet(np.eye(2), np.array([1.0, 0.5])), np.array([5.0, 0.5]), 1.0))  # crude < moving < global
@with_examples(ORTHOGONAL_EXTREMES)
def test_local_hessian_bound_is_the_exact_sup_when_the_rows_are_orthogonal(case):
    assert exact_for_orthogonal_rows(local_hessian_bound, *case)


@pytest.mark.negative_control
def test_control_the_pinned_output_weights_overflow_a_squaring_norm_of_the_centre_error():
    """Negative control for the fix in local_hessian_bound: at the pinned output weight 1e300 the
    Frobenius norm of the centre Hessian's error bound by np.linalg.norm (the former code) squares
    entries of ~1e284 beyond the float range, which the pinned example above then hits; the scaled
    vector_norm gives the finite value."""
    net, x, _ = ORTHOGONAL_EXTREMES[-1]
    h_err = evaluation_error_bounds(net, x)[2]
    with pytest.warns(RuntimeWarning, match="overflow"):
        assert np.linalg.norm(h_err) == np.inf
    assert np.isfinite(vector_norm(np.ravel(h_err)))


@pytest.mark.negative_control
def test_control_the_global_hessian_bound_is_not_exact_for_orthogonal_rows():
    counterexample(orthogonal_rows(), lambda c: exact_for_orthogonal_rows(
        lambda net, x, eps: hessian_norm_bound(net), *c))


# --- the local Hessian bound: a vanishing radius -------------------------------------------------

@st.composite
def vanishing_radius(draw):
    """A net (m >= 4, so that output weights of both signs are likely), x, and ε with ε T₃ = ratio · H,
    ratio in [1e-9, 1e-6] (T₃ the third-derivative bound, H the global Hessian bound)."""
    net = draw(networks(d=dims(1, 8), m=widths(4, 64)))
    x = np.random.default_rng(draw(seeds())).standard_normal(net.d) * draw(log_uniform(1e-2, 10.0))
    eps = draw(log_uniform(1e-9, 1e-6)) * hessian_norm_bound(net) / third_derivative_bound(net)
    return net, x, eps


def tends_to_the_centre_hessian(bound, net, x, eps):
    """H(ε) <= ‖∂²f(x)‖₂ + ε T₃ + RTOL · H: the moving term is at most ε times the third-derivative bound
    (mean value theorem on each σ''), and its rounding allowances are far below RTOL · H."""
    centre = float(np.linalg.norm(net.hessian(x), 2))
    value = bound(net, x, eps)
    slack = value - centre - eps * third_derivative_bound(net)
    note(f"H(eps) {value!r}, |d2f(x)| {centre!r}, excess over |d2f(x)| + eps T3: {slack!r}")
    return centre * (1.0 - spectral_norm_rtol(net.d)) <= value and slack <= RTOL * hessian_norm_bound(net)


@given(vanishing_radius())
@with_examples((net, x, 1e-9 * hessian_norm_bound(net) / third_derivative_bound(net)) for net, x, _ in PINNED)
def test_local_hessian_bound_tends_to_the_centre_hessian_as_the_radius_vanishes(case):
    assert tends_to_the_centre_hessian(local_hessian_bound, *case)


def crude_only(net, x, eps):
    """Bug: the per-unit sup of σ'' alone, λ_max(Wᵀ diag(|a| sup σ'') W), without the moving term."""
    t, half = net.W @ x, eps * np.linalg.norm(net.W, axis=1)
    weights = np.abs(net.a) * activations(np.clip(0.0, t - half, t + half))[2]
    return float(np.linalg.eigvalsh((net.W.T * weights) @ net.W)[-1])


@pytest.mark.negative_control
def test_control_the_crude_bound_does_not_tend_to_the_centre_hessian():
    counterexample(vanishing_radius(), lambda c: tends_to_the_centre_hessian(crude_only, *c))


# --- the value variation bound -------------------------------------------------------------------

@st.composite
def one_unit_at_zero(draw):
    """One unit, x ⟂ w (pre-activation 0) and r = ε‖w‖ in [1e-3, 0.5]."""
    net = draw(networks(d=dims(1, 8), m=1, gamma=log_uniform(0.1, 10.0)))
    w = net.W[0]
    x = np.zeros(net.d)
    if net.d > 1:
        v = np.random.default_rng(draw(seeds())).standard_normal(net.d)
        x = (v - (v @ w) / (w @ w) * w) * draw(log_uniform(1e-2, 10.0))
    r = draw(log_uniform(1e-3, 0.5))
    return net, x, r / float(np.linalg.norm(w))


def taylor_is_sharp_at_zero(bound, net, x, eps):
    """sup |f(x+δ) - f(x)| = |a|(σ(r) - σ(0)) = |a| log1p(expm1(r)/2) (σ convex and increasing); the
    Taylor bound |a|(r/2 + r²/8) exceeds it by |a|(r⁴/192 - r⁶/2880 + ...) <= |a| r⁴/192 (σ''' (0) = 0)."""
    a, r = abs(float(net.a[0])), eps * float(np.linalg.norm(net.W[0]))
    exact = a * float(np.log1p(np.expm1(r) / 2.0))
    return sharp(bound(net, x, eps), exact, atol=a * r ** 4 / 192.0)


def one_unit(gamma):
    """One unit of the pinned draw's first row (d = 3) with output weight ``gamma``."""
    return TwoLayerNet(PINNED_NET.W[:1], np.array([gamma]))


@given(one_unit_at_zero())
@with_examples((one_unit(gamma), np.zeros(3), r / float(np.linalg.norm(PINNED_NET.W[0])))
               for gamma in (1e-300, 1e300) for r in (1e-3, 0.5))
def test_value_variation_bound_is_the_taylor_bound_where_that_is_sharp(case):
    assert taylor_is_sharp_at_zero(value_variation_bound, *case)


def lipschitz_only(net, x, eps):
    """Bug: ε Σ|a_r|‖w_r‖ alone (the Taylor branch dropped)."""
    return eps * float(np.abs(net.a) @ np.linalg.norm(net.W, axis=1))


@pytest.mark.negative_control
def test_control_the_lipschitz_bound_is_not_sharp_at_zero():
    counterexample(one_unit_at_zero(), lambda c: taylor_is_sharp_at_zero(lipschitz_only, *c))


@st.composite
def one_saturated_unit(draw):
    """One unit with pre-activation T in [40, 100] (σ'(T) = 1 - e^-T) and r = ε‖w‖ in [0.1, 10]."""
    net = draw(networks(d=dims(1, 8), m=1, gamma=log_uniform(0.1, 10.0)))
    w = net.W[0]
    x = draw(st.floats(40.0, 100.0)) * w / float(w @ w)
    return net, x, draw(log_uniform(0.1, 10.0)) / float(np.linalg.norm(w))


def lipschitz_is_sharp_when_saturated(bound, net, x, eps):
    """sup |f(x+δ) - f(x)| = |a|(σ(T + r) - σ(T)) = |a|(r + log1p(e^-(T+r)) - log1p(e^-T)), within
    |a| r e^-40 of the Lipschitz bound |a| r; the Taylor bound is larger by |a| r²/8. The rounding
    allowance of f at x (|a| σ(T) <= 100 |a|) stays below RTOL |a| r for r >= 0.1."""
    a, r = abs(float(net.a[0])), eps * float(np.linalg.norm(net.W[0]))
    T = float(net.W[0] @ x)
    exact = a * (r + float(np.log1p(np.exp(-(T + r)))) - float(np.log1p(np.exp(-T))))
    return sharp(bound(net, x, eps), exact)


def saturated(T, r, gamma=1.0):
    """One unit (the pinned draw's first row) at pre-activation T, with r = ε‖w‖."""
    net = one_unit(gamma)
    w = net.W[0]
    return net, T * w / float(w @ w), r / float(np.linalg.norm(w))


@given(one_saturated_unit())
@with_examples(saturated(T, r, gamma) for T in (730.0, 1e3) for r in (0.1, 10.0) for gamma in (1.0, 1e300))
def test_value_variation_bound_is_the_lipschitz_bound_where_that_is_sharp(case):
    assert lipschitz_is_sharp_when_saturated(value_variation_bound, *case)


def taylor_only(net, x, eps):
    """Bug: ε‖∂f(x)‖ + H ε²/2 alone (the Lipschitz branch dropped)."""
    return eps * float(vector_norm(net.grad(x))) + 0.5 * hessian_norm_bound(net) * eps * eps


@pytest.mark.negative_control
def test_control_the_taylor_bound_is_not_sharp_for_a_saturated_unit():
    counterexample(one_saturated_unit(), lambda c: lipschitz_is_sharp_when_saturated(taylor_only, *c))


# --- the gradient norm range ---------------------------------------------------------------------

@st.composite
def small_radius_at_any_output_scale(draw):
    """A net with |a_r| = γ in [1e-12, 1e2], x, and ε = ratio ‖∂f(x)‖ / H, ratio in [1e-6, 1e-2]."""
    net = draw(networks(d=dims(1, 8), m=widths(1, 64), gamma=log_uniform(1e-12, 1e2)))
    x = np.random.default_rng(draw(seeds())).standard_normal(net.d)
    eps = draw(log_uniform(1e-6, 1e-2)) * float(vector_norm(net.grad(x))) / hessian_norm_bound(net)
    return net, x, eps


def centred_on_the_gradient_norm(bound, net, x, eps):
    """[B_l, B_u] ⊂ ‖∂f(x)‖ ± (ε H(ε) + ‖certified evaluation error of ∂f(x)‖ + RTOL ‖∂f(x)‖)."""
    g = float(vector_norm(net.grad(x)))
    width = (eps * local_hessian_bound(net, x, eps) + float(vector_norm(evaluation_error_bounds(net, x)[1]))
             + RTOL * g)
    lower, upper = bound(net, x, eps)
    note(f"|df(x)| {g!r}, range [{lower!r}, {upper!r}], allowed half-width {width!r}")
    return g - width <= lower <= g <= upper <= g + width


@given(small_radius_at_any_output_scale())
@with_examples((TwoLayerNet(net.W, net.a * gamma), x, ratio * float(vector_norm(net.grad(x))) / hessian_norm_bound(net))
               for net, x, _ in PINNED for gamma in (1e-300, 1.0, 1e300) for ratio in (1e-6,))
def test_gradient_norm_range_is_the_gradient_norm_plus_or_minus_its_certified_errors(case):
    assert centred_on_the_gradient_norm(gradient_norm_range, *case)


@pytest.mark.negative_control
def test_control_an_error_term_divided_by_the_gradient_norm_is_caught():
    def over_g(net, x, eps):  # injected bug: 4 d u / ‖∂f(x)‖ for 4 d u ‖∂f(x)‖ (the mutant "/ g")
        lower, upper = gradient_norm_range(net, x, eps)
        g = float(vector_norm(net.grad(x)))
        extra = 4.0 * net.d * UNIT_ROUNDOFF * (1.0 / g - g)
        return max(lower - extra, 0.0), upper + extra
    counterexample(small_radius_at_any_output_scale(), lambda c: centred_on_the_gradient_norm(over_g, *c))


# --- the building blocks --------------------------------------------------------------------------

@st.composite
def intervals(draw):
    """An interval [c - h, c + h] with centre c in [-800, 800] (σ'' underflows beyond ~745) and h in [1e-3, 100]."""
    c = draw(st.floats(-800.0, 800.0))
    h = draw(log_uniform(1e-3, 100.0))
    return c - h, c + h


def is_the_range_of_sigma2(sigma2_range, lo, hi):
    """0 <= inf <= σ''(t) <= sup <= 1/4 for the computed σ'' at the ends, the point nearest 0 and points
    between; sup > 0 (σ'' > 0 everywhere, even where the computed σ'' underflows to 0); and both ends
    within RTOL (plus UNDERFLOW_FLOOR) of the exact max and min: σ'' at the point nearest 0, and the
    smaller of its values at the ends."""
    sup, inf = (float(v[0]) for v in sigma2_range(np.array([lo]), np.array([hi])))
    nearest = float(np.clip(0.0, lo, hi))
    points = np.r_[lo, hi, nearest, np.linspace(lo, hi, 9)]
    s = activations(points)[2]
    top, bottom = float(activations(np.array([nearest]))[2][0]), float(min(s[0], s[1]))
    note(f"[{lo!r}, {hi!r}]: sup {sup!r} (max {top!r}), inf {inf!r} (min {bottom!r})")
    return (0.0 <= inf and bool(np.all((inf <= s) & (s <= sup))) and 0.0 < sup <= 0.25
            and sup <= top * (1.0 + RTOL) + UNDERFLOW_FLOOR and inf >= bottom * (1.0 - RTOL) - UNDERFLOW_FLOOR)


@given(intervals())
@example((800.0, 900.0))   # σ'' underflows to 0 on the whole interval: inf = 0, sup > 0
@example((0.0, 1.0))       # 0 at an end: sup = σ''(0) = 1/4 exactly
@example((-2.0, 3.0))      # 0 inside: sup = 1/4, not the larger end value
@example((0.5, 2.0))       # 0 outside, near: sup = σ''(0.5) < 1/4
@example((-5e-324, 5e-324))                     # the smallest interval around 0
@example((5e-324, 2.2250738585072014e-308))     # 0 just outside: sup = σ''(5e-324) = 1/4
@example((729.0, 731.0))                        # σ'' subnormal on the whole interval
@example((-746.0, -745.0))                      # σ'' from its last subnormal value to 0
@example((1e300, 2e300))
@example((-1e300, 1e300))
def test_sigma2_range_is_the_range_of_the_second_derivative_on_the_interval(case):
    assert is_the_range_of_sigma2(sigma2_range, *case)


@pytest.mark.negative_control
def test_control_a_range_from_the_ends_alone_is_caught():
    def ends_only(lo, hi):  # injected bug: sup = the larger end value, even with 0 inside
        s_lo, s_hi = activations(lo)[2], activations(hi)[2]
        return np.maximum(s_lo, s_hi), np.minimum(s_lo, s_hi)
    counterexample(intervals(), lambda c: is_the_range_of_sigma2(ends_only, *c))


def contains_and_is_sharp(unit_intervals, net, x, eps):
    """Each interval contains w_rᵀ(x ± ε w_r/‖w_r‖) (the ends of the true range) and is no wider than
    ε‖w_r‖ (1 + RTOL) each side plus the certified rounding of t_r = w_rᵀx."""
    t, lo, hi = unit_intervals(net, x, eps)
    norms = np.linalg.norm(net.W, axis=1)
    ends = np.array([net.W[r] @ (x + sign * eps * net.W[r] / norms[r]) for sign in (-1, 1) for r in range(net.m)])
    shift = rounding_allowance(net.d, np.abs(net.W) @ np.abs(x))
    inside = np.all((lo <= ends.reshape(2, -1)) & (ends.reshape(2, -1) <= hi))
    return bool(inside) and bool(np.all((hi - lo) / 2.0 <= eps * norms * (1.0 + RTOL) + 2.0 * shift))


@given(networks(d=dims(1, 8), m=widths(1, 16)), seeds(), log_uniform(1e-3, 10.0))
def test_unit_intervals_contain_the_pre_activations_on_the_ball_and_no_more(net, seed, eps):
    x = np.random.default_rng(seed).standard_normal(net.d)
    assert contains_and_is_sharp(_unit_intervals, net, x, eps)


@given(st.sampled_from(PINNED))
@with_examples(PINNED)
def test_unit_intervals_contain_the_pre_activations_on_the_ball_and_no_more_at_the_pinned_problems(case):
    assert contains_and_is_sharp(_unit_intervals, *case)


@pytest.mark.negative_control
def test_control_intervals_of_half_width_eps_are_caught():
    def eps_wide(net, x, eps):  # injected bug: half-width ε, without ‖w_r‖ (the mutant "eps / ‖W‖" is similar)
        t = net.W @ x
        return t, t - eps, t + eps
    counterexample(st.tuples(networks(d=dims(1, 8), m=widths(1, 16)), seeds(), log_uniform(1e-3, 10.0)),
                   lambda c: contains_and_is_sharp(eps_wide, c[0], np.random.default_rng(c[1]).standard_normal(c[0].d),
                                                   c[2]))


def four_gamma(allowance, n, abs_sum):
    """allowance(n, S) against 4 γ_{n+4} S evaluated exactly (fractions), to a few roundings.

    A few relative roundings (8 u), and one spacing (2^-1074): the last product, 4γ · S, falls below
    the normal range for S < ~1e-293 at small n (S = 1e-300, n = 1: 2.2e-315) and then rounds
    absolutely, by up to half a spacing, as does the exact value's conversion to float.
    """
    u = Fraction(UNIT_ROUNDOFF)
    k = (n + 4) * u
    exact = float(4 * k / (1 - k) * Fraction(abs_sum))
    return abs(allowance(n, abs_sum) - exact) <= 8 * UNIT_ROUNDOFF * exact + SUBNORMAL_SPACING


@given(st.integers(1, 10 ** 9), log_uniform(1e-300, 1e300))
@example(10 ** 9, 1.0)  # n u ~ 1e-7: the denominator 1 - k u is visible (1 + k u would differ by 2e-7)
@example(1, 5e-324)                       # the allowance underflows to 0 (the sum of subnormals is exact)
@example(1, 2.2250738585072014e-308)      # a subnormal allowance
@example(1, 1e-300)
@example(10 ** 9, 1e-300)                 # normal again at large n
@example(1, 1e300)
@example(10 ** 9, 1.7976931348623157e308)  # the largest double: the allowance stays finite
def test_rounding_allowance_is_four_gamma_of_n_plus_four(n, abs_sum):
    assert four_gamma(rounding_allowance, n, abs_sum)


@pytest.mark.negative_control
def test_control_an_allowance_of_five_gamma_is_caught():
    counterexample(st.tuples(st.integers(1, 10 ** 9), log_uniform(1e-300, 1e300)),
                   lambda c: four_gamma(lambda n, s: 1.25 * rounding_allowance(n, s), *c))
