r"""The empirical uniqueness threshold of Theorem 5.1 for one draw.

The smallest radius at which a second local minimum of L appears on the sphere:
for d = 2 by fold-free covers and a certified bisection, for d = 3 with the
certified sphere count, otherwise by a geometric scan of radii with the
multi-start search.
"""


from __future__ import annotations

from dataclasses import dataclass


from theory.certificates.uniqueness import contraction_tau_eps
from theory.certificates.annulus import ANNULUS_MAX_BOXES, fold_free_annulus
from theory.certificates.tau import certified_tau_eps
from theory._validation import check_positive_float, check_positive_int
from theory.landscape.critical import check_sphere_problem
from theory.problem import Problem
from theory.landscape.sphere_scan import sphere_critical_points
from theory.landscape.search import DEFAULT_STARTS, local_minima
from theory.landscape.circle import circle_critical_points

__all__ = [
    "ThresholdResult",
    "minima_threshold",
    "THRESHOLD_EPS_CAP",
    "THRESHOLD_RTOL",
    "THRESHOLD_MAX_DOUBLINGS",
    "THRESHOLD_SCAN_RATIO",
    "THRESHOLD_MAX_COVERS",
    "scan_threshold",
]


# --- the empirical uniqueness threshold (Theorem 5.1) -------------------------------

#: Default largest radius tried by :func:`minima_threshold` (absolute). At input
#: scale 1 the first second minimum appears at ε ≈ 0.5 to 3 (d = 2, m = 32:
#: ``python -m theory.experiments.threshold_sweep``); 20 leaves a wide margin. A draw with one
#: minimum up to the cap reports an infinite threshold.
THRESHOLD_EPS_CAP = 20.0

#: Relative width of the final bracket of :func:`minima_threshold`'s bisection, and of
#: the slabs it may leave unresolved (d = 2).
THRESHOLD_RTOL = 1e-3

#: The scan of :func:`scan_threshold` starts this many halvings below the cap when the
#: draw has no certified radius.
THRESHOLD_MAX_DOUBLINGS = 30

#: Ratio of consecutive radii of :func:`scan_threshold` (the d > 2 search of
#: :func:`minima_threshold`): a window of radii with two minima narrower than this
#: ratio can fall between two radii of the scan.
THRESHOLD_SCAN_RATIO = 2.0 ** 0.25

#: Largest number of fold-free covers one call of :func:`minima_threshold` starts
#: (d = 2); beyond it the rest of the range is scanned (:func:`scan_threshold`) and
#: reported unresolved.
THRESHOLD_MAX_COVERS = 64


@dataclass(frozen=True)
class ThresholdResult:
    r"""The smallest radius at which a second local minimum appears, for one draw.

    Attributes
    ----------
    eps : float
        A radius with at least two local minima on the sphere, within
        ``rtol`` of ``below`` (inf when none was found up to the cap).
    below : float
        Every radius below it (and above ``certified_tau``) has exactly one local
        minimum, except possibly inside the ``unresolved`` slabs.
    certified_tau : float
        The draw's certified uniqueness radius
        (:func:`theory.certificates.certified_tau_eps`): exactly one minimum below it.
    evaluations : int
        Landscapes computed (circle scans or searches).
    certified_counts : bool
        True when every count came from a certified circle scan (d = 2) or a certified
        sphere count (d = 3, :func:`theory.landscape.sphere_scan.sphere_critical_points`).
    unresolved : tuple of (float, float)
        Slabs [lo, hi] of radii with one minimum at both ends where no proof says
        that the count stays 1 in between (a window with two minima narrower than
        the slab could hide there). For d = 2 each is at most ``rtol`` wide unless
        a cover ran out of budget; for d > 2 (and d = 2 without a certified radius)
        they are the slabs of the scan.
    method : str
        ``"annulus"`` (d = 2: fold-free covers between counts) or ``"scan"``
        (counts on a geometric scan, :func:`scan_threshold`).
    boxes : int
        Boxes evaluated by the fold-free covers (d = 2).
    """

    eps: float
    below: float
    certified_tau: float
    evaluations: int
    certified_counts: bool
    unresolved: tuple = ()
    method: str = "scan"
    boxes: int = 0

    @property
    def resolved(self) -> bool:
        """No unresolved slab below ``below``: ``eps`` is the first radius with two minima, to ``rtol``."""
        return not self.unresolved


class _Counter:
    """Counts local minima of ``problem``'s family at radius ε, tallying evaluations and certification."""

    def __init__(self, problem, n_starts, seed):
        self.problem, self.n_starts, self.seed = problem, n_starts, seed
        self.evaluations, self.certified = 0, True

    def __call__(self, eps):
        problem = self.problem
        self.evaluations += 1
        at = Problem(problem.net, problem.x, problem.y, eps, problem.loss)
        if problem.d == 2:
            scan = circle_critical_points(at)
            self.certified = self.certified and scan.certified
            return sum(p.kind == "minimum" for p in scan.points)
        if problem.d == 3:
            scan = sphere_critical_points(at)
            if scan.certified:
                return scan.count("minimum")
        self.certified = False
        return len(local_minima(at, n_starts=self.n_starts, seed=self.seed, method="search"))


def _bisect(count, lo, hi, rtol, unresolved):
    """Shrink [lo, hi] (count 1 at lo or below it, >= 2 at hi) to width rtol · hi by counts at midpoints.

    A midpoint with one minimum moves ``lo`` up; the slab it skips (count 1 at both ends,
    not proved constant in between) is appended to ``unresolved``.
    """
    while hi - lo > rtol * hi:
        mid = 0.5 * (lo + hi)
        if count(mid) >= 2:
            hi = mid
        else:
            unresolved.append((float(lo), float(mid)))
            lo = mid
    return lo, hi


def _scan(count, lo, eps_cap, ratio, rtol, unresolved):
    """Geometric scan from lo (ratio) to eps_cap for a count >= 2, then bisection: (lo, hi) or (lo, inf)."""
    while lo < eps_cap:
        hi = min(ratio * lo, eps_cap)
        if count(hi) >= 2:
            return _bisect(count, lo, hi, rtol, unresolved)
        unresolved.append((float(lo), float(hi)))
        lo = hi
    return eps_cap, float("inf")


def scan_threshold(problem, *, eps_lo=None, eps_cap=THRESHOLD_EPS_CAP, ratio=THRESHOLD_SCAN_RATIO,
                   rtol=THRESHOLD_RTOL, n_starts=DEFAULT_STARTS, seed=0):
    r"""The first radius of a geometric scan in ε at which the landscape finder counts two local minima.

    Counts (the certified circle scan for d = 2, the certified sphere count for d = 3
    where it certifies, the multi-start search otherwise) at :math:`\varepsilon_0\,r^k`, k = 1, 2, ..., up to the
    cap; between the last radius with one minimum and the first with two, bisection
    by counts to ``rtol``. No certificate is used above :math:`\varepsilon_0`, so this is
    an independent estimate of the threshold (the checks compare the certified τ_ε
    with it): a window of radii with two minima narrower than the ratio r can fall
    between two radii of the scan, and is then missed.

    Parameters
    ----------
    problem : Problem
        d >= 2; the family is ``problem`` with only ε varied.
    eps_lo : float, optional
        Where the scan starts; default the contraction radius
        (:func:`theory.certificates.uniqueness.contraction_tau_eps`), below which the count is
        provably 1 (or ``eps_cap`` · 2^-THRESHOLD_MAX_DOUBLINGS when it is 0).
    eps_cap : float
        Largest radius tried.
    ratio : float
        Ratio of consecutive radii, > 1.
    rtol : float
        Relative width of the final bracket.
    n_starts, seed
        Of the multi-start search (d > 2).

    Returns
    -------
    ThresholdResult
        ``method`` "scan"; every slab of the scan below ``below`` is listed in ``unresolved``;
        ``certified_tau`` is the contraction radius.
    """
    check_sphere_problem(problem)
    eps_cap = check_positive_float("eps_cap", eps_cap)
    ratio = check_positive_float("ratio", ratio)
    if ratio <= 1.0:
        raise ValueError(f"ratio must be > 1, got {ratio}")
    rtol = check_positive_float("rtol", rtol)
    tau0 = contraction_tau_eps(problem, eps_cap=eps_cap)
    if eps_lo is None:
        eps_lo = tau0 if tau0 > 0.0 else eps_cap * 2.0 ** -THRESHOLD_MAX_DOUBLINGS
    eps_lo = check_positive_float("eps_lo", eps_lo)
    count, unresolved = _Counter(problem, n_starts, seed), []
    lo, hi = _scan(count, eps_lo, eps_cap, ratio, rtol, unresolved)
    return ThresholdResult(float(hi), float(lo), tau0, count.evaluations, count.certified, tuple(unresolved),
                           "scan")


def _doubling_threshold(problem, eps_cap=THRESHOLD_EPS_CAP, rtol=THRESHOLD_RTOL, n_starts=DEFAULT_STARTS,
                        seed=0, tau=None):
    """The doubling search, an alternative to :func:`minima_threshold` (controls only): doubling from τ_ε, then bisection.

    τ_ε defaults to the contraction's
    (:func:`theory.certificates.uniqueness.contraction_tau_eps`). It steps over a window with two minima
    that closes before the next doubling.
    """
    tau = contraction_tau_eps(problem, eps_cap=eps_cap) if tau is None else tau
    count, unresolved = _Counter(problem, n_starts, seed), []
    lo = tau if tau > 0.0 else eps_cap * 2.0 ** -THRESHOLD_MAX_DOUBLINGS
    lo, hi = _scan(count, lo, eps_cap, 2.0, rtol, unresolved)
    return ThresholdResult(float(hi), float(lo), tau, count.evaluations, count.certified, tuple(unresolved), "scan")


def minima_threshold(problem, *, eps_cap=THRESHOLD_EPS_CAP, rtol=THRESHOLD_RTOL,
                     n_starts=DEFAULT_STARTS, seed=0, max_boxes=None):
    r"""The smallest radius at which a second local minimum of L appears on the sphere.

    The family is ``problem`` with only ε varied (network, input, label and
    loss fixed; build ``problem`` at the largest radius of interest so that its
    label keeps assumption 3 on every smaller ball). The count of minima need not
    be monotone in ε (windows 1 → 2 → 1 → 2 occur), so the search must not step
    over radii.

    **d = 2 (certified).** Below the certified τ_ε
    (:func:`theory.certificates.certified_tau_eps`) the count is provably 1. The
    fold-free cover that gives τ_ε stops at a radius r where it cannot prove a box
    (a fold, i.e. the birth of a (minimum, maximum) pair, or the budget); the
    certified circle scan counts at :math:`r(1 + \text{rtol})`. Two minima there: the
    threshold is in :math:`[r, r(1+\text{rtol})]`. One: that slab is recorded as
    unresolved and a new cover (:func:`theory.certificates.fold_free_annulus`)
    starts at its top, and so on up to the cap. After k consecutive covers stopped
    by the budget the slab grows to :math:`2^k` rtol (so that a hard stretch
    costs O(log) covers), and is bisected by counts if the count at its top is 2.

    *Guarantee (d = 2, certified counts).* ``eps`` has at least two minima; every
    radius below ``below`` has exactly one, except possibly inside the listed
    ``unresolved`` slabs, each with one minimum at both ends (a window with two
    minima would have to open and close inside one of them); ``eps - below <= rtol · eps``.
    With no unresolved slab, ``eps`` is the smallest radius with two minima, to
    ``rtol``. The proofs below ``below`` rely on the fold-free covers; the counts
    at the slab ends on the certified circle scan (``certified_counts``).

    **d > 2 (scanned).** The scan of :func:`scan_threshold` from the certified τ_ε
    (d = 3: the fold-free shell of :mod:`theory.certificates.shell`; otherwise the contraction radius):
    counts on a geometric scan of ratio :data:`THRESHOLD_SCAN_RATIO`, then bisection.
    For d = 3 each count is the certified sphere count
    (:func:`theory.landscape.sphere_scan.sphere_critical_points`) where it certifies, and the
    multi-start search otherwise (``certified_counts`` says which); for d > 3 the search (a
    missed minimum makes the threshold too large). Weaker than d = 2 in one more way: a
    window narrower than the scan's ratio can be stepped over; every slab of the scan is
    listed as unresolved.

    The same applies for d = 2 when the draw has no certified radius (τ_ε = 0).

    Parameters
    ----------
    problem : Problem
        d >= 2.
    eps_cap : float
        Largest radius tried.
    rtol : float
        Relative width of the final bracket (and of the unresolved slabs, d = 2).
    n_starts, seed
        Of the multi-start search (d > 2).
    max_boxes : int, optional
        Budget of each fold-free cover (d = 2, 3; default that of
        :func:`theory.certificates.certified_tau_eps`).

    Returns
    -------
    ThresholdResult
    """
    check_sphere_problem(problem)
    eps_cap = check_positive_float("eps_cap", eps_cap)
    rtol = check_positive_float("rtol", rtol)
    if max_boxes is not None:
        max_boxes = check_positive_int("max_boxes", max_boxes)
    tau = certified_tau_eps(problem, eps_cap=eps_cap, max_boxes=max_boxes)
    count, unresolved = _Counter(problem, n_starts, seed), []
    if problem.d != 2:
        lo = tau if tau > 0.0 else eps_cap * 2.0 ** -THRESHOLD_MAX_DOUBLINGS
        lo, hi = _scan(count, lo, eps_cap, THRESHOLD_SCAN_RATIO, rtol, unresolved)
        return ThresholdResult(float(hi), float(lo), tau, count.evaluations, count.certified, tuple(unresolved),
                               "scan")
    if max_boxes is None:
        max_boxes = ANNULUS_MAX_BOXES
    if tau == 0.0:
        lo, hi = _scan(count, eps_cap * 2.0 ** -THRESHOLD_MAX_DOUBLINGS, eps_cap, THRESHOLD_SCAN_RATIO, rtol,
                       unresolved)
        return ThresholdResult(float(hi), float(lo), tau, count.evaluations, count.certified, tuple(unresolved),
                               "scan")
    r, budget_stops, boxes, covers = tau, 0, 0, 0
    while r < eps_cap:
        probe = min(r * (1.0 + rtol * 2.0 ** budget_stops), 2.0 * r, eps_cap)
        if count(probe) >= 2:
            lo, hi = _bisect(count, r, probe, rtol, unresolved)
            return ThresholdResult(float(hi), float(lo), tau, count.evaluations, count.certified,
                                   tuple(unresolved), "annulus", boxes)
        unresolved.append((float(r), float(probe)))
        if probe >= eps_cap:
            break
        if covers >= THRESHOLD_MAX_COVERS:
            lo, hi = _scan(count, probe, eps_cap, THRESHOLD_SCAN_RATIO, rtol, unresolved)
            return ThresholdResult(float(hi), float(lo), tau, count.evaluations, count.certified,
                                   tuple(unresolved), "annulus", boxes)
        cover = fold_free_annulus(problem, probe, eps_cap, max_boxes=max_boxes)
        covers += 1
        boxes += cover.evaluations
        budget_stops = budget_stops + 1 if cover.stopped == "budget" else 0
        r = cover.reached
    return ThresholdResult(float("inf"), float(eps_cap), tau, count.evaluations, count.certified,
                           tuple(unresolved), "annulus", boxes)
