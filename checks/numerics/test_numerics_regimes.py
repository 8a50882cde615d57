"""The regimes' constants and rules (theory.testing.regimes) against their stated derivations.

Each asymptotic hypothesis of the paper is a named constant or rule; here each is checked
against the formula its docstring derives, and each threshold from both sides: REGIME_MIN_DIM
is the smallest d whose failure probability is at most MAX_FAILURE_PROBABILITY (d − 1 is
not); every claim's ε_max is EPS_REFERENCE at the reference width and falls with its own
exponent; η_max is the smaller of its curvature term and ε²; the lower bounds and constants
of the lemmas are their products. Control: a decrease constant of the wrong power is caught.
"""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import chi2

from ..support import counterexample, holds
from theory.testing import regimes as R
from theory.testing.strategies import log_uniform

REL = 1e-13  # a handful of roundings of the few operations of each formula


def test_the_minimum_dimension_is_the_first_whose_failure_probability_is_small_enough():
    d = R.REGIME_MIN_DIM
    assert R.gradient_failure_probability(d) <= R.MAX_FAILURE_PROBABILITY
    assert R.gradient_failure_probability(d - 1) > R.MAX_FAILURE_PROBABILITY
    assert R.REGIME_MAX_DIM == d + 1
    assert math.isclose(R.gradient_failure_probability(3, floor=0.1), chi2.cdf(16 * 3 * 0.1 * 0.1, 3), rel_tol=REL)


@given(st.integers(1, 200))
def test_the_width_rule_is_the_ceiling_of_d_to_the_five_halves(d):
    m = R.min_width(d)
    assert m == max(1, math.ceil(R.WIDTH_CONSTANT * d ** 2.5))
    assert m >= R.WIDTH_CONSTANT * d ** 2.5 > m - 1


@pytest.mark.parametrize("claim", sorted(R.REGIMES))
def test_each_claims_radius_is_the_reference_at_the_reference_width_and_falls_with_its_exponent(claim):
    rule = R.regime(claim)
    m_ref = R.min_width(R.REGIME_MIN_DIM)
    assert math.isclose(rule.eps_max(m_ref), R.EPS_REFERENCE, rel_tol=REL)
    for m in (3, 50, 10**4):
        assert math.isclose(rule.eps_max(m) * math.log(m) ** rule.eps_exponent, rule.eps_constant, rel_tol=REL)


@pytest.mark.parametrize("claim", [c for c in sorted(R.REGIMES) if R.REGIMES[c].eta_exponent is not None])
@given(st.integers(3, 10**5), log_uniform(1e-4, 10.0))
def test_each_claims_step_bound_is_the_smaller_of_its_curvature_term_and_eps_squared(claim, m, eps):
    rule = R.regime(claim)
    curvature = math.log(R.min_width(R.REGIME_MIN_DIM)) ** rule.eta_exponent / (2 * R.LOSS_CURVATURE_REFERENCE)
    assert math.isclose(rule.eta_constant, curvature, rel_tol=REL)
    expected = min(curvature * math.log(m) ** (-rule.eta_exponent), eps * eps)
    assert math.isclose(rule.eta_max(m, eps), expected, rel_tol=REL)


def test_the_reference_radius_keeps_the_loss_of_gradient_over_the_ball_below_half_the_floor():
    assert math.isclose(R.EPS_REFERENCE * R.HESSIAN_REFERENCE, R.GRADIENT_FLOOR / 2, rel_tol=REL)


def check_lemma_constants(dloss_lower, floor, decrease=R.interior_decrease_constant):
    assert math.isclose(R.gradient_lower_bound(dloss_lower, floor), dloss_lower * floor, rel_tol=REL)
    assert math.isclose(decrease(dloss_lower, floor), 0.5 * (dloss_lower * floor) ** 2, rel_tol=REL)
    assert math.isclose(R.definiteness_margin(dloss_lower), R.DEFINITENESS_MARGIN * dloss_lower / 2, rel_tol=REL)


@given(log_uniform(1e-3, 1e3), log_uniform(1e-4, 1.0))
def test_the_lemmas_bounds_and_constants_are_the_products_their_derivations_give(dloss_lower, floor):
    check_lemma_constants(dloss_lower, floor)
    assert R.definiteness_margin(2.0) == R.DEFINITENESS_MARGIN  # the quadratic loss's 𝓛_f = 2


@pytest.mark.negative_control
def test_control_a_decrease_constant_of_the_wrong_power_is_caught():
    def wrong(dloss_lower, floor):
        return 0.5 * (dloss_lower * floor) ** 3

    counterexample(st.tuples(log_uniform(1e-3, 1e3), log_uniform(1e-4, 1.0)), holds(check_lemma_constants, decrease=wrong))
