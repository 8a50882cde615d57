"""Numerical hostility: every computation is correct or a clear error over the hostile ranges.

The hostile ranges: input scales from 1e-6 to 1e3, ε from 1e-8 to 1e2, widths from 1
to 1e5, d from 1 to 1e3 and float32 inputs: no overflow, no NaN, no silent wrong
answer. The ranges are :data:`theory.testing.strategies.HOSTILE` (with the weight budget
m·d <= 2e6 that keeps a draw cheap), drawn by
:func:`theory.testing.strategies.hostile_problems`. (Bad arguments, which must raise,
are checked in ``checks/numerics/test_bad_input.py``.)

* L and ∂L, by the reference path (``Problem.value_and_grad``) and by PGD's fused
  kernel, agree with an independent evaluation in extended precision
  (``np.longdouble``, 64-bit mantissa on x86-64; where it is plain double the
  comparison is still between two independent evaluations) within the rounding
  budget :func:`checks.support.allowed_errors`: finite and right, not just finite.
* PGD at any step size stays finite and in the ball, and its recorded losses
  are L(δ_t).
* The constrained quantities on the sphere are finite: Γ is tangent to the
  sphere and the descent cosine lies in [−1, 1], or, where ∂L underflows to 0
  (σ' = e^{-|z|} with |z| ~ 1e3: found by the thorough profile at d = m = 1,
  |x| = 1e3), ``descent_cosine`` raises a clear ValueError: the cosine of a
  vector that is 0 in float64 is undefined.
* float32 input (δ, x, W, a) is promoted: the results are those of the same
  values in float64, bit for bit.

Negative controls (each must find a counterexample): softplus written as
log(1 + e^z) overflows at large scales; a computation carried in float32 is not
the float64 result; PGD without its projection leaves the ball.
"""

import numpy as np
import pytest
from hypothesis import event, given, note, target
from hypothesis import strategies as st

from ..support import allowed_errors, counterexample, needs_compiled, using_kernel
from theory.constrained import descent_cosine, lagrange_multiplier, tangent_gradient
from theory.geometry import project_ball, uniform_sphere, vector_norm
from theory._compiled import compiled_step
from theory._kernel import LossGradKernel
from theory.losses import QuadraticLoss
from theory.network import TwoLayerNet
from theory.pgd import pgd
from theory.problem import ReferenceStep, Problem
from theory.testing.strategies import HOSTILE, ball_points, hostile_problems, log_uniform, seeds
from theory.testing.tolerances import FEW_OPS_RTOL, PROJECTION_RTOL

LD = np.longdouble


@st.composite
def hostile_cases(draw, input_scale=None):
    """A hostile problem and points: some inside the ball, some on its sphere; shape (n, d)."""
    problem = draw(hostile_problems(input_scale=input_scale))
    inside = draw(ball_points(problem.d, problem.eps, n=st.integers(1, 3)))
    on_sphere = uniform_sphere(draw(seeds()), 1, problem.d, problem.eps)
    note(f"d={problem.d}, m={problem.net.m}, |x|={np.linalg.norm(problem.x):.3g}, eps={problem.eps:.3g}, "
         f"loss={problem.loss.name}")
    event(f"|x| 1e{int(np.floor(np.log10(np.linalg.norm(problem.x))))}")
    return problem, np.concatenate([inside, on_sphere])


def extended_reference(problem, deltas):
    """L and ∂L at ``deltas`` (n, d) in extended precision, by the formulas of theory.network and theory.losses."""
    W, a = problem.net.W.astype(LD), problem.net.a.astype(LD)
    z = (problem.x.astype(LD) + deltas.astype(LD)) @ W.T
    e = np.exp(-np.abs(z))
    sigma = np.maximum(z, 0) + np.log1p(e)
    dsigma = np.where(z >= 0, LD(1), e) / (1 + e)
    f = sigma @ a
    y = LD(problem.y)
    if isinstance(problem.loss, QuadraticLoss):
        loss, dloss = -(y - f) ** 2, 2 * (y - f)
    else:
        ef = np.exp(-np.abs(f))
        log_term = np.log1p(ef)
        loss = -(y * (np.maximum(-f, 0) + log_term) + (1 - y) * (np.maximum(f, 0) + log_term))
        dloss = (y * np.where(f <= 0, LD(1), ef) - (1 - y) * np.where(f >= 0, LD(1), ef)) / (1 + ef)
    return loss, dloss[:, None] * ((dsigma * a) @ W)


def agrees_with_extended_precision(problem, deltas, evaluate):
    """``evaluate(problem, deltas) -> (L, ∂L)`` is finite and within rounding of the extended reference."""
    loss, grad = evaluate(problem, deltas)
    if not (np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))):
        note("non-finite result")
        return False
    ref_loss, ref_grad = extended_reference(problem, deltas)
    tol_loss, tol_grad = allowed_errors(problem, deltas)
    err_loss = np.abs((loss - ref_loss).astype(np.float64))
    err_grad = np.abs((grad - ref_grad).astype(np.float64))
    worst = max(np.max(err_loss / tol_loss), np.max(err_grad / tol_grad))
    note(f"worst error / allowed: {worst:.3g}")
    target(float(worst), label="error / allowed (extended precision)")
    return bool(worst <= 1.0)


def reference_path(problem, deltas):
    return problem.value_and_grad(deltas)


def fused_path(problem, deltas):
    return LossGradKernel(problem, deltas.shape[0])(deltas)


@given(hostile_cases())
def test_loss_and_gradient_are_right_at_hostile_scales(case):
    assert agrees_with_extended_precision(*case, reference_path)


@given(hostile_cases())
def test_fused_kernel_is_right_at_hostile_scales(case):
    assert agrees_with_extended_precision(*case, fused_path)


def compiled_path(problem, deltas):
    return compiled_step(problem, deltas.shape[0], any_size=True)(deltas)


@needs_compiled
@given(hostile_cases())
def test_compiled_step_is_right_at_hostile_scales(case):
    assert agrees_with_extended_precision(*case, compiled_path)


def pgd_is_sound(problem, deltas, eta, steps=3):
    """PGD's iterates are finite and in the closed ball, and its losses are L(δ_t)."""
    traj = pgd(problem, deltas, eta=eta, steps=steps)
    if not (np.all(np.isfinite(traj.deltas)) and np.all(np.isfinite(traj.losses))):
        return False
    if np.any(vector_norm(traj.deltas) > problem.eps * (1.0 + PROJECTION_RTOL)):
        return False
    tol = np.stack([allowed_errors(problem, traj.deltas[t])[0] for t in range(steps + 1)])
    return bool(np.all(np.abs(traj.losses - problem.loss_value(traj.deltas)) <= tol))


@given(hostile_cases(), log_uniform(1e-8, 1e4))
def test_pgd_stays_finite_in_the_ball_and_records_its_losses_at_any_step_size(case, eta):
    assert pgd_is_sound(*case, eta)


@given(hostile_cases())
def test_constrained_quantities_are_finite_and_tangent_on_the_sphere(case):
    problem, deltas = case
    sphere = deltas[-1:]                      # the point drawn on the sphere
    gamma = tangent_gradient(problem, sphere)
    grad = problem.loss_grad(sphere)
    assert np.all(np.isfinite(gamma)) and np.all(np.isfinite(lagrange_multiplier(problem, sphere)))
    if np.all(grad == 0.0):
        # Far in softplus's flat tail (|x| ~ 1e3) σ' = e^{-|z|} underflows and ∂L is 0 in
        # float64: the cosine is then undefined, and a clear error is the right answer.
        event("gradient underflows to 0: descent_cosine raises")
        with pytest.raises(ValueError, match="gradient vanishes"):
            descent_cosine(problem, sphere)
    else:
        assert np.all(np.abs(descent_cosine(problem, sphere)) <= 1.0)
    # Γ ⟂ δ up to the rounding of removing the normal part of ∂L (a few operations per entry).
    inner = np.abs(np.sum(gamma * sphere, axis=-1))
    assert np.all(inner <= FEW_OPS_RTOL * problem.d * vector_norm(grad) * vector_norm(sphere))


def float32_case(problem, deltas):
    """The problem and points rounded to float32, and the same values held in float64."""
    W32, a32, x32 = (np.asarray(v, dtype=np.float32) for v in (problem.net.W, problem.net.a, problem.x))
    d32 = deltas.astype(np.float32)
    d32 = np.where(vector_norm(d32.astype(np.float64), keepdims=True) <= problem.eps, d32, d32 * np.float32(0.5))
    as32 = Problem(TwoLayerNet(W32, a32), x32, problem.y, problem.eps, problem.loss)
    as64 = Problem(TwoLayerNet(W32.astype(np.float64), a32.astype(np.float64)), x32.astype(np.float64),
                   problem.y, problem.eps, problem.loss)
    return as32, as64, d32


def same_results(p, q, delta, other):
    """The public computations of p at ``delta`` equal those of q at ``other``, bit for bit."""
    pairs = [(p.loss_value(delta), q.loss_value(other)), (p.loss_grad(delta), q.loss_grad(other)),
             (p.net.value(p.x + delta), q.net.value(q.x + other)),
             (project_ball(delta, p.eps), project_ball(other, q.eps)),
             (pgd(p, delta, eta=p.eps, steps=2).deltas, pgd(q, other, eta=q.eps, steps=2).deltas),
             (LossGradKernel(p, len(delta))(delta)[1], LossGradKernel(q, len(other))(other)[1])]
    return all(np.array_equal(u, v) for u, v in pairs)


@given(hostile_cases())
def test_float32_input_gives_the_float64_result_bit_for_bit(case):
    as32, as64, d32 = float32_case(*case)
    assert same_results(as32, as64, d32, d32.astype(np.float64))


# --- negative controls --------------------------------------------------------------------------


class _NaiveSoftplus(Problem):
    """Injected bug: softplus written as log(1 + e^z), which overflows for z > 709."""

    def value_and_grad(self, delta):
        z = (self.x + delta) @ self.net.W.T
        with np.errstate(over="ignore", invalid="ignore"):
            ez = np.exp(z)
            f = np.log(1.0 + ez) @ self.net.a
            dloss = self.loss._dvalue(self.y, f)
            return self.loss._value(self.y, f), dloss[:, None] * ((ez / (1.0 + ez) * self.net.a) @ self.net.W)

    def step_evaluator(self, rows, *, threads=1):
        return ReferenceStep(self)  # PGD runs the override above


@pytest.mark.negative_control
def test_control_a_naive_softplus_overflows_at_large_scales():
    def holds(case):
        problem, deltas = case
        naive = _NaiveSoftplus(problem.net, problem.x, problem.y, problem.eps, problem.loss)
        return agrees_with_extended_precision(naive, deltas, reference_path)

    # The bug bites where some z = w.(x + δ) > 709: at the top of the hostile scales.
    counterexample(hostile_cases(input_scale=HOSTILE["input_scale"][1]), holds)


@pytest.mark.negative_control
def test_control_a_computation_kept_in_float32_is_caught():
    def holds(case):
        _, as64, d32 = float32_case(*case)
        d64 = d32.astype(np.float64)
        kept_in_float32 = as64.loss_grad(d64).astype(np.float32).astype(np.float64)  # injected bug
        return np.array_equal(as64.loss_grad(d64), kept_in_float32)

    counterexample(hostile_cases(), holds)


@pytest.mark.negative_control
def test_control_pgd_without_its_projection_leaves_the_ball(monkeypatch):
    import theory.pgd

    monkeypatch.setattr(theory.pgd, "project_ball_inplace", lambda v, eps: None)  # injected bug: no projection
    with using_kernel("numpy"):
        counterexample(st.tuples(hostile_cases(), log_uniform(1e-8, 1e4)), lambda c: pgd_is_sound(*c[0], c[1]))
