r"""Cube-sphere charts of the sphere S² (d = 3), shared by the shell certificate and the sphere scan.

Face (k, s) of the cube, k ∈ {0, 1, 2}, s = ±1, with (i, j) the other two axes in order:
:math:`q(a, b) = s e_k + a e_i + b e_j`, :math:`p = N(q) = q/\|q\|`, (a, b) ∈ [−1, 1]²
(:mod:`theory.certificates.shell` for how the certificates use them).
"""

from __future__ import annotations

import numpy as np

from theory.geometry import vector_norm
from theory._floats import UNIT_ROUNDOFF

__all__ = ["CHART_C2", "CHART_C3", "CHART_RTOL", "FACES", "chart_points", "nearest_zero"]

_U = UNIT_ROUNDOFF

#: Bounds on the second and third derivatives of N(q) = q/‖q‖ for ‖q‖ = 1 (they scale as
#: ‖q‖^-n). Along q + t v (|q| = |v| = 1, s = q·v), (1 + 2ts + t²)^(-1/2) is the generating
#: function of the Legendre polynomials at −s, so
#: :math:`N^{(n)}(0) = n!\,(q P_n(-s) + v P_{n-1}(-s))`, of squared norm
#: :math:`(n!)^2 F_n(s)` with :math:`F_1 = 1 - s^2`, :math:`F_2 = (1 + 2s^2 - 3s^4)/4`
#: (max 1/3 at s² = 1/3) and :math:`F_3 = (1 - 3s^2 + 7s^4 - 5s^6)/4` (max 1/4 at s = 0; its
#: other critical points s² = 1/3 and 3/5 give 4/27 and 4/25): the sups are 1, 2/√3 and 3.
#: By Banach's theorem on symmetric multilinear forms they bound every mixed derivative
#: too. Rounded up here.
CHART_C2 = 1.1548
CHART_C3 = 3.0001

#: Relative rounding of the computed chart vectors p, ∂p, ∂²p (componentwise, against
#: their bounds 1, C1, C2): a square root, a division and at most ~20 other operations
#: per entry, each within u; 64u covers them with the product by ε.
CHART_RTOL = 64.0 * _U

#: (k, s, i, j) of the six faces.
FACES = np.array([(k, s, *[a for a in range(3) if a != k]) for k in range(3) for s in (1, -1)])


def chart_points(face, a, b):
    r"""The cube-sphere chart: p, its first and second derivatives, and ‖q‖.

    Parameters
    ----------
    face : array_like of int, shape (n,)
        0 to 5: axis k = face // 2, sign s = +1 for even faces, −1 for odd.
    a, b : array_like, shape (n,)
        Chart coordinates.

    Returns
    -------
    dict
        ``p``, ``pa``, ``pb``, ``paa``, ``pab``, ``pbb`` (each (n, 3)) and ``norm`` (‖q‖, (n,)):
        :math:`\partial_v N(q) = (v - p\,(p\cdot v))/\|q\|` and
        :math:`\partial^2_{vw} N(q) = -[(p\cdot w)(v - p(p\cdot v)) + (p\cdot v)(w - p(p\cdot w))
        + p\,(v\cdot w - (p\cdot v)(p\cdot w))]/\|q\|^2` for v, w ∈ {e_i, e_j}.
    """
    face = np.asarray(face, dtype=int)
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if face.ndim != 1 or a.shape != face.shape or b.shape != face.shape:
        raise ValueError(f"face, a and b must have one shape (n,), got {face.shape}, {a.shape}, {b.shape}")
    if np.any((face < 0) | (face > 5)):
        raise ValueError("face must be in 0..5")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("a and b must be finite")
    k, s, i, j = FACES[face].T
    n = face.size
    rows = np.arange(n)
    q = np.zeros((n, 3))
    q[rows, k] = s
    q[rows, i] = a
    q[rows, j] = b
    norm = vector_norm(q)
    p = q / norm[:, None]
    ei, ej = np.zeros((n, 3)), np.zeros((n, 3))
    ei[rows, i] = 1.0
    ej[rows, j] = 1.0
    pi, pj = p[rows, i][:, None], p[rows, j][:, None]
    ti, tj = ei - p * pi, ej - p * pj  # tangent parts of e_i and e_j
    inv = 1.0 / norm[:, None]
    paa = -(2.0 * pi * ti + p * (1.0 - pi * pi)) * inv * inv
    pbb = -(2.0 * pj * tj + p * (1.0 - pj * pj)) * inv * inv
    pab = -(pj * ti + pi * tj - p * (pi * pj)) * inv * inv
    return dict(p=p, pa=ti * inv, pb=tj * inv, paa=paa, pab=pab, pbb=pbb, norm=norm)


def nearest_zero(lo, hi):
    """Elementwise min |t| over [lo, hi]."""
    return np.where((lo <= 0.0) & (hi >= 0.0), 0.0, np.minimum(np.abs(lo), np.abs(hi)))
