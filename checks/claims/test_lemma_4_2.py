r"""Lemma 4.2 (approximation of PGD by a tangent step).

Statement (section 4). For δ0 on the sphere εS^{d-1}, any unit v̂ and step η,
with δ̃1 = δ0 + η v̂ and δ̃2 = δ0 + η P_{T0} v̂:

    ‖P_B(0,ε)(δ̃1) − δ̃2‖ <= 4η²/ε.

Pure geometry: no network, no regime. Checked over ε from 1e-3 to 1e3, η/ε
from 1e-6 to 1/2 (beyond, 4η²/ε exceeds the trivial bound 2η; the literal
tests and the controls go to 1e2) and d from 1 to 8; ``target()`` pushes towards the largest
ratio of the two sides.

Finding (literal statement fails)
---------------------------------
When v̂ points into the ball and the step stays inside (‖δ̃1‖ < ε), the
projection does nothing and the left side is the normal part of the step,
η|v̂ᵀδ0|/ε, which exceeds 4η²/ε as soon as η < ε|v̂ᵀδ0/ε|/4. Shrunk
counterexample (Hypothesis's ``find()``, pinned below): d = 1, ε = 1, δ0 = +1,
v̂ = −1, η = 0.1: the left side is 0.1, the right side 0.04.

Repaired statement, with the smallest extra hypothesis: the projection is
active, ‖δ̃1‖ >= ε (the step leaves the open ball). That covers every outward
v̂ (v̂ᵀδ0 >= 0), which is how the paper uses the lemma near local minima, where
−∂L points out of the ball. Then the bound holds with room: the largest ratio
Hypothesis and 2·10^5 random draws found is about 0.15 (the constant 4 could
be 0.6). (η >= ε/4 would also repair it; it is not the smallest hypothesis for
small steps.)

Negative controls: the literal form (inward steps); the tangent projection
dropped from δ̃2 (an injected bug).

Eq. (5): Lemma 4.2 applied to PGD's own step
--------------------------------------------
Statement (section 4, after Lemma 4.2). For δ_t on the sphere,
‖δ_{t+1} − (δ_t − ηΓ(δ_t))‖ <= 4η²/ε, with δ_{t+1} = P_B(δ_t − η∂L(δ_t)) and Γ
the tangent gradient. Checked on drawn problems (d 1 to 8, input scale 0.01 to
100, ε/‖x‖ from 1e-3 to 1, either loss) at uniform sphere points, the step's
length η‖∂L‖ from 1e-6 ε to ε/2 (beyond, the bound exceeds the trivial 2η‖∂L‖;
the literal tests go to 1e2 ε).

Findings (literal statement fails twice). (i) As for the lemma, where the step
stays in the ball: shrunk by Hypothesis's ``find()`` to d = 1, m = 1, seed 1,
ε = 1, cross-entropy, δ = +1, η = 0.01 (left side 5.8e-4, right side 4e-4).
(ii) Lemma 4.2 is stated for a unit direction, and PGD's step has length
η‖∂L‖, not η: shrunk to d = 2, m = 2, seed 2, ε = 1, quadratic, η = 1,
‖∂L‖ = 8.8 (left side 5.95, right side 4), with the projection active.
Repaired statement: where the projection is active, the bound
4η²‖∂L(δ_t)‖²/ε (Lemma 4.2 with η‖∂L‖ for η; the literal bound follows where
‖∂L‖ <= 1). Control: Γ replaced by ∂L (an injected bug).
"""

import numpy as np
import pytest
from hypothesis import assume, event, example, given, note
from hypothesis import strategies as st

from ..support import counterexample, evidence, holds, margin
from theory.geometry import project_ball, project_tangent, vector_norm
from theory.constrained import tangent_gradient
from theory.problem import make_problem
from theory.testing.strategies import (
    as_strategy, dims, directions, input_scales, log_uniform, problems, sphere_points,
)
from theory.testing.tolerances import FEW_OPS_RTOL


def tangent_step(delta0, v, eta):
    """δ̃2 = δ0 + η P_T v̂ (the approximation under test)."""
    return delta0 + eta * project_tangent(delta0, v)


def check_projection_approximation(eps, delta0, v, eta, *, approximation=tangent_step,
                                   require_active=True):
    """‖P_B(δ0 + ηv) − δ̃2‖ <= 4η²/ε (+ rounding); with ``require_active``, only where ‖δ0 + ηv‖ >= ε."""
    stepped = delta0 + eta * v
    if require_active and vector_norm(stepped) < eps:
        event("inactive step: outside the repaired statement")
        return
    evidence("sampled")
    lhs = float(vector_norm(project_ball(stepped, eps) - approximation(delta0, v, eta)))
    rhs = 4.0 * eta * eta / eps
    # The two vectors have entries of size <= eps + eta, each the result of a few
    # roundings: their difference carries an error of at most FEW_OPS_RTOL (eps + eta).
    rounding = FEW_OPS_RTOL * (eps + eta)
    note(f"lhs={lhs:.6g}, rhs={rhs:.6g}, |d0+eta v|/eps={vector_norm(stepped) / eps:.6g}")
    margin(lhs, rhs + rounding, "|P_B(d1) - d2| / (4 eta^2 / eps)")
    assert lhs <= rhs + rounding, f"|P(d1) - d2| = {lhs:.3g} > 4 eta^2/eps = {rhs:.3g}"


@st.composite
def cases(draw, d=dims(1, 8), eta_ratio=log_uniform(1e-6, 1e2)):
    d = draw(d)
    eps = draw(log_uniform(1e-3, 1e3))
    delta0 = draw(sphere_points(d, eps, n=1))[0]
    v = draw(directions(d, 1))[0]
    eta = eps * draw(as_strategy(eta_ratio))
    return eps, delta0, v, eta


#: η/ε of the properties: below 1/2, where 4η²/ε beats the trivial bound 2η (both
#: P_B(δ̃1) and δ̃2 are within η of δ0). Above it the lemma says nothing.
NONTRIVIAL = log_uniform(1e-6, 0.5)


@given(case=cases(eta_ratio=NONTRIVIAL))
def test_projection_is_a_tangent_step_up_to_4_eta_squared_over_eps_when_active(case):
    check_projection_approximation(*case)


@given(case=cases(eta_ratio=NONTRIVIAL))
def test_projection_bound_holds_for_every_outward_direction(case):
    eps, delta0, v, eta = case
    if v @ delta0 < 0:
        v = -v
    check_projection_approximation(eps, delta0, v, eta)


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="literal Lemma 4.2 fails for inward steps that stay in the ball")
@example(case=(1.0, np.array([1.0]), np.array([-1.0]), 0.1))
@given(case=cases())
def test_literal_projection_bound_fails_for_inward_steps(case):
    check_projection_approximation(*case, require_active=False)


@pytest.mark.negative_control
def test_control_literal_bound_is_broken_by_search():
    # The literal statement's counterexample is found afresh, not only the pinned one.
    counterexample(cases(), holds(check_projection_approximation, require_active=False))


@pytest.mark.negative_control
def test_control_bound_breaks_without_the_tangent_projection():
    def untangent(delta0, v, eta):  # injected bug: δ̃2 = δ0 + ηv
        return delta0 + eta * v

    counterexample(cases(d=dims(2, 8)),
                   holds(check_projection_approximation, approximation=untangent))


# --- Eq. (5): Lemma 4.2 applied to PGD's own step -----------------------------------------


def check_equation_5(problem, delta, eta, *, literal=False, require_active=True, tangent=tangent_gradient):
    r"""‖δ_{t+1} − (δ_t − ηΓ(δ_t))‖ <= 4η²‖∂L(δ_t)‖²/ε for δ_t on the sphere (literal: 4η²/ε).

    δ_{t+1} = P_B(δ_t − η∂L(δ_t)) is PGD's step and Γ the tangent gradient.
    Lemma 4.2 with v̂ = −∂L/‖∂L‖ and the step length η‖∂L‖ gives the repaired
    bound where the projection is active (‖δ_t − η∂L‖ >= ε). ``tangent``
    replaces Γ (controls inject a wrong one).
    """
    eps = problem.eps
    grad = problem.loss_grad(delta)
    gnorm = float(vector_norm(grad))
    stepped = delta - eta * grad
    if require_active and vector_norm(stepped) < eps:
        event("inactive step: outside the repaired statement")
        return
    evidence("sampled")
    lhs = float(vector_norm(project_ball(stepped, eps) - (delta - eta * tangent(problem, delta))))
    rhs = 4.0 * eta * eta / eps if literal else 4.0 * (eta * gnorm) ** 2 / eps
    # Both vectors have entries of size <= eps + eta |dL|, each a few roundings, and
    # each carries eta times the computed gradient's certified error (twice in all).
    _, grad_err = problem.evaluation_error_bounds(delta)
    rounding = FEW_OPS_RTOL * (eps + eta * gnorm) + 2.0 * eta * float(vector_norm(grad_err))
    note(f"lhs={lhs:.6g}, rhs={rhs:.6g}, |dL|={gnorm:.6g}, |d - eta dL|/eps={vector_norm(stepped) / eps:.6g}")
    what = "4 eta^2 / eps" if literal else "4 eta^2 |dL|^2 / eps"
    margin(lhs, rhs + rounding, f"|delta_t+1 - (delta_t - eta Gamma)| / ({what})")
    assert lhs <= rhs + rounding, f"|delta_t+1 - (delta_t - eta Gamma)| = {lhs:.3g} > {rhs:.3g}"


def _unit(v):
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


@st.composite
def pgd_step_cases(draw, d=dims(1, 8), step=log_uniform(1e-6, 1e2)):
    """(problem, δ_t on its sphere, η): input scale 0.01 to 100, ratio 1e-3 to 1, step length η‖∂L‖/ε = ``step``."""
    problem = draw(problems(d=d, input_scale=input_scales(1e-2, 1e2)))
    delta = draw(sphere_points(problem.d, problem.eps, n=1))[0]
    gnorm = float(vector_norm(problem.loss_grad(delta)))
    assume(gnorm > 0.0)
    eta = problem.eps * draw(as_strategy(step)) / gnorm
    note(f"{problem!r}, delta = {delta!r}, eta = {eta!r}")
    return problem, delta, eta


@given(case=pgd_step_cases(step=NONTRIVIAL))
def test_pgd_step_is_a_tangent_step_up_to_4_eta_squared_grad_squared_over_eps_when_active(case):
    check_equation_5(*case)


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="literal Eq. (5) fails where the step stays in the ball")
@example(case=(make_problem(1, 1, seed=1, eps=1.0, loss="cross_entropy"), np.array([1.0]), 0.01))
@given(case=pgd_step_cases())
def test_literal_equation_5_fails_for_steps_that_stay_in_the_ball(case):
    check_equation_5(*case, literal=True, require_active=False)


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="literal Eq. (5) fails for gradients longer than 1: the step is eta |dL|, not eta")
@example(case=(make_problem(2, 2, seed=2, eps=1.0), _unit([0.6894138, -0.72436774]), 1.0))
@given(case=pgd_step_cases())
def test_literal_equation_5_fails_for_gradients_longer_than_one_even_when_active(case):
    check_equation_5(*case, literal=True)


@pytest.mark.negative_control
def test_control_equation_5_breaks_with_the_full_gradient_for_gamma():
    def full(problem, delta):  # injected bug: Γ replaced by ∂L (no tangent projection)
        return problem.loss_grad(delta)

    counterexample(pgd_step_cases(d=dims(2, 8)), holds(check_equation_5, tangent=full))
