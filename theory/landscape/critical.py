r"""Critical points of L on the sphere: the record, the tangent Hessian, Newton refinement and the kind.

A point δ of the sphere :math:`\varepsilon\mathbb S^{d-1}` is critical when the tangent gradient
:math:`\Gamma(\delta)` vanishes; its kind is read from the Riemannian Hessian, :math:`Q^\top\Xi(\delta) Q`
in an orthonormal tangent basis Q (Ξ the constrained Hessian of
:func:`theory.constrained.constrained_hessian`). The finders of :mod:`theory.landscape` (search, circle
scan) and :mod:`theory.landscape.sphere_scan` (d = 3) all report :class:`CriticalPoint`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory._validation import as_float_array, as_points
from theory.constrained import constrained_hessian, tangent_gradient
from theory.geometry import vector_norm
from theory.problem import check_problem

__all__ = [
    "CriticalPoint",
    "tangent_basis",
    "tangent_hessian",
    "newton_on_sphere",
    "CRITICAL_GTOL",
    "NEWTON_STOP_RTOL",
    "DEGENERATE_RTOL",
    "classify",
    "kind_from_spectrum",
    "check_sphere_problem",
]

#: A point counts as critical when ‖Γ‖ <= CRITICAL_GTOL · ‖∂L‖ (relative, so that
#: the loss scale does not matter). Newton's quadratic convergence reaches
#: ~1e-14 at a non-degenerate critical point; 1e-8 leaves room for rounding in
#: Γ (a difference of O(‖∂L‖) terms) and flags slow, degenerate points.
CRITICAL_GTOL = 1e-8

#: Newton stops when ‖Γ‖/‖∂L‖ falls below this (a few units of rounding of Γ,
#: a difference of O(‖∂L‖) terms: nothing smaller is meaningful).
NEWTON_STOP_RTOL = 1e-15

#: A tangent eigenvalue of Ξ smaller than DEGENERATE_RTOL times the largest in
#: magnitude counts as zero (the point is "degenerate", neither a strict
#: minimum nor maximum). Eigenvalues of a symmetric matrix are computed to
#: ~u · ‖Ξ‖; Ξ itself carries the rounding of λ* and ∂²L, ~1e-13 relative at a
#: refined point; 1e-9 is far above both and far below the eigenvalue ratios
#: of the regime's landscapes (>= 1e-2).
DEGENERATE_RTOL = 1e-9


def check_sphere_problem(problem, need_d2=True):
    """Validate ``problem`` (a Problem; d >= 2 unless ``need_d2`` is false)."""
    check_problem(problem)
    if need_d2 and problem.d < 2:
        raise ValueError(f"d must be >= 2 for critical points on the sphere, got d={problem.d} "
                         "(for d = 1 the sphere is two isolated points)")


@dataclass(frozen=True)
class CriticalPoint:
    """A critical point of L on the sphere.

    Attributes
    ----------
    delta : ndarray, shape (d,)
    loss : float
        L(δ).
    eigenvalues : ndarray, shape (d - 1,)
        Eigenvalues of Ξ restricted to the tangent space, ascending.
    kind : str
        ``"minimum"``, ``"maximum"``, ``"saddle"`` or ``"degenerate"`` (a zero eigenvalue).
    gradient_ratio : float
        ‖Γ(δ)‖ / ‖∂L(δ)‖ at the refined point.
    hits : int or None
        How many search runs (descent or ascent, one per start) converged to
        this point; a point reached by one run of many signals thin coverage.
        None for the certified circle scan (d = 2), which uses no starts.
    """

    delta: np.ndarray
    loss: float
    eigenvalues: np.ndarray
    kind: str
    gradient_ratio: float
    hits: int | None = None


def tangent_basis(delta):
    """An orthonormal basis of the tangent space at ``delta``.

    Parameters
    ----------
    delta : ndarray, shape (d,)
        Non-zero.

    Returns
    -------
    ndarray, shape (d, d - 1)
        Columns orthonormal and orthogonal to ``delta`` (from a complete QR of [δ]).
    """
    delta = as_float_array("delta", delta, min_ndim=1)
    if delta.ndim != 1:
        raise ValueError(f"delta must have shape (d,), got {delta.shape}")
    if vector_norm(delta) == 0.0:
        raise ValueError("delta must be non-zero")
    q, _ = np.linalg.qr(delta[:, None], mode="complete")
    return q[:, 1:]


def tangent_hessian(problem, delta):
    r"""Ξ(δ) restricted to the tangent space: :math:`Q^\top\Xi(\delta)Q`, shape (d-1, d-1).

    Its eigenvalues are those of the Riemannian Hessian of L on the sphere at δ
    (exactly so at a critical point).
    """
    check_sphere_problem(problem)
    q = tangent_basis(delta)
    xi = constrained_hessian(problem, delta)
    h = q.T @ xi @ q
    return 0.5 * (h + h.T)


def _damped(step, radius):
    """A Newton step cut to half the sphere's radius in its own direction when longer (such steps are not local)."""
    length = vector_norm(step)
    return step * (0.5 * radius / length) if length > 0.5 * radius else step


def newton_on_sphere(problem, delta, *, max_iter=50):
    r"""Refine an approximate critical point on the sphere by Riemannian Newton steps.

    Parameters
    ----------
    problem : Problem
    delta : array_like, shape (d,)
        Start, non-zero (it is first moved radially onto the sphere).
    max_iter : int

    Returns
    -------
    delta : ndarray, shape (d,)
        On the sphere, with ‖Γ‖ as small as rounding allows when Newton converged.
    ratio : float
        ‖Γ(δ)‖ / ‖∂L(δ)‖ at the returned point.
    """
    check_sphere_problem(problem)
    eps = problem.eps
    delta = as_points("delta", delta, problem.d)
    delta = eps * delta / vector_norm(delta)
    best, best_ratio = delta, np.inf
    for _ in range(max_iter):
        tangent_grad = tangent_gradient(problem, delta)
        scale = vector_norm(problem.loss_grad(delta))
        ratio = float(vector_norm(tangent_grad) / scale) if scale > 0 else 0.0
        if ratio < best_ratio:
            best, best_ratio = delta, ratio
        if ratio <= NEWTON_STOP_RTOL:
            break
        q = tangent_basis(delta)
        h = q.T @ constrained_hessian(problem, delta) @ q
        try:
            xi = np.linalg.solve(0.5 * (h + h.T), -(q.T @ tangent_grad))
        except np.linalg.LinAlgError:
            break
        new = delta + _damped(q @ xi, eps)
        delta = eps * new / vector_norm(new)
    return best, best_ratio


def classify(problem, delta, ratio, zero_tol=DEGENERATE_RTOL, hits=None, kind=None):
    """A CriticalPoint at delta; ``kind`` when already proved, else from the tangent eigenvalues."""
    eig = np.linalg.eigvalsh(tangent_hessian(problem, delta))
    scale = max(float(np.max(np.abs(eig))), np.finfo(float).tiny)
    if kind is None:
        kind = kind_from_spectrum(eig, zero_tol * scale)
    return CriticalPoint(delta=delta, loss=float(problem.loss_value(delta)), eigenvalues=eig,
                         kind=kind, gradient_ratio=ratio, hits=hits)


def kind_from_spectrum(eig, zero):
    """Minimum, maximum, saddle or degenerate (an eigenvalue within ``zero`` of 0) from ascending eigenvalues."""
    if np.any(np.abs(eig) <= zero):
        return "degenerate"
    elif eig[0] > 0:
        return "minimum"
    elif eig[-1] < 0:
        return "maximum"
    else:
        return "saddle"
