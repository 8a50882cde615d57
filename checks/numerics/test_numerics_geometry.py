"""Geometry of the ball and sphere: projections, samplers, the cosine and the robust norm.

Properties (section 2 and section 4 of the paper use all of these):

* projection onto the ball lands in the ball, is idempotent and non-expansive,
  and leaves points inside unchanged;
* the tangent projection is orthogonal to δ and idempotent;
* ``uniform_ball`` is uniform in the open ball: (‖δ‖/ε)^d passes a
  Kolmogorov–Smirnov test against U(0, 1), while a uniform-radius sampler is
  rejected by the same test (for d >= 2; at d = 1 the two coincide);
* ``uniform_sphere`` is uniform on the sphere: (u_1 + 1)/2 ~ Beta((d-1)/2, (d-1)/2);
* the robust norm agrees with ``numpy.linalg.norm`` where that is safe and stays
  correct for tiny and huge vectors.

Each property has a negative control with a deliberately wrong variant.

Every comparison is pinned at the extreme magnitudes of :data:`EXTREME_SCALES` (the
smallest subnormal and normal numbers, 1e-300 and 1e300; vectors whose norm exceeds
the largest double overflow to inf, which is checked as such). Below the normal range
a rounding is absolute (half of 2^-1074), so the projections' and the tangent
projection's bounds add the spacings of the coordinates that round there
(:func:`subnormal_slack`). The examples found that the direction x/‖x‖ of a subnormal
vector was off by up to 50 % (its computed norm is rounded to a spacing: the cosine of
x = (5e-324,)·3 with itself was 0.75, the tangent projection at such a δ was not
orthogonal to it), and that the projection onto a ball of subnormal radius lost the
point (ε = 1e-321, δ = (1e3, 0) gave 0); fixed in :func:`theory.geometry._direction`.
"""

import math

import numpy as np
import pytest
from hypothesis import example, given, note
from hypothesis import strategies as st
from scipy import stats

from ..support import counterexample, with_examples
from theory.geometry import (
    SPHERE_RTOL, cosine, unit, on_sphere, project_ball, project_tangent, uniform_ball, uniform_sphere,
    vector_norm,
)
from theory.testing.strategies import dims, log_uniform, seeds
from theory.testing.tolerances import FEW_OPS_RTOL, KS_ALPHA, KS_SAMPLES, PROJECTION_RTOL, SUBNORMAL_SPACING

radii = log_uniform(1e-8, 1e2)

#: The smallest subnormal, the smallest normal number, and two magnitudes far beyond the drawn ranges.
SMALLEST_SUBNORMAL, SMALLEST_NORMAL = 5e-324, 2.2250738585072014e-308
EXTREME_SCALES = (SMALLEST_SUBNORMAL, SMALLEST_NORMAL, 1e-300, 1e300)
#: Fixed unit directions in d = 3 (rows) for the pinned points.
DIRECTIONS = np.array([[1.0, 2.0, 2.0], [2.0, -1.0, 2.0], [-2.0, -2.0, 1.0]]) / 3.0


def subnormal_slack(d):
    """Absolute rounding, in norm, of the projected points and norms compared below the normal range.

    A coordinate that rounds to a subnormal value errs by up to half a spacing (2^-1074), whatever
    its relative bound says: a point of d such coordinates is off by √d/2 spacings in norm, and a
    computed norm below the normal range by half a spacing more. The ball's checks compare at most
    two such points and one norm (or one point, its re-projection and one norm): √d + 1 spacings.
    Far below PROJECTION_RTOL ε at every normal radius, so the controls are unaffected.
    """
    return (math.sqrt(d) + 1.0) * SUBNORMAL_SPACING


def pinned_point_pairs():
    """(ε, a, b) at every extreme radius and at ε = 1e-321: points at 10^-3, 1/2, 1, 2 and 10^3 times ε (a) and points with
    subnormal coordinates (b: 1 to 7 spacings, and (1e3, 0, 0): a normal point far outside a tiny ball)."""
    factors = np.array([1e-3, 0.5, 1.0, 2.0, 1e3])[:, None]
    subnormal = np.array([[7.0, 5.0, 1.0], [1.0, 1.0, 1.0], [3.0, -4.0, 0.0], [2.0, 0.0, 0.0]]) * SMALLEST_SUBNORMAL
    for eps in EXTREME_SCALES + (1e-321,):  # and a subnormal radius of 202 spacings
        a = eps * factors * DIRECTIONS[np.arange(5) % 3]
        b = np.vstack([subnormal, [[1e3, 0.0, 0.0]]])
        yield eps, a, b
        yield eps, b, a


@st.composite
def point_pairs(draw):
    """ε, and two batches of points at scales from well inside to far outside the ball, shape (n, d)."""
    d = draw(dims(1, 10))
    eps = draw(radii)
    rng = np.random.default_rng(draw(seeds()))
    scales = eps * 10.0 ** rng.uniform(-3, 3, (2, 6, 1))
    a, b = scales * rng.standard_normal((2, 6, d))
    note(f"d={d}, eps={eps:g}")
    return eps, a, b


def lands_in_ball(project, eps, a):
    return bool(np.all(vector_norm(project(a, eps)) <= eps * (1 + PROJECTION_RTOL) + subnormal_slack(a.shape[-1])))


def is_idempotent(project, eps, a):
    once = project(a, eps)
    return bool(np.all(vector_norm(project(once, eps) - once) <= PROJECTION_RTOL * eps + subnormal_slack(a.shape[-1])))


def is_non_expansive(project, eps, a, b):
    gap = vector_norm(project(a, eps) - project(b, eps))
    return bool(np.all(gap <= vector_norm(a - b) * (1 + PROJECTION_RTOL) + PROJECTION_RTOL * eps
                       + subnormal_slack(a.shape[-1])))


def lands_on_the_sphere(project, eps, a):
    """Points outside land on the sphere, within PROJECTION_RTOL and the subnormal slack: not inside it
    (a projection whose scale ε/‖δ‖ underflows loses the point: ε = 1e-321, δ = (1e3, 0) gave 0)."""
    outside = vector_norm(a) > eps
    norms = vector_norm(project(a, eps)[outside])
    return bool(np.all(np.abs(norms - eps) <= PROJECTION_RTOL * eps + subnormal_slack(a.shape[-1])))


@with_examples(pinned_point_pairs())
@given(point_pairs())
def test_projection_lands_in_the_ball(case):
    eps, a, _ = case
    assert lands_in_ball(project_ball, eps, a)


@with_examples(pinned_point_pairs())
@given(point_pairs())
def test_projection_of_a_point_outside_lands_on_the_sphere(case):
    eps, a, _ = case
    assert lands_on_the_sphere(project_ball, eps, a)


def scale_then_multiply(delta, eps):
    """Bug (the former project_ball): δ · (ε/‖δ‖) everywhere; the scale underflows for a tiny radius."""
    norms = vector_norm(delta, keepdims=True)
    return delta * np.divide(eps, norms, out=np.ones_like(norms), where=norms > eps)


@pytest.mark.negative_control
def test_control_a_projection_whose_scale_underflows_is_caught():
    cases = st.tuples(st.integers(1, 400).map(lambda k: k * SMALLEST_SUBNORMAL), log_uniform(1e-3, 1e3))
    counterexample(cases, lambda c: lands_on_the_sphere(scale_then_multiply, c[0], np.array([[c[1], 0.0, 0.0]])))


@with_examples(pinned_point_pairs())
@given(point_pairs())
def test_projection_is_idempotent(case):
    eps, a, _ = case
    assert is_idempotent(project_ball, eps, a)


@with_examples(pinned_point_pairs())
@given(point_pairs())
def test_projection_is_non_expansive(case):
    eps, a, b = case
    assert is_non_expansive(project_ball, eps, a, b)


@with_examples(pinned_point_pairs())
@given(point_pairs())
@example((1.0, np.zeros((2, 3)), np.zeros((2, 3))))  # the centre (PGD's δ = 0): no division by ‖δ‖ = 0
@example((1.0, np.array([[0.0, 1.0], [0.6, 0.8]]), np.zeros((2, 2))))  # on the sphere: unchanged too
def test_projection_leaves_points_inside_unchanged(case):
    eps, a, _ = case
    inside = vector_norm(a) <= eps
    assert np.array_equal(project_ball(a, eps)[inside], a[inside])


# Wrong projections a maintainer might write; each breaks exactly one property above.
def clip_box(delta, eps):
    """l-infinity clipping: not a projection onto the l2 ball."""
    return np.clip(delta, -eps, eps)


def normalise_all(delta, eps):
    """Pushes every point to the sphere: idempotent and in the ball, but expansive near 0."""
    return eps * delta / vector_norm(delta, keepdims=True)


def soft_shrink(delta, eps):
    """δ ε/(‖δ‖ + ε): in the ball and non-expansive-looking, but not idempotent."""
    return delta * (eps / (vector_norm(delta, keepdims=True) + eps))


def test_control_box_clipping_leaves_the_ball():
    counterexample(point_pairs(), lambda c: lands_in_ball(clip_box, c[0], c[1]))


def test_control_normalising_every_point_is_expansive():
    counterexample(point_pairs(), lambda c: is_non_expansive(normalise_all, *c))


def test_control_soft_shrink_is_not_idempotent():
    counterexample(point_pairs(), lambda c: is_idempotent(soft_shrink, c[0], c[1]))


def exact_rescale(x):
    """x times the power of two 2^-e that puts the largest |entry| of each row in [1/2, 1), and e.

    Exact in binary arithmetic (up to entries that fall below 2^-1074 of the row's size), so the
    check's own products neither overflow at 1e300 nor underflow at 5e-324.
    """
    _, e = np.frexp(np.max(np.abs(x), axis=-1, keepdims=True))
    return np.ldexp(x, -e), e


def tangent_is_orthogonal(project, delta, v):
    """|⟨P_T v, δ⟩| <= FEW_OPS_RTOL ‖v‖‖δ‖ + d spacings · ‖δ‖, evaluated on exact power-of-two rescalings.

    The d spacings: where v's coordinates are subnormal, the d products of vᵀδ̂ round by half a
    spacing each, and (vᵀδ̂) δ̂_i by half more (the subtraction of subnormals is exact), so P_T v is
    off by up to (d/2)|δ̂_i| + 1/2 spacings per coordinate, (d + √d)/2 <= d spacings along δ̂.
    """
    d = delta.shape[-1]
    pv = project(delta, v)
    delta_s, _ = exact_rescale(delta)
    v_s, ev = exact_rescale(np.broadcast_to(v, pv.shape))
    inner = np.einsum("...i,...i->...", np.ldexp(pv, -ev), delta_s)
    allowed = (FEW_OPS_RTOL * vector_norm(v_s) + d * np.ldexp(SUBNORMAL_SPACING, -ev[..., 0])) * vector_norm(delta_s)
    return bool(np.all(np.abs(inner) <= allowed))


def pinned_tangent_cases():
    """(ε, δ, v) with δ and v each at every extreme scale (subnormal δ with normal v: the former
    non-orthogonal case), d = 3; ε is unused by the tangent checks."""
    for s_delta in EXTREME_SCALES:
        for s_v in EXTREME_SCALES:
            delta = s_delta * np.vstack([DIRECTIONS, [[7.0, 5.0, 1.0]]])
            v = s_v * np.vstack([DIRECTIONS[[1, 2, 0]], [[1.0, 1.0, 1.0]]])
            yield 1.0, delta, v


@with_examples(pinned_tangent_cases())
@given(point_pairs())
def test_tangent_projection_is_orthogonal_to_delta(case):
    _, delta, v = case
    assert tangent_is_orthogonal(project_tangent, delta, v)


def unit_without_rescaling(delta, v):
    """Bug (the former unit()): δ/‖δ‖ with ‖δ‖ rounded to a spacing for subnormal δ."""
    normal = delta / vector_norm(delta, keepdims=True)
    return v - np.einsum("...i,...i->...", v, normal)[..., None] * normal


@pytest.mark.negative_control
def test_control_a_tangent_projection_at_a_subnormal_point_without_rescaling_is_caught():
    cases = st.lists(st.integers(1, 20), min_size=3, max_size=3).map(lambda k: np.array([k]) * SMALLEST_SUBNORMAL)
    counterexample(cases, lambda delta: tangent_is_orthogonal(unit_without_rescaling, delta, np.ones((1, 3))))


@with_examples(pinned_tangent_cases())
@given(point_pairs())
def test_tangent_projection_is_idempotent(case):
    _, delta, v = case
    once = project_tangent(delta, v)
    # Where v is subnormal both projections round absolutely: the first leaves a component of up to
    # (d + √d)/2 spacings along δ̂ (tangent_is_orthogonal), the second removes it up to 1/2 more per
    # coordinate: within 2d spacings.
    atol = FEW_OPS_RTOL * vector_norm(v).max() + 2 * delta.shape[-1] * SUBNORMAL_SPACING
    assert np.allclose(project_tangent(delta, once), once, rtol=0, atol=atol)


def test_control_tangent_projection_without_normalisation_is_caught():
    """Bug: v − (vᵀδ) δ, correct only when ‖δ‖ = 1."""
    bad = lambda delta, v: v - np.einsum("...i,...i->...", v, delta)[..., None] * delta  # noqa: E731
    counterexample(point_pairs(), lambda c: tangent_is_orthogonal(bad, c[1], c[2]))


def ks_pvalue_of_radius(sampler, seed, d, eps):
    """KS test of (‖δ‖/ε)^d against U(0, 1); uniform in the ball iff this is uniform."""
    points = sampler(seed, KS_SAMPLES, d, eps)
    return stats.kstest((vector_norm(points) / eps) ** d, "uniform").pvalue


#: Sampler radii pinned: the smallest normal number (the points' coordinates are subnormal, off by
#: 2^-52 of ε at most), 1e-300 and 1e300. A subnormal radius has no uniform law to test (a few
#: representable points); :func:`test_samplers_at_a_subnormal_radius_stay_within_rounding` says what
#: the samplers do there. Not the largest double: a point of the sphere of that radius, rounded, may
#: have a norm beyond it (inf).
SAMPLER_RADII = (SMALLEST_NORMAL, 1e-300, 1e300)


@given(seeds(), dims(1, 50), radii)
@with_examples([(0, 3, eps) for eps in SAMPLER_RADII], unpack=True)
def test_uniform_ball_passes_ks_test_on_radius(seed, d, eps):
    assert ks_pvalue_of_radius(uniform_ball, seed, d, eps) > KS_ALPHA


@given(seeds(), dims(1, 50), radii)
@example(0, 10**3, 1e-8)
@with_examples([(0, d, eps) for eps in SAMPLER_RADII + (SMALLEST_SUBNORMAL, 1e-321) for d in (1, 3)], unpack=True)
def test_uniform_ball_points_are_strictly_inside(seed, d, eps):
    points = uniform_ball(seed, 64, d, eps)
    assert points.shape == (64, d)
    assert np.all(vector_norm(points) < eps)


def uniform_radius_ball(rng, n, d, eps):
    """Bug: radius uniform in [0, ε) instead of ε U^(1/d)."""
    rng = np.random.default_rng(rng)
    return (eps * rng.random(n))[:, None] * uniform_sphere(rng, n, d, 1.0)


def test_control_uniform_radius_sampler_is_rejected():
    seed, d, eps = counterexample(st.tuples(seeds(), dims(1, 50), radii),
                                  lambda c: ks_pvalue_of_radius(uniform_radius_ball, *c) > KS_ALPHA)
    assert d >= 2  # at d = 1 a uniform radius is the right law


def ks_pvalue_of_first_coordinate(sampler, seed, d):
    """KS test of (u_1 + 1)/2 against Beta((d−1)/2, (d−1)/2), the law of a uniform point's coordinate."""
    u = sampler(seed, KS_SAMPLES, d, 1.0)[:, 0]
    return stats.kstest((u + 1.0) / 2.0, stats.beta((d - 1) / 2.0, (d - 1) / 2.0).cdf).pvalue


@given(seeds(), dims(2, 50))
def test_uniform_sphere_coordinate_has_beta_law(seed, d):
    assert ks_pvalue_of_first_coordinate(uniform_sphere, seed, d) > KS_ALPHA


@given(seeds(), dims(1, 50), radii)
@with_examples([(0, 3, eps) for eps in SAMPLER_RADII], unpack=True)
def test_uniform_sphere_points_are_on_the_sphere(seed, d, eps):
    assert np.all(on_sphere(uniform_sphere(seed, 32, d, eps), eps))


@pytest.mark.parametrize("eps", [SMALLEST_SUBNORMAL, 1e-321, 1e-310])
def test_samplers_at_a_subnormal_radius_stay_within_rounding(eps):
    """Below the normal range ε u rounds each coordinate by up to half a spacing: the sphere's points
    are within subnormal_slack(d) of it (not within SPHERE_RTOL ε, less than a spacing), and the
    ball's points are still strictly inside (a draw that rounds onto the sphere is redrawn)."""
    for d in (1, 3):
        sphere = uniform_sphere(0, 32, d, eps)
        assert np.all(np.abs(vector_norm(sphere) - eps) <= SPHERE_RTOL * eps + subnormal_slack(d))
        assert np.all(vector_norm(uniform_ball(0, 32, d, eps)) < eps)


def anisotropic_sphere(rng, n, d, eps):
    """Bug: a normalised Gaussian with a stretched first axis is not uniform on the sphere."""
    g = np.random.default_rng(rng).standard_normal((n, d)) * np.r_[2.0, np.ones(d - 1)]
    return eps * g / vector_norm(g, keepdims=True)


def test_control_anisotropic_sphere_sampler_is_rejected():
    counterexample(st.tuples(seeds(), dims(2, 50)),
                   lambda c: ks_pvalue_of_first_coordinate(anisotropic_sphere, *c) > KS_ALPHA)


vectors = st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=8).map(np.array)


@given(vectors, st.integers(-300, 300))
@example(np.array([3.0, 4.0]), -200)
@example(np.array([3.0, 4.0]), 200)
@example(np.array([2.0 ** 500, 1.0]), 0)     # the sum of squares at NORM_FAST_MAX: fast path
@example(np.array([2.0 ** 500, 2.0 ** 500]), 0)  # just above it: the scaled path
@example(np.array([2.0 ** -500]), 0)         # the sum of squares at NORM_FAST_MIN: fast path
@example(np.array([2.0 ** -501]), 0)         # just below it: the scaled path
@example(np.array([SMALLEST_SUBNORMAL]), 0)
@example(np.array([SMALLEST_SUBNORMAL] * 3), 0)                  # norm 1.7 spacings: rounds to 2
@example(np.array([7.0, 5.0, 1.0]) * SMALLEST_SUBNORMAL, 0)
@example(np.array([SMALLEST_NORMAL, -SMALLEST_NORMAL, SMALLEST_SUBNORMAL]), 0)
@example(np.array([1e-300, 1e-300]), 0)
@example(np.array([1e300, -1e300, 1e300]), 0)                     # the squares overflow: scaled path
@example(np.array([1e300, 1e-300, SMALLEST_SUBNORMAL]), 0)        # 600 decades inside one vector
@example(np.array([1.7976931348623157e308, 1e300]), 0)            # the largest double: still finite
@example(np.array([1.7976931348623157e308] * 2), 0)               # the norm exceeds it: inf
def test_vector_norm_is_exact_at_any_scale(x, exponent):
    scaled = x * 10.0 ** exponent
    reference = math.hypot(*scaled)  # an independent, scaling-safe implementation
    if math.isinf(reference):
        assert norm_overflows_where_the_exact_norm_is_out_of_range(vector_norm, scaled)
        return
    # Below the normal range the inputs themselves are rounded absolutely: atol = tiny.
    assert np.isclose(vector_norm(scaled), reference, rtol=FEW_OPS_RTOL, atol=np.finfo(float).tiny)
    # ... and the norm is 0 only for the zero vector (a subnormal norm is at least one spacing).
    assert (vector_norm(scaled) > 0.0) == bool(np.any(scaled != 0.0))


def norm_overflows_where_the_exact_norm_is_out_of_range(norm, x):
    """inf, with numpy's overflow warning, exactly where the exact norm rounds beyond the largest double.

    A norm at or above 2^1024 − 2^970 (the largest double plus half its ulp) rounds to inf: its
    square, Σ x_i² evaluated exactly in rationals, is at least that threshold squared.
    """
    from fractions import Fraction

    exact_square = sum(Fraction(float(v)) ** 2 for v in np.ravel(x))
    out_of_range = exact_square >= (Fraction(2) ** 1024 - Fraction(2) ** 970) ** 2
    with pytest.warns(RuntimeWarning, match="overflow"):
        value = norm(x)
    return out_of_range and value == np.inf


def test_control_numpy_norm_underflows_for_tiny_vectors():
    """Negative control (a recorded finding): np.linalg.norm gives 0 for a non-zero vector of size 1e-175."""
    exponent = counterexample(st.integers(-300, 0), lambda e: np.linalg.norm(np.array([3.0, 4.0]) * 10.0 ** e) > 0)
    assert exponent < -150


@st.composite
def batches(draw):
    """A 3-d batch (shape (n1, n2, n3)) and an axis; every slice along the axis has its own scale 10^[-300, 300]
    (slices of very different sizes in one batch), and now and then a zero slice."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=3, max_size=3)))
    axis = draw(st.integers(-3, 2))
    rng = np.random.default_rng(draw(seeds()))
    scale_shape = list(shape)
    scale_shape[axis] = 1
    x = rng.standard_normal(shape) * 10.0 ** rng.uniform(-300, 300, scale_shape)
    if draw(st.booleans()):
        x[(slice(None),) * (axis % 3) + (slice(0, 1),)] = 0.0  # the first slice across the axis: zeros
    note(f"shape {shape}, axis {axis}")
    return x, axis


def pinned_batches():
    """(x, axis) of shape (3, 3, 3) along every axis, each slice at its own extreme scale (5e-324, 2.2e-308,
    1e300) with integer entries 1..3 (exact multiples of the spacing below the normal range), one slice of
    zeros, and one mixed slice (1e300, 1, 5e-324) along the last axis."""
    pattern = np.arange(1.0, 28.0).reshape(3, 3, 3) % 3 + 1.0
    for axis in (0, 1, 2, -1):
        scale_shape = [3, 3, 3]
        scale_shape[axis] = 1
        scales = np.resize(np.array([SMALLEST_SUBNORMAL, SMALLEST_NORMAL, 1e300, 0.0]), 9).reshape(scale_shape)
        yield pattern * scales, axis
    yield np.array([[[1e300, 1.0, SMALLEST_SUBNORMAL]]]), -1


def per_slice_reference(x, axis):
    """math.hypot (scaling-safe) of every slice along ``axis``, shape x.shape without ``axis``."""
    return np.apply_along_axis(lambda v: math.hypot(*v), axis, x)


def norms_every_slice(norm, x, axis):
    expected = per_slice_reference(x, axis)
    got, kept = norm(x, axis=axis), norm(x, axis=axis, keepdims=True)
    return (got.shape == expected.shape and kept.shape == np.expand_dims(expected, axis).shape
            and bool(np.all(np.isclose(got, expected, rtol=FEW_OPS_RTOL, atol=np.finfo(float).tiny))))


@given(batches())
@example((np.array([[1e200, 1.0]]), -1))           # a batch of one on the scaled path: shape (1,), not ()
@example((np.array([[1e200, 1.0], [1e-200, 1e-201]]), 1))  # slices 400 decades apart along a positive axis
@example((np.array([[1.0, 2.0], [3.0, 4.0]]), 0))  # a first-axis norm of a 2-d array: never the last-axis sum
@with_examples(pinned_batches())
def test_vector_norm_scales_every_slice_on_its_own_along_any_axis(case):
    assert norms_every_slice(vector_norm, *case)


def common_scale_norm(x, axis=-1, keepdims=False):
    """Bug: one scale (the largest entry of the whole batch) for every slice; small slices underflow."""
    big = np.max(np.abs(x))
    norm = big * np.sqrt(np.sum((x / big) ** 2, axis=axis, keepdims=True))
    return norm if keepdims else np.squeeze(norm, axis=axis)


@pytest.mark.negative_control
def test_control_one_scale_for_the_whole_batch_underflows_small_slices():
    counterexample(batches(), lambda case: norms_every_slice(common_scale_norm, *case))


def names_the_last_axis_either_way(norm, x):
    """The last axis named -1 or x.ndim - 1 gives the same norms, bit for bit."""
    return np.array_equal(norm(x, axis=-1), norm(x, axis=x.ndim - 1))


@given(seeds(), st.lists(st.integers(1, 4), min_size=1, max_size=3))
def test_vector_norm_of_the_last_axis_does_not_depend_on_how_it_is_named(seed, shape):
    x = np.random.default_rng(seed).standard_normal(shape)
    assert names_the_last_axis_either_way(vector_norm, x)


def scaled_unless_minus_one(x, axis=-1, keepdims=False):
    """Bug: the plain sum of squares for axis=-1 only; the last axis named x.ndim - 1 takes the scaled path."""
    if axis == -1:
        return np.sqrt(np.sum(x * x, axis=-1, keepdims=keepdims))
    return common_scale_norm(x, axis=axis, keepdims=keepdims)


@pytest.mark.negative_control
def test_control_a_norm_that_depends_on_the_name_of_the_axis_is_caught():
    counterexample(st.tuples(seeds(), st.lists(st.integers(1, 4), min_size=1, max_size=3)),
                   lambda case: names_the_last_axis_either_way(
                       scaled_unless_minus_one, np.random.default_rng(case[0]).standard_normal(case[1])))


def promotes_to_double(norm, x):
    """float32, integer and list input gets the float64 norm of the same (promoted) numbers."""
    x32 = x.astype(np.float32)
    ints = np.rint(x * 100.0).astype(np.int64)
    pairs = [(x32, x32.astype(np.float64)), (ints, ints.astype(np.float64)), (x.tolist(), x)]
    return all(np.asarray(norm(given)).dtype == np.float64 and np.array_equal(norm(given), norm(exact))
               for given, exact in pairs)


@given(seeds(), st.lists(st.integers(1, 8), min_size=1, max_size=2))
def test_vector_norm_computes_in_double_precision_for_any_input_dtype(seed, shape):
    x = np.random.default_rng(seed).standard_normal(shape) * 10.0
    assert promotes_to_double(vector_norm, x)


@pytest.mark.negative_control
def test_control_a_norm_in_the_input_precision_is_caught():
    def single(x):  # injected bug: float32 input summed in float32
        x = np.asarray(x)
        return np.sqrt(np.einsum("...i,...i->...", x, x)) if x.dtype == np.float32 else vector_norm(x)
    counterexample(st.tuples(seeds(), st.lists(st.integers(1, 8), min_size=1, max_size=2)),
                   lambda case: promotes_to_double(
                       single, np.random.default_rng(case[0]).standard_normal(case[1]) * 10.0))


@pytest.mark.parametrize("shape, axis", [((3, 0), -1), ((0, 2), 0), ((0,), -1)])
def test_vector_norm_of_an_empty_vector_is_zero(shape, axis):
    """The norm in R^0 is 0, as ``np.linalg.norm`` has it (along the last axis and any other)."""
    expected = np.linalg.norm(np.zeros(shape), axis=axis)
    got = vector_norm(np.zeros(shape), axis=axis)
    assert got.shape == expected.shape and np.array_equal(got, expected)


class _ZeroFirst(np.random.Generator):
    """A generator whose first ``zeros`` Gaussian draws start with an all-zero row (probability 0 in practice)."""

    def __init__(self, seed, zeros):
        super().__init__(np.random.PCG64(seed))
        self.zeros = zeros

    def standard_normal(self, size=None):
        out = super().standard_normal(size)
        if self.zeros:
            out[0] = 0.0
            self.zeros -= 1
        return out


def redraws_zero_directions(sampler, seed, d, zeros):
    rng = _ZeroFirst(seed, zeros)
    with np.errstate(invalid="ignore", divide="ignore"):
        points = sampler(rng, 3, d, 1.0)
    return rng.zeros == 0 and bool(np.all(on_sphere(np.nan_to_num(points), 1.0)))


@given(seeds(), dims(1, 6), st.integers(1, 3))
def test_uniform_sphere_redraws_a_zero_gaussian_direction(seed, d, zeros):
    assert redraws_zero_directions(uniform_sphere, seed, d, zeros)


@pytest.mark.negative_control
def test_control_normalising_without_redrawing_is_caught():
    def no_redraw(rng, n, d, eps):  # injected bug: the zero Gaussian is divided by its norm 0
        g = rng.standard_normal((n, d))
        return eps * g / np.linalg.norm(g, axis=-1, keepdims=True)
    counterexample(st.tuples(seeds(), dims(1, 6), st.integers(1, 3)), lambda c: redraws_zero_directions(no_redraw, *c))


class _OnTheSphereFirst(np.random.Generator):
    """A generator whose first radius draw is 1 and first direction e_1: a point exactly on the sphere."""

    def __init__(self, seed):
        super().__init__(np.random.PCG64(seed))
        self.rigged = 2

    def random(self, size=None, *args, **kwargs):
        if self.rigged == 2:
            self.rigged -= 1
            return np.ones(size)
        return super().random(size, *args, **kwargs)

    def standard_normal(self, size=None, *args, **kwargs):
        if self.rigged == 1:
            self.rigged -= 1
            out = np.zeros(size)
            out[..., 0] = 1.0
            return out
        return super().standard_normal(size, *args, **kwargs)


def strictly_inside_after_a_boundary_draw(sampler, seed, d, eps):
    rng = _OnTheSphereFirst(seed)
    points = sampler(rng, 1, d, eps)
    return rng.rigged == 0 and bool(np.all(vector_norm(points) < eps))


@given(seeds(), dims(1, 6), radii)
def test_uniform_ball_redraws_a_point_that_lands_on_the_sphere(seed, d, eps):
    assert strictly_inside_after_a_boundary_draw(uniform_ball, seed, d, eps)


@pytest.mark.negative_control
def test_control_a_closed_ball_sampler_is_caught():
    def closed_ball(rng, n, d, eps):  # injected bug: keeps a point whose norm equals eps
        return eps * rng.random(n)[:, None] ** (1.0 / d) * uniform_sphere(rng, n, d, 1.0)
    counterexample(st.tuples(seeds(), dims(1, 6), radii), lambda c: strictly_inside_after_a_boundary_draw(closed_ball, *c))


@given(vectors.filter(lambda x: np.max(np.abs(x)) > 1e-50), st.floats(1e-200, 1e200))
@example(np.array([0.541, 0.215]), 1.9)  # unclipped, the dot product of the unit vectors is -1 - 2^-52
@example(np.array([SMALLEST_SUBNORMAL] * 3), 1.0)     # computed norm 1e-323: x/‖x‖ had norm 0.87 (cosine 0.75)
@example(np.array([SMALLEST_SUBNORMAL] * 3), 1e200)   # a subnormal vector against a normal one
@example(np.array([1.0, 2.0, 3.0]) * SMALLEST_SUBNORMAL, 1e200)
@example(np.array([SMALLEST_NORMAL, -SMALLEST_NORMAL]), 1.0)
@example(np.array([1e-300, 2e-300]), 1e200)
@example(np.array([1e300, -1e300, 5e299]), 1.0)
@example(np.array([1e300, 1e300]), 1e-200)
@example(np.array([1.7976931348623157e308, 1.0]), 1.0)
def test_cosine_is_scale_invariant_and_bounded(x, scale):
    same, opposite = cosine(x, scale * x), cosine(x, -scale * x)
    assert np.isclose(same, 1.0, rtol=0, atol=FEW_OPS_RTOL) and np.isclose(opposite, -1.0, rtol=0, atol=FEW_OPS_RTOL)
    assert -1.0 <= opposite <= same <= 1.0


#: Pairs with a known cosine at the extremes: orthogonal, at 0.8 (3-4-5 triangles) and at 0, as
#: multiples of the spacing (exact below the normal range) and at 1e300.
KNOWN_COSINES = [(np.array([2.0, 1.0]) * s, np.array([1.0, 2.0]) * s, 0.8) for s in EXTREME_SCALES] + [
    (np.array([3.0, 4.0]) * SMALLEST_SUBNORMAL, np.array([4.0, -3.0]) * 1e300, 0.0),
    (np.array([1.0, 1.0, 1.0]) * SMALLEST_SUBNORMAL, np.array([1.0, 1.0, 1.0]) * 1e-300, 1.0)]


@pytest.mark.parametrize("u, v, expected", KNOWN_COSINES)
def test_cosine_of_extreme_vectors_is_the_exact_cosine(u, v, expected):
    assert np.isclose(cosine(u, v), expected, rtol=0, atol=FEW_OPS_RTOL)


def cosine_without_rescaling(u, v):
    """Bug (the former cosine): u/‖u‖ with ‖u‖ rounded to a spacing for subnormal u."""
    return float(np.clip((u / vector_norm(u)) @ (v / vector_norm(v)), -1.0, 1.0))


@pytest.mark.negative_control
def test_control_a_cosine_without_rescaling_is_caught_at_subnormal_vectors():
    cases = st.lists(st.integers(1, 20), min_size=3, max_size=3).map(lambda k: np.array(k) * SMALLEST_SUBNORMAL)
    counterexample(cases, lambda x: np.isclose(cosine_without_rescaling(x, x), 1.0, rtol=0, atol=FEW_OPS_RTOL))


def test_zero_vectors_are_rejected_with_the_reason():
    with pytest.raises(ValueError, match="^delta must be non-zero: the tangent space of the sphere at 0 is undefined$"):
        project_tangent(np.array([[1.0, 0.0], [0.0, 0.0]]), np.ones(2))
    with pytest.raises(ValueError, match="^u must be non-zero: the angle with a zero vector is undefined$"):
        cosine(np.zeros(2), np.ones(2))
    with pytest.raises(ValueError, match="^x must be non-zero$"):
        unit(np.zeros(3))


@st.composite
def sphere_offsets(draw):
    """ε, rtol, and points at relative distance r·rtol from the sphere (r in [0, 2], away from 1)."""
    eps, rtol = draw(log_uniform(1e-3, 1e3)), draw(log_uniform(1e-9, 1e-2))
    d = draw(dims(1, 6))
    r = np.array(draw(st.lists(st.floats(0.0, 2.0).filter(lambda v: abs(v - 1.0) > 0.01), min_size=1, max_size=6)))
    sign = np.array(draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=r.size, max_size=r.size)))
    directions = uniform_sphere(draw(seeds()), r.size, d, 1.0)
    return eps, rtol, directions * (eps * (1.0 + sign * r * rtol))[:, None], r


def pinned_sphere_offsets():
    """sphere_offsets at ε = the smallest normal number (subnormal coordinates, off by 2^-52 of ε: far
    inside 0.01 rtol ε) and 1e300, rtol 1e-9 and 1e-2. A subnormal ε is left out: a relative distance
    r rtol ε below one spacing cannot be represented (test_on_sphere_at_a_subnormal_radius)."""
    r = np.array([0.0, 0.5, 0.98, 1.02, 2.0])
    sign = np.array([1.0, -1.0, 1.0, -1.0, 1.0])
    directions = np.vstack([DIRECTIONS, DIRECTIONS[:2]])
    for eps in (SMALLEST_NORMAL, 1e300):
        for rtol in (1e-9, 1e-2):
            yield eps, rtol, directions * (eps * (1.0 + sign * r * rtol))[:, None], r


@given(sphere_offsets())
@example((1.0, 0.5, np.array([[1.5], [0.5]]), np.array([1.0, 1.0])))  # exactly rtol away: still on it
@with_examples(pinned_sphere_offsets())
def test_on_sphere_accepts_relative_distances_up_to_rtol(case):
    """on_sphere(δ, ε, rtol) is |‖δ‖ − ε| <= rtol · ε: points at r·rtol are on it exactly when r <= 1."""
    assert sphere_membership_as_stated(on_sphere, case)


def sphere_membership_as_stated(member, case):
    eps, rtol, points, r = case
    return bool(np.array_equal(member(points, eps, rtol=rtol), r <= 1.0))


def test_control_an_absolute_sphere_tolerance_is_caught():
    def absolute(points, eps, rtol):  # injected bug: |‖δ‖ − ε| <= rtol, whatever ε
        return np.abs(vector_norm(points) - eps) <= rtol
    counterexample(sphere_offsets(), lambda c: sphere_membership_as_stated(absolute, c))


def test_on_sphere_at_a_subnormal_radius():
    """At ε of a few spacings on_sphere is |‖δ‖ − ε| <= rtol ε on the representable points: a norm of
    exactly ε is on the sphere, one spacing more is on it only when rtol ε reaches a spacing."""
    eps = 2 * SMALLEST_SUBNORMAL
    points = np.array([[eps, 0.0], [0.0, -eps], [3 * SMALLEST_SUBNORMAL, 0.0], [SMALLEST_SUBNORMAL, 0.0]])
    assert np.array_equal(on_sphere(points, eps), [True, True, False, False])
    assert np.array_equal(on_sphere(points, eps, rtol=0.5), [True, True, True, True])
