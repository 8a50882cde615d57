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
from scipy.optimize import minimize

from ._validation import as_float_array, as_rng, check_last_dim, check_positive_float, check_positive_int
from .constrained import constrained_hessian, tangent_gradient
from .geometry import _unit_directions, cosine, uniform_ball, uniform_sphere, vector_norm
from .problem import Problem

__all__ = [
    "CriticalPoint",
    "tangent_basis",
    "tangent_hessian",
    "newton_on_sphere",
    "critical_points",
    "local_minima",
    "local_maxima",
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

#: Random points evaluated before the local searches of :func:`min_gradient_norm`
#: and :func:`min_gradient_cosine`; the best SEARCH_STARTS of them start the local searches.
SEARCH_SAMPLES = 256

#: Local searches (SLSQP / L-BFGS-B runs) of :func:`min_gradient_norm` and
#: :func:`min_gradient_cosine`, started from the best samples. Four distinct
#: basins are more than the regime's landscapes have (two critical points);
#: the controls find their counterexamples with the first.
SEARCH_STARTS = 4


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
    """

    delta: np.ndarray
    loss: float
    eigenvalues: np.ndarray
    kind: str
    gradient_ratio: float


def _check(problem, need_d2=True):
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem, got {type(problem).__name__}")
    if need_d2 and problem.d < 2:
        raise ValueError(f"d must be >= 2 for critical points on the sphere, got d={problem.d} "
                         "(for d = 1 the sphere is two isolated points)")


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
    _check(problem)
    q = tangent_basis(delta)
    xi = constrained_hessian(problem, delta)
    h = q.T @ xi @ q
    return 0.5 * (h + h.T)


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
    _check(problem)
    eps = problem.eps
    delta = check_last_dim("delta", as_float_array("delta", delta, min_ndim=1), problem.d)
    delta = eps * delta / vector_norm(delta)
    best, best_ratio = delta, np.inf
    for _ in range(max_iter):
        gamma = tangent_gradient(problem, delta)
        scale = vector_norm(problem.loss_grad(delta))
        ratio = float(vector_norm(gamma) / scale) if scale > 0 else 0.0
        if ratio < best_ratio:
            best, best_ratio = delta, ratio
        if ratio <= NEWTON_STOP_RTOL:
            break
        q = tangent_basis(delta)
        h = q.T @ constrained_hessian(problem, delta) @ q
        try:
            xi = np.linalg.solve(0.5 * (h + h.T), -(q.T @ gamma))
        except np.linalg.LinAlgError:
            break
        step = q @ xi
        # Newton steps longer than the sphere's radius are not local; damp them.
        length = vector_norm(step)
        if length > 0.5 * eps:
            step *= 0.5 * eps / length
        new = delta + step
        delta = eps * new / vector_norm(new)
    return best, best_ratio


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


def _classify(problem, delta, ratio, zero_tol=DEGENERATE_RTOL):
    eig = np.linalg.eigvalsh(tangent_hessian(problem, delta))
    scale = max(float(np.max(np.abs(eig))), np.finfo(float).tiny)
    if np.any(np.abs(eig) <= zero_tol * scale):
        kind = "degenerate"
    elif eig[0] > 0:
        kind = "minimum"
    elif eig[-1] < 0:
        kind = "maximum"
    else:
        kind = "saddle"
    return CriticalPoint(delta=delta, loss=float(problem.loss_value(delta)), eigenvalues=eig,
                         kind=kind, gradient_ratio=ratio)


def critical_points(problem, *, n_starts=DEFAULT_STARTS, seed=0, kinds=("minimum", "maximum")):
    r"""Critical points of L on the sphere found by multi-start search and Newton refinement.

    Parameters
    ----------
    problem : Problem
        With d >= 2.
    n_starts : int
        Starts (uniform on the sphere, plus ±∂L(0)/‖∂L(0)‖, where the small-ε
        minimum and maximum lie), each run downhill for minima and uphill for maxima.
    seed : int or numpy.random.Generator
        Seed of the starts.
    kinds : tuple of str
        Which searches to run: ``"minimum"`` (descent), ``"maximum"`` (ascent).

    Returns
    -------
    list of CriticalPoint
        Distinct points (closer than MERGE_RTOL·ε are merged) that Newton refined
        to ‖Γ‖ <= CRITICAL_GTOL·‖∂L‖, sorted by loss. Saddles are found only when
        a descent or ascent run ends on one.
    """
    _check(problem)
    n_starts = check_positive_int("n_starts", n_starts)
    rng = as_rng("seed", seed)
    d = problem.d
    g0 = problem.loss_grad(np.zeros(d))
    starts = list(_unit_directions(rng, n_starts, d))
    if vector_norm(g0) > 0:
        starts += [-g0 / vector_norm(g0), g0 / vector_norm(g0)]
    found = []
    for kind in kinds:
        sign = {"minimum": 1.0, "maximum": -1.0}[kind]
        for delta in _sphere_runs(problem, starts, sign):
            delta, ratio = newton_on_sphere(problem, delta)
            if ratio > CRITICAL_GTOL:
                continue
            if any(vector_norm(delta - p.delta) <= MERGE_RTOL * problem.eps for p in found):
                continue
            found.append(_classify(problem, delta, ratio))
    return sorted(found, key=lambda p: p.loss)


def local_minima(problem, *, n_starts=DEFAULT_STARTS, seed=0):
    """The strict local minima of L on the sphere (see :func:`critical_points`)."""
    return [p for p in critical_points(problem, n_starts=n_starts, seed=seed, kinds=("minimum",))
            if p.kind == "minimum"]


def local_maxima(problem, *, n_starts=DEFAULT_STARTS, seed=0):
    """The strict local maxima of L on the sphere (see :func:`critical_points`)."""
    return [p for p in critical_points(problem, n_starts=n_starts, seed=seed, kinds=("maximum",))
            if p.kind == "maximum"]


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
