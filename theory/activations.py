r"""The softplus activation σ(t) = log(1 + e^t), its derivatives, and the facts the bounds use.

Numerical stability. With :math:`e = \exp(-|t|) \in (0, 1]` (one exponential per
pre-activation, never an overflow):

* :math:`\sigma(t) = \max(t, 0) + \operatorname{log1p}(e)`,
* :math:`\sigma'(t) = 1/(1+e)` for :math:`t \ge 0` and :math:`e/(1+e)` otherwise,
* :math:`\sigma''(t) = e/(1+e)^2` (symmetric in t), clamped at its maximum 1/4
  against rounding.

These are exact rewritings, valid for pre-activations of any size (an input
scale of 10^3 gives pre-activations of order 10^3: ``exp(-1000)`` underflows
to 0, which is the correct limit, and nothing overflows).

Rounding of the computed activations (relative, for every t; where a result is
subnormal, absolute instead, a few spacings): with ε = 2 ELEMENTARY_ULPS u (8u) for
the exponential and log1p (:data:`theory.testing.tolerances.ELEMENTARY_ULPS`) and u for +, /, *,

* σ: :math:`\hat e = e(1 + \alpha)`, :math:`|\alpha| \le ε`, moves log1p(e) by
  :math:`e|\alpha|/(1+e) \le |\alpha|\operatorname{log1p}(e)` (as
  :math:`\operatorname{log1p}(e) \ge e/(1+e)`); log1p adds ε, the sum of two
  non-negative terms u: :data:`SOFTPLUS_RTOL` = 2ε + u;
* σ' = N/(1 + ê), N = 1 or ê: N carries ε, 1 + ê carries :math:`εe/(1+e) + u \le ε + u`,
  the quotient u: :data:`SIGMOID_RTOL` = 2ε + 2u;
* σ'' = ê/(1 + ê)²: ε, the square 2(ε + u) + u, the quotient u:
  :data:`SOFTPLUS2_RTOL` = 3ε + 4u.
"""

from __future__ import annotations

import numpy as np

from theory._floats import ELEMENTARY_RTOL, NORMAL_MIN, UNIT_ROUNDOFF

__all__ = ["activations", "softplus", "sigmoid", "sigma2_range", "SOFTPLUS_RTOL", "SIGMOID_RTOL", "SOFTPLUS2_RTOL",
           "SOFTPLUS_THIRD_MAX", "SOFTPLUS_FOURTH_MAX"]

_ELEMENTARY = ELEMENTARY_RTOL  # ε: relative error of exp and log1p
#: Relative rounding error of the computed softplus σ(t) (module docstring).
SOFTPLUS_RTOL = 2.0 * _ELEMENTARY + UNIT_ROUNDOFF
#: Relative rounding error of the computed sigmoid σ'(t) (module docstring).
SIGMOID_RTOL = 2.0 * _ELEMENTARY + 2.0 * UNIT_ROUNDOFF
#: Relative rounding error of the computed σ''(t) (module docstring).
SOFTPLUS2_RTOL = 3.0 * _ELEMENTARY + 4.0 * UNIT_ROUNDOFF


def activations(t, *, second=True):
    r"""Softplus and its first two derivatives from a single exponential pass.

    Parameters
    ----------
    t : ndarray, any shape
        Pre-activations :math:`w_r^\top z`.
    second : bool
        Whether to compute :math:`\sigma''` (default True); when False the third value
        is None (a value and gradient need only the first two: a third of the passes).

    Returns
    -------
    sigma, dsigma, d2sigma : ndarray, same shape as ``t``
        :math:`\sigma(t)`, :math:`\sigma'(t)` and :math:`\sigma''(t)`; finite for
        every finite ``t`` (see the module docstring for the formulas).
    """
    t = np.asarray(t, dtype=np.float64)
    e = np.exp(-np.abs(t))
    one_plus_e = 1.0 + e
    sigma = np.maximum(t, 0.0) + np.log1p(e)
    dsigma = np.where(t >= 0.0, 1.0, e) / one_plus_e
    if not second:
        return sigma, dsigma, None
    # e/(1+e)^2 <= 1/4 exactly, with equality at t = 0; near t = 0 rounding can
    # exceed 1/4 by an ulp, which would break the certified bound sigma'' <= 1/4
    # that theory.bounds relies on, so clamp.
    d2sigma = np.minimum(e / (one_plus_e * one_plus_e), 0.25)
    return sigma, dsigma, d2sigma


def softplus(t):
    r"""Stable softplus :math:`\sigma(t) = \log(1 + e^t)`, elementwise."""
    t = np.asarray(t, dtype=np.float64)
    return np.maximum(t, 0.0) + np.log1p(np.exp(-np.abs(t)))


def sigmoid(t):
    r"""Stable logistic sigmoid :math:`\sigma'(t) = 1/(1 + e^{-t})`, elementwise."""
    t = np.asarray(t, dtype=np.float64)
    e = np.exp(-np.abs(t))
    return np.where(t >= 0.0, 1.0, e) / (1.0 + e)


#: :math:`\max_t |\sigma^{(3)}(t)|` for softplus σ. With s the sigmoid,
#: σ⁽³⁾ = s(1 - s)(1 - 2s); as a polynomial in p = s on [0, 1] its extrema are at
#: p = (3 ∓ √3)/6, where its absolute value is 1/(6√3) ≈ 0.0962. It bounds the
#: third derivative of the network (:func:`theory.bounds.third_derivative_bound`)
#: and of the cross-entropy loss in f (the same function of f).
SOFTPLUS_THIRD_MAX = 1.0 / (6.0 * np.sqrt(3.0))

#: :math:`\max_t |\sigma^{(4)}(t)|` for softplus: with q = s(1 − s) ∈ (0, 1/4],
#: σ⁽⁴⁾ = q(1 − 6q), whose absolute value peaks at q = 1/4 (t = 0, value −1/8; its
#: other extremum is 1/24 at q = 1/12).
SOFTPLUS_FOURTH_MAX = 0.125


def sigma2_range(lo, hi):
    """Elementwise sup and inf of σ'' = s(1 - s) over the intervals [lo, hi].

    σ'' is even and decreasing in |t|: its sup is 1/4 when 0 lies in the
    interval, else its value at the endpoint nearest 0; its inf is at the
    endpoint farthest from 0. Values are widened by twice the relative rounding of
    the computed σ'' (:data:`SOFTPLUS2_RTOL`: |ŝ − s| <= r s gives
    s <= ŝ/(1 − r) <= ŝ(1 + 2r)), and by :data:`theory._floats.NORMAL_MIN` (absolute): beyond |t| ~ 708 the computed σ''
    leaves the normal range and is 0 beyond ~745, while the true value is positive.
    """
    s_lo, s_hi = activations(lo)[2], activations(hi)[2]
    sup = np.where((lo <= 0.0) & (hi >= 0.0), 0.25, np.maximum(s_lo, s_hi)) * (1.0 + 2.0 * SOFTPLUS2_RTOL)
    inf = np.minimum(s_lo, s_hi) * (1.0 - 2.0 * SOFTPLUS2_RTOL)
    return np.minimum(sup + NORMAL_MIN, 0.25), np.maximum(inf - NORMAL_MIN, 0.0)
