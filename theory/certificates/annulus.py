r"""Per-draw certificates that take a Problem: the fold-free annulus (d = 2) and the certified τ_ε.

Theorem 5.1 says that below some radius τ_ε the loss has exactly one local
minimum on the sphere :math:`\varepsilon\mathbb S^{d-1}`. The contraction certificate
(:func:`theory.certificates.uniqueness.uniqueness_certificate`) proves it for every
:math:`\varepsilon \le \tau_0` (:func:`theory.certificates.uniqueness.contraction_tau_eps`), but far below
the radius where a second minimum really appears. For d = 2 this module carries
the proof further by continuation in ε.

**The argument (d = 2).** Write :math:`u(\theta) = (\cos\theta, \sin\theta)`,
:math:`u' = (-\sin\theta, \cos\theta)` and let

.. math::
    g(\varepsilon, \theta) = \partial_\theta L(\varepsilon u(\theta))
    = \varepsilon\,\partial L(\varepsilon u)^\top u'

be the tangential derivative (the ``g`` of :func:`theory.landscape.circle_critical_points`
at radius ε). The critical points of L on the circle of radius ε are the zeros of
:math:`g(\varepsilon, \cdot)`. Suppose no point of the closed annulus
:math:`A = [\varepsilon_0, \varepsilon_1]\times[0, 2\pi]` has both :math:`g = 0` and
:math:`\partial_\theta g = 0` (A is *fold-free*). By the implicit function theorem
the zero set of g in A is then a finite union of curves :math:`\theta = \theta_i(\varepsilon)`,
each defined on the whole of :math:`[\varepsilon_0, \varepsilon_1]`, along which the sign of
:math:`\partial_\theta g` is constant: the number of critical points, and of minima
(the zeros where :math:`\partial_\theta g > 0`; every zero is non-degenerate, so
these are exactly the local minima), is the same at every radius of
:math:`[\varepsilon_0, \varepsilon_1]`. At :math:`\varepsilon_0 = \tau_0` there is exactly one
(the contraction certificate), so there is exactly one at every radius up to
:math:`\varepsilon_1`. The first radius above τ_0 at which the count changes is
the birth of a (minimum, maximum) pair at a degenerate zero (the count of minima
cannot drop below 1: a continuous function on the circle has a minimum), so
a fold-free annulus can reach, but never pass, the true threshold.

**The cover.** :func:`fold_free_annulus` proves A fold-free by covering it with
boxes :math:`B = [\varepsilon_a, \varepsilon_b]\times[\theta_a, \theta_b]`, each proved
to satisfy :math:`|g| > 0` or :math:`|\partial_\theta g| > 0` at every point
(bounds: :func:`box_derivative_bounds`, tests: :func:`_box_tests`), bisecting the
boxes it cannot prove; :func:`theory.certificates.tau.annulus_tau_eps` grows the annulus from τ_0 until
a box that cannot be proved is smaller than the resolution, and returns the
radius up to which the cover is complete. :func:`certified_tau_eps` (also
importable as ``theory.bounds.certified_tau_eps``) combines them: the annulus radius
for d = 2, the fold-free shell of :mod:`theory.certificates.shell` for d = 3, the contraction
radius otherwise.

Arrays: radii ``eps`` and angles ``theta`` of shape (n,) for n points or boxes.
"""


from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory.certificates._boxes import BOX_FLOOR, slab_edges, derivative_caps, centre_bundle, half_width, loss_derivative_bounds
from theory._validation import check_positive_float, check_positive_int
from theory.bounds import ball_derivative_bounds
from theory.geometry import vector_norm
from theory._floats import ELEMENTARY_ULPS, UNIT_ROUNDOFF
from theory.problem import check_problem

__all__ = [
    "AnnulusCover",
    "annulus_derivatives",
    "box_derivative_bounds",
    "fold_free_annulus",
    "cover_annulus",
    "check_d2",
    "ANNULUS_MAX_BOXES",
    "ANNULUS_RTOL",
    "ANNULUS_INITIAL_ARCS",
    "ANNULUS_MIN_ARC",
    "ANNULUS_BATCH",
    "ANNULUS_WINDOW",
    "ANNULUS_FLOOR",
]

_U = UNIT_ROUNDOFF

#: Budget of the annulus cover: boxes evaluated (each one evaluation of g, ∂_θ g and
#: ∂_ε g at its centre and of its derivative bounds).
ANNULUS_MAX_BOXES = 2**15

#: Resolution in ε of the annulus cover: a box narrower than this fraction of its
#: radius is not split in ε any more; when it cannot be proved by splitting in θ
#: either (down to :data:`ANNULUS_MIN_ARC`), the cover stops at its lower radius.
#: Near a fold at ε_f the boxes just below it need arcs of order √(ε_f − ε), so the
#: resolution costs O(log(1/ANNULUS_RTOL)) levels of boxes, not 1/ANNULUS_RTOL.
ANNULUS_RTOL = 1e-3

#: Arcs of the initial cover (equal, over [0, 2π]).
ANNULUS_INITIAL_ARCS = 16

#: Smallest arc of a box (radians) below which it is not split in θ any more.
ANNULUS_MIN_ARC = 2.0 * np.pi * 2.0 ** -16

#: Boxes evaluated per round of the cover (the ones of smallest radius first).
ANNULUS_BATCH = 1024

#: Width of the front of the cover, relative to its lowest radius: each round evaluates
#: boxes starting below (1 + ANNULUS_WINDOW) times the lowest start.
ANNULUS_WINDOW = 0.125

#: Absolute floor of the error bounds on g and its derivatives, per unit of their
#: natural scale (:data:`theory.certificates._boxes.BOX_FLOOR`).
ANNULUS_FLOOR = BOX_FLOOR

#: Relative rounding of the computed point δ = ε u(θ) and tangent ε u'(θ), componentwise:
#: cos and sin carry ELEMENTARY_ULPS ulps (2u each), the product by ε one u, taken
#: twice for the norms' own rounding (as the circle scan's point term).
_POINT_RTOL = 2.0 * ((2.0 * ELEMENTARY_ULPS + 1.0) * _U + _U)


def check_d2(problem):
    """``problem``, validated as a Problem with d = 2 (ValueError otherwise)."""
    check_problem(problem)
    if problem.d != 2:
        raise ValueError(f"d must be 2 for the annulus certificate, got d={problem.d}")
    return problem


def _as_pair(eps, theta):
    eps = np.atleast_1d(np.asarray(eps, dtype=float))
    theta = np.atleast_1d(np.asarray(theta, dtype=float))
    if eps.ndim != 1 or eps.shape != theta.shape:
        raise ValueError(f"eps and theta must have the same shape (n,), got {eps.shape} and {theta.shape}")
    if not np.all(np.isfinite(theta)):
        raise ValueError("theta must be finite")
    if not np.all(np.isfinite(eps)) or not np.all(eps > 0.0):
        raise ValueError("eps must be finite and > 0")
    return eps, theta


def box_derivative_bounds(problem, eps_lo, eps_hi, theta_lo, theta_hi):
    r"""Bounds on the derivatives of g over boxes :math:`[\varepsilon_a, \varepsilon_b]\times[\theta_a, \theta_b]` (d = 2).

    Returns :math:`S_{\theta\theta}, S_{\varepsilon\theta}, S_{\varepsilon\varepsilon}` and
    :math:`M_1`, each of shape (n,), with, at every point of the box,
    :math:`|\partial_\theta^2 g| \le S_{\theta\theta}`,
    :math:`|\partial_\varepsilon\partial_\theta g| \le S_{\varepsilon\theta}`,
    :math:`|\partial_\varepsilon^2 g| \le S_{\varepsilon\varepsilon}` and
    :math:`|\partial_\theta g| \le M_1`.

    **Derivation.** Differentiating :math:`g = \varepsilon\,\partial L(\varepsilon u)^\top u'`
    (with :math:`u'' = -u`):

    .. math::
        \partial_\theta g &= \varepsilon^2\partial^2 L[u', u'] - \varepsilon\,\partial L^\top u, \\
        \partial_\varepsilon g &= \partial L^\top u' + \varepsilon\,\partial^2 L[u, u'], \\
        \partial_\theta^2 g &= \varepsilon^3\partial^3 L[u', u', u'] - 3\varepsilon^2\partial^2 L[u, u']
            - \varepsilon\,\partial L^\top u', \\
        \partial_\varepsilon\partial_\theta g &= 2\varepsilon\,\partial^2 L[u', u']
            + \varepsilon^2\partial^3 L[u, u', u'] - \partial L^\top u - \varepsilon\,\partial^2 L[u, u], \\
        \partial_\varepsilon^2 g &= 2\,\partial^2 L[u, u'] + \varepsilon\,\partial^3 L[u, u, u'],

    so with :math:`T_k \ge \|\partial^k L\|` over the box (u, u' are unit vectors)

    .. math::
        S_{\theta\theta} = \varepsilon_b^3 T_3 + 3\varepsilon_b^2 T_2 + \varepsilon_b T_1, \quad
        S_{\varepsilon\theta} = \varepsilon_b^2 T_3 + 3\varepsilon_b T_2 + T_1, \quad
        S_{\varepsilon\varepsilon} = \varepsilon_b T_3 + 2 T_2, \quad
        M_1 = \varepsilon_b^2 T_2 + \varepsilon_b T_1.

    The box lies in the ball of centre :math:`x + \varepsilon_c u(\theta_c)` (its centre)
    and radius :math:`\rho = h_\varepsilon/2 + \varepsilon_c h_\theta/2`
    (:math:`\|\varepsilon u(\theta) - \varepsilon_c u(\theta_c)\| \le |\varepsilon - \varepsilon_c|
    + \varepsilon_c|\theta - \theta_c|`), widened by the rounding of the computed centre,
    :math:`(2\,\mathrm{ELEMENTARY\_ULPS} + 3)u\,(\|x\| + \varepsilon_c)` per coordinate. On it
    :func:`theory.bounds.ball_derivative_bounds` bounds :math:`G \ge \|\partial f\|`,
    :math:`H \ge \|\partial^2 f\|` and :math:`H_3 \ge \|\partial^3 f\|` (capped by the global
    :func:`theory.bounds.hessian_norm_bound`, :func:`theory.bounds.third_derivative_bound`
    and :math:`\|W\|_2\|a\|_2`), f stays within :math:`\rho G` plus its rounding
    (:func:`theory.bounds.evaluation_error_bounds`) of its computed value at the centre,
    and :math:`\ell_k \ge |\partial^k L/\partial f^k|` over that range
    (:func:`theory.certificates._boxes.loss_derivative_bounds`); then by the chain rule of section 5.2 and its
    third-order analogue :math:`T_1 = \ell_1 G`, :math:`T_2 = \ell_2 G^2 + \ell_1 H`,
    :math:`T_3 = \ell_3 G^3 + 3\ell_2 G H + \ell_1 H_3` (as in the circle scan).
    Every bound is increasing in ε, hence evaluated at :math:`\varepsilon_b`.

    Parameters
    ----------
    problem : Problem
        d = 2; its network, input, label and loss (not its ε).
    eps_lo, eps_hi, theta_lo, theta_hi : array_like, shape (n,)
        The boxes, :math:`0 < \varepsilon_a \le \varepsilon_b`, :math:`\theta_a \le \theta_b`.

    Returns
    -------
    S_tt, S_et, S_ee, M1 : ndarray, shape (n,)
    """
    check_d2(problem)
    ea, ta = _as_pair(eps_lo, theta_lo)
    eb, tb = _as_pair(eps_hi, theta_hi)
    if ea.shape != eb.shape or np.any(eb < ea) or np.any(tb < ta):
        raise ValueError("boxes must have eps_lo <= eps_hi and theta_lo <= theta_hi, of one shape (n,)")
    out = _evaluate_boxes(problem, ea, eb, ta, tb, derivative_caps(problem))
    return out["S_tt"], out["S_et"], out["S_ee"], out["M1"]


def _evaluate_boxes(problem, ea, eb, ta, tb, caps):
    r"""Everything the box tests need, for the boxes [ea, eb] x [ta, tb], each of shape (n,).

    Returns a dict: ``S_tt, S_et, S_ee, M1`` (:func:`box_derivative_bounds`), the
    centre's computed ``values`` (g, ∂_θ g, ∂_ε g) and their ``errors``
    (:func:`_centre_derivatives`), and the half-widths ``he``, ``ht``.
    """
    net, x = problem.net, problem.x
    ec, he = half_width(ea, eb)
    tc, ht = half_width(ta, tb)
    cos, sin = np.cos(tc), np.sin(tc)
    delta = ec[:, None] * np.stack([cos, sin], axis=-1)
    tangent = ec[:, None] * np.stack([-sin, cos], axis=-1)
    centre = centre_bundle(problem, delta, tangent)
    slack = (2.0 * ELEMENTARY_ULPS + 3.0) * _U * (float(vector_norm(x)) + ec) * 2.0
    rho = (he + ec * ht) * (1.0 + 4.0 * _U) + slack
    G, H, H3 = ball_derivative_bounds(net, centre["z"], rho)
    G, H, H3 = np.minimum(G, caps[0]), np.minimum(H, caps[1]), np.minimum(H3, caps[2])
    f = centre["f"]
    spread = (centre["f_err"] + rho * G) * (1.0 + 4.0 * _U) + 4.0 * _U * np.abs(f)
    l1, l2, l3 = loss_derivative_bounds(problem.loss, problem.y, f - spread, f + spread)
    inflate = 1.0 + 16.0 * _U  # the few roundings of these sums of positive terms
    with np.errstate(over="ignore", invalid="ignore"):
        T1 = l1 * G
        T2 = l2 * G * G + l1 * H
        T3 = l3 * G ** 3 + 3.0 * l2 * G * H + l1 * H3
        e = eb * (1.0 + 2.0 * _U)
        S_tt = (e ** 3 * T3 + 3.0 * e * e * T2 + e * T1) * inflate
        S_et = (e * e * T3 + 3.0 * e * T2 + T1) * inflate
        S_ee = (e * T3 + 2.0 * T2) * inflate
        M1 = (e * e * T2 + e * T1) * inflate
    values, errors = _centre_derivatives(ec, delta, tangent, centre, M1, S_tt)
    return dict(S_tt=S_tt, S_et=S_et, S_ee=S_ee, M1=M1, values=values, errors=errors, he=he, ht=ht)


def _centre_derivatives(eps, delta, tangent, centre, m1, m2):
    r"""Computed g, ∂_θ g, ∂_ε g at the points δ = ε u(θ) with tangents t = ε u'(θ), and bounds on their errors.

    With ``grad`` = ∂L(δ) and ``hv`` = ∂²L(δ) t (from :func:`centre_bundle`):
    :math:`g = \mathrm{grad}^\top t`, :math:`\partial_\theta g = \mathrm{hv}^\top t - \mathrm{grad}^\top\delta`,
    :math:`\partial_\varepsilon g = (g + \mathrm{hv}^\top\delta)/\varepsilon`.

    Errors: the certified evaluation errors :math:`E_g` of ∂L
    (:meth:`theory.problem.Problem.evaluation_error_bounds`) and :math:`E_h` of ∂²L t
    (:meth:`theory.problem.Problem.hvp_error_bounds`), contracted with vectors of norm ε
    (:math:`|E^\top v| \le \varepsilon\|E\|`); each dot product of 2 terms adds
    :math:`\gamma_2 \le 4u` times the product of the norms, each subtraction or division
    u of its result; the computed δ and t are off by at most :data:`_POINT_RTOL` · ε,
    which moves g by at most :data:`_POINT_RTOL` · M1 and ∂_θ g, ε ∂_ε g by at most
    :data:`_POINT_RTOL` · M2 (M1, M2 = S_θθ of :func:`box_derivative_bounds` over a box
    containing the point; perturbing δ and t in
    :math:`\partial^2 L(\delta)[t, t] - \partial L(\delta)^\top\delta` and
    :math:`\partial L(\delta)^\top t + \partial^2 L(\delta)[\delta, t]` moves each by at most
    :math:`r(\varepsilon^3 T_3 + 3\varepsilon^2 T_2 + \varepsilon T_1)`);
    :data:`ANNULUS_FLOOR` times the natural scale (ε for g, ε + ε² for ∂_θ g,
    1 + ε for ∂_ε g) covers absolute roundings below the normal range.
    """
    grad, hv = centre["grad"], centre["hv"]
    g = np.einsum("ij,ij->i", grad, tangent)
    hv_t = np.einsum("ij,ij->i", hv, tangent)
    grad_d = np.einsum("ij,ij->i", grad, delta)
    hv_d = np.einsum("ij,ij->i", hv, delta)
    gt = hv_t - grad_d
    num = g + hv_d
    ge = num / eps
    n_g, n_h = vector_norm(grad), vector_norm(hv)
    e_g, e_h = vector_norm(centre["grad_err"]), vector_norm(centre["hv_err"])
    err_g = eps * (e_g + 4.0 * _U * n_g) + _POINT_RTOL * m1 + eps * ANNULUS_FLOOR
    err_gt = (eps * (e_g + e_h + 4.0 * _U * (n_g + n_h)) + _U * np.abs(gt) + _POINT_RTOL * m2
              + (eps + eps * eps) * ANNULUS_FLOOR)
    err_num = err_g + eps * (e_h + 4.0 * _U * n_h) + _U * np.abs(num) + _POINT_RTOL * m2
    err_ge = err_num / eps * (1.0 + 2.0 * _U) + _U * np.abs(ge) + (1.0 + eps) * ANNULUS_FLOOR
    inflate = 1.0 + 16.0 * _U
    return (g, gt, ge), (err_g * inflate, err_gt * inflate, err_ge * inflate)


def annulus_derivatives(problem, eps, theta):
    r"""g, ∂_θ g and ∂_ε g at the points :math:`\varepsilon u(\theta)` (d = 2), with certified bounds on their rounding errors.

    g is the tangential derivative of the module docstring. The error bounds are
    derived in :func:`_centre_derivatives`; the rounding of the point moves the
    values by at most the point's own derivative bounds times a few u, taken here over
    the box of zero width at the point.

    Parameters
    ----------
    problem : Problem
        d = 2 (its ε is not used).
    eps, theta : array_like, shape (n,)
        Radii > 0 and angles.

    Returns
    -------
    values : ndarray, shape (3, n)
        g, ∂_θ g, ∂_ε g.
    errors : ndarray, shape (3, n)
        Bounds on the absolute errors of the computed values.
    """
    check_d2(problem)
    eps, theta = _as_pair(eps, theta)
    out = _evaluate_boxes(problem, eps, eps, theta, theta, derivative_caps(problem))
    return np.stack(out["values"]), np.stack(out["errors"])


def _box_tests(values, errors, S_tt, S_et, S_ee, he, ht):
    r"""Which boxes are proved to hold no point with g = ∂_θ g = 0, and the split direction of the others.

    With :math:`\hat g, \hat g_\theta, \hat g_\varepsilon` the computed values at the centre
    c (errors e), half-widths :math:`r_\varepsilon, r_\theta`, and a point p of the box
    (moving along θ, then along ε, stays in the box):

    *Test A* (:math:`|g| > 0` on the box):
    :math:`|g(p) - g(c)| \le r_\theta\sup|\partial_\theta g| + r_\varepsilon\sup|\partial_\varepsilon g|`,
    with :math:`\sup|\partial_\theta g| \le D_\theta = |\hat g_\theta| + e_\theta + S_{\theta\theta} r_\theta
    + S_{\varepsilon\theta} r_\varepsilon` and :math:`\sup|\partial_\varepsilon g| \le D_\varepsilon
    = |\hat g_\varepsilon| + e_\varepsilon + S_{\varepsilon\theta} r_\theta + S_{\varepsilon\varepsilon} r_\varepsilon`
    (mean value theorem on ∂_θ g and ∂_ε g from the centre), so
    :math:`|\hat g| - e_g > D_\theta r_\theta + D_\varepsilon r_\varepsilon` proves it.
    The centre's own first derivatives enter exactly; the loose bounds S only
    multiply squares of the half-widths.

    *Test B* (:math:`|\partial_\theta g| > 0` on the box):
    :math:`|\hat g_\theta| - e_\theta > S_{\theta\theta} r_\theta + S_{\varepsilon\theta} r_\varepsilon`.

    A box failing both is split along the direction that contributes more to the
    test closer to passing (the larger ratio of left to right side).

    Returns
    -------
    proved : ndarray of bool, shape (n,)
    split_theta : ndarray of bool, shape (n,)
    """
    (g, gt, ge), (eg, egt, ege) = values, errors
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        d_t = np.abs(gt) + egt + S_tt * ht + S_et * he
        d_e = np.abs(ge) + ege + S_et * ht + S_ee * he
        a_t, a_e = d_t * ht, d_e * he
        b_t, b_e = S_tt * ht, S_et * he
        left_a, left_b = np.abs(g) - eg, np.abs(gt) - egt
        right_a, right_b = (a_t + a_e) * (1.0 + 4.0 * _U), (b_t + b_e) * (1.0 + 4.0 * _U)
        # A right side that overflowed (inf) or is undefined (nan) fails its strict comparison:
        # a test proves a box only with finite bounds of its own, whatever the other test's are.
        proved = (left_a > right_a) | (left_b > right_b)
        use_a = left_a / right_a >= left_b / right_b
    split_theta = np.where(use_a, a_t >= a_e, b_t >= b_e)
    return proved, split_theta


@dataclass(frozen=True)
class AnnulusCover:
    r"""The outcome of a cover of an annulus :math:`[\varepsilon_0, \varepsilon_1]\times[0, 2\pi]` (d = 2).

    Attributes
    ----------
    eps_lo, eps_hi : float
        The annulus asked for.
    reached : float
        Every point with :math:`\varepsilon_0 \le \varepsilon < ` ``reached`` lies in a proved
        box (``eps_hi`` when the whole annulus is proved).
    proved : bool
        ``reached >= eps_hi``: the closed annulus is fold-free, so the number and
        the kinds of the critical points of L on the circle are the same at every
        radius of it.
    boxes : int
        Boxes proved.
    evaluations : int
        Boxes evaluated (proved or split).
    stopped : str
        Why the cover stopped: ``"complete"``, ``"resolution"`` (a box below the
        resolution could not be proved) or ``"budget"``.
    """

    eps_lo: float
    eps_hi: float
    reached: float
    proved: bool
    boxes: int
    evaluations: int
    stopped: str


def _initial_boxes(eps_lo, eps_hi, arcs):
    """Boxes covering [eps_lo, eps_hi] x [0, 2π]: slabs of ratio 2 in ε, ``arcs`` equal arcs.

    The slabs are those of :func:`theory.certificates._boxes.slab_edges` (they do not
    depend on eps_hi, so a certified radius is monotone in eps_hi).

    Bisection splits a box at a computed midpoint shared by both halves, so the boxes
    always cover this rectangle exactly.
    """
    edges = slab_edges(eps_lo, eps_hi)
    thetas = np.linspace(0.0, 2.0 * np.pi, arcs + 1)
    # The float 2π is below the true 2π (by ~2.4e-16): the last arc ends a few ulps above it,
    # so that the arcs cover the whole circle (g is 2π-periodic, every bound holds for any θ).
    thetas[-1] = 2.0 * np.pi * (1.0 + 4.0 * _U)
    ea = np.repeat(edges[:-1], arcs)
    eb = np.repeat(edges[1:], arcs)
    ta = np.tile(thetas[:-1], len(edges) - 1)
    tb = np.tile(thetas[1:], len(edges) - 1)
    return ea, eb, ta, tb


def cover_annulus(problem, eps_lo, eps_hi, *, max_boxes, rtol, min_arc, arcs, bound_factor=1.0):
    """The cover behind :func:`fold_free_annulus` and :func:`theory.certificates.tau.annulus_tau_eps`; ``bound_factor`` < 1 makes the bounds wrong (controls only)."""
    caps = derivative_caps(problem)
    ea, eb, ta, tb = _initial_boxes(eps_lo, eps_hi, arcs)
    reached, evaluations, proved_boxes, stopped = eps_hi, 0, 0, "complete"
    while ea.size:
        active = ea < reached
        ea, eb, ta, tb = ea[active], eb[active], ta[active], tb[active]
        if not ea.size:
            break
        if evaluations >= max_boxes:
            reached, stopped = float(np.min(ea)), "budget"
            break
        # The front: only boxes starting within ANNULUS_WINDOW (relative) of the lowest one,
        # so that no box above the radius where the cover will stop is evaluated early.
        front = np.nonzero(ea <= float(np.min(ea)) * (1.0 + ANNULUS_WINDOW))[0]
        take = min(front.size, ANNULUS_BATCH, max_boxes - evaluations)
        order = front[np.argpartition(ea[front], take - 1)[:take]] if take < front.size else front
        rest = np.ones(ea.size, dtype=bool)
        rest[order] = False
        ba, bb, bta, btb = ea[order], eb[order], ta[order], tb[order]
        out = _evaluate_boxes(problem, ba, bb, bta, btb, caps)
        evaluations += take
        proved, split_theta = _box_tests(out["values"], out["errors"], bound_factor * out["S_tt"],
                                         bound_factor * out["S_et"], bound_factor * out["S_ee"],
                                         out["he"], out["ht"])
        proved_boxes += int(proved.sum())
        fail = ~proved
        ba, bb, bta, btb, split_theta = ba[fail], bb[fail], bta[fail], btb[fail], split_theta[fail]
        can_e = (bb - ba) > rtol * ba
        can_t = (btb - bta) > min_arc
        split_theta = np.where(split_theta, can_t | ~can_e, ~can_e & can_t)
        stuck = ~can_e & ~can_t
        if stuck.any():
            reached, stopped = min(reached, float(np.min(ba[stuck]))), "resolution"
        keep = ~stuck
        ba, bb, bta, btb, split_theta = ba[keep], bb[keep], bta[keep], btb[keep], split_theta[keep]
        em, tm = 0.5 * (ba + bb), 0.5 * (bta + btb)
        st, se = split_theta, ~split_theta
        new_a = np.concatenate([ba[st], ba[st], ba[se], em[se]])
        new_b = np.concatenate([bb[st], bb[st], em[se], bb[se]])
        new_ta = np.concatenate([bta[st], tm[st], bta[se], bta[se]])
        new_tb = np.concatenate([tm[st], btb[st], btb[se], btb[se]])
        ea = np.concatenate([ea[rest], new_a])
        eb = np.concatenate([eb[rest], new_b])
        ta = np.concatenate([ta[rest], new_ta])
        tb = np.concatenate([tb[rest], new_tb])
    return AnnulusCover(eps_lo=float(eps_lo), eps_hi=float(eps_hi), reached=float(reached),
                        proved=bool(reached >= eps_hi), boxes=proved_boxes, evaluations=int(evaluations),
                        stopped=stopped)


def fold_free_annulus(problem, eps_lo, eps_hi, *, max_boxes=ANNULUS_MAX_BOXES, rtol=ANNULUS_RTOL):
    r"""Prove the annulus :math:`[\varepsilon_0, \varepsilon_1]\times[0, 2\pi]` fold-free (d = 2), or say how far the proof got.

    Fold-free: no radius in the annulus has a degenerate critical point
    (g = ∂_θ g = 0), so the number and kinds of the critical points of L on the
    circle do not change between :math:`\varepsilon_0` and :math:`\varepsilon_1` (module
    docstring). The annulus is covered by boxes, each proved by
    :func:`_box_tests` with the bounds of :func:`box_derivative_bounds` and the
    values of :func:`annulus_derivatives`; a box that fails is bisected (in ε or θ),
    the boxes of smallest radius first, until every box is proved, a box below
    the resolution (``rtol`` · ε in ε and :data:`ANNULUS_MIN_ARC` in θ) fails, or
    ``max_boxes`` boxes have been evaluated.

    Parameters
    ----------
    problem : Problem
        d = 2; its network, input, label and loss (not its ε).
    eps_lo, eps_hi : float
        :math:`0 < \varepsilon_0 \le \varepsilon_1`.
    max_boxes : int
        Budget (boxes evaluated).
    rtol : float
        Resolution in ε, relative.

    Returns
    -------
    AnnulusCover
    """
    check_d2(problem)
    eps_lo = check_positive_float("eps_lo", eps_lo)
    eps_hi = check_positive_float("eps_hi", eps_hi)
    if eps_hi < eps_lo:
        raise ValueError(f"eps_hi must be >= eps_lo, got eps_lo={eps_lo}, eps_hi={eps_hi}")
    max_boxes = check_positive_int("max_boxes", max_boxes)
    rtol = check_positive_float("rtol", rtol)
    return cover_annulus(problem, eps_lo, eps_hi, max_boxes=max_boxes, rtol=rtol, min_arc=ANNULUS_MIN_ARC,
                  arcs=ANNULUS_INITIAL_ARCS)
