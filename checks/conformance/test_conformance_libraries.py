"""The four attack libraries' L2 PGDs against the paper's algorithm (the optional extra ``attacks``).

For each library adapter of :mod:`theory.attacks.libraries` and each property of
:mod:`theory.attacks.properties`, the verdict found by the conformance search
(:func:`theory.attacks.conformance.run_property`: Hypothesis looks for a draw that deviates and
shrinks it) must be the one recorded in :data:`theory.attacks.libraries.EXPECTED`. A library
release that changes its start, its step or its projection changes a verdict and fails here,
with the shrunk reproducer in the message. Without torch or a library, its checks are skipped
with the reason (``available_attacks``). A "conforms" verdict is a search that found no
deviation in its budget; a "deviates" verdict is a found, shrunk counterexample.

A finding beside the verdicts: torchattacks' start is uniform in radius (δ_0 = ε U ω), not in the
ball, which shows where its clamp to [0, 1]^d does not act (x at the centre of the cube, ε = 0.05,
d = 10: the KS test rejects, and the median radius is ε/2 instead of 2^{-1/10} ε); the project's
start passes the same test there.
"""

import numpy as np
import pytest

from theory.attacks import ProjectPGD
from theory.attacks.conformance import run_property
from theory.attacks.libraries import EXPECTED, LIBRARIES, available_attacks
from theory.attacks.properties import PROPERTIES, START_DRAWS, check_uniform_start
from theory.testing.statistics import median_ci

ATTACKS, MISSING = available_attacks()
BY_MODULE = {module: next((a for a in ATTACKS if isinstance(a, adapter)), None) for module, adapter in LIBRARIES.items()}

#: Draws per single-step property in these checks (the report's default is larger).
EXAMPLES = 6


@pytest.mark.parametrize("module", sorted(LIBRARIES))
@pytest.mark.parametrize("name", list(PROPERTIES))
def test_each_library_has_its_recorded_verdict_on_each_property(module, name):
    attack = BY_MODULE[module]
    if attack is None:
        pytest.skip(f"{module} cannot run: {MISSING[module]}")
    verdict = run_property(attack, name, examples=EXAMPLES)
    expected = EXPECTED[attack.name][name]
    assert verdict["status"] == expected, (f"{attack.name} {attack.version}, {name}: {verdict['status']} "
                                           f"(recorded: {expected}); reproducer: {verdict['reproducer']}")


def test_every_library_and_property_has_a_recorded_verdict():
    names = {adapter.name for adapter in LIBRARIES.values()}
    assert set(EXPECTED) == names
    assert all(set(verdicts) == set(PROPERTIES) for verdicts in EXPECTED.values())


def centre_of_the_cube(d=10, eps=0.05, seed=0):
    """x at the centre of [0, 1]^d with a radius that keeps the ball inside it (torchattacks' clamp never acts)."""
    from theory.network import draw_network
    from theory.problem import Problem

    return Problem(draw_network(d, 16, seed=seed), np.full(d, 0.5), 1.0, eps)


def test_finding_torchattacks_starts_uniform_in_radius_even_where_its_clamp_does_not_act():
    attack = BY_MODULE["torchattacks"]
    if attack is None:
        pytest.skip(f"torchattacks cannot run: {MISSING['torchattacks']}")
    with pytest.raises(AssertionError, match="is not uniform: KS statistic"):
        check_uniform_start(attack, centre_of_the_cube(), seed=0)
    radius = np.linalg.norm(attack.start(centre_of_the_cube(), START_DRAWS, 0), axis=1) / 0.05
    # Uniform in radius: the median radius is 1/2, where the ball's is 2^(-1/10) = 0.93.
    low, high = median_ci(radius, level=0.999)
    assert low <= 0.5 <= high


def test_the_reference_start_passes_the_same_test_at_the_centre_of_the_cube():
    check_uniform_start(ProjectPGD(), centre_of_the_cube(), seed=0)


@pytest.mark.parametrize("module", sorted(LIBRARIES))
def test_each_library_attack_runs_without_printing(module, capfd):
    # A progress bar or a log line per run would flood the conformance report's output.
    from theory.problem import make_problem

    attack = BY_MODULE[module]
    if attack is None:
        pytest.skip(f"{module} cannot run: {MISSING[module]}")
    capfd.readouterr()
    run = attack.run(make_problem(3, 8, seed=0, eps=0.1), 2, 0.01, 3, 0)
    assert np.asarray(run).shape[-1] == 3
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
