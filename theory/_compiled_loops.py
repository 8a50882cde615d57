"""The compiled loops of :mod:`theory._compiled` (imported by it on first use: needs numba).

Module-level functions, so that numba's on-disk cache (``cache=True``) finds them again
in the next process.
"""

__all__ = ["value_and_grad_rows", "advance", "pgd_loop", "until_loop"]

import math

import numba
import numpy as np

from theory._floats import NORMAL_MIN, SCALING_CEILING, SCALING_FLOOR

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")
_NORM_MAX = float(SCALING_CEILING)
_NORM_MIN = float(SCALING_FLOOR)
_NORMAL = float(NORMAL_MIN)


@_jit
def _row(W, WT, a, starts, x, y, code, delta, grad, df, xd, z):
    """L at one row ``delta`` (d,); ∂L into ``grad`` and ∂f into ``df``; returns (L, L_f).

    ``WT`` is W transposed and C-contiguous (d, m), ``z`` a scratch row (m,). The
    pre-activations z_r = Σ_k W[r, k] xd[k] are summed over k in order, for all units at
    once (the loop over units inside: no reduction, so it vectorises); then one pass over
    the units makes their coefficients a_r σ'(z_r) and f; then ∂f = Σ_r c_r w_r, r in order.
    """
    m, d = W.shape
    for k in range(d):
        xd[k] = x[k] + delta[k]
        df[k] = 0.0
    for r in range(m):
        z[r] = 0.0
    for k in range(d):
        xk = xd[k]
        for r in range(m):
            z[r] += WT[k, r] * xk
    f = 0.0
    for j in range(starts.shape[0] - 1):
        product = 1.0
        for r in range(starts[j], starts[j + 1]):
            zr = z[r]
            e = math.exp(-abs(zr))
            t = 1.0 + e
            product *= t
            if zr > 0.0:
                f += a[r] * zr
                z[r] = a[r] * (1.0 / t)
            else:
                z[r] = a[r] * (e / t)
        f += a[starts[j]] * math.log(product)
    for r in range(m):
        c = z[r]
        for k in range(d):
            df[k] += c * W[r, k]
    if code == 0:
        res = y - f
        value = -(res * res)
        lf = 2.0 * res
    else:
        e = math.exp(-abs(f))
        log_term = math.log1p(e)
        t = 1.0 + e
        value = -(y * (max(-f, 0.0) + log_term) + (1.0 - y) * (max(f, 0.0) + log_term))
        lf = y * ((1.0 if f <= 0.0 else e) / t) - (1.0 - y) * ((1.0 if f >= 0.0 else e) / t)
    for k in range(d):
        grad[k] = lf * df[k]
    return value, lf


@_jit
def value_and_grad_rows(W, WT, a, starts, x, y, code, delta, loss, grad):
    m, d = W.shape
    df = np.empty(d)
    xd = np.empty(d)
    z = np.empty(m)
    for i in range(delta.shape[0]):
        loss[i], _ = _row(W, WT, a, starts, x, y, code, delta[i], grad[i], df, xd, z)


@_jit
def _max_abs(v):
    big = 0.0
    for k in range(v.shape[0]):
        big = max(big, abs(v[k]))
    return big


@_jit
def _norm(v):
    """‖v‖ as :func:`theory.geometry.vector_norm` takes it: sqrt(Σ v²) where that cannot overflow
    or lose digits to underflow, else scaled by the largest entry first."""
    s = 0.0
    for k in range(v.shape[0]):
        s += v[k] * v[k]
    if s <= _NORM_MAX and s >= v.shape[0] * _NORM_MIN:
        return math.sqrt(s)
    big = _max_abs(v)
    if big == 0.0:
        return 0.0
    s = 0.0
    for k in range(v.shape[0]):
        c = v[k] / big
        s += c * c
    return big * math.sqrt(s)


@_jit
def _direction(v, n, out):
    """v/‖v‖ into ``out`` given n = ‖v‖ > 0; a subnormal n divides by the largest entry first."""
    if n >= _NORMAL:
        for k in range(v.shape[0]):
            out[k] = v[k] / n
        return
    big = _max_abs(v)
    for k in range(v.shape[0]):
        out[k] = v[k] / big
    m = _norm(out)
    for k in range(v.shape[0]):
        out[k] = out[k] / m


@_jit
def _step_project(old, grad, eta, eps, new):
    """new = P_B(old − η grad), as :func:`theory.geometry.project_ball`: the scale ε/‖v‖, or
    ε · v/‖v‖ where the scale or the norm is subnormal."""
    for k in range(old.shape[0]):
        new[k] = old[k] + (-eta) * grad[k]
    n = _norm(new)
    if n > eps:
        scale = eps / n
        if scale < _NORMAL or n < _NORMAL:
            _direction(new, n, new)
            for k in range(new.shape[0]):
                new[k] = eps * new[k]
        else:
            for k in range(new.shape[0]):
                new[k] *= scale


@_jit
def advance(W, WT, a, starts, x, y, code, etas, eps, flat, loss):
    """One PGD step in place on each row of ``flat`` (B, d) with its own step ``etas[i]``; L(δ) into ``loss``."""
    m, d = W.shape
    z = np.empty(m)
    grad = np.empty(d)
    df = np.empty(d)
    xd = np.empty(d)
    new = np.empty(d)
    for i in range(flat.shape[0]):
        loss[i], _ = _row(W, WT, a, starts, x, y, code, flat[i], grad, df, xd, z)
        _step_project(flat[i], grad, etas[i], eps, new)
        for k in range(d):
            flat[i, k] = new[k]


@_jit
def pgd_loop(W, WT, a, starts, x, y, code, etas, eps, flat, losses):
    """PGD in place: ``flat`` (steps + 1, B, d) from ``flat[0]``; ``losses[t, i]`` = L(δ_t) for t < steps."""
    m, d = W.shape
    z = np.empty(m)
    grad = np.empty(d)
    df = np.empty(d)
    xd = np.empty(d)
    for i in range(flat.shape[1]):
        for t in range(etas.shape[0]):
            losses[t, i], _ = _row(W, WT, a, starts, x, y, code, flat[t, i], grad, df, xd, z)
            _step_project(flat[t, i], grad, etas[t], eps, flat[t + 1, i])


@_jit
def until_loop(W, WT, a, starts, x, y, code, etas, thresholds, eps, rtol, max_steps, flat, times, hit_at):
    """pgd_until with the output criterion, in place on ``flat`` (B, d); first hits into ``times`` and ``hit_at``."""
    m, d = W.shape
    z = np.empty(m)
    grad = np.empty(d)
    df = np.empty(d)
    xd = np.empty(d)
    new = np.empty(d)
    normal = np.empty(d)
    for i in range(flat.shape[0]):
        delta = flat[i]
        for t in range(max_steps + 1):
            _, _ = _row(W, WT, a, starts, x, y, code, delta, grad, df, xd, z)
            n = _norm(delta)
            if abs(n - eps) <= rtol * eps:
                # ‖P_T ∂f‖ with the unit normal δ/‖δ‖: ∂f − (∂fᵀn) n.
                _direction(delta, n, normal)
                dot = 0.0
                for k in range(d):
                    dot += df[k] * normal[k]
                for k in range(d):
                    new[k] = df[k] - dot * normal[k]
                if _norm(new) < thresholds[i]:
                    times[i] = t
                    for k in range(d):
                        hit_at[i, k] = delta[k]
                    break
            if t == max_steps:
                break
            _step_project(delta, grad, etas[i], eps, new)
            for k in range(d):
                delta[k] = new[k]
