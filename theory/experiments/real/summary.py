r"""The escape statistics of a study: paired comparisons between two input scales and per-panel summaries, with intervals.

* :func:`paired_comparison`: over the same test images at two scales, how many
  escape faster at the smaller scale, slower, or in the same step; the share q of
  "slower" among the pairs that differ with its exact (Clopper–Pearson) 95 %
  interval, and the one-sided sign tests' p-values both ways.
* :func:`panel_summary`: the median escape time with its distribution-free 95 %
  interval, the median length of the first step in units of ε, and the shares of images whose search found a maximum, whose gradient
  is exactly 0 at the start (float64 underflow) and that did not escape.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binomtest

from theory.testing.statistics import median_ci, proportion_ci

__all__ = ["paired_comparison", "panel_summary", "sign_test_p"]


def sign_test_p(worse, better) -> float:
    """One-sided sign test: p-value of "worse" pairs outnumbering "better" ones (1 when no pair differs)."""
    if worse + better == 0:
        return 1.0
    return float(binomtest(int(worse), int(worse + better), 0.5, alternative="greater").pvalue)


def paired_comparison(small, large):
    """Escape times at the smaller and the larger scale for the same images (larger is slower)."""
    small, large = np.asarray(small), np.asarray(large)
    if small.shape != large.shape or small.ndim != 1 or small.size == 0:
        raise ValueError("small and large must be 1-d arrays of the same, non-zero length")
    slower, faster = int(np.sum(small > large)), int(np.sum(small < large))
    differ = slower + faster
    q = slower / differ if differ else float("nan")
    ci = proportion_ci(slower, differ) if differ else (0.0, 1.0)
    return dict(n=int(small.size), faster=faster, slower=slower, ties=int(small.size - differ), q_slower=q,
                q_slower_ci=list(ci), p_small_slower=sign_test_p(slower, faster),
                p_small_faster=sign_test_p(faster, slower))


def panel_summary(panel, convention, steps):
    """Median escape time (with CI), shares found / zero gradient / not escaped, for one panel and convention."""
    times = np.asarray(panel.times[convention], dtype=float)
    n = times.size
    lo, hi = median_ci(times)
    not_escaped = int(np.sum(times > steps))
    first = np.asarray(panel.first_step.get(convention, np.full(n, np.nan)), dtype=float)
    return dict(scale=panel.scale, ratio=panel.ratio, eps=panel.eps, convention=convention, n=n,
                median_time=float(np.median(times)), median_time_ci=[lo, hi],
                median_first_step=float(np.median(first)),
                found=float(np.mean(panel.found)), zero_gradient=float(np.mean(panel.zero_gradient)),
                not_escaped=not_escaped / n, not_escaped_ci=list(proportion_ci(not_escaped, n)))
