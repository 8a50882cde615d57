r"""A compiled step and compiled PGD loops for few starts (the optional extra ``fast``: numba).

With few rows, a step of the fused numpy kernel (:mod:`theory._kernel`) is mostly the
fixed cost of some twenty numpy calls, not arithmetic. :class:`CompiledStep` computes the
same :math:`L(\delta)` and :math:`\partial L = L_f\,\partial f` in one compiled pass per
row: for each hidden unit r, :math:`z_r = w_r^\top(x + \delta)`, one exponential
:math:`e_r = \exp(-|z_r|)`, :math:`\sigma(z_r) = \max(z_r, 0) + \log(1 + e_r)` and
:math:`\sigma'(z_r) = [z_r \ge 0 \;?\; 1 : e_r]/(1 + e_r)` (the stable forms of
:mod:`theory.network`), accumulated into f and :math:`\partial f = \sum_r a_r\sigma'(z_r) w_r`.
As in the numpy kernel the units are ordered by the sign of :math:`a_r` and the logarithms
of a run of equal output weights are taken once, of the product of at most
:data:`theory._kernel.PRODUCT_UNITS_MAX` factors :math:`1 + e_r \in (1, 2]`.
:meth:`CompiledStep.run_pgd` and :meth:`CompiledStep.run_until` run whole PGD loops
(:func:`theory.pgd.pgd`, and :func:`theory.pgd.pgd_until` with
:func:`theory.pgd.output_criterion`) without returning to Python between steps.

Accuracy: the same operations as the numpy kernel on each unit, the sums over units and
coordinates taken in another order. Any order of a sum of n terms is within
:math:`(n - 1)u\sum|\text{terms}|` of the exact sum, so both kernels meet the bound of
``checks/numerics/test_numerics_kernels.py`` (:data:`theory.testing.tolerances.IDENTITY_RTOL`
· (1 + m + d) of the natural scale of the terms), where the comparison with
:meth:`theory.problem.Problem.value_and_grad` is made for both.

Hostile numbers: the norm is :func:`theory.geometry.vector_norm`'s (the plain
:math:`\sqrt{\sum\delta_i^2}` where it can neither overflow nor lose digits to underflow, else
scaled by the largest entry first) and the projection :func:`theory.geometry.project_ball`'s
(ε · δ/‖δ‖ where the scale ε/‖δ‖ or the norm is subnormal), coordinate by coordinate.

Selection: :func:`compiled_step` returns a :class:`CompiledStep` when numba imports, the
environment variable :data:`KERNEL_ENV` is not ``numpy``, one thread is asked for, the loss
is exactly the quadratic or the cross-entropy loss, and the step is small
(rows · m · d <= :data:`COMPILED_MAX_WORK`); otherwise None, and the numpy kernel serves.
"""

from __future__ import annotations

import numpy as np

from theory._kernel import PRODUCT_UNITS_MAX
from theory._kernel_choice import AVAILABLE, KERNEL_ENV, KERNELS, kernel_choice
from theory.losses import CrossEntropyLoss, QuadraticLoss

from functools import lru_cache

__all__ = ["AVAILABLE", "KERNEL_ENV", "KERNELS", "COMPILED_MAX_WORK", "kernel_choice", "compiled_step",
           "CompiledStep"]

#: Largest rows · m · d of a step served by the compiled loops. Above it the fused kernel
#: (two BLAS products around its compiled block passes) is faster than the compiled loops,
#: which keep strict summation order and so use no BLAS. Measured by
#: ``python benchmarks/run.py --kernels`` (BENCHMARKS.md, section 5): the loops win at
#: 9e4 (1.7x), the fused kernel at 2e5 (2.5x); 2^17 lies between.
COMPILED_MAX_WORK = 2 ** 17

_LOSS_CODES = {QuadraticLoss: 0, CrossEntropyLoss: 1}


def compiled_step(problem, rows, threads=1, *, any_size=False):
    """A :class:`CompiledStep` for ``problem`` and batches of up to ``rows`` rows, or None where it does not apply.

    ``any_size``: also above :data:`COMPILED_MAX_WORK` and whatever :data:`KERNEL_ENV` says
    (the kernel checks compare it at every size).
    """
    if not AVAILABLE or threads != 1 or (not any_size and kernel_choice() == "numpy"):
        return None
    code = _LOSS_CODES.get(type(problem.loss))
    if code is None or (not any_size and rows * problem.net.m * problem.net.d > COMPILED_MAX_WORK):
        return None
    return CompiledStep(problem, rows, code)


def _ordered_runs(a):
    """Units ordered by the sign of ``a`` (non-negative first) and the runs of equal weights in that order.

    Returns ``(order, starts)``: ``starts`` of shape (runs + 1,) with the last entry m; a run
    is cut after :data:`PRODUCT_UNITS_MAX` units, so its product of factors in (1, 2] is finite.
    """
    order = np.concatenate([np.flatnonzero(a >= 0), np.flatnonzero(a < 0)])
    b = a[order]
    cuts = set(np.flatnonzero(b[1:] != b[:-1]) + 1)
    starts, lo = [0], 0
    for hi in sorted(cuts | {b.size}):
        while hi - lo > PRODUCT_UNITS_MAX:
            lo += PRODUCT_UNITS_MAX
            starts.append(lo)
        starts.append(hi)
        lo = hi
    return order, np.asarray(starts, dtype=np.int64)


def _plain(values):
    """float64, C-contiguous and writeable: the one array type the loops are compiled (and cached) for."""
    return np.require(values, dtype=np.float64, requirements=("C", "W"))


class CompiledStep:
    r"""L(δ) and ∂L(δ) for batches of few rows, compiled; the step evaluator of :meth:`Problem.step_evaluator`.

    Parameters
    ----------
    problem : Problem
        Quadratic or cross-entropy loss.
    rows : int
        Largest number of rows B a call will see.
    loss_code : int
        0 for the quadratic loss, 1 for cross-entropy.
    """

    threads = 1

    def __init__(self, problem, rows, loss_code):
        net = problem.net
        order, self._starts = _ordered_runs(net.a)
        self._W = np.ascontiguousarray(net.W[order])
        self._WT = np.ascontiguousarray(self._W.T)
        self._a = np.ascontiguousarray(net.a[order])
        self._x = np.ascontiguousarray(problem.x, dtype=np.float64)
        self._y = float(problem.y)
        self._code = int(loss_code)
        self.batch = int(rows)
        self.d, self.m = net.d, net.m

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def close(self):
        """Nothing to release (for the interface of :class:`theory._kernel.LossGradKernel`)."""

    def __call__(self, delta):
        """``(loss, grad)`` for ``delta`` of shape (B, d), B <= ``batch`` (as :class:`theory._kernel.LossGradKernel`)."""
        delta = np.require(delta, dtype=np.float64, requirements=("C",))
        return self.value_and_grad_into(delta, np.empty(delta.shape))

    def value_and_grad_into(self, delta, grad):
        """L and ∂L of the rows of ``delta`` (float64, C-contiguous, (B, d)), the gradient written into ``grad``."""
        loss = np.empty(delta.shape[0])
        _loops()[0](self._W, self._WT, self._a, self._starts, self._x, self._y, self._code, delta, loss, grad)
        return loss, grad

    def values_into(self, delta):
        """L at the rows of ``delta`` (the loss of :meth:`value_and_grad_into`)."""
        return self.value_and_grad_into(delta, np.empty(delta.shape))[0]

    def advance(self, flat, etas, eps):
        """One PGD step in place on the rows of ``flat`` (B, d), row i with step ``etas[i]``; returns L at the old rows.

        The same compiled step as :meth:`run_pgd`, so that a loop of :meth:`advance` calls
        and :meth:`run_pgd` agree bit for bit.
        """
        loss = np.empty(flat.shape[0])
        _loops()[3](self._W, self._WT, self._a, self._starts, self._x, self._y, self._code, _plain(etas), float(eps), flat, loss)
        return loss

    def run_pgd(self, flat, losses, etas, eps):
        """PGD in place: ``flat`` (steps + 1, B, d) from ``flat[0]``, ``losses[t]`` = L(δ_t) for t < steps."""
        _loops()[1](self._W, self._WT, self._a, self._starts, self._x, self._y, self._code, _plain(etas), float(eps),
                    flat, losses)

    def run_until(self, flat, etas, thresholds, eps, rtol, max_steps, times, hit_at):
        """:func:`theory.pgd.pgd_until` with the output criterion, in place on ``flat`` (B, d).

        ``etas`` and ``thresholds`` of shape (B,); ``times`` (B,) int64 filled with −1;
        ``hit_at`` (B, d): the first hits are written into ``times`` and ``hit_at``.
        """
        _loops()[2](self._W, self._WT, self._a, self._starts, self._x, self._y, self._code, _plain(etas), _plain(thresholds),
                    float(eps), float(rtol), int(max_steps), flat, times, hit_at)


@lru_cache(maxsize=1)
def _loops():
    """The compiled functions: numba imported, the loops compiled or loaded from its cache, once."""
    from theory import _compiled_loops as loops

    return loops.value_and_grad_rows, loops.pgd_loop, loops.until_loop, loops.advance
