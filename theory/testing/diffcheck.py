r"""Derivative checks by central differences along directions (in the style of JAX's ``check_grads``).

A derivative is checked through scalar contractions along directions, so that
one finite-difference call per point checks a gradient or a Hessian:

* gradient: :math:`\partial F(z)^\top v` against :math:`\frac{d}{dt}F(z + tv)|_{t=0}`;
* Hessian: :math:`u^\top \partial^2F(z)\, v` against
  :math:`\frac{d}{dt}\,u^\top\partial F(z + tv)|_{t=0}`.

The finite differences are :func:`scipy.differentiate.derivative` (order-8
central differences with Richardson extrapolation), batched over points.

The allowed discrepancy
-----------------------
For each point, ``|analytic − numeric| <= allowed`` with

.. math::

    \text{allowed} = \mathrm{FD\_RTOL}\cdot\text{scale}
        + \mathrm{FD\_ERROR\_FACTOR}\cdot\text{scipy's error estimate}
        + \text{noise} + \text{analytic error},

``scale`` the Cauchy–Schwarz scale of the contraction (:math:`\|\partial F\|\|v\|`),
the error estimate standing for the truncation error, and two derived rounding terms:

**noise**, the rounding in the difference quotient itself. scipy's last estimate
is :math:`\frac1h\sum_k w_k \hat F_k` over the nodes :math:`t_k = s_k h`,
:math:`s_k \in \{\pm1, \pm\frac12, \pm\frac14, \pm\frac18\}`
(:func:`theory.testing.tolerances.central_difference_stencil`; h the last step), where
:math:`\hat F_k` is F computed at the *computed* point
:math:`\hat p_k = \mathrm{fl}(z + \mathrm{fl}(t_k v))`. Three sources, each bounded at
the points of that last stencil (re-evaluated there after scipy returns):

* the value: :math:`|\hat F_k - F(\hat p_k)| \le E(\hat p_k)`, the caller's derived
  bound (``value_error``; default :data:`~theory.testing.tolerances.FD_DEFAULT_VALUE_ULPS` roundings,
  u|F| each, or half a subnormal spacing where F is subnormal);
* the argument: :math:`|\hat p_{k,j} - p_{k,j}| \le u(|z_j| + 2|t_k||v_j|)(1+u)`, so
  :math:`|F(\hat p_k) - F(p_k)| \le A_k =` ``FD_ARGUMENT_FACTOR`` :math:`u\sum_j|\partial_jF(\hat p_k)|(|z_j| + 2|t_k||v_j|)`.
  This term dominates where |z| is far above the step: without it, a check of
  :math:`L = -(y - f)^2` at :math:`f = 10^{-103}`, y = 0 allowed 3e-110 where the
  difference quotient carried 1e-22 of rounding (the values at ±h are those of
  :math:`\pm h` exactly, and the noise was taken from :math:`|F(z)| = 10^{-206}`);
* the formula: the dot product of the order + 1 values with the weights, the
  division of each value by the row's unit and the scalings back,
  :data:`~theory.testing.tolerances.FD_FORMULA_ULPS` :math:`u\sum_k|w_k||\hat F_k|`, and the
  rounding of scipy's floating-point weights, read back from scipy
  (:func:`scipy_stencil_weights`), :math:`\rho\sum_{k}|w_k||\hat F_k - \hat F_{-k}|/2`
  (the weights are antisymmetric, so only the odd part of F meets their error).

Hence :math:`\text{noise} = \frac1h\big[\sum_k |w_k|(E_k + A_k + c\,u|\hat F_k|)
+ \rho\sum_{s_k>0}|w_k||\hat F_k - \hat F_{-k}|\big]`, plus one subnormal spacing for the
last scaling of a result below the normal range.

**analytic error**, the rounding of the analytic side: the caller's bound on the
computed gradient (or Hessian-vector product) contracted with |v| (or |u|), plus the
contraction's own :math:`\gamma_d\sum_j|g_jv_j|`.

The first step is :data:`~theory.testing.tolerances.FD_INITIAL_STEP`, raised to
:data:`~theory.testing.tolerances.FD_STEP_PER_MAGNITUDE` :math:`\|z\|_\infty/\|v\|_\infty` where
the argument is so large that a step of 1e-2 would be drowned in its rounding.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.differentiate import derivative

from theory._validation import as_float_array, check_positive_float
from theory.geometry import vector_norm
from theory.testing.tolerances import (
    FD_ARGUMENT_FACTOR, FD_DEFAULT_VALUE_ULPS, FD_ERROR_FACTOR, FD_FORMULA_ULPS, FD_INITIAL_STEP, FD_ORDER,
    FD_RTOL, FD_STEP_FACTOR, FD_STEP_PER_MAGNITUDE, SUBNORMAL_SPACING, UNIT_ROUNDOFF,
    central_difference_stencil, higham_gamma,
)

__all__ = ["Agreement", "Difference", "agreement", "argument_rounding", "curve_derivative", "first_steps",
           "gradient_agreement", "hessian_agreement", "scipy_stencil_weights", "stencil_weight_rtol"]

_TINY = np.finfo(np.float64).tiny
_HUGE = np.finfo(np.float64).max
_OVERFLOW_HEADROOM = 2.0 ** 10     # scaled values stay 2^10 below overflow in scipy's sums
_NODES, _EXACT_WEIGHTS = (np.array([float(x) for x in seq]) for seq in central_difference_stencil())
_OUTER = _NODES != 0.0             # the centre has weight 0 and is not re-evaluated
_PAIRS = (_NODES > 0.0)            # the positive nodes; their mirrors are at the reversed index


@lru_cache(maxsize=1)
def scipy_stencil_weights() -> np.ndarray:
    """The floating-point weights scipy's order-8 central formula actually uses, in the stencil's order.

    Read back from :func:`scipy.differentiate.derivative` itself: with step 1 and one
    iteration, the estimate for values that are 1 at node k and 0 elsewhere is the
    weight :math:`w_k`, exactly (one nonzero product, divided by 1).
    """
    nodes = _NODES

    def indicator(t, k):
        return (t == nodes[k.astype(np.intp)]).astype(np.float64)

    rows = np.arange(nodes.size)
    res = derivative(indicator, np.zeros(nodes.size), args=(rows,), initial_step=1.0, maxiter=1,
                     order=FD_ORDER, step_factor=FD_STEP_FACTOR)
    return np.asarray(res.df, dtype=np.float64)


@lru_cache(maxsize=1)
def stencil_weight_rtol() -> float:
    r"""Largest relative error of scipy's floating-point weights against the exact ones, ρ.

    Measured on the scipy and LAPACK in use (the weights come from a floating-point
    Vandermonde solve), at least u: 5.7e-15 with scipy 1.17.1 and numpy 2.4.6 on x86-64
    (``python -c "from theory.testing.diffcheck import stencil_weight_rtol as r; print(r())"``).
    """
    w = scipy_stencil_weights()
    exact = _EXACT_WEIGHTS
    nonzero = exact != 0.0
    if np.any(w[~nonzero] != 0.0):  # pragma: no cover - scipy enforces a zero centre weight
        raise RuntimeError("scipy's central difference formula has a nonzero centre weight")
    return max(float(np.max(np.abs(w[nonzero] - exact[nonzero]) / np.abs(exact[nonzero]))), UNIT_ROUNDOFF)


@dataclass(frozen=True)
class Difference:
    """A finite-difference derivative with its error terms, one entry per row (shape (n,) each).

    Attributes
    ----------
    df : the estimate.
    error_estimate : scipy's error estimate (the difference of its last two iterates).
    noise : the derived bound on the rounding in ``df`` (module docstring).
    step : the last step h of the differences.
    """

    df: np.ndarray
    error_estimate: np.ndarray
    noise: np.ndarray
    step: np.ndarray


@dataclass(frozen=True)
class Agreement:
    """Outcome of comparing analytic directional derivatives with finite differences.

    Attributes
    ----------
    analytic, numeric, error_estimate, noise, analytic_error, scale, allowed : ndarray, shape (n,)
        ``allowed = FD_RTOL * scale + FD_ERROR_FACTOR * error_estimate + noise + analytic_error``.
    step : ndarray, shape (n,)
        The last step of the differences.
    """

    analytic: np.ndarray
    numeric: np.ndarray
    error_estimate: np.ndarray
    noise: np.ndarray
    analytic_error: np.ndarray
    scale: np.ndarray
    allowed: np.ndarray
    step: np.ndarray

    @property
    def ratio(self) -> np.ndarray:
        """|analytic − numeric| / allowed per point; the check passes when all are <= 1."""
        return np.abs(self.analytic - self.numeric) / self.allowed

    @property
    def worst(self) -> float:
        """The largest ratio (the margin to maximise when searching for a failure)."""
        return float(np.max(self.ratio))

    @property
    def ok(self) -> bool:
        return bool(np.all(np.isfinite(self.ratio)) and self.worst <= 1.0)

    @property
    def resolution(self) -> np.ndarray:
        """Rounding terms over the accuracy asked for, ``(noise + analytic_error) / (FD_RTOL * scale)``.

        Below 1 the comparison resolves a relative discrepancy of FD_RTOL; far above 1
        the rounding allowance dominates and the comparison says little.
        """
        # Where the rounding terms are vast and the scale tiny the ratio exceeds the float
        # range: it is then +inf ("the comparison says nothing"), not an error.
        with np.errstate(over="ignore"):
            return (self.noise + self.analytic_error) / np.maximum(FD_RTOL * self.scale, _TINY)


def agreement(analytic, scale, difference: Difference, analytic_error=0.0) -> Agreement:
    """Compare analytic values (shape (n,)) with a :class:`Difference`, with the allowance of the module docstring.

    ``scale`` is the Cauchy–Schwarz scale of the analytic values, ``analytic_error``
    a bound on their rounding (0 where it is inside ``FD_RTOL * scale``).
    """
    analytic = np.asarray(analytic, dtype=np.float64)
    scale = np.broadcast_to(np.asarray(scale, dtype=np.float64), analytic.shape)
    analytic_error = np.broadcast_to(np.asarray(analytic_error, dtype=np.float64), analytic.shape)
    allowed = (FD_RTOL * scale + FD_ERROR_FACTOR * difference.error_estimate + difference.noise
               + analytic_error)
    # A zero scale and zero error terms (an exactly constant function) still allow
    # the rounding of one subtraction.
    allowed = np.maximum(allowed, _TINY)
    return Agreement(analytic, difference.df, difference.error_estimate, difference.noise, analytic_error,
                     scale, allowed, difference.step)


def _pairs(z, v):
    z = as_float_array("z", z, min_ndim=2)
    v = as_float_array("v", v, min_ndim=2)
    if z.ndim != 2 or z.shape != v.shape:
        raise ValueError(f"z and v must both have shape (n, d), got {z.shape} and {v.shape}")
    return z, v


def _noise(values, errors, step):
    """The noise bound of the module docstring from the values and point errors at the last stencil.

    values, errors : (n, order) at the outer nodes, in the stencil's order; step : (n,).
    """
    w = np.abs(_EXACT_WEIGHTS[_OUTER])
    pos = _PAIRS[_OUTER]
    odd = np.abs(values[:, pos] - values[:, ~pos][:, ::-1])  # F(t_k) - F(-t_k), k over the positive nodes
    total = (errors + FD_FORMULA_ULPS * UNIT_ROUNDOFF * np.abs(values)) @ w
    total = total + stencil_weight_rtol() * (odd @ w[pos])
    # The scaling back by the row's unit may round a subnormal result by half a spacing.
    return total / step + SUBNORMAL_SPACING


def _difference(evaluate, model, n, initial_step, scale):
    """The shared mechanism: scipy's differences of ``evaluate`` and the noise bound from ``model``.

    evaluate(t, i) -> F values of rows i (an integer array broadcast against t) at
    parameters t; model(t) -> (values, point_errors) for all n rows at t of shape
    (n, k): F and the bound E + A on its rounding at each computed point.
    initial_step : (n,); scale : (n,) or None (the derivative's expected size).
    """
    if scale is None:
        unit = np.ones(n)
        tolerances = None
    else:
        # Never finer than the noise of the first stencil: a derivative far below it
        # cannot be resolved, and dividing by it could overflow. Evaluated on that
        # stencil, not at the centre: where F vanishes at z (y = f for the quadratic
        # loss) its values and slope at z ± h are what carry the rounding.
        values, errors = model(initial_step[:, None] * _NODES[_OUTER])
        floor = _noise(values, errors, initial_step)
        # And never so fine that the weighted sum of the scaled values could overflow
        # (steps near 1e295, for |z| near the top of the float range).
        largest = np.max(np.abs(values), axis=-1)
        guard = largest / _HUGE * (_OVERFLOW_HEADROOM * np.abs(_EXACT_WEIGHTS).sum())
        unit = np.maximum(np.maximum(np.maximum(scale, floor), guard), _TINY)
        tolerances = dict(atol=FD_RTOL / 10.0, rtol=0.0)

    def along(t, i):
        i = i.astype(np.intp)
        return evaluate(t, i) / unit[i]

    res = derivative(along, np.zeros(n), args=(np.arange(n),), initial_step=initial_step,
                     tolerances=tolerances, order=FD_ORDER, step_factor=FD_STEP_FACTOR)
    if not np.all(np.isfinite(res.df)):
        raise FloatingPointError("finite differences returned a non-finite derivative")
    # Iteration k (k = 0, 1, ...) estimates with step initial_step / factor^k over
    # the nodes s * step; nit iterations ran, so the last estimate used:
    step = initial_step / float(FD_STEP_FACTOR) ** (np.asarray(res.nit, dtype=np.float64) - 1.0)
    values, errors = model(step[:, None] * _NODES[_OUTER])
    return Difference(res.df * unit, res.error * unit, _noise(values, errors, step), step)


def first_steps(z, v, initial_step=FD_INITIAL_STEP):
    """The first step of the differences for each row of z, v (shape (n, d)): ``initial_step``, or more where |z| is so large that its rounding would drown it (module docstring)."""
    base = check_positive_float("initial_step", initial_step)
    zmax = np.max(np.abs(z), axis=-1)
    vmax = np.max(np.abs(v), axis=-1)
    if np.any(vmax == 0.0):
        raise ValueError("v must have no zero rows (a direction is needed for each point)")
    return np.maximum(base, FD_STEP_PER_MAGNITUDE * zmax / vmax)


def _line(fun, slope, point_error, z, v, initial_step, scale):
    """Differences of t -> F_i(z_i + t v_i) for each row i.

    ``fun(p, i)``, ``slope(p, i)`` (∂F_i at p) and ``point_error(p, i)`` (E_i(p)) take
    points p of shape (..., d) and row indices i broadcast against ``p.shape[:-1]``.
    """
    def points(t, i):
        return z[i] + t[..., None] * v[i]

    def model(t):
        i = np.arange(z.shape[0])[:, None]
        p = points(t, i)
        # |fl(z + fl(t v)) - (z + t v)| <= u (|z| + 2|t||v|) (1 + u), componentwise.
        rounded = UNIT_ROUNDOFF * (np.abs(z)[:, None, :] + 2.0 * np.abs(t)[..., None] * np.abs(v)[:, None, :])
        return fun(p, i), point_error(p, i) + argument_rounding(slope(p, i), rounded)

    return _difference(lambda t, i: fun(points(t, i), i), model, z.shape[0],
                       first_steps(z, v, initial_step), scale)


def argument_rounding(slope, point_error):
    r"""Bound on :math:`|F(\hat p) - F(p)|` from the rounding of the point, ``FD_ARGUMENT_FACTOR`` :math:`\sum_j |\partial_jF(\hat p)|\,e_j`.

    Parameters
    ----------
    slope : ndarray, shape (..., d)
        ∂F at the computed point :math:`\hat p`.
    point_error : ndarray, shape (..., d)
        Componentwise bound e on :math:`|\hat p - p|`.

    Returns
    -------
    ndarray, shape (...)
    """
    return FD_ARGUMENT_FACTOR * np.einsum("...j,...j->...", np.abs(slope), point_error)


def _default_error(values):
    """FD_DEFAULT_VALUE_ULPS roundings of u|F|, or of half a spacing each where F is subnormal."""
    return FD_DEFAULT_VALUE_ULPS * (UNIT_ROUNDOFF * np.abs(values) + 0.5 * SUBNORMAL_SPACING)


def _contract(a, b):
    """aᵀb per row and a bound on its rounding, γ_d Σ|a_j b_j|."""
    return np.einsum("...i,...i->...", a, b), higham_gamma(a.shape[-1]) * np.einsum("...i,...i->...",
                                                                                    np.abs(a), np.abs(b))


def curve_derivative(g, n, *, scale=None, value_error=None, initial_step=FD_INITIAL_STEP) -> Difference:
    """Central-difference derivative at t = 0 of n scalar curves ``t -> g(t, i)``.

    Parameters
    ----------
    g : callable
        ``g(t, i)`` with ``t`` an array and ``i`` an integer array of row indices of
        a broadcastable shape; returns the values of curve ``i`` at ``t``. scipy
        evaluates only the rows that have not converged yet, so ``g`` must use ``i``
        rather than assume all n rows.
    n : int
        Number of curves.
    scale : array_like, shape (n,), optional
        The expected size of the derivative (see the module docstring).
    value_error : callable, optional
        ``value_error(t, i)``, same shapes as ``g``: a bound on the rounding error of
        the computed g, including the rounding of whatever points the curve computes
        from t (the parameter t itself is exact: scipy's nodes are binary fractions
        of the step). Default :data:`~theory.testing.tolerances.FD_DEFAULT_VALUE_ULPS` u|g|.

    Returns
    -------
    Difference
    """
    rows = np.arange(n)[:, None]

    def model(t):
        values = g(t, rows)
        return values, (_default_error(values) if value_error is None else value_error(t, rows))

    h0 = np.full(n, check_positive_float("initial_step", initial_step))
    scale = None if scale is None else np.asarray(scale, dtype=np.float64)
    return _difference(lambda t, i: g(t, i), model, n, h0, scale)


def gradient_agreement(fun, grad, z, v, *, value_error=None, grad_error=None,
                       initial_step=FD_INITIAL_STEP) -> Agreement:
    r"""Compare :math:`\partial F(z)^\top v` with finite differences of F along v.

    Parameters
    ----------
    fun : callable, (..., d) -> (...)
    grad : callable, (..., d) -> (..., d)
    z, v : array_like, shape (n, d)
    value_error : callable, (..., d) -> (...), optional
        Bound on the absolute rounding error of the computed F at a (floating-point)
        point, e.g. :func:`theory.bounds.evaluation_error_bounds`; default
        :data:`~theory.testing.tolerances.FD_DEFAULT_VALUE_ULPS` u|F|.
    grad_error : callable, (..., d) -> (..., d), optional
        Componentwise bound on the rounding error of the computed ∂F; default
        FD_DEFAULT_VALUE_ULPS u|∂F|.
    """
    z, v = _pairs(z, v)
    g = grad(z)
    analytic, contraction_error = _contract(g, v)
    g_err = _default_error(g) if grad_error is None else grad_error(z)
    analytic_error = np.einsum("ni,ni->n", g_err, np.abs(v)) + contraction_error
    scale = vector_norm(g) * vector_norm(v)

    def point_error(p, i):
        return _default_error(fun(p)) if value_error is None else value_error(p)

    difference = _line(lambda p, i: fun(p), lambda p, i: grad(p), point_error, z, v, initial_step, scale)
    return agreement(analytic, scale, difference, analytic_error)


def hessian_agreement(grad, hvp, z, u, v, *, grad_error=None, hvp_error=None,
                      initial_step=FD_INITIAL_STEP) -> Agreement:
    r"""Compare :math:`u^\top \partial^2F(z)v` (through ``hvp``) with finite differences of :math:`u^\top\partial F` along v.

    Parameters
    ----------
    grad : callable, (..., d) -> (..., d)
    hvp : callable, ((..., d), (..., d)) -> (..., d)
        Hessian-vector product, broadcasting its two arguments; for a full Hessian
        ``H`` pass ``lambda z, v: np.einsum("...ij,...j->...i", H(z), v)``. The
        Hessian is symmetric, so ``hvp(p, u)`` is also the gradient of
        :math:`u^\top\partial F` at p.
    z, u, v : array_like, shape (n, d)
    grad_error : callable, (..., d) -> (..., d), optional
        Componentwise bound on the rounding error of the computed ∂F at a point;
        default FD_DEFAULT_VALUE_ULPS u|∂F|.
    hvp_error : callable, ((n, d), (n, d)) -> (n, d), optional
        Componentwise bound on the rounding error of the computed ``hvp(z, v)``;
        default FD_DEFAULT_VALUE_ULPS u|hvp|.
    """
    z, v = _pairs(z, v)
    _, u = _pairs(z, u)
    hv = hvp(z, v)
    analytic, contraction_error = _contract(u, hv)
    hv_err = _default_error(hv) if hvp_error is None else hvp_error(z, v)
    analytic_error = np.einsum("ni,ni->n", np.abs(u), hv_err) + contraction_error
    scale = vector_norm(hv) * vector_norm(u)

    def fun(p, i):
        return _contract(grad(p), u[i])[0]

    def point_error(p, i):
        g = grad(p)
        g_err = _default_error(g) if grad_error is None else grad_error(p)
        return np.einsum("...i,...i->...", np.abs(u[i]), g_err) + _contract(g, u[i])[1]

    difference = _line(fun, lambda p, i: hvp(p, u[i]), point_error, z, v, initial_step, scale)
    return agreement(analytic, scale, difference, analytic_error)
