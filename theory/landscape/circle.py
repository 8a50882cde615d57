r"""The certified scan of the circle (d = 2): every critical point of L on the circle of radius ε.

The tangential derivative g(θ) = ∂_θ L(ε u(θ)) is bounded on each arc from the
network's certified bounds; an arc whose bounds exclude a zero holds no critical
point, and an arc on which g changes sign with a bounded derivative holds exactly
one, found by Brent's method and refined by Newton on the sphere. When the budget
runs out the scan says it is not certified.

Arrays: angles ``theta`` of shape (n,).
"""


from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from theory.bounds import (
    ball_derivative_bounds, gradient_norm_range, local_hessian_bound, third_derivative_bound,
    value_variation_bound,
)
from theory._validation import check_positive_int
from theory.constrained import tangent_gradient
from theory.landscape.critical import (
    classify,
)
from theory.landscape.critical import check_sphere_problem
from theory.geometry import vector_norm
from theory._floats import ELEMENTARY_ULPS, SCALING_FLOOR, UNIT_ROUNDOFF

__all__ = [
    "CircleScan",
    "circle_critical_points",
    "CIRCLE_INITIAL_POINTS",
    "CIRCLE_MAX_EVALUATIONS",
    "SUBNORMAL_FLOOR",
]


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
SUBNORMAL_FLOOR = SCALING_FLOOR


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


def _circle_slope(problem, theta):
    """``(g(θ), δ(θ), ∂L(δ(θ)))`` with g(θ) = ∂L(δ(θ))ᵀδ'(θ), for θ of shape (n,): the value alone, no error bound."""
    eps = problem.eps
    c, s = np.cos(theta), np.sin(theta)
    delta = eps * np.stack([c, s], axis=-1)
    tangent = eps * np.stack([-s, c], axis=-1)
    grad = problem.loss_grad(delta)
    return np.einsum("...i,...i->...", grad, tangent), delta, grad


def _circle_derivative(problem, theta, glob):
    """g(θ) = ∂L(δ(θ))ᵀδ'(θ) and a bound on its rounding error, for θ of shape (n,).

    The error bound adds to the certified evaluation error of ∂L
    (:meth:`theory.problem.Problem.evaluation_error_bounds`) the effect of the
    rounding of δ(θ) itself (a few u·ε off the circle), bounded through the
    local derivative bound at the point (:func:`_arc_bounds` with a zero-length arc).
    """
    eps = problem.eps
    g, delta, grad = _circle_slope(problem, theta)
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

    def scalar(t):  # the root polishing needs g alone (the same numbers as _circle_derivative's)
        return float(_circle_slope(problem, np.array([t]))[0][0])

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
    check_sphere_problem(problem)
    if problem.d != 2:
        raise ValueError(f"d must be 2 for the circle scan, got d={problem.d}")
    initial_points = check_positive_int("initial_points", initial_points, minimum=4)
    max_evaluations = check_positive_int("max_evaluations", max_evaluations)
    return _circle_scan(problem, initial_points, max_evaluations)
