r"""Two models of an output time T(η) against the step η, compared by BIC (Theorem 3.1's rate).

* model A, a power law: log T = c − p log η (two parameters, least squares in log-log);
* model B, Theorem 3.1's rate: T ∝ η^{−1} log(1/η), i.e. log T = c − log η + log log(1/η)
  (one parameter, the constant c, fitted as the mean residual).

With k points and residual sums of squares RSS of log T, the Bayesian information criterion of
a Gaussian model with q parameters is k log(RSS/k) + q log k (up to a shared constant); the model
with the smaller one is preferred, so B's one parameter fewer is worth log k. A tiny constant
(1e-300) inside the logarithm keeps an exact fit (RSS = 0) finite.
"""

from __future__ import annotations

import numpy as np

__all__ = ["compare_rate_models"]

#: Added to RSS/k inside the logarithm: an exact fit scores k·log(1e-300), not −inf.
RSS_FLOOR = 1e-300


def compare_rate_models(etas, times):
    """Fit both models to ``times`` against ``etas`` and score them.

    Parameters
    ----------
    etas, times : array_like, shape (k,)
        Steps in (0, 1) and positive times, k >= 3.

    Returns
    -------
    dict
        ``exponent`` (p of model A), ``rss_power``, ``rss_log``, ``bic_power``, ``bic_log`` and
        ``prefers_log`` (``bic_log < bic_power``).
    """
    x = np.asarray(etas, dtype=np.float64)
    t = np.asarray(times, dtype=np.float64)
    if x.ndim != 1 or x.size < 3 or not np.all((x > 0) & (x < 1)):
        raise ValueError("etas must be a 1-d array of at least 3 steps in (0, 1)")
    if t.shape != x.shape or not np.all(np.isfinite(t) & (t > 0)):
        raise ValueError(f"times must be positive and finite, of the shape of etas {x.shape}")
    x, y = np.log(x), np.log(t)
    k = x.size
    fit = np.polyfit(x, y, 1)
    rss_power = float(np.sum((np.polyval(fit, x) - y) ** 2))
    shape = -x + np.log(-x)  # log(η^-1 log(1/η))
    rss_log = float(np.sum((shape + float(np.mean(y - shape)) - y) ** 2))
    bic_power = k * np.log(rss_power / k + RSS_FLOOR) + 2 * np.log(k)
    bic_log = k * np.log(rss_log / k + RSS_FLOOR) + 1 * np.log(k)
    return dict(exponent=float(-fit[0]), rss_power=rss_power, rss_log=rss_log, bic_power=float(bic_power),
                bic_log=float(bic_log), prefers_log=bool(bic_log < bic_power))
