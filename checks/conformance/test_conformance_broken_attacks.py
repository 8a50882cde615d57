"""Each broken attack is the project's PGD with exactly its one named defect, and nothing else changed.

The negative controls of the attack properties (``test_conformance_reference.py``) show that
each property catches the broken attack meant for it. That is evidence about a property only
if the broken attack differs from :class:`theory.attacks.ProjectPGD` in that one way: these
checks pin each defect (a start uniform in radius, on the sphere; a coordinate clip; a
normalised step; a frozen step; the gradient's sign) and that the rest (the start, the step,
the run as start-then-steps, the step-size parameter and rtol) is the reference's. Controls:
Hypothesis finds draws where the reference's step is not a coordinate clip, not a normalised
step and not a frozen one, and a pinned draw where its start is not uniform in radius.
"""

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st
from scipy.stats import kstest

from ..support import counterexample
from theory.attacks import BROKEN_ATTACKS, ProjectPGD, check_attack
from theory.attacks.protocol import FLOAT64_RTOL, L2Attack
from theory.attacks.reference import (CoordinateClip, DescentOnTheAttackLoss, FrozenStep, NormalisedStepAsRaw,
                                      RadiusUniformStart, SphereStart)
from theory.attacks.strategies import attack_cases
from theory.geometry import project_ball, vector_norm
from theory.problem import make_problem

REFERENCE = ProjectPGD()
BROKEN = sorted(BROKEN_ATTACKS, key=lambda cls: cls.__name__)
#: Broken attacks whose start is the reference's (their defect is in the step).
REFERENCE_START = (CoordinateClip, NormalisedStepAsRaw, FrozenStep, DescentOnTheAttackLoss)
#: Starts drawn per example, and the step as a multiple of ε per unit of gradient.
STARTS = 8
STEP = st.floats(0.01, 2.0)


def step_size(problem, scale):
    """η = scale · ε / ‖∂L(0)‖: steps of about ``scale`` ε."""
    return scale * problem.eps / max(float(vector_norm(problem.loss_grad(np.zeros(problem.d)))), 1e-300)


@pytest.mark.parametrize("broken", BROKEN, ids=lambda cls: cls.__name__)
def test_each_broken_attack_fits_the_protocol_with_the_references_conventions_and_a_control_name(broken):
    attack = check_attack(broken())
    assert attack.name.startswith("control: ") and attack.name != REFERENCE.name
    assert (attack.step_size_parameter, attack.rtol, attack.version) == (
        REFERENCE.step_size_parameter, REFERENCE.rtol, REFERENCE.version)
    assert attack.rtol == FLOAT64_RTOL


def test_the_broken_attacks_have_distinct_names():
    names = [broken().name for broken in BROKEN]
    assert len(set(names)) == len(names)


@given(attack_cases(), st.sampled_from(REFERENCE_START))
def test_an_attack_broken_in_its_step_starts_as_the_reference(case, broken):
    problem, seed = case
    np.testing.assert_array_equal(broken().start(problem, STARTS, seed), REFERENCE.start(problem, STARTS, seed))


@given(attack_cases())
def test_the_sphere_start_starts_on_the_sphere_and_steps_as_the_reference(case):
    problem, seed = case
    start = SphereStart().start(problem, STARTS, seed)
    assert start.shape == (STARTS, problem.d)
    np.testing.assert_allclose(vector_norm(start), problem.eps, rtol=FLOAT64_RTOL)
    eta = step_size(problem, 0.5)
    np.testing.assert_array_equal(SphereStart().step(problem, start, eta), REFERENCE.step(problem, start, eta))


@given(attack_cases())
def test_the_radius_uniform_start_is_inside_the_ball_and_steps_as_the_reference(case):
    problem, seed = case
    start = RadiusUniformStart().start(problem, STARTS, seed)
    assert start.shape == (STARTS, problem.d) and np.all(vector_norm(start) < problem.eps)
    eta = step_size(problem, 0.5)
    np.testing.assert_array_equal(RadiusUniformStart().step(problem, start, eta), REFERENCE.step(problem, start, eta))


#: The pinned draw of the radial laws (d = 8; n radii; the one-sided KS level of each side).
RADIAL_DRAWS, RADIAL_LEVEL = 4000, 1e-3


@pytest.mark.parametrize("attack, uniform_radius", [(RadiusUniformStart(), True), (REFERENCE, False)],
                         ids=["radius uniform start", "reference start (control)"])
def test_the_radius_uniform_start_has_uniform_radii_and_the_reference_the_balls_law(attack, uniform_radius):
    problem = make_problem(8, 4, seed=0, eps=0.5)
    radii = vector_norm(attack.start(problem, RADIAL_DRAWS, 0)) / problem.eps
    d = problem.d
    uniform, ball = kstest(radii, "uniform").pvalue, kstest(radii ** d, "uniform").pvalue
    # Pinned seed: a deterministic outcome; each side is far from the level (p ~ 1e-300 against ~0.5).
    assert (uniform > RADIAL_LEVEL, ball > RADIAL_LEVEL) == (uniform_radius, not uniform_radius)


def check_coordinate_clip(attack, case, scale):
    """``attack``'s step clips each coordinate of the raw step to [−ε, ε] and is the raw step inside the cube."""
    problem, seed = case
    delta = REFERENCE.start(problem, STARTS, seed)
    eta = step_size(problem, scale)
    raw = delta - eta * problem.loss_grad(delta)
    clipped = attack.step(problem, delta, eta)
    assert np.all(np.abs(clipped) <= problem.eps)
    inside = np.all(np.abs(raw) <= problem.eps, axis=-1)
    np.testing.assert_array_equal(clipped[inside], raw[inside])
    outside = np.abs(raw) > problem.eps
    np.testing.assert_array_equal(np.abs(clipped[outside]), problem.eps)
    np.testing.assert_array_equal(np.sign(clipped[outside]), np.sign(raw[outside]))
    return True


@given(attack_cases(), STEP)
def test_the_coordinate_clip_clips_each_coordinate_and_is_the_raw_step_inside_the_cube(case, scale):
    check_coordinate_clip(CoordinateClip(), case, scale)


def check_normalised_step(attack, case, scale):
    """``attack``'s step is P_B(δ − η ∂L/‖∂L‖) to the protocol's float64 rounding."""
    problem, seed = case
    delta = REFERENCE.start(problem, STARTS, seed)
    eta = scale * problem.eps
    grad = problem.loss_grad(delta)
    unprojected = delta - eta * grad / vector_norm(grad, keepdims=True)
    note(f"eta={eta}")
    np.testing.assert_allclose(attack.step(problem, delta, eta), project_ball(unprojected, problem.eps),
                               rtol=FLOAT64_RTOL, atol=FLOAT64_RTOL * problem.eps)
    return True


@given(attack_cases(), STEP)
def test_the_normalised_step_moves_eta_along_the_descent_direction_before_the_projection(case, scale):
    check_normalised_step(NormalisedStepAsRaw(), case, scale)


def test_the_normalised_step_leaves_a_zero_gradient_in_place():
    problem = make_problem(2, 1, seed=0, eps=0.5)
    delta = np.zeros((1, 2))
    flat = type("Flat", (), {"eps": problem.eps, "loss_grad": staticmethod(np.zeros_like)})()
    np.testing.assert_array_equal(NormalisedStepAsRaw().step(flat, delta, 0.1), delta)


def check_frozen_step(attack, case, scale):
    """``attack``'s step returns a float64 copy of δ."""
    problem, seed = case
    delta = REFERENCE.start(problem, STARTS, seed)
    out = attack.step(problem, delta, step_size(problem, scale))
    assert out is not delta and out.dtype == np.float64
    np.testing.assert_array_equal(out, delta)
    return True


@given(attack_cases(), STEP)
def test_the_frozen_step_returns_a_float64_copy_of_delta(case, scale):
    check_frozen_step(FrozenStep(), case, scale)


@given(attack_cases(), STEP)
def test_descent_on_the_attack_loss_is_the_projected_step_up_the_gradient_of_L(case, scale):
    problem, seed = case
    delta = REFERENCE.start(problem, STARTS, seed)
    eta = step_size(problem, scale)
    np.testing.assert_array_equal(DescentOnTheAttackLoss().step(problem, delta, eta),
                                  project_ball(delta + eta * problem.loss_grad(delta), problem.eps))


@given(attack_cases(), st.sampled_from(BROKEN), st.integers(0, 3))
def test_each_broken_attacks_run_is_its_start_then_its_steps(case, broken, steps):
    problem, seed = case
    attack = broken()
    eta = step_size(problem, 0.3)
    run = attack.run(problem, STARTS, eta, steps, seed)
    assert run.shape == (steps + 1, STARTS, problem.d)
    np.testing.assert_array_equal(run, L2Attack.run(attack, problem, STARTS, eta, steps, seed))


@pytest.mark.negative_control
@pytest.mark.parametrize("check", [check_coordinate_clip, check_normalised_step, check_frozen_step],
                         ids=["coordinate clip", "normalised step", "frozen step"])
def test_control_the_reference_step_shows_no_defect(check):
    counterexample(st.tuples(attack_cases(), STEP), lambda args: check(REFERENCE, *args))
