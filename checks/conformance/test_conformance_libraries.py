"""The four attack libraries' L2 PGDs against the paper's algorithm (the optional extra ``attacks``).

For each library adapter of :mod:`theory.attacks.libraries` and each property of
:mod:`theory.attacks.properties`, the verdict found by the conformance search
(:func:`theory.attacks.conformance.run_property`: Hypothesis looks for a draw that deviates and
shrinks it) must be the one recorded in :data:`theory.attacks.libraries.EXPECTED`. A library
release that changes its start, its step or its projection changes a verdict and fails here,
with the shrunk reproducer in the message. Without torch or a library, its checks are skipped
with the reason (``available_attacks``). A "conforms" verdict is a search that found no
deviation in its budget; a "deviates" verdict is a found, shrunk counterexample.
"""

import pytest

from theory.attacks.conformance import run_property
from theory.attacks.libraries import EXPECTED, LIBRARIES, available_attacks
from theory.attacks.properties import PROPERTIES

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
