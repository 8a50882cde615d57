"""Section 5.2's chain rule: the problem's derivatives in δ agree with finite differences.

For either loss, the problem's ∂L/∂δ, ∂²L/∂δ² and Hessian-vector product are
checked against finite differences of L(δ) and ∂L(δ), and ``Problem.value_and_grad``
equals the separate ``loss_value`` and ``loss_grad`` bit for bit. The negative
control drops the Gauss–Newton term L_ff ∂f ∂fᵀ of the chain rule (a classic slip)
and shows the check catches it; a second computes ∂L/∂f = y − s(f) literally, which
cancels for a confident right prediction (a recorded finding).

The losses' own values and derivatives in f, their rounding bounds and the exact
ranges used by the certificates are checked in the sibling module
``test_numerics_losses.py``.
"""

import numpy as np
from hypothesis import event, given, target
from scipy.special import expit

from ..support import CONTROL_MAX_EXAMPLES, counterexample, with_examples
from theory.testing.diffcheck import gradient_agreement, hessian_agreement
from theory.problem import Problem
from theory.testing.strategies import perturbation_cases, pinned_perturbation_cases


def _with_loss_event(case):
    event(f"loss={case[0].loss.name}")
    return case


def problem_points():
    """A problem (either loss), points δ in its ball, and unit directions u, v, each (n, d)."""
    return perturbation_cases().map(_with_loss_event)


def check_loss_hessian(problem, delta, u, v, hvp):
    agreement = hessian_agreement(problem.loss_grad, hvp, delta, u, v,
                                  grad_error=lambda p: problem.evaluation_error_bounds(p)[1],
                                  hvp_error=problem.hvp_error_bounds)
    target(agreement.worst, label="|error| / allowed")
    return agreement.ok


def full_product(problem):
    return lambda z, v: np.einsum("...ij,...j->...i", problem.loss_hessian(z), v)


@with_examples(pinned_perturbation_cases())
@given(problem_points())
def test_loss_gradient_in_delta_matches_finite_differences(case):
    problem, delta, _, v = case
    agreement = gradient_agreement(problem.loss_value, problem.loss_grad, delta, v,
                                   value_error=lambda p: problem.evaluation_error_bounds(p)[0],
                                   grad_error=lambda p: problem.evaluation_error_bounds(p)[1])
    target(agreement.worst, label="|error| / allowed")
    assert agreement.ok


@with_examples(pinned_perturbation_cases())
@given(problem_points())
def test_loss_hessian_in_delta_matches_finite_differences(case):
    problem, delta, u, v = case
    assert check_loss_hessian(problem, delta, u, v, full_product(problem))


@with_examples(pinned_perturbation_cases())
@given(problem_points())
def test_loss_hvp_matches_finite_differences(case):
    problem, delta, u, v = case
    assert check_loss_hessian(problem, delta, u, v, problem.loss_hvp)


@with_examples(pinned_perturbation_cases())
@given(problem_points())
def test_value_and_grad_match_separate_calls(case):
    problem, delta, _, _ = case
    value, grad = problem.value_and_grad(delta)
    assert np.array_equal(value, problem.loss_value(delta))
    assert np.array_equal(grad, problem.loss_grad(delta))


class MissingGaussNewtonTerm(Problem):
    """Bug: ∂²L = L_f ∂²f only, without L_ff ∂f ∂fᵀ."""

    def loss_hessian(self, delta):
        f = self.f(delta)
        return self.loss.dvalue(self.y, f)[..., None, None] * self.net.hessian(self.x + delta)


def test_control_chain_rule_without_gauss_newton_term_is_caught():
    def holds(case):
        problem, delta, u, v = case
        bad = MissingGaussNewtonTerm(problem.net, problem.x, problem.y, problem.eps, problem.loss)
        return check_loss_hessian(bad, delta, u, v, full_product(bad))

    counterexample(problem_points(), holds)


class NaiveCrossEntropy(Problem):
    """Bug (a recorded finding): ∂L/∂f = y − s(f) computed literally cancels when y = 1 and f ≫ 0.

    Hypothesis found it in the Hessian check at d = m = 1, |x| = 10, f ≈ 16:
    relative error ~1e-9 in ∂L/∂f, 40x the allowed discrepancy.
    """

    def loss_grad(self, delta):
        f = self.f(delta)
        return (self.y - expit(f))[..., None] * self.net.grad(self.x + delta)


def test_control_naive_cross_entropy_derivative_is_caught():
    def holds(case):
        problem, delta, u, v = case
        bad = NaiveCrossEntropy(problem.net, problem.x, 1.0, problem.eps, "cross_entropy")
        good = Problem(problem.net, problem.x, 1.0, problem.eps, "cross_entropy")
        return check_loss_hessian(bad, delta, u, v, good.loss_hvp)

    # The bug bites only where f >> 0 (a confident right prediction), a small part
    # of the drawn space, so this control gets five times the usual budget.
    counterexample(problem_points(), holds, max_examples=5 * CONTROL_MAX_EXAMPLES)
