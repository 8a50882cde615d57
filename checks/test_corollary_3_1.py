r"""Corollary 3.1 and Remark 3 (shrinking learning rate).

Statement (section 3). Under Theorem 3.1's assumptions, let t̃ be a time with
δ_t̃ on the sphere and ‖P_T ∂f(δ_t̃)‖ < η^{1/2}, and D_s = ‖δ_{t̃+s} − δ*‖². If the
step shrinks after t̃ (η_0 < η, η_s → 0, ∏(1 − γη_i/2) → 0) then D_s → 0; under
condition (3), D_s <= O(η_s). Remark 3: with η_s = 2/(βs + βz) for a large
enough integer z, D_s <= O(1/(z + s)).

Executable form
---------------
* t̃ from Theorem 3.1's output rule (η = 0.9 η_max), δ* by Newton on the sphere
  from δ_t̃ (a strict local minimum, else the check fails).
* β is "a constant that can be calculated explicitly": μ, the least
  eigenvalue of Ξ(δ*) on the tangent space (drawn in [μ/2, 2μ]); z is the
  smallest integer with η_0 = 2/(βz) < η.
* Remark 3 made explicit: D_s (z + s) <= REMARK3_CONSTANT · D_0 z for every s
  up to S = REMARK3_HORIZON · z; at s = S this says D_S <= 2 D_0/21, so D_s → 0
  is part of the same check.
  Derivation and constant in :mod:`theory.regimes`.

Finding (a threshold, tested from both sides)
---------------------------------------------
"Large enough z" is not what the bound needs: linearised at δ*, D_s ~
(z + s)^{−4μ/β}, so D_s (z + s) stays bounded iff β <= 4μ, whatever z. With
β = 16μ (a valid-looking schedule, η_0 < η still holds) Hypothesis finds
draws where D_s (z + s) grows past the bound.

The bound is also checked at the threshold itself, β = 4μ, where it holds.

Negative controls: β = 16 μ (above the threshold); an ascent step injected
after t̃ (D_s does not go to 0). (Freezing the step at η_0 is not a control:
with a constant step PGD still converges linearly to δ*, so D_s → 0 anyway.)
"""

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from .support import ascent_problem, counterexample, evidence, margin
from theory.geometry import uniform_ball, vector_norm
from theory.landscape import CRITICAL_GTOL, newton_on_sphere, tangent_hessian
from theory.pgd import output_criterion, pgd, pgd_until, remark3_schedule
from theory.regimes import REMARK3_CONSTANT, REMARK3_HORIZON, regime
from theory.strategies import log_uniform, regime_problems, seeds

CLAIM = "theorem_3_1"
#: η / η_max before t̃ (the constant step of Theorem 3.1).
ETA_FRACTION = 0.9


def shrinking_run(problem, seed, beta_over_mu, *, ascent=False):
    """Run to t̃, then Remark 3's schedule; returns (D_s, z) with D of shape (steps + 1,)."""
    eta = ETA_FRACTION * regime(CLAIM).eta_max(problem.net.m, problem.eps)
    start = uniform_ball(seed, 1, problem.d, problem.eps)
    hit = pgd_until(problem, start, eta, output_criterion(problem, eta), max_steps=int(100 / eta))
    assert hit.reached.all(), "no output time t~ within the budget"
    delta_t = hit.deltas[0]
    star, ratio = newton_on_sphere(problem, delta_t)
    eig = np.linalg.eigvalsh(tangent_hessian(problem, star))
    assert ratio <= CRITICAL_GTOL and eig[0] > 0, "Newton does not reach a strict local minimum"
    beta = beta_over_mu * eig[0]
    z = int(np.floor(2.0 / (beta * eta))) + 1  # smallest integer with eta_0 = 2/(beta z) < eta
    steps = REMARK3_HORIZON * z
    runner = ascent_problem(problem) if ascent else problem  # ascent: the injected bug of a control
    deltas = pgd(runner, delta_t, schedule=remark3_schedule(beta, z), steps=steps).deltas
    D = vector_norm(deltas - star) ** 2
    note(f"mu={eig[0]:.4g}, beta={beta:.4g}, z={z}, eta={eta:.3g}, D_0={D[0]:.3g}, D_S={D[-1]:.3g}")
    return D, z


def check_remark_3(problem, seed, beta_over_mu, **kw):
    D, z = shrinking_run(problem, seed, beta_over_mu, **kw)
    s = np.arange(D.size)
    ratio = D * (z + s) / (D[0] * z)
    evidence("sampled")
    # s >= 1: at s = 0 the ratio is 1 by definition, which would floor the margin at 1/2.
    margin(float(ratio[1:].max()), REMARK3_CONSTANT, "max_{s>=1} D_s (z+s) / (2 D_0 z)")
    # D_s -> 0 is part of this bound: at s = S = 20 z it gives D_S <= 2 D_0 / 21.
    assert ratio.max() <= REMARK3_CONSTANT, f"D_s (z + s) reached {ratio.max():.3g} D_0 z"


def cases(beta=log_uniform(0.5, 2.0)):
    return st.tuples(regime_problems(CLAIM, eps_fraction=log_uniform(0.5, 0.99)), seeds(), beta)


@pytest.mark.long_running
@given(case=cases())
def test_shrinking_schedule_gives_d_s_of_order_one_over_z_plus_s(case):
    check_remark_3(*case)


@given(case=cases(beta=st.just(4.0)))
def test_remark_3_bound_holds_at_the_threshold_beta_equal_to_four_mu(case):
    check_remark_3(*case)


@pytest.mark.negative_control
def test_control_beta_above_four_mu_breaks_the_bound():
    counterexample(cases(beta=st.just(16.0)), lambda c: check_remark_3(*c) is None, shrink=False)


@pytest.mark.negative_control
def test_control_ascent_after_the_output_time_does_not_converge():
    counterexample(cases(), lambda c: check_remark_3(*c, ascent=True) is None, shrink=False)
