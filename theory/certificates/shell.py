r"""The fold-free shell (d = 3): the certified τ_ε on the sphere :math:`\varepsilon\mathbb S^2` by cube-sphere charts.

The d = 3 analogue of the annulus of :mod:`theory.certificates`.

**Charts.** Face (k, s) of the cube, k ∈ {0, 1, 2}, s = ±1, with (i, j) the other two
axes in order: :math:`q(a, b) = s e_k + a e_i + b e_j`, :math:`p = N(q) = q/\|q\|`,
(a, b) ∈ [−1, 1]². The six closed faces cover the sphere, and each chart is a
diffeomorphism onto its image. On the shell put :math:`\varphi(\varepsilon, a, b) =
L(\varepsilon\,p(a, b))`. A point is critical for L on the sphere of radius ε iff
:math:`\nabla_{(a,b)}\varphi = 0`, and there the chart Hessian
:math:`J = \nabla^2_{(a,b)}\varphi` is the Riemannian Hessian pulled back by the chart
(the gradient term vanishes), so the critical point is degenerate iff det J = 0.

**The argument.** If no point of :math:`[\varepsilon_0, \varepsilon_1]\times\mathbb S^2` is a
degenerate critical point (the shell is *fold-free*; see below for the weaker condition
the cover proves), the implicit function theorem
(in chart coordinates, with J nonsingular at every zero of the chart gradient) makes
the critical set a finite union of curves :math:`\varepsilon \mapsto \delta_i(\varepsilon)`
over the whole of :math:`[\varepsilon_0, \varepsilon_1]`, along which the signature of J, hence
the kind (minimum, saddle, maximum), is constant. With exactly one minimum at
:math:`\varepsilon_0 = \tau_0` (the contraction certificate, which also makes both critical
points non-degenerate) there is exactly one at every radius of the shell.

**Boxes.** A box :math:`[\varepsilon_a, \varepsilon_b]\times[a_0, a_1]\times[b_0, b_1]` of one face
is proved to hold no degenerate critical point when a component of the chart gradient
is certainly nonzero on it (*test A*) or J is certainly nonsingular on it (*test B*);
bounds in :func:`shell_box_bounds`, tests in :func:`_shell_tests`. A third test lets
the shell pass folds that involve no minimum: a box where J certainly has a negative
eigenvalue (*test C*) holds no minimum and no fold of one. With every box proved by
A, B or C, the critical points with J positive semi-definite are all non-degenerate
minima (C excludes the others, B makes them non-degenerate); that set is closed, and
open in the critical set, so by the implicit function theorem it is a union of curves
over the whole shell: the number of local minima is the same at every radius (births,
deaths and changes of kind of a minimum need J positive semi-definite and singular).
Folds of saddles with maxima, which at d = 3 occur below the threshold, do not stop
the cover.

Measured (``python -m theory.experiments.threshold_sweep --ratios --dim 3 --widths 8,32 --draws 20
--scan-ratio 1.1``: seeds 0-19, n = 40, input scale 1, cap 20, 7 min): threshold /
certified τ_ε has median 1.44 (95 % CI 1.02 to 1.79; m = 8: 1.0015, m = 32: 1.86),
10 % quantile 1.0007, 90 % quantile 2.97, max 5.80, no draw with τ_ε above the
threshold; with the contraction alone (``--method contraction``) median 12.97 (95 % CI
7.75 to 17.09). The thresholds come from counts certified by :mod:`theory.landscape.sphere_scan`
in 39 of the 40 draws (the multi-start search in the other), and the cover is limited by its budget (:data:`SHELL_MAX_BOXES`)
more often than at d = 2: the bounds of :func:`shell_box_bounds` are the triangle
inequality over the units (loose where the units' terms cancel), and the boxes are
three-dimensional.

The count of the critical points at one radius, with their kinds, is certified by
:mod:`theory.landscape.sphere_scan` on the same charts; the thresholds above and the shell's checks
count with it where it certifies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory.certificates.charts import CHART_C2, CHART_C3, CHART_RTOL, chart_points, nearest_zero
from theory.certificates._boxes import BOX_FLOOR, slab_edges, derivative_caps, centre_bundle, half_width, loss_derivative_bounds
from theory._validation import check_positive_float, check_positive_int
from theory.bounds import ball_derivative_bounds
from theory.certificates.uniqueness import contraction_tau_eps
from theory.geometry import vector_norm
from theory._floats import ELEMENTARY_ULPS, UNIT_ROUNDOFF
from theory.problem import check_problem

__all__ = [
    "ShellCover",
    "chart_points",
    "shell_derivatives",
    "shell_box_bounds",
    "chart_box_values",
    "fold_free_shell",
    "shell_tau_eps",
    "CHART_C2",
    "CHART_C3",
    "SHELL_MAX_BOXES",
    "SHELL_RTOL",
    "SHELL_INITIAL_SPLITS",
    "SHELL_MIN_SIDE",
    "SHELL_BATCH",
    "SHELL_WINDOW",
]

_U = UNIT_ROUNDOFF

#: Budget of the shell cover (boxes evaluated).
SHELL_MAX_BOXES = 2**18

#: Resolution in ε of the shell cover, relative (as :data:`theory.certificates.ANNULUS_RTOL`).
SHELL_RTOL = 1e-3

#: Each face starts as SHELL_INITIAL_SPLITS² equal squares.
SHELL_INITIAL_SPLITS = 4

#: Smallest side (in chart units) of a box below which it is not split in a or b.
SHELL_MIN_SIDE = 2.0 ** -14

#: Boxes evaluated per round (the ones of smallest radius first), and the front of the cover
#: relative to its lowest radius (as :data:`theory.certificates.ANNULUS_WINDOW`).
SHELL_BATCH = 2048
SHELL_WINDOW = 0.125

def _check_d3(problem):
    check_problem(problem)
    if problem.d != 3:
        raise ValueError(f"d must be 3 for the shell certificate, got d={problem.d}")
    return problem


def chart_box_values(problem, face, ea, eb, a0, a1, b0, b1, caps):
    """Centre values, their errors and the box bounds over boxes of one face each, without validation.

    ``caps`` are the global caps of :func:`theory.certificates._boxes.derivative_caps`. Returns a dict: ``values`` and
    ``errors`` (:func:`_centre_values`), ``Q_aaa``, ``Q_eaa``, ``Q_eea`` (:func:`shell_box_bounds`),
    the centres ``ac``, ``bc`` and the half-widths ``re``, ``ra``, ``rb`` (upper bounds), each (n,).
    """
    net, x = problem.net, problem.x
    ec, re = half_width(ea, eb)
    ac, ra = half_width(a0, a1)
    bc, rb = half_width(b0, b1)
    nmin = np.sqrt(1.0 + nearest_zero(a0, a1) ** 2 + nearest_zero(b0, b1) ** 2) * (1.0 - 4.0 * _U)
    C1, C2, C3 = 1.0 / nmin, CHART_C2 / nmin ** 2, CHART_C3 / nmin ** 3
    ch = chart_points(face, ac, bc)
    delta = ec[:, None] * ch["p"]
    Va, Vb = ec[:, None] * ch["pa"], ec[:, None] * ch["pb"]
    centre = centre_bundle(problem, delta, Va, Vb)
    slack = (2.0 * ELEMENTARY_ULPS + 3.0) * _U * (float(vector_norm(x)) + ec) * 4.0
    rho = (re + ec * C1 * (ra + rb)) * (1.0 + 4.0 * _U) + slack
    G, H, H3 = ball_derivative_bounds(net, centre["z"], rho)
    G, H, H3 = np.minimum(G, caps[0]), np.minimum(H, caps[1]), np.minimum(H3, caps[2])
    f = centre["f"]
    spread = (centre["f_err"] + rho * G) * (1.0 + 4.0 * _U) + 4.0 * _U * np.abs(f)
    l1, l2, l3 = loss_derivative_bounds(problem.loss, problem.y, f - spread, f + spread)
    inflate = 1.0 + 32.0 * _U
    with np.errstate(over="ignore", invalid="ignore"):
        T1 = l1 * G
        T2 = l2 * G * G + l1 * H
        T3 = l3 * G ** 3 + 3.0 * l2 * G * H + l1 * H3
        e = eb * (1.0 + 2.0 * _U)
        Q_aaa = (e ** 3 * T3 * C1 ** 3 + 3.0 * e * e * T2 * C2 * C1 + e * T1 * C3) * inflate
        Q_eaa = (2.0 * e * T2 * C1 ** 2 + e * e * T3 * C1 ** 2 + T1 * C2 + e * T2 * C2) * inflate
        Q_eea = (2.0 * T2 * C1 + e * T3 * C1) * inflate
        K = ((e ** 3 * T3 + 3.0 * e * e * T2 + e * T1) * (C1 ** 2 + C2) + (T1 + 3.0 * e * T2 + e * e * T3) * C1)
    values, errors = _centre_values(ec, ch, delta, Va, Vb, centre, C1, C2, K * inflate)
    return dict(Q_aaa=Q_aaa, Q_eaa=Q_eaa, Q_eea=Q_eea, values=values, errors=errors, re=re, ra=ra, rb=rb,
                ac=ac, bc=bc)


def _centre_values(eps, ch, delta, Va, Vb, centre, C1, C2, K):
    r"""Computed φ_a, φ_b, J_aa, J_ab, J_bb, ∂_ε φ_a, ∂_ε φ_b at the box centres, and bounds on their errors.

    With g = ∂L(δ), :math:`h_v = \partial^2 L(\delta)\,V_v`, :math:`V_v = \varepsilon\,\partial_v p`:
    :math:`\varphi_v = g^\top V_v`, :math:`J_{vw} = V_v^\top h_w + \varepsilon\,g^\top\partial^2_{vw}p`,
    :math:`\partial_\varepsilon\varphi_v = g^\top\partial_v p + p^\top h_v`.

    Errors: the certified evaluation errors :math:`E_g` of g and :math:`E_{h_v}` of :math:`h_v`
    (Problem's bounds), contracted with vectors of norm at most :math:`\varepsilon C_1`,
    :math:`\varepsilon C_2`, 1; dot products of 3 terms add :math:`\gamma_3 \le 4u` of the
    product of the norms, a sum u of the result; the computed δ, ∂p, ∂²p are off by at most
    :data:`theory.certificates.charts.CHART_RTOL` times ε, C1, C2 (per vector), which moves each quantity by at most
    :data:`theory.certificates.charts.CHART_RTOL` · K, with
    :math:`K = (\varepsilon^3 T_3 + 3\varepsilon^2 T_2 + \varepsilon T_1)(C_1^2 + C_2) + (T_1 + 3\varepsilon T_2
    + \varepsilon^2 T_3) C_1` (perturbing δ, the chart vectors and ∂L, ∂²L's arguments in the three
    formulas; C1 <= C1² + C2 for ‖q‖ <= √3); :data:`theory.certificates._boxes.BOX_FLOOR` times the natural
    scale covers absolute roundings below the normal range.
    """
    g, (ha, hb) = centre["grad"], centre["hvs"]
    e_g = vector_norm(centre["grad_err"]) + 4.0 * _U * vector_norm(g)
    e_ha = vector_norm(centre["hv_errs"][0]) + 4.0 * _U * vector_norm(ha)
    e_hb = vector_norm(centre["hv_errs"][1]) + 4.0 * _U * vector_norm(hb)

    def dot(u, v):
        return np.einsum("ij,ij->i", u, v)

    phi_a, phi_b = dot(g, Va), dot(g, Vb)
    J_aa = dot(Va, ha) + eps * dot(g, ch["paa"])
    J_ab = dot(Va, hb) + eps * dot(g, ch["pab"])
    J_bb = dot(Vb, hb) + eps * dot(g, ch["pbb"])
    psi_a = dot(g, ch["pa"]) + dot(ch["p"], ha)
    psi_b = dot(g, ch["pb"]) + dot(ch["p"], hb)
    point = CHART_RTOL * K
    s1, s2 = eps * C1 * (1.0 + CHART_RTOL), eps * C2 * (1.0 + CHART_RTOL)
    err_phi = s1 * e_g + point + eps * BOX_FLOOR
    floor2 = (eps + eps * eps) * BOX_FLOOR
    err_aa = s1 * e_ha + s2 * e_g + 2.0 * _U * np.abs(J_aa) + point + floor2
    err_ab = s1 * e_hb + s2 * e_g + 2.0 * _U * np.abs(J_ab) + point + floor2
    err_bb = s1 * e_hb + s2 * e_g + 2.0 * _U * np.abs(J_bb) + point + floor2
    c1 = C1 * (1.0 + CHART_RTOL)
    floor1 = (1.0 + eps) * BOX_FLOOR
    err_pa = c1 * e_g + (1.0 + CHART_RTOL) * e_ha + 2.0 * _U * np.abs(psi_a) + point + floor1
    err_pb = c1 * e_g + (1.0 + CHART_RTOL) * e_hb + 2.0 * _U * np.abs(psi_b) + point + floor1
    inflate = 1.0 + 16.0 * _U
    values = (phi_a, phi_b, J_aa, J_ab, J_bb, psi_a, psi_b)
    errors = tuple(inflate * e for e in (err_phi, err_phi, err_aa, err_ab, err_bb, err_pa, err_pb))
    return values, errors


def shell_box_bounds(problem, face, eps_lo, eps_hi, a_lo, a_hi, b_lo, b_hi):
    r"""Bounds on the second and third derivatives of :math:`\varphi(\varepsilon, a, b) = L(\varepsilon p(a, b))` over boxes of one face (d = 3).

    Returns :math:`Q_{aaa}, Q_{\varepsilon aa}, Q_{\varepsilon\varepsilon a}`, each (n,), with at every
    point of the box, for chart directions v, w, x ∈ {a, b}:
    :math:`|\partial_v\partial_w\partial_x\varphi| \le Q_{aaa}`,
    :math:`|\partial_\varepsilon\partial_v\partial_w\varphi| \le Q_{\varepsilon aa}` and
    :math:`|\partial^2_\varepsilon\partial_v\varphi| \le Q_{\varepsilon\varepsilon a}`.

    **Derivation.** Along a unit direction of (a, b), with :math:`p', p'', p'''` the
    derivatives of p (norms at most :math:`C_1 = 1/\|q\|`, :math:`C_2 = ` :data:`CHART_C2` /‖q‖²,
    :math:`C_3 = ` :data:`CHART_C3` /‖q‖³, ‖q‖ at its least over the box) and |p| = 1:

    .. math::
        \tfrac{d^3}{dt^3}\varphi &= \varepsilon^3\partial^3 L[p', p', p'] + 3\varepsilon^2\partial^2 L[p'', p']
            + \varepsilon\,\partial L^\top p''', \\
        \partial_\varepsilon \tfrac{d^2}{dt^2}\varphi &= 2\varepsilon\,\partial^2 L[p', p']
            + \varepsilon^2\partial^3 L[p, p', p'] + \partial L^\top p'' + \varepsilon\,\partial^2 L[p, p''], \\
        \partial^2_\varepsilon \tfrac{d}{dt}\varphi &= 2\,\partial^2 L[p, p'] + \varepsilon\,\partial^3 L[p, p, p'],

    so :math:`Q_{aaa} = \varepsilon_b^3 T_3 C_1^3 + 3\varepsilon_b^2 T_2 C_2 C_1 + \varepsilon_b T_1 C_3`,
    :math:`Q_{\varepsilon aa} = 2\varepsilon_b T_2 C_1^2 + \varepsilon_b^2 T_3 C_1^2 + T_1 C_2 + \varepsilon_b T_2 C_2`,
    :math:`Q_{\varepsilon\varepsilon a} = 2 T_2 C_1 + \varepsilon_b T_3 C_1`; the forms are symmetric in
    the chart directions, so by Banach's theorem the diagonal bounds bound every mixed
    derivative. :math:`T_k \ge \|\partial^k L\|` over the ball of centre :math:`x + \varepsilon_c p(c)`
    and radius :math:`r_\varepsilon + \varepsilon_c C_1 (r_a + r_b)` (plus the centre's rounding),
    from :func:`theory.bounds.ball_derivative_bounds` and the loss bounds, as in
    :func:`theory.certificates.box_derivative_bounds`.

    Parameters
    ----------
    problem : Problem
        d = 3.
    face : array_like of int, shape (n,)
    eps_lo, eps_hi, a_lo, a_hi, b_lo, b_hi : array_like, shape (n,)

    Returns
    -------
    Q_aaa, Q_eaa, Q_eea : ndarray, shape (n,)
    """
    _check_d3(problem)
    arrays = [np.atleast_1d(np.asarray(v, dtype=float)) for v in (eps_lo, eps_hi, a_lo, a_hi, b_lo, b_hi)]
    face = np.atleast_1d(np.asarray(face))
    if any(v.shape != face.shape or v.ndim != 1 for v in arrays):
        raise ValueError("face and the box edges must have one shape (n,)")
    ea, eb, a0, a1, b0, b1 = arrays
    if not np.all(ea > 0.0) or np.any(eb < ea) or np.any(a1 < a0) or np.any(b1 < b0):
        raise ValueError("boxes must have 0 < eps_lo <= eps_hi, a_lo <= a_hi and b_lo <= b_hi")
    out = chart_box_values(problem, face.astype(int), ea, eb, a0, a1, b0, b1, derivative_caps(problem))
    return out["Q_aaa"], out["Q_eaa"], out["Q_eea"]


def shell_derivatives(problem, face, eps, a, b):
    r"""φ_a, φ_b, J_aa, J_ab, J_bb, ∂_ε φ_a, ∂_ε φ_b at chart points (d = 3), with certified error bounds.

    Parameters
    ----------
    problem : Problem
        d = 3.
    face : array_like of int, shape (n,)
    eps, a, b : array_like, shape (n,)
        Radii > 0 and chart coordinates.

    Returns
    -------
    values, errors : ndarray, shape (7, n)
    """
    _check_d3(problem)
    face = np.atleast_1d(np.asarray(face))
    eps, a, b = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (eps, a, b))
    if not (eps.shape == a.shape == b.shape == face.shape) or eps.ndim != 1:
        raise ValueError("face, eps, a and b must have one shape (n,)")
    if not np.all(np.isfinite(eps)) or not np.all(eps > 0.0):
        raise ValueError("eps must be finite and > 0")
    out = chart_box_values(problem, face.astype(int), eps, eps, a, a, b, b, derivative_caps(problem))
    return np.stack(out["values"]), np.stack(out["errors"])


def _shell_tests(values, errors, Q_aaa, Q_eaa, Q_eea, re, ra, rb, flip_c=False):
    r"""Which boxes are proved to hold no degenerate critical point or no minimum; the split direction (0: ε, 1: a, 2: b) of the others.

    *Test A* (a component of the chart gradient nonzero): for v ∈ {a, b}, with the
    centre's computed values and errors,
    :math:`D_{vw} = |\hat J_{vw}| + e + Q_{aaa}(r_a + r_b) + Q_{\varepsilon aa} r_\varepsilon`
    bounds :math:`|\partial_w\varphi_v|` on the box (w ∈ {a, b}: the variation of
    :math:`J_{vw}` from the centre) and
    :math:`D_{v\varepsilon} = |\hat\psi_v| + e + Q_{\varepsilon aa}(r_a + r_b) + Q_{\varepsilon\varepsilon a} r_\varepsilon`
    bounds :math:`|\partial_\varepsilon\varphi_v|`; then
    :math:`|\hat\varphi_v| - e > D_{va} r_a + D_{vb} r_b + D_{v\varepsilon} r_\varepsilon` proves
    :math:`\varphi_v \ne 0` on the box (mean value theorem along a path inside it).

    *Test C* (J has a negative eigenvalue): with the same η, when the computed smallest
    eigenvalue :math:`m - r` (plus its rounding) is below :math:`-2\eta_{\max}`, every J on the
    box has a negative eigenvalue: no local minimum lies in the box, and no fold that
    creates or destroys one (that needs J positive semi-definite and singular).

    *Test B* (J nonsingular): every entry of J moves by at most
    :math:`\eta = Q_{aaa}(r_a + r_b) + Q_{\varepsilon aa} r_\varepsilon` plus its error from the
    centre, so :math:`\|J - \hat J\|_2 \le \|\cdot\|_F \le 2\eta_{\max}`; by Weyl's inequality J is
    nonsingular when the smallest |eigenvalue| of the computed symmetric 2 × 2
    :math:`\hat J`, :math:`\big||m| - r\big|` with :math:`m = (\hat J_{aa} + \hat J_{bb})/2`,
    :math:`r = \mathrm{hypot}((\hat J_{aa} - \hat J_{bb})/2, \hat J_{ab})` (less 8u of the
    entries' sum for its rounding), exceeds that.
    """
    phi_a, phi_b, J_aa, J_ab, J_bb, psi_a, psi_b = values
    e_phi, _, e_aa, e_ab, e_bb, e_pa, e_pb = errors
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        var_J = Q_aaa * (ra + rb) + Q_eaa * re
        var_psi = Q_eaa * (ra + rb) + Q_eea * re
        best_ratio, best_split = np.full(phi_a.shape, -np.inf), np.zeros(phi_a.shape, dtype=int)
        proved = np.zeros(phi_a.shape, dtype=bool)
        for phi, Jva, Jvb, eva, evb, psi, ep in ((phi_a, J_aa, J_ab, e_aa, e_ab, psi_a, e_pa),
                                                  (phi_b, J_ab, J_bb, e_ab, e_bb, psi_b, e_pb)):
            contrib = np.stack([(np.abs(psi) + ep + var_psi) * re, (np.abs(Jva) + eva + var_J) * ra,
                                (np.abs(Jvb) + evb + var_J) * rb])
            left, right = np.abs(phi) - e_phi, contrib.sum(axis=0) * (1.0 + 4.0 * _U)
            proved |= left > right
            ratio = left / right
            better = ratio > best_ratio
            best_ratio = np.where(better, ratio, best_ratio)
            best_split = np.where(better, np.argmax(contrib, axis=0), best_split)
        m = 0.5 * (J_aa + J_bb)
        r = np.hypot(0.5 * (J_aa - J_bb), J_ab)
        smallest = np.abs(np.abs(m) - r) - 8.0 * _U * (np.abs(J_aa) + np.abs(J_ab) + np.abs(J_bb))
        eta = var_J + np.maximum(np.maximum(e_aa, e_ab), e_bb)
        right_b = 2.0 * eta * (1.0 + 4.0 * _U)
        proved |= smallest > right_b
        # Test C: J certainly has a negative eigenvalue, so no minimum and no fold of a minimum here.
        lowest = m - r + 8.0 * _U * (np.abs(J_aa) + np.abs(J_ab) + np.abs(J_bb))
        if flip_c:  # the injected bug of the controls: a positive eigenvalue taken for a negative one too
            lowest = np.minimum(lowest, -(m + r - 8.0 * _U * (np.abs(J_aa) + np.abs(J_ab) + np.abs(J_bb))))
        proved |= -lowest > right_b
        ratio_b = np.maximum(smallest, -lowest) / right_b
        contrib_b = np.stack([Q_eaa * re, Q_aaa * ra, Q_aaa * rb])
        split = np.where(ratio_b > best_ratio, np.argmax(contrib_b, axis=0), best_split)
    finite = np.all(np.isfinite(np.stack(values + errors)), axis=0) & np.isfinite(var_J) & np.isfinite(var_psi)
    return proved & finite, split


@dataclass(frozen=True)
class ShellCover:
    r"""The outcome of a cover of a shell :math:`[\varepsilon_0, \varepsilon_1]\times\mathbb S^2` (d = 3).

    Attributes
    ----------
    eps_lo, eps_hi, reached, proved, boxes, evaluations, stopped
        As :class:`theory.certificates.AnnulusCover`: every point with
        :math:`\varepsilon_0 \le \varepsilon <` ``reached`` lies in a proved box; ``proved`` when
        ``reached >= eps_hi`` (the closed shell is fold-free).
    """

    eps_lo: float
    eps_hi: float
    reached: float
    proved: bool
    boxes: int
    evaluations: int
    stopped: str


def _initial_shell_boxes(eps_lo, eps_hi, splits):
    """Boxes covering [eps_lo, eps_hi] x the six faces: slabs of ratio 2 in ε, ``splits``² squares per face.

    The slabs are those of :func:`theory.certificates._boxes.slab_edges` (independent of eps_hi).
    """
    edges = slab_edges(eps_lo, eps_hi)
    side = np.linspace(-1.0, 1.0, splits + 1)
    f, e, ia, ib = np.meshgrid(np.arange(6), np.arange(len(edges) - 1), np.arange(splits), np.arange(splits),
                               indexing="ij")
    f, e, ia, ib = f.ravel(), e.ravel(), ia.ravel(), ib.ravel()
    edges = np.array(edges)
    return f, edges[e], edges[e + 1], side[ia], side[ia + 1], side[ib], side[ib + 1]


def _shell_cover(problem, eps_lo, eps_hi, *, max_boxes, rtol, min_side, splits, bound_factor=1.0, flip_c=False):
    """The cover behind :func:`fold_free_shell`; ``bound_factor`` < 1 makes the bounds wrong, ``flip_c`` test C
    (a box with a certainly positive eigenvalue of J also taken as minimum-free): controls only."""
    caps = derivative_caps(problem)
    face, ea, eb, a0, a1, b0, b1 = _initial_shell_boxes(eps_lo, eps_hi, splits)
    reached, evaluations, proved_boxes, stopped = eps_hi, 0, 0, "complete"
    while ea.size:
        keep = ea < reached
        face, ea, eb, a0, a1, b0, b1 = (v[keep] for v in (face, ea, eb, a0, a1, b0, b1))
        if not ea.size:
            break
        if evaluations >= max_boxes:
            reached, stopped = float(np.min(ea)), "budget"
            break
        front = np.nonzero(ea <= float(np.min(ea)) * (1.0 + SHELL_WINDOW))[0]
        take = min(front.size, SHELL_BATCH, max_boxes - evaluations)
        order = front[np.argpartition(ea[front], take - 1)[:take]] if take < front.size else front
        rest = np.ones(ea.size, dtype=bool)
        rest[order] = False
        box = [v[order] for v in (face, ea, eb, a0, a1, b0, b1)]
        out = chart_box_values(problem, *box, caps)
        evaluations += take
        proved, split = _shell_tests(out["values"], out["errors"], bound_factor * out["Q_aaa"],
                                     bound_factor * out["Q_eaa"], bound_factor * out["Q_eea"],
                                     out["re"], out["ra"], out["rb"], flip_c)
        proved_boxes += int(proved.sum())
        bf, bea, beb, ba0, ba1, bb0, bb1 = (v[~proved] for v in box)
        split = split[~proved]
        can = np.stack([(beb - bea) > rtol * bea, (ba1 - ba0) > min_side, (bb1 - bb0) > min_side])
        # The chosen direction if it can still be split, else the first one that can.
        chosen_ok = can[split, np.arange(split.size)]
        fallback = np.argmax(can, axis=0)
        split = np.where(chosen_ok, split, fallback)
        stuck = ~can.any(axis=0)
        if stuck.any():
            reached, stopped = min(reached, float(np.min(bea[stuck]))), "resolution"
        live = ~stuck
        bf, bea, beb, ba0, ba1, bb0, bb1, split = (v[live] for v in (bf, bea, beb, ba0, ba1, bb0, bb1, split))
        children = []
        for d, (lo, hi) in enumerate(((bea, beb), (ba0, ba1), (bb0, bb1))):
            sel = split == d
            mid = 0.5 * (lo[sel] + hi[sel])
            for half in (0, 1):
                edges = [v[sel].copy() for v in (bf, bea, beb, ba0, ba1, bb0, bb1)]
                edges[1 + 2 * d + (1 - half)] = mid  # half 0 keeps [lo, mid], half 1 [mid, hi]
                children.append(edges)
        parts = [[v[rest] for v in (face, ea, eb, a0, a1, b0, b1)]] + children
        face, ea, eb, a0, a1, b0, b1 = (np.concatenate([p[c] for p in parts]) for c in range(7))
    return ShellCover(eps_lo=float(eps_lo), eps_hi=float(eps_hi), reached=float(reached),
                      proved=bool(reached >= eps_hi), boxes=proved_boxes, evaluations=int(evaluations),
                      stopped=stopped)


def fold_free_shell(problem, eps_lo, eps_hi, *, max_boxes=SHELL_MAX_BOXES, rtol=SHELL_RTOL):
    r"""Prove the shell :math:`[\varepsilon_0, \varepsilon_1]\times\mathbb S^2` fold-free (d = 3), or say how far the proof got.

    The six faces of the cube-sphere, times the radii, are covered by boxes, each proved
    by :func:`_shell_tests` (bounds: :func:`shell_box_bounds`, values:
    :func:`shell_derivatives`); a box that fails is bisected along its largest
    contribution, the boxes of smallest radius first, until every box is proved, a box
    below the resolution (``rtol`` · ε in ε, :data:`SHELL_MIN_SIDE` in a and b) fails,
    or ``max_boxes`` have been evaluated.

    Parameters
    ----------
    problem : Problem
        d = 3; its network, input, label and loss (not its ε).
    eps_lo, eps_hi : float
        :math:`0 < \varepsilon_0 \le \varepsilon_1`.
    max_boxes : int
    rtol : float

    Returns
    -------
    ShellCover
    """
    _check_d3(problem)
    eps_lo = check_positive_float("eps_lo", eps_lo)
    eps_hi = check_positive_float("eps_hi", eps_hi)
    if eps_hi < eps_lo:
        raise ValueError(f"eps_hi must be >= eps_lo, got eps_lo={eps_lo}, eps_hi={eps_hi}")
    max_boxes = check_positive_int("max_boxes", max_boxes)
    rtol = check_positive_float("rtol", rtol)
    return _shell_cover(problem, eps_lo, eps_hi, max_boxes=max_boxes, rtol=rtol, min_side=SHELL_MIN_SIDE,
                        splits=SHELL_INITIAL_SPLITS)


def shell_tau_eps(problem, eps_cap, *, max_boxes=SHELL_MAX_BOXES, rtol=SHELL_RTOL, _bound_factor=1.0,
                  _flip_c=False):
    r"""The certified τ_ε at d = 3: the contraction radius τ_0, extended by the fold-free shell from τ_0 to ``eps_cap``.

    For every ε < τ_ε exactly one local minimum (module docstring). ``_bound_factor``
    < 1 scales the box bounds wrongly, ``_flip_c`` makes test C wrong (controls only).

    Returns
    -------
    float
    """
    _check_d3(problem)
    eps_cap = check_positive_float("eps_cap", eps_cap)
    tau0 = contraction_tau_eps(problem, eps_cap=eps_cap)
    if tau0 == 0.0 or tau0 >= eps_cap:
        return tau0
    cover = _shell_cover(problem, tau0, eps_cap, max_boxes=max_boxes, rtol=rtol, min_side=SHELL_MIN_SIDE,
                         splits=SHELL_INITIAL_SPLITS, bound_factor=_bound_factor, flip_c=_flip_c)
    return max(cover.reached, tau0)
