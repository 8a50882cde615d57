"""The fixed-point distance bound D_t of large constant steps (``theory.certificates.fixed_point``).

Theorem 3.1's large-step finding uses D_t only as an upper bound, which a larger bound passes as
well; these checks pin the bound itself, from the uniqueness certificate's fields:

* one value per t = 0 .. steps, and D_0 = 2ε exactly (the sphere's diameter: q^0 = 1, 1 − q^0 = 0);
* D_1 = 2εq + r + e with r = 2ε²/(ηg), g = dloss_lower · gradient_floor (the recursion's first step);
* far out, D_t is the recursion's fixed point (r + e)/(1 − q);
* the hypothesis ηg >= 2ε from both sides of the threshold η = 2ε/g: finite above, inf for every t below.

Rounding: every term is positive, so the computed D_1 (five roundings: the product 2εq, the sum
r + e, the product and the quotient by 1 − q that cancel, the last sum) and its reference (two)
differ by at most γ_7 relative (Higham's γ_n, :func:`theory._floats.higham_gamma`); the limit takes
q^t so small that 1 − q^t rounds to 1 and q^t · 2ε is below u/4 of the limit, and the same γ_7.

Negative control: a bound with r = 3ε²/(ηg) (a looser, still valid bound, which the claim's check
passes) is caught.
"""

import math

import numpy as np
from hypothesis import given, note, strategies as st
import pytest

from ..support import counterexample, holds
from theory._floats import UNIT_ROUNDOFF, higham_gamma
from theory.certificates.fixed_point import fixed_point_distance_bound
from theory.certificates.uniqueness import uniqueness_certificate
from theory.testing.strategies import log_uniform, regime_problems

CLAIM = "theorem_3_1"
#: Five roundings in the computed D_1 or limit and two in the reference (see the module docstring).
D_RTOL = higham_gamma(7)


def cases():
    # eta / eta* from just above 1 (at 1 itself eta g may round below 2 eps) to 1e4.
    return st.tuples(regime_problems(CLAIM, eps_fraction=log_uniform(0.5, 0.99)), st.integers(0, 20),
                     log_uniform(1.0 + 1e-6, 1e4), st.sampled_from([0.0, 1e-12, 1e-6]))


def _threshold(problem):
    """η* = 2ε/g, and the certificate (asserted to hold: the regime is where it does)."""
    cert = uniqueness_certificate(problem)
    assert cert.certified, "the uniqueness certificate fails in the regime of Theorem 3.1"
    g = cert.dloss_lower * cert.gradient_floor
    return 2.0 * problem.eps / g, cert, g


def check_the_bound_is_the_closed_form(problem, steps, above, step_error, bound=fixed_point_distance_bound):
    eta_star, cert, g = _threshold(problem)
    eta, eps, q = eta_star * above, problem.eps, cert.contraction
    note(f"eta = {eta!r} = {above!r} eta*, q = {q!r}, g = {g!r}, steps = {steps}, e = {step_error!r}")
    D = bound(problem, eta, steps, step_error=step_error)
    assert D.shape == (steps + 1,)
    assert D[0] == 2.0 * eps
    r = 2.0 * eps * eps / (eta * g)
    one = bound(problem, eta, 1, step_error=step_error)
    assert one[1] == pytest.approx(2.0 * eps * q + (r + step_error), rel=D_RTOL, abs=0.0)
    limit = (r + step_error) / (1.0 - q)
    small = UNIT_ROUNDOFF / 4.0 * min(1.0, limit / (2.0 * eps))  # q^t below this: q^t 2 eps < u/4 of the limit
    far = 1 if q == 0.0 else max(1, math.ceil(math.log(small) / math.log(q)))
    assert bound(problem, eta, far, step_error=step_error)[-1] == pytest.approx(limit, rel=D_RTOL, abs=0.0)


@given(cases())
def test_the_bound_is_the_closed_form_of_the_recursion_from_the_diameter(case):
    check_the_bound_is_the_closed_form(*case)


@given(regime_problems(CLAIM, eps_fraction=log_uniform(0.5, 0.99)), st.integers(0, 5))
def test_the_bound_is_finite_just_above_the_step_threshold_and_inf_just_below(problem, steps):
    eta_star, _, _ = _threshold(problem)
    above = fixed_point_distance_bound(problem, eta_star * (1.0 + 1e-9), steps)
    below = fixed_point_distance_bound(problem, eta_star * (1.0 - 1e-9), steps)
    assert below.shape == above.shape == (steps + 1,)
    assert np.all(np.isfinite(above)) and np.all(np.isinf(below))


@pytest.mark.negative_control
def test_control_a_looser_bound_is_caught():
    def looser(problem, eta, steps, *, step_error=0.0):  # r = 3 eps^2 / (eta g): valid, but not the bound
        cert = uniqueness_certificate(problem)
        q, t, eps = cert.contraction, np.arange(steps + 1, dtype=float), problem.eps
        r = 3.0 * eps * eps / (eta * cert.dloss_lower * cert.gradient_floor)
        return q ** t * 2.0 * eps + (r + step_error) * (1.0 - q ** t) / (1.0 - q)
    counterexample(cases(), holds(check_the_bound_is_the_closed_form, bound=looser), shrink=False)
