"""The threshold finder's result says what it counted: the counts at its ends, its bookkeeping, its method.

:func:`theory.landscape.minima_threshold` and :func:`theory.landscape.scan_threshold` return a
:class:`theory.landscape.threshold.ThresholdResult`. On pinned draws (d = 2 by the fold-free
covers, with a small box budget so that several covers run; d = 3 by the certified sphere
count; a draw with no second minimum up to the cap), each field is checked against an
independent computation:

* the certified count is at least 2 at ``eps`` and exactly 1 at ``below`` and at both ends of
  every unresolved slab; ``eps − below <= rtol · eps``; ``below >= certified_tau``;
* ``evaluations`` is the number of landscapes the finder computed, ``boxes`` the boxes of its
  covers (both counted by wrapping the functions it calls), ``method`` what ran; after its last
  allowed cover (THRESHOLD_MAX_COVERS) the finder scans the rest, with the same bookkeeping;
* the scan's slabs start at ``eps_lo`` and go up by ``ratio``, and its ``certified_tau`` is the
  contraction radius; without any certified radius (the label at f(x)) the scan starts
  THRESHOLD_MAX_DOUBLINGS halvings below the cap.

On the pinned draws where it does, the certified τ_ε reaches the first fold: the threshold's
top is within 2 rtol above it (tightness; soundness is Theorem 5.1's check).

Controls: the bracket reported the wrong way round (``eps`` and ``below`` exchanged), and box
bounds a hundred times too loose (which stop the cover short of the fold), are caught.
"""

import dataclasses

import numpy as np
import pytest

import theory.landscape.threshold as threshold
from theory.certificates.tau import certified_tau_eps
from theory.certificates.uniqueness import contraction_tau_eps
from theory.landscape.circle import circle_critical_points
from theory.landscape.sphere_scan import sphere_critical_points
from theory.landscape.threshold import (THRESHOLD_EPS_CAP, THRESHOLD_RTOL, THRESHOLD_SCAN_RATIO, minima_threshold,
                                        scan_threshold)
from theory.problem import Problem, make_problem

#: A small budget per fold-free cover, so that the d = 2 finder runs several covers.
SMALL_BUDGET = 8
#: (d, m, seed) of pinned families (label drawn at the cap): a finite threshold each.
FINITE = [(2, 8, 0), (2, 8, 1), (2, 32, 0), (3, 8, 1), (3, 8, 3), (3, 4, 3)]
#: A family with one minimum up to the cap (d = 2 and d = 3).
NONE_UP_TO_THE_CAP = [(2, 8, 2), (3, 4, 0)]


def family(d, m, seed):
    return make_problem(d, m, seed=seed, eps=THRESHOLD_EPS_CAP)


def certified_minima(problem, eps):
    """The certified number of local minima of ``problem``'s family at radius ``eps``."""
    at = Problem(problem.net, problem.x, problem.y, eps, problem.loss)
    scan = circle_critical_points(at) if problem.d == 2 else sphere_critical_points(at)
    assert scan.certified, f"the count at eps = {eps} is not certified"
    return sum(p.kind == "minimum" for p in scan.points)


def check_threshold_result(problem, result, rtol=THRESHOLD_RTOL, eps_cap=THRESHOLD_EPS_CAP):
    """The counts at the result's ends and slabs are what it claims (the module docstring)."""
    assert result.certified_counts
    assert isinstance(result.unresolved, tuple)
    assert all(lo < hi <= result.below * (1 + 1e-12) for lo, hi in result.unresolved)
    assert result.below >= result.certified_tau
    if np.isfinite(result.eps):
        assert certified_minima(problem, result.eps) >= 2
        assert result.eps - result.below <= rtol * result.eps
    else:
        assert result.below == eps_cap
    if result.below > result.certified_tau:
        assert certified_minima(problem, result.below) == 1
    for lo, hi in result.unresolved[:2] + result.unresolved[-2:]:
        assert certified_minima(problem, lo) == 1 and certified_minima(problem, hi) == 1
    return True


class Spy:
    """Wraps a function of :mod:`theory.landscape.threshold` and records its calls."""

    def __init__(self, monkeypatch, name):
        self.function, self.calls = getattr(threshold, name), []
        monkeypatch.setattr(threshold, name, self)

    def __call__(self, *args, **kwargs):
        out = self.function(*args, **kwargs)
        self.calls.append(out)
        return out


@pytest.mark.parametrize("d, m, seed", FINITE + NONE_UP_TO_THE_CAP)
def test_the_threshold_has_two_minima_at_its_top_and_one_at_its_bottom_and_slabs(d, m, seed, monkeypatch):
    problem = family(d, m, seed)
    counts = Spy(monkeypatch, "circle_critical_points" if d == 2 else "sphere_critical_points")
    covers = Spy(monkeypatch, "fold_free_annulus")
    result = minima_threshold(problem, max_boxes=SMALL_BUDGET if d == 2 else None)
    assert np.isfinite(result.eps) == ((d, m, seed) in FINITE)
    assert result.evaluations == len(counts.calls)
    assert result.boxes == sum(cover.evaluations for cover in covers.calls)
    assert result.method == ("annulus" if d == 2 else "scan")
    if d == 2 and (d, m, seed) in FINITE:
        assert covers.calls and result.unresolved, "the small budget makes the finder run covers"
    monkeypatch.undo()
    assert check_threshold_result(problem, result)


def test_after_its_last_allowed_cover_the_finder_scans_the_rest(monkeypatch):
    # d = 2 with a small box budget runs more than two covers; allowed two, it runs exactly two and
    # brackets the threshold by the scan from where the second stopped, with the same bookkeeping.
    problem = family(2, 8, 0)
    covers = Spy(monkeypatch, "fold_free_annulus")
    minima_threshold(problem, max_boxes=SMALL_BUDGET)
    assert len(covers.calls) > 2
    monkeypatch.undo()
    monkeypatch.setattr(threshold, "THRESHOLD_MAX_COVERS", 2)
    counts, covers = Spy(monkeypatch, "circle_critical_points"), Spy(monkeypatch, "fold_free_annulus")
    result = minima_threshold(problem, max_boxes=SMALL_BUDGET)
    assert (len(covers.calls), result.method, result.evaluations) == (2, "annulus", len(counts.calls))
    assert result.boxes == sum(cover.evaluations for cover in covers.calls)
    monkeypatch.undo()
    assert np.isfinite(result.eps) and check_threshold_result(problem, result)


@pytest.mark.parametrize("d, m, seed", [(2, 8, 0), (3, 8, 1)])
def test_the_scan_starts_where_it_is_told_and_steps_by_its_ratio(d, m, seed, monkeypatch):
    problem = family(d, m, seed)
    tau0 = contraction_tau_eps(problem, eps_cap=THRESHOLD_EPS_CAP)
    default = scan_threshold(problem)
    assert default.certified_tau == tau0 and default.method == "scan"
    assert default.unresolved[0][0] == tau0
    counts = Spy(monkeypatch, "circle_critical_points" if d == 2 else "sphere_critical_points")
    start, ratio = 0.5 * tau0, 1.5
    result = scan_threshold(problem, eps_lo=start, ratio=ratio)
    assert result.evaluations == len(counts.calls) and result.certified_tau == tau0
    slabs = result.unresolved
    assert slabs[0][0] == start
    assert all(a[1] == b[0] for a, b in zip(slabs, slabs[1:])), "the slabs follow one another"
    # The scan's slabs (ratio apart, up to the first count of two), then the bisection's (narrower).
    ratios = np.array([hi / lo for lo, hi in slabs])
    scanned = int(np.argmax(ratios < ratio * (1 - 1e-12))) if np.any(ratios < ratio * (1 - 1e-12)) else len(ratios)
    assert scanned >= 1
    np.testing.assert_allclose(ratios[:scanned], ratio, rtol=1e-12)
    assert np.all(ratios[scanned:] < ratio)
    monkeypatch.undo()
    assert check_threshold_result(problem, result)
    assert abs(result.eps - default.eps) <= THRESHOLD_RTOL * default.eps or not result.resolved


def test_the_default_scan_ratio_and_cap_are_the_documented_ones():
    assert THRESHOLD_SCAN_RATIO == 2.0 ** 0.25 and THRESHOLD_EPS_CAP == 20.0 and THRESHOLD_RTOL == 1e-3


@pytest.mark.negative_control
def test_control_a_bracket_the_wrong_way_round_is_caught():
    problem = family(*FINITE[0])
    result = minima_threshold(problem)
    swapped = dataclasses.replace(result, eps=result.below, below=result.eps)
    with pytest.raises(AssertionError):
        check_threshold_result(problem, swapped)


#: Pinned families whose certified τ_ε reaches the first fold (the annulus for d = 2, the shell for d = 3):
#: the first radius with two minima is within the threshold's resolution above τ_ε.
REACHES_THE_FOLD = [(2, 8, 0), (2, 8, 1), (2, 32, 0), (2, 8, 3), (3, 8, 1), (3, 8, 3)]


def check_tau_reaches_the_fold(problem, tau, result):
    """τ_ε <= the threshold (soundness) and the threshold's top is within 2 rtol above τ_ε (tightness)."""
    assert tau <= result.eps
    assert result.eps <= tau * (1 + 2 * THRESHOLD_RTOL), f"tau = {tau} stops short of the fold at {result.eps}"


@pytest.mark.parametrize("d, m, seed", REACHES_THE_FOLD)
def test_the_certified_tau_reaches_the_first_fold_on_the_pinned_draws(d, m, seed):
    problem = family(d, m, seed)
    result = minima_threshold(problem)
    assert result.certified_tau == certified_tau_eps(problem, eps_cap=THRESHOLD_EPS_CAP)
    check_tau_reaches_the_fold(problem, result.certified_tau, result)


@pytest.mark.negative_control
def test_control_box_bounds_a_hundred_times_too_loose_stop_short_of_the_fold():
    # The cover subdivides where a bound is loose: bounds 10 times too loose still reach the fold
    # on this draw (smaller boxes, more of them); 100 times too loose exhaust the budget first.
    from theory.certificates.tau import _annulus_tau

    problem = family(*REACHES_THE_FOLD[0])
    loose = _annulus_tau(problem, THRESHOLD_EPS_CAP, bound_factor=100.0)
    with pytest.raises(AssertionError, match="stops short"):
        check_tau_reaches_the_fold(problem, loose, minima_threshold(problem))


def test_the_shell_method_passes_its_box_budget_and_defaults_to_the_shells():
    from theory.certificates.shell import SHELL_MAX_BOXES, shell_tau_eps

    problem = family(3, 8, 1)
    assert certified_tau_eps(problem, eps_cap=THRESHOLD_EPS_CAP, method="shell") == shell_tau_eps(
        problem, THRESHOLD_EPS_CAP, max_boxes=SHELL_MAX_BOXES)
    small = certified_tau_eps(problem, eps_cap=THRESHOLD_EPS_CAP, method="shell", max_boxes=4)
    assert small == shell_tau_eps(problem, THRESHOLD_EPS_CAP, max_boxes=4)
    assert small < certified_tau_eps(problem, eps_cap=THRESHOLD_EPS_CAP, method="shell"), "the budget binds here"


@pytest.mark.parametrize("d", [2, 3])
def test_without_a_certified_radius_the_scan_starts_thirty_halvings_below_the_cap(d):
    # The label at f(x): ∂L/∂f(x) = 0, so no certificate holds at any radius (τ_ε = 0); two minima
    # appear at once, so the bracket's bottom is the scan's start.
    from theory.landscape.threshold import THRESHOLD_MAX_DOUBLINGS

    p = family(d, 8, 0)
    problem = Problem(p.net, p.x, float(p.net.value(p.x)), THRESHOLD_EPS_CAP, p.loss)
    start = THRESHOLD_EPS_CAP * 2.0 ** -THRESHOLD_MAX_DOUBLINGS
    for result in (minima_threshold(problem), scan_threshold(problem)):
        assert result.certified_tau == 0.0 and result.method == "scan"
        assert result.below == start and start < result.eps <= start * (1 + THRESHOLD_RTOL)


@pytest.mark.parametrize("cap", [THRESHOLD_EPS_CAP, 0.7 * THRESHOLD_EPS_CAP])
def test_the_contraction_radius_tries_no_radius_above_its_cap(cap, monkeypatch):
    # eps_cap is the largest radius tried: the bracket starts at the largest power of two <= cap.
    import theory.certificates.uniqueness as uniqueness

    tried, certificate = [], uniqueness.uniqueness_certificate
    monkeypatch.setattr(uniqueness, "uniqueness_certificate", lambda p, eps: tried.append(eps) or certificate(p, eps))
    tau = contraction_tau_eps(family(2, 8, 0), eps_cap=cap)
    assert len(tried) > 2 and 0.0 < tau < cap, (tau, tried)
    assert max(tried) == cap, tried  # the cap first, then only radii below it
