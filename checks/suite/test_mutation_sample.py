"""The mutation sample: its allocation, its draw and its estimate (``reliability/mutation_sample.py``).

* every module gets its proportional share, at least the minimum, never more than it has;
* the draw is reproducible from its seed and takes each module's mutants without replacement;
* the sample size is the smallest n whose one-sided lower bound clears the target at the planning
  share (checked at n and at n − 1);
* the stratified estimate of a fully sampled population has no sampling error (the finite-population
  correction), and Wilson's interval contains the observed share.

Negative control: an estimate without the finite-population correction keeps an interval around a
population that was sampled whole.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st

from ..support import reliability_script, skip_without_source_tree

skip_without_source_tree()

mutation_sample = reliability_script("mutation_sample")

SIZES = st.dictionaries(st.sampled_from([f"m{i}" for i in range(12)]), st.integers(1, 400), min_size=1)


@given(SIZES, st.integers(1, 3000))
def test_every_module_gets_its_share_at_least_the_minimum_and_at_most_its_mutants(sizes, n):
    counts = mutation_sample.allocate(sizes, n)
    total = sum(sizes.values())
    for module, size in sizes.items():
        assert counts[module] == min(size, max(mutation_sample.MINIMUM_PER_MODULE, round(n * size / total)))
        assert 1 <= counts[module] <= size


@given(SIZES, st.integers(0, 2**32 - 1))
def test_the_draw_is_reproducible_and_without_replacement(sizes, seed):
    pop = {module: [f"theory.{module}.x_f__mutmut_{i}" for i in range(size)] for module, size in sizes.items()}
    first, again = mutation_sample.draw(pop, 200, seed), mutation_sample.draw(pop, 200, seed)
    assert first == again
    for module, keys in first.items():
        assert len(set(keys)) == len(keys) and set(keys) <= set(pop[module])


def lower_bound(n, share=mutation_sample.PLANNING_SHARE):
    return share - mutation_sample.Z_ONE_SIDED * math.sqrt(share * (1 - share) / n)


def test_the_sample_size_is_the_smallest_that_clears_the_target():
    n = mutation_sample.sample_size()
    assert lower_bound(n) >= mutation_sample.TARGET > lower_bound(n - 1)
    with pytest.raises(ValueError, match="^share: "):
        mutation_sample.sample_size(share=0.95)


def check_a_whole_population_has_no_sampling_error(estimate=mutation_sample.estimate):
    share, low, high, lower = estimate([(40, 40, 38), (10, 10, 10)])
    assert share == pytest.approx((38 + 10) / 50)
    assert low == pytest.approx(share) and high == pytest.approx(share) and lower == pytest.approx(share)


def test_a_whole_population_has_no_sampling_error():
    check_a_whole_population_has_no_sampling_error()


@pytest.mark.negative_control
def test_control_an_estimate_without_the_finite_population_correction_is_caught():
    def without_correction(strata):
        return mutation_sample.estimate([(10**9, n, d) for _, n, d in strata])  # the bug: N taken as infinite
    with pytest.raises(AssertionError):
        check_a_whole_population_has_no_sampling_error(without_correction)


@given(st.integers(1, 2000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilsons_interval_contains_the_observed_share(case):
    detected, n = case
    low, high = mutation_sample.wilson(detected, n)
    assert 0 <= low <= detected / n <= high <= 1
