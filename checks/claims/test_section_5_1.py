r"""Section 5.1 (input scale, landscape and convergence; Figures 1–3).

Claims. At a fixed perturbation ratio r (ε = r‖x‖), a smaller input scale
(5.1.1) gives a more regular landscape — no more local minima on the sphere —
and (5.1.2) a faster escape of PGD from a local maximum.

Executable form (statistical, over paired draws)
------------------------------------------------
Each Hypothesis example draws a base seed; PAIRED_DRAWS seeds from it give
networks and inputs, each evaluated at ‖x‖ = SMALL_SCALE and LARGE_SCALE with
the same ratio, in Figure 1's setting (d = 2; constants in :mod:`theory.experiments.scale`).
A property "the small scale is no worse" fails when the opposite is
significant: a one-sided sign test over the pairs that differ rejects at
STATISTICAL_ALPHA. Each example is itself a 40-draw experiment, so these tests
run 1/20 of the profile's examples (at least 2).

* Landscape: local minima counted by :func:`theory.experiments.scale.count_minima` (the
  certified circle scan, the same code as Figure 1 and its table) at
  r = LANDSCAPE_RATIO; per draw as well, against the smallest scale of
  Figure 1 (repaired statement below).
* Escape: :func:`theory.experiments.scale.escape_steps` (steps until the loss has dropped
  by 20 % of its range on the sphere, starting next to the highest local
  maximum, with steps of 5 % of ε) at r = ESCAPE_RATIO.

Negative controls: the reversed comparisons are rejected — the large scale
has significantly more minima, and escapes significantly slower, so the
statistics have power; and an injected bug (the small-scale step not rescaled
with ε, 100 times too small) makes the escape property fail.

Finding: the escape effect fades with the ratio: strong at r = 0.3, weaker
at r = 1, absent at r = 3; the landscape effect is robust (r = 1: every
small-scale draw has one minimum, about two at ‖x‖ = 100, exact counts from the
certified circle scan). The counts, with n and 95 % intervals, are printed by
``python -m theory.experiments.findings`` (keys ``escape_by_ratio``, ``landscape_minima``).

Error budget: each example fails a correct implementation (at the null's
boundary) with probability at most STATISTICAL_ALPHA; PAIRED_DRAWS is the
smallest number of paired draws with power STATISTICAL_POWER against the
named alternative of :mod:`theory.experiments.scale` (:mod:`theory.testing.statistics`).

Finding (literal per-draw reading fails)
----------------------------------------
Figure 1 shows one network across scales, which invites a per-draw reading:
for every draw, the number of local minima never decreases as ‖x‖ grows at a
fixed ratio. Hypothesis found a counterexample once the checks recorded their
margins (``target()`` pushes towards more minima at the smaller scale): d = 2,
m = 32, seed 424, r = 1 has exact (certified) counts 1, 1, 2, 2, 2, 1, 1, 1, 3
at ‖x‖ = 0.01, 0.1, 0.5, 1, 2, 5, 10, 30, 100 — 2 minima at ‖x‖ = 1 against
1 at ‖x‖ = 10 (pinned in ``test_literal_*``). Such pairs are rare (key ``per_draw_monotonicity`` of
``python -m theory.experiments.findings``: about 1 in 1000 random pairs of scales in
[0.01, 1000] at r in {0.1, 0.3, 0.5, 1}), so the
statistical statement holds; per draw it holds with one added hypothesis: the
smaller scale is Figure 1's smallest, ‖x‖ = SMALL_SCALE, where every draw so
far has exactly one minimum (``test_per_draw_smallest_input_scale_*``).
"""


import numpy as np
import pytest
from hypothesis import event, example, given, note, settings, target
from hypothesis import strategies as st
from scipy.stats import binomtest

from ..support import counterexample, evidence
from theory.problem import make_problem
from theory.experiments.scale import (
    ESCAPE_RATIO, ESCAPE_STEP_FRACTION, FIGURE_DIM, FIGURE_WIDTH, LANDSCAPE_RATIO, LARGE_SCALE,
    PAIRED_DRAWS, SMALL_SCALE, STATISTICAL_ALPHA, count_minima, escape_steps,
)
from theory.testing.strategies import input_scales, log_uniform, seeds

#: Each example is a PAIRED_DRAWS experiment: run 1/20 of the profile's examples.
STATISTICAL = settings(max_examples=max(2, settings.default.max_examples // 20))


def problem_at(seed, scale, ratio):
    return make_problem(FIGURE_DIM, FIGURE_WIDTH, seed=seed, input_scale=scale, ratio=ratio)


def minima_count(seed, scale, ratio=LANDSCAPE_RATIO, *, certified=None):
    """Local minima of the Figure 1 problem, by the certified circle scan (d = 2).

    ``certified``, a list, receives whether the count is exact (the scan certified).
    """
    count, exact = count_minima(problem_at(seed, scale, ratio), seed)
    event(f"exact count (certified scan): {exact}")
    if certified is not None:
        certified.append(exact)
    return count


def escape(seed, scale, ratio=ESCAPE_RATIO, *, step_fraction=ESCAPE_STEP_FRACTION):
    return escape_steps(problem_at(seed, scale, ratio), seed, step_fraction=step_fraction)


def worse_at_small_scale(small, large):
    """One-sided sign test: p-value of "the small scale is worse" (values: larger is worse)."""
    small, large = np.asarray(small), np.asarray(large)
    worse, better = int(np.sum(small > large)), int(np.sum(small < large))
    if worse + better == 0:
        return 1.0, worse, better
    return binomtest(worse, worse + better, 0.5, alternative="greater").pvalue, worse, better


def check_small_scale_no_worse(measure, base):
    seeds_ = base + np.arange(PAIRED_DRAWS)
    small = [measure(int(s), SMALL_SCALE) for s in seeds_]
    large = [measure(int(s), LARGE_SCALE) for s in seeds_]
    p, worse, better = worse_at_small_scale(small, large)
    note(f"small={small}\nlarge={large}\nsmall worse in {worse} pairs, better in {better}, p={p:.3g}")
    evidence("sampled")  # a statistical statement over PAIRED_DRAWS paired draws
    # Guidance only, not a margin: p is 1 whenever the small scale is worse in no pair, so
    # its ratio to alpha carries no information about how close the claim came to failing.
    target(-float(p), label="minus the p-value of 'the small scale is worse'")
    assert p >= STATISTICAL_ALPHA, f"the small scale is significantly worse (p = {p:.2g})"


def reversed_measure(measure):
    """The opposite claim: swap the scales."""
    def swapped(seed, scale):
        return measure(seed, LARGE_SCALE if scale == SMALL_SCALE else SMALL_SCALE)
    return swapped


BASES = st.integers(0, 2**31)


@STATISTICAL
@given(base=BASES)
def test_smaller_input_scale_gives_no_more_local_minima(base):
    check_small_scale_no_worse(minima_count, base)


@STATISTICAL
@given(base=BASES)
def test_smaller_input_scale_escapes_a_local_maximum_no_slower(base):
    check_small_scale_no_worse(escape, base)


def check_per_draw_count(seed, small, large, ratio):
    """Per draw: no more local minima at input scale ``small`` than at ``large`` (small <= large)."""
    exact = []
    n_small, n_large = (minima_count(seed, s, ratio, certified=exact) for s in (small, large))
    event(f"minima {n_small} -> {n_large}")
    evidence("certified" if all(exact) else "searched")
    target(float(n_small - n_large), label="minima at the smaller scale - at the larger")  # guidance
    assert n_small <= n_large, f"{n_small} minima at |x| = {small:.3g}, {n_large} at {large:.3g}"


PER_DRAW_RATIOS = log_uniform(1e-2, 1.0)


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="literal per-draw reading of 5.1.1: the count is not monotone in the scale")
@example(seed=424, scales=[1.0, 10.0], ratio=1.0)
@given(seed=seeds(), scales=st.tuples(input_scales(), input_scales()).map(sorted), ratio=PER_DRAW_RATIOS)
def test_literal_per_draw_count_of_minima_is_monotone_in_the_input_scale(seed, scales, ratio):
    check_per_draw_count(seed, *scales, ratio)


@given(seed=seeds(), scale=input_scales(SMALL_SCALE, 1e3), ratio=PER_DRAW_RATIOS)
def test_per_draw_smallest_input_scale_has_no_more_local_minima(seed, scale, ratio):
    check_per_draw_count(seed, SMALL_SCALE, scale, ratio)


@pytest.mark.negative_control
def test_control_per_draw_count_breaks_when_the_scales_are_swapped():
    # The injected bug: the check called with the two scales swapped.
    cases = st.tuples(seeds(), st.floats(0.3, 1.0))
    counterexample(cases, lambda c: check_per_draw_count(c[0], LARGE_SCALE, SMALL_SCALE, c[1]) is None,
                   shrink=False)


@pytest.mark.negative_control
def test_control_large_scale_has_significantly_more_minima():
    counterexample(BASES, lambda b: check_small_scale_no_worse(reversed_measure(minima_count), b) is None,
                   shrink=False, max_examples=3)


@pytest.mark.negative_control
def test_control_large_scale_escapes_significantly_slower():
    counterexample(BASES, lambda b: check_small_scale_no_worse(reversed_measure(escape), b) is None,
                   shrink=False, max_examples=3)


@pytest.mark.negative_control
def test_control_escape_check_catches_an_unscaled_step():
    def buggy(seed, scale):  # injected bug: the small-scale step is not rescaled (100 times too small)
        return escape(seed, scale, step_fraction=ESCAPE_STEP_FRACTION / (100 if scale == SMALL_SCALE else 1))
    counterexample(BASES, lambda b: check_small_scale_no_worse(buggy, b) is None,
                   shrink=False, max_examples=3)
