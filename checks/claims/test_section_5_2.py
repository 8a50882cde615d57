r"""Section 5.2 (general losses: cross-entropy).

Claims. (i) The theory needs only 𝓛 < |∂L/∂f| < 𝓤 on the ball and
|∂²L/∂f²| <= 𝓑; for cross-entropy, ∂L/∂f = e^f/(1 + e^f) − y and
0 <= ∂²L/∂f² <= 1, and in the initial phase 𝓛 > 0. (ii) "All our previous
conclusions stand without changing the scale of ε and η."

Executable form
---------------
(i) On cross-entropy problems (label y ∈ {0, 1}), the certified bounds of
:attr:`theory.problem.Problem.bounds` give 𝓛 > 0 and 𝓤 <= 1 over the whole
ball, sampled points stay inside them, and |∂²L/∂f²| <= 𝓑 = 1 (in fact
<= 1/4, the maximum of σ''; in the minimisation form L = −CE the second
derivative is −σ'' <= 0, so the paper's "0 <= ∂²L/∂f²" holds for the
maximisation form, like Lemma 4.4's sign).

(ii) The checks of Lemmas 4.1, 4.3, 4.4, 4.5, Theorem 3.1, Corollary 3.1 and
Theorem 5.1 run unchanged on cross-entropy problems in the same regimes (same
ε_max, η_max). Lemma 4.2 is pure geometry (no loss). The constants that
depend on the loss follow it: c of Lemma 4.1 and 𝓛B_l are built from the
certified 𝓛_f, γ of Lemma 4.4 scales with 𝓛_f. One change: Lemma 4.5's
condition (6) needs η < (𝓛_f B_l)², and with cross-entropy's 𝓛_f ≈ 0.3 the
regime's B_l = 0.02 makes that ≈ 4e-5, below most regime steps; the check
there uses the draw's certified floor (:func:`theory.bounds.certified_gradient_floor`,
‖∂f(x)‖ − εH ≈ 0.4) as B_l.

The carried-over checks reuse the claim modules' ``check_*`` helpers; their
negative controls live in those modules and exercise the same helpers.

Finding (regime boundary): at large input scale the assumption 𝓛 > 0 fails
in floating point — f reaches tens to hundreds, the prediction becomes
confidently right, and |∂L/∂f| = σ(−|f|) underflows or is certified only
above 0. The control finds such draws at ‖x‖ = 10³; this is where section 5.2
stops applying, and where the descent cosine of the other checks is undefined.
"""

import numpy as np
import pytest
from hypothesis import assume, event, given, note, target
from hypothesis import strategies as st

from ..support import counterexample, evidence, holds, margin
from .test_corollary_3_1 import check_remark_3
from .test_lemma_4_1 import check_gradient_floor, check_interior_decrease
from .test_lemma_4_3 import check_gradient_floor_on_sphere, check_tangent_gradient_bound, sphere_cases
from .test_lemma_4_4 import cap_points, check_definite_near_critical_points
from .test_lemma_4_5 import check_trajectories_avoid_maxima
from .test_theorem_3_1 import ETA_FRACTIONS, check_pgd_reaches_a_local_minimum
from .test_theorem_5_1 import check_unique_minimum
from theory.bounds import certified_gradient_floor
from theory.geometry import uniform_ball
from theory.losses import CROSS_ENTROPY_PAPER_UPPER, CROSS_ENTROPY_SHARP_CURVATURE
from theory.testing.regimes import NEAR_CRITICAL_COSINE, TAU_EPS_FACTOR
from theory.testing.strategies import (
    ball_points, input_scales, log_uniform, problems, regime_etas, regime_problems, seeds,
)

CE = "cross_entropy"


def check_cross_entropy_assumptions(problem, seed):
    b = problem.bounds
    deltas = uniform_ball(seed, 64, problem.d, problem.eps)
    f = problem.f(deltas)
    lf = np.abs(problem.loss.dvalue(problem.y, f))
    lff = np.abs(problem.loss.d2value(problem.y, f))
    note(f"certified |L_f| in [{b.dloss_lower:.3g}, {b.dloss_upper:.3g}], sampled [{lf.min():.3g}, {lf.max():.3g}]")
    target(-float(np.log10(max(b.dloss_lower, 1e-300))), label="-log10 certified lower")
    evidence("certified" if b.certified else "sampled")
    margin(float(lff.max()), CROSS_ENTROPY_SHARP_CURVATURE, "sampled |d2L/df2| / 1/4")
    assert b.dloss_lower > 0.0, "no positive lower bound on |dL/df| over the ball (L = 0)"
    assert b.dloss_upper <= CROSS_ENTROPY_PAPER_UPPER
    assert np.all((lf >= b.dloss_lower) & (lf <= b.dloss_upper))
    # The sharp bound 1/4, which is inside the paper's B = 1 (CROSS_ENTROPY_PAPER_CURVATURE).
    assert np.all(lff <= CROSS_ENTROPY_SHARP_CURVATURE)


# --- (i) the assumptions -----------------------------------------------------------


@given(problem=problems(loss=CE, input_scale=log_uniform(1e-2, 10.0)), seed=seeds())
def test_cross_entropy_satisfies_the_section_5_2_assumptions(problem, seed):
    check_cross_entropy_assumptions(problem, seed)


@pytest.mark.negative_control
def test_control_lower_bound_vanishes_at_large_input_scale():
    cases = st.tuples(problems(loss=CE, input_scale=input_scales(1e2, 1e3), ratio=log_uniform(0.1, 1.0)), seeds())
    counterexample(cases, holds(check_cross_entropy_assumptions))


# --- (ii) the previous conclusions under cross-entropy ---------------------------


@given(problem=regime_problems("lemma_4_1", loss=CE), seed=seeds())
def test_lemma_4_1_gradient_floor_under_cross_entropy(problem, seed):
    check_gradient_floor(problem, seed)


@given(data=st.data())
def test_lemma_4_1_interior_decrease_under_cross_entropy(data):
    problem = data.draw(regime_problems("lemma_4_1", loss=CE))
    eta = data.draw(regime_etas(problem, "lemma_4_1"))
    check_interior_decrease(problem, data.draw(ball_points(problem.d, problem.eps, n=16)), eta)


@pytest.mark.long_running
@given(problem=regime_problems("lemma_4_3", loss=CE), seed=seeds(), beta=st.floats(0.0, 1.0))
def test_lemma_4_3_under_cross_entropy(problem, seed, beta):
    check_tangent_gradient_bound(problem, sphere_cases(problem, seed), beta)
    check_gradient_floor_on_sphere(problem, seed)


@given(problem=regime_problems("lemma_4_4", loss=CE), seed=seeds())
def test_lemma_4_4_under_cross_entropy(problem, seed):
    check_definite_near_critical_points(problem, cap_points(problem, seed, NEAR_CRITICAL_COSINE),
                                        NEAR_CRITICAL_COSINE)


@pytest.mark.long_running
@given(data=st.data())
def test_lemma_4_5_under_cross_entropy(data):
    problem = data.draw(regime_problems("theorem_3_1", loss=CE, eps_fraction=log_uniform(0.3, 0.99)))
    eta = data.draw(regime_etas(problem, "theorem_3_1", fraction=log_uniform(0.3, 0.99)))
    floor = certified_gradient_floor(problem.net, problem.x, problem.eps)
    event(f"certified B_l {floor:.2f}")
    assume(floor > 0)  # the lemma needs B_l > 0: a draw without a certified floor is outside it
    check_trajectories_avoid_maxima(problem, eta, data.draw(seeds()), floor=floor)


def theorem_cases():
    return st.tuples(regime_problems("theorem_3_1", loss=CE, eps_fraction=log_uniform(0.5, 0.99)), seeds())


@pytest.mark.long_running
@given(case=theorem_cases())
def test_theorem_3_1_under_cross_entropy(case):
    check_pgd_reaches_a_local_minimum(*case, eta_fractions=ETA_FRACTIONS[:1])


@pytest.mark.long_running
@given(case=theorem_cases(), beta=log_uniform(0.5, 2.0))
def test_corollary_3_1_under_cross_entropy(case, beta):
    check_remark_3(*case, beta)


@given(problem=regime_problems("theorem_3_1", loss=CE, eps_fraction=st.floats(0.05, 0.99).map(
    lambda f: f * TAU_EPS_FACTOR)), seed=seeds())
def test_theorem_5_1_under_cross_entropy(problem, seed):
    check_unique_minimum(problem, seed)
