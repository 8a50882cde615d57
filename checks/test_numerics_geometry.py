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
"""

import math

import numpy as np
import pytest
from hypothesis import example, given, note
from hypothesis import strategies as st
from scipy import stats

from checks.support import counterexample
from theory.geometry import (
    cosine,
    unit,
    on_sphere,
    project_ball,
    project_tangent,
    uniform_ball,
    uniform_sphere,
    vector_norm,
)
from theory.strategies import dims, log_uniform, seeds
from theory.tolerances import FEW_OPS_RTOL, KS_ALPHA, KS_SAMPLES, PROJECTION_RTOL

radii = log_uniform(1e-8, 1e2)


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
    return bool(np.all(vector_norm(project(a, eps)) <= eps * (1 + PROJECTION_RTOL)))


def is_idempotent(project, eps, a):
    once = project(a, eps)
    return bool(np.all(vector_norm(project(once, eps) - once) <= PROJECTION_RTOL * eps))


def is_non_expansive(project, eps, a, b):
    gap = vector_norm(project(a, eps) - project(b, eps))
    return bool(np.all(gap <= vector_norm(a - b) * (1 + PROJECTION_RTOL) + PROJECTION_RTOL * eps))


@given(point_pairs())
def test_projection_lands_in_the_ball(case):
    eps, a, _ = case
    assert lands_in_ball(project_ball, eps, a)


@given(point_pairs())
def test_projection_is_idempotent(case):
    eps, a, _ = case
    assert is_idempotent(project_ball, eps, a)


@given(point_pairs())
def test_projection_is_non_expansive(case):
    eps, a, b = case
    assert is_non_expansive(project_ball, eps, a, b)


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


def tangent_is_orthogonal(project, delta, v):
    inner = np.einsum("...i,...i->...", project(delta, v), delta)
    return bool(np.all(np.abs(inner) <= FEW_OPS_RTOL * vector_norm(v) * vector_norm(delta)))


@given(point_pairs())
def test_tangent_projection_is_orthogonal_to_delta(case):
    _, delta, v = case
    assert tangent_is_orthogonal(project_tangent, delta, v)


@given(point_pairs())
def test_tangent_projection_is_idempotent(case):
    _, delta, v = case
    once = project_tangent(delta, v)
    assert np.allclose(project_tangent(delta, once), once, rtol=0, atol=FEW_OPS_RTOL * vector_norm(v).max())


def test_control_tangent_projection_without_normalisation_is_caught():
    """Bug: v − (vᵀδ) δ, correct only when ‖δ‖ = 1."""
    bad = lambda delta, v: v - np.einsum("...i,...i->...", v, delta)[..., None] * delta  # noqa: E731
    counterexample(point_pairs(), lambda c: tangent_is_orthogonal(bad, c[1], c[2]))


def ks_pvalue_of_radius(sampler, seed, d, eps):
    """KS test of (‖δ‖/ε)^d against U(0, 1); uniform in the ball iff this is uniform."""
    points = sampler(seed, KS_SAMPLES, d, eps)
    return stats.kstest((vector_norm(points) / eps) ** d, "uniform").pvalue


@given(seeds(), dims(1, 50), radii)
def test_uniform_ball_passes_ks_test_on_radius(seed, d, eps):
    assert ks_pvalue_of_radius(uniform_ball, seed, d, eps) > KS_ALPHA


@given(seeds(), dims(1, 50), radii)
@example(0, 10**3, 1e-8)
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
def test_uniform_sphere_points_are_on_the_sphere(seed, d, eps):
    assert np.all(on_sphere(uniform_sphere(seed, 32, d, eps), eps))


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
def test_vector_norm_is_exact_at_any_scale(x, exponent):
    scaled = x * 10.0 ** exponent
    reference = math.hypot(*scaled)  # an independent, scaling-safe implementation
    # Below the normal range the inputs themselves are rounded absolutely: atol = tiny.
    assert np.isclose(vector_norm(scaled), reference, rtol=FEW_OPS_RTOL, atol=np.finfo(float).tiny)


def test_control_numpy_norm_underflows_for_tiny_vectors():
    """Negative control (a recorded finding): np.linalg.norm gives 0 for a non-zero vector of size 1e-175."""
    exponent = counterexample(st.integers(-300, 0), lambda e: np.linalg.norm(np.array([3.0, 4.0]) * 10.0 ** e) > 0)
    assert exponent < -150


@given(vectors.filter(lambda x: np.max(np.abs(x)) > 1e-50), st.floats(1e-200, 1e200))
@example(np.array([0.541, 0.215]), 1.9)  # unclipped, the dot product of the unit vectors is -1 - 2^-52
def test_cosine_is_scale_invariant_and_bounded(x, scale):
    same, opposite = cosine(x, scale * x), cosine(x, -scale * x)
    assert np.isclose(same, 1.0, rtol=0, atol=FEW_OPS_RTOL) and np.isclose(opposite, -1.0, rtol=0, atol=FEW_OPS_RTOL)
    assert -1.0 <= opposite <= same <= 1.0


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


@given(sphere_offsets())
@example((1.0, 0.5, np.array([[1.5], [0.5]]), np.array([1.0, 1.0])))  # exactly rtol away: still on it
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
