"""Projected gradient descent (section 3): the batched implementation equals the textbook loop.

* every trajectory equals an independent per-start reference loop
  δ_{t+1} = P_B[δ_t − η ∂L(δ_t)] written with the public building blocks;
* every iterate lies in the ball; losses are L(δ_t);
* running a batch of starts equals running each start alone;
* a schedule equal to a constant reproduces the constant step; Remark 3's
  schedule is 2/(β(s + z)).

Negative controls: PGD without the projection leaves the ball, and gradient
*ascent* does not match the reference.
"""

from types import SimpleNamespace

import numpy as np
from hypothesis import given, note
from hypothesis import strategies as st

from checks.support import counterexample
from theory.geometry import project_ball, uniform_ball, vector_norm
from theory.pgd import pgd, remark3_schedule
from theory.strategies import log_uniform, problems, seeds
from theory.tolerances import FEW_OPS_RTOL, PROJECTION_RTOL


@st.composite
def pgd_cases(draw):
    problem = draw(problems(d=st.integers(1, 6), m=st.integers(1, 32)))
    starts = uniform_ball(draw(seeds()), draw(st.integers(1, 5)), problem.d, problem.eps)
    eta = draw(log_uniform(1e-4, 1.0)) * problem.eps  # steps from tiny to a sizeable part of ε
    steps = draw(st.integers(0, 25))
    note(f"{problem!r}, eta={eta:g}, steps={steps}")
    return problem, starts, eta, steps


def reference_step(problem, delta, eta):
    """The textbook step P_B[δ − η ∂L(δ)] for one point."""
    return project_ball(delta - eta * problem.loss_grad(delta), problem.eps)


def step_tolerance(problem, delta, eta):
    """Two computations of one PGD step differ by at most twice η times the certified gradient
    rounding, plus the projection's own rounding (PROJECTION_RTOL relative to ε)."""
    grad_error = problem.evaluation_error_bounds(delta)[1]
    return 2 * eta * grad_error + 4 * PROJECTION_RTOL * max(problem.eps, float(vector_norm(delta).max()))


def matches_reference(run, case, step=reference_step):
    """Every step of ``run`` equals the reference step from the same iterate.

    One-step consistency, not whole trajectories: with large steps the map is
    chaotic and two correct implementations drift apart by amplified rounding.
    """
    problem, starts, eta, steps = case
    traj = run(problem, starts, eta=eta, steps=steps)
    for t in range(steps):
        for i in range(starts.shape[0]):
            expected = step(problem, traj.deltas[t, i], eta)
            if np.any(np.abs(traj.deltas[t + 1, i] - expected) > step_tolerance(problem, traj.deltas[t, i], eta)):
                return False
    return True


@given(pgd_cases())
def test_pgd_equals_the_reference_loop(case):
    assert matches_reference(pgd, case)


def stays_in_ball(run, case):
    problem, starts, eta, steps = case
    traj = run(problem, starts, eta=eta, steps=steps)
    return bool(np.all(vector_norm(traj.deltas) <= problem.eps * (1 + PROJECTION_RTOL)))


@given(pgd_cases())
def test_pgd_iterates_stay_in_the_ball(case):
    assert stays_in_ball(pgd, case)


@given(pgd_cases())
def test_pgd_losses_are_the_loss_along_the_trajectory(case):
    problem, starts, eta, steps = case
    traj = pgd(problem, starts, eta=eta, steps=steps)
    assert traj.deltas.shape == (steps + 1,) + starts.shape
    assert traj.losses.shape == (steps + 1, starts.shape[0])
    # Same formula, different batch shapes: equal up to twice the certified rounding of L.
    value_error = problem.evaluation_error_bounds(traj.deltas)[0]
    assert np.all(np.abs(traj.losses - problem.loss_value(traj.deltas)) <= 2 * value_error)


@given(pgd_cases())
def test_batched_starts_equal_separate_runs(case):
    """One step of the batch equals one step of each start alone (to certified rounding)."""
    problem, starts, eta, _ = case
    batch = pgd(problem, starts, eta=eta, steps=1)
    for i in range(starts.shape[0]):
        alone = pgd(problem, starts[i], eta=eta, steps=1)
        assert np.all(np.abs(batch.deltas[1, i] - alone.deltas[1]) <= step_tolerance(problem, starts[i], eta))


@given(pgd_cases())
def test_constant_schedule_equals_constant_step(case):
    problem, starts, eta, steps = case
    fixed = pgd(problem, starts, eta=eta, steps=steps)
    scheduled = pgd(problem, starts, schedule=[eta] * steps, steps=steps)
    assert np.array_equal(fixed.deltas, scheduled.deltas)


@given(st.floats(1e-3, 1e3), st.floats(1.0, 1e4), st.integers(0, 1000))
def test_remark3_schedule_values(beta, z, s):
    assert np.isclose(remark3_schedule(beta, z)(np.array([s]))[0], 2.0 / (beta * s + beta * z), rtol=FEW_OPS_RTOL)


def buggy_pgd(sign, project):
    """A PGD with the step's sign and the projection as parameters, for the controls."""

    def run(problem, delta0, *, eta, steps):
        deltas = [np.asarray(delta0)]
        for _ in range(steps):
            nxt = deltas[-1] + sign * eta * problem.loss_grad(deltas[-1])
            deltas.append(project_ball(nxt, problem.eps) if project else nxt)
        return SimpleNamespace(deltas=np.array(deltas))

    return run


def test_control_pgd_without_projection_leaves_the_ball():
    counterexample(pgd_cases(), lambda c: stays_in_ball(buggy_pgd(-1.0, project=False), c))


def test_control_gradient_ascent_is_caught():
    counterexample(pgd_cases(), lambda c: matches_reference(buggy_pgd(+1.0, project=True), c))
