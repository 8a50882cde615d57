"""The pinned cases of the numerics checks are what their docstring says.

:func:`theory.testing.strategies.pinned_perturbation_cases` gives the ``@example`` inputs of
several numerics modules (the extreme input scales and a saturated draw). Each case is
checked against its description: d = 3, m = 8, seed 7, per loss; ‖x‖ = 1e-6, 1e3 and the
scale whose largest negative pre-activation is SATURATING_PREACTIVATION; ε = r ‖x‖ with
r = 1, 0.01, 0.01; δ's rows at 0, ε/2 and ε; u and v unit vectors. Control: a case list with
a direction of the wrong length is caught.
"""

import numpy as np
import pytest

from theory.problem import make_problem
from theory.testing.strategies import SATURATING_PREACTIVATION, pinned_perturbation_cases
from theory.testing.tolerances import FEW_OPS_RTOL

LOSSES = ("quadratic", "cross_entropy")


def check_pinned_cases(cases, losses=LOSSES):
    assert len(cases) == 3 * len(losses)
    for k, (problem, delta, u, v) in enumerate(cases):
        loss, which = losses[k // 3], k % 3
        reference = make_problem(3, 8, seed=7, ratio=0.1, loss=loss)
        assert (problem.d, problem.net.m, problem.loss.name) == (3, 8, loss)
        np.testing.assert_array_equal(problem.net.W, reference.net.W)
        np.testing.assert_array_equal(problem.net.a, reference.net.a)
        scale = float(np.linalg.norm(problem.x))
        if which == 2:  # the saturating draw: its largest negative pre-activation is the stated one
            np.testing.assert_allclose(np.max(-(problem.net.W @ problem.x)), SATURATING_PREACTIVATION,
                                       rtol=FEW_OPS_RTOL)
        else:
            np.testing.assert_allclose(scale, (1e-6, 1e3)[which], rtol=FEW_OPS_RTOL)
        np.testing.assert_allclose(problem.eps, (1.0, 0.01, 0.01)[which] * scale, rtol=FEW_OPS_RTOL)
        np.testing.assert_allclose(np.linalg.norm(delta, axis=1), [0.0, 0.5 * problem.eps, problem.eps],
                                   rtol=FEW_OPS_RTOL)
        for w in (u, v):
            assert w.shape == (3, 3)
            np.testing.assert_allclose(np.linalg.norm(w, axis=1), 1.0, rtol=FEW_OPS_RTOL)
        assert not np.allclose(delta[1] / np.linalg.norm(delta[1]), delta[2] / np.linalg.norm(delta[2]))


def test_the_pinned_perturbation_cases_are_the_described_draws():
    check_pinned_cases(pinned_perturbation_cases())


def test_the_pinned_cases_of_one_loss_are_its_three_cases():
    check_pinned_cases(pinned_perturbation_cases(("cross_entropy",)), losses=("cross_entropy",))


@pytest.mark.negative_control
def test_control_a_direction_of_the_wrong_length_is_caught():
    cases = pinned_perturbation_cases()
    problem, delta, u, v = cases[0]
    cases[0] = (problem, delta, u * np.array([[1.0], [1.0], [1.5]]), v)
    with pytest.raises(AssertionError):
        check_pinned_cases(cases)
