"""Hypothesis strategies of the conformance properties: networks, inputs and radii an attack must handle.

The paper's x is any point of R^d, not an image: d from 2 to 784 (an MNIST image's size),
‖x‖ from 0.01 to 100 (section 5.1's input scales) in a uniform direction (so most inputs are
outside [0, 1]^d), ε from 10^-3 to 3 times ‖x‖ (the regimes' radii and beyond), m from 1 to
64, the paper's quadratic loss. Each draw shrinks towards d = 2, m = 1, ‖x‖ = 0.01. The Δη⁻
property needs Lemma 4.5's setting: its draws are in Theorem 3.1's regime (:func:`regime_attack_cases`).
"""

from __future__ import annotations

from hypothesis import strategies as st

from theory.testing.strategies import log_uniform, problems, regime_problems, seeds

__all__ = ["attack_problems", "attack_cases", "regime_attack_cases", "cases_for", "MAX_DIM"]

#: Largest input dimension drawn: 28 × 28.
MAX_DIM = 784


def attack_problems(d=st.integers(2, MAX_DIM), m=st.integers(1, 64)):
    """Problems (quadratic loss) over the range above."""
    return problems(d=d, m=m, input_scale=log_uniform(1e-2, 1e2), ratio=log_uniform(1e-3, 3.0), loss="quadratic")


def attack_cases(**kwargs):
    """(problem, seed) pairs: the problem of :func:`attack_problems` and the attack's seed."""
    return st.tuples(attack_problems(**kwargs), seeds())


def regime_attack_cases():
    """(problem, seed) pairs inside Theorem 3.1's regime (ε from 0.3 to 0.99 ε_max): Lemma 4.5's setting."""
    return st.tuples(regime_problems("theorem_3_1", eps_fraction=log_uniform(0.3, 0.99)), seeds())


def cases_for(name, **kwargs):
    """The draws of property ``name``: Lemma 4.5's regime for ``avoids_delta_minus``, :func:`attack_cases` otherwise."""
    return regime_attack_cases() if name == "avoids_delta_minus" else attack_cases(**kwargs)

