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

Negative controls: bounds a thousand times too small are caught (the grid sees the derivatives
of the box, not only its centre); a τ that ignores the budget asked for is caught.
"""

import numpy as np
from hypothesis import given, note, strategies as st
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
