r"""The elementwise passes of the fused kernel's unit blocks, compiled (imported on first use: needs numba).

:class:`theory._kernel.LossGradKernel` computes, per block of k hidden units and n rows,
:math:`Z = W_b (x + \delta)^\top` and :math:`\sigma'(Z)^\top (a \odot W)_b` with BLAS. In
between, its numpy path makes about a dozen passes over the (k, n) block; with the extra
``fast`` these become two compiled passes around numpy's vectorised ``exp``:

1. :func:`negative_abs_relu`: :math:`E = -|Z|`, and :math:`f_i \mathrel{+}= \sum_r a_r \max(Z_{ri}, 0)`;
2. ``np.exp(E, out=E)`` (numpy's SIMD exponential, as in the numpy path);
3. :func:`sigmoid_products`: :math:`f_i \mathrel{+}= \sum_j v_j \log \prod_{r \in \text{run } j} (1 + e_{ri})`
   over the runs of equal output weights :math:`v_j` (at most
   :data:`theory._kernel.PRODUCT_UNITS_MAX` units a block, so each product of factors in
   (1, 2] is finite), and :math:`E \leftarrow \sigma'(Z) = [Z \ge 0 \;?\; 1 : e] / (1 + e)`.

The operations on each entry are those of the numpy path (the stable forms of
:mod:`theory.network`), in strict IEEE arithmetic (no fast-math); the products are taken in
the same order, the sums over units in another, within the rounding bound that
``checks/numerics/test_numerics_kernels.py`` holds both paths to. The loops run over units
outside and rows inside, so the inner loops carry no reduction and vectorise. They release
the GIL, so the kernel's threads over rows run them in parallel.
"""

from __future__ import annotations

__all__ = ["negative_abs_relu", "sigmoid_products"]

import math

import numba

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")


@_jit
def negative_abs_relu(Z, E, a, f):
    """``E = -|Z|`` and ``f[i] += Σ_r a[r] max(Z[r, i], 0)``; Z, E of shape (k, n), a (k,), f (n,)."""
    k, n = Z.shape
    for r in range(k):
        ar = a[r]
        for i in range(n):
            z = Z[r, i]
            E[r, i] = -abs(z)
            f[i] += ar * max(z, 0.0)


@_jit
def sigmoid_products(Z, E, starts, values, P, f):
    """From ``E = exp(-|Z|)``: ``f[i] += Σ_j values[j] log Π_{starts[j] <= r < starts[j+1]} (1 + E[r, i])``, then ``E = σ'(Z)``.

    ``starts`` (runs + 1,) int64 with ``starts[-1] = k``; ``values`` (runs,); ``P`` (n,) scratch.
    """
    n = Z.shape[1]
    for j in range(starts.shape[0] - 1):
        for i in range(n):
            P[i] = 1.0
        for r in range(starts[j], starts[j + 1]):
            for i in range(n):
                e = E[r, i]
                t = 1.0 + e
                P[i] *= t
                E[r, i] = (1.0 if Z[r, i] >= 0.0 else e) / t
        v = values[j]
        for i in range(n):
            f[i] += v * math.log(P[i])
