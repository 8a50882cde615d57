r"""Worst-case searches over the ball and the sphere for one draw.

The smallest gradient norm (Lemma 4.1's floor), the smallest descent cosine
∠[−∂L(δ), δ] over the sphere (Lemma 4.3), and condition (6) of Theorem 3.1, each
by multi-start local optimisation from uniform starts.
"""


from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
from scipy.optimize import minimize

from theory._validation import as_rng, check_positive_float
from theory.landscape.critical import check_sphere_problem
from theory.geometry import cosine, uniform_ball, uniform_sphere, vector_norm
from theory.geometry import tangent_component

__all__ = [
    "SEARCH_SAMPLES",
    "SEARCH_STARTS",
    "SEARCH_FTOL",
    "SearchResult",
    "min_gradient_norm",
    "min_gradient_cosine",
    "condition_6",
]


#: Random points evaluated before the local searches of :func:`min_gradient_norm`
#: and :func:`min_gradient_cosine`; the best SEARCH_STARTS of them start the local searches.
SEARCH_SAMPLES = 256

#: SLSQP's stopping tolerance in :func:`min_gradient_norm`: it stops once an iteration changes
#: the objective ½‖∂f‖² by less than this (absolute). Near the minimum SLSQP converges
#: superlinearly, so the value found is within about SEARCH_FTOL of the minimum's.
SEARCH_FTOL = 1e-14

#: Local searches (SLSQP / L-BFGS-B runs) of :func:`min_gradient_norm` and
#: :func:`min_gradient_cosine`, started from the best samples. Four distinct
#: basins are more than the regime's landscapes have (two critical points);
#: the controls find their counterexamples with the first.
SEARCH_STARTS = 4


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


class _PointDerivatives:
    r"""∂f and Hessian-vector products at one point z = x + δ, for the local searches' objectives.

    The same operations as :meth:`TwoLayerNet.grad` and :meth:`TwoLayerNet.hvp` (so the
    same numbers, bit for bit), from one pass over the units per point and without their
    argument checks: an objective is evaluated hundreds of times per search, and the
    checks and the second pass cost most of a call at the regime's widths.
    """

    def __init__(self, net, x):
        self.W, self.WT, self.a, self.x = net.W, net.W.T, net.a, x

    def at(self, delta):
        """``(∂f(x + δ), c)`` with c = a ⊙ σ''(W(x + δ)) (m,), what :meth:`hvp` needs."""
        t = (self.x + delta) @ self.WT
        e = np.exp(-np.abs(t))
        one_plus_e = 1.0 + e
        grad = (np.where(t >= 0.0, 1.0, e) / one_plus_e * self.a) @ self.W
        return grad, np.minimum(e / (one_plus_e * one_plus_e), 0.25) * self.a

    def hvp(self, c, v):
        """∂²f(x + δ) v from the ``c`` of :meth:`at` at that δ."""
        return (c * (v @ self.WT)) @ self.W


def _half_squared_gradient_norm(point, delta):
    r"""The objective of :func:`min_gradient_norm`'s local searches and its gradient at δ of shape (d,).

    :math:`F(\delta) = \tfrac12\|\partial f(x + \delta)\|^2` and
    :math:`\partial F = \partial^2 f(x + \delta)\,\partial f(x + \delta)` (a Hessian-vector
    product), with ``point`` a :class:`_PointDerivatives` of the network and x.
    """
    g, c = point.at(delta)
    return 0.5 * float(g @ g), point.hvp(c, g)


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
    check_sphere_problem(problem, need_d2=False)
    rng = as_rng("seed", seed)
    net, x, eps = problem.net, problem.x, problem.eps
    pts = _search_starts(rng, problem, n_samples, on_sphere)
    norms = vector_norm(net.grad(x + pts))
    order = np.argsort(norms)[:n_starts]
    best = SearchResult(float(norms[order[0]]), pts[order[0]])

    fun = partial(_half_squared_gradient_norm, _PointDerivatives(net, x))
    kind = "eq" if on_sphere else "ineq"
    cons = dict(type=kind, fun=lambda dl: (eps * eps - dl @ dl) / (eps * eps),
                jac=lambda dl: -2.0 * dl / (eps * eps))
    for i in order:
        res = minimize(fun, pts[i], jac=True, method="SLSQP", constraints=[cons],
                       options=dict(maxiter=100, ftol=SEARCH_FTOL))
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
    check_sphere_problem(problem, need_d2=False)
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

    point = _PointDerivatives(net, x)

    def fun(uv):
        u, v = uv[:d], uv[d:]
        nu, nv = vector_norm(u), vector_norm(v)
        a, b = eps * u / nu, eps * v / nv
        (g, ca), (h, cb) = point.at(a), point.at(b)
        ng, nh = vector_norm(g), vector_norm(h)
        c = float(g @ h) / (ng * nh)
        # d cos / dg and d cos / dh, pulled back through the Hessians (HVPs)
        # and the sphere parametrisation delta = eps u / |u|.
        da = point.hvp(ca, (h / nh - c * g / ng) / ng)
        db = point.hvp(cb, (g / ng - c * h / nh) / nh)
        du = (eps / nu) * tangent_component(da, u / nu)
        dv = (eps / nv) * tangent_component(db, v / nv)
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


def condition_6(problem, eta, gradient_lower_bound, *, seed=0):
    r"""Lemma 4.5's condition (6) for one draw: returns (left side, holds).

    .. math::
        \arccos\big(\min_{\delta,\delta'}\angle[\partial f(\delta), \partial f(\delta')]\big)
        + \arccos\sqrt{(b^2 - \eta)/b^2} \le \pi/4

    over δ, δ' on the sphere, with b = ``gradient_lower_bound`` standing for 𝓛B_l
    (:func:`theory.testing.regimes.gradient_lower_bound`). The minimum cosine is
    searched (:func:`min_gradient_cosine`), so the left side is a lower estimate:
    a draw reported as satisfying (6) may violate it at pairs the search
    missed. When η >= b² the square root is undefined and (6) fails.

    Returns
    -------
    lhs : float
        The left side (inf when η >= b²).
    holds : bool
    """
    eta = check_positive_float("eta", eta)
    lb = check_positive_float("gradient_lower_bound", gradient_lower_bound)
    if eta >= lb * lb:
        return float("inf"), False
    worst = min_gradient_cosine(problem, seed=seed).value
    lhs = float(np.arccos(np.clip(worst, -1.0, 1.0)) + np.arccos(np.sqrt((lb * lb - eta) / (lb * lb))))
    return lhs, lhs <= np.pi / 4
