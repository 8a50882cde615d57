r"""Fused, allocation-free loss value and gradient for batches of perturbations: PGD's hot path.

:meth:`theory.problem.Problem.value_and_grad` is the reference: clear, one
temporary per intermediate. :class:`LossGradKernel` computes the same
:math:`L(\delta)` and :math:`\partial L = L_f\,\partial f` for a batch
δ of shape (B, d) with

* one forward pass: :math:`Z = (x + \delta) W^\top` (a BLAS matrix product),
  one exponential :math:`e = \exp(-|Z|)` that yields both
  :math:`\sigma(Z) = \max(Z, 0) + \log(1 + e)` and
  :math:`\sigma'(Z) = [Z \ge 0 \;?\; 1 : e] / (1 + e)` (the stable forms of
  :mod:`theory.network`), and one product :math:`\sigma'(Z)\,(a \odot W)`
  (``a`` folded into W once, so no pass multiplies by ``a``);
* preallocated buffers and in-place ufuncs (``out=``): no array is allocated
  per call besides the returned ones (and none with ``out=`` given);
* the hidden units processed in blocks whose (B, units) buffers fit in the L2
  cache, so the elementwise passes between the two products run from cache
  (f and ∂f are sums over units, accumulated block by block);
* optionally, the rows spread over threads: numpy's ufuncs and BLAS release the
  GIL, so with BLAS pinned to one thread (as ``conftest.py`` does) ``threads``
  workers use ``threads`` cores.

Accuracy: ``log(1 + e)`` replaces ``log1p(e)`` (numpy's ``log`` is vectorised,
``log1p`` is not). For e ∈ (0, 1] the absolute error of ``log(1 + e)`` is at
most one ulp of 1 + e, i.e. :math:`2^{-52}`, so f = Σ a_r σ(z_r) is computed to
an absolute error of :math:`\|a\|_1 2^{-52}` beyond the reference's; the loss and
its gradient depend on f through L(y, f), whose inputs are O(1). The gradient
uses the exact branch formula, so it agrees with the reference to a few ulps
per unit (checked in ``checks/test_numerics_kernels.py`` with
:data:`theory.tolerances.IDENTITY_RTOL` and, where the gradient underflows,
:data:`theory.tolerances.SUBNORMAL_ATOL`).
"""

from __future__ import annotations

import math
import os
import weakref
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ._validation import check_last_dim, check_positive_int

__all__ = ["LossGradKernel", "BLOCK_BYTES", "MIN_WORK_PER_THREAD", "default_threads"]

#: Multiply-adds of one forward product (rows · m · d) below which a thread is
#: not worth its start-up (about 20 µs per step against ~1 ns per multiply-add).
MIN_WORK_PER_THREAD = 2 ** 20

#: Bytes of one (rows, m) float64 buffer per block: 256 KiB, half of a typical L2
#: cache per core, so the three block buffers and W's rows stream through L2.
BLOCK_BYTES = 256 * 1024


def default_threads() -> int:
    """Cores this process may use (``os.sched_getaffinity`` where available)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


#: Per network (weakly referenced), per block size: the unit blocks of W that the
#: kernel multiplies by. Building them copies W twice; PGD builds a kernel per call,
#: and at m = 10^5 the copies cost more than three steps, so they are kept while
#: the network lives.
_BLOCK_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _unit_blocks(net, block_units):
    """Contiguous unit blocks of a network: (W^T[:, block] (d, mb), (a W)[block] (mb, d), a[block] (mb,))."""
    per_net = _BLOCK_CACHE.setdefault(net, {})
    blocks = per_net.get(block_units)
    if blocks is None:
        cuts = list(range(0, net.m, block_units)) + [net.m]
        blocks = [(np.ascontiguousarray(net.W[lo:hi].T), np.ascontiguousarray(net.a[lo:hi, None] * net.W[lo:hi]),
                   np.ascontiguousarray(net.a[lo:hi])) for lo, hi in zip(cuts[:-1], cuts[1:])]
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
        Hidden units per block (default: as many as make a (rows, units) buffer of
        :data:`BLOCK_BYTES`, at least 16).

    Notes
    -----
    Not thread-safe itself (it owns its buffers); use one kernel per thread.
    """

    def __init__(self, problem, batch, *, threads=1, block_units=None):
        from theory.problem import Problem

        if not isinstance(problem, Problem):
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
            # Sized on each thread's rows: fewer, larger blocks when threads share the
            # batch, so that less time goes to Python between GIL-free numpy calls.
            block_units = max(16, BLOCK_BYTES // (8 * self.rows))
        self.block_units = min(check_positive_int("block_units", block_units), self.m)
        self._blocks = _unit_blocks(net, self.block_units)
        self._buffers = [self._allocate() for _ in range(self.threads)]
        self._pool = ThreadPoolExecutor(self.threads) if self.threads > 1 else None

    def _allocate(self):
        r, mb, d = self.rows, self.block_units, self.d
        return dict(X=np.empty((r, d)), Z=np.empty((r, mb)), E=np.empty((r, mb)), T=np.empty((r, mb)),
                    M=np.empty((r, mb), dtype=bool), G=np.empty((r, d)), F=np.empty(r))

    def close(self):
        """Stop the worker threads (also done when the kernel is garbage-collected)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def __del__(self):
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    def _rows(self, buf, delta, lo, hi, f_out, grad_out):
        """f for rows lo:hi into ``f_out`` and ∂f (not yet scaled by L_f) into ``grad_out``.

        Loops over blocks of hidden units, so that the (rows, units) buffers stay in
        cache between the two matrix products; x + δ stays in cache across blocks.
        """
        n = hi - lo
        X, G, F = buf["X"][:n], buf["G"][:n], buf["F"][:n]
        grad, f = grad_out[lo:hi], f_out[lo:hi]
        np.add(delta[lo:hi], self.x, out=X)
        grad[...] = 0.0
        f[...] = 0.0
        for WT, aW, a in self._blocks:
            mb = a.shape[0]
            Z, E, T, M = buf["Z"][:n, :mb], buf["E"][:n, :mb], buf["T"][:n, :mb], buf["M"][:n, :mb]
            np.matmul(X, WT, out=Z)                  # pre-activations (n, mb)
            np.greater_equal(Z, 0.0, out=M)
            np.copysign(Z, -1.0, out=E)              # -|z|
            np.exp(E, out=E)                         # e = exp(-|z|), in (0, 1]
            np.add(E, 1.0, out=T)                    # 1 + e
            np.maximum(Z, 0.0, out=Z)                # relu(z)
            np.matmul(Z, a, out=F)
            f += F                                   # relu part of f
            np.log(T, out=Z)                         # log(1 + e)
            np.matmul(Z, a, out=F)
            f += F
            np.maximum(E, M, out=E)                  # numerator of sigma': 1 where z >= 0, else e
            np.divide(E, T, out=E)                   # sigma'(z) = [z >= 0 ? 1 : e] / (1 + e)
            np.matmul(E, aW, out=G)                  # (n, mb) @ (mb, d)
            grad += G

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
        delta = check_last_dim("delta", np.asarray(delta, dtype=np.float64), self.d)
        if delta.ndim != 2 or delta.shape[0] > self.batch:
            raise ValueError(f"delta must have shape (B, {self.d}) with B <= batch={self.batch}, "
                             f"got {delta.shape}")
        rows = delta.shape[0]
        grad = np.empty((rows, self.d)) if grad_out is None else grad_out
        if grad.shape != (rows, self.d):
            raise ValueError(f"grad_out must have shape {(rows, self.d)}, got {grad.shape}")
        f = np.empty(rows)
        if self._pool is None:
            self._rows(self._buffers[0], delta, 0, rows, f, grad)
        else:
            cuts = np.linspace(0, rows, self.threads + 1).astype(int)
            list(self._pool.map(lambda k: self._rows(self._buffers[k], delta, cuts[k], cuts[k + 1], f, grad),
                                range(self.threads)))
        lf = self.loss.dvalue(self.y, f)
        grad *= lf[:, None]
        return self.loss.value(self.y, f), grad
