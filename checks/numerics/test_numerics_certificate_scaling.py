"""The certified circle scan and the fold-free covers of the annulus (d = 2) and the shell (d = 3) do not depend on the units of δ.

Rescaling by a power of two s, δ ↦ sδ, x ↦ sx and W ↦ W/s, leaves the network's pre-activations
w_rᵀ(x + δ) and so the loss L(δ) the same function of δ/s; every bound and test of the covers is
homogeneous in ε (values and errors of the centre derivatives, the box bounds, the resolution
rtol · ε), and multiplying by a power of two is exact in floating point (no value here comes near
the ends of the float range). So the rescaled cover must evaluate the same boxes, prove the same
ones, stop for the same reason and reach s times the radius, all exactly; the circle scan must
evaluate as many points and find the same critical points (δ times s, the same losses and kinds).
A rule written with ε in the wrong place (a resolution rtol/ε, a term of the wrong degree in ε or
in the network's derivatives) breaks this.

Controls: centre-value errors with an absolute floor of 1e-6 (an error bound that ignores the
units) make the rescaled covers differ; a curvature bound of the circle scan divided by ε (a term
of the wrong degree) makes the rescaled scans differ.
"""

import unittest.mock

import numpy as np
import pytest
from hypothesis import event, given, note, settings, strategies as st

from ..support import counterexample
from theory.certificates import annulus, shell
from theory.certificates.annulus import fold_free_annulus
from theory.certificates.shell import fold_free_shell
from theory.landscape.circle import circle_critical_points
from theory.network import TwoLayerNet
from theory.problem import Problem
from theory.testing.strategies import input_scales, log_uniform, problems

#: Boxes each cover may evaluate: enough for covers that split and progress, few enough for
#: a check that runs on every example.
BUDGET = 3000

#: The rescalings: powers of two, so that every product by s is exact.
SCALES = (2.0 ** -10, 2.0 ** 10)

FEW = settings(max_examples=max(4, settings.default.max_examples // 2))


def rescaled(problem, s):
    """The problem in units of δ multiplied by s: x ↦ s x, W ↦ W/s, ε ↦ s ε."""
    return Problem(TwoLayerNet(problem.net.W / s, problem.net.a), problem.x * s, problem.y, problem.eps * s,
                   loss=problem.loss)


@st.composite
def cover_cases(draw, d):
    """(problem of dimension d, ε₀, ε₁, s, keyword arguments of the cover)."""
    problem = draw(problems(d=d, m=st.integers(1, 8), input_scale=input_scales(1e-2, 1e2),
                            ratio=log_uniform(0.05, 1.0)))
    lo = problem.eps * draw(log_uniform(0.02, 0.5))
    hi = lo * (1.0 + draw(log_uniform(0.1, 10.0)))
    rtol = draw(st.sampled_from([None, 0.3]))           # 0.3: covers that stop at their resolution
    s = draw(st.sampled_from(SCALES))
    note(f"annulus/shell [{lo!r}, {hi!r}], s = {s!r}, rtol {rtol}")
    return problem, lo, hi, s, dict(max_boxes=BUDGET, **({} if rtol is None else {"rtol": rtol}))


def covers_agree(cover, problem, lo, hi, s, options):
    """The cover of the problem and of its rescaled copy: the same boxes and outcome, radii times s."""
    base = cover(problem, lo, hi, **options)
    scaled = cover(rescaled(problem, s), lo * s, hi * s, **options)
    note(f"cover {base}, rescaled {scaled}")
    event(f"stopped: {base.stopped}")
    return ((scaled.evaluations, scaled.boxes, scaled.stopped, scaled.proved) ==
            (base.evaluations, base.boxes, base.stopped, base.proved)
            and (scaled.eps_lo, scaled.eps_hi, scaled.reached) == (base.eps_lo * s, base.eps_hi * s, base.reached * s))


@FEW
@given(cover_cases(d=2))
def test_the_annulus_cover_is_the_same_in_units_of_delta_scaled_by_a_power_of_two(case):
    assert covers_agree(fold_free_annulus, *case)


@FEW
@given(cover_cases(d=3))
def test_the_shell_cover_is_the_same_in_units_of_delta_scaled_by_a_power_of_two(case):
    assert covers_agree(fold_free_shell, *case)


def with_absolute_error_floor(evaluate):
    """Injected bug: the centre values' error bounds raised to at least 1e-6, whatever the units."""
    def wrong(*args):
        out = evaluate(*args)
        out["errors"] = tuple(np.maximum(e, 1e-6) for e in out["errors"])
        return out
    return wrong


@pytest.mark.negative_control
def test_control_an_absolute_error_floor_in_the_shell_is_caught():
    with unittest.mock.patch.object(shell, "chart_box_values", with_absolute_error_floor(shell.chart_box_values)):
        counterexample(cover_cases(d=3), lambda c: covers_agree(fold_free_shell, *c))


@pytest.mark.negative_control
def test_control_an_absolute_error_floor_in_the_annulus_is_caught():
    with unittest.mock.patch.object(annulus, "_evaluate_boxes", with_absolute_error_floor(annulus._evaluate_boxes)):
        counterexample(cover_cases(d=2), lambda c: covers_agree(fold_free_annulus, *c))


def scans_agree(problem, s):
    """The circle scan of the problem and of its rescaled copy: the same bisections, the critical points times s."""
    base, scaled = circle_critical_points(problem), circle_critical_points(rescaled(problem, s))
    note(f"scan: {base.evaluations} evaluations, certified {base.certified}, {len(base.points)} points")
    event(f"scan certified: {base.certified}")
    return ((scaled.evaluations, scaled.certified, scaled.unresolved, len(scaled.points)) ==
            (base.evaluations, base.certified, base.unresolved, len(base.points))
            and all(np.array_equal(q.delta, s * p.delta) and (q.loss, q.kind) == (p.loss, p.kind)
                    for p, q in zip(base.points, scaled.points)))


@pytest.mark.parametrize("loss", ["quadratic", "cross_entropy"])   # each with its draws: L_fff = 0 for one only
@FEW
@given(st.data())
def test_the_circle_scan_is_the_same_in_units_of_delta_scaled_by_a_power_of_two(loss, data):
    problem = data.draw(problems(d=2, m=st.integers(1, 8), input_scale=input_scales(1e-2, 1e2),
                                 ratio=log_uniform(0.05, 3.0), loss=loss), label="problem")
    assert scans_agree(problem, data.draw(st.sampled_from(SCALES), label="s"))


@pytest.mark.negative_control
def test_control_a_curvature_bound_of_the_wrong_degree_in_eps_is_caught():
    from theory.landscape import circle

    arc_bounds = circle._arc_bounds

    def wrong_degree(problem, a, b, glob):  # injected bug: M2 divided by ε (the degree ε^3 written ε^2)
        m1, m2 = arc_bounds(problem, a, b, glob)
        return m1, m2 / problem.eps

    with unittest.mock.patch.object(circle, "_arc_bounds", wrong_degree):
        counterexample(st.tuples(problems(d=2, m=st.integers(1, 8), input_scale=input_scales(1e-2, 1e2),
                                          ratio=log_uniform(0.05, 3.0)), st.sampled_from(SCALES)),
                       lambda c: scans_agree(*c))
