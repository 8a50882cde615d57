"""Geometry of the ball and sphere: projections and samplers.

Properties (section 2 and section 4 of the paper use all of these):

* projection onto the ball lands in the ball, is idempotent and non-expansive,
  and leaves points inside unchanged;
* the tangent projection is orthogonal to δ and idempotent;
* ``uniform_ball`` is uniform in the open ball: (‖δ‖/ε)^d passes a
  Kolmogorov–Smirnov test against U(0, 1), while a uniform-radius sampler is
  rejected by the same test (for d >= 2; at d = 1 the two coincide);
* ``uniform_sphere`` is uniform on the sphere: (u_1 + 1)/2 ~ Beta((d-1)/2, (d-1)/2);
* the samplers redraw a zero Gaussian direction and a point that lands on the sphere;
* ``on_sphere`` accepts relative distances up to rtol, also at a subnormal radius.

Each property has a negative control with a deliberately wrong variant. The robust norm
and the cosine are checked in ``test_numerics_geometry_norms.py``.

Every comparison is pinned at the extreme magnitudes of :data:`checks.support.EXTREME_SCALES`
(the smallest subnormal and normal numbers, 1e-300 and 1e300). Below the normal range
a rounding is absolute (half of 2^-1074), so the projections' and the tangent
projection's bounds add the spacings of the coordinates that round there
(:func:`subnormal_slack`). The examples found that the direction x/‖x‖ of a subnormal
vector was off by up to 50 % (its computed norm is rounded to a spacing: the tangent
projection at such a δ was not orthogonal to it), and that the projection onto a ball of
subnormal radius lost the point (ε = 1e-321, δ = (1e3, 0) gave 0); fixed in
:func:`theory.geometry._direction`.
"""

import math

import numpy as np
import pytest
from hypothesis import example, given, note
from hypothesis import strategies as st
from scipy import stats

from ..support import EXTREME_SCALES, SMALLEST_NORMAL, SMALLEST_SUBNORMAL, counterexample, with_examples
from theory.geometry import (
    SPHERE_RTOL, on_sphere, project_ball, project_tangent, uniform_ball, uniform_sphere, vector_norm,
)
from theory.testing.strategies import dims, log_uniform, seeds
from theory.testing.tolerances import FEW_OPS_RTOL, KS_ALPHA, KS_SAMPLES, PROJECTION_RTOL, SUBNORMAL_SPACING

radii = log_uniform(1e-8, 1e2)

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
