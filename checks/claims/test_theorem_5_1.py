r"""Theorem 5.1 (informal: one local minimum on the sphere for small ε).

Statement (section 5.1.1). Under the settings of Theorem 3.1 there is a
threshold τ_ε > 0 such that for ε < τ_ε there is only one local minimum on the
sphere, with high probability.

Executable form
---------------
* τ_ε = TAU_EPS_FACTOR · ε_max(m) with Theorem 3.1's ε_max (its "settings"),
  calibrated in :mod:`theory.testing.regimes` (first draws with two minima appear at
  ε ≈ 1 to 3 at input scale 1, 40 to 120 times the regime's radii).
* Local minima are counted by :func:`theory.landscape.local_minima` (d = 2: the
  certified circle scan; d = 3: the certified sphere count; checks of both in
  ``test_theorem_5_1_certificate.py`` and ``test_theorem_5_1_sphere_count.py``); for d > 3: multi-start
  descent on the sphere from DEFAULT_STARTS uniform starts plus ±∂L(0), Newton
  refinement, de-duplication, and classification by the tangent eigenvalues of
  Ξ. A missed minimum would make the check pass wrongly; the controls show that
  the same search does find several minima when they exist.

Finding (literal statement fails at d = 1)
-----------------------------------------
For d = 1 the "sphere" is the two points ±ε, and each is an isolated, hence
local, minimum: the count is 2 for every draw. Pinned: d = 1, m = 3, seed 0.
Repaired statement: d >= 2 (the regime has d >= REGIME_MIN_DIM).

Certificates
------------
Each example also asks :func:`theory.certificates.certified_tau_eps` whether the
draw is *certified* to have one minimum at its radius (for d = 2 a fold-free
annulus grown from a contraction radius, otherwise the contraction; derived in
the docstrings); the example records evidence "certified" or "searched" (the claims
report, ``python -m theory``, shows the fractions). The checks tie the
certificate to the landscape, each able to fail:

* below the certified τ_ε the certificate holds (the draws are built there) and
  the landscape finder finds exactly one local minimum and one local maximum
  (d = 2: the certified circle scan; d = 3: the certified sphere count of
  :mod:`theory.landscape.sphere_scan` where it certifies; otherwise the search); control: a wrong
  certificate claiming 10 τ_ε is caught by the landscape;
* ``test_theorem_5_1_certificate.py``: at radii spread over (0, τ_ε), in the
  annulus and within 10⁻³ of τ_ε, the certified circle scan proves exactly one
  minimum and one maximum; τ_ε is never above an independent scan's threshold;
  the threshold finder returns the first window with two minima (each with a
  control).

(That the empirical threshold is never below τ_ε is not a check here: the
threshold search starts at τ_ε.)

Negative controls: ε = 10³ ε_max (~20 at input scale 1: several minima);
ratio ε/‖x‖ = 1/2 at input scale 10³ (section 5.1: a large input scale gives a
rugged landscape; ``test_section_5_1.py`` compares scales at a fixed ratio). At the regime's own ratio (~0.01) input scale 10³ does not
create minima: only units whose kink w_rᵀ(x + δ) = 0 is crossed in the ball
bend the landscape, a fraction about P(|N(0, 1)| < ratio·√d) of them, which
does not grow with the scale.
"""

import numpy as np
import pytest
from hypothesis import assume, event, example, given, note, target
from hypothesis import strategies as st

from ..support import counterexample, evidence, holds
from theory.certificates.tau import certified_tau_eps
from theory.constrained import tangent_gradient
from theory.geometry import vector_norm
from theory.landscape.threshold import THRESHOLD_EPS_CAP
from theory.landscape.search import critical_points, local_minima
from theory.problem import Problem, make_problem
from theory.testing.regimes import (
    REGIME_MAX_DIM, REGIME_MIN_DIM, TAU_EPS_FACTOR, THRESHOLD_TREND_DRAWS, THRESHOLD_TREND_WIDTHS, min_width,
)
from theory.experiments.threshold_sweep import PAPER_EXPONENT, fit_log_exponent, threshold_sweep
from theory.testing.strategies import (
    as_strategy, dims, input_scales, log_uniform, regime_problems, seeds, widths,
)

#: The regime the draws come from: Theorem 3.1's (d >= REGIME_MIN_DIM, m >= min_width(d));
#: Theorem 5.1's own hypothesis, ε below τ_ε, is set per check (TAU_EPS_FACTOR, the certificate).
REGIME = "theorem_3_1"
#: Box budget of each certificate cover in these checks (the default is larger): a
#: cover that runs out certifies a smaller radius, never a wrong one, and the d = 3
#: shell with the default budget made the certified-landscape check six times slower.
CERTIFICATE_BOXES = 2**14


def zero_sphere_minima(problem):
    r"""The local minima of L on the 0-sphere {−ε, +ε} (d = 1), evaluated point by point.

    A point p of the sphere is a local minimum when it is critical (the tangent
    gradient Γ(p) of :func:`theory.constrained.tangent_gradient` vanishes) and L(p)
    is at most L at every point of the sphere within distance ε of p. For d = 1
    the tangent space is {0}, so Γ = 0, and the only sphere point within ε of p
    is p itself (the other one is 2ε away): both points are local minima, whatever
    the network. The check evaluates this with the theory code rather than
    assuming it.
    """
    eps = problem.eps
    sphere = np.array([[-eps], [eps]])
    losses = problem.loss_value(sphere)
    found = 0
    for p, value in zip(sphere, losses):
        critical = float(vector_norm(tangent_gradient(problem, p))) == 0.0
        near = vector_norm(sphere - p) <= eps
        note(f"d = 1: delta = {p[0]!r}, L = {value!r}, critical = {critical}, "
             f"sphere points within eps: {int(near.sum())}")
        found += int(critical and np.all(losses[near] >= value))
    return found


def sphere_minima_count(problem, seed):
    """Strict local minima of L on the sphere (d = 1: :func:`zero_sphere_minima`)."""
    if problem.d == 1:
        return zero_sphere_minima(problem)
    return len(local_minima(problem, seed=seed))


def record_evidence(problem):
    """Record whether this draw's uniqueness is certified or only searched (multi-start); returns the flag.

    Certified: :func:`theory.certificates.certified_tau_eps` reaches ε (capped at ε, so
    it stops there; the fold-free annulus for d = 2, the fold-free shell for d = 3, the
    contraction otherwise), with a budget of CERTIFICATE_BOXES boxes per cover.
    """
    certified = problem.d >= 2 and certified_tau_eps(problem, eps_cap=problem.eps,
                                                     max_boxes=CERTIFICATE_BOXES) >= problem.eps
    evidence("certified" if certified else "searched")
    return certified


def check_unique_minimum(problem, seed):
    record_evidence(problem)
    count = sphere_minima_count(problem, seed)
    note(f"{count} local minima on the sphere")
    event(f"{count} local minima")
    target(float(count), label="local minima")  # guidance only: a count is not a margin
    assert count == 1, f"{count} local minima on the sphere"


def below_tau(**kw):
    return regime_problems(REGIME, eps_fraction=st.floats(0.05, 0.99).map(lambda f: f * TAU_EPS_FACTOR), **kw)


@given(problem=below_tau(), seed=seeds())
def test_one_local_minimum_on_the_sphere_below_tau_eps(problem, seed):
    check_unique_minimum(problem, seed)


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="literal Theorem 5.1 at d = 1: both points of the 0-sphere are local minima")
@example(problem=make_problem(1, 3, seed=0, eps=0.01), seed=0)
@given(problem=below_tau(d=dims(1, REGIME_MAX_DIM)), seed=seeds())
def test_literal_unique_minimum_fails_for_d_equal_one(problem, seed):
    check_unique_minimum(problem, seed)


@pytest.mark.negative_control
def test_control_several_minima_for_large_eps():
    cases = st.tuples(regime_problems(REGIME, eps_fraction=1e3), seeds())
    counterexample(cases, holds(check_unique_minimum), shrink=False)


@pytest.mark.negative_control
def test_control_several_minima_at_large_input_scale_and_fixed_ratio():
    # ratio eps/|x| = 1/2 at |x| = 1e3. (At the regime's own ratio, ~0.01, a large
    # input scale does not create minima: only the units whose kink lies within
    # the ball bend the landscape, a fraction ~ P(|N(0,1)| < ratio sqrt(d)) of them.)
    cases = st.tuples(seeds(), seeds()).map(lambda s: (
        make_problem(REGIME_MIN_DIM, 2 * min_width(REGIME_MIN_DIM), seed=s[0], input_scale=1e3,
                     ratio=0.5), s[1]))
    counterexample(cases, holds(check_unique_minimum), shrink=False)


# --- certificates against the landscape -----------------------------------------------


@st.composite
def certified_cases(draw, d=dims(2, 5), factor=log_uniform(0.05, 0.999)):
    """(problem at ``factor`` times its certified tau_eps, search seed); input scale 0.01 to 100.

    The label is drawn at radius THRESHOLD_EPS_CAP · input scale, so it keeps
    assumption 3 on every smaller ball.
    """
    base = draw(st.builds(lambda d, m, seed, scale: make_problem(d, m, seed=seed, input_scale=scale,
                                                                 ratio=THRESHOLD_EPS_CAP),
                          as_strategy(d), widths(1, 64), seeds(), input_scales(1e-2, 1e2)))
    tau = certified_tau_eps(base, eps_cap=base.eps, max_boxes=CERTIFICATE_BOXES)
    assume(tau > 0.0)
    eps = draw(as_strategy(factor)) * tau
    note(f"tau_eps = {tau!r}, eps = {eps!r}")
    return Problem(base.net, base.x, base.y, eps, base.loss), draw(seeds())


def check_certified_landscape(problem, seed, certify=record_evidence):
    """Below the certified τ_ε: the certificate holds, and exactly one local minimum and one maximum are found.

    ``certify``: the certificate consulted (the controls inject a wrong one).
    """
    certified = certify(problem)
    assert certified, f"eps = {problem.eps!r} is below the certified tau_eps, but the certificate fails there"
    points = critical_points(problem, seed=seed)
    kinds = sorted(p.kind for p in points)
    note(f"critical points: {kinds}")
    assert kinds == ["maximum", "minimum"], f"certified unique, but the landscape has {kinds}"


#: A draw whose cover once depended on its cap (certified with cap 20, not with cap 6.32).
_CAP_BASE = make_problem(2, 33, seed=77910, input_scale=1.0, ratio=THRESHOLD_EPS_CAP)


@given(case=certified_cases())
@example(case=(Problem(_CAP_BASE.net, _CAP_BASE.x, _CAP_BASE.y, 6.324555320336759, _CAP_BASE.loss), 0))
def test_certified_draw_has_exactly_one_minimum_and_one_maximum(case):
    check_certified_landscape(*case)


@pytest.mark.negative_control
def test_control_ten_times_tau_eps_is_caught_by_the_landscape():
    # The injected bug: a certificate that certifies every radius, consulted at 10 tau_eps.
    counterexample(certified_cases(d=2, factor=10.0),
                   holds(check_certified_landscape, certify=lambda p: True), shrink=False)


# --- the threshold's trend in m against the paper's Theta((log m)^-2) -------------------


def test_finding_the_empirical_threshold_does_not_shrink_like_the_papers_rate():
    # A small sweep (theory.testing.regimes.THRESHOLD_TREND_WIDTHS, _DRAWS): the fitted exponent p
    # of median threshold ~ (log m)^-p stays below the paper's 2 (measured: ~0.1,
    # python -m theory.experiments.threshold_sweep). The paper's rate is sufficient, not sharp.
    result = threshold_sweep(widths=THRESHOLD_TREND_WIDTHS, draws=THRESHOLD_TREND_DRAWS)
    assert result["exponent"] < PAPER_EXPONENT, result


@pytest.mark.negative_control
def test_control_exponent_fit_detects_the_papers_rate():
    # The fit is not blind: thresholds that do shrink like (log m)^-2.5 are reported as p >= 2.
    widths = np.array([8, 64, 512, 4096])
    cases = st.floats(0.1, 10.0).map(lambda c: c * np.log(widths) ** -2.5)
    counterexample(cases, lambda v: fit_log_exponent(widths, v) < PAPER_EXPONENT)
