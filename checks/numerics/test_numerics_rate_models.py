"""Theorem 3.1's rate against a power law (theory.experiments.rate_models), against its definition.

The fits and scores are recomputed independently (least squares by ``numpy.linalg.lstsq``, the
BIC formula with its two penalties); exact data of either model is preferred as that model, the
exact fit staying finite. Control: equal penalties change the preferred model on data where
only the one parameter fewer decides.
"""

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from theory.experiments.rate_models import RSS_FLOOR, compare_rate_models
from theory.testing.strategies import seeds

ETAS = np.geomspace(1e-4, 1e-1, 6)


def independent_scores(etas, times, penalty_log=1.0):
    x, y = np.log(etas), np.log(times)
    k = x.size
    design = np.stack([x, np.ones_like(x)], axis=1)
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    rss_a = float(np.sum((design @ coef - y) ** 2))
    shape = -x + np.log(-x)
    rss_b = float(np.sum((y - shape - np.mean(y - shape)) ** 2))
    bic_a = k * np.log(rss_a / k + RSS_FLOOR) + 2 * np.log(k)
    bic_b = k * np.log(rss_b / k + RSS_FLOOR) + penalty_log * np.log(k)
    return -coef[0], rss_a, rss_b, bic_a, bic_b


@given(seeds(), st.floats(0.5, 2.0), st.floats(0.01, 0.5))
def test_the_fits_and_scores_are_the_least_squares_fits_and_their_bic(seed, p, noise):
    rng = np.random.default_rng(seed)
    times = ETAS ** -p * np.exp(noise * rng.standard_normal(ETAS.size))
    note(f"times = {times.tolist()}")
    got = compare_rate_models(ETAS, times)
    exponent, rss_a, rss_b, bic_a, bic_b = independent_scores(ETAS, times)
    assert got["exponent"] == pytest.approx(exponent, rel=1e-9, abs=1e-12)
    assert got["rss_power"] == pytest.approx(rss_a, rel=1e-6, abs=1e-20)
    assert got["rss_log"] == pytest.approx(rss_b, rel=1e-9, abs=1e-20)
    assert got["bic_log"] == pytest.approx(bic_b, rel=1e-9)
    assert got["bic_power"] == pytest.approx(bic_a, rel=1e-6)
    assert got["prefers_log"] == (got["bic_log"] < got["bic_power"])


def test_exact_data_of_either_model_is_preferred_as_that_model_with_finite_scores():
    x = np.log(ETAS)
    log_rate = np.exp(-x + np.log(-x))  # log(times) is the model's shape to the last bit: RSS = 0 exactly
    got = compare_rate_models(ETAS, log_rate)
    k = ETAS.size
    assert got["prefers_log"] and got["rss_log"] == 0.0
    assert got["bic_log"] == pytest.approx(k * np.log(RSS_FLOOR) + np.log(k), rel=1e-12)
    power = compare_rate_models(ETAS, 5.0 * ETAS ** -2.0)
    assert not power["prefers_log"] and power["exponent"] == pytest.approx(2.0, rel=1e-9)


def test_an_exact_power_law_scores_the_floor_plus_two_parameters():
    # Times of 1: log t = 0 is the power law with p = 0 to the last bit (RSS = 0 exactly).
    got = compare_rate_models(ETAS, np.ones(ETAS.size))
    k = ETAS.size
    assert got["rss_power"] == 0.0 and got["exponent"] == 0.0 and not got["prefers_log"]
    assert got["bic_power"] == pytest.approx(k * np.log(RSS_FLOOR) + 2 * np.log(k), rel=1e-12)


def penalty_decides():
    """Times whose power-law fit is slightly better, by less than the log k that B's fewer parameter is worth."""
    shape = ETAS ** -1 * np.log(1 / ETAS)
    for bend in np.linspace(0.0, 0.2, 401):
        times = shape * ETAS ** -bend * np.exp(0.01 * np.cos(np.arange(ETAS.size)))
        _, rss_a, rss_b, _, _ = independent_scores(ETAS, times)
        k = ETAS.size
        if rss_a < rss_b and k * np.log(rss_b / rss_a) < 0.5 * np.log(k):
            return times
    raise AssertionError("no times where the penalty decides")


def test_the_one_parameter_fewer_is_worth_log_k():
    times = penalty_decides()
    assert compare_rate_models(ETAS, times)["prefers_log"]


@pytest.mark.negative_control
def test_control_equal_penalties_prefer_the_power_law_where_the_penalty_decides():
    times = penalty_decides()
    *_, bic_a, bic_b = independent_scores(ETAS, times, penalty_log=2.0)
    assert not bic_b < bic_a

