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

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq, minimize

from .bounds import (
    ball_derivative_bounds,
    contraction_tau_eps,
    gradient_norm_range,
    local_hessian_bound,
    third_derivative_bound,
    value_variation_bound,
)
from .certificates import ANNULUS_MAX_BOXES, certified_tau_eps, fold_free_annulus
from ._validation import as_rng, check_positive_float, check_positive_int
from .constrained import tangent_gradient
from .critical import (CRITICAL_GTOL, DEGENERATE_RTOL, NEWTON_STOP_RTOL, CriticalPoint, classify,
                       newton_on_sphere, tangent_basis, tangent_hessian)
from .critical import check_sphere_problem as _check
from .geometry import _unit_directions, cosine, uniform_ball, uniform_sphere, vector_norm
from .problem import Problem
from .sphere_scan import sphere_critical_points
from .tolerances import ELEMENTARY_ULPS, UNIT_ROUNDOFF

__all__ = [
    "CriticalPoint",
    "tangent_basis",
    "tangent_hessian",
    "newton_on_sphere",
    "critical_points",
    "local_minima",
    "local_maxima",
    "CircleScan",
    "circle_critical_points",
    "CIRCLE_INITIAL_POINTS",
    "CIRCLE_MAX_EVALUATIONS",
    "SUBNORMAL_FLOOR",
    "ThresholdResult",
    "minima_threshold",
    "THRESHOLD_EPS_CAP",
    "THRESHOLD_RTOL",
    "THRESHOLD_MAX_DOUBLINGS",
    "THRESHOLD_SCAN_RATIO",
    "THRESHOLD_MAX_COVERS",
    "scan_threshold",
    "SearchResult",
    "min_gradient_norm",
    "min_gradient_cosine",
    "SEARCH_SAMPLES",
    "condition_6",
    "SEARCH_STARTS",
    "DEFAULT_STARTS",
    "MERGE_RTOL",
    "CRITICAL_GTOL",
    "NEWTON_STOP_RTOL",
    "DEGENERATE_RTOL",
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

#: Random points evaluated before the local searches of :func:`min_gradient_norm`
#: and :func:`min_gradient_cosine`; the best SEARCH_STARTS of them start the local searches.
SEARCH_SAMPLES = 256

#: Local searches (SLSQP / L-BFGS-B runs) of :func:`min_gradient_norm` and
#: :func:`min_gradient_cosine`, started from the best samples. Four distinct
#: basins are more than the regime's landscapes have (two critical points);
#: the controls find their counterexamples with the first.
SEARCH_STARTS = 4


def _sphere_runs(problem, starts, sign):
    eps = problem.eps

    def fun(u):
        nu = vector_norm(u)
        delta = eps * u / nu
        value, grad = problem.value_and_grad(delta)
        normal = u / nu
        tangent = grad - (grad @ normal) * normal
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
        :func:`theory.sphere_scan.sphere_critical_points` (d = 3 only; the points proved
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
    _check(problem)
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
    starts = list(_unit_directions(rng, n_starts, d))
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


# --- d = 2: the certified scan of the circle ---------------------------------------

#: Initial uniform grid of the circle scan (points on the circle).
CIRCLE_INITIAL_POINTS = 256

#: Budget of the circle scan (evaluations of the tangential derivative beyond
#: the initial grid). With the per-arc bounds, Figure 1's panels (input scale
#: up to 100, ratio up to 10, m = 32) needed at most 4673 evaluations over 100
#: draws each, and m = 1 or 3 at most 31801. The budget runs out near a
#: degenerate (double) critical point, or where every unit of an arc underflows
#: (m <= 3 at input scale 100 and ratio 10: 65 of 200 draws), and the scan then
#: says it is not certified; 2^16 evaluations take about 0.3 s.
CIRCLE_MAX_EVALUATIONS = 2**16


#: Absolute floor (per unit of ε) of the circle scan's error bound on g. Below
#: the normal range (~2.2e-308) floating point has absolute, not relative,
#: precision, and saturated units (|w_rᵀz| > ~745) underflow to exactly 0; a
#: sign of g smaller than this is never taken as certain. 2^-1000 ≈ 1e-301 is
#: far above the subnormal spacing times any factor of the evaluation.
SUBNORMAL_FLOOR = 2.0 ** -1000


@dataclass(frozen=True)
class CircleScan:
    r"""Result of :func:`circle_critical_points`.

    Attributes
    ----------
    points : list of CriticalPoint
        The critical points found, sorted by loss.
    certified : bool
        True when every interval of the final grid was proved to hold no zero
        or exactly one zero of the tangential derivative: ``points`` is then
        the complete list of critical points (up to the root finder's tolerance).
    evaluations : int
        Evaluations of the tangential derivative g(θ).
    lipschitz : float
        M1, the global bound on the derivative of g (the scan uses sharper per-arc bounds).
    curvature : float
        M2, the global bound on the second derivative of g.
    unresolved : int
        Intervals left unproved when the budget ran out (0 when certified).
    """

    points: list
    certified: bool
    evaluations: int
    lipschitz: float
    curvature: float
    unresolved: int


def _circle_bounds(problem):
    """Global bounds over the ball: a dict with M1, M2 (on |g'|, |g''|) and the pieces the arc bounds reuse."""
    net, x, eps = problem.net, problem.x, problem.eps
    G = gradient_norm_range(net, x, eps)[1]
    H = local_hessian_bound(net, x, eps)
    H3 = third_derivative_bound(net)
    f0 = float(net.value(x))
    R = value_variation_bound(net, x, eps)
    l1 = float(problem.loss.dvalue_abs_range(problem.y, f0 - R, f0 + R)[1])
    l2, l3 = (float(v) for v in problem.loss.curvature_bounds(problem.y, f0 - R, f0 + R))
    m1, m2 = _g_derivative_bounds(eps, G, H, H3, l1, l2, l3)
    return dict(m1=m1, m2=m2, G=G, H=H, H3=H3, l1=l1, l2=l2, l3=l3)


def _g_derivative_bounds(eps, G, H, H3, l1, l2, l3):
    """(M1, M2) from bounds on ‖∂^k f‖ (G, H, H3) and |∂^k L/∂f^k| (l1, l2, l3): the formulas of circle_critical_points."""
    T1 = l1 * G
    T2 = l2 * G * G + l1 * H
    T3 = l3 * G ** 3 + 3.0 * l2 * G * H + l1 * H3
    return eps * eps * T2 + eps * T1, eps ** 3 * T3 + 3.0 * eps * eps * T2 + eps * T1


def _arc_bounds(problem, a, b, glob):
    r"""Per-arc bounds (M1, M2), each of shape (n,), for the arcs [a, b] of the circle.

    Every point of the arc lies within ρ = ε(b − a)/2 of the point at its
    midpoint c (arc length), so the suprema of ‖∂f‖, ‖∂²f‖ and ‖∂³f‖ over the arc are
    at most those over the ball :math:`\mathbb B(x + \delta(c), \rho)`, bounded unit by unit
    by :func:`theory.bounds.ball_derivative_bounds` (derivation there), each capped by the
    global bound; T1, T2, T3 and M1, M2 follow as in :func:`circle_critical_points`.
    Saturated units (far from their kink) contribute almost nothing, which keeps
    the scan short where g is exponentially small but not zero.
    """
    eps = problem.eps
    c = 0.5 * (a + b)
    rho = 0.5 * eps * (b - a)
    z = problem.x + eps * np.stack([np.cos(c), np.sin(c)], axis=-1)
    G, H, H3 = ball_derivative_bounds(problem.net, z, rho)
    G = np.minimum(G, glob["G"])
    H = np.minimum(H, glob["H"])
    H3 = np.minimum(H3, glob["H3"])
    return _g_derivative_bounds(eps, G, H, H3, glob["l1"], glob["l2"], glob["l3"])


def _circle_derivative(problem, theta, glob):
    """g(θ) = ∂L(δ(θ))ᵀδ'(θ) and a bound on its rounding error, for θ of shape (n,).

    The error bound adds to the certified evaluation error of ∂L
    (:meth:`theory.problem.Problem.evaluation_error_bounds`) the effect of the
    rounding of δ(θ) itself (a few u·ε off the circle), bounded through the
    local derivative bound at the point (:func:`_arc_bounds` with a zero-length arc).
    """
    eps = problem.eps
    c, s = np.cos(theta), np.sin(theta)
    delta = eps * np.stack([c, s], axis=-1)
    tangent = eps * np.stack([-s, c], axis=-1)
    grad = problem.loss_grad(delta)
    g = np.einsum("...i,...i->...", grad, tangent)
    _, grad_err = problem.evaluation_error_bounds(delta)
    u = UNIT_ROUNDOFF
    local_m1, _ = _arc_bounds(problem, theta, theta, glob)
    # δ(θ) and δ'(θ) carry the rounding of cos and sin (ELEMENTARY_ULPS ulps, 2u each)
    # and of the product by ε, componentwise: ‖Δδ‖, ‖Δδ'‖ <= r ε with
    # r = (2 ELEMENTARY_ULPS + 1) u. They move g by at most r (ε² ‖∂²L‖ + ε ‖∂L‖) <= r M1
    # (local_m1 >= ε² T2 >= ε² ‖∂²L‖) and r ε ‖∂L‖; the dot product adds 2u ε ‖∂L‖.
    # Twice r + u covers r M1 + (r + 2u) ε ‖∂L‖ with room for the norms' own rounding.
    point = 2.0 * ((2.0 * ELEMENTARY_ULPS + 1.0) * u + u)
    err = eps * vector_norm(grad_err) + point * (eps * vector_norm(grad) + local_m1) + eps * SUBNORMAL_FLOOR
    return g, err


def _circle_scan(problem, initial_points, max_evaluations, bound_factor=1.0):
    """The scan of :func:`circle_critical_points`; ``bound_factor`` < 1 makes M1, M2 wrong (controls only)."""
    glob = _circle_bounds(problem)
    theta = np.linspace(0.0, 2.0 * np.pi, initial_points + 1)
    g, err = _circle_derivative(problem, theta, glob)
    a, b = theta[:-1], theta[1:]
    ga, gb, ea, eb = g[:-1], g[1:], err[:-1], err[1:]
    evaluations = theta.size
    roots = []  # (a, b, g(a)) of the intervals proved to hold exactly one zero
    aside = []  # intervals too short to split, unresolved
    while a.size:
        h = b - a
        m1, m2 = _arc_bounds(problem, a, b, glob)
        m1, m2 = bound_factor * m1, bound_factor * m2
        certain = (np.abs(ga) > ea) & (np.abs(gb) > eb)
        same = certain & (np.sign(ga) == np.sign(gb))
        opposite = certain & (np.sign(ga) != np.sign(gb))
        lipschitz_free = same & ((np.abs(ga) - ea) + (np.abs(gb) - eb) > m1 * h)
        # The secant slope is g'(xi) for some xi in [a, b], so |g'| >= slope - M2 h on [a, b];
        # multiplied through by h >= 0, so that an interval of zero width is never monotone
        # (instead of a division by zero).
        monotone = (np.abs(gb - ga) - ea - eb) > m2 * h * h
        zero_free = lipschitz_free | (same & monotone)
        one_zero = opposite & monotone
        roots += [(a[i], b[i], ga[i]) for i in np.nonzero(one_zero)[0]]
        keep = ~(zero_free | one_zero)
        a, b, ga, gb, ea, eb = a[keep], b[keep], ga[keep], gb[keep], ea[keep], eb[keep]
        if not a.size or evaluations + a.size > max_evaluations + initial_points + 1:
            break
        mid = 0.5 * (a + b)
        # An interval as short as the float spacing cannot be split: it stays unresolved
        # (set aside, so that it does not spend the budget on copies of itself).
        stuck = (mid <= a) | (mid >= b)
        if np.any(stuck):
            aside.append((a[stuck], b[stuck], ga[stuck], gb[stuck], ea[stuck], eb[stuck]))
            a, b, ga, gb, ea, eb, mid = (v[~stuck] for v in (a, b, ga, gb, ea, eb, mid))
            if not a.size:
                break
        gm, em = _circle_derivative(problem, mid, glob)
        evaluations += mid.size
        a, b = np.concatenate([a, mid]), np.concatenate([mid, b])
        ga, gb = np.concatenate([ga, gm]), np.concatenate([gm, gb])
        ea, eb = np.concatenate([ea, em]), np.concatenate([em, eb])
    for part in aside:
        a, b, ga, gb, ea, eb = (np.concatenate([v, w]) for v, w in zip((a, b, ga, gb, ea, eb), part))
    unresolved = int(a.size)
    # Best effort on the unproved intervals: a certain sign change still holds a zero.
    extra = (np.abs(ga) > ea) & (np.abs(gb) > eb) & (np.sign(ga) != np.sign(gb))
    roots += [(a[i], b[i], ga[i]) for i in np.nonzero(extra)[0]]

    def scalar(t):
        return float(_circle_derivative(problem, np.array([t]), glob)[0][0])

    points = []
    for lo, hi, glo in roots:
        t = brentq(scalar, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=200)
        delta = problem.eps * np.array([np.cos(t), np.sin(t)])
        grad = problem.loss_grad(delta)
        ratio = float(vector_norm(tangent_gradient(problem, delta))
                      / max(float(vector_norm(grad)), np.finfo(float).tiny))
        # g goes from - to + across the zero: L decreases then increases, a strict minimum.
        points.append(classify(problem, delta, ratio, kind="minimum" if glo < 0 else "maximum"))
    return CircleScan(points=sorted(points, key=lambda p: p.loss), certified=unresolved == 0,
                      evaluations=int(evaluations), lipschitz=float(glob["m1"]), curvature=float(glob["m2"]),
                      unresolved=unresolved)


def circle_critical_points(problem, *, initial_points=CIRCLE_INITIAL_POINTS,
                           max_evaluations=CIRCLE_MAX_EVALUATIONS):
    r"""Every critical point of L on the circle of radius ε (d = 2), with a proof that none was missed.

    Parametrise the circle as :math:`\delta(\theta) = \varepsilon(\cos\theta, \sin\theta)` and
    let :math:`\varphi(\theta) = L(\delta(\theta))`. Its derivative, the tangential
    derivative :math:`g = \varphi' = \partial L^\top\delta'`, vanishes exactly at the
    critical points; a zero where g goes from − to + is a strict local minimum
    of L, from + to − a strict local maximum.

    **Bounds.** With :math:`\|\delta^{(k)}\| = \varepsilon`,
    :math:`g' = \partial^2 L[\delta', \delta'] + \partial L^\top\delta''` and
    :math:`g'' = \partial^3 L[\delta']^3 + 3\,\partial^2 L[\delta', \delta''] + \partial L^\top\delta'''`, so

    .. math::
        |g'| \le M_1 = \varepsilon^2 T_2 + \varepsilon T_1, \qquad
        |g''| \le M_2 = \varepsilon^3 T_3 + 3\varepsilon^2 T_2 + \varepsilon T_1,

    where, over the ball, :math:`T_1 = \ell_1 G \ge \|\partial L\|`,
    :math:`T_2 = \ell_2 G^2 + \ell_1 H \ge \|\partial^2 L\|` and
    :math:`T_3 = \ell_3 G^3 + 3\ell_2 G H + \ell_1 H_3 \ge \|\partial^3 L\|` (the chain
    rule of section 5.2 and its third-order analogue), with G the certified upper
    bound on ‖∂f‖ (:func:`theory.bounds.gradient_norm_range`), H the Hessian bound
    (:func:`theory.bounds.local_hessian_bound`), :math:`H_3` the third-derivative
    bound (:func:`theory.bounds.third_derivative_bound`) and :math:`\ell_k` bounds on
    :math:`|\partial^k L/\partial f^k|` over the certified range of f
    (:meth:`theory.losses.Loss.curvature_bounds`).

    These global bounds hold on the whole circle. The scan uses, per arc, the
    sharper bounds of the same form over the small ball that contains the arc
    (:func:`_arc_bounds`), capped by the global ones: near saturated units g is
    exponentially small but not zero, and a global Lipschitz bound would need
    exponentially many points there.

    **Scan.** Start from ``initial_points`` equally spaced θ; an interval
    [a, b] of length h is proved

    * *zero-free* when g has the same certain sign at both ends and either
      :math:`|g(a)| + |g(b)| > M_1 h` (a zero θ* would need
      :math:`|g(a)| \le M_1(\theta^*-a)` and :math:`|g(b)| \le M_1(b-\theta^*)`), or g is
      monotone on it (below);
    * to hold *exactly one* zero when the signs are certain and opposite and g
      is monotone on it: the secant slope :math:`(g(b)-g(a))/h` equals
      :math:`g'(\xi)` for some ξ in [a, b], so
      :math:`|g'| \ge |g(b)-g(a)|/h - M_2 h > 0` on the whole interval;

    otherwise it is bisected (one batch of evaluations per round). "Certain"
    signs and the secant account for the certified rounding error of the
    computed g (:meth:`theory.problem.Problem.evaluation_error_bounds`). Each
    proved single zero is located by scipy's ``brentq``. The scan therefore
    cannot miss a pair of zeros between two grid points: every interval of the
    final grid is proved to hold none or one.

    Parameters
    ----------
    problem : Problem
        d = 2.
    initial_points : int
        Size of the initial grid, >= 4.
    max_evaluations : int
        Budget of bisection evaluations; when it runs out the result says
        ``certified=False`` and lists the zeros of the intervals whose sign
        change is certain.

    Returns
    -------
    CircleScan
    """
    _check(problem)
    if problem.d != 2:
        raise ValueError(f"d must be 2 for the circle scan, got d={problem.d}")
    initial_points = check_positive_int("initial_points", initial_points, minimum=4)
    max_evaluations = check_positive_int("max_evaluations", max_evaluations)
    return _circle_scan(problem, initial_points, max_evaluations)


@dataclass(frozen=True)
class SearchResult:
    """The worst point a search found: the smallest value and where.

    Attributes
    ----------
    value : float
    delta : ndarray, shape (d,) or (2, d) for a pair of points
    """

    value: float
    delta: np.ndarray


def _search_starts(rng, problem, n, on_sphere):
    sampler = uniform_sphere if on_sphere else uniform_ball
    return sampler(rng, n, problem.d, problem.eps)


def min_gradient_norm(problem, *, on_sphere=False, n_samples=SEARCH_SAMPLES,
                      n_starts=SEARCH_STARTS, seed=0):
    r"""Search for :math:`\min \|\partial f(x + \delta)\|` over the ball (or the sphere).

    Lemma 4.1 bounds this minimum below by B_l over :math:`\mathbb B(0, \varepsilon)`;
    Lemma 4.3 over :math:`\varepsilon\mathbb S^{d-1}`. The search evaluates
    ``n_samples`` uniform points, then runs SLSQP on :math:`\tfrac12\|\partial f\|^2`
    (gradient :math:`\partial^2 f\,\partial f` by a Hessian-vector product) under
    :math:`\|\delta\|^2 \le \varepsilon^2` (or ``= ε²``) from the best ``n_starts``.
    The result is an upper estimate of the true minimum (a point attains it).

    Returns
    -------
    SearchResult
        ``value`` the smallest norm found, ``delta`` of shape (d,) where.
    """
    _check(problem, need_d2=False)
    rng = as_rng("seed", seed)
    net, x, eps = problem.net, problem.x, problem.eps
    pts = _search_starts(rng, problem, n_samples, on_sphere)
    norms = vector_norm(net.grad(x + pts))
    order = np.argsort(norms)[:n_starts]
    best = SearchResult(float(norms[order[0]]), pts[order[0]])

    def fun(delta):
        g = net.grad(x + delta)
        return 0.5 * float(g @ g), net.hvp(x + delta, g)

    kind = "eq" if on_sphere else "ineq"
    cons = dict(type=kind, fun=lambda dl: (eps * eps - dl @ dl) / (eps * eps),
                jac=lambda dl: -2.0 * dl / (eps * eps))
    for i in order:
        res = minimize(fun, pts[i], jac=True, method="SLSQP", constraints=[cons],
                       options=dict(maxiter=100, ftol=1e-14))
        delta = res.x
        norm = vector_norm(delta)
        if on_sphere or norm > eps:  # SLSQP meets the constraint only to its tolerance
            delta = eps * delta / norm
        value = float(vector_norm(net.grad(x + delta)))
        if value < best.value:
            best = SearchResult(value, delta)
    return best


def min_gradient_cosine(problem, *, n_samples=SEARCH_SAMPLES, n_starts=SEARCH_STARTS, seed=0):
    r"""Search for :math:`\min_{\delta,\delta'\in\varepsilon\mathbb S^{d-1}} \angle[\partial f(\delta), \partial f(\delta')]`.

    The quantity of Lemma 4.5's condition (6) and of section 5.1.1. Sampled
    pairs first, then L-BFGS-B on the pair parametrised as
    :math:`(\varepsilon u/\|u\|, \varepsilon u'/\|u'\|)` (2d variables) with the analytic gradient through Hessian-vector products.

    Returns
    -------
    SearchResult
        ``value`` the smallest cosine found, ``delta`` of shape (2, d), the pair.
    """
    _check(problem, need_d2=False)
    rng = as_rng("seed", seed)
    net, x, eps, d = problem.net, problem.x, problem.eps, problem.d
    pts = _search_starts(rng, problem, n_samples, True)
    grads = net.grad(x + pts)
    # The worst pair among samples: the most opposed gradients.
    unit_g = grads / vector_norm(grads, keepdims=True)
    cos = unit_g @ unit_g.T
    flat = np.argsort(cos, axis=None)[: 2 * n_starts : 2]
    best = SearchResult(2.0, pts[:2])
    pairs = []
    for k in flat:
        i, j = np.unravel_index(k, cos.shape)
        pairs.append(np.stack([pts[i], pts[j]]))
        if cos[i, j] < best.value:
            best = SearchResult(float(cos[i, j]), pairs[-1])

    def fun(uv):
        u, v = uv[:d], uv[d:]
        nu, nv = vector_norm(u), vector_norm(v)
        a, b = eps * u / nu, eps * v / nv
        g, h = net.grad(x + a), net.grad(x + b)
        ng, nh = vector_norm(g), vector_norm(h)
        c = float(g @ h) / (ng * nh)
        # d cos / dg and d cos / dh, pulled back through the Hessians (HVPs)
        # and the sphere parametrisation delta = eps u / |u|.
        da = net.hvp(x + a, (h / nh - c * g / ng) / ng)
        db = net.hvp(x + b, (g / ng - c * h / nh) / nh)
        du = (eps / nu) * (da - (da @ u) * u / (nu * nu))
        dv = (eps / nv) * (db - (db @ v) * v / (nv * nv))
        return c, np.concatenate([du, dv])

    for pair in pairs:
        res = minimize(fun, pair.ravel() / eps, jac=True, method="L-BFGS-B",
                       options=dict(maxiter=200))
        u, v = res.x[:d], res.x[d:]
        pair = np.stack([eps * u / vector_norm(u), eps * v / vector_norm(v)])
        value = float(cosine(net.grad(x + pair[0]), net.grad(x + pair[1])))
        if value < best.value:
            best = SearchResult(value, pair)
    return best


def condition_6(problem, eta, lb, *, seed=0):
    r"""Lemma 4.5's condition (6) for one draw: returns (left side, holds).

    .. math::
        \arccos\big(\min_{\delta,\delta'}\angle[\partial f(\delta), \partial f(\delta')]\big)
        + \arccos\sqrt{(\mathrm{lb}^2 - \eta)/\mathrm{lb}^2} \le \pi/4

    over δ, δ' on the sphere, with lb standing for 𝓛B_l. The minimum cosine is
    searched (:func:`min_gradient_cosine`), so the left side is a lower estimate:
    a draw reported as satisfying (6) may violate it at pairs the search
    missed. When η >= lb² the square root is undefined and (6) fails.

    Returns
    -------
    lhs : float
        The left side (inf when η >= lb²).
    holds : bool
    """
    eta = check_positive_float("eta", eta)
    lb = check_positive_float("lb", lb)
    if eta >= lb * lb:
        return float("inf"), False
    worst = min_gradient_cosine(problem, seed=seed).value
    lhs = float(np.arccos(np.clip(worst, -1.0, 1.0)) + np.arccos(np.sqrt((lb * lb - eta) / (lb * lb))))
    return lhs, lhs <= np.pi / 4


# --- the empirical uniqueness threshold (Theorem 5.1) -------------------------------

#: Default largest radius tried by :func:`minima_threshold` (absolute). At input
#: scale 1 the first second minimum appears at ε ≈ 0.5 to 3 (d = 2, m = 32:
#: ``python -m theory.threshold``); 20 leaves a wide margin. A draw with one
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
        sphere count (d = 3, :func:`theory.sphere_scan.sphere_critical_points`).
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
        (:func:`theory.bounds.contraction_tau_eps`), below which the count is
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
    _check(problem)
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
    """The former search of :func:`minima_threshold` (controls only): doubling from τ_ε, then bisection.

    τ_ε defaults to the former certified radius, the contraction's
    (:func:`theory.bounds.contraction_tau_eps`). It steps over a window with two minima
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
    (d = 3: the fold-free shell of :mod:`theory.shell`; otherwise the contraction radius):
    counts on a geometric scan of ratio :data:`THRESHOLD_SCAN_RATIO`, then bisection.
    For d = 3 each count is the certified sphere count
    (:func:`theory.sphere_scan.sphere_critical_points`) where it certifies, and the
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
    _check(problem)
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
