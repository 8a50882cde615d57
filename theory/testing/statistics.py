r"""Error budgets of the statistical checks: false-fail rates, power against named alternatives, sample sizes.

Every Monte-Carlo assertion of the suite is a hypothesis test. Its budget has
two sides, both computed here rather than asserted:

* the **false-fail rate**: the probability that a correct implementation (the
  claim true, at the boundary of the null hypothesis) fails one example, and,
  over a run of N examples, at most :func:`per_run_false_fail` (a union bound);
* the **power**: the probability of failing when a named alternative is true
  (the bug or the reversed claim a control injects), computed exactly for the
  sign test and bounded from below for the Kolmogorov–Smirnov test.

The number of draws of each check is the smallest one that reaches a stated
power at a stated level (:func:`sign_test_draws`, :func:`paired_sign_test_draws`,
:func:`ks_samples`), and the intervals the findings quote are exact
(Clopper–Pearson for proportions, order statistics for medians).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from theory._validation import check_positive_int

__all__ = [
    "per_run_false_fail",
    "sign_test_critical",
    "sign_test_power",
    "sign_test_draws",
    "paired_sign_test_power",
    "paired_sign_test_draws",
    "ks_critical",
    "ks_power_lower_bound",
    "ks_samples",
    "proportion_ci",
    "median_ci",
    "mean_ci",
]


def _probability(name, value, *, open_low=True, open_high=True):
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a probability (float), got {type(value).__name__}") from None
    low_ok = value > 0.0 if open_low else value >= 0.0
    high_ok = value < 1.0 if open_high else value <= 1.0
    if not (low_ok and high_ok):
        raise ValueError(f"{name} must be in {'(' if open_low else '['}0, 1{')' if open_high else ']'}, got {value!r}")
    return value


def per_run_false_fail(alpha, examples) -> float:
    """Upper bound on the probability that a run of ``examples`` independent tests at level α fails at least once.

    :math:`1 - (1 - \\alpha)^N \\le N\\alpha`; exact for independent examples.
    """
    alpha = _probability("alpha", alpha)
    examples = check_positive_int("examples", examples)
    return float(-math.expm1(examples * math.log1p(-alpha)))


def sign_test_critical(n, alpha) -> int:
    r"""The smallest k with :math:`P(\mathrm{Binom}(n, 1/2) \ge k) \le \alpha` (n + 1 when none).

    The one-sided sign test over n differing pairs rejects "no effect" when at
    least k pairs go the tested way; its false-fail rate is
    :math:`P(\mathrm{Binom}(n, 1/2) \ge k) \le \alpha` exactly, and lower when the
    true probability is below 1/2.
    """
    n = check_positive_int("n", n, minimum=0)
    alpha = _probability("alpha", alpha)
    k = np.arange(n + 2)
    tail = stats.binom.sf(k - 1, n, 0.5)  # P(X >= k)
    return int(k[np.argmax(tail <= alpha)]) if np.any(tail <= alpha) else n + 1


def sign_test_power(n, alpha, q) -> float:
    """Power of the one-sided sign test over n differing pairs when each goes the tested way with probability q."""
    q = _probability("q", q, open_low=False, open_high=False)
    k = sign_test_critical(n, alpha)
    return float(stats.binom.sf(k - 1, n, q)) if k <= n else 0.0


def sign_test_draws(alpha, power, q, *, max_n=100_000) -> int:
    """The smallest n of differing pairs at which :func:`sign_test_power` reaches ``power``."""
    power = _probability("power", power)
    q = _probability("q", q)
    if q <= 0.5:
        raise ValueError(f"q must exceed 1/2 for the test to have power, got {q!r}")
    for n in range(1, check_positive_int("max_n", max_n) + 1):
        if sign_test_power(n, alpha, q) >= power:
            return n
    raise ValueError(f"no n <= max_n={max_n} reaches power {power} at alpha {alpha} against q = {q}")


def paired_sign_test_power(draws, alpha, differ, q) -> float:
    r"""Power of the sign test over ``draws`` paired draws, each differing with probability ``differ``.

    The number of differing pairs is :math:`\mathrm{Binom}(\text{draws}, \text{differ})`; given n
    of them, the power is :func:`sign_test_power` (n, α, q). Exact:
    :math:`\sum_n P(N = n)\,\mathrm{power}(n)`.
    """
    draws = check_positive_int("draws", draws)
    differ = _probability("differ", differ, open_low=True, open_high=False)
    n = np.arange(draws + 1)
    weights = stats.binom.pmf(n, draws, differ)
    return float(sum(w * sign_test_power(int(k), alpha, q) for k, w in zip(n, weights) if w > 0))


def paired_sign_test_draws(alpha, power, differ, q, *, max_draws=10_000) -> int:
    """The smallest number of paired draws at which :func:`paired_sign_test_power` reaches ``power``."""
    power = _probability("power", power)
    for draws in range(1, check_positive_int("max_draws", max_draws) + 1):
        if paired_sign_test_power(draws, alpha, differ, q) >= power:
            return draws
    raise ValueError(f"no number of draws <= {max_draws} reaches power {power}")


def ks_critical(n, alpha) -> float:
    """The critical value c of the two-sided one-sample KS statistic: P(D_n > c) = α under the null (exact)."""
    n = check_positive_int("n", n)
    alpha = _probability("alpha", alpha)
    return float(stats.kstwo.isf(alpha, n))


def ks_power_lower_bound(n, alpha, distance) -> float:
    r"""A lower bound on the power of the KS test against any law at sup-distance ``distance`` from the null.

    With F the true CDF, :math:`\sup|F - F_0| = D`, and :math:`F_n` the empirical
    CDF, :math:`D_n = \sup|F_n - F_0| \ge D - \sup|F_n - F|`, and by the
    Dvoretzky–Kiefer–Wolfowitz inequality (Massart's constant)
    :math:`P(\sup|F_n - F| > t) \le 2e^{-2nt^2}`. The test rejects when
    :math:`D_n > c` (:func:`ks_critical`), so the power is at least
    :math:`1 - 2e^{-2n(D - c)^2}` when D > c (0 otherwise).
    """
    c = ks_critical(n, alpha)
    distance = _probability("distance", distance, open_low=True, open_high=False)
    if distance <= c:
        return 0.0
    return float(max(0.0, 1.0 - 2.0 * math.exp(-2.0 * n * (distance - c) ** 2)))


def ks_samples(alpha, power, distance, *, max_n=10**7) -> int:
    """The smallest sample size whose :func:`ks_power_lower_bound` reaches ``power`` (doubling, then bisection)."""
    power = _probability("power", power)
    max_n = check_positive_int("max_n", max_n)
    hi = 1
    while ks_power_lower_bound(hi, alpha, distance) < power:
        hi *= 2
        if hi > max_n:
            raise ValueError(f"no sample size <= max_n={max_n} reaches power {power}")
    lo = hi // 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ks_power_lower_bound(mid, alpha, distance) >= power:
            hi = mid
        else:
            lo = mid
    return hi


def proportion_ci(successes, n, *, level=0.95):
    """Exact (Clopper–Pearson) confidence interval (low, high) for a proportion of ``successes`` in n."""
    n = check_positive_int("n", n)
    successes = check_positive_int("successes", successes, minimum=0)
    if successes > n:
        raise ValueError(f"successes must be <= n={n}, got {successes}")
    level = _probability("level", level)
    ci = stats.binomtest(successes, n).proportion_ci(confidence_level=level, method="exact")
    return float(ci.low), float(ci.high)


def median_ci(values, *, level=0.95):
    r"""Distribution-free confidence interval for the median: order statistics (x_(j), x_(n+1−j)).

    With n values and B ~ Binom(n, 1/2), the interval between the j-th smallest
    and the j-th largest value covers the median with probability at least
    :math:`1 - 2P(B < j)`; j is the largest rank with :math:`2P(B < j) \le 1 - \text{level}`
    ((−inf, inf) when even j = 1 does not reach the level). Infinite values are
    allowed (they sort last).
    """
    x = np.sort(np.asarray(values, dtype=float))
    if x.ndim != 1 or x.size < 1 or np.any(np.isnan(x)):
        raise ValueError("values must be a non-empty 1-d array without NaN")
    level = _probability("level", level)
    n = x.size
    ranks = np.arange(1, n // 2 + 1)
    ok = 2.0 * stats.binom.cdf(ranks - 1, n, 0.5) <= 1.0 - level
    if not np.any(ok):
        return float("-inf"), float("inf")
    j = int(ranks[ok][-1])
    return float(x[j - 1]), float(x[n - j])


def mean_ci(values, *, level=0.95):
    """Student-t confidence interval (low, high) for a mean (n >= 2)."""
    x = np.asarray(values, dtype=float)
    if x.ndim != 1 or x.size < 2 or not np.all(np.isfinite(x)):
        raise ValueError("values must be a 1-d array of at least 2 finite numbers")
    level = _probability("level", level)
    half = stats.t.ppf(0.5 + level / 2.0, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    return float(x.mean() - half), float(x.mean() + half)
