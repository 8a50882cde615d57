r"""Critical points of the loss on the sphere :math:`\varepsilon\mathbb S^{d-1}` and their classification.

A point δ on the sphere is critical for L restricted to the sphere when the
tangent gradient vanishes, :math:`\Gamma(\delta) = \mathcal P_{\mathcal T(\delta)}\partial L(\delta) = 0`
(section 4: "δ is a local optimum if and only if δ is parallel to ∂f(δ)", section 5.1).
Its type is read from the Riemannian Hessian
:math:`\mathcal P_{\mathcal T}\,\Xi(\delta)\,\mathcal P_{\mathcal T}` restricted to
the tangent space, with Ξ the paper's constrained Hessian
(:func:`theory.constrained.constrained_hessian`): positive definite on
:math:`\mathcal T(\delta)` is a strict local minimum, negative definite a strict
local maximum, mixed signs a saddle (Lemma 4.4 says there are none in its regime).

How the points are found:

1. multi-start descent (or ascent) of :math:`u \mapsto L(\varepsilon u/\|u\|)` over
   :math:`u \in \mathbb R^d` with scipy's L-BFGS-B, a smooth unconstrained
   parametrisation of the sphere whose gradient is
   :math:`(\varepsilon/\|u\|)\,\mathcal P_{\mathcal T}\partial L`;
2. Riemannian Newton steps on the sphere (:func:`newton_on_sphere`) to machine
   precision, solving :math:`Q^\top\Xi Q\,\xi = -Q^\top\Gamma` in an orthonormal
   tangent basis Q and retracting :math:`\delta \leftarrow \varepsilon\,(\delta + Q\xi)/\|\delta + Q\xi\|`;
3. de-duplication of points closer than :data:`MERGE_RTOL` · ε.

For d = 1 the sphere is the two points ±ε, each an isolated (hence local)
minimum and maximum of any function; these functions require d >= 2.

Arrays: ``delta`` has shape (d,) for one point, (n, d) for several.
"""


from __future__ import annotations


import numpy as np
from scipy.optimize import minimize

from theory._validation import as_rng, check_positive_int
from theory.landscape.critical import CRITICAL_GTOL, classify, newton_on_sphere
from theory.landscape.critical import check_sphere_problem
from theory.geometry import unit_directions, vector_norm
from theory.landscape.sphere_scan import sphere_critical_points
from theory.landscape.circle import circle_critical_points
from theory.geometry import tangent_component

__all__ = [
    "critical_points",
    "local_minima",
    "local_maxima",
    "local_extrema",
    "DEFAULT_STARTS",
    "MERGE_RTOL",
]

#: Default number of uniform starts of the multi-start search, to which the two
#: points ±∂L(0)/‖∂L(0)‖ are added (each start gives one descent and one ascent
#: run). 16 + 2 starts cover the sphere well enough in
#: the dimensions of the checks (d <= 8), where the landscape in the regime has
#: two critical points and the controls a handful.
DEFAULT_STARTS = 16

#: Two refined critical points closer than this fraction of ε are one point.
#: Newton refines to ~1e-12 ε; distinct critical points of a smooth landscape
#: with O(1) curvature are O(ε) apart, so 1e-6 separates the two cases widely.
MERGE_RTOL = 1e-6



def _sphere_runs(problem, starts, sign):
    eps = problem.eps

    def fun(u):
        nu = vector_norm(u)
        delta = eps * u / nu
        value, grad = problem.value_and_grad(delta)
        normal = u / nu
        tangent = tangent_component(grad, normal)
        return sign * float(value), sign * (eps / nu) * tangent

    out = []
    for u0 in starts:
        res = minimize(fun, u0, jac=True, method="L-BFGS-B",
                       options=dict(maxiter=500, gtol=1e-12, ftol=1e-15))
        out.append(eps * res.x / vector_norm(res.x))
    return out


def critical_points(problem, *, n_starts=DEFAULT_STARTS, seed=0, kinds=("minimum", "maximum"),
                    method="auto"):
    r"""Critical points of L on the sphere.

    Parameters
    ----------
    problem : Problem
        With d >= 2.
    n_starts : int
        Multi-start search only: starts (uniform on the sphere, plus
        ±∂L(0)/‖∂L(0)‖, where the small-ε minimum and maximum lie), each run
        downhill for minima and uphill for maxima.
    seed : int or numpy.random.Generator
        Multi-start search only: seed of the starts.
    kinds : tuple of str
        Multi-start search only: which searches to run, ``"minimum"`` (descent)
        and/or ``"maximum"`` (ascent). The circle scan and the sphere count find every kind at once.
    method : {"auto", "circle", "sphere", "search"}
        ``"circle"``: the certified scan of :func:`circle_critical_points` (d = 2
        only); ``"sphere"``: the certified count of
        :func:`theory.landscape.sphere_scan.sphere_critical_points` (d = 3 only; the points proved
        so far when it is not certified); ``"search"``: multi-start descent/ascent with
        Newton refinement; ``"auto"``: the circle scan for d = 2, for d = 3 the sphere
        count when it is certified and the search otherwise, the search for d > 3.

    Returns
    -------
    list of CriticalPoint
        Distinct points sorted by loss. From the search: points that Newton
        refined to ‖Γ‖ <= CRITICAL_GTOL·‖∂L‖, merged when closer than
        MERGE_RTOL·ε, each with the number of runs that reached it (``hits``);
        saddles only when a run ends on one. From the circle scan or the sphere count: every
        critical point (see :func:`circle_critical_points` for when this is
        certified).
    """
    check_sphere_problem(problem)
    if method not in ("auto", "circle", "sphere", "search"):
        raise ValueError(f"method must be 'auto', 'circle', 'sphere' or 'search', got {method!r}")
    n_starts = check_positive_int("n_starts", n_starts)
    rng = as_rng("seed", seed)
    if method == "circle" or (method == "auto" and problem.d == 2):
        return circle_critical_points(problem).points
    if method == "sphere" or (method == "auto" and problem.d == 3):
        scan = sphere_critical_points(problem)
        if scan.certified or method == "sphere":
            return scan.points
    d = problem.d
    g0 = problem.loss_grad(np.zeros(d))
    starts = list(unit_directions(rng, n_starts, d))
    if vector_norm(g0) > 0:
        starts += [-g0 / vector_norm(g0), g0 / vector_norm(g0)]
    found, hits = [], []
    for kind in kinds:
        sign = {"minimum": 1.0, "maximum": -1.0}[kind]
        for delta in _sphere_runs(problem, starts, sign):
            delta, ratio = newton_on_sphere(problem, delta)
            if ratio > CRITICAL_GTOL:
                continue
            same = [i for i, (q, _) in enumerate(found) if vector_norm(delta - q) <= MERGE_RTOL * problem.eps]
            if same:
                hits[same[0]] += 1
                continue
            found.append((delta, ratio))
            hits.append(1)
    points = [classify(problem, delta, ratio, hits=n) for (delta, ratio), n in zip(found, hits)]
    return sorted(points, key=lambda p: p.loss)


def local_minima(problem, *, n_starts=DEFAULT_STARTS, seed=0, method="auto"):
    """The strict local minima of L on the sphere (see :func:`critical_points`)."""
    return [p for p in critical_points(problem, n_starts=n_starts, seed=seed, kinds=("minimum",),
                                       method=method)
            if p.kind == "minimum"]


def local_maxima(problem, *, n_starts=DEFAULT_STARTS, seed=0, method="auto"):
    """The strict local maxima of L on the sphere (see :func:`critical_points`)."""
    return [p for p in critical_points(problem, n_starts=n_starts, seed=seed, kinds=("maximum",),
                                       method=method)
            if p.kind == "maximum"]


def local_extrema(problem, *, n_starts=DEFAULT_STARTS, seed=0, method="auto"):
    """``(local_minima(...), local_maxima(...))`` with the same arguments, scanning once where it can.

    The circle scan (d = 2 under ``"auto"``, or ``method="circle"``) finds every
    kind at once, so one scan gives both lists; otherwise this is the two calls.
    Either way the lists are those of :func:`local_minima` and :func:`local_maxima`.
    """
    check_sphere_problem(problem)
    if method == "circle" or (method == "auto" and problem.d == 2):
        points = critical_points(problem, n_starts=n_starts, seed=seed, method=method)
        return ([p for p in points if p.kind == "minimum"], [p for p in points if p.kind == "maximum"])
    return (local_minima(problem, n_starts=n_starts, seed=seed, method=method),
            local_maxima(problem, n_starts=n_starts, seed=seed, method=method))
