r"""Geometry of the constraint set: the ball :math:`\mathbb B(0, \varepsilon)` and its sphere.

Conventions (section 2 of the paper): :math:`\angle[u, v] = u^\top v / (\|u\|\|v\|)`
is a cosine; the constraint is :math:`c(\delta) = \|\delta\|^2 - \varepsilon^2 \le 0`;
:math:`\mathcal T(\delta)` is the tangent space of the sphere through ``delta``.
All functions take batched points of shape ``(..., d)``.
"""

from __future__ import annotations

import numpy as np

from theory._validation import (
    as_float_array, as_rng, check_finite, check_last_dim, check_positive_float, check_positive_int,
)
from theory._floats import ELEMENTARY_ULPS, NORMAL_MIN, SCALING_CEILING, SCALING_FLOOR, UNIT_ROUNDOFF

__all__ = [
    "SPHERE_RTOL",
    "vector_norm",
    "project_ball",
    "project_ball_inplace",
    "project_tangent",
    "tangent_component",
    "uniform_ball",
    "uniform_sphere",
    "cosine",
    "on_sphere",
    "great_circle",
]

#: Relative tolerance for "δ lies on the sphere ε S^{d-1}".
#:
#: Derivation: :func:`project_ball` maps an outside point to ``δ * (ε/‖δ‖)``; the
#: computed norm of the result differs from ε by the rounding of one norm
#: (a sum of d squares: relative error <= (d/2 + 2) u with u = 2^-53 for a
#: pairwise-summed dot product, far less in practice) plus one multiply and
#: one divide. For d <= 10^4 this is below 6e-13; 1e-10 leaves a factor > 100
#: of headroom while staying far below any distance the checks care about.
SPHERE_RTOL = 1e-10


#: Bounds on Σ x_i² within which :func:`vector_norm` takes the plain sqrt(Σ x_i²).
#: Below NORM_FAST_MAX = 2^1000 the sum of squares is finite. Above
#: d · NORM_FAST_MIN = d · 2^-1000 the largest square is at least 2^-1000, so the
#: squares that underflow (below 2^-1022, each off by at most 2^-1074 in absolute
#: terms) change the sum by at most d · 2^-74 relative to it, far below its own
#: rounding (d · 2^-53): both paths are accurate to a few ulp per term.
NORM_FAST_MAX = SCALING_CEILING
NORM_FAST_MIN = SCALING_FLOOR


def vector_norm(x, axis=-1, keepdims=False):
    """Euclidean norm along ``axis`` that neither overflows nor underflows.

    ``np.linalg.norm`` squares the entries, so a vector of size 1e-175 gets norm
    0 and one of size 1e200 gets norm inf. Here the entries are divided by their
    largest absolute value first (the scaling of LAPACK's ``dnrm2``); the result is
    exact to a few ulp for any finite input, and 0 only for the zero vector.

    Parameters
    ----------
    x : array_like, shape (..., d)
        Finite real numbers, at least one dimension (a ValueError names ``x``
        otherwise; non-numeric input is a TypeError). float32 and integer input is
        promoted to float64.
    axis : int
        The axis summed over (default the last); batch dimensions are the others.
    keepdims : bool

    Returns
    -------
    ndarray, shape (...) (or (..., 1) with ``keepdims``)
    """
    if not (isinstance(x, np.ndarray) and x.dtype == np.float64):
        x = as_float_array("x", x)       # rejects non-numeric input (None would give NaN)
    if x.ndim == 0:
        raise ValueError("x must have at least 1 dimension, got a scalar")
    if axis in (-1, x.ndim - 1):
        # Fast path (PGD projects every iterate): the plain sum of squares, used only
        # where it can neither overflow nor lose accuracy to underflow (module notes).
        # An empty last axis passes the test (0 >= 0) and gets norm 0, as in R^0.
        squares = np.einsum("...i,...i->...", x, x)
        if np.all((squares <= NORM_FAST_MAX) & (squares >= x.shape[-1] * NORM_FAST_MIN)):
            norm = np.sqrt(squares)
            return norm[..., None] if keepdims else norm
    # The fast path's test fails for NaN and infinite entries, so they arrive here.
    check_finite("x", x)
    # Each slice is scaled by its own largest entry (a common scale would underflow
    # the small slices of a batch); ``initial`` gives an empty slice the norm 0.
    big = np.max(np.abs(x), axis=axis, keepdims=True, initial=0.0)
    safe = np.where(big > 0.0, big, 1.0)
    scaled = x / safe
    norm = big * np.sqrt(np.sum(scaled * scaled, axis=axis, keepdims=True))
    return norm if keepdims else np.squeeze(norm, axis=axis)


#: The smallest normal double: a computed norm below it is subnormal and carries an
#: absolute rounding (up to half of 2^-1074), not a relative one.
_NORMAL_MIN = NORMAL_MIN


def _direction(x, norm):
    """``x / ‖x‖`` along the last axis, given ``norm`` = ``vector_norm(x, keepdims=True)`` > 0.

    Where the norm is normal the quotient is correctly rounded per entry. A subnormal norm
    is rounded to a spacing of 2^-1074 (half a spacing is 50 % of a norm of one spacing:
    x = (5e-324, 5e-324, 5e-324) has computed norm 1e-323 and x/‖x‖ then has norm 0.87), so
    those slices are first divided by their largest entry (a quotient of two exact
    subnormals, correctly rounded and in [-1, 1]); the direction is then accurate to a few
    ulp for any finite x.
    """
    out = x / norm
    small = norm < _NORMAL_MIN
    if np.any(small):
        scaled = x / np.where(small, np.max(np.abs(x), axis=-1, keepdims=True), 1.0)
        out = np.where(small, scaled / np.where(small, vector_norm(scaled, keepdims=True), 1.0), out)
    return out


def unit(x, name="x", why=""):
    """``x / ||x||`` along the last axis (robust for tiny and huge vectors); rejects zero vectors.

    The ValueError names ``name`` and, when given, says ``why`` a zero vector is meaningless.
    """
    norm = vector_norm(x, keepdims=True)
    if np.any(norm == 0.0):
        raise ValueError(f"{name} must be non-zero" + (f": {why}" if why else ""))
    return _direction(np.asarray(x, dtype=np.float64), norm)


def _points(name, value):
    return as_float_array(name, value, min_ndim=1)


def project_ball(delta, eps):
    r"""Euclidean projection onto the closed ball :math:`\mathbb B(0, \varepsilon)`.

    :math:`\mathcal P_{\mathbb B}(\delta) = \delta \min(1, \varepsilon/\|\delta\|)`
    (section 2, the PGD update).

    Parameters
    ----------
    delta : array_like, shape (..., d)
    eps : float
        Radius, > 0.

    Returns
    -------
    ndarray, shape (..., d)
        Points inside the ball are returned unchanged (bit for bit). Points outside are
        ``δ · (ε/‖δ‖)``; where that scale or the norm falls below the normal range (a radius
        or a point of subnormal size) it carries an absolute rounding of up to 50 %
        (ε = 1e-321 and δ = (1e3, 0) gave 0), so there the point is ``ε · δ/‖δ‖``, each
        coordinate within half a spacing of the exact projection.
    """
    delta = _points("delta", delta)
    eps = check_positive_float("eps", eps)
    norms = vector_norm(delta, keepdims=True)
    outside = norms > eps
    scale = np.divide(eps, norms, out=np.ones_like(norms), where=outside)
    projected = delta * scale  # x * 1.0 == x in IEEE arithmetic: points inside are unchanged bit for bit
    inexact = outside & ((norms < _NORMAL_MIN) | (scale < _NORMAL_MIN))
    if np.any(inexact):
        projected = np.where(inexact, eps * _direction(delta, np.where(inexact, norms, 1.0)), projected)
    return projected


def project_ball_inplace(v, eps):
    """Project the rows of ``v`` (float64, shape (B, d)) onto the ball of radius ``eps``, in place.

    Bit for bit what :func:`project_ball` returns (the same scale ε/‖v‖, and
    :func:`project_ball` itself for every row outside when a scale or a norm is
    subnormal), without its checks and copies: PGD's loops own their arrays.
    """
    norms = vector_norm(v)
    outside = norms > eps
    if outside.any():
        scale = eps / norms[outside]
        if min(scale.min(), norms[outside].min()) < _NORMAL_MIN:
            v[outside] = project_ball(v[outside], eps)
        else:
            v[outside] *= scale[:, None]


def tangent_component(v, normal):
    r""":math:`v - (v^\top n)\,n`: the component of ``v`` orthogonal to the unit vector ``normal``, without checks.

    The one formula of the tangent projection (:func:`project_tangent`, Γ of
    :func:`theory.constrained.tangent_gradient`, the sphere searches); it cannot
    overflow where :math:`v - \frac{v^\top\delta}{\|\delta\|^2}\delta` could. Shapes (..., d),
    broadcastable; ``normal`` must have norm 1.
    """
    return v - np.einsum("...i,...i->...", v, normal)[..., None] * normal


def project_tangent(delta, v):
    r"""Projection of ``v`` onto the tangent space :math:`\mathcal T(\delta)` of the sphere through ``delta``.

    :math:`\mathcal P_{\mathcal T(\delta)} v = v - \frac{v^\top\delta}{\|\delta\|^2}\,\delta`
    (section 4, before Lemma 4.2).

    Parameters
    ----------
    delta : array_like, shape (..., d)
        Non-zero points (the tangent space at 0 is undefined).
    v : array_like, shape (..., d)
        Broadcastable against ``delta``.

    Returns
    -------
    ndarray, broadcast shape of ``delta`` and ``v``
    """
    delta = _points("delta", delta)
    v = check_last_dim("v", _points("v", v), delta.shape[-1])
    normal = unit(delta, "delta", why="the tangent space of the sphere at 0 is undefined")
    return tangent_component(v, normal)


def unit_directions(rng, n, d):
    """n uniform directions on S^{d-1}: normalised Gaussians (redrawing the measure-zero zero vector)."""
    g = rng.standard_normal((n, d))
    norms = vector_norm(g)
    while np.any(norms == 0.0):  # probability zero; guarantees no division by zero
        bad = norms == 0.0
        g[bad] = rng.standard_normal((int(bad.sum()), d))
        norms = vector_norm(g)
    return g / norms[:, None]


def uniform_sphere(rng, n, d, eps):
    r"""``n`` points drawn uniformly on the sphere :math:`\varepsilon\mathbb S^{d-1}`.

    Parameters
    ----------
    rng : numpy.random.Generator or int
        Generator, or a non-negative seed.
    n, d : int
        Number of points and dimension, >= 1.
    eps : float
        Radius, > 0.

    Returns
    -------
    ndarray, shape (n, d)
    """
    rng = as_rng("rng", rng)
    n = check_positive_int("n", n)
    d = check_positive_int("d", d)
    eps = check_positive_float("eps", eps)
    return eps * unit_directions(rng, n, d)


def uniform_ball(rng, n, d, eps):
    r"""``n`` points drawn uniformly in the open ball :math:`\mathbb B^\circ(0, \varepsilon)`.

    Section 2, setting 4: :math:`\delta_0 \sim \mathrm{Unif}(\mathbb B^\circ(0,\varepsilon))`.
    The radius is :math:`\varepsilon U^{1/d}` with :math:`U \sim \mathrm{Unif}[0, 1)`
    (so that :math:`(\|\delta\|/\varepsilon)^d` is uniform), times an independent
    uniform direction. A radius drawn uniformly would crowd the centre for d >= 2.
    The rare draw whose rounded norm reaches ε (possible when ``U^{1/d}`` rounds
    to 1) is redrawn, so every returned point is strictly inside the ball.

    Parameters
    ----------
    rng : numpy.random.Generator or int
    n, d : int
    eps : float

    Returns
    -------
    ndarray, shape (n, d)
    """
    rng = as_rng("rng", rng)
    n = check_positive_int("n", n)
    d = check_positive_int("d", d)
    eps = check_positive_float("eps", eps)
    out = np.empty((n, d))
    todo = np.arange(n)
    while todo.size:
        k = todo.size
        radius = eps * rng.random(k) ** (1.0 / d)
        out[todo] = radius[:, None] * unit_directions(rng, k, d)
        todo = todo[vector_norm(out[todo]) >= eps]
    return out


def cosine(u, v):
    r"""The paper's angle :math:`\angle[u, v] = u^\top v / (\|u\|\,\|v\|)` (a cosine).

    Parameters
    ----------
    u, v : array_like, shape (..., d)
        Broadcastable, non-zero vectors.

    Returns
    -------
    ndarray, shape (...)
        Clipped to [-1, 1] (rounding can push the quotient a few ulp outside).
    """
    u = _points("u", u)
    v = check_last_dim("v", _points("v", v), u.shape[-1])
    nu = vector_norm(u)
    nv = vector_norm(v)
    if np.any(nu == 0.0):
        raise ValueError("u must be non-zero: the angle with a zero vector is undefined")
    if np.any(nv == 0.0):
        raise ValueError("v must be non-zero: the angle with a zero vector is undefined")
    # Normalise first, so that huge or tiny vectors neither overflow nor underflow (and
    # subnormal ones keep their direction: _direction).
    c = np.einsum("...i,...i->...", _direction(u, nu[..., None]), _direction(v, nv[..., None]))
    return np.clip(c, -1.0, 1.0)


def on_sphere(delta, eps, *, rtol=SPHERE_RTOL):
    r"""Whether each point lies on :math:`\varepsilon\mathbb S^{d-1}` up to ``rtol`` (see :data:`SPHERE_RTOL`).

    Parameters
    ----------
    delta : array_like, shape (..., d)
    eps : float

    Returns
    -------
    ndarray of bool, shape (...)
    """
    delta = _points("delta", delta)
    eps = check_positive_float("eps", eps)
    rtol = check_positive_float("rtol", rtol)
    return np.abs(vector_norm(delta) - eps) <= rtol * eps


def great_circle(delta, v, eps, t):
    r"""The great circle :math:`c(t) = \varepsilon(\cos t\,\hat\delta + \sin t\,v)` through δ along v, its velocity, and their rounding.

    With :math:`\hat\delta = \delta/\varepsilon` and v a unit tangent vector at δ, c lies on
    the sphere of radius ε, c(0) = δ and c'(0) = εv.

    Parameters
    ----------
    delta, v : array_like, shape (..., d)
        Points on the sphere and unit tangent directions there.
    eps : float
        The radius.
    t : array_like, shape broadcast against ``delta.shape[:-1]``

    Returns
    -------
    c, dc, c_error, dc_error : ndarray, shape (..., d)
        The computed points and velocities, and componentwise bounds on their rounding:
        cos and sin carry :data:`theory.testing.tolerances.ELEMENTARY_ULPS` ulps (2u each), the
        division δ/ε, the two products, the sum and the product by ε u each, so
        :math:`|\Delta c_j| \le r\,\varepsilon(|\cos t\,\hat\delta_j| + |\sin t\,v_j|)` with
        r = (2 ELEMENTARY_ULPS + 5) u, and likewise for c' with cos and sin exchanged.
    """
    delta = _points("delta", delta)
    v = _points("v", v)
    eps = check_positive_float("eps", eps)
    t = as_float_array("t", t)
    dhat = delta / eps
    cos, sin = np.cos(t)[..., None], np.sin(t)[..., None]
    c = eps * (cos * dhat + sin * v)
    dc = eps * (-sin * dhat + cos * v)
    r = (2.0 * ELEMENTARY_ULPS + 5.0) * UNIT_ROUNDOFF
    c_error = r * eps * (np.abs(cos * dhat) + np.abs(sin * v))
    dc_error = r * eps * (np.abs(sin * dhat) + np.abs(cos * v))
    return c, dc, c_error, dc_error
