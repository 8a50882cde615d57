"""The error budgets of the statistical checks (theory.testing.statistics), against their definitions.

The sign test's critical value is checked from both sides (its tail is at most
α, one less would exceed it); its power at q = 1/2 is its false-fail rate; the
KS power bound is a lower bound on the rejection rate of the real test against
a law at the stated distance; the intervals cover what they claim. The sample
sizes are the smallest that reach the power (the sign test's by its definition,
KS's by the monotone bound, from both sides); the median's interval is the pair
of order statistics of the largest admissible rank, the mean's Student's t.
Controls: a critical value one too small breaks the false-fail budget; a KS
"bound" without the DKW margin overstates the power; a sample size one too large
and a median interval one rank too narrow are caught.
"""

import numpy as np
import pytest
from hypothesis import example, given, note
from hypothesis import strategies as st
from scipy import stats

from ..support import counterexample, holds
from theory.testing.statistics import (
    ks_critical, ks_power_lower_bound, ks_samples, mean_ci, median_ci, paired_sign_test_draws,
    paired_sign_test_power, per_run_false_fail, proportion_ci, sign_test_critical, sign_test_draws,
    sign_test_power,
)
from theory.testing.strategies import log_uniform, seeds
from theory.testing.tolerances import IDENTITY_RTOL

alphas = log_uniform(1e-6, 0.2)


def check_critical_value(n, alpha, critical=sign_test_critical):
    k = critical(n, alpha)
    tail = stats.binom.sf(k - 1, n, 0.5)  # P(X >= k)
    note(f"n = {n}, alpha = {alpha!r}, k = {k}, tail = {tail!r}")
    assert tail <= alpha, f"P(X >= {k}) = {tail:.3g} > alpha"
    if k >= 1:
        assert stats.binom.sf(k - 2, n, 0.5) > alpha, f"k = {k} is not the smallest critical value"


@given(st.integers(0, 400), alphas)
def test_sign_test_critical_value_is_the_smallest_with_tail_at_most_alpha(n, alpha):
    check_critical_value(n, alpha)


@pytest.mark.negative_control
def test_control_a_critical_value_one_too_small_breaks_the_false_fail_budget():
    counterexample(st.tuples(st.integers(1, 400), alphas),
                   lambda c: check_critical_value(*c, critical=lambda n, a: max(sign_test_critical(n, a) - 1, 0))
                   is None)


@given(st.integers(1, 400), alphas, st.floats(0.5, 1.0))
@example(n=269, alpha=1e-06, q=0.5000000000000001)
def test_sign_test_power_is_at_most_alpha_under_the_null_and_grows_with_q(n, alpha, q):
    assert sign_test_power(n, alpha, 0.5) <= alpha
    # scipy's binomial tail (a regularized incomplete beta function) is accurate to about 1e-14
    # relative, so one ulp above q = 1/2 it may come out a few ulps lower (6e-15 relative at the
    # pinned example): monotone up to IDENTITY_RTOL, relative.
    assert sign_test_power(n, alpha, q) >= sign_test_power(n, alpha, 0.5) * (1.0 - IDENTITY_RTOL)


@given(st.integers(1, 80), alphas, st.floats(0.05, 1.0), st.floats(0.5, 1.0))
def test_paired_power_is_a_mixture_of_the_powers_at_each_number_of_differing_pairs(draws, alpha, differ, q):
    # Not monotone in n (the test is discrete), but a weighted mean of power(n), n = 0 .. draws.
    powers = [sign_test_power(n, alpha, q) for n in range(draws + 1)]
    p = paired_sign_test_power(draws, alpha, differ, q)
    assert min(powers) - 1e-12 <= p <= max(powers) + 1e-12
    assert paired_sign_test_power(draws, alpha, 1.0, q) == pytest.approx(powers[-1], rel=1e-12)


def ks_rejection_rate(n, alpha, distance, seed, runs=200):
    """Monte Carlo rate at which the KS test rejects U(0, 1) against a law at sup-distance ``distance``.

    The law: an atom at 1/2 of weight 2·distance mixed with U(0, 1), whose CDF
    differs from the uniform one by at most ``distance`` (at 1/2 exactly), so the
    statistic concentrates near the critical value when the distance does and the
    power is far from both 0 and 1 there.
    """
    rng = np.random.default_rng(seed)
    c = ks_critical(n, alpha)
    rejections = 0
    for _ in range(runs):
        u = rng.random(n)
        sample = np.where(rng.random(n) < 2.0 * distance, 0.5, u)
        rejections += stats.kstest(sample, "uniform").statistic > c
    return rejections / runs, runs


def check_ks_power_bound(n, alpha, shift, seed, bound=ks_power_lower_bound):
    rate, runs = ks_rejection_rate(n, alpha, shift, seed)
    claimed = bound(n, alpha, shift)
    # The Monte Carlo rate has its own error: the check fails only when the claimed
    # power exceeds the rate's exact 1e-6 upper confidence limit (false-fail rate 1e-6).
    upper = proportion_ci(int(round(rate * runs)), runs, level=1 - 2e-6)[1]
    note(f"n = {n}, shift = {shift!r}: rejection rate {rate} ({runs} runs, upper limit {upper:.3g}), "
         f"claimed power {claimed:.3g}")
    assert claimed <= upper, f"claimed power {claimed:.3g} above the measured rate {rate} (upper {upper:.3g})"


@given(st.integers(20, 400), log_uniform(1e-4, 0.1), st.floats(0.02, 0.5), seeds())
def test_ks_power_lower_bound_is_below_the_measured_rejection_rate(n, alpha, shift, seed):
    check_ks_power_bound(n, alpha, shift, seed)


@pytest.mark.negative_control
def test_control_ks_power_without_the_dkw_margin_overstates_the_power():
    def no_margin(n, alpha, distance):  # injected bug: reject as soon as D > c, with certainty
        return 1.0 if distance > ks_critical(n, alpha) else 0.0

    # Alternatives just beyond the critical value, where the real power is far from 1.
    near = st.tuples(st.integers(20, 400), log_uniform(1e-4, 0.1), st.floats(0.0, 0.02), seeds()).map(
        lambda c: (c[0], c[1], ks_critical(c[0], c[1]) * (1.0 + c[2]), c[3]))
    counterexample(near, holds(check_ks_power_bound, bound=no_margin), shrink=False)


@given(st.integers(0, 200).flatmap(lambda n: st.tuples(st.integers(0, max(n, 1)), st.just(max(n, 1)))))
def test_proportion_interval_contains_the_estimate(case):
    k, n = case
    low, high = proportion_ci(k, n)
    assert 0.0 <= low <= k / n <= high <= 1.0


@given(st.integers(6, 400), seeds())
def test_median_interval_brackets_the_sample_median_between_order_statistics(n, seed):
    x = np.random.default_rng(seed).standard_normal(n)
    low, high = median_ci(x)
    assert low <= np.median(x) <= high
    assert low in x and high in x


def test_per_run_false_fail_is_the_union_of_independent_examples():
    assert per_run_false_fail(1e-6, 4000) == pytest.approx(1 - (1 - 1e-6) ** 4000, rel=1e-12)
    assert per_run_false_fail(1e-6, 4000) <= 4000 * 1e-6


# --- sample sizes: the smallest that reach the power ------------------------------------------

powers = st.floats(0.5, 0.99)


def check_ks_samples(alpha, power, distance, samples=ks_samples):
    n = samples(alpha, power, distance)
    note(f"n = {n}")
    assert ks_power_lower_bound(n, alpha, distance) >= power
    assert n == 1 or ks_power_lower_bound(n - 1, alpha, distance) < power  # the bound grows with n


@given(log_uniform(1e-6, 0.1), powers, st.floats(0.05, 0.5))
def test_ks_samples_is_the_smallest_size_whose_power_bound_reaches_the_power(alpha, power, distance):
    check_ks_samples(alpha, power, distance)


def check_sign_test_draws(alpha, power, q, draws=sign_test_draws):
    n = draws(alpha, power, q)
    note(f"n = {n}")
    assert sign_test_power(n, alpha, q) >= power
    assert all(sign_test_power(k, alpha, q) < power for k in range(1, n))


@given(log_uniform(1e-4, 0.1), powers, st.floats(0.65, 0.95))
def test_sign_test_draws_is_the_first_size_whose_power_reaches_the_power(alpha, power, q):
    check_sign_test_draws(alpha, power, q)


@given(log_uniform(1e-2, 0.1), st.floats(0.5, 0.8), st.floats(0.5, 1.0), st.floats(0.8, 0.95))
def test_paired_sign_test_draws_is_the_first_number_of_draws_whose_power_reaches_the_power(alpha, power, differ, q):
    n = paired_sign_test_draws(alpha, power, differ, q)
    assert paired_sign_test_power(n, alpha, differ, q) >= power
    assert n == 1 or paired_sign_test_power(n - 1, alpha, differ, q) < power


@pytest.mark.negative_control
def test_control_sample_sizes_one_too_large_are_caught():
    counterexample(st.tuples(log_uniform(1e-6, 0.1), powers, st.floats(0.05, 0.5)),
                   holds(check_ks_samples, samples=lambda *a: ks_samples(*a) + 1), shrink=False)
    counterexample(st.tuples(log_uniform(1e-4, 0.1), powers, st.floats(0.65, 0.95)),
                   holds(check_sign_test_draws, draws=lambda *a: sign_test_draws(*a) + 1), shrink=False)


# --- the intervals' definitions ---------------------------------------------------------------


def check_median_rank(x, level, interval=median_ci):
    """``interval`` is (x_(j), x_(n+1−j)) with j the largest rank with 2P(B < j) <= 1 − level."""
    x = np.sort(x)
    n = x.size
    low, high = interval(x, level=level)
    ranks = np.arange(1, n // 2 + 1)
    ok = ranks[2.0 * stats.binom.cdf(ranks - 1, n, 0.5) <= 1.0 - level]
    if ok.size == 0:
        assert (low, high) == (-np.inf, np.inf)
        return
    j = int(ok[-1])
    note(f"n = {n}, j = {j}")
    assert (low, high) == (x[j - 1], x[n - j])


@given(st.integers(1, 300), st.floats(0.5, 0.999), seeds())
def test_median_interval_is_the_pair_of_order_statistics_of_the_largest_admissible_rank(n, level, seed):
    check_median_rank(np.random.default_rng(seed).standard_normal(n), level)


@pytest.mark.negative_control
def test_control_a_median_interval_one_rank_too_narrow_is_caught():
    def narrow(x, level):
        x = np.sort(x)
        low, high = median_ci(x, level=level)
        j = int(np.searchsorted(x, low)) + 1
        return (x[j], x[x.size - j - 1]) if np.isfinite(low) and j < x.size // 2 else (low, high)

    counterexample(st.tuples(st.integers(10, 300), st.floats(0.5, 0.99), seeds()).map(
        lambda c: (np.random.default_rng(c[2]).standard_normal(c[0]), c[1])),
        holds(check_median_rank, interval=narrow))


@given(st.integers(2, 200), st.floats(0.5, 0.999), seeds())
def test_mean_interval_is_students_t_interval(n, level, seed):
    x = np.random.default_rng(seed).standard_normal(n)
    expected = stats.t.interval(level, n - 1, loc=x.mean(), scale=stats.sem(x))
    np.testing.assert_allclose(mean_ci(x, level=level), expected, rtol=IDENTITY_RTOL, atol=IDENTITY_RTOL)
