"""The problem's construction: input scale, ratio, reproducibility (its repr rebuilds it), and certified label bounds.

Assumption 3 of section 2 (𝓛 < |y − f| < 𝓤 on the whole ball) is certified per
draw by :attr:`theory.problem.Problem.bounds`. The check evaluates |y − f| (and
|∂L/∂f| for cross-entropy) at uniform points of the ball *and* at the two points
±ε ∂f(x)/‖∂f(x)‖ where the first-order change of f is largest, and asserts that
all lie within the certified bounds. The negative control replaces the certified
variation bound by its first-order part ε‖∂f(x)‖ (dropping the curvature term):
Hypothesis finds a draw where f leaves that range.

Every check is pinned at the problems of
:func:`theory.testing.strategies.pinned_perturbation_cases` (input scales 1e-6 and 1e3, and a
draw whose units reach pre-activations of ±730, with subnormal σ' and σ''), for both
losses.
"""

import numpy as np
from hypothesis import event, given, note, target
from hypothesis import strategies as st

from ..support import counterexample, with_examples
from theory.geometry import uniform_ball, vector_norm
from theory.network import draw_network
from theory.problem import DEFAULT_LABEL_GAP, Problem, make_problem
from theory.testing.tolerances import FEW_OPS_RTOL
from theory.testing.strategies import (
    dims, input_scales, log_uniform, pinned_perturbation_cases, problems, seeds, widths,
)

#: The pinned problems (both losses): ‖x‖ = 1e-6, 1e3 and the draw with units at ±730.
PINNED = [case[0] for case in pinned_perturbation_cases()]


#: (d, m, seed, input scale, ratio) of the pinned problems, and the smallest normal input scale and
#: 1e-300 (x has subnormal coordinates, ε is subnormal). Not 5e-324: ε = ratio · 5e-324 underflows
#: to 0, which make_problem rejects, naming eps.
PINNED_SCALES = [(3, 8, 7, float(vector_norm(p.x)), p.eps / float(vector_norm(p.x))) for p in PINNED[:3]] + [
    (3, 8, 7, 2.2250738585072014e-308, 0.1), (3, 8, 7, 1e-300, 0.1)]


def probe_points(problem, seed, n=64):
    """Uniform points of the ball plus the two extreme points of the linearisation, shape (n + 2, d)."""
    g = problem.net.grad(problem.x)
    extreme = problem.eps * g / vector_norm(g) if vector_norm(g) > 0 else np.zeros_like(g)
    return np.vstack([uniform_ball(seed, n, problem.d, problem.eps), extreme, -extreme])


def within_radius(problem, radius, seed):
    """|f(x + δ) − f(x)| <= radius at the probe points; returns (holds, worst ratio)."""
    change = np.abs(problem.f(probe_points(problem, seed)) - problem.net.value(problem.x))
    return bool(np.all(change <= radius)), float(change.max() / radius)


@given(problems(ratio=log_uniform(1e-3, 10.0)), seeds())
@with_examples([(p, 0) for p in PINNED], unpack=True)
def test_label_bounds_hold_on_the_ball(problem, seed):
    bounds = problem.bounds
    note(f"{problem!r}, {bounds}")
    ok, ratio = within_radius(problem, bounds.f_radius, seed)
    target(ratio, label="observed change of f / certified radius")
    assert ok
    f = problem.f(probe_points(problem, seed))
    dloss = np.abs(problem.loss.dvalue(problem.y, f))
    assert np.all((bounds.dloss_lower <= dloss) & (dloss <= bounds.dloss_upper))
    event(f"assumption 3 certified: {bounds.certified}")


@given(problems(loss="quadratic", ratio=log_uniform(1e-3, 10.0)))
@with_examples([p for p in PINNED if p.loss.name == "quadratic"])
def test_default_quadratic_label_certifies_the_label_gap(problem):
    assert problem.bounds.certified
    # lower = |y - (f(x) ± R)| with y = f(x) ± (R + gap): the subtraction loses
    # a few ulps of the operands' size, not of the gap's.
    b = problem.bounds
    assert abs(b.lower - DEFAULT_LABEL_GAP) <= FEW_OPS_RTOL * (abs(problem.y) + abs(b.f_center) + b.f_radius)


def test_control_first_order_radius_is_exceeded():
    """Negative control: without the curvature term, the variation bound is wrong."""

    def holds(case):
        problem, seed = case
        first_order = problem.eps * float(vector_norm(problem.net.grad(problem.x)))
        return within_radius(problem, first_order, seed)[0]

    counterexample(st.tuples(problems(ratio=log_uniform(1e-2, 10.0)), seeds()), holds)


@given(dims(), widths(), seeds(), input_scales(), log_uniform(1e-3, 10.0), st.sampled_from(["quadratic", "cross_entropy"]))
def test_the_repr_of_a_drawn_problem_is_the_call_that_rebuilds_it(d, m, seed, scale, ratio, loss):
    # A failing example's problem replays by copy-paste of its repr; a problem built from its
    # parts says what it is made of.
    problem = make_problem(d, m, seed=seed, input_scale=scale, ratio=ratio, loss=loss)
    again = eval(repr(problem), {"make_problem": make_problem})
    assert repr(again) == repr(problem) and repr(problem).startswith("make_problem(")
    assert np.array_equal(again.net.W, problem.net.W) and np.array_equal(again.net.a, problem.net.a)
    assert np.array_equal(again.x, problem.x) and (again.y, again.eps, again.loss.name) == (problem.y, problem.eps, loss)
    parts = Problem(problem.net, problem.x, problem.y, problem.eps, problem.loss)
    assert repr(parts) == (f"Problem(d={d}, m={m}, |x|={np.linalg.norm(problem.x):.3g}, y={problem.y:.6g}, "
                           f"eps={problem.eps:.3g}, loss={loss!r})")


@given(dims(), widths(), seeds(), input_scales(), log_uniform(1e-3, 10.0))
@with_examples(PINNED_SCALES, unpack=True)
def test_make_problem_sets_input_scale_and_ratio(d, m, seed, scale, ratio):
    problem = make_problem(d, m, seed=seed, input_scale=scale, ratio=ratio)
    assert np.isclose(vector_norm(problem.x), scale, rtol=FEW_OPS_RTOL)
    assert np.isclose(problem.eps, ratio * scale, rtol=FEW_OPS_RTOL)
    net = draw_network(d, m, seed=seed)
    assert np.array_equal(problem.net.W, net.W) and np.array_equal(problem.net.a, net.a)
    again = make_problem(d, m, seed=seed, input_scale=scale, ratio=ratio)
    assert np.array_equal(again.x, problem.x) and again.y == problem.y
