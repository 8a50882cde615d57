"""Geometry's norms and angles: the robust norm and the cosine, correct at any scale.

Properties (section 2 and section 4 of the paper use all of these):

* the robust norm agrees with ``numpy.linalg.norm`` where that is safe and stays
  correct for tiny and huge vectors (every slice of a batch on its own scale, along
  any axis, in double precision for any input dtype);
* the cosine is scale-invariant, bounded by 1 in magnitude, and exact at extreme
  vectors; zero vectors are rejected with the reason.

Each property has a negative control with a deliberately wrong variant. The projections
and samplers of the ball and sphere are checked in ``test_numerics_geometry.py``.

Every comparison is pinned at the extreme magnitudes of :data:`checks.support.EXTREME_SCALES`
(the smallest subnormal and normal numbers, 1e-300 and 1e300; vectors whose norm exceeds
the largest double overflow to inf, which is checked as such). The examples found that the
direction x/‖x‖ of a subnormal vector was off by up to 50 % (its computed norm is rounded
to a spacing: the cosine of x = (5e-324,)·3 with itself was 0.75); fixed in
:func:`theory.geometry._direction`.
"""

import math

import numpy as np
import pytest
from hypothesis import example, given, note
from hypothesis import strategies as st

from ..support import EXTREME_SCALES, SMALLEST_NORMAL, SMALLEST_SUBNORMAL, counterexample, with_examples
from theory.geometry import cosine, unit, project_tangent, vector_norm
from theory.testing.strategies import seeds
from theory.testing.tolerances import FEW_OPS_RTOL

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
