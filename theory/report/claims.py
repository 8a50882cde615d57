r"""The paper's claims as data: statement, executable form, regime, constants and repairs.

This registry is what the claims report (``python -m theory``) prints for each
claim next to the outcome of its checks; each entry names the check module in
``checks/`` that holds the claim's properties (one module per claim, named after
the paper's numbering). The constants are read live from :mod:`theory.testing.regimes`
and :mod:`theory.experiments.scale`, so the report always shows the values the checks used.

Vocabulary shared by the checks and the report
----------------------------------------------
Evidence levels (:data:`EVIDENCE_LEVELS`, weakest first), recorded per example
with ``hypothesis.event(EVIDENCE_PREFIX + level)`` (``checks.support.evidence``):

``sampled``
    the property was evaluated at random points of the draw (ball or sphere
    points, PGD starts, directions, paired draws);
``searched``
    in addition an optimiser searched the draw for the worst point (SLSQP for the
    smallest gradient, multi-start Newton for the critical points), so a failure
    near the optimum of the margin is unlikely to be missed;
``certified``
    a bound proved the property on the whole ball or sphere of the draw
    (:mod:`theory.bounds`, the certified circle scan of :mod:`theory.landscape`),
    with floating-point rounding accounted for.

Margins: ``hypothesis.target(observed / allowed, label=MARGIN_PREFIX + what)``
(``checks.support.margin``) records the fraction of the allowed bound that an
example used: at most 1 where the property holds (for a lower bound q >= b the
ratio is b / q). Hypothesis maximises targets, so it searches towards failure,
and the report shows the largest ratio with the draw that produced it.

Test kinds, from the test's name (``checks/README.md``): ``test_control_*`` (or
the ``negative_control`` marker) is a negative control, ``test_literal_*`` a
literal statement that fails (strict xfail with its pinned counterexample),
``test_finding_*`` a finding that a hypothesis is not needed; every other test of
a claim module is a property of the claim.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

__all__ = [
    "EVIDENCE_LEVELS",
    "EVIDENCE_PREFIX",
    "MARGIN_PREFIX",
    "MARGIN_CAP",
    "TEST_KINDS",
    "Claim",
    "CLAIMS",
    "claim_for_module",
    "test_kind",
]

#: Evidence levels, weakest first (module docstring).
EVIDENCE_LEVELS = ("sampled", "searched", "certified")

#: Prefix of the ``event()`` that records an example's evidence level.
EVIDENCE_PREFIX = "evidence: "

#: Prefix of the ``target()`` label that records an example's margin (observed / allowed).
MARGIN_PREFIX = "margin: "

#: Margins are capped here before ``target()`` (which needs a finite value): a
#: ratio this large means "the bound fails by any measure", e.g. a floor over a zero.
MARGIN_CAP = 1e300

#: Kinds of test in a claim module (module docstring).
TEST_KINDS = ("property", "finding", "literal", "control")


def test_kind(name: str, markers=()) -> str:
    """The kind of a check from its function name (and pytest markers): one of :data:`TEST_KINDS`."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a test's name (str), got {type(name).__name__}")
    base = name.split("[", 1)[0]
    if base.startswith("test_control_") or "negative_control" in markers:
        return "control"
    if base.startswith("test_literal_"):
        return "literal"
    if base.startswith("test_finding_"):
        return "finding"
    return "property"


test_kind.__test__ = False  # a helper, not a pytest test


@dataclass(frozen=True)
class Claim:
    """One claim of the paper and where its checks live.

    Attributes
    ----------
    key : str
        Short identifier, e.g. ``"lemma_4_1"``.
    label : str
        The paper's numbering, e.g. ``"Lemma 4.1"``.
    title : str
        The paper's title of the claim.
    module : str
        The check module in ``checks/`` (``test_<key>``).
    statement : str
        The claim as the paper states it (section and equation).
    executable : str
        The property the checks test.
    regime : str
        The hypotheses made explicit (see :mod:`theory.testing.regimes`).
    constants_rule : callable
        Returns the claim's explicit constants, read live from the code that defines them.
    repairs : dict
        For each literal test (``test_literal_*``) the smallest added hypothesis
        (or corrected sign) under which the repaired statement holds.
    """

    key: str
    label: str
    title: str
    statement: str
    executable: str
    regime: str
    repairs: dict = field(default_factory=dict)
    constants_rule: Callable[[], dict] = field(default=dict, repr=False)

    @property
    def module(self) -> str:
        return f"test_{self.key}"

    def constants(self) -> dict:
        """The claim's explicit constants, read live from :mod:`theory.testing.regimes` / :mod:`theory.experiments.scale`."""
        return self.constants_rule()


def _width():
    from theory.testing import regimes as R

    return {"width rule": f"m in [ceil({R.WIDTH_CONSTANT:g} d^(5/2)), {R.WIDTH_SPAN} ceil({R.WIDTH_CONSTANT:g} d^(5/2))]",
            "d": f"{R.REGIME_MIN_DIM}..{R.REGIME_MAX_DIM} (REGIME_MIN_DIM: P(floor fails) <= "
                 f"{R.MAX_FAILURE_PROBABILITY:g} per draw)",
            "input scale |x|": R.INPUT_SCALE}


def _eps_rule(claim):
    from theory.testing import regimes as R

    rule = R.regime(claim)
    text = {"eps_max(m)": f"{rule.eps_constant:.4g} (log m)^-{rule.eps_exponent:g}"}
    if rule.eta_exponent is not None:
        text["eta_max(m, eps)"] = f"min({rule.eta_constant:.4g} (log m)^-{rule.eta_exponent:g}, eps^2)"
    return text


# Each claim's constants, read live from theory.testing.regimes (and the §5.1 experiment's
# constants): imported inside, as theory.testing.regimes imports scipy and the report
# plugin reads the registry in the pytest controller before any check runs.
def _constants_lemma_4_1():
    from theory.testing import regimes as R

    return {**_width(), **_eps_rule("lemma_4_1"), "B_l": R.GRADIENT_FLOOR,
            "c": "(L_f B_l)^2 / 2 (descent lemma)"}


def _constants_lemma_4_2():
    return {"eps": "1e-3 .. 1e3", "eta / eps": "1e-6 .. 1e2", "d": "1 .. 8", "bound": "4 eta^2 / eps"}


def _constants_lemma_4_3():
    from theory.testing import regimes as R

    return {**_width(), **_eps_rule("lemma_4_3"), "B_l": R.GRADIENT_FLOOR, "L_f": "2 |y - f| lower bound (quadratic)"}


def _constants_lemma_4_4():
    from theory.testing import regimes as R

    return {**_width(), **_eps_rule("lemma_4_4"), "phi": R.NEAR_CRITICAL_COSINE,
            "γ (Lemma 4.4)": f"{R.DEFINITENESS_MARGIN:g} * L_f / 2"}


def _constants_lemma_4_5():
    from theory.testing import regimes as R

    return {**_width(), **_eps_rule("theorem_3_1"), "LB_l": "L_f * B_l", "B_l": R.GRADIENT_FLOOR,
            "condition (6)": "searched per draw"}


def _constants_theorem_3_1():
    from theory.testing import regimes as R

    return {**_width(), **_eps_rule("theorem_3_1"), "K (iterations)": R.ITERATION_CONSTANT,
            "K' (distance)": f"{R.DISTANCE_SAFETY:g} |L_f(delta*)| / mu",
            "slope tolerance": R.EXPONENT_TOLERANCE}


def _constants_corollary_3_1():
    from theory.testing import regimes as R

    return {**_width(), **_eps_rule("theorem_3_1"), "beta": "mu (drawn in [mu/2, 2 mu])",
            "z": "floor(2 / (beta eta)) + 1", "bound": f"D_s (z+s) <= {R.REMARK3_CONSTANT:g} D_0 z",
            "horizon": f"s <= {R.REMARK3_HORIZON} z"}


def _constants_theorem_5_1():
    from theory.testing import regimes as R

    return {**_width(), **_eps_rule("theorem_3_1"), "tau_eps": f"{R.TAU_EPS_FACTOR:g} eps_max(m) of Theorem 3.1",
            "certified tau_eps": "per draw, theory.certificates.tau.certified_tau_eps"}


def _constants_section_5_1():
    from theory.testing import section_5_1 as S

    return {"d": S.FIGURE_DIM, "m": S.FIGURE_WIDTH, "input scales": f"{S.SMALL_SCALE:g} vs {S.LARGE_SCALE:g}",
            "ratio (minima)": S.LANDSCAPE_RATIO, "ratio (escape)": S.ESCAPE_RATIO,
            "paired draws": S.PAIRED_DRAWS, "alpha": S.STATISTICAL_ALPHA}


def _constants_section_5_2():
    return {**_width(), "losses": "quadratic, cross-entropy", "bounds": "certified 0 < L <= |dL/df| <= U, |d2L/df2| <= B",
            "input scale |x|": "<= 10 (lower bound L > 0)"}


CLAIMS = (
    Claim(
        "theorem_3_1", "Theorem 3.1", "Main theorem",
        statement=("Suppose m = Ω(d^{5/2}); there exist ε_max(m) = Θ((log m)^{-2}) and η_max(m, ε) = "
                   "min{Θ((log m)^{-2}), ε²} such that if ε < ε_max(m), for any η < η_max(m, ε), with high "
                   "probability, in O(η^{-2}) iterations projected gradient descent outputs a point δ_t on the "
                   "sphere which is O(η^{1/2}) close to some local minimum δ* (section 3)."),
        executable=("PGD from uniform starts in the open ball stops at the output time t̃ (δ on the sphere, "
                    "‖P_T ∂f‖ < η^{1/2}); t̃ ≤ K η^{-2} and ‖δ_t̃ − δ*‖ ≤ K' η^{1/2} with δ* the local minimum "
                    "found by Newton on the sphere; over a range of η the log-log slope of the distance is ½ "
                    "(± tolerance) and that of the time ≥ −2."),
        regime="m ≥ ⌈d^{5/2}⌉, ε < ε_max(m) = c (log m)^{-2}, η < η_max = min(c' (log m)^{-2}, ε²), d ≥ 7.",
        constants_rule=_constants_theorem_3_1,
    ),
    Claim(
        "corollary_3_1", "Corollary 3.1", "Shrinking learning rate (+ Remark 3)",
        statement=("Under Theorem 3.1's assumptions, after the output time t̃, with D_s = ‖δ_{t̃+s} − δ*‖² and "
                   "steps η_s → 0 satisfying Eq. (3), D_s ≤ O(η_s); Remark 3: with η_s = 2/(βs + βz) for large "
                   "enough integer z, D_s ≤ O(1/(z + s))."),
        executable=("After t̃, Remark 3's schedule η_s = 2/(β(s + z)) gives D_s (z + s) ≤ 2 D_0 z for every s up "
                    "to 20 z, and D_s → 0."),
        regime="Theorem 3.1's regime; β = μ (the least tangent eigenvalue of Ξ(δ*)), z = ⌊2/(βη)⌋ + 1.",
        constants_rule=_constants_corollary_3_1,
    ),
    Claim(
        "lemma_4_1", "Lemma 4.1", "Dynamics in the ball",
        statement=("For m = Ω(d^{5/2}), there exist ε_max(m) = Θ((log m)^{-1/2}) and η_max(m, ε) = "
                   "min{Θ((log m)^{-1}), ε²}; if ε < ε_max(m), η < η_max(m, ε), with high probability, whenever "
                   "δ_{t+1} ∈ B°(0, ε), L(δ_{t+1}) − L(δ_t) ≤ −Ω(η) (section 4; the proof rests on ‖∂f‖ ≥ B_l "
                   "= Θ(1) in the ball)."),
        executable=("(a) min over the ball of ‖∂f‖ ≥ B_l, certified per draw (mean value theorem with the local "
                    "Hessian bound) or searched (sampling + SLSQP); (b) every PGD step that stays in the open "
                    "ball lowers L by at least c η, c = (𝓛_f B_l)²/2."),
        regime="m ≥ ⌈d^{5/2}⌉, ε < c (log m)^{-1/2}, η < min(c' (log m)^{-1}, ε²), B_l = 0.02, d ≥ 7.",
        repairs={"test_literal_gradient_floor_fails_in_low_dimension":
                 "d ≥ 7 (\"with high probability\" lives in d, not in m: the floor fails with a probability that falls with d, at any width)"},
        constants_rule=_constants_lemma_4_1,
    ),
    Claim(
        "lemma_4_2", "Lemma 4.2", "Approximation of PGD",
        statement=("For any unit v̂, with δ̃_1 = δ_0 + η v̂ and δ̃_2 = δ_0 + η P_T0 v̂, "
                   "‖P_B(0,ε)(δ̃_1) − δ̃_2‖ ≤ 4η²/ε (section 4); as a result, Eq. (5): for δ_t on the sphere, "
                   "‖δ_{t+1} − (δ_t − ηΓ(δ_t))‖ ≤ 4η²/ε."),
        executable=("‖P_B(δ_0 + η v̂) − (δ_0 + η P_T v̂)‖ ≤ 4η²/ε (plus rounding) for δ_0 on the sphere, for ε "
                    "from 1e-3 to 1e3 and η/ε from 1e-6 to 1e2, where the projection is active (‖δ_0 + η v̂‖ ≥ ε), and for every outward "
                    "direction; Eq. (5) for PGD's step on drawn problems with the bound 4η²‖∂L‖²/ε where the "
                    "projection is active."),
        regime="None beyond the geometry: any d, ε, η.",
        repairs={"test_literal_projection_bound_fails_for_inward_steps":
                 "the projection is active, ‖δ_0 + η v̂‖ ≥ ε",
                 "test_literal_equation_5_fails_for_steps_that_stay_in_the_ball":
                 "the projection is active, ‖δ_t − η∂L(δ_t)‖ ≥ ε",
                 "test_literal_equation_5_fails_for_gradients_longer_than_one_even_when_active":
                 "the bound for the step's length: 4η²‖∂L(δ_t)‖²/ε (or ‖∂L(δ_t)‖ ≤ 1)"},
        constants_rule=_constants_lemma_4_2,
    ),
    Claim(
        "lemma_4_3", "Lemma 4.3", "Away from critical points on the sphere",
        statement=("For m = Ω(d^{5/2}), ε < ε_max(m) = Θ((log m)^{-1}), with high probability, for any δ on the "
                   "sphere and 0 ≤ β ≤ 1 with ∠[∂f(δ), δ] ≤ β: ‖Γ(δ)‖ ≥ √(1−β²) ‖∂f(δ)‖ ≥ 𝓛 B_l √(1−β²)."),
        executable=("‖Γ‖ ≥ √(1−β²) ‖∂L‖ ≥ 𝓛_f B_l √(1−β²) at sampled, searched and near-critical sphere points "
                    "where |∠[∂f, δ]| ≤ β; the smallest ‖∂f‖ on the sphere found by search is ≥ B_l."),
        regime="m ≥ ⌈d^{5/2}⌉, ε < c (log m)^{-1}, B_l = 0.02, d ≥ 7.",
        repairs={"test_literal_one_sided_hypothesis_fails_near_the_antipodal_critical_point":
                 "the hypothesis is two-sided, |∠[∂f, δ]| ≤ β (near the antipodal critical point the one-sided cosine is ≈ −1 ≤ β while Γ ≈ 0)",
                 "test_literal_gradient_floor_on_the_sphere_fails_in_low_dimension":
                 "d ≥ 7 (the gradient floor fails with a probability that falls with d, at any width)"},
        constants_rule=_constants_lemma_4_3,
    ),
    Claim(
        "lemma_4_4", "Lemma 4.4", "Near critical points on the sphere (no saddles)",
        statement=("For m = Ω(d^{5/2}), ε < ε_max(m) = Θ((log m)^{-1}), with high probability there are universal "
                   "φ, γ > 0 such that for δ on the sphere with ∠[∂f(δ), δ] ≥ φ, for all ‖v‖ = 1, "
                   "sgn((y − f) δᵀ∂f(δ)) · vᵀΞv ≥ γ."),
        executable=("−sgn(λ*) vᵀΞv ≥ γ for every unit v (the least eigenvalue, and on the tangent space) at "
                    "sampled and cap-boundary sphere points where |∠[∂f, δ]| ≥ φ."),
        regime="m ≥ ⌈d^{5/2}⌉, ε < c (log m)^{-1}, φ = 1/2, γ = 𝓛_f/2, d ≥ 7.",
        repairs={"test_literal_sign_fails_in_the_minimisation_form":
                 "the sign of the minimisation form, −sgn(λ*) (the paper's sgn((y − f) δᵀ∂f) is that of the maximisation form)"},
        constants_rule=_constants_lemma_4_4,
    ),
    Claim(
        "lemma_4_5", "Lemma 4.5", "Trajectory and local optimums",
        statement=("For η < min{1, 𝓛B_l}, if condition (6) holds for all δ, δ' on the sphere, the trajectory "
                   "started uniformly in B°(0, ε) never reaches Δη⁻, and once it is in Δη⁺ it stays there."),
        executable=("Per draw, condition (6) is evaluated with the searched smallest gradient cosine; where it "
                    "holds, no PGD iterate (16 uniform starts) is in Δη⁻ and Δη⁺ is absorbing. Δη± are defined "
                    "through the descent cosine ∠[−∂L(δ), δ] (≈ +1 near local minima of L)."),
        regime="Theorem 3.1's regime; 𝓛B_l = 𝓛_f B_l; draws where (6) fails are discarded (recorded).",
        constants_rule=_constants_lemma_4_5,
    ),
    Claim(
        "theorem_5_1", "Theorem 5.1", "One local minimum on the sphere",
        statement=("Under the settings of Theorem 3.1, there exists a threshold τ_ε > 0 such that for ε < τ_ε "
                   "there is only one local minimum on the sphere with high probability (section 5.1)."),
        executable=("Exactly one strict local minimum of L on the sphere (multi-start + Newton; the certified "
                    "circle scan for d = 2) for ε < τ_ε; per draw, a contraction argument certifies uniqueness; "
                    "certified ⇒ one minimum and one maximum found; the empirical threshold is ≥ the certified "
                    "τ_ε; its trend in m is compared with (log m)^{-2}."),
        regime="Theorem 3.1's regime; τ_ε = ε_max(m) of Theorem 3.1; certified τ_ε per draw.",
        repairs={"test_literal_unique_minimum_fails_for_d_equal_one":
                 "d ≥ 2 (at d = 1 both points of the 0-sphere are local minima)",
                 "test_literal_the_count_is_always_complete":
                 "a landscape that is not flat (every critical point the search finds has a tangent-Hessian "
                 "conditioning of at least FLAT_RTOL; a saturated unit can make the count run out of budget)"},
        constants_rule=_constants_theorem_5_1,
    ),
    Claim(
        "section_5_1", "§5.1", "Smaller input scales: more regular landscape, faster escape (Figures 1–3)",
        statement=("For a fixed ratio r = ε/‖x‖, a smaller input scale makes the landscape more regular (fewer "
                   "local minima, Figure 1) and makes PGD escape local maxima faster (Figures 2, 3)."),
        executable=("Paired one-sided sign tests over paired draws (as many as power 0.9 at α = 0.01 needs; see the constants), ‖x‖ = 0.01 against 100 at a fixed ratio: the small "
                    "scale has no more local minima and escapes a local maximum no slower; per draw, the exact "
                    "(certified) count of minima at ‖x‖ = 0.01 is at most that at any larger scale. On real data "
                    "(extra `real`): a softplus CNN on scikit-learn's digits, paired over 50 test images, input scale "
                    "0.1 against 10 at r = 0.01 (Figure 2), and adversarial training against none at 0.1 (Figure 3), "
                    "under an absolute and a scale-free step size."),
        regime="d = 2, m = 32, r = 1 (minima), r = 0.3 (escape), α = 0.01; digits: r = 0.01 (Figure 2), r = 0.1 (Figure 3).",
        repairs={"test_literal_per_draw_count_of_minima_is_monotone_in_the_input_scale":
                 "statistically over draws, or per draw against the smallest scale ‖x‖ = 0.01 "
                 "(the per-draw count of minima is not monotone in the input scale)",
                 "test_literal_smaller_input_scale_escapes_no_slower_under_every_step_convention":
                 "one absolute step size shared by the scales (with the scale-free step the smaller scale "
                 "escapes slower on the digits)",
                 "test_literal_escape_gets_no_easier_with_adversarial_training_under_every_step_convention":
                 "the scale-free step (with the absolute step escape gets easier after adversarial training)"},
        constants_rule=_constants_section_5_1,
    ),
    Claim(
        "section_5_2", "§5.2", "General losses (cross-entropy)",
        statement=("If 𝓛 < |∂L/∂f| < 𝓤 on the ball and |∂²L/∂f²| ≤ 𝓑, all previous conclusions stand without "
                   "changing the scale of ε and η; for cross-entropy 0 ≤ ∂²L/∂f² ≤ 1."),
        executable=("Certified 0 < 𝓛 ≤ |∂L/∂f| ≤ 𝓤 ≤ 1 and |∂²L/∂f²| ≤ 1/4 for cross-entropy; Lemmas 4.1, 4.3, "
                    "4.4, 4.5, Theorem 3.1, Corollary 3.1 and Theorem 5.1 rerun under cross-entropy with the same "
                    "regimes (γ and c follow 𝓛_f)."),
        regime="The claims' regimes with loss = cross-entropy; input scale ≤ 10 for 𝓛 > 0.",
        constants_rule=_constants_section_5_2,
    ),
)

_BY_MODULE = {claim.module: claim for claim in CLAIMS}


def claim_for_module(module: str):
    """The :class:`Claim` whose checks live in ``module`` (``"test_lemma_4_1"`` or a path), or None.

    A claim's checks may be split over ``test_<key>.py`` and ``test_<key>_<part>.py``
    (e.g. ``test_theorem_5_1_certificate.py``); both belong to the claim. A part that starts with a
    digit continues the numbering instead (``test_section_5_1_2`` would be section 5.1.2) and belongs
    to no claim here.
    """
    name = str(module).replace("\\", "/").rsplit("/", 1)[-1]
    name = name[:-3] if name.endswith(".py") else name
    name = name.rsplit(".", 1)[-1]
    if name in _BY_MODULE:
        return _BY_MODULE[name]
    return next((claim for key, claim in _BY_MODULE.items() if name.startswith(key + "_")
                 and not name[len(key) + 1:][:1].isdigit()), None)
