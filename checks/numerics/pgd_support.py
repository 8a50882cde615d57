"""Drawn and pinned PGD runs shared by the PGD checks (``test_numerics_pgd.py``, ``test_numerics_compiled.py``)."""

from hypothesis import note
from hypothesis import strategies as st

from theory.geometry import uniform_ball
from theory.testing.strategies import log_uniform, pinned_perturbation_cases, problems, seeds


@st.composite
def pgd_cases(draw):
    problem = draw(problems(d=st.integers(1, 6), m=st.integers(1, 32)))
    starts = uniform_ball(draw(seeds()), draw(st.integers(1, 5)), problem.d, problem.eps)
    eta = draw(log_uniform(1e-4, 1.0)) * problem.eps  # steps from tiny to a sizeable part of ε
    steps = draw(st.integers(0, 25))
    note(f"{problem!r}, eta={eta:g}, steps={steps}")
    return problem, starts, eta, steps


#: (problem, starts, η, steps) at the pinned cases: starts δ = 0, halfway to the sphere and on it,
#: η = 10^-4 ε and ε, 5 steps.
PINNED_CASES = [(problem, delta, fraction * problem.eps, 5)
                for problem, delta, _, _ in pinned_perturbation_cases() for fraction in (1e-4, 1.0)]
