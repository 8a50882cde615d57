r"""The certified count of the critical points of L on the sphere :math:`\varepsilon\mathbb S^2` (d = 3).

The d = 3 analogue of the circle scan (:func:`theory.landscape.circle_critical_points`):
every critical point of L on the sphere of radius ε, each with its kind, and a proof
that none was missed and none counted twice.

**Charts.** The six cube-sphere charts of :mod:`theory.certificates.shell`: on face (k, s),
:math:`\varphi(a, b) = L(\varepsilon\,p(a, b))` with :math:`p = q/\|q\|`,
:math:`q = s e_k + a e_i + b e_j`. The critical points of L on the sphere are the zeros of
the chart gradient :math:`F = (\varphi_a, \varphi_b)`; its Jacobian is the chart Hessian J,
the Riemannian Hessian pulled back by the chart at a zero, so J positive definite is a
strict local minimum, negative definite a strict local maximum, indefinite a saddle.
The open squares :math:`(-1, 1)^2` of the six faces are pairwise disjoint (on the open
face (k, s), :math:`s p_k > \max(|p_i|, |p_j|)`), and the closed squares cover the sphere.

**Subdivision.** Each face starts as :data:`SPHERE_INITIAL_SPLITS` ² equal squares; a box
X = c ± r that is not settled is split into four. A box is settled when

* it is *zero-free*: a component of F is certainly nonzero on X, by the mean value
  theorem: :math:`|\hat\varphi_v| - e > \sum_w (|\hat J_{vw}| + e_{vw} + Q (r_a + r_b))\,r_w`,
  with the centre's computed values and certified errors and
  :math:`Q \ge |\partial^3\varphi|` over X (:func:`theory.certificates.shell.shell_box_bounds`, whose
  mixed derivatives it also bounds); or
* the *Krawczyk test* succeeds on the inflated box X' = c ± λr (λ = :data:`KRAWCZYK_INFLATION`).
  Over X' every entry of J lies within :math:`\eta_{vw} = Q'(r'_a + r'_b) + e_{vw}` of
  :math:`\hat J_{vw}` (Q' over X'); with :math:`Y \approx \hat J^{-1}` (any matrix: it is
  used as computed), the Krawczyk operator
  :math:`K = c - Y\hat F + (I - Y[J])(X' - c)` is enclosed by the box of centre
  :math:`c - Y\hat F` and radii :math:`|Y| e + \sum_j (|I - Y\hat J|_{ij} + (|Y|\eta)_{ij})\,r'_j`
  plus the rounding of these few products. If K lies in the interior of X', F has exactly
  one zero in X', and it lies in K (Krawczyk's theorem, e.g. Neumaier, *Interval Methods
  for Systems of Equations*, Thm. 5.1.8: it needs only an enclosure of the Jacobian over
  X'). Then

  - K inside the interior of X: the zero lies in X, in the open face square, hence in no
    other box of any face: it is counted, once;
  - K disjoint from X: X holds no zero (a zero in X ⊂ X' would be the one in K);
  - otherwise X is split.

  A counted zero is classified by Weyl's inequality: :math:`\|J(z) - \hat J\|_2 \le
  \|\cdot\|_F \le \beta = (\eta_{aa}^2 + 2\eta_{ab}^2 + \eta_{bb}^2)^{1/2}` at the zero z ∈ X',
  so the eigenvalues λ₁ ≤ λ₂ of :math:`\hat J` (less their rounding) decide: λ₁ > β minimum,
  λ₂ < −β maximum, λ₁ < −β and λ₂ > β saddle; otherwise X is split.

When every box is settled the list is complete (``certified``). The kinds are then those of
a Morse function on S², and the Poincaré–Hopf theorem gives
:math:`\#\text{minima} - \#\text{saddles} + \#\text{maxima} = \chi(\mathbb S^2) = 2` —
an identity the count does not use, and which its checks test.

Why the inflation: a zero on (or within rounding of) the edge of X would keep the Krawczyk
test on X itself from succeeding at every depth; on X' it lies well inside. λ = 2 needs
the contraction :math:`\|I - Y[J]\| < 1 - 1/\lambda = 1/2` (the zero is within r of c).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory.certificates._boxes import derivative_caps, half_width
from theory._validation import check_positive_float, check_positive_int
from theory.landscape.critical import CriticalPoint, newton_on_sphere, tangent_hessian
from theory.constrained import tangent_gradient
from theory.geometry import vector_norm
from theory.certificates.charts import chart_points
from theory.certificates.shell import chart_box_values
from theory._floats import UNIT_ROUNDOFF
from theory.problem import check_problem

__all__ = [
    "SphereScan",
    "sphere_critical_points",
    "SPHERE_INITIAL_SPLITS",
    "SPHERE_MAX_BOXES",
    "SPHERE_MIN_SIDE",
    "KRAWCZYK_INFLATION",
    "EULER_CHARACTERISTIC",
]

_U = UNIT_ROUNDOFF

#: Each face of the cube starts as SPHERE_INITIAL_SPLITS² equal squares.
SPHERE_INITIAL_SPLITS = 4

#: Budget of the scan: box evaluations (a box not proved zero-free costs a second one, on
#: its inflated box).
SPHERE_MAX_BOXES = 2**19

#: Smallest side (chart units) of a box that is still split; a box below it that is not
#: settled stays unresolved (a degenerate or nearly degenerate critical point, or a zero
#: within rounding of a box edge).
SPHERE_MIN_SIDE = 2.0 ** -30

#: λ: the Krawczyk test runs on the box of the same centre and λ times the half-widths.
KRAWCZYK_INFLATION = 2.0

#: χ(S²): minima − saddles + maxima of a Morse function on the sphere (Poincaré–Hopf).
EULER_CHARACTERISTIC = 2


@dataclass(frozen=True)
class SphereScan:
    r"""Result of :func:`sphere_critical_points`.

    Attributes
    ----------
    points : list of CriticalPoint
        The critical points counted, sorted by loss; ``kind`` is the proved kind (the
        eigenvalues are those of :func:`theory.landscape.tangent_hessian` at ``delta``).
    enclosures : ndarray, shape (len(points),)
        For each point, a bound on the distance from ``delta`` to the exact critical point
        (the Krawczyk box, mapped to the sphere).
    certified : bool
        Every box settled: ``points`` are all the critical points.
    evaluations : int
        Box evaluations.
    unresolved : int
        Boxes left unsettled (0 when certified).
    stopped : str
        ``"complete"``, ``"budget"`` or ``"resolution"``.
    """

    points: list
    enclosures: np.ndarray
    certified: bool
    evaluations: int
    unresolved: int
    stopped: str

    def count(self, kind):
        """How many of the points are of ``kind`` ("minimum", "saddle" or "maximum")."""
        return sum(p.kind == kind for p in self.points)

    @property
    def euler(self):
        """Minima − saddles + maxima (2 for a complete count, by Poincaré–Hopf)."""
        return self.count("minimum") - self.count("saddle") + self.count("maximum")


def _zero_free(out):
    """Test A of the module docstring on the evaluated boxes: a component of F certainly nonzero."""
    phi_a, phi_b, J_aa, J_ab, J_bb, psi_a, psi_b = out["values"]
    e_phi, _, e_aa, e_ab, e_bb, e_pa, e_pb = out["errors"]
    Q_aaa, Q_eaa, Q_eea, re, ra, rb = (out[k] for k in ("Q_aaa", "Q_eaa", "Q_eea", "re", "ra", "rb"))
    with np.errstate(over="ignore", invalid="ignore"):
        var_J = Q_aaa * (ra + rb) + Q_eaa * re
        var_psi = Q_eaa * (ra + rb) + Q_eea * re
        proved = np.zeros(phi_a.shape, dtype=bool)
        for phi, Jva, Jvb, eva, evb, psi, ep in ((phi_a, J_aa, J_ab, e_aa, e_ab, psi_a, e_pa),
                                                  (phi_b, J_ab, J_bb, e_ab, e_bb, psi_b, e_pb)):
            right = ((np.abs(Jva) + eva + var_J) * ra + (np.abs(Jvb) + evb + var_J) * rb
                     + (np.abs(psi) + ep + var_psi) * re) * (1.0 + 4.0 * _U)
            proved |= np.abs(phi) - e_phi > right
    return proved & np.isfinite(var_J) & np.isfinite(var_psi)


def _krawczyk(out, ac, bc):
    """The Krawczyk test of the module docstring on the evaluated (inflated) boxes.

    Returns ``ok`` (K inside the interior of the box), the enclosure's centre and radii in
    (a, b), and the kind (0: undecided, 1 minimum, 2 saddle, 3 maximum), each (n,).
    """
    phi_a, phi_b, J_aa, J_ab, J_bb = out["values"][:5]
    e_phi, _, e_aa, e_ab, e_bb = out["errors"][:5]
    Q_aaa, Q_eaa, re, ra, rb = (out[k] for k in ("Q_aaa", "Q_eaa", "re", "ra", "rb"))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        var = Q_aaa * (ra + rb) + Q_eaa * re
        eta = np.stack([np.stack([var + e_aa, var + e_ab]), np.stack([var + e_ab, var + e_bb])])  # (2, 2, n)
        J = np.stack([np.stack([J_aa, J_ab]), np.stack([J_ab, J_bb])])
        det = J_aa * J_bb - J_ab * J_ab
        Y = np.stack([np.stack([J_bb, -J_ab]), np.stack([-J_ab, J_aa])]) / det
        F = np.stack([phi_a, phi_b])
        absY = np.abs(Y)
        YF = np.einsum("ikn,kn->in", Y, F)
        err_YF = (np.einsum("ikn,kn->in", absY, np.abs(F)) * 4.0 * _U
                  + absY.sum(axis=1) * e_phi) * (1.0 + 4.0 * _U)
        E = np.eye(2)[:, :, None] - np.einsum("ikn,kjn->ijn", Y, J)
        M = (np.abs(E) + 4.0 * _U * (1.0 + np.einsum("ikn,kjn->ijn", absY, np.abs(J)))
             + np.einsum("ikn,kjn->ijn", absY, eta))
        r = np.stack([ra, rb])
        rad = (err_YF + np.einsum("ijn,jn->in", M, r)) * (1.0 + 4.0 * _U)
        centre = np.stack([ac, bc]) - YF
        rad = rad + 2.0 * _U * np.abs(centre)
        ok = np.all(np.abs(centre - np.stack([ac, bc])) + rad < r * (1.0 - 4.0 * _U), axis=0)
        ok &= np.all(np.isfinite(rad), axis=0) & np.all(np.isfinite(centre), axis=0)
        m = 0.5 * (J_aa + J_bb)
        half = np.hypot(0.5 * (J_aa - J_bb), J_ab)
        slack = 8.0 * _U * (np.abs(J_aa) + np.abs(J_ab) + np.abs(J_bb))
        beta = np.sqrt(eta[0, 0] ** 2 + 2.0 * eta[0, 1] ** 2 + eta[1, 1] ** 2) * (1.0 + 4.0 * _U) + slack
        lo, hi = m - half, m + half
        kind = np.where(lo > beta, 1, np.where(hi < -beta, 3, np.where((lo < -beta) & (hi > beta), 2, 0)))
    return ok, centre, rad, np.where(ok, kind, 0)


_KINDS = {1: "minimum", 2: "saddle", 3: "maximum"}


def _initial_boxes(splits):
    side = np.linspace(-1.0, 1.0, splits + 1)
    f, ia, ib = (v.ravel() for v in np.meshgrid(np.arange(6), np.arange(splits), np.arange(splits), indexing="ij"))
    return f, side[ia], side[ia + 1], side[ib], side[ib + 1]


def _scan(problem, *, max_boxes, min_side, splits, bound_factor=1.0):
    """The subdivision of :func:`sphere_critical_points`; ``bound_factor`` < 1 makes Q wrong (controls only)."""
    eps = problem.eps
    caps = derivative_caps(problem)

    def evaluate(face, a0, a1, b0, b1):
        e = np.full(face.shape, eps)
        out = chart_box_values(problem, face, e, e, a0, a1, b0, b1, caps)
        for k in ("Q_aaa", "Q_eaa", "Q_eea"):
            out[k] = bound_factor * out[k]
        return out

    face, a0, a1, b0, b1 = _initial_boxes(splits)
    found = []  # (face, centre a, centre b, radius a, radius b, kind)
    evaluations, unresolved, stopped = 0, 0, "complete"
    while face.size:
        if evaluations + 2 * face.size > max_boxes:
            unresolved, stopped = int(face.size), "budget"
            break
        out = evaluate(face, a0, a1, b0, b1)
        evaluations += face.size
        free = _zero_free(out)
        face, a0, a1, b0, b1 = (v[~free] for v in (face, a0, a1, b0, b1))
        if not face.size:
            break
        ac, ra = half_width(a0, a1)
        bc, rb = half_width(b0, b1)
        lam = KRAWCZYK_INFLATION
        big = evaluate(face, ac - lam * ra, ac + lam * ra, bc - lam * rb, bc + lam * rb)
        evaluations += face.size
        ok, centre, rad, kind = _krawczyk(big, big["ac"], big["bc"])
        k_lo, k_hi = centre - rad, centre + rad
        inside = ok & (k_lo[0] > a0) & (k_hi[0] < a1) & (k_lo[1] > b0) & (k_hi[1] < b1)
        outside = ok & ((k_hi[0] < a0) | (k_lo[0] > a1) | (k_hi[1] < b0) | (k_lo[1] > b1))
        counted = inside & (kind > 0)
        for i in np.nonzero(counted)[0]:
            found.append((int(face[i]), centre[0, i], centre[1, i], rad[0, i], rad[1, i], _KINDS[int(kind[i])]))
        split = ~(counted | outside)
        face, a0, a1, b0, b1 = (v[split] for v in (face, a0, a1, b0, b1))
        small = (a1 - a0 <= min_side) | (b1 - b0 <= min_side)
        if small.any():
            unresolved += int(small.sum())
            stopped = "resolution"
            face, a0, a1, b0, b1 = (v[~small] for v in (face, a0, a1, b0, b1))
        am, bm = 0.5 * (a0 + a1), 0.5 * (b0 + b1)
        face = np.tile(face, 4)
        a0, a1 = np.concatenate([a0, a0, am, am]), np.concatenate([am, am, a1, a1])
        b0, b1 = np.concatenate([b0, bm, b0, bm]), np.concatenate([bm, b1, bm, b1])
    points, enclosures = [], []
    for f, a, b, rad_a, rad_b, kind in found:
        ch = chart_points(np.array([f]), np.array([a]), np.array([b]))
        # ‖∂N‖ <= 1/‖q‖ <= 1 along the chart: the sphere point is within ε‖(r_a, r_b)‖ (plus rounding).
        reach = eps * float(np.hypot(rad_a, rad_b)) * (1.0 + 8.0 * _U) + 8.0 * _U * eps
        delta = eps * ch["p"][0]
        refined, _ = newton_on_sphere(problem, delta)
        if vector_norm(refined - delta) <= reach:  # Newton's limit is the proved zero: keep the sharper point
            delta = refined
        grad = problem.loss_grad(delta)
        ratio = float(vector_norm(tangent_gradient(problem, delta)) / max(float(vector_norm(grad)),
                                                                          np.finfo(float).tiny))
        eig = np.linalg.eigvalsh(tangent_hessian(problem, delta))
        points.append(CriticalPoint(delta=delta, loss=float(problem.loss_value(delta)), eigenvalues=eig,
                                    kind=kind, gradient_ratio=ratio))
        enclosures.append(reach)
    order = np.argsort([p.loss for p in points], kind="stable")
    return SphereScan(points=[points[i] for i in order], enclosures=np.array(enclosures)[order] if points
                      else np.zeros(0), certified=unresolved == 0, evaluations=int(evaluations),
                      unresolved=int(unresolved), stopped=stopped)


def sphere_critical_points(problem, *, max_boxes=SPHERE_MAX_BOXES, min_side=SPHERE_MIN_SIDE):
    r"""Every critical point of L on the sphere of radius ε (d = 3), with its kind and a proof that none was missed.

    Subdivision of the six cube-sphere charts into boxes proved zero-free or to hold
    exactly one zero (Krawczyk), classified by the chart Hessian (module docstring).

    Parameters
    ----------
    problem : Problem
        d = 3; its ε is the radius.
    max_boxes : int
        Budget of box evaluations; when it runs out the result says ``certified=False``
        and lists the points proved so far.
    min_side : float
        Boxes are not split below this side (chart units).

    Returns
    -------
    SphereScan
    """
    check_problem(problem)
    if problem.d != 3:
        raise ValueError(f"d must be 3 for the sphere scan, got d={problem.d}")
    max_boxes = check_positive_int("max_boxes", max_boxes)
    min_side = check_positive_float("min_side", min_side)
    return _scan(problem, max_boxes=max_boxes, min_side=min_side, splits=SPHERE_INITIAL_SPLITS)
