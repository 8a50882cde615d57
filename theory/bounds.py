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


import weakref

import numpy as np

from theory._floats import NORMAL_MIN, UNIT_ROUNDOFF
from theory._moved import forward
from theory._validation import as_points, check_positive_float
from theory.geometry import vector_norm
from theory.activations import SOFTPLUS_THIRD_MAX
from theory.network import SIGMOID_RTOL, SOFTPLUS2_RTOL, SOFTPLUS_RTOL, TwoLayerNet, activations, softplus
from theory.activations import sigma2_range
from theory.network import check_input, check_net

__all__ = [
    "hessian_norm_bound",
    "local_hessian_bound",
    "third_derivative_bound",
    "value_variation_bound",
    "rounding_allowance",
    "evaluation_error_bounds",
    "certified_gradient_floor",
    "gradient_norm_range",
    "ball_derivative_bounds",
    "UNDERFLOW_FLOOR",
]

_U = UNIT_ROUNDOFF


def rounding_allowance(n_terms: int, abs_sum: float) -> float:
    r"""Upper bound on the rounding error of a computed sum of ``n_terms`` terms whose absolute values sum to ``abs_sum``.

    :math:`4\gamma_{n}\,\sum_i|t_i|` with :math:`\gamma_n = n u/(1 - n u)` (see the module docstring).
    """
    nu = (n_terms + 4) * _U
    return 4.0 * nu / (1.0 - nu) * abs_sum


def _net_point_radius(net, x, eps):
    """Validate (net, x of shape (d,), eps > 0) for the bounds around one input."""
    return check_input(net, x), check_positive_float("eps", eps)


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
    check_net(net)
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
    # At radii near the top of the float range ε² overflows: +inf is then a valid (trivial)
    # Taylor bound, and the minimum below takes the Lipschitz one.
    with np.errstate(over="ignore"):
        taylor = eps * grad_norm + 0.5 * hessian_norm_bound(net) * eps * eps
    abs_a = np.abs(net.a)
    row_norms = vector_norm(net.W)
    lipschitz = eps * float(abs_a @ row_norms) * (1.0 + 4.0 * (net.m + net.d) * _U)
    # Both computed f(x) and f(x + delta) carry rounding error; bound the sums of
    # |a_r sigma(w_r^T z)| over the ball by their value at x plus eps ||w_r||.
    abs_sum = float(abs_a @ (softplus(net.W @ x) + eps * row_norms))
    return min(taylor, lipschitz) + 2.0 * rounding_allowance(net.m + net.d, abs_sum)


def evaluation_error_bounds(net: TwoLayerNet, z, *, acts=None):
    r"""Bounds on the rounding error of the computed f(z), ∂f(z) and ∂²f(z).

    Three sources, each bounded with :func:`rounding_allowance` or a relative rounding:

    * the pre-activations :math:`t_r = w_r^\top z` (sums of d terms) carry an error
      :math:`|\Delta t_r| \le 4\gamma_d\,|w_r|^\top|z|`, which moves
      σ, σ' and σ'' by at most σ'|Δt|, σ''|Δt| and |Δt|/4
      (the third derivative of softplus is bounded by σ'' <= 1/4);
    * the activations' own rounding, relative (:data:`theory.network.SOFTPLUS_RTOL`,
      ``SIGMOID_RTOL``, ``SOFTPLUS2_RTOL``), times the sums of absolute terms
      (:meth:`theory.network.TwoLayerNet.term_magnitudes`);
    * the products by a and W and the outer sums over the m units, bounded through
      the same sums of absolute terms; for the Hessian with n = m + d terms, so that
      the bound also covers a Hessian-vector product :math:`W^\top(c \odot Wv)`,
      whose inner d-term sums the full Hessian does not have (contract it with |v|).

    Two computations of one quantity by different summation orders (a batch and
    a single point, a Hessian times v and a Hessian-vector product) differ by at
    most twice these bounds.

    Parameters
    ----------
    net : TwoLayerNet
    z : array_like, shape (..., d)
    acts : tuple of ndarray, optional
        ``activations(z @ W.T)`` when the caller already has it (saves the pass).

    Returns
    -------
    value_error : ndarray, shape (...)
    grad_error : ndarray, shape (..., d)
    hessian_error : ndarray, shape (..., d, d)
    """
    check_net(net)
    z = as_points("z", z, net.d)
    if acts is None:
        acts = activations(z @ net.W.T)
    _, dsig, d2sig = acts
    value_scale, grad_scale, hessian_scale = net.term_magnitudes(z, acts=acts)
    abs_a, abs_W = np.abs(net.a), np.abs(net.W)
    shift = rounding_allowance(net.d, np.abs(z) @ abs_W.T)  # (..., m): bound on |Δt_r|
    value_error = (rounding_allowance(net.m, value_scale) + SOFTPLUS_RTOL * value_scale
                   + (dsig * shift) @ abs_a)
    grad_error = (rounding_allowance(net.m, grad_scale) + SIGMOID_RTOL * grad_scale
                  + (d2sig * shift * abs_a) @ abs_W)
    hessian_error = (rounding_allowance(net.m + net.d, hessian_scale) + SOFTPLUS2_RTOL * hessian_scale
                     + (abs_W.T * (0.25 * shift * abs_a)[..., None, :]) @ abs_W)
    return value_error, grad_error, hessian_error


def certified_gradient_floor(net: TwoLayerNet, x, eps) -> float:
    r"""A certified B_l for one draw (Lemma 4.1): :math:`\min_{\|\delta\|\le\varepsilon}\|\partial f(x+\delta)\| \ge` this.

    :math:`\|\partial f(x+\delta)\| \ge \|\partial f(x)\| - \varepsilon H(\varepsilon)` with
    :math:`H(\varepsilon)` from :func:`local_hessian_bound` (mean value theorem), minus
    the rounding error of the computed ∂f(x); the lower end of
    :func:`gradient_norm_range`. Zero when the right side is not positive.

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
    return gradient_norm_range(net, x, eps)[0]


#: Absolute error allowed for a computed σ' or σ'' below the normal range (:data:`theory._floats.NORMAL_MIN`).
UNDERFLOW_FLOOR = NORMAL_MIN


def _psd_norm_upper(W, weights):
    r"""Upper bound on :math:`\lambda_{\max}(W^\top \operatorname{diag}(c) W)` for weights c >= 0, shape (m,).

    The computed d × d matrix differs from the exact one by at most
    :func:`rounding_allowance` of its sums (Frobenius norm, which bounds the
    spectral norm); ``eigvalsh`` is backward stable (error <= 8 d u ‖M‖). The Frobenius norm is
    the scaled :func:`theory.geometry.vector_norm`: ``np.linalg.norm`` squares the entries, which
    overflowed for output weights of 1e300 and would drop the allowance (squares of 0) for 1e-300.
    """
    M = (W.T * weights) @ W
    top = float(np.linalg.eigvalsh(0.5 * (M + M.T))[-1])
    err = float(vector_norm(np.ravel(rounding_allowance(W.shape[0], (np.abs(W).T * weights) @ np.abs(W)))))
    return max(top, 0.0) * (1.0 + 8.0 * W.shape[1] * _U) + err


def _unit_intervals(net, x, eps):
    """Per unit r, an interval certainly containing w_r^T(x + δ) for every ‖δ‖ <= ε.

    Centre: the computed t_r = w_r^T x, whose error is at most
    rounding_allowance(d, |w_r|^T|x|); half-width: ε‖w_r‖ (Cauchy-Schwarz),
    inflated for the rounding of the norm.
    """
    t = net.W @ x
    shift = rounding_allowance(net.d, np.abs(net.W) @ np.abs(x))
    half = eps * vector_norm(net.W) * (1.0 + 4.0 * (net.d + 2) * _U) + shift
    return t, t - half, t + half


def local_hessian_bound(net: TwoLayerNet, x, eps) -> float:
    r"""Upper bound :math:`H(\varepsilon)` on :math:`\|\partial^2 f(x + \delta)\|_2` over the ball :math:`\|\delta\| \le \varepsilon`.

    Sharper than :func:`hessian_norm_bound` because it keeps the signs of
    :math:`a_r` at the centre and the saturation of far units. With
    :math:`t_r = w_r^\top x`, every unit's pre-activation stays in
    :math:`I_r = [t_r - \varepsilon\|w_r\|, t_r + \varepsilon\|w_r\|]` on the ball. For
    any unit vector u,

    .. math::
        |u^\top(\partial^2 f(x+\delta) - \partial^2 f(x))u|
        = \Big|\sum_r a_r\,(\sigma''(t_r') - \sigma''(t_r))\,(w_r^\top u)^2\Big|
        \le u^\top W^\top \operatorname{diag}(|a| \odot e)\,W u,

    with :math:`e_r = \sup_{s \in I_r}|\sigma''(s) - \sigma''(t_r)|`, and likewise
    :math:`|u^\top\partial^2 f(x+\delta)\,u| \le u^\top W^\top\operatorname{diag}(|a|\odot c)Wu`
    with :math:`c_r = \sup_{I_r}\sigma''`. As the Hessian is symmetric its norm is
    :math:`\max_u |u^\top \partial^2 f\,u|`, so

    .. math::
        H(\varepsilon) = \min\big(\|\partial^2 f(x)\|_2 + \lambda_{\max}(W^\top\operatorname{diag}(|a|e)W),\;
        \lambda_{\max}(W^\top\operatorname{diag}(|a|c)W)\big),

    each term inflated for rounding (the computed Hessian at x by its certified
    evaluation error, :func:`evaluation_error_bounds`). Non-decreasing in ε
    (the intervals grow), as :func:`contraction_tau_eps` requires.

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
    t, lo, hi = _unit_intervals(net, x, eps)
    sup, inf = sigma2_range(lo, hi)
    s0, centre, global_bound, underflow = _hessian_centre_terms(net, x, t)
    e = np.maximum(sup - s0, s0 - inf) + 2.0 * SOFTPLUS2_RTOL * s0
    abs_a = np.abs(net.a)
    moving = centre + _psd_norm_upper(net.W, abs_a * e)
    crude = _psd_norm_upper(net.W, abs_a * sup)
    return min(moving, crude, global_bound) + underflow


#: Per network (weakly referenced), per input x (its bytes): the terms of
#: :func:`local_hessian_bound` that do not depend on ε. The certificates search over ε
#: for one (network, x), calling the bound thousands of times with the same centre.
_CENTRE_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _hessian_centre_terms(net, x, t):
    """``(σ''(t), ‖∂²f(x)‖ bound, hessian_norm_bound(net), underflow term)`` for t = W x, cached per (net, x)."""
    per_net = _CENTRE_CACHE.setdefault(net, {})
    key = x.tobytes()
    terms = per_net.get(key)
    if terms is None:
        s0 = activations(t)[2]
        _, _, h_err = evaluation_error_bounds(net, x)
        h0 = net.hessian(x)
        # The Frobenius norm of the error bound, scaled (as in _psd_norm_upper).
        centre = float(np.linalg.norm(h0, 2)) * (1.0 + 8.0 * net.d * _U) + float(vector_norm(np.ravel(h_err)))
        # Units whose sigma'' underflowed contribute at most UNDERFLOW_FLOOR |a_r| ||w_r||^2
        # each; the sum is added in the normal range (the products above may underflow).
        underflow = UNDERFLOW_FLOOR * float(np.abs(net.a) @ vector_norm(net.W) ** 2) * 2.0
        s0.flags.writeable = False
        terms = per_net[key] = (s0, centre, hessian_norm_bound(net), underflow)
        if len(per_net) > _CENTRE_CACHE_SIZE:   # a few inputs per network are in use at a time
            del per_net[next(iter(per_net))]
    return terms


#: Inputs kept per network in :data:`_CENTRE_CACHE` (the oldest goes first).
_CENTRE_CACHE_SIZE = 8


def ball_derivative_bounds(net: TwoLayerNet, z, rho):
    r"""Upper bounds on :math:`\|\partial f\|`, :math:`\|\partial^2 f\|_2` and :math:`\|\partial^3 f\|` over small balls.

    For each centre :math:`z_i` and radius :math:`\rho_i`, bounds on the suprema over the
    closed ball :math:`\mathbb B(z_i, \rho_i)` of the gradient norm, the Hessian's spectral
    norm and the operator norm of the third derivative (a symmetric trilinear form).

    **Derivation.** Every pre-activation stays in
    :math:`I_r = [t_r - h_r, t_r + h_r]` with :math:`t_r` the computed :math:`w_r^\top z_i`
    and :math:`h_r = \rho_i\|w_r\|(1 + 16u) + e_r`, where :math:`e_r` is the
    :func:`rounding_allowance` of the d-term sum :math:`w_r^\top z_i` and the factor
    covers the rounding of :math:`\|w_r\|` (Cauchy-Schwarz). On :math:`I_r`,
    σ' is at most its value at the upper end (σ' increases), inflated by twice its relative
    rounding :data:`theory.network.SIGMOID_RTOL` plus :data:`UNDERFLOW_FLOOR`, and σ'' at
    most its sup from :func:`sigma2_range` (its value at the point nearest 0, widened the
    same way); :math:`|\sigma^{(3)}| = \sigma''|1 - 2\sigma'|
    \le \sigma''`. With :math:`\partial^k f = \sum_r a_r \sigma^{(k)}(w_r^\top z) w_r^{\otimes k}`
    the triangle inequality gives

    .. math::
        \|\partial f\| \le \sum_r |a_r|\sup_{I_r}\sigma'\,\|w_r\|, \quad
        \|\partial^2 f\|_2 \le \sum_r |a_r|\sup_{I_r}\sigma''\,\|w_r\|^2, \quad
        \|\partial^3 f\| \le \sum_r |a_r|\sup_{I_r}\sigma''\,\|w_r\|^3,

    each sum of m positive terms inflated by :math:`4mu` for its rounding. Saturated
    units (far from their kink on the whole ball) contribute almost nothing, which keeps
    these bounds small where the landscape is flat. They are not capped: callers may
    take the minimum with the global bounds (:func:`hessian_norm_bound`,
    :func:`third_derivative_bound`, :func:`gradient_norm_range`).

    Parameters
    ----------
    net : TwoLayerNet
    z : array_like, shape (n, d)
        Centres (computed points; their rounding is the caller's, through ``rho``).
    rho : array_like, shape (n,)
        Radii, >= 0.

    Returns
    -------
    G, H, H3 : ndarray, shape (n,)
    """
    check_net(net)
    z = as_points("z", z, net.d)
    rho = np.asarray(rho, dtype=float)
    if z.ndim != 2 or rho.shape != z.shape[:1]:
        raise ValueError(f"z must have shape (n, {net.d}) and rho shape (n,), got {z.shape} and {rho.shape}")
    if not np.all(rho >= 0.0) or not np.all(np.isfinite(rho)):
        raise ValueError("rho must be finite and >= 0")
    t = z @ net.W.T
    rn = vector_norm(net.W)
    half = rho[:, None] * rn * (1.0 + 16.0 * _U) + rounding_allowance(net.d, np.abs(z) @ np.abs(net.W).T)
    lo, hi = t - half, t + half
    ds_sup = activations(hi)[1] * (1.0 + 2.0 * SIGMOID_RTOL) + UNDERFLOW_FLOOR
    # The sup of sigma2_range from one pass: σ'' is even and decreasing in |t|, so its sup
    # is its value at the point of I_r nearest 0 (0 when I_r contains it, σ''(0) = 1/4).
    near = np.where((lo <= 0.0) & (hi >= 0.0), 0.0, np.minimum(np.abs(lo), np.abs(hi)))
    d2s_sup = np.minimum(activations(near)[2] * (1.0 + 2.0 * SOFTPLUS2_RTOL) + UNDERFLOW_FLOOR, 0.25)
    abs_a = np.abs(net.a) * (1.0 + 4.0 * net.m * _U)
    G = (ds_sup * abs_a) @ rn
    H = (d2s_sup * abs_a) @ rn ** 2
    H3 = (d2s_sup * abs_a) @ rn ** 3
    return G, H, H3


def third_derivative_bound(net: TwoLayerNet) -> float:
    r"""Upper bound on :math:`\sup_z \sup_{\|u\|=1} |\partial^3 f(z)[u, u, u]|` for every input z.

    :math:`\partial^3 f(z)[u,u,u] = \sum_r a_r\sigma^{(3)}(w_r^\top z)(w_r^\top u)^3`, so with
    :math:`|\sigma^{(3)}| \le` :data:`theory.losses.SOFTPLUS_THIRD_MAX` and
    :math:`|w_r^\top u|^3 \le \|w_r\|(w_r^\top u)^2`:

    .. math::
        |\partial^3 f[u,u,u]| \le \sigma^{(3)}_{\max}\,\max_r\|w_r\|\;
        \lambda_{\max}(W^\top\operatorname{diag}(|a|)W).

    (For a symmetric trilinear form this also bounds :math:`|\partial^3 f[u, v, w]|`
    over unit vectors, by Banach's theorem on symmetric multilinear forms.)
    """
    check_net(net)
    row = float(np.max(vector_norm(net.W))) * (1.0 + 4.0 * (net.d + 2) * _U)
    return SOFTPLUS_THIRD_MAX * row * _psd_norm_upper(net.W, np.abs(net.a))


def gradient_norm_range(net: TwoLayerNet, x, eps):
    r"""Certified bounds :math:`B_l \le \|\partial f(x+\delta)\| \le B_u` over the ball :math:`\|\delta\| \le \varepsilon`.

    By the mean value theorem, :math:`|\,\|\partial f(x+\delta)\| - \|\partial f(x)\|\,| \le
    \varepsilon H(\varepsilon)` with :math:`H(\varepsilon)` from
    :func:`local_hessian_bound`; the computed :math:`\partial f(x)` is off by at most
    its certified evaluation error. The upper bound is also capped by
    :math:`\|W\|_2\|a\|_2` (as :math:`0 < \sigma' < 1`, :math:`\|W^\top(a\odot\sigma')\| \le \|W\|_2\|a\|_2`).

    Returns
    -------
    (lower, upper) : tuple of float
        ``lower`` is clipped at 0.
    """
    x, eps = _net_point_radius(net, x, eps)
    _, grad_err, _ = evaluation_error_bounds(net, x)
    g = float(vector_norm(net.grad(x)))
    err = float(vector_norm(grad_err)) + 4.0 * net.d * _U * g
    move = eps * local_hessian_bound(net, x, eps)
    cap = _spectral_norm_upper(net.W) * float(vector_norm(net.a)) * (1.0 + 4.0 * (net.m + 2) * _U)
    return max(g - err - move, 0.0), min(g + err + move, cap)


# The per-draw certificates that take a Problem sit above this module
# (theory.certificates); their old names stay importable from here.
__getattr__ = forward(__name__)
