r"""Certified bounds for one network draw (explicit, derived here; no sampling).

These are the inequalities that let a :class:`theory.problem.Problem` certify
assumption 3 of section 2 (:math:`\mathcal L < |y - f| < \mathcal U` on the whole
ball) rather than observe it on samples.

Rounding. The bounds are meant to hold for the values the code *computes*, not
only for exact arithmetic. A computed sum of ``m`` terms has absolute error at
most :math:`\gamma_m \sum |t_i|` with :math:`\gamma_m = m u/(1 - m u)`, u = 2^-53
(Higham, *Accuracy and Stability of Numerical Algorithms*, eq. (3.4)); the
helper :func:`rounding_allowance` adds that term (with the extra factor 4 for
the few other roundings in a term: exp, log1p, max, product).
"""

from __future__ import annotations

import numpy as np

from ._validation import as_float_array, check_last_dim, check_positive_float
from .geometry import vector_norm
from .network import TwoLayerNet, activations, softplus

__all__ = ["hessian_norm_bound", "value_variation_bound", "rounding_allowance", "evaluation_error_bounds",
           "certified_gradient_floor"]

_U = np.finfo(np.float64).eps / 2.0  # unit roundoff 2^-53


def rounding_allowance(n_terms: int, abs_sum: float) -> float:
    r"""Upper bound on the rounding error of a computed sum of ``n_terms`` terms whose absolute values sum to ``abs_sum``.

    :math:`4\gamma_{n}\,\sum_i|t_i|` with :math:`\gamma_n = n u/(1 - n u)` (see the module docstring).
    """
    nu = (n_terms + 4) * _U
    return 4.0 * nu / (1.0 - nu) * abs_sum


def _net_point_radius(net, x, eps):
    """Validate (net, x of shape (d,), eps > 0) for the bounds around one input."""
    if not isinstance(net, TwoLayerNet):
        raise TypeError(f"net must be a TwoLayerNet, got {type(net).__name__}")
    x = check_last_dim("x", as_float_array("x", x, min_ndim=1), net.d)
    if x.ndim != 1:
        raise ValueError(f"x must have shape ({net.d},), got shape {x.shape}")
    return x, check_positive_float("eps", eps)


def _spectral_norm_upper(W: np.ndarray) -> float:
    """Largest singular value of W, inflated by the backward error of the SVD.

    A backward-stable SVD returns the singular values of W + E with
    ||E||_2 <= c (m + d) u ||W||_2 for a modest constant c; Weyl's inequality
    then bounds the error of each singular value by ||E||_2. We take c = 8.
    """
    s = float(np.linalg.norm(W, 2))
    return s * (1.0 + 8.0 * (W.shape[0] + W.shape[1]) * _U)


def hessian_norm_bound(net: TwoLayerNet) -> float:
    r"""Upper bound :math:`H` on :math:`\|\partial^2 f(z)\|_2` valid for every input z.

    Derivation: :math:`\partial^2 f(z) = W^\top \operatorname{diag}(a\odot\sigma''(Wz)) W`
    and :math:`0 < \sigma'' \le 1/4`, so
    :math:`\|\partial^2 f(z)\|_2 \le \|W\|_2^2 \max_r |a_r| / 4`.

    Parameters
    ----------
    net : TwoLayerNet

    Returns
    -------
    float
    """
    if not isinstance(net, TwoLayerNet):
        raise TypeError(f"net must be a TwoLayerNet, got {type(net).__name__}")
    return _spectral_norm_upper(net.W) ** 2 * float(np.max(np.abs(net.a))) / 4.0


def value_variation_bound(net: TwoLayerNet, x, eps) -> float:
    r"""Upper bound :math:`R` on :math:`\sup_{\|\delta\|\le\varepsilon} |f(x+\delta) - f(x)|`.

    The smaller of two valid bounds:

    * second-order Taylor: :math:`|f(x+\delta) - f(x)| \le \varepsilon\|\partial f(x)\|
      + \tfrac12 H\varepsilon^2` with :math:`H` from :func:`hessian_norm_bound`;
    * Lipschitz per unit: softplus is 1-Lipschitz, so
      :math:`|f(x+\delta) - f(x)| \le \varepsilon\sum_r |a_r|\,\|w_r\|`;

    plus :func:`rounding_allowance` for the evaluation of f at x and at x + δ,
    so that the bound also holds for computed values.

    Parameters
    ----------
    net : TwoLayerNet
    x : array_like, shape (d,)
    eps : float
        Radius, > 0.

    Returns
    -------
    float
    """
    x, eps = _net_point_radius(net, x, eps)
    grad_norm = float(vector_norm(net.grad(x)))
    taylor = eps * grad_norm + 0.5 * hessian_norm_bound(net) * eps * eps
    abs_a = np.abs(net.a)
    row_norms = vector_norm(net.W)
    lipschitz = eps * float(abs_a @ row_norms) * (1.0 + 4.0 * (net.m + net.d) * _U)
    # Both computed f(x) and f(x + delta) carry rounding error; bound the sums of
    # |a_r sigma(w_r^T z)| over the ball by their value at x plus eps ||w_r||.
    abs_sum = float(abs_a @ (softplus(net.W @ x) + eps * row_norms))
    return min(taylor, lipschitz) + 2.0 * rounding_allowance(net.m + net.d, abs_sum)


def evaluation_error_bounds(net: TwoLayerNet, z):
    r"""Bounds on the rounding error of the computed f(z), ∂f(z) and ∂²f(z).

    Two sources, each bounded with :func:`rounding_allowance`:

    * the pre-activations :math:`t_r = w_r^\top z` (sums of d terms) carry an error
      :math:`|\Delta t_r| \le 4\gamma_d\,|w_r|^\top|z|`, which moves
      σ, σ' and σ'' by at most σ'|Δt|, σ''|Δt| and |Δt|/4
      (the third derivative of softplus is bounded by σ'' <= 1/4);
    * the outer sums over the m units, bounded through their sums of absolute terms
      (:meth:`theory.network.TwoLayerNet.term_magnitudes`).

    Two computations of one quantity by different summation orders (a batch and
    a single point, a Hessian times v and a Hessian-vector product) differ by at
    most twice these bounds.

    Parameters
    ----------
    net : TwoLayerNet
    z : array_like, shape (..., d)

    Returns
    -------
    value_error : ndarray, shape (...)
    grad_error : ndarray, shape (..., d)
    hessian_error : ndarray, shape (..., d, d)
    """
    if not isinstance(net, TwoLayerNet):
        raise TypeError(f"net must be a TwoLayerNet, got {type(net).__name__}")
    z = check_last_dim("z", as_float_array("z", z, min_ndim=1), net.d)
    acts = activations(z @ net.W.T)
    _, dsig, d2sig = acts
    value_scale, grad_scale, hessian_scale = net.term_magnitudes(z, acts=acts)
    abs_a, abs_W = np.abs(net.a), np.abs(net.W)
    shift = rounding_allowance(net.d, np.abs(z) @ abs_W.T)  # (..., m): bound on |Δt_r|
    value_error = rounding_allowance(net.m, value_scale) + (dsig * shift) @ abs_a
    grad_error = rounding_allowance(net.m, grad_scale) + (d2sig * shift * abs_a) @ abs_W
    hessian_error = (rounding_allowance(net.m, hessian_scale)
                     + (abs_W.T * (0.25 * shift * abs_a)[..., None, :]) @ abs_W)
    return value_error, grad_error, hessian_error


def certified_gradient_floor(net: TwoLayerNet, x, eps) -> float:
    r"""A certified B_l for one draw: :math:`\min_{\|\delta\|\le\varepsilon}\|\partial f(x+\delta)\| \ge` this.

    :math:`\|\partial f(x+\delta)\| \ge \|\partial f(x)\| - \varepsilon H` with H from
    :func:`hessian_norm_bound` (mean value theorem), minus the rounding error of
    the computed ∂f(x). Zero when the right side is not positive.

    Parameters
    ----------
    net : TwoLayerNet
    x : array_like, shape (d,)
    eps : float
        Radius, > 0.

    Returns
    -------
    float
    """
    x, eps = _net_point_radius(net, x, eps)
    _, grad_err, _ = evaluation_error_bounds(net, x)
    floor = float(vector_norm(net.grad(x))) - float(vector_norm(grad_err)) - eps * hessian_norm_bound(net)
    return max(floor, 0.0)
