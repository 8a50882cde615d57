r"""Lemma 4.5 (trajectory and local optima).

Statement (section 4). For η < min{1, 𝓛B_l}, if condition (6)

    arccos(∠[∂f(δ), ∂f(δ')]) + arccos(sqrt(((𝓛B_l)² − η)/(𝓛B_l)²)) <= π/4

holds for all δ, δ' ∈ εS^{d-1}, the trajectory initialised uniformly in
B°(0, ε) never reaches Δη⁻; and if δ_{t*} ∈ Δη⁺ then δ_t ∈ Δη⁺ for all t >= t*.

Executable form
---------------
* 𝓛B_l is :func:`theory.testing.regimes.gradient_lower_bound` (𝓛_f B_l: certified
  |∂L/∂f| floor times the gradient floor).
* Δη± are written with the descent cosine ∠[−∂L, δ] (``theory.constrained``:
  +1 near local minima of L, −1 near local maxima); the paper's implicit sign
  is the sign of −L_f.
* Condition (6) is evaluated per draw with a searched minimum gradient cosine
  (:func:`theory.landscape.condition_6`); draws where it fails are discarded
  with an ``event()`` (the lemma says nothing about them).
* 16 starts uniform in the open ball run PGD in chunks until every trajectory
  has spent TAIL steps in Δη⁺ (or MAX_STEPS); every iterate is classified.

Draws come from Theorem 3.1's regime with ε and η in the upper part of their
ranges (fractions 0.3 to 0.99), so that trajectories reach the sphere within
the step budget; the lemma itself needs no ε_max beyond condition (6).

No counterexample to the literal statement was found (the thorough profile
included). Negative controls: a bug injected into the iteration (projecting
onto the sphere instead of the ball, so starts near the antipode land in Δη⁻);
condition (6) violated (d = 2, ε = 3, label gap 10, η = 0.01: the gradients
on the sphere spread over more than π/4 and a trajectory leaves Δη⁺).
"""

import numpy as np
import pytest
from hypothesis import assume, event, given, note
from hypothesis import strategies as st

from ..support import counterexample, evidence, holds, margin
from theory.constrained import delta_eta_region, descent_cosine
from theory.geometry import on_sphere, uniform_ball, unit
from theory.landscape.worst_case import condition_6
from theory.pgd import pgd
from theory.problem import make_problem
from theory.testing.regimes import GRADIENT_FLOOR, gradient_lower_bound
from theory.testing.strategies import log_uniform, regime_etas, regime_problems, seeds

CLAIM = "theorem_3_1"
STARTS = 16
#: Steps every trajectory must spend in Δη⁺ before the run stops (absorption is checked on them).
TAIL = 50
#: Step budget (chunks of CHUNK); the regime's trajectories reach Δη⁺ in a few hundred.
MAX_STEPS = 4000
CHUNK = 250


def run_regions(problem, delta0, eta, lb, *, step=None):
    """Run PGD and classify every iterate.

    Returns regions of shape (steps + 1, STARTS) and the smallest descent cosine
    of an iterate on the sphere (+1 if none is on it).
    """
    regions, current, total, lowest = [], delta0, 0, 1.0
    while total < MAX_STEPS:
        traj = pgd(problem, current, eta=eta, steps=CHUNK) if step is None else step(problem, current, eta, CHUNK)
        new = traj.deltas if total == 0 else traj.deltas[1:]
        cos = descent_cosine(problem, new)
        regions.append(delta_eta_region(problem, new, eta=eta, gradient_lower_bound=lb, cosine=cos))
        sphere = on_sphere(new, problem.eps)
        if sphere.any():
            lowest = min(lowest, float(cos[sphere].min()))
        current, total = traj.final, total + CHUNK
        tail = np.concatenate(regions)[-TAIL:]
        if np.all(tail == 1):
            break
    return np.concatenate(regions), lowest


def check_trajectories_avoid_maxima(problem, eta, seed, *, step=None, require_condition=True,
                                    floor=GRADIENT_FLOOR):
    lb = gradient_lower_bound(problem.bounds.dloss_lower, floor)
    if not eta < min(1.0, lb):
        event("eta >= min(1, LB_l): outside the lemma")
        assume(False)
    lhs, holds = condition_6(problem, eta, lb, seed=seed)
    note(f"eta={eta:.4g}, lb={lb:.4g}, condition (6) lhs={lhs:.4f} (pi/4 = {np.pi / 4:.4f})")
    if require_condition and not holds:
        event("condition (6) fails: discarded")
        assume(False)
    regions, lowest = run_regions(problem, uniform_ball(seed, STARTS, problem.d, problem.eps), eta, lb, step=step)
    evidence("sampled")
    # Delta_eta^- is cos <= -1 + sqrt(eta)/lb, i.e. 1 - cos >= 2 - sqrt(eta)/lb.
    margin(1.0 - lowest, 2.0 - np.sqrt(eta) / lb, "(1 - min descent cosine) / (2 - sqrt(eta)/LB_l), Delta- at 1")
    entered = np.maximum.accumulate(regions == 1, axis=0)
    event("all trajectories reached Delta+" if entered[-1].all() else "some trajectories not in Delta+")
    bad = np.argwhere(regions == -1)
    assert bad.size == 0, f"trajectory {bad[0][1]} is in Delta_eta^- at step {bad[0][0]}"
    left = np.argwhere(entered & (regions != 1))
    assert left.size == 0, f"trajectory {left[0][1]} left Delta_eta^+ at step {left[0][0]}"


def lemma_cases():
    return regime_problems(CLAIM, eps_fraction=log_uniform(0.3, 0.99)).flatmap(
        lambda p: st.tuples(st.just(p), regime_etas(p, CLAIM, fraction=log_uniform(0.3, 0.99)), seeds()))


@given(case=lemma_cases())
def test_trajectories_never_reach_delta_minus_and_delta_plus_is_absorbing(case):
    check_trajectories_avoid_maxima(*case)


def sphere_projection_pgd(problem, delta0, eta, steps):
    """Injected bug: every iterate is pushed onto the sphere (normalised), not projected onto the ball."""
    from theory.pgd import Trajectory

    deltas = [problem.eps * unit(delta0)]
    for _ in range(steps):
        deltas.append(problem.eps * unit(deltas[-1] - eta * problem.loss_grad(deltas[-1])))
    deltas = np.stack(deltas)
    return Trajectory(deltas, problem.loss_value(deltas), np.full(steps, eta))


@pytest.mark.negative_control
def test_control_sphere_projection_bug_reaches_delta_minus():
    counterexample(lemma_cases(), holds(check_trajectories_avoid_maxima, step=sphere_projection_pgd),
                   shrink=False)


@pytest.mark.negative_control
def test_control_without_condition_6_a_trajectory_leaves_delta_plus():
    cases = st.builds(lambda s: (make_problem(2, 6, seed=s, eps=3.0, label_gap=10.0), 0.01, s), seeds())

    def holds(case):
        problem, eta, seed = case
        if condition_6(problem, eta, gradient_lower_bound(problem.bounds.dloss_lower))[1]:
            return True  # (6) holds: not a draw that drops the hypothesis
        return check_trajectories_avoid_maxima(problem, eta, seed, require_condition=False) is None

    counterexample(cases, holds, shrink=False)
