"""Section 5.1's comparison, made explicit: the setting, the two scales, the ratios, what an escape is, and the paired tests' level, alternative, power and size.

The regime of the section 5.1 checks, as :mod:`theory.testing.regimes` is that of the
lemmas and theorems; :mod:`theory.experiments.scale` computes with these constants
(and re-exports them), the claims report shows them.
"""

from __future__ import annotations

from theory.testing.statistics import paired_sign_test_draws

__all__ = ["FIGURE_DIM", "FIGURE_WIDTH", "SMALL_SCALE", "LARGE_SCALE", "LANDSCAPE_RATIO", "ESCAPE_RATIO", "ESCAPE_OFFSET", "ESCAPE_STEP_FRACTION", "ESCAPE_DROP_FRACTION", "ESCAPE_SLOW_STEPS", "STATISTICAL_ALPHA", "ALTERNATIVE_DIFFER", "ALTERNATIVE_Q", "STATISTICAL_POWER", "PAIRED_DRAWS"]

#: Figure 1's setting: two-dimensional inputs (the landscape is a circle, so the
#: multi-start search misses nothing) and a moderate width.
FIGURE_DIM = 2
FIGURE_WIDTH = 32
#: The two input scales compared: Figure 1's smallest and largest.
SMALL_SCALE = 0.01
LARGE_SCALE = 100.0
#: Ratio r for the landscape comparison (Figure 1's middle ratio): every draw has
#: one minimum at ‖x‖ = 0.01, about two at ‖x‖ = 100 (``python -m theory.experiments.findings``,
#: key ``landscape_minima``: exact counts of the certified circle scan, with n and CI).
LANDSCAPE_RATIO = 1.0
#: Ratio r for the escape comparison, where the effect of section 5.1.2 is largest:
#: the large scale escapes slower in about 4 of 5 differing pairs at r = 0.3, less
#: often at r = 1 and as often as not at r = 3 (key ``escape_by_ratio``: counts, q
#: with CI and the sign test's p per ratio) — the effect fades with the ratio (a finding).
ESCAPE_RATIO = 0.3
#: Relative distance of the start from the local maximum (inwards and sideways).
ESCAPE_OFFSET = 1e-3
#: A step moves about this fraction of ε (η = fraction · ε / mean ‖∂L‖).
ESCAPE_STEP_FRACTION = 0.05
#: Escape = L has dropped by this fraction of L(δ_max) − min L on the sphere.
ESCAPE_DROP_FRACTION = 0.2
#: A draw that has not escaped after this many steps is slow (2.5 × the linear-landscape time).
ESCAPE_SLOW_STEPS = 20
#: Level of the one-sided paired tests of section 5.1 (a property fails when its
#: opposite is significant at this level): the false-fail rate of one example of a
#: correct implementation at the null's boundary (no effect) is at most α
#: (:func:`theory.testing.statistics.sign_test_critical`), and lower under the effect the
#: section claims; over the STATISTICAL_EXAMPLES examples of a run at most
#: :func:`theory.testing.statistics.per_run_false_fail` (α, N).
STATISTICAL_ALPHA = 1e-2
#: The named alternative the paired tests must detect (the controls' reversed
#: claims): a pair differs with probability ALTERNATIVE_DIFFER and, when it
#: differs, goes the wrong way with probability ALTERNATIVE_Q. Both are the lower
#: 95 % confidence limits of the escape effect at r = ESCAPE_RATIO, rounded down
#: (``python -m theory.experiments.findings``, key ``escape_by_ratio``; ``checks/suite/test_findings.py``
#: keeps them below the stored limits); the landscape effect is larger (q = 1).
ALTERNATIVE_DIFFER = 0.88
ALTERNATIVE_Q = 0.75
#: Power of one example against the alternative. A control tries up to 3 examples,
#: so it misses the reversed claim with probability at most (1 − 0.9)³ = 1e-3.
STATISTICAL_POWER = 0.9
#: Paired draws (seeds) per statistical comparison: the smallest number with
#: STATISTICAL_POWER against the alternative at STATISTICAL_ALPHA
#: (:func:`theory.testing.statistics.paired_sign_test_draws`).
PAIRED_DRAWS = paired_sign_test_draws(STATISTICAL_ALPHA, STATISTICAL_POWER, ALTERNATIVE_DIFFER, ALTERNATIVE_Q)
