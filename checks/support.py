"""Helpers for writing checks and their negative controls.

* :func:`counterexample` runs Hypothesis's ``find()`` for an input on which a
  property fails and returns the shrunk example: the standard negative control
  ("drop the hypothesis or inject a bug, and Hypothesis finds a counterexample").
* :func:`ascent_problem` is the injected bug shared by the dynamics controls:
  PGD run on it climbs the loss.
* :func:`evidence` and :func:`margin` record an example's evidence level and
  margin (observed / allowed) for the claims report (:mod:`theory.report.claims`).
* :data:`SOURCE_TREE`, :data:`needs_source_tree` and :func:`skip_without_source_tree`
  for the checks that read the repository around them; :func:`reliability_script` imports
  one of its ``reliability/`` scripts.
* :func:`holds` turns a ``check_*`` helper (None when it holds) into the predicate of a control.
* :func:`with_examples` pins a list of inputs as ``@example`` s.
* :func:`assert_rejects` asserts that a call raises a clear ValueError/TypeError
  naming the bad argument.
* :func:`allowed_errors` is the rounding budget of L and ∂L shared by the checks
  that compare two computations of them.
* :data:`SMALLEST_SUBNORMAL`, :data:`SMALLEST_NORMAL` and :data:`EXTREME_SCALES` are the
  extreme magnitudes at which the geometry checks pin every comparison.
* :func:`_flat` and :func:`_agrees` compare the analytic derivatives behind the τ_ε covers
  with central differences (Theorem 5.1's annulus and shell checks).
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import Phase, event, example, find, note, settings, target

from theory.report.claims import EVIDENCE_LEVELS, EVIDENCE_PREFIX, MARGIN_CAP, MARGIN_PREFIX
from theory.network import activations
from theory import _compiled
from theory.problem import ReferenceStep, Problem
from theory.testing.diffcheck import agreement, curve_derivative
from theory.testing.tolerances import IDENTITY_RTOL, SUBNORMAL_ATOL

#: The source tree these checks belong to (the folder above ``checks/``, holding
#: pyproject.toml), or None for the checks installed with the package.
SOURCE_TREE = (lambda root: root if (root / "pyproject.toml").is_file() else None)(Path(__file__).resolve().parent.parent)

#: Marks a check that reads the source tree (README.md, pyproject.toml, reliability/, the lock):
#: skipped, with this reason, among the checks installed with the package.
needs_source_tree = pytest.mark.skipif(SOURCE_TREE is None, reason="needs the source tree (README, pyproject.toml, "
                                       "reliability/); the checks installed with the package do not carry it")


def reliability_script(name):
    """Import ``reliability/<name>.py`` of the source tree by path (the folder is not a package)."""
    import importlib.util
    path = SOURCE_TREE / "reliability" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"reliability_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def skip_without_source_tree():
    """Skip the calling module (at import) when the checks run without their source tree."""
    if SOURCE_TREE is None:
        pytest.skip(needs_source_tree.kwargs["reason"], allow_module_level=True)


#: ``find()`` stops at the first counterexample and shrinks it; this is only the
#: budget before giving up (a control that needs more is a weak control).
CONTROL_MAX_EXAMPLES = 200


def counterexample(strategy, holds, *, max_examples=CONTROL_MAX_EXAMPLES, shrink=True):
    """Return the shrunk example on which ``holds`` is False; fail the test if none is found.

    Parameters
    ----------
    strategy : SearchStrategy
    holds : callable
        The property, returning True when it holds on an example. An
        AssertionError raised inside counts as "does not hold".
    shrink : bool
        Shrink the counterexample (default). Controls whose every evaluation
        runs a search pass False: they only need to show that one exists; the
        recorded, shrunk counterexamples live in the literal tests' ``@example``.
    """

    def fails(example):
        try:
            return not holds(example)
        except AssertionError:
            return True

    # database=None: a control's example must be found afresh, not replayed.
    phases = tuple(p for p in settings.default.phases if shrink or p != Phase.shrink)
    return find(strategy, fails, settings=settings(settings.default, max_examples=max_examples,
                                                   database=None, phases=phases))


def holds(check, **bug):
    """The predicate "``check(*case, **bug)`` returns None" (no failure) of a drawn ``case`` tuple.

    The controls pass it to :func:`counterexample`: ``counterexample(cases(), holds(check_x, tangent=wrong))``
    searches for a case on which the check, with the injected bug, fails.
    """
    return lambda case: check(*case, **bug) is None


def with_examples(cases, *, unpack=False):
    """Decorator: ``@example(case)`` for each case of ``cases``, in order (pinned inputs of a one-argument test).

    With ``unpack``, ``@example(*case)``: the pinned inputs of a test of several arguments.
    """
    cases = list(cases)

    def decorate(test):
        for case in reversed(cases):
            test = example(*case)(test) if unpack else example(case)(test)
        return test

    return decorate


def names_argument(message, name):
    """Whether ``message`` contains ``name`` as a whole word (not inside a longer identifier)."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", message) is not None


def assert_rejects(call, *args, name, exc=(ValueError, TypeError), **kwargs):
    """Assert that ``call(*args, **kwargs)`` raises ``exc`` whose message names ``name`` as a word.

    "Names the argument" means ``name`` stands alone in the message: not inside
    another identifier (``delta0`` or ``XXdeltaXX`` do not name ``delta``), and
    with its own case. Returns the exception for further inspection.
    """
    try:
        result = call(*args, **kwargs)
    except exc as err:
        assert names_argument(str(err), name), f"error {err!r} does not name the argument {name!r}"
        return err
    raise AssertionError(f"{getattr(call, '__name__', call)} accepted bad {name}: returned {result!r}")


class _AscentProblem(Problem):
    """A problem whose gradient has the wrong sign; values and Hessians are unchanged."""

    def loss_grad(self, delta):
        return -super().loss_grad(delta)

    def value_and_grad(self, delta):
        value, grad = super().value_and_grad(delta)
        return value, -grad

    def step_evaluator(self, rows, *, threads=1):
        return ReferenceStep(self)  # PGD runs the override above


def ascent_problem(problem):
    """Injected bug: the same draw, with ∂L's sign flipped, so that PGD on it climbs L.

    Every PGD routine of :mod:`theory.pgd` runs on it unchanged; the recorded
    losses are the true L, so the checks of the original claim apply as they are.
    """
    return _AscentProblem(problem.net, problem.x, problem.y, problem.eps, problem.loss)


def evidence(level):
    """Record this example's evidence level (``sampled``, ``searched`` or ``certified``) for the report.

    An ``event()`` with :data:`theory.report.claims.EVIDENCE_PREFIX`; the claims report
    (``python -m theory``) counts the levels per claim (:mod:`theory.report.claims`).
    """
    if level not in EVIDENCE_LEVELS:
        raise ValueError(f"level must be one of {EVIDENCE_LEVELS}, got {level!r}")
    event(EVIDENCE_PREFIX + level)


def margin(observed, allowed, what, *, lower=False):
    """Record the fraction of a bound this example used, and let Hypothesis push it towards failure.

    ``target(observed / allowed)`` for an upper bound observed <= allowed, or
    ``target(allowed / observed)`` for a lower bound observed >= allowed
    (``lower=True``); at most 1 where the bound holds. The label starts with
    :data:`theory.report.claims.MARGIN_PREFIX` and ends with the side of the bound
    (``[upper bound]`` or ``[lower bound]``); the claims report reads both, and the
    observed and allowed values from the note. Returns the ratio.

    Parameters
    ----------
    observed, allowed : float
        The observed quantity and its bound (allowed > 0 for an upper bound;
        observed >= 0 for a lower bound: a zero or negative observation gives
        :data:`theory.report.claims.MARGIN_CAP`).
    what : str
        The ratio in words, e.g. ``"B_l / min |df|"``.
    """
    observed, allowed = float(observed), float(allowed)
    if lower:
        ratio = allowed / observed if observed > 0 else MARGIN_CAP
    else:
        ratio = observed / allowed if allowed > 0 else MARGIN_CAP
    ratio = min(max(ratio, -MARGIN_CAP), MARGIN_CAP) if ratio == ratio else MARGIN_CAP
    note(f"margin {what}: observed {observed:.6g}, allowed {allowed:.6g}, ratio {ratio:.4g}")
    target(ratio, label=f"{MARGIN_PREFIX}{what} [{'lower' if lower else 'upper'} bound]")
    return ratio


def allowed_errors(problem, deltas):
    """Allowed errors of L and ∂L at ``deltas`` (n, d): arrays of shapes (n,) and (n, d).

    For two computations that differ by rounding only (the fused kernel and
    ``Problem.value_and_grad``; double precision and an extended-precision
    reference): :data:`theory.testing.tolerances.IDENTITY_RTOL` · (1 + m + d) relative to
    the natural scale of the terms (Σ|a_r|(σ_r + 1) for f; |L_f| (|σ' a|ᵀ|W|)_i +
    sup|L_ff| · that f-scale · |∂f_i| for the gradient), plus
    :data:`theory.testing.tolerances.SUBNORMAL_ATOL` where the gradient underflows, times
    the factors that multiply a subnormal rounding after it happens
    (derivation: checks/numerics/test_numerics_kernels.py).
    """
    z = (problem.x + deltas) @ problem.net.W.T
    sig, dsig, _ = activations(z)
    abs_a = np.abs(problem.net.a)
    f = sig @ problem.net.a
    f_scale = (sig + 1.0) @ abs_a
    lf = np.abs(problem.loss.dvalue(problem.y, f))
    lff = np.array([problem.loss.curvature_bounds(problem.y, fi - s, fi + s)[0] for fi, s in zip(f, f_scale)])
    df = np.abs((dsig * problem.net.a) @ problem.net.W)
    g_scale = lf[:, None] * ((dsig * abs_a) @ np.abs(problem.net.W)) + (lff * f_scale)[:, None] * df
    rtol = IDENTITY_RTOL * (1 + problem.net.m + problem.d)
    return (rtol * (1.0 + np.abs(problem.loss.value(problem.y, f)) + lf * f_scale),
            rtol * g_scale + SUBNORMAL_ATOL * (1.0 + lf)[:, None] * (1.0 + abs_a @ (1.0 + np.abs(problem.net.W))))


def threaded_problem():
    """A problem and the rows that make one thread's worth of work for the fused kernel.

    :class:`theory._kernel.LossGradKernel` uses a thread per
    :data:`theory._kernel.MIN_WORK_PER_THREAD` multiply-adds (rows · m · d); with
    d = 16 and m = 2^12 (the product 2^16) that is ``rows`` rows, derived from the
    constant rather than written in, and even, so that 2.5 threads' work is a whole
    number of rows.
    """
    from theory._kernel import MIN_WORK_PER_THREAD
    from theory.problem import make_problem

    problem = make_problem(16, 2 ** 12, seed=0, ratio=0.1)
    rows, rest = divmod(MIN_WORK_PER_THREAD, problem.net.m * problem.d)
    assert rest == 0 and rows % 2 == 0, "MIN_WORK_PER_THREAD changed: pick another d and m"
    return problem, rows


#: The smallest subnormal, the smallest normal number, and two magnitudes far beyond the drawn ranges.
SMALLEST_SUBNORMAL, SMALLEST_NORMAL = 5e-324, 2.2250738585072014e-308
EXTREME_SCALES = (SMALLEST_SUBNORMAL, SMALLEST_NORMAL, 1e-300, 1e300)


def _flat(fn, *arrays):
    """Apply ``fn`` (taking 1-d arrays) to broadcast arrays of any shape; reshape its (k, N) outputs."""
    shape = np.broadcast_shapes(*(np.shape(a) for a in arrays))
    flat = [np.broadcast_to(a, shape).ravel() for a in arrays]
    values, errors = fn(*flat)
    return values.reshape((-1,) + shape), errors.reshape((-1,) + shape)


def _agrees(analytic, analytic_error, scale, along, value_error):
    difference = curve_derivative(along, analytic.size, scale=scale, value_error=value_error)
    return agreement(analytic, scale, difference, analytic_error)


#: The PGD kernels this installation can run: the numpy one, and the compiled one with the extra ``fast``.
KERNELS = ("numpy", "compiled") if _compiled.AVAILABLE else ("numpy",)

#: Skips a test of the compiled kernel where numba is not installed, saying so.
needs_compiled = pytest.mark.skipif(not _compiled.AVAILABLE, reason="numba not installed (the optional extra 'fast')")


@contextmanager
def using_kernel(name):
    """Run the enclosed PGD calls on the kernel ``name`` (``numpy`` or ``compiled``; see :mod:`theory._compiled`)."""
    old = os.environ.get(_compiled.KERNEL_ENV)
    os.environ[_compiled.KERNEL_ENV] = name
    try:
        yield
    finally:
        if old is None:
            del os.environ[_compiled.KERNEL_ENV]
        else:
            os.environ[_compiled.KERNEL_ENV] = old

