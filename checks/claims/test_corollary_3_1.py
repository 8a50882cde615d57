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
  Derivation and constant in :mod:`theory.testing.regimes`.

* The first statement for schedules drawn from its conditions (not only
  Remark 3's): power schedules η_s = η_0 (c/(c + s))^p, p in [1/2, 1], built
  to satisfy Eq. (3) for the drawn β (derivation in ``schedules``;
  :func:`theory.pgd.equation_3_holds` must agree, and Eq. (3) for every k is
  shown there to reduce to k = 0). D_s/η_s <= 2 D_0/η_0 (the linearised
  D_{s+1} <= (1 − βη_s/2) D_s and Eq. (3) at k = 0 make D_s/η_s
  non-increasing; 2 covers the second-order terms), and D_s → 0 made finite:
  once ∏(1 − βη_i/2) <= 0.1 (:func:`theory.pgd.step_product`), D_S <= 2·0.1·D_0.
  Controls: geometric (summable) schedules, which violate ∏ → 0, leave D_S
  above it; an ascent step; a schedule built for 4β violates Eq. (3) at β.

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
from hypothesis import event, given, note
from hypothesis import strategies as st

from ..support import ascent_problem, counterexample, evidence, holds, margin
from theory.geometry import uniform_ball, vector_norm
from theory.landscape.critical import CRITICAL_GTOL, newton_on_sphere, tangent_hessian
from theory.pgd import equation_3_holds, output_criterion, pgd, pgd_until, remark3_schedule, step_product
from theory.testing.regimes import REMARK3_CONSTANT, REMARK3_HORIZON, regime
from theory.testing.strategies import log_uniform, regime_problems, seeds

CLAIM = "theorem_3_1"
#: η / η_max before t̃ (the constant step of Theorem 3.1).
ETA_FRACTION = 0.9


def output_point(problem, seed):
    """Run Theorem 3.1's constant step to t̃; returns (δ_t̃, δ*, μ, η)."""
    eta = ETA_FRACTION * regime(CLAIM).eta_max(problem.net.m, problem.eps)
    start = uniform_ball(seed, 1, problem.d, problem.eps)
    hit = pgd_until(problem, start, eta, output_criterion(problem, eta), max_steps=int(100 / eta))
    assert hit.reached.all(), "no output time t~ within the budget"
    delta_t = hit.deltas[0]
    star, ratio = newton_on_sphere(problem, delta_t)
    eig = np.linalg.eigvalsh(tangent_hessian(problem, star))
    assert ratio <= CRITICAL_GTOL and eig[0] > 0, "Newton does not reach a strict local minimum"
    return delta_t, star, float(eig[0]), eta


def distances_after(problem, delta_t, star, schedule, steps, *, ascent=False):
    """D_s = ‖δ_{t̃+s} − δ*‖², s = 0 .. steps, under ``schedule`` from δ_t̃."""
    runner = ascent_problem(problem) if ascent else problem  # ascent: the injected bug of a control
    deltas = pgd(runner, delta_t, schedule=schedule, steps=steps).deltas
    return vector_norm(deltas - star) ** 2


def shrinking_run(problem, seed, beta_over_mu, *, ascent=False):
    """Run to t̃, then Remark 3's schedule; returns (D_s, z) with D of shape (steps + 1,)."""
    delta_t, star, mu, eta = output_point(problem, seed)
    beta = beta_over_mu * mu
    z = int(np.floor(2.0 / (beta * eta))) + 1  # smallest integer with eta_0 = 2/(beta z) < eta
    D = distances_after(problem, delta_t, star, remark3_schedule(beta, z), REMARK3_HORIZON * z, ascent=ascent)
    note(f"mu={mu:.4g}, beta={beta:.4g}, z={z}, eta={eta:.3g}, D_0={D[0]:.3g}, D_S={D[-1]:.3g}")
    return D, z


def check_remark_3(problem, seed, beta_over_mu, **kw):
    D, z = shrinking_run(problem, seed, beta_over_mu, **kw)
    s = np.arange(D.size)
    ratio = D * (z + s) / (D[0] * z)
    evidence("sampled")
    # s >= 1: at s = 0 the ratio is 1 by definition, which would floor the margin at 1/2.
    margin(float(ratio[1:].max()), REMARK3_CONSTANT, "max_{s>=1} D_s (z+s) / (D_0 z), allowed 2 = 2 x the linearised value")
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
    counterexample(cases(beta=st.just(16.0)), holds(check_remark_3), shrink=False)


@pytest.mark.negative_control
def test_control_ascent_after_the_output_time_does_not_converge():
    counterexample(cases(), holds(check_remark_3, ascent=True), shrink=False)


# --- Corollary 3.1's first statement: schedules drawn from the conditions ------------------

#: The first statement's "∏(1 − βη_i/2) → 0" made finite: each run lasts until the
#: product falls to this value (D_s then must be at most REMARK3_CONSTANT times it
#: times D_0), or SCHEDULE_BUDGET / (βη_0) steps. The budget is enough for every
#: schedule of :func:`schedules` (c = 2fp/(βη_0), f >= 1): for p = 1 the product is
#: ≈ (c/(c + S))^f, at most 0.1 once S >= 9c = 18f/(βη_0), i.e. 18/(βη_0) at f = 1;
#: larger f and smaller p fall faster.
PRODUCT_TARGET = 0.1
SCHEDULE_BUDGET = 20.0


@st.composite
def schedules(draw, summable=False):
    """A schedule factory (β, η) -> (callable, description) with η_0 < η.

    ``summable=False``: power schedules η_s = η_0 (c/(c + s))^p, p in [1/2, 1],
    c = f · 2p/(βη_0) with f in [1, 4]. They satisfy Eq. (3) for this β: the
    ratio η_{s+1}/η_s = ((c + s)/(c + s + 1))^p >= 1 − p/(c + s + 1), and
    p/(c + s + 1) <= p (c + s)^{p−1}/c^p · (c/(c + s))^p <= (p/c)(c/(c + s))^p
    <= βη_s/2 for p <= 1; their sum diverges, so ∏(1 − βη_i/2) → 0.
    ``summable=True``: geometric schedules η_s = η_0 r^s, r in [1/2, 0.9],
    whose product stays away from 0 (the first statement's hypothesis fails:
    Σ η_s <= 10 η_0).
    """
    fraction = draw(log_uniform(0.3, 0.99))  # eta_0 / eta
    if summable:
        r = draw(st.floats(0.5, 0.9))
        # r^s floored at 1e-300 to stay a positive float; the floor adds at most
        # budget x 1e-300 eta_0 to the (finite) sum.
        return lambda beta, eta: ((lambda s, e=fraction * eta: e * np.maximum(r ** np.asarray(s, dtype=float), 1e-300)),
                                  f"geometric: eta_0 = {fraction:.3g} eta, r = {r:.3g}")
    p = draw(st.floats(0.5, 1.0))
    factor = draw(log_uniform(1.0, 4.0))

    def make(beta, eta):
        e = fraction * eta
        c = factor * 2.0 * p / (beta * e)
        return ((lambda s: e * (c / (c + np.asarray(s, dtype=float))) ** p),
                f"power: eta_0 = {fraction:.3g} eta, p = {p:.3g}, c = {c:.4g}")
    return make


def drawn_schedule_run(problem, seed, make_schedule, beta_over_mu, *, ascent=False):
    """Run to t̃, then the drawn schedule until ∏(1 − βη_i/2) <= PRODUCT_TARGET or the budget.

    Returns (D, etas, beta, schedule, mu), D and etas of shape (steps + 1,).
    """
    delta_t, star, mu, eta = output_point(problem, seed)
    beta = beta_over_mu * mu
    schedule, what = make_schedule(beta, eta)
    budget = int(SCHEDULE_BUDGET / (beta * float(schedule(0)))) + 1
    product = step_product(schedule, beta, budget)
    reached = np.nonzero(product <= PRODUCT_TARGET)[0]
    steps = int(reached[0]) if reached.size else budget
    note(f"{what}; mu = {mu:.4g}, beta = {beta:.4g}, eta = {eta:.3g}, steps = {steps}, "
         f"product = {product[steps]:.3g}")
    event("product target reached" if reached.size else "product target not reached within the budget")
    D = distances_after(problem, delta_t, star, schedule, steps, ascent=ascent)
    return D, schedule(np.arange(steps + 1)), beta, schedule, mu


def check_d_s_to_zero(D):
    """First statement, made finite: D_S <= REMARK3_CONSTANT · PRODUCT_TARGET · D_0 at the end of the run."""
    evidence("sampled")
    final = D[-1] / (D[0] * PRODUCT_TARGET)
    margin(final, REMARK3_CONSTANT, "D_S / (D_0 x product target), allowed 2")
    assert final <= REMARK3_CONSTANT, f"D_S = {D[-1]:.3g} is {final:.3g} x D_0 x {PRODUCT_TARGET}"


def check_d_s_follows_the_linearised_rate(D, etas, mu):
    """D_s <= REMARK3_CONSTANT · D_0 ∏_{i<s}(1 − μη_i)²: the slowest tangent mode's contraction (the rate of D_s → 0)."""
    rate = np.concatenate([[1.0], np.cumprod((1.0 - mu * etas[:-1]) ** 2)])
    ratio = D / (D[0] * rate)
    margin(float(ratio[1:].max()), REMARK3_CONSTANT,
           "max_{s>=1} D_s / (D_0 prod (1 - mu eta_i)^2), allowed 2 = 2 x the linearised value")
    assert ratio.max() <= REMARK3_CONSTANT, f"D_s fell slower than the linearised rate: {ratio.max():.3g}"


def check_d_s_of_order_eta_s(D, etas, beta, schedule):
    """Eq. (3) holds for the schedule (theory.pgd.equation_3_holds), and D_s/η_s <= REMARK3_CONSTANT · D_0/η_0."""
    assert equation_3_holds(schedule, beta, etas.size), "a schedule built to satisfy Eq. (3) is said not to"
    ratio = (D / etas) / (D[0] / etas[0])
    margin(float(ratio[1:].max()), REMARK3_CONSTANT, "max_{s>=1} (D_s / eta_s) / (D_0 / eta_0), allowed 2 = 2 x the linearised value")
    assert ratio.max() <= REMARK3_CONSTANT, f"D_s / eta_s reached {ratio.max():.3g} D_0 / eta_0 under Eq. (3)"


def drawn_cases(summable=False, beta=log_uniform(0.5, 2.0)):
    return st.tuples(regime_problems(CLAIM, eps_fraction=log_uniform(0.5, 0.99)), seeds(),
                     schedules(summable=summable), beta)


@pytest.mark.long_running
@given(case=drawn_cases())
def test_schedules_satisfying_equation_3_give_d_s_of_order_eta_s_and_d_s_to_zero(case):
    D, etas, beta, schedule, mu = drawn_schedule_run(*case)
    check_d_s_of_order_eta_s(D, etas, beta, schedule)
    check_d_s_follows_the_linearised_rate(D, etas, mu)
    check_d_s_to_zero(D)


@pytest.mark.negative_control
def test_control_summable_schedules_do_not_bring_d_s_to_zero():
    counterexample(drawn_cases(summable=True, beta=st.just(1.0)),
                   lambda c: check_d_s_to_zero(drawn_schedule_run(*c)[0]) is None, shrink=False)


@pytest.mark.negative_control
def test_control_ascent_under_a_drawn_schedule_is_caught():
    counterexample(drawn_cases(beta=st.just(1.0)),
                   lambda c: check_d_s_to_zero(drawn_schedule_run(*c, ascent=True)[0]) is None, shrink=False)


@pytest.mark.negative_control
def test_control_a_schedule_built_for_four_times_beta_breaks_equation_3():
    # Built for 4 beta (c four times too small for beta), Eq. (3) fails at beta: the
    # theory's test of Eq. (3) is not blind.
    def holds(case):
        make, beta = case
        schedule, _ = make(4.0 * beta, 1e-2)
        return equation_3_holds(schedule, beta, 1000)

    counterexample(st.tuples(schedules(), log_uniform(0.1, 10.0)), holds)


@pytest.mark.negative_control
def test_control_a_rate_twice_too_fast_is_caught():
    # The linearised rate with 2 mu in place of mu: the check is sharp enough to reject it.
    counterexample(drawn_cases(), lambda c: check_d_s_follows_the_linearised_rate(
        *(lambda r: (r[0], r[1], 2.0 * r[4]))(drawn_schedule_run(*c))) is None, shrink=False)
