r"""Projected gradient descent on the perturbation (section 3) and its step-size schedules.

The iteration (section 3, minimisation form):

.. math::  \delta_{t+1} = \mathcal P_{\mathbb B(0,\varepsilon)}\big[\delta_t - \eta_t\,\partial L(\delta_t)\big],

with a constant step :math:`\eta_t = \eta` (Theorem 3.1) or a schedule
:math:`\eta_s` (Corollary 3.1; Remark 3's :math:`\eta_s = 2/(\beta(s + z))` is
:func:`remark3_schedule`). Many starts on one network run together as one batch:
``delta0`` has shape ``(*batch, d)`` and every step is one forward pass of shape
``(prod(batch), m)`` through matrix products.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from theory._floats import NORMAL_MIN, UNIT_ROUNDOFF
from theory._validation import (
    as_float_array, as_points, check_positive_array, check_positive_float, check_positive_int, 
)
from theory.geometry import SPHERE_RTOL, on_sphere, project_ball_inplace, project_tangent, vector_norm
from theory._compiled import CompiledStep
from theory._kernel import LossGradKernel
from theory.problem import check_problem

_NORMAL_MIN = NORMAL_MIN

__all__ = ["Trajectory", "pgd", "constant_schedule", "remark3_schedule", "schedule_steps",
           "EQUATION_3_RTOL", "equation_3_holds", "step_product",
           "HittingResult", "pgd_until", "output_criterion", "OutputCriterion", "fused_kernel"]


@dataclass(frozen=True)
class Trajectory:
    """A batch of PGD trajectories.

    Attributes
    ----------
    deltas : ndarray, shape (steps + 1, *batch, d)
        ``deltas[t]`` is δ_t; ``deltas[0]`` is the start.
    losses : ndarray, shape (steps + 1, *batch)
        L(δ_t) along the trajectory.
    etas : ndarray, shape (steps,)
        The step size used for step t -> t + 1.
    """

    deltas: np.ndarray
    losses: np.ndarray
    etas: np.ndarray

    @property
    def steps(self) -> int:
        return self.etas.shape[0]

    @property
    def final(self) -> np.ndarray:
        """The last iterate, shape (*batch, d)."""
        return self.deltas[-1]


def constant_schedule(eta) -> Callable[[np.ndarray], np.ndarray]:
    """The constant schedule η_s = η (Theorem 3.1)."""
    eta = check_positive_float("eta", eta)
    return lambda s: np.full(np.shape(s), eta)


def remark3_schedule(beta, z) -> Callable[[np.ndarray], np.ndarray]:
    r"""Remark 3's shrinking schedule :math:`\eta_s = 2/(\beta s + \beta z)`.

    Parameters
    ----------
    beta : float
        The constant β of Corollary 3.1, > 0.
    z : float
        The offset z, > 0 (the paper asks for a large enough integer).

    Returns
    -------
    callable
        Maps an integer array s >= 0 to η_s.
    """
    beta = check_positive_float("beta", beta)
    z = check_positive_float("z", z)

    def schedule(s):
        offset = np.asarray(s, dtype=np.float64) + z
        with np.errstate(over="ignore"):
            product = beta * offset
        step = 2.0 / product  # inf, with numpy's overflow warning, where the exact step is beyond the float range
        beyond = ~np.isfinite(product)
        if np.any(beyond):
            # Where β(s + z) overflows the step is still representable (down to the subnormals):
            # (2/β)/(s + z). It cannot overflow: the product exceeds the float range only if
            # β > 1 (s + z is a finite float), so 2/β < 2.
            step = np.where(beyond, (2.0 / beta) / offset, step)
        return step

    return schedule


def schedule_steps(schedule, steps) -> np.ndarray:
    """Evaluate a schedule (callable or sequence) on s = 0..steps-1 and validate it.

    Returns
    -------
    ndarray, shape (steps,)
        Finite, positive step sizes.
    """
    steps = check_positive_int("steps", steps, minimum=0)
    if callable(schedule):
        etas = schedule(np.arange(steps))
        etas = np.broadcast_to(as_float_array("schedule", etas), (steps,)).astype(np.float64)
    else:
        etas = as_float_array("schedule", schedule)
        if etas.ndim != 1 or etas.shape[0] < steps:
            raise ValueError(f"schedule must be callable or a 1-D sequence of at least steps={steps} "
                             f"step sizes, got shape {etas.shape}")
        etas = etas[:steps].copy()
    if np.any(etas <= 0.0):
        raise ValueError(f"schedule must give step sizes > 0, got min {etas.min()}")
    return etas


#: Relative slack of :func:`equation_3_holds`: the computed η_s(1 − βη_s/2) and
#: η_{s+1} each carry at most three roundings (βη_s, the halving is exact, the
#: subtraction, the product; the schedule's own value is taken as given), so a
#: comparison within 8u of equality is decided in favour of the condition.
EQUATION_3_RTOL = 8 * UNIT_ROUNDOFF


def equation_3_holds(schedule, beta, steps) -> bool:
    r"""Whether a schedule satisfies Corollary 3.1's Eq. (3) on s, k with s + k + 1 < ``steps``.

    Eq. (3): :math:`\eta_s\prod_{i=0}^{k}(1 - \beta\eta_{s+i}/2) \le \eta_{s+k+1}` for all s, k.

    Parameters
    ----------
    schedule : callable or sequence
        As for :func:`pgd`; evaluated on s = 0 .. steps − 1, with βη_s < 2.
    beta : float
        Corollary 3.1's β, > 0.
    steps : int
        Length of the horizon, >= 1.

    Returns
    -------
    bool

    Notes
    -----
    Eq. (3) for every k is equivalent to its case k = 0,
    :math:`\eta_s(1 - \beta\eta_s/2) \le \eta_{s+1}` for all s. With
    :math:`c_j = \sum_{i<j}\log(1 - \beta\eta_i/2)` and :math:`a_j = \log\eta_j - c_j`,
    Eq. (3) at (s, k) reads :math:`a_s \le a_{s+k+1}`: it holds for all pairs
    s < j exactly when a is non-decreasing, i.e. for all consecutive pairs. The
    check is therefore exact in O(steps), up to :data:`EQUATION_3_RTOL`.
    """
    beta = check_positive_float("beta", beta)
    etas = schedule_steps(schedule, check_positive_int("steps", steps))
    if np.any(beta * etas >= 2.0):
        raise ValueError("schedule must give beta * eta_s < 2 (each factor 1 - beta eta_s / 2 positive)")
    lhs = etas[:-1] * (1.0 - 0.5 * beta * etas[:-1])
    return bool(np.all(lhs <= etas[1:] * (1.0 + EQUATION_3_RTOL)))


def step_product(schedule, beta, steps) -> np.ndarray:
    r"""The products :math:`P_k = \prod_{i<k}(1 - \beta\eta_i/2)`, k = 0 .. ``steps``, shape (steps + 1,).

    Corollary 3.1's first statement asks :math:`P_k \to 0` (with γ for β): the
    schedule's steps must not be summable. Computed as exp of a cumulative sum
    of log1p, which cannot underflow before the true product does.
    """
    beta = check_positive_float("beta", beta)
    etas = schedule_steps(schedule, check_positive_int("steps", steps, minimum=0))
    if np.any(beta * etas >= 2.0):
        raise ValueError("schedule must give beta * eta_s < 2 (each factor 1 - beta eta_s / 2 positive)")
    return np.exp(np.concatenate([[0.0], np.cumsum(np.log1p(-0.5 * beta * etas))]))


def _starts(problem, delta0):
    """Validate starts of shape (*batch, d) inside the closed ball (up to SPHERE_RTOL); returns a copy."""
    delta0 = as_points("delta0", delta0, problem.d)
    norms = vector_norm(delta0)
    if np.any(norms > problem.eps * (1.0 + SPHERE_RTOL)):
        raise ValueError(f"delta0 must lie in the ball of radius eps={problem.eps:g}; "
                         f"largest norm is {norms.max():g}")
    return delta0.copy()


def fused_kernel(problem, rows, threads=1):
    """The fused step that ``problem`` steps with, or None.

    A :class:`theory._kernel.LossGradKernel`, or for few rows with the optional extra
    ``fast`` a :class:`theory._compiled.CompiledStep`. None when ``problem`` supplies another step evaluator (:meth:`Problem.step_evaluator`,
    e.g. :class:`theory.problem.ReferenceStep`) or ``rows`` is 0.
    """
    step = problem.step_evaluator(rows, threads=threads)
    return step if isinstance(step, (LossGradKernel, CompiledStep)) else None


def pgd(problem, delta0, *, eta=None, schedule=None, steps, threads=1) -> Trajectory:
    r"""Run projected gradient descent from a batch of starts (section 3).

    Parameters
    ----------
    problem : Problem
    delta0 : array_like, shape (*batch, d)
        Starts, inside the closed ball (up to :data:`theory.geometry.SPHERE_RTOL`);
        the paper draws them with :func:`theory.geometry.uniform_ball`.
    eta : float, optional
        Constant step size > 0.
    schedule : callable or sequence, optional
        Step sizes η_s for s = 0, 1, ... (e.g. :func:`remark3_schedule`). Give
        exactly one of ``eta`` and ``schedule``.
    steps : int
        Number of iterations, >= 0.
    threads : int
        Threads for the fused step (default 1; see :mod:`theory._kernel`).

    Returns
    -------
    Trajectory
        ``deltas`` of shape (steps + 1, *batch, d) and ``losses`` of shape
        (steps + 1, *batch).

    Notes
    -----
    Each step is one fused forward and backward pass over the whole batch
    (:class:`theory._kernel.LossGradKernel`: one matrix product each way, one
    exponential, no temporaries), then an in-place projection. A problem that
    overrides ``value_and_grad`` runs through its override instead. Both agree
    with the step ``P_B(δ − η ∂L(δ))`` of :meth:`Problem.value_and_grad` to
    rounding (``checks/numerics/test_numerics_kernels.py``).
    """
    check_problem(problem)
    steps = check_positive_int("steps", steps, minimum=0)
    threads = check_positive_int("threads", threads)
    if (eta is None) == (schedule is None):
        raise ValueError("give exactly one of eta and schedule")
    etas = schedule_steps(constant_schedule(eta) if schedule is None else schedule, steps)
    delta0 = _starts(problem, delta0)
    batch = delta0.shape[:-1]
    deltas = np.empty((steps + 1,) + delta0.shape)
    losses = np.empty((steps + 1,) + batch)
    deltas[0] = delta0
    rows = int(np.prod(batch, dtype=np.int64))
    flat = deltas.reshape(steps + 1, rows, problem.d)
    flat_losses = losses.reshape(steps + 1, rows)
    grad = np.empty((rows, problem.d))
    with problem.step_evaluator(rows if steps else 0, threads=threads) as step:
        if isinstance(step, CompiledStep):  # the whole loop compiled
            step.run_pgd(flat, flat_losses, etas, problem.eps)
            steps = 0
        for t in range(steps):
            flat_losses[t], _ = step.value_and_grad_into(flat[t], grad)
            np.multiply(grad, -etas[t], out=grad)
            np.add(flat[t], grad, out=flat[t + 1])
            project_ball_inplace(flat[t + 1], problem.eps)
        if rows:
            # L at the last iterate by the same evaluator as the others (the reference forward pass
            # allocates (rows, m) temporaries: at m = 10^5 it cost more than two fused steps).
            flat_losses[-1] = step.values_into(flat[-1])
    return Trajectory(deltas, losses, etas)


@dataclass(frozen=True)
class HittingResult:
    """First times at which PGD iterates satisfy a criterion.

    Attributes
    ----------
    times : ndarray of int, shape (*batch,)
        First t with ``criterion(δ_t)`` true; −1 where it never held within the budget.
    deltas : ndarray, shape (*batch, d)
        δ at that time (the last iterate where it never held).
    """

    times: np.ndarray
    deltas: np.ndarray

    @property
    def reached(self) -> np.ndarray:
        """Boolean mask, shape (*batch,): the criterion held within the budget."""
        return self.times >= 0


def pgd_until(problem, delta0, eta, criterion, *, max_steps) -> HittingResult:
    r"""Run PGD with per-trajectory constant steps until each iterate meets ``criterion``.

    The iteration of :func:`pgd`, with ``eta`` broadcast against the batch (one
    step size per trajectory), stopping each trajectory at its first hit.

    Parameters
    ----------
    problem : Problem
    delta0 : array_like, shape (*batch, d)
        Starts in the ball.
    eta : float or array_like, shape broadcastable to (*batch,)
        Step sizes, > 0.
    criterion : callable
        ``criterion(deltas) -> bool array of shape (*batch,)``; evaluated on δ_0, δ_1, ...
    max_steps : int
        Budget, >= 0.

    Returns
    -------
    HittingResult
    """
    check_problem(problem)
    max_steps = check_positive_int("max_steps", max_steps, minimum=0)
    delta = _starts(problem, delta0)
    eta = check_positive_array("eta", eta)
    batch = delta.shape[:-1]
    eta = np.broadcast_to(eta, batch)[..., None]
    times = np.full(batch, -1, dtype=int)
    hit_at = delta.copy()
    rows = int(np.prod(batch, dtype=np.int64))
    flat_eta = np.ascontiguousarray(np.broadcast_to(eta, batch + (1,)).reshape(rows, 1))
    grad = np.empty((rows, problem.d))
    flat = delta.reshape(rows, problem.d)  # a view: the steps move delta in place
    with problem.step_evaluator(rows if max_steps else 0) as step:
        compiled = isinstance(step, CompiledStep)
        if (compiled and isinstance(criterion, OutputCriterion) and criterion.problem is problem
                and _run_until_compiled(step, criterion, delta, flat, flat_eta, max_steps, times, hit_at)):
            max_steps = -1  # done: no step left for the loop below
        for t in range(max_steps + 1):
            active = times < 0
            hit = active & np.asarray(criterion(delta), dtype=bool)
            times[hit] = t
            hit_at[hit] = delta[hit]
            if t == max_steps or not np.any(times < 0):
                break
            if compiled:  # the step of the compiled pgd, bit for bit
                step.advance(flat, flat_eta[:, 0], problem.eps)
                continue
            step.value_and_grad_into(flat, grad)
            np.multiply(grad, flat_eta, out=grad)
            np.subtract(flat, grad, out=flat)
            project_ball_inplace(flat, problem.eps)
    never = times < 0
    hit_at[never] = delta[never]
    return HittingResult(times, hit_at)


def _run_until_compiled(step, criterion, delta, flat, flat_eta, max_steps, times, hit_at):
    """:func:`pgd_until`'s loop with the output criterion in the compiled step; True when it ran, False otherwise."""
    rows = flat.shape[0]
    batch = delta.shape[:-1]
    try:
        thresholds = np.broadcast_to(criterion.threshold, batch).reshape(rows)
    except ValueError:
        return False  # the criterion's step sizes do not match this batch: the numpy loop says so
    work = flat.copy()
    flat_times = np.full(rows, -1, dtype=np.int64)
    flat_hit = np.empty_like(work)
    step.run_until(work, flat_eta[:, 0], thresholds, criterion.problem.eps, criterion.rtol, max_steps,
                   flat_times, flat_hit)
    flat[...] = work
    times[...] = flat_times.reshape(batch)
    hit = flat_times >= 0
    hit_at.reshape(rows, -1)[hit] = flat_hit[hit]
    return True


class OutputCriterion:
    r"""Corollary 3.1's output rule, :math:`\delta` on the sphere and :math:`\|\mathcal P_{\mathcal T}\partial f(\delta)\| <` ``threshold``.

    Made by :func:`output_criterion`; called on δ of shape (*batch, d), returns a bool array
    (*batch,). :func:`pgd_until` recognises it and runs it inside the compiled loop where
    that is available (:mod:`theory._compiled`).
    """

    def __init__(self, problem, threshold, rtol=SPHERE_RTOL):
        self.problem, self.threshold, self.rtol = problem, threshold, rtol

    def __call__(self, delta):
        problem = self.problem
        met = on_sphere(delta, problem.eps, rtol=self.rtol)  # the tangent space exists there (δ ≠ 0)
        if np.any(met):
            tangent = project_tangent(delta[met], problem.net.grad(problem.x + delta[met]))
            met[met] = vector_norm(tangent) < np.broadcast_to(self.threshold, met.shape)[met]
        return met


def output_criterion(problem, eta, power=0.5):
    r"""Corollary 3.1's output rule as a ``criterion`` for :func:`pgd_until`.

    True where δ is on the sphere (:func:`theory.geometry.on_sphere`) and the
    tangent component of ∂f is small: :math:`\|\mathcal P_{\mathcal T}\partial f(\delta)\| < \eta^{p}`
    with p = ``power`` (the paper's 1/2).

    Parameters
    ----------
    problem : Problem
    eta : float or array_like, shape broadcastable to the batch
        The step size(s) η > 0.
    power : float
        The exponent p, > 0.

    Returns
    -------
    OutputCriterion
        ``criterion(deltas)`` with ``deltas`` of shape (*batch, d) -> bool array (*batch,).
    """
    check_problem(problem)
    return OutputCriterion(problem, check_positive_array("eta", eta) ** check_positive_float("power", power))
