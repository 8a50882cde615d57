r"""Fused, allocation-free loss value and gradient for batches of perturbations: PGD's hot path.

:meth:`theory.problem.Problem.value_and_grad` is the reference: clear, one
temporary per intermediate. :class:`LossGradKernel` computes the same
:math:`L(\delta)` and :math:`\partial L = L_f\,\partial f` for a batch
δ of shape (B, d) with

* one forward pass: :math:`Z^\top = W (x + \delta)^\top` (a BLAS matrix
  product; units-major, so that a sum over units is a reduction along the
  leading axis, vectorised over the rows), one exponential :math:`e = \exp(-|Z|)`
  that yields both :math:`\sigma(Z) = \max(Z, 0) + \log(1 + e)` and
  :math:`\sigma'(Z) = [Z \ge 0 \;?\; 1 : e] / (1 + e)` (the stable forms of
  :mod:`theory.network`), and one product :math:`\sigma'(Z)^\top (a \odot W)`
  (``a`` folded into W once, so no pass multiplies by ``a``);
* no logarithm per unit: the hidden units are ordered by the sign of
  :math:`a_r`, and where a block's output weights are all equal (the paper's
  :math:`a_r = \pm\gamma`, Section 2) its part of f is
  :math:`\sum_r a_r \log(1 + e_r) = a \log \prod_r (1 + e_r)`: one product
  reduction and one ``log`` per row instead of a ``log`` per unit (``log`` costs
  about four times ``exp`` in numpy). Each factor is in (1, 2], so the product of
  at most :data:`PRODUCT_UNITS_MAX` factors is finite. Networks with other
  output weights take one ``log`` per unit;
* preallocated buffers and in-place ufuncs (``out=``): no array is allocated
  per call besides the returned ones (and none with ``out=`` given);
* the hidden units processed in blocks whose (units, B) buffers fit in the L2
  cache, so the elementwise passes between the two products run from cache
  (f and ∂f are sums over units, accumulated block by block);
* optionally, the rows spread over threads: numpy's ufuncs and BLAS release the
  GIL, so with BLAS pinned to one thread (as ``conftest.py`` does) ``threads``
  workers use ``threads`` cores;
* with the optional extra ``fast`` (numba), and unless ``THEORY_KERNEL=numpy``
  (:mod:`theory._kernel_choice`), the elementwise passes between the two products are
  two compiled passes around numpy's ``exp`` (:mod:`theory._compiled_blocks`) instead of
  about a dozen ufunc calls; the numpy passes stay the reference path, and
  ``checks/numerics/test_numerics_kernels.py`` holds both to the same bound.

Accuracy: the product of k factors carries a relative error of at most
:math:`k\,2^{-53}` (one rounding per multiplication), so its log is off by at most
:math:`k\,2^{-53}` in absolute terms, the same order as the k roundings of
``log1p`` per unit in the reference: f = Σ a_r σ(z_r) is computed to an absolute
error of order :math:`\|a\|_1 2^{-52}` beyond the reference's (the natural scale
of f is :math:`\sum_r |a_r|(\sigma_r + 1)`); the loss and its gradient depend on f
through L(y, f), whose inputs are O(1). The gradient uses the exact branch
formula, so it agrees with the reference to a few ulps per unit (checked in
``checks/numerics/test_numerics_kernels.py`` with :data:`theory.testing.tolerances.IDENTITY_RTOL`
and, where the gradient underflows, :data:`theory.testing.tolerances.SUBNORMAL_ATOL`).
"""

from __future__ import annotations

import math
import os
import weakref
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import numpy as np

from theory._kernel_choice import use_compiled
from theory._validation import as_float_array, check_last_dim, check_positive_int
__all__ = ["LossGradKernel", "BLOCK_BYTES", "MIN_WORK_PER_THREAD", "PRODUCT_UNITS_MAX", "MAX_RUNS",
           "default_threads"]

#: Multiply-adds of one forward product (rows · m · d) below which a thread is
#: not worth its start-up (about 20 µs per step against ~1 ns per multiply-add).
MIN_WORK_PER_THREAD = 2 ** 20

#: Bytes of one (units, rows) float64 buffer per block and thread: 256 KiB, an
#: eighth of this machine's 2 MiB L2 cache per core (half of a common 512 KiB one),
#: so the three block buffers and W's rows stream through L2.
BLOCK_BYTES = 256 * 1024

#: Most units per block, so that a block's product of factors 1 + e_r ∈ (1, 2] is
#: at most 2^1000 < 2^1024 (the float64 overflow threshold): it cannot overflow.
PRODUCT_UNITS_MAX = 1000


@lru_cache(maxsize=1)
def _compiled_passes():
    """The compiled passes (numba imported, compiled or loaded from its cache, once)."""
    from theory import _compiled_blocks as blocks

    return blocks.negative_abs_relu, blocks.sigmoid_products


def default_threads() -> int:
    """Cores this process may use (``os.sched_getaffinity`` where available)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux (macOS, Windows)
        return max(1, os.cpu_count() or 1)


#: Per network (weakly referenced), per block size: the unit blocks that the kernel
#: multiplies by. Building them copies W twice; PGD builds a kernel per call, and at
#: m = 10^5 the copies cost more than three steps, so they are kept while the
#: network lives.
_BLOCK_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


#: Most runs of equal output weights in a block for which the product form is used
#: (the paper's a_r = ±γ, ordered by sign, gives at most 2 per block); a block with
#: more takes one log per unit.
MAX_RUNS = 2


def _unit_blocks(net, block_units):
    """Unit blocks of a network, units ordered by the sign of ``a`` (non-negative first).

    Returns a list of ``(W_b (k, d), (a W)_b (k, d), a_b (k,), runs, all_runs)``: each block
    holds at most ``block_units`` consecutive units of that order; ``runs`` is
    ``(starts, values)`` where ``a_b`` is constant on the runs ``starts[i]:starts[i+1]``
    (at most :data:`MAX_RUNS` of them; then Σ a_r log(1 + e_r) = Σ_i values[i] log Π_run (1 + e_r)),
    else None; ``all_runs`` is ``(starts, values)`` for any number of runs, ``starts`` (int64)
    ending with k (the compiled passes of :mod:`theory._compiled_blocks` take a log per run
    whatever their number).
    """
    per_net = _BLOCK_CACHE.setdefault(net, {})
    blocks = per_net.get(block_units)
    if blocks is None:
        a = net.a
        order = np.concatenate([np.flatnonzero(a >= 0), np.flatnonzero(a < 0)])
        blocks = []
        for lo in range(0, net.m, block_units):
            idx = order[lo:lo + block_units]
            a_b, W_b = np.ascontiguousarray(a[idx]), np.ascontiguousarray(net.W[idx])
            starts = np.concatenate([[0], np.flatnonzero(a_b[1:] != a_b[:-1]) + 1]).astype(np.intp)
            values = np.ascontiguousarray(a_b[starts])
            runs = (starts, values) if starts.size <= MAX_RUNS else None
            all_runs = (np.append(starts, a_b.size).astype(np.int64), values)
            blocks.append((W_b, np.ascontiguousarray(a_b[:, None] * W_b), a_b, runs, all_runs))
        per_net[block_units] = blocks
    return blocks


class LossGradKernel:
    r"""L(δ) and ∂L(δ) for batches δ of shape (B, d), fused and in place.

    Parameters
    ----------
    problem : Problem
        The network, x, y and loss (:class:`theory.problem.Problem`).
    batch : int
        Largest number of rows B a call will see, >= 1 (buffers are sized for it).
    threads : int, optional
        Worker threads over row blocks (default 1: the calling thread). More
        than one pays off only with BLAS pinned to one thread.
    block_units : int, optional
        Hidden units per block (default: as many as make a (units, rows) buffer of
        :data:`BLOCK_BYTES`, at least 16); at most :data:`PRODUCT_UNITS_MAX`.

    Notes
    -----
    Not thread-safe itself (it owns its buffers); use one kernel per thread.
    """

    def __init__(self, problem, batch, *, threads=1, block_units=None):
        if not all(hasattr(problem, part) for part in ("net", "x", "y", "loss")):
            raise TypeError(f"problem must be a Problem, got {type(problem).__name__}")
        self.batch = check_positive_int("batch", batch)
        net = problem.net
        self.d, self.m = net.d, net.m
        # Threads only where each gets enough work (MIN_WORK_PER_THREAD).
        useful = max(1, (self.batch * self.m * self.d) // MIN_WORK_PER_THREAD)
        self.threads = min(check_positive_int("threads", threads), useful, self.batch)
        self.x = np.ascontiguousarray(problem.x, dtype=np.float64)
        self.y = problem.y
        self.loss = problem.loss
        self.rows = math.ceil(self.batch / self.threads)           # rows per thread
        if block_units is None:
            # Sized on each thread's rows, and BLOCK_BYTES per thread: fewer, larger
            # blocks when threads share the batch, so that each thread holds the GIL
            # (the Python between numpy calls) for a smaller share of its time.
            # Measured on 2 cores (L2 2 MiB per core): 2 threads 3-8 % faster with
            # 512 KiB than with 256 KiB blocks at d, m, B = 30, 3000, 128 and
            # 100, 1e4, 256; one thread 4-14 % slower with 512 KiB.
            block_units = max(16, BLOCK_BYTES * self.threads // (8 * self.rows))
        self.block_units = min(check_positive_int("block_units", block_units), self.m, PRODUCT_UNITS_MAX)
        self._blocks = _unit_blocks(net, self.block_units)
        # The elementwise passes compiled (extra ``fast``) unless THEORY_KERNEL says numpy.
        self.compiled = use_compiled()
        self._passes = _compiled_passes() if self.compiled else None
        self._buffers = [self._allocate() for _ in range(self.threads)]
        self._pool = ThreadPoolExecutor(self.threads) if self.threads > 1 else None

    def _allocate(self):
        # The (units, rows) buffers are flat, so that a block with fewer units or rows
        # is still a contiguous (k, n) view (BLAS writes into it without a copy).
        r, mb, d = self.rows, self.block_units, self.d
        return dict(X=np.empty((r, d)), Z=np.empty(mb * r), E=np.empty(mb * r), T=np.empty(mb * r),
                    M=np.empty(mb * r, dtype=bool), G=np.empty((r, d)), F=np.empty(r),
                    P=np.empty(MAX_RUNS * r))

    def close(self):
        """Stop the worker threads (also done when the kernel is garbage-collected)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    def _rows(self, buf, delta, lo, hi, f_out, grad_out):
        """f for rows lo:hi into ``f_out`` and ∂f (not yet scaled by L_f) into ``grad_out``.

        Loops over blocks of hidden units, so that the (units, rows) buffers stay in
        cache between the two matrix products; x + δ stays in cache across blocks.
        """
        n = hi - lo
        X, G, F = buf["X"][:n], buf["G"][:n], buf["F"][:n]
        f = f_out[lo:hi]
        grad = None if grad_out is None else grad_out[lo:hi]   # None: f only (no backward product)
        np.add(delta[lo:hi], self.x, out=X)
        XT = X.T                                     # (d, n) view: BLAS reads it transposed
        if grad is not None:
            grad[...] = 0.0
        f[...] = 0.0
        if self._passes is not None:
            self._compiled_rows(buf, XT, n, f, grad)
            return
        for W_b, aW_b, a_b, runs, _ in self._blocks:
            size = a_b.shape[0] * n
            Z, E, T, M = (buf[k][:size].reshape(-1, n) for k in "ZETM")
            np.matmul(W_b, XT, out=Z)                # pre-activations (k, n)
            np.greater_equal(Z, 0.0, out=M)
            np.abs(Z, out=E)
            np.negative(E, out=E)                    # -|z|
            np.exp(E, out=E)                         # e = exp(-|z|), in (0, 1]
            np.add(E, 1.0, out=T)                    # 1 + e, in (1, 2]
            if runs is not None:                     # Σ a log(1 + e) = Σ_runs a log Π (1 + e)
                starts, values = runs
                P = buf["P"][:starts.size * n].reshape(-1, n)
                np.multiply.reduceat(T, starts, axis=0, out=P)
                np.log(P, out=P)
                np.matmul(values, P, out=F)
                f += F
            np.maximum(E, M, out=E)                  # numerator of sigma': 1 where z >= 0, else e
            np.divide(E, T, out=E)                   # sigma'(z) = [z >= 0 ? 1 : e] / (1 + e)
            if runs is None:                         # output weights that differ: a log per unit
                np.log(T, out=T)
                np.matmul(a_b, T, out=F)
                f += F
            np.maximum(Z, 0.0, out=Z)                # relu(z)
            np.matmul(a_b, Z, out=F)
            f += F                                   # relu part of f
            if grad is not None:
                np.matmul(E.T, aW_b, out=G)          # (n, k) @ (k, d)
                grad += G

    def _compiled_rows(self, buf, XT, n, f, grad):
        """:meth:`_rows`'s loop over unit blocks with the compiled passes of :mod:`theory._compiled_blocks`."""
        negative_abs_relu, sigmoid_products = self._passes
        # f accumulates in this thread's own buffer F: the passes update every row once per
        # unit, and rows of two threads may share a cache line of ``f`` (false sharing
        # made two threads slower than one, measured at d, m, B = 30, 3000, 128).
        G, P, F = buf["G"][:n], buf["P"][:n], buf["F"][:n]
        F[...] = 0.0
        for W_b, aW_b, a_b, _, (starts, values) in self._blocks:
            size = a_b.shape[0] * n
            Z, E = (buf[k][:size].reshape(-1, n) for k in "ZE")
            np.matmul(W_b, XT, out=Z)                # pre-activations (k, n)
            negative_abs_relu(Z, E, a_b, F)          # E = -|z|; relu part of f
            np.exp(E, out=E)                         # e = exp(-|z|), in (0, 1]
            sigmoid_products(Z, E, starts, values, P, F)  # log part of f; E = sigma'(z)
            if grad is not None:
                np.matmul(E.T, aW_b, out=G)          # (n, k) @ (k, d)
                grad += G
        f += F

    def __call__(self, delta, *, grad_out=None):
        """Return ``(loss, grad)`` for ``delta`` of shape (B, d), B <= ``batch``.

        Parameters
        ----------
        delta : ndarray, shape (B, d)
            Float64, C-contiguous.
        grad_out : ndarray, shape (B, d), optional
            Where to write the gradient (may not alias ``delta``).

        Returns
        -------
        loss : ndarray, shape (B,)
        grad : ndarray, shape (B, d)
            ``grad_out`` when given.
        """
        delta = check_last_dim("delta", as_float_array("delta", delta), self.d)
        if delta.ndim != 2 or delta.shape[0] > self.batch:
            raise ValueError(f"delta must have shape (B, {self.d}) with B <= batch={self.batch}, "
                             f"got {delta.shape}")
        rows = delta.shape[0]
        grad = np.empty((rows, self.d)) if grad_out is None else grad_out
        if not isinstance(grad, np.ndarray):
            raise TypeError(f"grad_out must be a float64 ndarray of shape {(rows, self.d)}, "
                            f"got {type(grad).__name__}")
        if grad.shape != (rows, self.d) or grad.dtype != np.float64:
            raise ValueError(f"grad_out must be a float64 array of shape {(rows, self.d)}, "
                             f"got {grad.dtype} of shape {grad.shape}")
        return self.value_and_grad_into(np.ascontiguousarray(delta), grad)

    def _f_into(self, delta, f, grad):
        """f at the rows of ``delta`` into ``f``, and ∂f into ``grad`` unless it is None."""
        rows = delta.shape[0]
        if self._pool is None:
            self._rows(self._buffers[0], delta, 0, rows, f, grad)
        else:
            cuts = np.linspace(0, rows, self.threads + 1).astype(int)
            list(self._pool.map(lambda k: self._rows(self._buffers[k], delta, cuts[k], cuts[k + 1], f, grad),
                                range(self.threads)))

    def value_and_grad_into(self, delta, grad):
        """:meth:`__call__` without the argument checks, for callers that own the arrays (PGD's loops).

        ``delta`` : float64, C-contiguous, shape (B, d) with B <= ``batch``;
        ``grad`` : float64, shape (B, d), not aliasing ``delta``. Returns ``(loss, grad)``.
        """
        f = np.empty(delta.shape[0])
        self._f_into(delta, f, grad)
        loss, lf = self.loss.value_and_dvalue_unchecked(self.y, f)
        grad *= lf[:, None]
        return loss, grad

    def values_into(self, delta):
        """L at the rows of ``delta`` (as :meth:`value_and_grad_into`, bit for bit) without the gradient.

        The forward half of a step: no backward matrix product (PGD's loss at its last iterate).
        """
        f = np.empty(delta.shape[0])
        self._f_into(delta, f, None)
        return self.loss.value_and_dvalue_unchecked(self.y, f)[0]
