r"""Derivative checks by central differences along directions (in the style of JAX's ``check_grads``).

A derivative is checked through scalar contractions along directions, so that
one finite-difference call per point checks a gradient or a Hessian:

* gradient: :math:`\partial F(z)^\top v` against :math:`\frac{d}{dt}F(z + tv)|_{t=0}`;
* Hessian: :math:`u^\top \partial^2F(z)\, v` against
  :math:`\frac{d}{dt}\,u^\top\partial F(z + tv)|_{t=0}`.

The finite differences are :func:`scipy.differentiate.derivative` (order-8
central differences with Richardson extrapolation), batched over points. The
allowed discrepancy combines :data:`theory.tolerances.FD_RTOL` relative to the
Cauchy–Schwarz scale of the contraction and :data:`theory.tolerances.FD_ERROR_FACTOR`
times scipy's own error estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.differentiate import derivative

from ._validation import as_float_array
from .geometry import vector_norm
from .tolerances import FD_ERROR_FACTOR, FD_INITIAL_STEP, FD_NOISE_ULPS, FD_RTOL, UNIT_ROUNDOFF

__all__ = ["Agreement", "directional_derivative", "curve_derivative", "gradient_agreement", "hessian_agreement"]


@dataclass(frozen=True)
class Agreement:
    """Outcome of comparing analytic directional derivatives with finite differences.

    Attributes
    ----------
    analytic, numeric, error_estimate, allowed : ndarray, shape (n,)
    """

    analytic: np.ndarray
    numeric: np.ndarray
    error_estimate: np.ndarray
    allowed: np.ndarray

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


def _pairs(z, v):
    z = as_float_array("z", z, min_ndim=2)
    v = as_float_array("v", v, min_ndim=2)
    if z.ndim != 2 or z.shape != v.shape:
        raise ValueError(f"z and v must both have shape (n, d), got {z.shape} and {v.shape}")
    return z, v


def _directional(fun_rows, z, v, initial_step, scale=None, noise=None):
    """Finite differences of t -> fun_rows(z[i] + t v[i], i) at t = 0, for each row i.

    scipy drops converged rows between iterations, so the row indices are passed
    along with the points. With ``scale`` (shape (n,)), row i is differentiated
    in units of ``scale[i]`` and scipy is asked for an absolute accuracy of
    ``FD_RTOL / 10`` in those units (no relative target): it then stops at the
    largest step that reaches the accuracy the check needs, instead of shrinking
    the step into rounding noise when the derivative itself is tiny.
    """
    rows = np.arange(z.shape[0])
    # Rounding floor: values of size |F| carry rounding of order u |F|; a difference
    # quotient with step h amplifies it to u |F| / h (times the sum of the
    # formula's weights, covered by FD_NOISE_ULPS).
    # ``noise``, when given, is a bound on the absolute rounding error of F at z
    # (for a cancelling sum it is much larger than u |F|).
    magnitude = np.abs(fun_rows(z, rows))
    if noise is not None:
        magnitude = np.maximum(magnitude, np.asarray(noise, dtype=np.float64) / UNIT_ROUNDOFF)
    floor_at_first_step = FD_NOISE_ULPS * UNIT_ROUNDOFF * magnitude / initial_step
    if scale is None:
        unit = np.ones(z.shape[0])
        tolerances = None
    else:
        # Never finer than the noise floor: a derivative far below it cannot be
        # resolved by differences (and dividing by it could overflow).
        unit = np.maximum(np.maximum(scale, floor_at_first_step), np.finfo(np.float64).tiny)
        tolerances = dict(atol=FD_RTOL / 10.0, rtol=0.0)

    def along(t, i):
        i = i.astype(np.intp)
        return fun_rows(z[i] + t[..., None] * v[i], i) / unit[i]

    res = derivative(along, np.zeros(z.shape[0]), args=(rows,), initial_step=initial_step,
                     tolerances=tolerances)
    if not np.all(np.isfinite(res.df)):
        raise FloatingPointError("finite differences returned a non-finite derivative")
    # scipy's default step_factor is 2: the last step is initial_step / 2^nit.
    final_step = initial_step / 2.0 ** np.asarray(res.nit, dtype=np.float64)
    noise = FD_NOISE_ULPS * UNIT_ROUNDOFF * magnitude / final_step
    return res.df * unit, res.error * unit + noise / FD_ERROR_FACTOR


def directional_derivative(fun, z, v, *, initial_step=FD_INITIAL_STEP):
    r"""Central-difference derivative of :math:`t \mapsto F(z_i + t v_i)` at t = 0, for each row i.

    Parameters
    ----------
    fun : callable
        Maps points of shape (..., d) to scalars of shape (...).
    z, v : array_like, shape (n, d)
        Points and directions.
    initial_step : float
        First step of the differences (default :data:`theory.tolerances.FD_INITIAL_STEP`).

    Returns
    -------
    df, error : ndarray, shape (n,)
        The derivative, and scipy's error estimate plus the rounding floor
        (``FD_NOISE_ULPS * u * |F| / h_final`` divided by ``FD_ERROR_FACTOR``, so
        that ``FD_ERROR_FACTOR * error`` contains the floor once).
    """
    z, v = _pairs(z, v)
    return _directional(lambda p, i: fun(p), z, v, initial_step)


def curve_derivative(g, n, *, scale=None, noise=None, initial_step=FD_INITIAL_STEP):
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
    scale, noise : array_like, shape (n,), optional
        The scale of the derivative and a bound on the rounding error of g (see
        :func:`gradient_agreement`).

    Returns
    -------
    df, error : ndarray, shape (n,)
    """
    return _directional(lambda p, i: g(p[..., 0], i), np.zeros((n, 1)), np.ones((n, 1)),
                        initial_step, scale, noise)


def _agreement(analytic, scale, numeric, error):
    allowed = FD_RTOL * scale + FD_ERROR_FACTOR * error
    # A zero scale and zero error estimate (e.g. an exactly constant function) still
    # allow the rounding of one subtraction.
    allowed = np.maximum(allowed, np.finfo(np.float64).tiny)
    return Agreement(analytic, numeric, error, allowed)


def gradient_agreement(fun, grad, z, v, *, noise=None, initial_step=FD_INITIAL_STEP) -> Agreement:
    r"""Compare :math:`\partial F(z)^\top v` with finite differences of F along v.

    Parameters
    ----------
    fun : callable, (..., d) -> (...)
    grad : callable, (..., d) -> (..., d)
    z, v : array_like, shape (n, d)
    noise : array_like, shape (n,), optional
        Bound on the absolute rounding error of the computed F(z) (e.g. from
        :func:`theory.bounds.evaluation_error_bounds`); default u |F(z)|.
    """
    z, v = _pairs(z, v)
    g = grad(z)
    analytic = np.einsum("ni,ni->n", g, v)
    scale = vector_norm(g) * vector_norm(v)
    numeric, error = _directional(lambda p, i: fun(p), z, v, initial_step, scale, noise)
    return _agreement(analytic, scale, numeric, error)


def hessian_agreement(grad, hvp, z, u, v, *, noise=None, initial_step=FD_INITIAL_STEP) -> Agreement:
    r"""Compare :math:`u^\top \partial^2F(z)v` (through ``hvp``) with finite differences of :math:`u^\top\partial F` along v.

    Parameters
    ----------
    grad : callable, (..., d) -> (..., d)
    hvp : callable, ((n, d), (n, d)) -> (n, d)
        Hessian-vector product; for a full Hessian ``H`` pass
        ``lambda z, v: np.einsum("...ij,...j->...i", H(z), v)``.
    z, u, v : array_like, shape (n, d)
    noise : array_like, shape (n, d), optional
        Bound on the absolute rounding error of each component of the computed
        gradient at z; it is contracted with |u|. Default u |uᵀ∂F(z)|.
    """
    z, v = _pairs(z, v)
    _, u = _pairs(z, u)
    if noise is not None:
        noise = np.einsum("ni,ni->n", np.asarray(noise, dtype=np.float64), np.abs(u))
    hv = hvp(z, v)
    analytic = np.einsum("ni,ni->n", u, hv)
    scale = vector_norm(hv) * vector_norm(u)

    def contracted(p, i):
        # p has shape (k,) + (d,) or (k, j, d) for rows i of shape (k,) or (k, 1).
        return np.einsum("...i,...i->...", grad(p), u[i])

    numeric, error = _directional(contracted, z, v, initial_step, scale, noise)
    return _agreement(analytic, scale, numeric, error)
