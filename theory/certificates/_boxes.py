"""Helpers shared by the box covers of :mod:`theory.certificates` (d = 2) and :mod:`theory.certificates.shell` (d = 3).

The loss-derivative bounds over an interval of f, the global caps on the network's
derivatives, box centres and half-widths with their rounding, and the one-pass
evaluation of ∂L and Hessian-vector products at box centres with the certified
error bounds of :class:`theory.problem.Problem`.
"""

from __future__ import annotations

import numpy as np

from theory.bounds import (
    evaluation_error_bounds, hessian_norm_bound, third_derivative_bound,
)
from theory.geometry import vector_norm
from theory.losses import SOFTPLUS_THIRD_MAX, CrossEntropyLoss, QuadraticLoss
from theory.network import activations
from theory._floats import SCALING_FLOOR, UNIT_ROUNDOFF
from theory.activations import sigma2_range

_U = UNIT_ROUNDOFF

#: Absolute floor of the error bounds on the computed derivatives at box centres, per
#: unit of their natural scale (as the circle scan's :data:`theory.landscape.SUBNORMAL_FLOOR`):
#: below the normal range floating point has absolute, not relative, precision.
BOX_FLOOR = SCALING_FLOOR


def loss_derivative_bounds(loss, y, f_lo, f_hi):
    r"""Upper bounds :math:`\ell_1, \ell_2, \ell_3` on :math:`|\partial^k L/\partial f^k|` for f in [f_lo, f_hi], each (n,).

    Quadratic: :math:`|L_f| = 2|y - f|` is largest at an endpoint, :math:`|L_{ff}| = 2`,
    :math:`L_{fff} = 0`. Cross-entropy: :math:`L_f = y - s(f)` decreases, so
    :math:`|L_f|` is largest at an endpoint (plus the computed value's
    :meth:`theory.losses.Loss.dvalue_error`); :math:`|L_{ff}| = \sigma''(f)`, sup from
    :func:`theory.activations.sigma2_range` (rounding included);
    :math:`|L_{fff}| = \sigma''(f)\,|1 - 2 s(f)| \le \min(\sigma''(f),` :data:`theory.losses.SOFTPLUS_THIRD_MAX` :math:`)`,
    so the sup of σ'' over the interval bounds it too. Any other loss:
    its own :meth:`~theory.losses.Loss.dvalue_abs_range` and
    :meth:`~theory.losses.Loss.curvature_bounds`, interval by interval. The first
    bound is inflated by 4u for the rounding of its few operations.
    """
    if isinstance(loss, QuadraticLoss):
        l1 = 2.0 * np.maximum(np.abs(y - f_lo), np.abs(y - f_hi))
        return l1 * (1.0 + 4.0 * _U), np.full(f_lo.shape, 2.0), np.zeros(f_lo.shape)
    if isinstance(loss, CrossEntropyLoss):
        ends = np.stack([f_lo, f_hi])
        l1 = np.max(np.abs(loss.dvalue(y, ends)) + loss.dvalue_error(y, ends), axis=0)
        l2 = sigma2_range(f_lo, f_hi)[0]
        return l1 * (1.0 + 4.0 * _U), l2, np.minimum(l2, SOFTPLUS_THIRD_MAX)
    out = np.empty((3, f_lo.size))
    for i, (lo, hi) in enumerate(zip(f_lo, f_hi)):
        out[0, i] = loss.dvalue_abs_range(y, float(lo), float(hi))[1] * (1.0 + 4.0 * _U)
        out[1:, i] = loss.curvature_bounds(y, float(lo), float(hi))
    return out[0], out[1], out[2]


def slab_edges(eps_lo, eps_hi):
    """The radii eps_lo · 2^k, k = 0, 1, ..., up to the first at or above eps_hi: the covers' slabs in ε.

    The edges depend on eps_lo only (a cover drops every box that starts at or above
    eps_hi), so the boxes of a cover, and every box its bisection makes, are the same
    whatever eps_hi: a cover to a smaller eps_hi evaluates a subset of the boxes of a
    cover to a larger one, and a certified radius is monotone in eps_hi.
    For eps_lo == eps_hi: [eps_lo, eps_hi], one slab of zero width.
    """
    edges = [eps_lo]
    while edges[-1] < eps_hi:
        edges.append(edges[-1] * 2.0)
    if len(edges) == 1:
        edges.append(eps_hi)
    return edges


def derivative_caps(problem):
    """Global (radius-free) caps on ‖∂f‖, ‖∂²f‖, ‖∂³f‖ for the per-box bounds."""
    net = problem.net
    g_cap = float(np.linalg.norm(net.W, 2)) * float(vector_norm(net.a)) * (1.0 + 8.0 * (net.m + net.d + 2) * _U)
    return g_cap, hessian_norm_bound(net), third_derivative_bound(net)


def half_width(lo, hi):
    """Centre and an upper bound on the half-width of [lo, hi] (their computed values round)."""
    c = 0.5 * (lo + hi)
    return c, np.maximum(hi - c, c - lo) * (1.0 + 4.0 * _U) + 2.0 * _U * np.abs(c)


def centre_bundle(problem, delta, tangent, *more):
    """f, ∂L and ∂²L t at the points δ (one forward pass), with their certified error bounds.

    ``more``: further vectors v (each like ``tangent``), whose products ∂²L v are returned
    as ``hvs`` (with ``hv_errs``), ∂²L t first.

    The values are computed by the expressions of :meth:`theory.problem.Problem.value_and_grad`
    and :meth:`~theory.problem.Problem.loss_hvp` (bit for bit the same), and the error bounds
    are those of :meth:`~theory.problem.Problem.evaluation_error_bounds` and
    :meth:`~theory.problem.Problem.hvp_error_bounds`, from one pass of the activations.
    """
    net, loss, y = problem.net, problem.loss, problem.y
    a, W = net.a, net.W
    z = problem.x + delta
    acts = activations(z @ W.T)
    sig, dsig, d2sig = acts
    f = sig @ a
    df = (dsig * a) @ W
    lf, lff = loss.dvalue(y, f), loss.d2value(y, f)
    grad = (lf[..., None] * (dsig * a)) @ W
    f_err, df_err, h_err = evaluation_error_bounds(net, z, acts=acts)
    _, grad_err = problem._loss_error_bounds(f, df, f_err, df_err)
    _, _, h_scale = net.term_magnitudes(z, acts=acts)
    hvs, hv_errs = [], []
    for v in (tangent,) + more:
        hfv = (d2sig * a * (v @ W.T)) @ W
        hvs.append(lf[..., None] * hfv + (lff * np.einsum("...i,...i->...", df, v))[..., None] * df)
        hv_errs.append(problem._hvp_error_bounds(f, df, f_err, df_err, h_err, h_scale, np.abs(v)))
    return dict(z=z, f=f, f_err=f_err, grad=grad, grad_err=grad_err, hv=hvs[0], hv_err=hv_errs[0], hvs=hvs,
                hv_errs=hv_errs)
