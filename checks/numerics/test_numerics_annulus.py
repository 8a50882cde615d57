"""The annulus certificate's box bounds hold at the points of their box (``theory.certificates.annulus``).

:func:`box_derivative_bounds` bounds, over a box [ε_a, ε_b] × [θ_a, θ_b], |∂_θ g| by M_1,
|∂_θ² g| by S_θθ, |∂_ε∂_θ g| by S_εθ and |∂_ε² g| by S_εε (g = ∂_θ L(εu(θ)), d = 2). On a grid
of the box, with the certified values and rounding errors of :func:`annulus_derivatives`:

* |∂_θ g| <= M_1 + its error at every point;
* by the mean value theorem, between two points of the box that differ in θ only (in ε only),
  ∂_θ g moves by at most S_θθ |Δθ| (S_εθ |Δε|) and ∂_ε g by at most S_εθ |Δθ| (S_εε |Δε|),
  plus the two points' errors: no finite-difference truncation enters.

:func:`annulus_tau_eps` is the cover of :func:`fold_free_annulus` from ε₀ to its cap, with the same
budget and resolution, an annulus of one radius included; the cover's fields are consistent.

The box tests A and B (:func:`theory.certificates.annulus._box_tests`), on quadratic models whose
second derivatives are known exactly: a box they prove holds no point where the model and its
θ-slope both vanish (on a grid of the box); they warn nothing where a bound overflowed or a box
has no width, and a test with finite bounds proves a box whatever the other test's bounds are.

Negative controls: bounds a thousand times too small are caught (the grid sees the derivatives
of the box, not only its centre); a τ that ignores the budget asked for is caught; box tests
with test A's cross term subtracted are caught.
"""

import numpy as np
from hypothesis import given, note, settings, strategies as st
import pytest

from ..support import counterexample, holds
from theory.certificates.annulus import annulus_derivatives, box_derivative_bounds, fold_free_annulus
from theory.certificates.tau import annulus_tau_eps
from theory.testing.strategies import log_uniform, problems

#: Grid points per side of the box.
GRID = 5


def boxes():
    """(problem (d = 2), ε_a, ε_b, θ_a, θ_b): radii up to the problem's ε, arcs up to a quarter turn."""
    return st.tuples(problems(d=2, m=st.integers(1, 40)), log_uniform(0.05, 1.0), log_uniform(1e-3, 1.0),
                     st.floats(0.0, 2 * np.pi), log_uniform(1e-3, np.pi / 2))


def check_the_bounds_hold_on_the_grid(problem, lo_fraction, width_fraction, theta_a, arc, bounds=box_derivative_bounds):
    ea = lo_fraction * problem.eps
    eb = ea * (1.0 + width_fraction)
    tb = theta_a + arc
    S_tt, S_et, S_ee, M1 = (float(b[0]) for b in bounds(problem, [ea], [eb], [theta_a], [tb]))
    note(f"box eps [{ea!r}, {eb!r}] x theta [{theta_a!r}, {tb!r}]: S_tt {S_tt!r}, S_et {S_et!r}, "
         f"S_ee {S_ee!r}, M1 {M1!r}")
    E, T = np.meshgrid(np.linspace(ea, eb, GRID), np.linspace(theta_a, tb, GRID), indexing="ij")
    values, errors = annulus_derivatives(problem, E.ravel(), T.ravel())
    dtheta, deps = values[1].reshape(E.shape), values[2].reshape(E.shape)
    err_t, err_e = errors[1].reshape(E.shape), errors[2].reshape(E.shape)
    assert np.all(np.abs(dtheta) <= M1 + err_t), "|d_theta g| exceeds M1"
    step_t, step_e = np.diff(T, axis=1), np.diff(E, axis=0)
    # along theta (axis 1) and along eps (axis 0), neighbours on the grid
    assert np.all(np.abs(np.diff(dtheta, axis=1)) <= S_tt * step_t + err_t[:, 1:] + err_t[:, :-1]), "S_tt"
    assert np.all(np.abs(np.diff(deps, axis=1)) <= S_et * step_t + err_e[:, 1:] + err_e[:, :-1]), "S_et (theta)"
    assert np.all(np.abs(np.diff(dtheta, axis=0)) <= S_et * step_e + err_t[1:] + err_t[:-1]), "S_et (eps)"
    assert np.all(np.abs(np.diff(deps, axis=0)) <= S_ee * step_e + err_e[1:] + err_e[:-1]), "S_ee"


@given(boxes())
def test_the_box_bounds_hold_at_every_point_of_a_grid_of_the_box(case):
    check_the_bounds_hold_on_the_grid(*case)


@pytest.mark.negative_control
def test_control_the_bounds_of_a_smaller_box_are_caught():
    def too_small(*box):
        return tuple(b * 1e-3 for b in box_derivative_bounds(*box))
    counterexample(boxes(), holds(check_the_bounds_hold_on_the_grid, bounds=too_small), shrink=False)


# --- the certified radius is the cover of the annulus from eps_lo ------------------------------

def covers():
    """(problem (d = 2), ε₀, eps_cap / ε₀ >= 1 (1: an annulus of one radius), a resolution rtol)."""
    return st.tuples(problems(d=2, m=st.integers(1, 20)), st.sampled_from([1.0, 1.5, 4.0]),
                     st.sampled_from([1e-3, 1e-2]))


def check_the_tau_is_the_cover(problem, ratio, rtol, tau=annulus_tau_eps):
    lo = 0.5 * problem.eps
    got = tau(problem, lo, lo * ratio, max_boxes=40, rtol=rtol)
    want = fold_free_annulus(problem, lo, lo * ratio, max_boxes=40, rtol=rtol)
    note(f"{got!r}")
    assert vars(got) == vars(want)
    assert got.eps_lo == lo and got.eps_hi == lo * ratio and lo <= got.reached <= lo * ratio
    assert got.proved == (got.reached >= got.eps_hi) and got.stopped in ("complete", "resolution", "budget")
    assert got.boxes <= got.evaluations <= 40


@given(covers())
def test_the_annulus_tau_is_the_cover_of_the_annulus_from_eps_lo_with_its_settings(case):
    check_the_tau_is_the_cover(*case)


@pytest.mark.negative_control
def test_control_a_tau_that_drops_the_budget_is_caught():
    def dropped(problem, lo, cap, *, max_boxes, rtol):  # the bug: a budget of one box, whatever was asked
        return fold_free_annulus(problem, lo, cap, max_boxes=1, rtol=rtol)
    counterexample(covers(), holds(check_the_tau_is_the_cover, tau=dropped), shrink=False)


@pytest.mark.parametrize("eps_lo, eps_hi, edges", [
    (1.0, 1.0, [1.0, 1.0]), (1.0, 3.0, [1.0, 2.0, 4.0]), (0.5, 4.0, [0.5, 1.0, 2.0, 4.0]), (1.0, 1.5, [1.0, 2.0]),
])
def test_the_slab_edges_double_from_eps_lo_to_the_first_at_or_above_eps_hi(eps_lo, eps_hi, edges):
    from theory.certificates._boxes import slab_edges

    assert slab_edges(eps_lo, eps_hi) == edges


# --- the box tests on quadratic models, whose second derivatives are known exactly ---------------

@st.composite
def quadratic_boxes(draw):
    r"""A quadratic model g = g_c + g_θ Δθ + g_ε Δε + ½ s Δθ² + c ΔθΔε + ½ q Δε² on a box of half-widths
    r_θ, r_ε, with g_c a multiple t ∈ [0, 2] of test A's right side (t = 1 its threshold)."""
    coef = st.one_of(st.just(0.0), st.floats(-1.0, 1.0))       # zeros: each term alone decides
    gt, ge, s, c, q = (draw(coef) for _ in range(5))
    rt, re = draw(log_uniform(1e-3, 1.0)), draw(log_uniform(1e-3, 1.0))
    right = (abs(gt) + abs(s) * rt + abs(c) * re) * rt + (abs(ge) + abs(c) * rt + abs(q) * re) * re
    g = draw(st.floats(0.0, 2.0)) * right * draw(st.sampled_from([1.0, -1.0]))
    return (g, gt, ge, s, c, q), rt, re


def box_test_is_sound(model, rt, re, box_tests=None):
    """A box the tests prove holds no point with g = ∂_θ g = 0: g or ∂_θ g keeps its sign on a grid of it."""
    from theory.certificates.annulus import _box_tests

    g, gt, ge, s, c, q = model
    one = lambda v: np.array([float(v)])  # noqa: E731
    proved, _ = (box_tests or _box_tests)((one(g), one(gt), one(ge)), (one(0.0),) * 3, one(abs(s)), one(abs(c)),
                                          one(abs(q)), one(re), one(rt))
    dt, de = np.meshgrid(np.linspace(-rt, rt, 21), np.linspace(-re, re, 21))
    values = g + gt * dt + ge * de + 0.5 * s * dt * dt + c * dt * de + 0.5 * q * de * de
    slopes = gt + s * dt + c * de
    tol = 1e-12 * (abs(g) + abs(gt) + abs(ge) + abs(s) + abs(c) + abs(q))

    def changes_sign(v):
        return v.min() < -tol and v.max() > tol

    note(f"proved {bool(proved[0])}")
    return not (proved[0] and changes_sign(values) and changes_sign(slopes))


@settings(max_examples=10 * settings.default.max_examples)        # a millisecond an example
@given(quadratic_boxes())
def test_a_box_the_tests_prove_has_no_point_where_the_quadratic_model_and_its_slope_vanish(case):
    assert box_test_is_sound(*case)


def _box_tests_without_the_cross_term(values, errors, S_tt, S_et, S_ee, he, ht):
    """Injected bug: test A's bound on |∂_θ g| with S_εθ r_ε subtracted instead of added."""
    from theory.certificates.annulus import _box_tests

    return _box_tests(values, (errors[0], errors[1] - 2.0 * S_et * he, errors[2]), S_tt, S_et, S_ee, he, ht)


@pytest.mark.negative_control
def test_control_box_tests_with_the_cross_term_subtracted_are_caught():
    counterexample(quadratic_boxes(), lambda c: box_test_is_sound(*c, box_tests=_box_tests_without_the_cross_term))


def test_the_box_tests_warn_nothing_where_bounds_overflow_or_a_box_has_no_width():
    # Rows: a proved box; S_θθ overflowed at zero half-width (inf * 0); g = ∂_θ g = 0 at a point
    # (0 / 0); a point with g = 1 (1 / 0); S_εε overflowed, so test A's right side is inf, while
    # test B proves ∂_θ g = 1 nonzero on its own finite bounds. Under the suite's filterwarnings
    # a warning fails.
    from theory.certificates.annulus import _box_tests

    values = tuple(np.array(v) for v in ([1.0, 1.0, 0.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0, 1.0], [0.0] * 5))
    errors = (np.zeros(5),) * 3
    S_tt, S_ee = np.array([0.1, np.inf, 0.0, 0.0, 0.0]), np.array([0.0, 0.0, 0.0, 0.0, np.inf])
    width = np.array([0.1, 0.0, 0.0, 0.0, 0.1])
    proved, _ = _box_tests(values, errors, S_tt, np.zeros(5), S_ee, width, width)
    assert proved.tolist() == [True, False, False, True, True]
