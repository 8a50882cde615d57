"""The attack protocol and its properties on the project's own PGD and on deliberately broken attacks.

:class:`theory.attacks.ProjectPGD` (:func:`theory.pgd.pgd` behind the protocol) is the paper's
algorithm: it must conform on every property of :mod:`theory.attacks.properties` over the
drawn networks, inputs and radii of :mod:`theory.attacks.strategies`. Each broken attack of
:data:`theory.attacks.BROKEN_ATTACKS` (a start uniform in radius, a start on the sphere, a
coordinate clip instead of the projection, a normalised step presented as raw) is the
negative control of the property named there: Hypothesis finds a draw where it deviates.
"""

import numpy as np
import pytest
from hypothesis import assume, event, example, given, note

from ..support import counterexample
from theory.attacks import BROKEN_ATTACKS, ProjectPGD, check_attack
from theory.attacks.protocol import L2Attack
from theory.attacks.properties import (DELTA_MINUS_STEPS, PROPERTIES, START_DRAWS, STEP_POINTS,
                                      check_ends_at_critical_point, converges_in_budget, identify_step_rule)
from theory.testing.regimes import gradient_lower_bound, regime
from theory.problem import make_problem
from theory.attacks.conformance import SLOW_PROPERTIES
from theory.attacks.strategies import attack_cases, cases_for, regime_attack_cases

REFERENCE = ProjectPGD()


def check_property(attack, name, problem, seed):
    """Run property ``name`` on one draw (the ball property with a step of ε/4 per unit of gradient)."""
    note(f"{attack!r}, {problem!r}, seed={seed}")
    if name == "stays_in_ball":
        return PROPERTIES[name](attack, problem, seed, 0.25 * problem.eps)
    return PROPERTIES[name](attack, problem, seed)


def test_the_reference_fits_the_protocol():
    assert check_attack(REFERENCE) is REFERENCE


def test_an_object_without_the_protocol_is_rejected_naming_what_it_lacks():
    with pytest.raises(TypeError, match=r"^attack must have name, version, step_size_parameter, rtol, start, step, "
                                        r"run; object lacks name, version, step_size_parameter, rtol, start, step, run$"):
        check_attack(object())
    half = type("Half", (), dict(name="n", version="v", step_size_parameter="eta", rtol=1e-12, start=None))
    with pytest.raises(TypeError, match=r"^attack must have .*; Half lacks step, run$"):
        check_attack(half())
    uncallable = type("Uncallable", (half,), dict(step=lambda *a: None, run=lambda *a: None))
    with pytest.raises(TypeError, match=r"^attack\.start must be callable, got NoneType$"):
        check_attack(uncallable())


def test_the_default_run_keeps_float64_iterates_of_any_start():
    class Float32Start(type(REFERENCE)):
        def start(self, problem, n, seed):
            return super().start(problem, n, seed).astype(np.float32)

    problem = make_problem(3, 4, seed=0, ratio=0.3)
    for steps in (0, 3):
        path = L2Attack.run(Float32Start(), problem, 2, 0.01, steps, 0)
        assert path.dtype == np.float64 and path.shape == (steps + 1, 2, 3)


@given(attack_cases())
def test_the_reference_start_is_uniform_in_the_open_ball(case):
    check_property(REFERENCE, "uniform_start", *case)


@given(attack_cases())
def test_the_reference_stays_in_the_ball(case):
    check_property(REFERENCE, "stays_in_ball", *case)


@given(attack_cases())
def test_the_reference_projects_onto_the_ball_euclidean(case):
    assert check_property(REFERENCE, "euclidean_projection", *case) is not None


@given(attack_cases())
def test_the_reference_takes_the_raw_gradient_step(case):
    rule, evidence = identify_step_rule(REFERENCE, *case)
    event(f"step rule: {rule}")
    # The evidence names the rule, the step and the error against each rule tried up to the match.
    assert sorted(evidence) == ["errors", "eta", "rule"] and evidence["rule"] == rule
    assert list(evidence["errors"])[-1] == rule == "raw"
    check_property(REFERENCE, "raw_gradient_step", *case)


@given(attack_cases())
def test_the_reference_ends_at_a_critical_point_where_the_gradient_floor_holds(case):
    evidence = check_property(REFERENCE, "ends_at_critical_point", *case)
    event("certified gradient floor" if evidence is not None else "no certified gradient floor: discarded")
    assume(evidence is not None)


#: The shrunk draw where the literal statement fails: one unit, which switches off inside the ball
#: (certified gradient floor 0), so that 3000 raw steps end with a tangent gradient of 0.52 ‖∂L‖.
NO_FLOOR = (make_problem(22, 1, seed=0, input_scale=10.0, eps=10.0, loss="quadratic"), 0)


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="literal: without a gradient floor over the ball, 3000 raw steps need not reach a critical point")
@given(attack_cases())
@example(NO_FLOOR)
def test_literal_the_reference_ends_at_a_critical_point_on_every_draw(case):
    check_ends_at_critical_point(REFERENCE, *case, literal=True)


@given(attack_cases())
def test_the_reference_reaches_the_optimum_of_theory_pgd(case):
    evidence = check_property(REFERENCE, "same_optimum", *case)
    assume(evidence is not None)


def test_the_start_draws_reach_the_stated_power():
    from theory.testing.statistics import ks_power_lower_bound
    from theory.attacks.properties import START_ALPHA, START_DISTANCE, START_POWER

    assert ks_power_lower_bound(START_DRAWS, START_ALPHA, START_DISTANCE) >= START_POWER
    assert ks_power_lower_bound(START_DRAWS - 1, START_ALPHA, START_DISTANCE) < START_POWER


@given(regime_attack_cases())
def test_the_reference_never_enters_delta_minus_under_condition_6(case):
    evidence = check_property(REFERENCE, "avoids_delta_minus", *case)
    event("condition (6) holds" if evidence is not None else "outside Lemma 4.5")


def test_the_delta_minus_verdict_reports_the_rule_the_lemmas_constants_and_the_iterates_seen():
    problem = make_problem(7, 130, seed=0, input_scale=1.0, eps=0.0075)  # inside Lemma 4.5's setting
    evidence = PROPERTIES["avoids_delta_minus"](REFERENCE, problem, 0)
    assert evidence is not None, "condition (6) fails on the pinned draw"
    assert evidence["rule"] == "raw" and evidence["iterates"] == (DELTA_MINUS_STEPS + 1) * STEP_POINTS
    assert evidence["eta"] == 0.5 * regime("theorem_3_1").eta_max(problem.net.m, problem.eps)
    assert evidence["lb"] == gradient_lower_bound(problem.bounds.dloss_lower)


CONTROLS = [(broken, name) for broken, names in BROKEN_ATTACKS.items() for name in names]


@pytest.mark.negative_control
@pytest.mark.parametrize("broken, name", CONTROLS, ids=[f"{b.__name__}-{n}" for b, n in CONTROLS])
def test_control_each_broken_attack_is_caught_by_its_property(broken, name):
    attack = broken()
    # The convergence properties run thousands of steps per draw: found, not shrunk (the report shrinks).
    counterexample(cases_for(name), lambda case: check_property(attack, name, *case) is not False,
                   shrink=name not in SLOW_PROPERTIES)


def test_every_property_has_a_control():
    assert {name for names in BROKEN_ATTACKS.values() for name in names} == set(PROPERTIES)


class _RecordingPGD(ProjectPGD):
    """The reference, recording the shape of every batch its step is given."""

    def __init__(self):
        self.shapes = []

    def step(self, problem, delta, eta):
        self.shapes.append(np.shape(delta))
        return super().step(problem, delta, eta)


def test_the_projection_property_steps_one_point_at_a_time_with_its_own_step_size():
    # One eta per point (a move of length 2 eps): an attack whose step couples the rows of a batch
    # must be given each point alone.
    from theory.attacks.properties import check_euclidean_projection

    attack = _RecordingPGD()
    problem = make_problem(3, 5, seed=0, ratio=0.1)
    assert check_euclidean_projection(attack, problem, 0)["rule"] == "raw"
    # The step rule is identified on one batch of STEP_POINTS points, then each point is stepped alone.
    assert attack.shapes == [(STEP_POINTS, 3)] + [(1, 3)] * STEP_POINTS


class _Float32StartAttack(L2Attack):
    """An attack whose start comes back in float32 and whose step computes in the precision it is handed."""

    name, version = "float32 start", "0"

    def start(self, problem, n, seed):
        return np.full((n, problem.net.d), 0.25, dtype=np.float32)

    def step(self, problem, delta, eta):
        return delta + eta  # a Python float: the array's precision decides


def test_the_protocols_run_hands_the_steps_float64_iterates_whatever_the_start_returns():
    problem = make_problem(2, 8, seed=0, ratio=0.5)
    run = _Float32StartAttack().run(problem, 3, 1e-9, 2, 0)
    assert run.dtype == np.float64 and run.shape == (3, 3, 2)
    # In float32 the steps of 1e-9 vanish at 0.25 (its spacing is 3e-8); in float64 they are kept.
    np.testing.assert_allclose(run[:, 0, 0] - 0.25, [0.0, 1e-9, 2e-9], rtol=1e-6, atol=0)


class _LastIterateAtTheStart(ProjectPGD):
    """The reference's run with its last iterate replaced by its start (inside the ball, not critical)."""

    name = "last iterate at the start"

    def run(self, problem, n, eta, steps, seed):
        run = np.array(ProjectPGD.run(self, problem, n, eta, steps, seed))
        run[-1] = run[0]
        return run


@given(cases_for("ends_at_critical_point"))
def test_the_critical_point_property_judges_the_last_iterate(case):
    problem, seed = case
    assume(converges_in_budget(problem))
    with pytest.raises(AssertionError, match="not on the sphere"):
        check_ends_at_critical_point(_LastIterateAtTheStart(), problem, seed)
