"""The fused PGD kernel (theory._kernel) against the reference Problem.value_and_grad.

The fused step must equal the plain one to rounding (correctness before
speed). Tolerance: the two computations are algebraically identical except
``log(1 + e)`` for ``log1p(e)`` (at most 2 ulp of 1 per unit) and the order of
the sums, so they agree to :data:`theory.testing.tolerances.IDENTITY_RTOL` · (1 + m + d)
relative to the natural scale of the terms: Σ|a_r|(σ_r + 1) for f, and
|L_f| (|σ' a|ᵀ|W|)_i + sup|L_ff| · that f-scale · |∂f_i| for the gradient, plus
:data:`theory.testing.tolerances.SUBNORMAL_ATOL` where the gradient underflows, times the
factors |L_f| and Σ|a_r|(1 + |W_ri|) that multiply a subnormal rounding after it
happens (found by the thorough profile: input scale 835, σ' ~ 1e-313, the two
orders of the products differing by 520 subnormal spacings).

Negative controls: a kernel that drops the ``max(z, 0)`` part of softplus, one
that uses the product form Σ a log(1 + e) = a log Π (1 + e) for blocks whose
output weights differ, and a split over threads that leaves the last row out
(injected bugs), are caught. The threaded path is checked with
:data:`theory._kernel.MIN_WORK_PER_THREAD` lowered to 1, since the drawn cases are
too small to be split under the real rule (which has its own check).

Choices that change only speed, invisible to the value checks, are checked
directly: the thread and block-size rules, the cache of unit blocks, and that
every block of a paper network (a_r = ±γ) takes the product form (its control:
general weights do fall back to a log per unit).

Every comparison is pinned at the cases of
:func:`theory.testing.strategies.pinned_perturbation_cases` (input scales 1e-6 and 1e3, and a
draw whose units reach pre-activations of ±730, with subnormal σ' and σ''; both losses;
δ = 0, halfway to the sphere and on it), with the paper's, Gaussian and half-zero output
weights and blocks of 1, 3 and m units, over 2 and 3 threads, and steps of 10^-3 ε to 10 ε.
"""

import os
from unittest import mock

import numpy as np
import pytest
from hypothesis import event, given, note
from hypothesis import strategies as st

from ..support import (
    KERNELS, allowed_errors, counterexample, needs_compiled, threaded_problem, using_kernel, with_examples,
)
from theory.geometry import project_ball, uniform_ball
from theory import _kernel as kernels
from theory._compiled import COMPILED_MAX_WORK, compiled_step
from theory._kernel import LossGradKernel, default_threads
from theory._kernel_choice import AVAILABLE
from theory.network import TwoLayerNet
from theory.pgd import pgd
from theory.problem import Problem, make_problem
from theory.testing.strategies import (
    ball_points, input_scales, pinned_perturbation_cases, problems, seeds, widths,
)
from theory.testing.tolerances import PROJECTION_RTOL


@st.composite
def cases(draw):
    problem = draw(problems(m=widths(1, 300), input_scale=input_scales(1e-3, 1e3)))
    deltas = draw(ball_points(problem.d, problem.eps, n=st.integers(1, 40)))
    return problem, deltas


@st.composite
def general_cases(draw):
    """Cases whose output weights are arbitrary (mixed magnitudes, zeros), with a drawn block size.

    The kernel's product form of Σ a log(1 + e) applies only to blocks whose output
    weights are equal (the paper's a_r = ±γ); these cases exercise the per-unit
    fallback, the split of units by sign and blocks smaller than the width.
    """
    problem, deltas = draw(cases())
    m = problem.net.m
    a = draw(st.sampled_from(["gaussian", "with zeros", "paper"]))
    rng = np.random.default_rng(draw(seeds()))
    if a != "paper":
        weights = rng.standard_normal(m) / np.sqrt(m)
        if a == "with zeros":
            weights[rng.random(m) < 0.5] = 0.0
        net = TwoLayerNet(problem.net.W, weights)
        problem = Problem(net, problem.x, problem.y, problem.eps, loss=problem.loss)
    note(f"output weights: {a}")
    return problem, deltas, draw(st.integers(1, m))


#: (problem, δ) of the pinned cases: ‖x‖ = 1e-6, 1e3 and units at ±730, both losses; δ of three rows.
PINNED = [(problem, delta) for problem, delta, _, _ in pinned_perturbation_cases()]


def pinned_general_cases():
    """The pinned cases with Gaussian and half-zero output weights (and the paper's), blocks of 1, 3 and m units."""
    for k, (problem, delta) in enumerate(PINNED):
        m = problem.net.m
        rng = np.random.default_rng(k)
        gaussian = rng.standard_normal(m) / np.sqrt(m)
        zeros = np.where(np.arange(m) % 2 == 0, 0.0, gaussian)
        for weights, block_units in ((None, m), (gaussian, 1), (zeros, 3)):
            if weights is not None:
                problem = Problem(TwoLayerNet(problem.net.W, weights), problem.x, problem.y, problem.eps, loss=problem.loss)
            yield problem, delta, block_units


def kernel_agrees(problem, deltas, kernel_class=LossGradKernel, threads=1, block_units=None, kernel=None):
    """The kernel (built from the arguments, or ``kernel`` as given) agrees with the reference."""
    if kernel is None:
        kernel = kernel_class(problem, deltas.shape[0], threads=threads, block_units=block_units)
    loss, grad = kernel(deltas)
    ref_loss, ref_grad = problem.value_and_grad(deltas)
    tol_loss, tol_grad = allowed_errors(problem, deltas)
    note(f"loss error / allowed {np.max(np.abs(loss - ref_loss) / tol_loss):.3g}, "
         f"grad error / allowed {np.max(np.abs(grad - ref_grad) / tol_grad):.3g}")
    return bool(np.all(np.abs(loss - ref_loss) <= tol_loss) and np.all(np.abs(grad - ref_grad) <= tol_grad))


@pytest.mark.parametrize("kernel", KERNELS)
@given(cases())
@with_examples(PINNED)
def test_fused_kernel_equals_the_reference_to_rounding(kernel, case):
    # ``kernel``: the block passes in numpy, or compiled (theory._compiled_blocks).
    with using_kernel(kernel):
        assert kernel_agrees(*case)


@pytest.mark.parametrize("kernel", KERNELS)
@given(general_cases())
@with_examples(pinned_general_cases())
def test_fused_kernel_equals_the_reference_for_any_output_weights_and_block_size(kernel, case):
    problem, deltas, block_units = case
    with using_kernel(kernel):
        assert kernel_agrees(problem, deltas, block_units=block_units)


def test_the_fused_kernel_compiles_its_passes_unless_told_not_to():
    problem = make_problem(3, 20, seed=0, ratio=0.3)
    with using_kernel("numpy"):
        assert not LossGradKernel(problem, 4).compiled
    with using_kernel("auto"):
        assert LossGradKernel(problem, 4).compiled == kernels.use_compiled() == AVAILABLE


def _products_across_runs(Z, E, starts, values, P, f):
    """Injected bug in the compiled pass: the product is not restarted at a new run of weights."""
    P[:] = 1.0
    for j in range(starts.size - 1):
        for r in range(starts[j], starts[j + 1]):
            t = 1.0 + E[r]
            P *= t
            E[r] = np.where(Z[r] >= 0.0, 1.0, E[r]) / t
        f += values[j] * np.log(P)


@needs_compiled
@pytest.mark.negative_control
def test_control_compiled_passes_that_carry_the_product_across_runs_are_caught(monkeypatch):
    from theory import _compiled_blocks

    monkeypatch.setattr(kernels, "_compiled_passes", lambda: (_compiled_blocks.negative_abs_relu,
                                                               _products_across_runs))
    with using_kernel("compiled"):
        counterexample(general_cases(), lambda c: kernel_agrees(c[0], c[1], block_units=c[2]))


def compiled_kernel(problem, rows, **ignored):
    """The compiled step (:class:`theory._compiled.CompiledStep`) at any size, for :func:`kernel_agrees`."""
    return compiled_step(problem, rows, any_size=True)


@needs_compiled
@given(cases())
@with_examples(PINNED)
def test_compiled_step_equals_the_reference_to_rounding(case):
    assert kernel_agrees(*case, kernel_class=compiled_kernel)


@needs_compiled
@given(general_cases())
@with_examples(pinned_general_cases())
def test_compiled_step_equals_the_reference_for_any_output_weights(case):
    problem, deltas, _ = case
    assert kernel_agrees(problem, deltas, kernel_class=compiled_kernel)


def split_agrees(problem, deltas, threads, kernel_class=LossGradKernel):
    """The kernel over ``threads`` row blocks agrees with the reference to rounding.

    The cases are far below MIN_WORK_PER_THREAD (a thread is not worth its start-up
    there), so the rule is lowered to 1 for the check: every case is split, evenly or
    not (B = 4 over 3 threads is 1 + 1 + 2 rows, the buffers sized for 2).
    """
    with mock.patch.object(kernels, "MIN_WORK_PER_THREAD", 1):
        kernel = kernel_class(problem, deltas.shape[0], threads=threads)
    event(f"threads used: {kernel.threads}")
    assert kernel.threads == min(threads, deltas.shape[0])
    try:
        return kernel_agrees(problem, deltas, kernel=kernel)
    finally:
        kernel.close()


@pytest.mark.parametrize("kernel", KERNELS)
@given(cases(), st.integers(2, 4))
@with_examples([(case, threads) for case in PINNED for threads in (2, 3)], unpack=True)
def test_threads_change_the_result_only_by_rounding(kernel, case, threads):
    # Not bit for bit: BLAS computes a one-row block with GEMV, a larger one with GEMM.
    with using_kernel(kernel):
        assert split_agrees(*case, threads)


class _LastRowLeftOut(LossGradKernel):
    """Injected bug: the split over threads stops one row short (that row stays NaN)."""

    def value_and_grad_into(self, delta, grad):
        rows = delta.shape[0]
        f = np.full(rows, np.nan)
        grad[...] = np.nan
        cuts = np.linspace(0, rows - 1, self.threads + 1).astype(int)
        for k in range(self.threads):
            if cuts[k + 1] > cuts[k]:
                self._rows(self._buffers[k], delta, cuts[k], cuts[k + 1], f, grad)
        loss, lf = self.loss.value_and_dvalue_unchecked(self.y, f)
        return loss, grad * lf[:, None]


@pytest.mark.negative_control
def test_control_a_split_that_leaves_the_last_row_out_is_caught():
    counterexample(st.tuples(cases(), st.integers(2, 4)),
                   lambda c: split_agrees(*c[0], c[1], kernel_class=_LastRowLeftOut))


def test_threads_are_used_only_where_each_gets_min_work_per_thread():
    # The rule: min(requested, B, max(1, B m d // MIN_WORK_PER_THREAD)), one thread by default.
    small = make_problem(4, 64, seed=0, ratio=0.1)
    big, per = threaded_problem()                                # per rows: one thread's work
    assert LossGradKernel(small, per, threads=4).threads == 1    # far below one thread's work
    assert LossGradKernel(big, 4 * per).threads == 1             # one unless asked
    assert LossGradKernel(big, per, threads=4).threads == 1      # exactly one thread's work
    assert LossGradKernel(big, 5 * per // 2, threads=4).threads == 2  # 2.5 threads' work: rounded down
    assert LossGradKernel(big, 3 * per, threads=4).threads == 3
    assert LossGradKernel(big, 4 * per, threads=2).threads == 2  # capped by the request
    with mock.patch.object(kernels, "MIN_WORK_PER_THREAD", 1):
        assert LossGradKernel(small, 3, threads=4).threads == 3  # capped by the rows


def test_block_units_are_the_request_capped_by_m_and_product_units_max():
    problem = make_problem(3, 40, seed=0, ratio=0.1)
    assert LossGradKernel(problem, 4, block_units=7).block_units == 7
    assert LossGradKernel(problem, 4, block_units=100).block_units == 40
    wide = make_problem(2, 1500, seed=0, ratio=0.1)
    assert LossGradKernel(wide, 4, block_units=1200).block_units == kernels.PRODUCT_UNITS_MAX


def test_unit_blocks_are_built_once_per_network_and_block_size():
    net = make_problem(3, 40, seed=0, ratio=0.1).net
    assert kernels._unit_blocks(net, 8) is kernels._unit_blocks(net, 8)
    assert kernels._unit_blocks(net, 8) is not kernels._unit_blocks(net, 16)


@given(problems(m=widths(1, 300)), st.integers(1, 64))
def test_every_block_of_a_paper_network_takes_the_product_form(problem, block_units):
    # a_r = ±γ ordered by sign: each block holds at most two runs of equal weights, so none
    # falls back to a log per unit (the fallback is correct, only slower: the checks of the
    # kernel's values cannot see it).
    blocks = kernels._unit_blocks(problem.net, block_units)
    assert all(runs is not None for _, _, _, runs, _ in blocks)
    for _, _, a_b, (starts, values), all_runs in blocks:
        assert np.array_equal(np.repeat(values, np.diff(np.append(starts, a_b.size))), a_b)
        assert np.array_equal(all_runs[0][:-1], starts) and all_runs[1] is values


@given(problems(m=widths(1, 60)), st.integers(1, 16), st.integers(0, 2 ** 32 - 1))
def test_the_runs_of_every_block_rebuild_its_output_weights(problem, block_units, seed):
    # The compiled passes take one log per run of equal weights, however many runs a block has.
    a = np.random.default_rng(seed).choice([-1.0, -0.5, 0.5, 1.0], problem.net.m)
    for _, _, a_b, _, (starts, values) in kernels._unit_blocks(TwoLayerNet(problem.net.W, a), block_units):
        assert starts.dtype == np.int64 and starts[0] == 0 and starts[-1] == a_b.size
        assert np.all(np.diff(starts) > 0)
        assert np.array_equal(np.repeat(values, np.diff(starts)), a_b)


def test_control_the_per_unit_fallback_is_seen_for_general_weights():
    problem = make_problem(3, 12, seed=0, ratio=0.1)
    net = TwoLayerNet(problem.net.W, np.linspace(-1.0, 1.0, 12))   # 12 distinct weights
    assert any(runs is None for _, _, _, runs, _ in kernels._unit_blocks(net, 12))


def test_a_kernel_may_be_closed_twice():
    big, per = threaded_problem()
    kernel = LossGradKernel(big, 2 * per, threads=2)
    assert kernel._pool is not None
    kernel.close()
    kernel.close()
    assert kernel._pool is None


@given(cases(), st.floats(1e-3, 10.0))
@with_examples([(case, fraction) for case in PINNED for fraction in (1e-3, 10.0)], unpack=True)
def test_fused_pgd_step_equals_the_plain_step_to_rounding(case, eta_fraction):
    assert step_agrees(*case, eta_fraction * case[0].eps)


def step_agrees(problem, deltas, eta):
    """One fused PGD step within rounding of the plain step P_B(δ − η ∂L).

    The step moves by η times the gradient's error and projecting is
    non-expansive; the projection itself carries PROJECTION_RTOL of the step's size.
    """
    fast = pgd(problem, deltas, eta=eta, steps=1).deltas[1]
    _, ref_grad = problem.value_and_grad(deltas)
    plain = project_ball(deltas - eta * ref_grad, problem.eps)
    _, tol_grad = allowed_errors(problem, deltas)
    tol = eta * np.linalg.norm(tol_grad, axis=-1) + PROJECTION_RTOL * (problem.eps + eta * np.abs(ref_grad).max())
    return bool(np.all(np.linalg.norm(fast - plain, axis=-1) <= tol))


@given(seeds(), st.integers(1, 5))
def test_pgd_over_a_batch_of_any_shape_matches_the_flat_batch(seed, steps):
    problem = make_problem(3, 20, seed=seed, ratio=0.3)
    starts = uniform_ball(seed, 6, 3, problem.eps)
    flat = pgd(problem, starts, eta=0.05, steps=steps)
    shaped = pgd(problem, starts.reshape(2, 3, 3), eta=0.05, steps=steps)
    assert np.array_equal(flat.deltas.reshape(shaped.deltas.shape), shaped.deltas)


class _NoRelu(LossGradKernel):
    """Injected bug: softplus without its max(z, 0) part."""

    def _rows(self, buf, delta, lo, hi, f_out, grad_out):
        super()._rows(buf, delta, lo, hi, f_out, grad_out)
        z = (delta[lo:hi] + self.x) @ np.concatenate([b[0] for b in self._blocks]).T
        f_out[lo:hi] -= np.maximum(z, 0.0) @ np.concatenate([b[2] for b in self._blocks])


@pytest.mark.negative_control
def test_control_a_kernel_without_the_relu_part_is_caught():
    counterexample(cases(), lambda c: kernel_agrees(*c, kernel_class=_NoRelu))


class _ProductEverywhere(LossGradKernel):
    """Injected bug: the product form used for every block, as if its weights were all equal."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._blocks = [(W_b, aW_b, a_b, (np.zeros(1, dtype=np.intp), a_b[:1].copy()),
                         (np.array([0, a_b.size], dtype=np.int64), a_b[:1].copy()))
                        for W_b, aW_b, a_b, _, _ in self._blocks]


@pytest.mark.negative_control
def test_control_the_product_form_for_unequal_output_weights_is_caught():
    counterexample(general_cases(), lambda c: kernel_agrees(c[0], c[1], kernel_class=_ProductEverywhere,
                                                            block_units=c[2]))


@pytest.mark.negative_control
def test_control_a_fused_step_without_the_projection_is_caught(monkeypatch):
    import theory.pgd

    monkeypatch.setattr(theory.pgd, "project_ball_inplace", lambda v, eps: None)  # injected bug: no projection
    with using_kernel("numpy"):
        counterexample(st.tuples(cases(), st.floats(1e-3, 10.0)),
                       lambda c: step_agrees(*c[0], c[1] * c[0][0].eps))


@pytest.mark.parametrize("kernel", KERNELS)
@given(cases(), st.floats(1e-3, 10.0))
def test_both_kernels_take_the_plain_step_to_rounding(kernel, case, eta_fraction):
    with using_kernel(kernel):
        assert step_agrees(*case, eta_fraction * case[0].eps)


@needs_compiled
@pytest.mark.negative_control
def test_control_a_compiled_step_without_the_projection_is_caught(monkeypatch):
    from theory import _compiled, _compiled_loops as loops

    def unprojected(old, grad, eta, eps, new):  # injected bug: the step, not projected
        new[:] = old - eta * grad

    # The loops run as Python (numba's py_func), so that they call the injected step.
    monkeypatch.setattr(loops, "_step_project", unprojected)
    monkeypatch.setattr(_compiled, "_loops", lambda: (loops.value_and_grad_rows, loops.pgd_loop.py_func,
                                                      loops.until_loop.py_func, loops.advance.py_func))
    with using_kernel("compiled"):
        counterexample(st.tuples(cases().filter(lambda c: c[0].net.m * c[0].d * len(c[1]) <= COMPILED_MAX_WORK),
                                 st.floats(1e-3, 10.0)),
                       lambda c: step_agrees(*c[0], c[1] * c[0][0].eps))


@pytest.mark.negative_control
def test_control_a_batch_in_another_order_is_caught():
    problem = make_problem(3, 20, seed=0, ratio=0.3)
    starts = uniform_ball(0, 6, 3, problem.eps)
    flat = pgd(problem, starts, eta=0.05, steps=2)
    swapped = pgd(problem, starts[::-1].reshape(2, 3, 3), eta=0.05, steps=2)
    assert not np.array_equal(flat.deltas.reshape(swapped.deltas.shape), swapped.deltas)


@given(cases())
@with_examples(PINNED)
def test_kernel_writes_the_gradient_into_a_given_buffer(case):
    problem, deltas = case
    kernel = LossGradKernel(problem, deltas.shape[0])
    buffer = np.full(deltas.shape, np.nan)
    loss, grad = kernel(deltas, grad_out=buffer)
    fresh_loss, fresh_grad = kernel(deltas)
    assert grad is buffer
    assert np.array_equal(grad, fresh_grad) and np.array_equal(loss, fresh_loss)


def test_kernel_rejects_a_gradient_buffer_and_says_what_it_got():
    kernel = LossGradKernel(make_problem(3, 5, seed=0, ratio=0.1), 2)
    delta = np.zeros((2, 3))
    with pytest.raises(TypeError, match=r"grad_out must be a float64 ndarray of shape \(2, 3\), got list"):
        kernel(delta, grad_out=[[0.0] * 3] * 2)
    with pytest.raises(ValueError, match=r"shape \(2, 3\), got float64 of shape \(3, 3\)"):
        kernel(delta, grad_out=np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"shape \(2, 3\), got float32 of shape \(2, 3\)"):
        kernel(delta, grad_out=np.zeros((2, 3), np.float32))


def test_default_threads_are_the_cores_this_process_may_use(monkeypatch):
    assert default_threads() == len(os.sched_getaffinity(0)) >= 1
    monkeypatch.setattr(kernels.os, "sched_getaffinity", lambda pid: {0})  # pinned to one core
    assert default_threads() == 1
    monkeypatch.delattr(kernels.os, "sched_getaffinity")  # as on macOS and Windows
    monkeypatch.setattr(kernels.os, "cpu_count", lambda: 3)
    assert default_threads() == 3
    monkeypatch.setattr(kernels.os, "cpu_count", lambda: None)  # "undetermined"
    assert default_threads() == 1


def values_equal_the_step_values(problem, deltas, kernel_class=LossGradKernel):
    """``values_into`` (the forward half) gives the loss of ``value_and_grad_into`` bit for bit."""
    kernel = kernel_class(problem, deltas.shape[0])
    delta = np.ascontiguousarray(deltas)
    loss, _ = kernel.value_and_grad_into(delta, np.empty(delta.shape))
    return bool(np.array_equal(kernel.values_into(delta), loss))


@pytest.mark.parametrize("kernel", KERNELS)
@given(cases())
@with_examples(PINNED)
def test_the_forward_half_gives_the_steps_loss_bit_for_bit(kernel, case):
    with using_kernel(kernel):
        assert values_equal_the_step_values(*case)
        if kernel == "compiled":
            assert values_equal_the_step_values(*case, kernel_class=compiled_kernel)


class _ForwardWithoutTheLastBlock(LossGradKernel):
    """Injected bug: the forward half leaves out the last block of units."""

    def values_into(self, delta):
        blocks = self._blocks
        self._blocks = blocks[:-1] if len(blocks) > 1 else [(W * 0.0, aW * 0.0, a * 0.0, runs, (s, v * 0.0))
                                                            for W, aW, a, runs, (s, v) in blocks]
        try:
            return super().values_into(delta)
        finally:
            self._blocks = blocks


@pytest.mark.negative_control
def test_control_a_forward_half_without_its_last_block_is_caught():
    counterexample(cases(), lambda c: values_equal_the_step_values(*c, kernel_class=_ForwardWithoutTheLastBlock))
