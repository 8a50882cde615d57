"""Hypothesis strategies of the conformance properties: networks, inputs and radii an attack must handle.

The paper's x is any point of R^d, not an image: d from 2 to 784 (an MNIST image's size),
‖x‖ from 0.01 to 100 (section 5.1's input scales) in a uniform direction (so most inputs are
outside [0, 1]^d), ε from 10^-3 to 3 times ‖x‖ (the regimes' radii and beyond), m from 1 to
64, the paper's quadratic loss. Each draw shrinks towards d = 2, m = 1, ‖x‖ = 0.01.
"""

from __future__ import annotations

from hypothesis import strategies as st

from theory.testing.strategies import log_uniform, problems, seeds

__all__ = ["attack_problems", "attack_cases", "MAX_DIM"]

#: Largest input dimension drawn: 28 × 28.
MAX_DIM = 784


def attack_problems(d=st.integers(2, MAX_DIM), m=st.integers(1, 64)):
    """Problems (quadratic loss) over the range above."""
    return problems(d=d, m=m, input_scale=log_uniform(1e-2, 1e2), ratio=log_uniform(1e-3, 3.0), loss="quadratic")


def attack_cases(**kwargs):
    """(problem, seed) pairs: the problem of :func:`attack_problems` and the attack's seed."""
    return st.tuples(attack_problems(**kwargs), seeds())
