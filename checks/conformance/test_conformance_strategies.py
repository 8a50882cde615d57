"""The conformance draws cover what ``theory.attacks.strategies`` says, and the sphere-start control starts on the sphere.

* :func:`attack_cases`: d in 2..784, m in 1..64, ‖x‖ in [0.01, 100], ε/‖x‖ in [10^-3, 3], the quadratic loss,
  with both ends of the ranges of ‖x‖ and ε/‖x‖ reached;
* :func:`regime_attack_cases`: Theorem 3.1's regime with ε in [0.3, 0.99] ε_max(m) (Lemma 4.5's setting);
* ``SphereStart.start`` (the control of the uniform start): n points of norm ε, the same for a seed,
  different for another.

Negative control: the regime's draws checked against a narrower band of ε, [0.5, 0.99] ε_max, are
caught (the band's lower end is reached).
"""

import numpy as np
from hypothesis import find, given, settings, strategies as st
import pytest

from ..support import counterexample, holds
from theory.attacks.reference import SphereStart
from theory.attacks.strategies import MAX_DIM, attack_cases, regime_attack_cases
from theory.geometry import vector_norm
from theory.testing.regimes import regime
from theory.testing.tolerances import FEW_OPS_RTOL


@given(attack_cases())
def test_the_attack_draws_lie_in_the_stated_ranges(case):
    problem, seed = case
    norm = float(vector_norm(problem.x))
    assert 2 <= problem.d <= MAX_DIM and 1 <= problem.net.m <= 64 and problem.loss.name == "quadratic"
    assert 1e-2 * (1 - FEW_OPS_RTOL) <= norm <= 1e2 * (1 + FEW_OPS_RTOL)
    assert 1e-3 * (1 - FEW_OPS_RTOL) <= problem.eps / norm <= 3.0 * (1 + FEW_OPS_RTOL)
    assert isinstance(seed, int)


@pytest.mark.parametrize("what, reached", [
    ("an input norm below 0.02", lambda p: vector_norm(p.x) < 0.02),
    ("an input norm above 50", lambda p: vector_norm(p.x) > 50.0),
    ("a ratio below 2e-3", lambda p: p.eps / vector_norm(p.x) < 2e-3),
    ("a ratio above 1.5", lambda p: p.eps / vector_norm(p.x) > 1.5),
])
def test_the_attack_draws_reach_both_ends_of_their_ranges(what, reached):
    # Lying in the ranges is not enough: a narrower range would too. Each end is reached.
    found = find(attack_cases(d=st.integers(2, 4)), lambda case: bool(reached(case[0])),
                 settings=settings(max_examples=2000, database=None, derandomize=True))
    assert reached(found[0]), what


def check_the_regime_draws_have_eps_in_the_band(problem, seed, low=0.3, high=0.99):
    fraction = problem.eps / regime("theorem_3_1").eps_max(problem.net.m)
    assert low * (1 - FEW_OPS_RTOL) <= fraction <= high * (1 + FEW_OPS_RTOL), fraction


@given(st.data())
def test_the_regime_draws_have_eps_between_a_third_and_all_of_eps_max(data):
    # The strategy is built inside the test, where a changed constructor takes effect (a
    # decorator's strategy is built once, when the module is imported).
    check_the_regime_draws_have_eps_in_the_band(*data.draw(regime_attack_cases()))


@pytest.mark.negative_control
def test_control_a_narrower_band_is_caught():
    counterexample(regime_attack_cases(), holds(check_the_regime_draws_have_eps_in_the_band, low=0.5), shrink=False)


@given(attack_cases(), st.integers(1, 6))
def test_the_sphere_start_control_starts_on_the_sphere(case, n):
    problem, seed = case
    start = SphereStart().start(problem, n, seed)
    assert start.shape == (n, problem.d)
    assert np.allclose(vector_norm(start), problem.eps, rtol=FEW_OPS_RTOL, atol=0.0)
    assert np.array_equal(start, SphereStart().start(problem, n, seed))
    assert not np.array_equal(start, SphereStart().start(problem, n, seed + 1))
