"""The compiled kernel of :mod:`theory._compiled` (the optional extra ``fast``) inside PGD.

* Which step serves: the compiled one for small steps (B·m·d <= COMPILED_MAX_WORK) on one
  thread with the quadratic or the cross-entropy loss, the numpy kernel otherwise.
* :func:`theory.pgd.pgd_until` with Corollary 3.1's output rule runs inside the compiled
  loop; it must stop at the first iterate of the compiled :func:`theory.pgd.pgd` where the
  reference criterion (numpy, ``Problem.net.grad``) holds, up to rounding. Control: the
  compiled rule with ten times the threshold (an injected bug) is caught.
* At δ = 0 (no tangent space) the rule is not met, on both kernels.
* A float32 or integer batch is taken as its float64 copy, bit for bit; from a float32, integer
  or strided input only float64 (int64 for indices) C-contiguous arrays reach the compiled loops.
* The kernel asked for is ``auto`` unless THEORY_KERNEL says ``numpy`` or ``compiled`` (an
  ImportError without numba), with or without numba.

The compiled step's values against the reference are in ``test_numerics_kernels.py`` and
``test_numerics_hostile.py``; the rest of PGD's checks (``test_numerics_pgd.py``) run on
whichever kernel applies, and CI runs them on the numpy kernel too.
"""

import numpy as np
import pytest
from hypothesis import given

from ..support import KERNELS, counterexample, needs_compiled, using_kernel, with_examples
from .pgd_support import PINNED_CASES, pgd_cases
from theory._compiled import COMPILED_MAX_WORK, CompiledStep
from theory._kernel import LossGradKernel
from theory.geometry import SPHERE_RTOL, project_tangent, vector_norm
from theory.losses import QuadraticLoss
from theory.pgd import fused_kernel, output_criterion, pgd, pgd_until
from theory.problem import Problem, make_problem
from theory.testing.tolerances import IDENTITY_RTOL

#: A small draw (d = 3, m = 8).
PINNED = make_problem(3, 8, seed=1, ratio=0.1)


@needs_compiled
def test_the_compiled_kernel_serves_only_small_steps_on_one_thread_and_the_known_losses():
    big = make_problem(10, 100, seed=0, ratio=0.3)
    with using_kernel("compiled"):
        assert isinstance(fused_kernel(PINNED, 1), CompiledStep)
        assert isinstance(fused_kernel(PINNED, 1, threads=2), LossGradKernel)
        rows = COMPILED_MAX_WORK // (big.net.m * big.d)
        assert isinstance(fused_kernel(big, rows), CompiledStep)
        assert isinstance(fused_kernel(big, rows + 1), LossGradKernel)
        odd = Problem(PINNED.net, PINNED.x, PINNED.y, PINNED.eps, loss=type("Other", (QuadraticLoss,), {})())
        assert isinstance(fused_kernel(odd, 1), LossGradKernel)


# --- the compiled output rule (theory._compiled) ------------------------------------------------

def output_rule_margins(problem, deltas, eta):
    """(sphere distance / (SPHERE_RTOL ε), ‖P_T ∂f‖ / η^{1/2}) at ``deltas`` (..., d), by the numpy reference."""
    norms = vector_norm(deltas)
    tangent = np.full(norms.shape, np.inf)                        # δ = 0: no tangent space, never met
    inside = norms > 0
    tangent[inside] = vector_norm(project_tangent(deltas[inside], problem.net.grad(problem.x + deltas[inside])))
    return np.abs(norms - problem.eps) / (SPHERE_RTOL * problem.eps), tangent / np.sqrt(eta)


def compiled_rule_agrees(problem, starts, eta, steps):
    """pgd_until with the output criterion, in the compiled loop, stops at the first iterate of the
    compiled pgd where the reference criterion holds, up to rounding.

    The compiled ∂f and the norms differ from the reference by rounding only (IDENTITY_RTOL ·
    (1 + m + d) relative, :mod:`theory._compiled`), so each margin is compared with 1 within that
    slack: at the hit both are below 1 + slack, before it one of them is at least 1 − slack.
    """
    hit = pgd_until(problem, starts, eta, output_criterion(problem, eta), max_steps=steps)
    deltas = pgd(problem, starts, eta=eta, steps=steps).deltas   # the same compiled step, bit for bit
    slack = IDENTITY_RTOL * (1 + problem.net.m + problem.d)
    for i, t in enumerate(hit.times):
        last = t if t >= 0 else steps
        if not np.array_equal(hit.deltas[i], deltas[last, i]):
            return False
        sphere, tangent = output_rule_margins(problem, deltas[:last + 1, i], eta)
        met_early = (sphere[:last] < 1 - slack) & (tangent[:last] < 1 - slack)
        if np.any(met_early) or (t >= 0 and not (sphere[t] <= 1 + slack and tangent[t] <= 1 + slack)):
            return False
    return True


@needs_compiled
@given(pgd_cases())
@with_examples(PINNED_CASES)
def test_the_compiled_output_rule_stops_at_the_first_iterate_that_meets_it(case):
    with using_kernel("compiled"):
        assert compiled_rule_agrees(*case)


@needs_compiled
@pytest.mark.negative_control
def test_control_a_compiled_output_rule_with_ten_times_the_threshold_is_caught(monkeypatch):
    real = CompiledStep.run_until

    def loose(self, flat, etas, thresholds, *args):  # injected bug: the threshold 10 η^{1/2}
        return real(self, flat, etas, 10.0 * np.asarray(thresholds), *args)

    monkeypatch.setattr(CompiledStep, "run_until", loose)
    with using_kernel("compiled"):
        counterexample(pgd_cases(), lambda c: compiled_rule_agrees(*c))


@pytest.mark.parametrize("kernel", KERNELS)
def test_the_output_rule_is_not_met_at_the_centre_and_pgd_until_starts_there(kernel):
    problem = PINNED
    starts = np.zeros((2, problem.d))
    assert not output_criterion(problem, 0.1)(starts).any()     # no tangent space at δ = 0, not on the sphere
    with using_kernel(kernel):
        hit = pgd_until(problem, starts, 0.1, output_criterion(problem, 0.1), max_steps=3)
    assert np.all(hit.times != 0)


@needs_compiled
def test_the_compiled_step_takes_any_float_input_as_float64():
    # The loops are compiled for float64: a float32 or integer batch is converted first, and
    # gives what its float64 copy gives, bit for bit.
    with using_kernel("compiled"):
        step = fused_kernel(PINNED, 2)
        assert isinstance(step, CompiledStep)
        delta = np.array([[0.01, -0.02, 0.0], [0.0, 0.0, 0.0]], dtype=np.float32)
        loss, grad = step(delta)
        loss64, grad64 = step(delta.astype(np.float64))
        assert grad.dtype == np.float64 and np.array_equal(grad, grad64) and np.array_equal(loss, loss64)
        loss_int, grad_int = step(np.zeros((2, 3), dtype=np.int64))
        assert np.array_equal(grad_int, step(np.zeros((2, 3)))[1])


@needs_compiled
def test_the_loops_are_given_one_array_type_whatever_the_input(monkeypatch):
    # The compiled step and loops take float64 C-contiguous copies of what they are given, so
    # that one compiled (and cached) version of each loop serves: the arrays that reach the loops
    # from a float32, integer or strided input are float64 (int64 for indices) and C-contiguous.
    # Seen at the loops' door, not in numba's list of versions, which other checks may have grown.
    from theory import _compiled

    seen, loops = [], _compiled._loops()

    def at_the_door(loop):
        def call(*args):
            seen.extend((a.dtype, a.flags.c_contiguous) for a in args if isinstance(a, np.ndarray))
            return loop(*args)
        return call

    monkeypatch.setattr(_compiled, "_loops", lambda: tuple(at_the_door(loop) for loop in loops))

    def run(delta, etas, thresholds):
        step = CompiledStep(PINNED, 2, 0)
        step(delta)
        flat = np.ascontiguousarray(delta, dtype=np.float64)
        step.advance(flat, etas, PINNED.eps)
        path = np.zeros((3, 2, 3))
        path[0] = flat
        step.run_pgd(path, np.zeros((2, 2)), etas, PINNED.eps)
        step.run_until(flat.copy(), etas, thresholds, PINNED.eps, SPHERE_RTOL, 2, np.full(2, -1),
                       np.zeros((2, 3)))

    plain = np.array([[0.01, -0.02, 0.0], [0.0, 0.03, 0.0]])
    run(plain.astype(np.float32), np.full(2, 0.1, dtype=np.float32), np.full(2, 1e-3, dtype=np.float32))
    run(np.zeros((2, 3), dtype=np.int64), np.full(4, 0.1)[::2], np.full(4, 1e-3)[::2])
    run(np.asfortranarray(np.tile(plain, (1, 2)))[:, ::2], np.full(2, 0.1), np.full(2, 1e-3))
    assert seen and {(dtype, contiguous) for dtype, contiguous in seen} == {
        (np.dtype(np.float64), True), (np.dtype(np.int64), True)}


def test_the_kernel_choice_is_auto_unless_the_environment_says_otherwise(monkeypatch):
    from theory import _kernel_choice
    from theory._kernel_choice import KERNEL_ENV, kernel_choice, use_compiled

    for available in (False, True):
        monkeypatch.setattr(_kernel_choice, "AVAILABLE", available)
        assert kernel_choice({}) == kernel_choice({KERNEL_ENV: ""}) == "auto"
        assert kernel_choice({KERNEL_ENV: "numpy"}) == "numpy"
        assert use_compiled({}) is available and use_compiled({KERNEL_ENV: "numpy"}) is False
    assert kernel_choice({KERNEL_ENV: "compiled"}) == "compiled"
    monkeypatch.setattr(_kernel_choice, "AVAILABLE", False)
    with pytest.raises(ImportError, match="THEORY_KERNEL=compiled needs numba"):
        kernel_choice({KERNEL_ENV: "compiled"})
